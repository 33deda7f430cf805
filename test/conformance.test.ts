/** The comparison behind `npm run conformance` (the run itself needs the real next and is not in npm test). */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compareBuilds, type NextBuild } from '../conformance/compare.js';
import { buildManifest } from '../src/manifest.js';
import type { PathResult, RouteFile } from '../src/types.js';

const conformance = suite('conformance comparison');

const route = (pattern: string): RouteFile => ({ file: `/app${pattern}/route.ts`, pattern, srcRoute: pattern, segments: [] });
const ok = (path: string, sha256: string, extra: Partial<PathResult> = {}): PathResult => ({ type: 'static', path, route: route(path), logs: [], status: 200, headers: { 'content-type': 'application/json' }, file: path.slice(1), size: 1, sha256, revalidate: false, ...extra } as PathResult);

conformance('agreement, and each kind of difference, with expected ones marked', () => {
  const next: NextBuild = {
    paths: new Map([
      ['/same', { status: 200, contentType: 'application/json', sha256: 'a', srcRoute: '/same' }],
      ['/bytes', { status: 200, contentType: 'application/json', sha256: 'x', srcRoute: '/bytes' }],
      ['/type', { status: 200, contentType: 'text/plain', sha256: 'a', srcRoute: '/type' }],
      ['/put', { status: 200, contentType: 'application/json', sha256: 'a', srcRoute: '/put' }],
    ]),
    routes: ['/bytes', '/dyn', '/extra', '/put', '/same', '/type'],
  };
  const ours = buildManifest([
    ok('/same', 'a'),
    ok('/bytes', 'y'),
    ok('/type', 'a'),
    ok('/extra', 'a'),
    { type: 'dynamic', path: '/put', route: route('/put'), logs: [], reasons: [{ kind: 'PUT', message: 'm' }] },
    { type: 'dynamic', path: '/dyn', route: route('/dyn'), logs: [], reasons: [{ kind: 'headers()', message: 'm' }] },
  ], '/');
  const result = compareBuilds(next, ours, { '/put': 'Next.js 14.2 forgets PUT' });
  assert.is(result.agree, 2, 'the same path, and a route dynamic in both');
  assert.equal(result.differences.map((d) => [d.key, d.what, d.expected]), [
    ['/bytes', 'other body bytes', undefined],
    ['/extra', 'route-prerender prerendered it (status 200); Next.js did not', undefined],
    ['/put', 'Next.js prerendered it (status 200); route-prerender kept it dynamic', 'Next.js 14.2 forgets PUT'],
    ['/type', 'content-type application/json, Next.js text/plain', undefined],
  ]);
});

conformance.run();
