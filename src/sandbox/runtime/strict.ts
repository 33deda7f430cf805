/**
 * `--strict`: the Cache Components rules of Next.js 16. Inside a request, non-deterministic or
 * uncached work makes the path dynamic (it would differ per request), unless it runs inside a
 * `'use cache'` function or `unstable_cache`. Uses are recorded, not thrown, so libraries that call
 * `Date.now()` keep working; the path is simply not written.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { callerInBundle, locateCaller } from './locate.js';
import { requestStore } from './store.js';
import { captureReads, recordVariation, wantsVariation } from './inputs.js';
import { replaceFunction } from './patch.js';
import { describeReason, type ReasonKind } from '../../reasons.js';

/** Set while a `'use cache'` function or `unstable_cache` callback runs. */
export const cacheScope = new AsyncLocalStorage<true>();

const cached: CachedWork = new Map();

/**
 * Runs `body` as cached work: what it does does not count against `--strict`. With an `id` (the
 * function's place) and its arguments, one call per distinct arguments runs in this worker; the
 * others get its value, as from Next.js's cache.
 */
export function __rpCacheScope<T>(body: () => Promise<T>, id?: string, args?: ArrayLike<unknown>): Promise<T> {
  let key: string | undefined;
  try {
    key = id === undefined ? undefined : `${id}|${JSON.stringify(Array.from(args ?? []))}`;
  } catch {
    key = undefined; // arguments that cannot be serialized are not cached (Next.js refuses them)
  }
  if (key === undefined) return cacheScope.run(true, body);
  return runCached(cached, key, body);
}

/** A memo of cached work by key: its value, and what it read when it ran (see captureReads). */
export type CachedWork = Map<string, { value: Promise<unknown>; reads: ReturnType<typeof captureReads> }>;

/**
 * Cached work, as Next.js serves it: the first call with `key` runs `body` in a cache scope, the
 * others get its value, and what it read counts for every task that takes the value. A failure is
 * not kept.
 */
export function runCached<T>(memo: CachedWork, key: string, body: () => Promise<T>): Promise<T> {
  const hit = memo.get(key);
  if (hit) {
    hit.reads.replay();
    return hit.value as Promise<T>;
  }
  const reads = captureReads();
  const value = cacheScope.run(true, body);
  memo.set(key, { value, reads });
  value.then(reads.stop, () => {
    reads.stop();
    memo.delete(key);
  });
  return value;
}

/** node:crypto's sources of randomness that Next.js 16 watches, by export. */
const NODE_RANDOM = [
  ['randomUUID', 'crypto.randomUUID()'],
  ['randomBytes', 'crypto.randomBytes()'],
  ['randomFillSync', 'crypto.randomFillSync()'],
  ['randomInt', 'crypto.randomInt()'],
  ['generatePrimeSync', 'crypto.generatePrimeSync()'],
  ['generateKeyPairSync', 'crypto.generateKeyPairSync()'],
  ['generateKeySync', 'crypto.generateKeySync()'],
] as const satisfies ReadonlyArray<readonly [keyof typeof crypto, ReasonKind]>;

/** Uses whose result may differ on every build: a path that makes one is always run again. */
const VARIATION = new Set<ReasonKind>(['Math.random()', 'new Date()', 'Date.now()', 'Date()', 'crypto.getRandomValues()', ...NODE_RANDOM.map(([, kind]) => kind)]);

/** Records a use that `--strict` counts, once per kind and path (and, for the incremental build, a per-build variation). */
export function strictUse(kind: ReasonKind): void {
  if (VARIATION.has(kind) && wantsVariation(kind) && callerInBundle(2)) recordVariation(kind);
  const store = requestStore.getStore();
  if (!store?.strict || cacheScope.getStore() || store.mode === 'force-static') return;
  // Only the app's own calls count: undici and Node read the clock inside fetch() too.
  if (!callerInBundle(2)) return;
  if (store.reasons.some((reason) => reason.kind === kind)) return;
  store.reasons.push({ kind, message: `${describeReason(kind)} (--strict, as Next.js 16 with cacheComponents)`, at: locateCaller() });
}

/**
 * Watches the non-deterministic APIs. Installed in every worker; they only count with `--strict`.
 * A Node version whose globals cannot be replaced keeps them unwatched rather than failing.
 */
export function installStrictWatch(): void {
  try {
    watch();
  } catch (error) {
    process.emitWarning(`route-prerender could not watch every non-deterministic API for --strict: ${(error as Error).message}`);
  }
}

function watch(): void {
  const random = Math.random;
  Math.random = function random_() {
    strictUse('Math.random()');
    return random();
  };
  const now = Date.now;
  const RealDate = Date;
  // A Date that notices `new Date()` and `Date.now()`; everything else is the real Date.
  const WatchedDate = function (this: unknown, ...args: unknown[]) {
    if (!new.target) {
      strictUse('Date()');
      return RealDate();
    }
    if (args.length === 0) strictUse('new Date()');
    return Reflect.construct(RealDate, args, new.target);
  } as unknown as DateConstructor;
  Object.setPrototypeOf(WatchedDate, RealDate);
  (WatchedDate as { prototype: unknown }).prototype = RealDate.prototype;
  WatchedDate.now = () => {
    strictUse('Date.now()');
    return now();
  };
  globalThis.Date = WatchedDate;
  // performance.now() is not watched: Next.js 16 prerenders a route that reads it.
  // A call given a callback counts too: Next.js 16.4.6 does not prerender a handler that waits for
  // one (its bytes arrive after the prerender, as a timer's would; checked by npm run conformance).
  for (const [name, kind] of NODE_RANDOM) {
    replaceFunction(crypto, name, (real) => function (this: unknown, ...args: unknown[]) {
      strictUse(kind);
      return real.apply(this, args);
    });
  }
  // `import { randomUUID } from 'node:crypto'` sees the watched function too. (node:crypto's
  // getRandomValues is a read-only getter onto Web Crypto's, watched below.)
  syncBuiltinESMExports();
  const web = globalThis.crypto;
  const webRandomUUID = web.randomUUID.bind(web);
  const webGetRandomValues = web.getRandomValues.bind(web);
  Object.defineProperty(web, 'randomUUID', { configurable: true, value: () => (strictUse('crypto.randomUUID()'), webRandomUUID()) });
  Object.defineProperty(web, 'getRandomValues', { configurable: true, value: <T extends ArrayBufferView | null>(array: T) => (strictUse('crypto.getRandomValues()'), webGetRandomValues(array as never)) });
}
