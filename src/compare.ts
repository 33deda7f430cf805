/**
 * What changed since a previous run's manifest, and the CI policy built on it. Pure.
 */
import picomatch from 'picomatch';
import type { Manifest, ManifestReason } from './manifest.js';

export interface Comparison {
  /** Static in the baseline (by path, or all of its route), dynamic now. */
  becameDynamic: { path: string; srcRoute: string; reasons: ManifestReason[] }[];
  /** Dynamic in the baseline (by path, or all of its route), static now. */
  becameStatic: { path: string; srcRoute: string }[];
  added: string[];
  removed: string[];
  /** Static in both, with other bytes or another status. */
  changed: string[];
}

export function compareManifests(baseline: Manifest, current: Manifest): Comparison {
  const keys = (m: Manifest) => new Set([...Object.keys(m.routes), ...Object.keys(m.dynamic), ...Object.keys(m.errors)]);
  const before = keys(baseline);
  const now = keys(current);
  const explained = new Set<string>();

  const becameDynamic: Comparison['becameDynamic'] = [];
  for (const [path, entry] of Object.entries(baseline.routes)) {
    // A route that is dynamic as a whole is keyed by its pattern.
    const key = path in current.dynamic ? path : entry.srcRoute in current.dynamic ? entry.srcRoute : undefined;
    if (key === undefined) continue;
    becameDynamic.push({ path, srcRoute: entry.srcRoute, reasons: current.dynamic[key].reasons });
    explained.add(path).add(key);
  }
  const becameStatic: Comparison['becameStatic'] = [];
  for (const [path, entry] of Object.entries(current.routes)) {
    const key = path in baseline.dynamic ? path : entry.srcRoute in baseline.dynamic ? entry.srcRoute : undefined;
    if (key === undefined) continue;
    becameStatic.push({ path, srcRoute: entry.srcRoute });
    explained.add(path).add(key);
  }
  const changed = Object.keys(current.routes).filter((path) => {
    const old = baseline.routes[path];
    return old !== undefined && (old.sha256 !== current.routes[path].sha256 || old.status !== current.routes[path].status);
  });
  return {
    becameDynamic: becameDynamic.sort(byPath),
    becameStatic: becameStatic.sort(byPath),
    added: [...now].filter((k) => !before.has(k) && !explained.has(k)).sort(),
    removed: [...before].filter((k) => !now.has(k) && !explained.has(k)).sort(),
    changed: changed.sort(),
  };
}

function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export type FailOn = 'dynamic' | 'new-dynamic';

export interface Policy {
  /** `dynamic`: any dynamic route fails; `new-dynamic`: only one that was static in the baseline. */
  failOn?: FailOn;
  /** Routes meant to stay on a server: globs matched against the path and the route pattern. */
  allowDynamic?: string[];
  baseline?: Manifest;
}

/** Dynamic paths that the policy counts against the build. */
export function unwantedDynamic(manifest: Manifest, policy: Policy): string[] {
  if (!policy.failOn) return [];
  const allowed = allowMatcher(policy.allowDynamic ?? []);
  if (policy.failOn === 'dynamic') {
    return Object.entries(manifest.dynamic).filter(([path, entry]) => !allowed(path, entry.srcRoute)).map(([path]) => path);
  }
  if (!policy.baseline) throw new Error('`failOn: new-dynamic` needs a baseline manifest');
  return compareManifests(policy.baseline, manifest).becameDynamic.filter((d) => !allowed(d.path, d.srcRoute)).map((d) => d.path);
}

export function allowMatcher(globs: string[]): (path: string, srcRoute: string) => boolean {
  if (globs.length === 0) return () => false;
  // Route patterns hold brackets (`/posts/[slug]`), which are literal here, not character classes.
  const matchers = globs.map((glob) => picomatch(glob, { dot: true }));
  return (path, srcRoute) => globs.some((glob, i) => glob === path || glob === srcRoute || matchers[i](path) || matchers[i](srcRoute));
}
