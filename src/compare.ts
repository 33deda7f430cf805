/**
 * What changed since a previous run's manifest, and the CI policy built on it. Pure.
 */
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
