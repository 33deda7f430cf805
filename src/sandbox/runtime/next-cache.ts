/**
 * The sandbox's `next/cache`: caching works for the length of the build. Invalidating during a GET
 * makes the path dynamic, as in every Next.js version (a route that revalidates cannot be a file);
 * `updateTag()` and `refresh()` are errors outside a Server Action (Next.js 16).
 */
import { dynamicUse, requestData, requestStore } from './store.js';
import { runCached, type CachedWork } from './strict.js';

export function unstable_noStore(): void {
  requestData('unstable_noStore()', () => undefined, () => undefined);
}

const memo: CachedWork = new Map();

/**
 * Memoised for the build, keyed by the key parts and the arguments, as Next.js's data cache. Its
 * `revalidate` lowers the path's, as a fetch's does (checked with next build 14.2, 15.5 and 16.4).
 */
export function unstable_cache<A extends unknown[], R>(fn: (...args: A) => Promise<R> | R, keyParts: string[] = [], options: { revalidate?: number | false; tags?: string[] } = {}): (...args: A) => Promise<R> {
  const base = `${fn.toString()}|${JSON.stringify(keyParts)}`;
  return (...args: A) => {
    const store = requestStore.getStore();
    const { revalidate } = options;
    if (store && typeof revalidate === 'number' && revalidate > 0 && (store.revalidate === false || revalidate < store.revalidate)) store.revalidate = revalidate;
    const key = `${base}|${JSON.stringify(args)}`;
    // Cached work: with --strict, what it does (Date.now(), an uncached fetch) does not count.
    return runCached(memo, key, () => Promise.resolve().then(() => fn(...args)));
  };
}

// Dynamic under force-static too, as Next.js's revalidate() ignores it (checked with next build 14.2, 15.5 and 16.4).
export function revalidatePath(_path: string, _type?: 'page' | 'layout'): void {
  dynamicUse('revalidatePath()');
}
export function revalidateTag(_tag: string, _profile?: unknown): void {
  dynamicUse('revalidateTag()');
}
export { revalidatePath as unstable_expirePath, revalidateTag as unstable_expireTag };
export function updateTag(_tag: string): void {
  throw new Error('updateTag can only be called from within a Server Action. To invalidate cache tags in Route Handlers or other contexts, use revalidateTag instead. See more info here: https://nextjs.org/docs/app/api-reference/functions/updateTag');
}
export function refresh(): void {
  throw new Error('refresh can only be called from within a Server Action. See more info here: https://nextjs.org/docs/app/api-reference/functions/refresh');
}
export function cacheLife(_profile: unknown): void {}
export function cacheTag(..._tags: string[]): void {}
export { cacheLife as unstable_cacheLife, cacheTag as unstable_cacheTag };
