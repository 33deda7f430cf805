/**
 * Compares, path by path, what `next build` prerendered with what route-prerender did. Pure.
 */
import type { Manifest } from '../src/manifest.js';

/** One path as `next build` stored it (`.next/prerender-manifest.json`, `<path>.body|.meta`). */
export interface NextPath {
  status: number;
  contentType: string | undefined;
  sha256: string;
}

export interface NextBuild {
  /** Prerendered paths, by URL path. */
  paths: Map<string, NextPath & { srcRoute: string }>;
  /** Every route handler's pattern (`/api/me`, `/posts/[slug]`). */
  routes: string[];
}

/** Where we differ on purpose, and why (shown, not counted as a failure). */
export type Expected = Record<string, string>;

export interface Difference {
  key: string;
  what: string;
  expected?: string;
}

export interface Comparison {
  agree: number;
  differences: Difference[];
}

export function compareBuilds(next: NextBuild, ours: Manifest, expected: Expected): Comparison {
  const differences: Difference[] = [];
  let agree = 0;
  const note = (key: string, what: string) => differences.push({ key, what, ...(expected[key] ? { expected: expected[key] } : {}) });
  const ourStaticRoutes = new Set(Object.values(ours.routes).map((r) => r.srcRoute));
  const nextStaticRoutes = new Set([...next.paths.values()].map((p) => p.srcRoute));

  for (const [key, theirs] of next.paths) {
    const mine = ours.routes[key];
    if (!mine) {
      note(key, `Next.js prerendered it (status ${theirs.status}); route-prerender ${key in ours.dynamic ? 'kept it dynamic' : key in ours.errors ? 'failed' : 'did not'}`);
      continue;
    }
    const problems: string[] = [];
    if (mine.status !== theirs.status) problems.push(`status ${mine.status}, Next.js ${theirs.status}`);
    const type = typeof mine.headers['content-type'] === 'string' ? mine.headers['content-type'] : undefined;
    if (type !== theirs.contentType) problems.push(`content-type ${type}, Next.js ${theirs.contentType}`);
    // The hash of the body the handler returned, also for a 3xx or 404 that has no file.
    if (mine.sha256 !== theirs.sha256) problems.push('other body bytes');
    if (problems.length > 0) note(key, problems.join('; '));
    else agree++;
  }
  for (const [key, mine] of Object.entries(ours.routes)) {
    if (!next.paths.has(key)) note(key, `route-prerender prerendered it (status ${mine.status}); Next.js did not`);
  }
  // Routes that neither prerendered a path of: both dynamic.
  for (const route of next.routes) {
    if (!nextStaticRoutes.has(route) && !ourStaticRoutes.has(route)) {
      if (route in ours.dynamic || route in ours.errors || Object.values(ours.dynamic).some((d) => d.srcRoute === route)) agree++;
      else note(route, 'dynamic in Next.js; route-prerender has no result for it');
    }
  }
  return { agree, differences: differences.sort((a, b) => (a.key < b.key ? -1 : 1)) };
}
