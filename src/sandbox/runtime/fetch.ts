/**
 * `fetch` as in a Next.js build: `cache: 'no-store'` (or `'no-cache'`) and `next: { revalidate: 0 }`
 * are request-time; `next: { revalidate: N }` lowers the path's revalidate to the smallest N seen;
 * `next: { tags }` is recorded; the `fetchCache` segment config overrides or forbids as in Next.js.
 */
import { requestData, requestStore, violate } from './store.js';
import { cacheScope, strictUse } from './strict.js';
import { recordFetch, recordingInputs } from './inputs.js';

type NextInit = RequestInit & { next?: { revalidate?: number | false; tags?: string[] } };

/** Node's own fetch, wrapped with Next.js's build-time semantics. */
export function instrumentFetch(original: typeof fetch): typeof fetch {
  return function fetch(input: string | URL | Request, init?: NextInit): Promise<Response> {
    const cache = (init as { cache?: string } | undefined)?.cache ?? (input instanceof Request ? input.cache : undefined);
    // A data: or blob: URL is read in memory, not from the network: not an input of the path.
    if (recordingInputs() && !/^(data|blob):/i.test(targetOf(input))) {
      const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
      recordFetch(method, targetOf(input), cache === 'default' ? undefined : cache, init?.next?.revalidate);
    }
    const store = requestStore.getStore();
    if (store) {
      const revalidate = init?.next?.revalidate;
      const url = input instanceof Request ? input.url : String(input);
      const mode = store.fetchCache ?? 'auto';
      for (const tag of init?.next?.tags ?? []) store.tags.add(tag);
      if (mode === 'only-cache' && cache === 'no-store') violate(`cache: 'no-store' used on fetch for ${url} with 'export const fetchCache = 'only-cache'`);
      if (mode === 'only-no-store' && (cache === 'force-cache' || (typeof revalidate === 'number' && revalidate > 0))) {
        violate(`cache: 'force-cache' used on fetch for ${url} with 'export const fetchCache = 'only-no-store'`);
      }
      // Next.js 15 and later cache a fetch inside an unstable_cache function with it (14 does not).
      const forcedCache = (mode === 'force-cache' && (revalidate === undefined || revalidate === 0)) || (store.cachedFetches === true && cacheScope.getStore() === true);
      const pass = () => undefined;
      if (mode === 'force-no-store' || mode === 'only-no-store') requestData(`fetchCache = '${mode}'`, pass, pass);
      else if (!forcedCache && (cache === 'no-store' || cache === 'no-cache')) requestData(`fetch({ cache: '${cache}' })`, pass, pass);
      else if (!forcedCache && revalidate === 0) requestData('fetch({ next: { revalidate: 0 } })', pass, pass);
      else if (mode === 'default-no-store' && cache === undefined && revalidate === undefined) requestData("fetchCache = 'default-no-store'", pass, pass);
      // --strict: a fetch must say how it is cached (or run in cached work).
      if (cache !== 'force-cache' && !(typeof revalidate === 'number' && revalidate > 0) && mode !== 'force-cache') strictUse('fetch() without cache');
      if (typeof revalidate === 'number' && revalidate > 0 && (store.revalidate === false || revalidate < store.revalidate)) {
        store.revalidate = revalidate;
      }
    }
    const { next: _next, ...rest } = init ?? {};
    // Where the route called fetch: Node's own error carries only undici's frames on some versions.
    const callSite = new Error();
    return original(input, init ? rest : undefined).catch((error: unknown) => {
      throw withCause(error, targetOf(input), callSite);
    });
  } as typeof fetch;
}

function targetOf(input: string | URL | Request): string {
  return input instanceof Request ? input.url : String(input);
}

/** Node says only "fetch failed"; the cause (ECONNREFUSED, a `file:` URL, …) is what a user needs. */
function withCause(error: unknown, target: string, callSite: Error): unknown {
  if (!(error instanceof TypeError) || error.message !== 'fetch failed') return error;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? 'no cause given';
  const hint = target.startsWith('file:') ? ' (fetch cannot read file: URLs; read the file with node:fs instead)' : '';
  const wrapped = new TypeError(`fetch failed for ${target}: ${why}${hint}`, { cause: error });
  wrapped.stack = `TypeError: ${wrapped.message}\n${callSite.stack?.split('\n').slice(1).join('\n') ?? ''}`;
  return wrapped;
}
