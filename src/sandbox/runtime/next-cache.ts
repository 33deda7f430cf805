/** The sandbox's `next/cache`: caching works for the length of the build; invalidation is harmless. */
import { requestData } from './store.js';
import { cacheScope } from './strict.js';

export function unstable_noStore(): void {
  requestData('unstable_noStore()', () => undefined, () => undefined);
}

const memo = new Map<string, Promise<unknown>>();

/** Memoised for the build, keyed by the key parts and the arguments, as Next.js's data cache. */
export function unstable_cache<A extends unknown[], R>(fn: (...args: A) => Promise<R> | R, keyParts: string[] = [], _options: { revalidate?: number | false; tags?: string[] } = {}): (...args: A) => Promise<R> {
  const base = `${fn.toString()}|${JSON.stringify(keyParts)}`;
  return (...args: A) => {
    const key = `${base}|${JSON.stringify(args)}`;
    let hit = memo.get(key) as Promise<R> | undefined;
    if (!hit) {
      // Cached work: with --strict, what it does (Date.now(), an uncached fetch) does not count.
      hit = cacheScope.run(true, () => Promise.resolve().then(() => fn(...args)));
      memo.set(key, hit);
      hit.catch(() => memo.delete(key));
    }
    return hit;
  };
}

// Invalidation and cache-profile calls change nothing in a build.
export function revalidatePath(_path: string, _type?: 'page' | 'layout'): void {}
export function revalidateTag(_tag: string, _profile?: unknown): void {}
export function updateTag(_tag: string): void {}
export function refresh(): void {}
export function unstable_expirePath(_path: string): void {}
export function unstable_expireTag(..._tags: string[]): void {}
export function cacheLife(_profile: unknown): void {}
export function cacheTag(..._tags: string[]): void {}
export { cacheLife as unstable_cacheLife, cacheTag as unstable_cacheTag };
