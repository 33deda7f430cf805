/**
 * The exit-code contract and the CI policy behind it. Pure.
 *
 * 0 done (dynamic routes are not failures); 1 at least one route errored; 3 when the policy
 * (`--fail-on dynamic`, `--fail-on new-dynamic`, `--fail-on frozen`) counts a dynamic route, or a
 * static one frozen at build time, against the build and none errored. (2, bad usage or set-up, is decided before a manifest exists.)
 */
import picomatch from 'picomatch';
import { compareManifests } from './compare.js';
import { setupError } from './errors.js';
import type { Manifest } from './manifest.js';

export { EXIT } from './errors.js';
import { EXIT } from './errors.js';

export type FailOn = 'dynamic' | 'new-dynamic';

export interface Policy {
  /** `dynamic`: any dynamic route fails; `new-dynamic`: only one that was static in the baseline. */
  failOn?: FailOn;
  /** Routes meant to stay on a server: globs matched against the path and the route pattern. */
  allowDynamic?: string[];
  baseline?: Manifest;
  /** `--fail-on frozen`: static paths that read the network at build time without revalidate count too. */
  failOnFrozen?: boolean;
  /** Globs of paths or route patterns allowed to be frozen. */
  allowFrozen?: string[];
}

/** Static paths frozen at build time that the policy counts against the build. */
export function unwantedFrozen(manifest: Manifest, policy: Policy): string[] {
  if (!policy.failOnFrozen) return [];
  const allowed = allowMatcher(policy.allowFrozen ?? []);
  const paths: string[] = [];
  for (const path in manifest.routes) {
    const entry = manifest.routes[path];
    if (entry.frozen && !allowed(path, entry.srcRoute)) paths.push(path);
  }
  return paths;
}

/** Dynamic paths that the policy counts against the build. */
export function unwantedDynamic(manifest: Manifest, policy: Policy): string[] {
  if (!policy.failOn) return [];
  const allowed = allowMatcher(policy.allowDynamic ?? []);
  if (policy.failOn === 'dynamic') {
    return Object.entries(manifest.dynamic).filter(([path, entry]) => !allowed(path, entry.srcRoute)).map(([path]) => path);
  }
  if (!policy.baseline) throw setupError('USAGE', ['`failOn: new-dynamic` compares with a previous run: pass its manifest as `baseline`.']);
  return compareManifests(policy.baseline, manifest).becameDynamic.filter((d) => !allowed(d.path, d.srcRoute)).map((d) => d.path);
}

export function allowMatcher(globs: string[]): (path: string, srcRoute: string) => boolean {
  if (globs.length === 0) return () => false;
  // Route patterns hold brackets (`/posts/[slug]`), which are literal here, not character classes.
  const matchers = globs.map((glob) => picomatch(glob, { dot: true }));
  return (path, srcRoute) => globs.some((glob, i) => glob === path || glob === srcRoute || matchers[i](path) || matchers[i](srcRoute));
}

export function exitCodeFor(manifest: Manifest, policy: Policy & { failOnDynamic?: boolean } = {}): 0 | 1 | 3 {
  if (Object.keys(manifest.errors).length > 0) return EXIT.routeErrors;
  const failOn = policy.failOn ?? (policy.failOnDynamic ? 'dynamic' : undefined);
  if (unwantedDynamic(manifest, { ...policy, failOn }).length > 0 || unwantedFrozen(manifest, policy).length > 0) return EXIT.unwantedDynamic;
  return EXIT.done;
}
