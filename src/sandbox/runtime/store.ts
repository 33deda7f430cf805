/**
 * The per-request store: one per handler call, carried through every `await` by AsyncLocalStorage.
 * The instrumented `next/*` modules and the request object report each touch of request-time data
 * here. Exists in worker threads only.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamicOption, Reason, SourceLocation } from '../../types.js';
import { locateCaller } from './locate.js';
import { describeReason, type ReasonKind } from '../../reasons.js';

export interface RequestStore {
  /** The route pattern, for messages (`/api/me`). */
  pattern: string;
  mode: DynamicOption;
  /** Every touch of request-time data, in order. Set before anything is thrown. */
  reasons: Reason[];
  /** With `dynamic = 'error'`: the first forbidden touch. */
  violation?: { message: string; at?: SourceLocation };
  /** Lowered by `fetch(…, { next: { revalidate: N } })`, as in Next.js. */
  revalidate: number | false;
  /** `after()` callbacks, run once the response is complete. */
  after: Array<() => unknown>;
  /** The route's `fetchCache` segment config. */
  fetchCache?: string;
  /** Cache tags given to `fetch(…, { next: { tags } })`. */
  tags: Set<string>;
  /** `--strict`: non-deterministic and uncached work counts too. */
  strict?: boolean;
  /** See `WorkerSetup.cachedFetches`. */
  cachedFetches?: boolean;
  /** The path's params, for `next/root-params` (see root-params.ts). */
  params?: Record<string, string | string[] | undefined>;
}

export const requestStore = new AsyncLocalStorage<RequestStore>();

/**
 * Thrown to stop a handler that touched request-time data, as Next.js's own bail-out does. The
 * touch is already recorded, so a handler that catches this is still dynamic.
 */
export class DynamicUsageError extends Error {
  readonly kind: ReasonKind;
  constructor(kind: ReasonKind, pattern: string) {
    super(`Route ${pattern} couldn't be rendered statically because it used \`${kind}\`.`);
    this.name = 'DynamicUsageError';
    this.kind = kind;
  }
}

const ERROR_MODE_DOCS = 'https://nextjs.org/docs/app/building-your-application/rendering/static-and-dynamic#dynamic-rendering';

/**
 * The gate every request-time API goes through. Outside a request (module scope) the real value is
 * used. `force-static` gets the empty value; `error` and `auto` record the touch and throw.
 */
export function requestData<T>(kind: ReasonKind, real: () => T, empty: () => T): T {
  const store = requestStore.getStore();
  if (!store) return real();
  if (store.mode === 'force-static') return empty();
  return touched(store, kind);
}

/**
 * A use that makes the path dynamic whatever its `dynamic` config: Next.js's revalidation APIs
 * (`revalidateTag()`, `revalidatePath()`) do so under `force-static` too, since a prerendered file
 * could not be revalidated. Nothing happens outside a handler.
 */
export function dynamicUse(kind: ReasonKind): void {
  const store = requestStore.getStore();
  if (store) touched(store, kind);
}

/** Records a touch of request-time data and stops the handler (`dynamic = 'error'`: the error Next.js gives). */
function touched(store: RequestStore, kind: ReasonKind): never {
  const at = locateCaller();
  if (store.mode === 'error') {
    const message = `Route ${store.pattern} with \`dynamic = "error"\` couldn't be rendered statically because it used \`${kind}\`. See more info here: ${ERROR_MODE_DOCS}`;
    store.violation ??= { message, at };
    throw new Error(message);
  }
  store.reasons.push({ kind, message: describeReason(kind), at });
  throw new DynamicUsageError(kind, store.pattern);
}

/** Marks the path dynamic for a reason of the tool's own (a missing optional package). */
export function markDynamic(kind: ReasonKind, message: string): never {
  const store = currentStore(kind);
  store.reasons.push({ kind, message, at: locateCaller() });
  throw new DynamicUsageError(kind, store.pattern);
}

/** A use that Next.js refuses at build time: an error for the path, even if the handler catches it. */
export function violate(message: string): never {
  const store = requestStore.getStore();
  if (store) store.violation ??= { message, at: locateCaller() };
  throw new Error(message);
}

/** Request-time APIs that only make sense inside a handler (`headers()`, `cookies()`, …). */
export function currentStore(api: string): RequestStore {
  const store = requestStore.getStore();
  if (!store) {
    throw new Error(`\`${api}\` was called outside a request scope. Call it inside the GET handler, not at the top level of the module.`);
  }
  return store;
}
