/** Specs of the pure helpers: segments, params, output files, segment config, manifest, report. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findExport, readSegmentConfig } from '../src/config.js';
import { findConflicts } from '../src/discover.js';
import { assignFiles } from '../src/files.js';
import { buildManifest, serializeManifest } from '../src/manifest.js';
import { exitCodeFor, unwantedDynamic } from '../src/policy.js';
import { checkStaticParams, expandPaths, pathFromParams, requestPathFromParams } from '../src/params.js';
import { decideRoute } from '../src/decide.js';
import { formatReport } from '../src/report.js';
import { compareManifests } from '../src/compare.js';
import { formatMarkdown, githubAnnotations } from '../src/ci.js';
import { checkOutDir } from '../src/write.js';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseFolder, routeFromFolders } from '../src/segments.js';
import type { PathResult, RouteFile, Segment } from '../src/types.js';

const segments = suite('segments');

segments('folders mean static, dynamic, catch-all, optional, group or private', () => {
  assert.equal(parseFolder('rss.xml'), { kind: 'segment', segment: { type: 'static', value: 'rss.xml' } });
  assert.equal(parseFolder('[slug]'), { kind: 'segment', segment: { type: 'dynamic', name: 'slug' } });
  assert.equal(parseFolder('[...path]'), { kind: 'segment', segment: { type: 'catchall', name: 'path' } });
  assert.equal(parseFolder('[[...path]]'), { kind: 'segment', segment: { type: 'optional', name: 'path' } });
  assert.equal(parseFolder('(marketing)'), { kind: 'group' });
  assert.equal(parseFolder('@modal'), { kind: 'group' });
  assert.equal(parseFolder('_lib'), { kind: 'private' });
  assert.equal(parseFolder('%5Fdata'), { kind: 'segment', segment: { type: 'static', value: '_data' } });
  assert.equal(parseFolder('%5fdata'), { kind: 'segment', segment: { type: 'static', value: '_data' } });
});

segments('malformed parameter folders are invalid with a hint', () => {
  for (const name of ['[a][b]', '[]', '[...]', '[[x]]', 'a[b]', '[b]c', '[[...]]']) {
    const meaning = parseFolder(name);
    assert.is(meaning.kind, 'invalid', name);
    assert.ok(meaning.kind === 'invalid' && meaning.hint.length > 10 && meaning.hint !== meaning.message, `a hint of its own for ${name}`);
  }
});

segments('a catch-all must be last, and parameter names are unique', () => {
  assert.is(routeFromFolders(['[...a]', 'b']).kind, 'invalid');
  assert.is(routeFromFolders(['[[...a]]', '[b]']).kind, 'invalid');
  assert.is(routeFromFolders(['[id]', 'x', '[id]']).kind, 'invalid');
  assert.equal(routeFromFolders(['(g)', 'blog', '[slug]']), { kind: 'route', segments: [{ type: 'static', value: 'blog' }, { type: 'dynamic', name: 'slug' }], pattern: '/blog/[slug]' });
  assert.equal(routeFromFolders([]), { kind: 'route', segments: [], pattern: '/' });
  assert.equal(routeFromFolders(['_lib', 'x']), { kind: 'private' });
});

segments('different parameter names at one position conflict, naming both files', () => {
  const route = (file: string, folders: string[]): RouteFile => {
    const shape = routeFromFolders(folders);
    if (shape.kind !== 'route') throw new Error('bad test route');
    return { file, pattern: shape.pattern, srcRoute: shape.pattern, segments: shape.segments };
  };
  const a = route('a/route.ts', ['blog', '[id]', 'x']);
  const b = route('b/route.ts', ['blog', '[slug]', 'y']);
  const c = route('c/route.ts', ['docs', '[[...p]]']);
  const d = route('d/route.ts', ['docs']);
  const conflicts = findConflicts([a, b, d, c], []);
  assert.match(conflicts.get(a)!.message, 'a/route.ts and b/route.ts');
  assert.match(conflicts.get(b)!.message, 'b/route.ts and a/route.ts');
  assert.match(conflicts.get(c)!.message, 'also serves /docs');
  assert.ok(conflicts.get(d));
});

segments.run();

const params = suite('params');
const slug: Segment[] = [{ type: 'static', value: 'p' }, { type: 'dynamic', name: 'slug' }];
const rest: Segment[] = [{ type: 'static', value: 'docs' }, { type: 'catchall', name: 'path' }];
const optional: Segment[] = [{ type: 'static', value: 'o' }, { type: 'optional', name: 'path' }];

params('accepts strings for [x], arrays for [...x], and [], null or undefined for [[...x]]', () => {
  assert.equal(checkStaticParams([{ slug: 'a', extra: 1 }], slug, '/p/[slug]'), { ok: true, params: [{ slug: 'a' }], rejected: [] });
  assert.equal(checkStaticParams([{ path: ['a', 'b'] }], rest, '/docs/[...path]'), { ok: true, params: [{ path: ['a', 'b'] }], rejected: [] });
  assert.equal(checkStaticParams([{ path: [] }, { path: null }, { path: undefined }], optional, '/o/[[...path]]'), { ok: true, params: [{}, {}, {}], rejected: [] });
  // `{}` leaves the param out: no path of its own (see plan.ts for what the route becomes).
  assert.equal(checkStaticParams([{}, { path: ['a'] }], optional, '/o/[[...path]]'), { ok: true, params: [{ path: ['a'] }], rejected: [], incomplete: 'path' });
});

params('rejects, by index, what cannot become a safe path segment: that path only, or the route for a wrong shape', () => {
  const bad = (value: unknown) => {
    const check = checkStaticParams([{ slug: 'ok' }, { slug: value }], slug, '/p/[slug]');
    if (!check.ok) return check.message;
    assert.equal(check.params, [{ slug: 'ok' }], String(value));
    assert.is(check.rejected.length, 1, String(value));
    return check.rejected[0].message;
  };
  assert.match(bad(''), 'entry [1]');
  assert.match(bad('.'), 'climb folders');
  assert.match(bad('..'), 'climb folders');
  assert.match(bad('a/b'), 'contains `/`');
  assert.match(bad('a\\b'), 'contains `\\`');
  assert.match(bad('a\u0000b'), 'control character');
  assert.match(bad('x'.repeat(256)), 'longer than 255 bytes');
  assert.match(bad('a\ud800'), 'unpaired surrogate');
  assert.match(bad(3), 'the number 3');
  assert.match(bad(['a']), 'an array');
  const catchall = checkStaticParams([{ path: ['ok', '..'] }], rest, '/docs/[...path]');
  assert.equal(catchall.ok && catchall.rejected.map((r) => r.path), ['/docs/ok/..']);
  assert.match(bad('x'.repeat(5000)), '(5000 characters)');
  assert.ok(bad('x'.repeat(5000)).length < 400, 'a long value is cut in the message');
  let reads = 0;
  const tricky = checkStaticParams([{ get slug() { return ++reads === 1 ? 'safe' : '..'; } }], slug, '/p/[slug]');
  assert.equal(tricky.ok && tricky.params, [{ slug: 'safe' }]);
  assert.is(reads, 1);
  assert.is(checkStaticParams([{ slug: () => 1 }], slug, '/p/[slug]').ok, false, 'not plain data');
  const throwing = checkStaticParams([{ slug: 'a' }, { get slug(): string { throw new Error('no slug here'); } }], slug, '/p/[slug]');
  assert.is(throwing.ok ? '' : throwing.message, 'generateStaticParams returned an invalid value: entry [1] cannot be read (no slug here).');
  // Each param read once, arrays element by element; only the params are copied.
  const elements: string[] = [];
  const watched = new Proxy(['a', 'b'], { get: (target, key, receiver) => (typeof key === 'string' && /^\d+$/.test(key) && elements.push(key), Reflect.get(target, key, receiver)) });
  const once = checkStaticParams([{ path: watched, other: { deep: new Map() } }], rest, '/docs/[...path]');
  assert.equal(once.ok && once.params, [{ path: ['a', 'b'] }]);
  assert.equal(elements, ['0', '1']);
  const many = checkStaticParams([{ slug: 1 }, { slug: 2 }, { slug: 3 }], slug, '/p/[slug]');
  assert.match(many.ok ? '' : many.message, '(2 more entries are invalid)');
});

params('encodes keys as Next.js does and the request path fully', () => {
  assert.is(pathFromParams(slug, { slug: 'b c' }), '/p/b c');
  assert.is(pathFromParams(slug, { slug: 'a#b?c' }), '/p/a%23b%3Fc');
  assert.is(pathFromParams(slug, { slug: '100%' }), '/p/100%');
  assert.is(requestPathFromParams(slug, { slug: 'b c' }), '/p/b%20c');
  assert.is(requestPathFromParams(slug, { slug: '100%' }), '/p/100%25');
  assert.is(pathFromParams(optional, {}), '/o');
  assert.is(pathFromParams([], {}), '/');
});

params('duplicate paths collapse to the first', () => {
  const { paths, clashes } = expandPaths(rest, [{ path: ['a'] }, { path: ['a'] }, { path: ['b'] }]);
  assert.equal(paths.map((p) => p.key), ['/docs/a', '/docs/b']);
  assert.equal(clashes, []);
  assert.equal(expandPaths(rest, [{ path: ['a'] }], '/base').paths.map((p) => p.key), ['/base/docs/a'], 'keys are under basePath');
});

params('different params that give one path are a clash, not a duplicate', () => {
  const { paths, clashes } = expandPaths(slug, [{ slug: 'a#b' }, { slug: 'a%23b' }]);
  assert.equal(paths.map((p) => p.key), ['/p/a%23b']);
  assert.equal(clashes, [{ key: '/p/a%23b', params: { slug: 'a%23b' }, first: { slug: 'a#b' } }]);
});

params.run();

const files = suite('output files');

files('a path is a file at its URL path; the root is index', () => {
  const { fileOf, moved } = assignFiles(['/', '/rss.xml', '/api/posts']);
  assert.equal(['/', '/rss.xml', '/api/posts'].map(fileOf), ['index', 'rss.xml', 'api/posts']);
  assert.is(moved.size, 0, 'no path has a file other than its own');
});

files('# and ? are written raw in file names, where a host that decodes the URL looks for them', () => {
  const { fileOf } = assignFiles(['/p/a%23b', '/p/c%3Fd', '/p/100%']);
  assert.equal(['/p/a%23b', '/p/c%3Fd', '/p/100%'].map(fileOf), ['p/a#b', 'p/c?d', 'p/100%']);
});

files('a path that is also a folder goes to <path>/index, whatever the order', () => {
  for (const order of [['/api/posts', '/api/posts/1'], ['/api/posts/1', '/api/posts']]) {
    const { fileOf, moved, conflicts } = assignFiles(order);
    assert.is(fileOf('/api/posts'), 'api/posts/index');
    assert.is(fileOf('/api/posts/1'), 'api/posts/1');
    assert.equal([...moved.keys()], ['/api/posts']);
    assert.is(conflicts.size, 0);
  }
});

files('paths that would share a file, also by case, are conflicts; the manifest name is reserved', () => {
  const { conflicts } = assignFiles(['/a', '/a/x', '/a/index', '/Feed', '/feed', '/prerender-manifest.json'], ['prerender-manifest.json']);
  assert.is(conflicts.get('/a/index'), 'its file a/index would overwrite the file of /a');
  assert.is(conflicts.get('/feed'), 'its file feed would overwrite the file of /Feed (they differ only in case or Unicode form, and share one file on macOS and Windows)');
  assert.is(conflicts.get('/prerender-manifest.json'), 'its file prerender-manifest.json would overwrite prerender-manifest.json');
  assert.not.ok(conflicts.has('/a'));
  const nfd = assignFiles(['/caf\u00e9', '/cafe\u0301']);
  assert.match(nfd.conflicts.get('/cafe\u0301')!, 'differ only in case or Unicode form');
  // A file decoded from its path, the root's file, and a folder's index against the paths that share them.
  const decoded = assignFiles(['/P/A%23b', '/p/a%23B', '/', '/index', '/q', '/q/x', '/Q/INDEX']);
  assert.equal([...decoded.conflicts], [
    ['/p/a%23B', 'its file p/a#B would overwrite the file of /P/A%23b (they differ only in case or Unicode form, and share one file on macOS and Windows)'],
    ['/index', 'its file index would overwrite the file of /'],
    ['/Q/INDEX', 'its file Q/INDEX would overwrite the file of /q (they differ only in case or Unicode form, and share one file on macOS and Windows)'],
  ]);
});

files.run();

const config = suite('segment config');

config('defaults, valid values and invalid ones', () => {
  assert.equal(readSegmentConfig({}), { ok: true, config: { dynamic: 'auto', revalidate: false, dynamicParams: true, runtime: 'nodejs' } });
  const check = readSegmentConfig({ dynamic: 'force-static', revalidate: 10, runtime: 'experimental-edge', fetchCache: 'force-cache' });
  assert.equal(check, { ok: true, config: { dynamic: 'force-static', revalidate: 10, dynamicParams: true, runtime: 'edge', fetchCache: 'force-cache' } });
  for (const bad of [{ dynamic: 'sometimes' }, { revalidate: -1 }, { revalidate: 1.5 }, { revalidate: '60' }, { dynamicParams: 'no' }, { runtime: 'deno' }, { fetchCache: 'always' }]) {
    const result = readSegmentConfig(bad);
    assert.is(result.ok, false, JSON.stringify(bad));
    if (!result.ok) assert.is(result.name, Object.keys(bad)[0]);
  }
});

config('findExport points at the exported name', () => {
  const source = "import x from 'y';\n\nexport const dynamic = 'auto';\nexport async function GET() {}\nexport { handler as POST };\n";
  assert.equal(findExport(source, 'dynamic'), { line: 3, column: 14 });
  assert.equal(findExport(source, 'GET'), { line: 4, column: 23 });
  assert.equal(findExport(source, 'POST'), { line: 5, column: 21 });
  assert.is(findExport(source, 'PUT'), undefined);
});

config('decideRoute reports every module-level reason at once', () => {
  const route: RouteFile = { file: '/app/x/route.ts', pattern: '/x/[id]', srcRoute: '/x/[id]', segments: [{ type: 'static', value: 'x' }, { type: 'dynamic', name: 'id' }] };
  const info = { exports: ['GET', 'POST', 'dynamic'], functions: ['GET', 'POST'], config: { dynamic: 'force-dynamic' as const, revalidate: false as const, dynamicParams: true, runtime: 'nodejs' as const } };
  const decision = decideRoute(route, info, "export const dynamic = 'force-dynamic';\nexport function GET() {}\nexport function POST() {}\n");
  assert.equal('reasons' in decision && decision.reasons.map((r) => r.kind), ['POST', "dynamic = 'force-dynamic'"]);
  const plain = decideRoute(route, { ...info, exports: ['GET'], functions: ['GET'], config: { ...info.config, dynamic: 'auto' } }, '');
  assert.equal('reasons' in plain && plain.reasons.map((r) => r.kind), ['no generateStaticParams']);
  // An image of generateImageMetadata has no generateStaticParams under Next.js 15 and earlier: the reason says so.
  const icon = decideRoute({ ...route, pattern: '/x/icon/[__metadata_id__]', metadata: { kind: 'image', name: 'icon', urlSegments: ['icon', '[__metadata_id__]'] } }, { ...info, exports: ['GET'], functions: ['GET'], config: { ...info.config, dynamic: 'auto' } }, '');
  assert.equal('reasons' in icon && icon.reasons.map((r) => r.message), ['Next.js 15 and earlier serve the images of generateImageMetadata on request (16 prerenders each)']);
  const ready = decideRoute(route, { ...info, exports: ['GET', 'generateStaticParams'], functions: ['GET', 'generateStaticParams'], config: { ...info.config, dynamic: 'auto' } }, '');
  assert.equal(ready, { run: true, needsParams: true });
});

config('segment config that Next.js 15+ cannot read from the source is found, literals are not', async () => {
  const { unreadableConfig } = await import('../src/decide.js');
  const flagged = (source: string) => unreadableConfig(source)?.why;
  assert.is(flagged('export const revalidate = 60 * 60;\n'), 'a value that is not a literal');
  assert.is(flagged('const HOUR = 3600;\nexport const revalidate = HOUR;\n'), 'Unknown identifier "HOUR"');
  assert.is(flagged("export const dynamic = 'force-static' as const;\n"), 'Unsupported node type "TsConstAssertion"');
  for (const ok of ['export const revalidate = 3_600;', "export const dynamic = 'force-static'", 'export const revalidate: number = 60', 'export const dynamicParams = false;', "export const preferredRegion = ['iad1'];", 'export const revalidate =\n  60 * 60;', 'export const fetchCache = `force-cache`;', 'export const revalidate = 3600 // an hour', "export const dynamic = 'force-static' /* for the CDN */;", 'export const revalidate = 60; // a minute', '// export const revalidate = 60 * 60;\nexport function GET() {}']) {
    assert.is(unreadableConfig(ok), undefined, ok);
  }
  assert.equal(unreadableConfig('\nexport const revalidate = 60 * 60;'), { name: 'revalidate', value: '60 * 60', why: 'a value that is not a literal', line: 2, column: 14 });
});

config('a route its source keeps on a server is decided without compiling it', async () => {
  const { decideFromSource, readStaticConfig } = await import('../src/decide.js');
  const route: RouteFile = { file: '/app/x/route.ts', pattern: '/x', srcRoute: '/x', segments: [] };
  assert.equal(readStaticConfig("export const runtime = 'edge';\nexport const revalidate = 0\n"), { runtime: 'edge', revalidate: 0 });
  assert.equal(readStaticConfig("export const dynamic: string = \"force-dynamic\";"), { dynamic: 'force-dynamic' });
  assert.equal(readStaticConfig("export const revalidate = 60;\nconst runtime = 'edge';"), {});
  assert.equal(decideFromSource(route, "export const runtime = 'edge';\nexport function GET() {}\n")!.map((r) => r.kind), ["runtime = 'edge'"]);
  assert.equal(decideFromSource(route, 'export async function POST() {}\n')!.map((r) => r.kind), ['no GET']);
  assert.equal(decideFromSource(route, 'export function GET() {}\nexport const { PUT } = handlers;\n')!.map((r) => [r.kind, r.at?.line]), [['PUT', 2]]);
  assert.is(decideFromSource(route, 'export function GET() {}\n'), undefined, 'a plain GET must be loaded to decide');
});

config.run();

const manifest = suite('manifest and report');
const route: RouteFile = { file: '/work/app/a/route.ts', pattern: '/a/[x]', srcRoute: '/a/[x]', segments: [] };
const results: PathResult[] = [
  { type: 'static', path: '/a/2', route, logs: [], status: 200, headers: { 'content-type': 'text/plain', 'a-first': 'yes' }, file: 'a/2', size: 3, sha256: 'abc', revalidate: false },
  { type: 'static', path: '/a/1', route, logs: ['hello'], status: 307, headers: { location: '/b' }, file: null, size: 0, sha256: 'e3b0', revalidate: 10 },
  { type: 'dynamic', path: '/d', route, logs: [], reasons: [{ kind: 'headers()', message: 'reads headers', at: { file: '/work/app/a/route.ts', line: 3, column: 9 } }] },
  { type: 'error', path: '/e', route, logs: [], code: 'HANDLER_THREW', message: 'boom', hint: 'fix it', at: { file: '/work/lib/x.ts', line: 1, column: 2 } },
];

manifest('keys are sorted, locations relative to the working folder, no timestamps', () => {
  const built = buildManifest(results, '/work');
  const text = serializeManifest(built);
  const written = JSON.parse(text) as typeof built;
  assert.equal(Object.keys(written.routes), ['/a/1', '/a/2']);
  assert.equal(Object.keys(written.routes['/a/2'].headers), ['a-first', 'content-type']);
  assert.equal(Object.keys(written.routes['/a/2']), ['file', 'headers', 'revalidate', 'sha256', 'size', 'source', 'srcRoute', 'status']);
  assert.equal(Object.keys(written), ['dynamic', 'errors', 'routes', 'version']);
  assert.is(built.dynamic['/d'].reasons[0].at, 'app/a/route.ts:3:9');
  assert.equal(built.errors['/e'], { at: 'lib/x.ts:1:2', code: 'HANDLER_THREW', hint: 'fix it', message: 'boom', source: 'app/a/route.ts', srcRoute: '/a/[x]' });
  assert.is(text, serializeManifest(buildManifest([...results].reverse(), '/work')));
  assert.ok(text.endsWith('}\n'));
});

manifest('exit codes: 1 on errors, 3 on dynamic with failOnDynamic, else 0', () => {
  const withError = buildManifest(results, '/work');
  const noError = buildManifest(results.filter((r) => r.type !== 'error'), '/work');
  const onlyStatic = buildManifest(results.filter((r) => r.type === 'static'), '/work');
  assert.is(exitCodeFor(withError, { failOnDynamic: true }), 1);
  assert.is(exitCodeFor(noError), 0);
  assert.is(exitCodeFor(noError, { failOnDynamic: true }), 3);
  assert.is(exitCodeFor(onlyStatic, { failOnDynamic: true }), 0);
});

manifest('the report lists static, dynamic with reasons and lines, errors with hints, then a summary', () => {
  const report = formatReport(results, { routes: 1, durationMs: 1234, output: 'Wrote dist/.' }, { cwd: '/work', color: false, logs: true });
  assert.equal(report.split('\n'), [
    'Static',
    '  ○ /a/2       3 B  text/plain',
    '  ↪ /a/1  307 → /b',
    '      │ hello',
    '',
    'Dynamic',
    '  ƒ /d  app/a/route.ts',
    '      headers() at app/a/route.ts:3:9 — reads headers',
    '',
    'Errors',
    '  ✗ /e  lib/x.ts:1:2',
    '      boom',
    '      hint: fix it',
    '',
    '2 static (3 B), 1 dynamic, 1 error from 1 route in 1.23 s. Wrote dist/.',
  ]);
  const quiet = formatReport(results, { routes: 1, durationMs: 0, output: '' }, { cwd: '/work', color: false, logs: false });
  assert.not.match(quiet, 'hello');
});

manifest.run();

const outDir = suite('output folder');

outDir('refuses /, the home folder, the project, the current folder and the app directory or its parents', () => {
  const context = { appDir: '/work/site/app', projectRoot: '/work/site', cwd: '/work/site', force: true };
  const refused = (out: string) => {
    try {
      checkOutDir(out, context);
      return 'accepted';
    } catch (error) {
      return (error as { code: string }).code;
    }
  };
  assert.is(refused('/'), 'OUT_DIR_UNSAFE');
  assert.is(refused(homedir()), 'OUT_DIR_UNSAFE');
  assert.is(refused('/work/site'), 'OUT_DIR_UNSAFE');
  assert.is(refused('/work'), 'OUT_DIR_UNSAFE');
  assert.is(refused('/work/site/app'), 'OUT_DIR_UNSAFE');
  assert.is(refused(path.join('/work/site', 'dist-that-does-not-exist')), 'accepted');
});

outDir.run();

const reports = suite('comparison and CI reports');

const baseManifest = (): ReturnType<typeof buildManifest> => ({ version: 1, routes: {}, dynamic: {}, errors: {} });
const staticEntry = (srcRoute: string, sha256 = 'a') => ({ srcRoute, source: 'app/x/route.ts', file: 'x', status: 200, headers: {}, revalidate: false as const, size: 1, sha256 });

reports('a route that became dynamic as a whole (keyed by its pattern) is matched to its old paths', () => {
  const before = baseManifest();
  before.routes['/posts/a'] = staticEntry('/posts/[slug]');
  before.routes['/posts/b'] = staticEntry('/posts/[slug]');
  before.routes['/feed'] = staticEntry('/feed', 'old');
  before.dynamic['/me'] = { srcRoute: '/me', source: 'app/me/route.ts', reasons: [] };
  const after = baseManifest();
  after.dynamic['/posts/[slug]'] = { srcRoute: '/posts/[slug]', source: 'x', reasons: [{ kind: 'POST', message: 'm', at: 'x:1:1' }] };
  after.routes['/feed'] = staticEntry('/feed', 'new');
  after.routes['/me'] = staticEntry('/me');
  after.routes['/fresh'] = staticEntry('/fresh');
  const c = compareManifests(before, after);
  assert.equal(c.becameDynamic.map((d) => d.path), ['/posts/a', '/posts/b']);
  assert.equal(c.becameStatic.map((s) => s.path), ['/me']);
  assert.equal(c.added, ['/fresh']);
  assert.equal(c.removed, []);
  assert.equal(c.changed, ['/feed']);
  assert.equal(unwantedDynamic(after, { failOn: 'new-dynamic', baseline: before }), ['/posts/a', '/posts/b']);
  assert.equal(unwantedDynamic(after, { failOn: 'new-dynamic', baseline: before, allowDynamic: ['/posts/[slug]'] }), []);
  assert.equal(unwantedDynamic(after, { failOn: 'new-dynamic', baseline: before, allowDynamic: ['/posts/*'] }), []);
  assert.equal(unwantedDynamic(after, { failOn: 'dynamic' }), ['/posts/[slug]']);
  assert.equal(unwantedDynamic(after, {}), []);
});

reports('annotations escape what GitHub reads as syntax', () => {
  const m = baseManifest();
  m.errors['/a,b'] = { srcRoute: '/a,b', source: 'app/a,b/route.ts', code: 'HANDLER_THREW', message: 'line one\nline two 100%', at: 'app/a,b/route.ts:3:9' };
  assert.equal(githubAnnotations(m), ['::error file=app/a%2Cb/route.ts,line=3,col=9,title=/a%2Cb failed to prerender::line one%0Aline two 100%25']);
});

reports('annotation paths are relative to the workspace, so a project in a subfolder is annotated on the right files', () => {
  const m = baseManifest();
  m.dynamic['/me'] = { srcRoute: '/me', source: 'app/me/route.ts', reasons: [{ kind: 'cookies()', message: 'm', at: 'app/me/route.ts:4:23' }] };
  assert.equal(githubAnnotations(m, { cwd: '/repo/apps/web', workspace: '/repo' }), ['::warning file=apps/web/app/me/route.ts,line=4,col=23,title=/me is dynamic::cookies(): m']);
  assert.equal(githubAnnotations(m), ['::warning file=app/me/route.ts,line=4,col=23,title=/me is dynamic::cookies(): m']);
});

reports('the markdown report escapes table cells', () => {
  const m = baseManifest();
  m.errors['/x'] = { srcRoute: '/x', source: 's', code: 'HANDLER_THREW', message: 'a | b', at: 's:1:1' };
  assert.match(formatMarkdown(m, { routes: 1, durationMs: 0, output: '' }), '| `/x` | a \\| b | `s:1:1` |');
});

reports.run();

const workers = suite('worker flags');

workers('workers get the build\'s node flags but never the code of node -e / -p', async () => {
  const { workerExecArgv } = await import('../src/sandbox/scheduler.js');
  assert.equal(workerExecArgv(['-e', 'code()', '--input-type=module', '--enable-source-maps']), ['--enable-source-maps']);
  assert.equal(workerExecArgv(['--eval=code()', '--import', 'tsx']), ['--import', 'tsx']);
  assert.equal(workerExecArgv(['-p', 'x', '--input-type', 'module']), []);
  assert.equal(workerExecArgv(['--cpu-prof']), ['--cpu-prof']);
});

workers('a worker started early is set up by the first build with its limits, and never keeps the process alive', async () => {
  const { spawnSync } = await import('node:child_process');
  const { pathToFileURL } = await import('node:url');
  const { startEarly, takeEarly } = await import('../src/sandbox/thread.js');
  const { tempDir } = await import('./helpers.js');
  const thread = pathToFileURL(path.join(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../src/sandbox/thread.js')).href;
  // A process that started one and did nothing else exits at once.
  const alone = spawnSync(process.execPath, ['--input-type=module', '-e', `(await import(${JSON.stringify(thread)})).startEarly(2048)`], { timeout: 10_000 });
  assert.is(alone.status, 0, 'the process exits');

  const dir = tempDir('early');
  const message = { setup: { bundleDir: dir, projectRoot: dir, outputDir: dir, maxBodyBytes: 1024, beat: new SharedArrayBuffer(24) }, env: { ONLY_THIS: 'yes' } };
  startEarly(77);
  assert.is(takeEarly(78, message), undefined, 'other limits start their own');
  const worker = takeEarly(77, message);
  assert.ok(worker, 'the same limits take it');
  assert.is(takeEarly(77, message), undefined, 'once');
  // Set up by its first message: it says so as a worker started with its setup does.
  const ready = await new Promise<boolean>((resolve) => {
    worker!.on('message', (notice: { ready?: true }) => notice.ready && resolve(true));
    worker!.on('error', () => resolve(false));
    worker!.on('exit', () => resolve(false));
  });
  assert.ok(ready);
  await worker!.terminate();
});

workers("a source map decoded line by line answers every position as node:module's SourceMap does", async () => {
  const { LazySourceMap } = await import('../src/sandbox/runtime/source-map.js');
  const { SourceMap } = await import('node:module');
  const esbuild = await import('esbuild');
  // A route bundled with a package (many sources, names), as the bundler writes it.
  const built = await esbuild.build({
    stdin: { contents: "import { marked } from 'marked';\nexport async function GET() {\n  return new Response(await marked.parse('# hi'));\n}\n", resolveDir: process.cwd(), sourcefile: 'app/x/route.ts', loader: 'ts' },
    bundle: true, format: 'esm', platform: 'node', sourcemap: 'external', write: false, outfile: 'out.js', logLevel: 'silent',
  });
  const code = built.outputFiles.find((file) => file.path.endsWith('.js'))!.text;
  const bundled = JSON.parse(built.outputFiles.find((file) => file.path.endsWith('.map'))!.text);
  // By hand: segments of one field, empty lines, a line that maps nothing before its first segment.
  const byHand = { version: 3, sources: ['a.ts', 'b.ts'], names: ['n'], mappings: 'AAAA,EAAE,C;;IACA,GCCAA;A,KAAK;;' };
  const lines = code.split('\n');
  for (const payload of [bundled, byHand]) {
    const lazy = new LazySourceMap(payload);
    const node = new SourceMap(payload);
    const widths = payload === byHand ? [8, 8, 8, 8, 8, 8, 8] : lines.map((line) => line.length);
    let compared = 0;
    // Looked up in an order that jumps back and forth, past the last line too.
    const positions: Array<[number, number]> = [];
    for (let line = 0; line < widths.length + 2; line++) for (let column = 0; column <= (widths[line] ?? 4) + 1; column += payload === byHand ? 1 : 7) positions.push([line, column]);
    positions.sort((a, b) => ((a[0] * 7919 + a[1]) % 101) - ((b[0] * 7919 + b[1]) % 101));
    for (const [line, column] of positions) {
      const want = node.findEntry(line, column) as Record<string, unknown>;
      const got = lazy.findEntry(line, column);
      assert.equal([got.originalSource, got.originalLine, got.originalColumn], [want.originalSource, want.originalLine, want.originalColumn], `${line}:${column}`);
      compared++;
    }
    assert.ok(compared > (payload === byHand ? 50 : 2000));
  }
  assert.throws(() => new LazySourceMap({ sources: [], mappings: 'A!' } as never).findEntry(0, 0), /not a source map/);
});

workers("the build thread takes files from a look the worker has not finished, and both answer as one thread would", async () => {
  const { cacheChunks, cachePath, readCache } = await import('../src/cache.js');
  const { helpLook, lookAgain, lookPlan, shareLook } = await import('../src/look.js');
  const { tempDir } = await import('./helpers.js');
  const { mkdirSync, statSync, writeFileSync } = await import('node:fs');
  const { Worker } = await import('node:worker_threads');
  const dir = tempDir('help-look');
  mkdirSync(path.join(dir, 'content'));
  // 3,000 files; every seventh one's stamp recorded wrong, and one file gone.
  const ids: string[] = [];
  const stamps: Record<string, string> = {};
  for (let i = 0; i < 3000; i++) {
    const file = path.join(dir, 'content', `p${i}.md`);
    writeFileSync(file, `post ${i}\n`);
    const id = `file:content/p${i}.md`;
    const { size, mtimeMs, ino } = statSync(file);
    stamps[id] = i % 7 === 0 ? 'other' : `${size}:${mtimeMs}:${ino}`;
    ids.push(id);
  }
  stamps['file:content/gone.md'] = '1:1:1';
  const out = path.join(dir, 'dist');
  const builtAt = Date.now() + 10_000;
  writeFileSync(cachePath(out), [...cacheChunks({ version: 1, settings: 's', project: '.', builtAt, staticPaths: 0, digests: Object.fromEntries(Object.keys(stamps).map((id) => [id, 'd'])), stamps, global: {}, routes: {}, paths: {} } as never)].join(''));
  const alone = lookAgain(out, dir)!;
  assert.is(alone.changed.length, Math.ceil(3000 / 7) + 1);
  const cache = readCache(out)!;
  const never = new Promise<never>(() => undefined);
  for (let round = 0; round < 3; round++) {
    // A real worker takes files from the same look while this thread takes them too.
    const shared = shareLook(lookPlan(out, dir)!);
    const worker = new Worker(`
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.look).then(({ lookPlan, takeLookFiles }) => { parentPort.postMessage('go'); takeLookFiles(workerData.shared, lookPlan(workerData.out, workerData.dir).files); parentPort.postMessage('done'); });
    `, { eval: true, workerData: { shared, out, dir, look: new URL('../src/look.js', import.meta.url).href } });
    await new Promise((resolve) => worker.once('message', resolve));
    const helped = await helpLook({ found: never, shared: () => shared }, cache, dir);
    await worker.terminate();
    assert.equal(helped, alone, `round ${round}`);
  }
  const answer = { builtAt, root: dir, changed: ['from the worker'] };
  // The early worker's look: where it is can be read while this thread is busy (no event can come in).
  const { claimLook, startEarly, takeEarly } = await import('../src/sandbox/thread.js');
  startEarly(79, { out, cwd: dir });
  const look = claimLook(out)!;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 10_000;
  while (!look.shared() && Date.now() < deadline) Atomics.wait(pause, 0, 0, 2);
  assert.ok(look.shared(), 'read without waiting for an event');
  assert.equal(await helpLook(look, cache, dir), alone);
  await takeEarly(79, { setup: { bundleDir: dir, projectRoot: dir, outputDir: dir, maxBodyBytes: 1024, beat: new SharedArrayBuffer(24) }, env: {} })?.terminate();
  // The last file left to this thread, and one the worker never finishes: after a while, the worker's answer.
  const stuck = shareLook(lookPlan(out, dir)!);
  Atomics.store(stuck.control, 0, stuck.count - 1);
  Atomics.store(stuck.control, 1, stuck.count - 2);
  assert.equal(await helpLook({ found: Promise.resolve(answer), shared: () => stuck }, cache, dir, 50), answer);
  assert.is(Atomics.load(stuck.control, 1), stuck.count - 1, 'this thread did the file left');
  // Every file taken already, or another cache (another build's end): the worker's answer at once.
  const taken = shareLook(lookPlan(out, dir)!);
  Atomics.store(taken.control, 0, taken.count);
  const started = Date.now();
  assert.equal(await helpLook({ found: Promise.resolve(answer), shared: () => taken }, cache, dir, 3000), answer);
  assert.ok(Date.now() - started < 1000, 'without waiting for files it holds none of');
  assert.equal(await helpLook({ found: Promise.resolve(answer), shared: () => ({ ...stuck, builtAt: 1 }) }, cache, dir), answer);
});

workers.run();

const large = suite('large builds');

large('the manifest written in chunks is exactly JSON.stringify of it with every key sorted', async () => {
  const { build } = await import('./helpers.js');
  const { manifestChunks } = await import('../src/manifest.js');
  const sortDeep = (value: unknown): unknown => (Array.isArray(value) ? value.map(sortDeep) : value && typeof value === 'object' ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortDeep((value as Record<string, unknown>)[k])])) : value);
  for (const app of ['blog', 'broken', 'navigation', 'request-data']) {
    const { manifest } = await build(app);
    // The manifest's JSON (a build's entries are records that give theirs), every key sorted.
    const expected = `${JSON.stringify(sortDeep(JSON.parse(JSON.stringify(manifest))), null, 2)}\n`;
    assert.is([...manifestChunks(manifest, 3)].join(''), expected, app);
    assert.is(serializeManifest(manifest), expected, app);
  }
  const empty = buildManifest([], '/');
  assert.is(serializeManifest(empty), `${JSON.stringify(sortDeep(empty), null, 2)}\n`);
});

large('a manifest written with the previous text for its kept entries is the text written without it', async () => {
  const { manifestChunks } = await import('../src/manifest.js');
  const entry = (n: number, file: string | null = `p/${n}`) => ({ type: 'static' as const, path: '', route, logs: [], status: 200, headers: { 'content-type': 'text/plain' }, file, size: n, sha256: `s${n}`, revalidate: false as const });
  const joined = (chunks: Iterable<string | Uint8Array>) => Buffer.concat([...chunks].map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk))).toString();
  // Keys that escape in JSON, sort around each other, and one that looks like the end of a key;
  // without the non-ASCII one the text is ASCII, and its bytes are used too.
  for (const keys of [['/a', '/a"b', '/a\\b', '/a\\"', '/b": {', '/c\n', '/é', '/z', '/zz'], ['/a', '/a"b', '/a\\b', '/a\\"', '/b": {', '/c\n', '/e', '/z', '/zz']]) {
    const before = buildManifest([...keys.map((key, i) => ({ ...entry(i), path: key })), results[2], results[3]], '/work');
    const text = serializeManifest(before);
    const previous = { manifest: JSON.parse(text) as typeof before, text };
    const ascii = !keys.includes('/é');
    const kept = previous.manifest.routes;
    const changes: Array<[string, (routes: typeof kept) => void]> = [
      ['nothing', () => undefined],
      ['the first changed', (routes) => (routes['/a'] = { ...routes['/a'], size: 99 })],
      ['the last removed', (routes) => delete routes['/zz']],
      ['one added in the middle and one at the start', (routes) => Object.assign(routes, { '/a"a': { ...routes['/a'], size: 7 }, '/': { ...routes['/z'] } })],
      ['every other one changed', (routes) => keys.forEach((key, i) => i % 2 === 0 && (routes[key] = { ...routes[key] }))],
    ];
    for (const [what, change] of changes) {
      const routes = { ...kept };
      change(routes);
      const after = { ...previous.manifest, routes: Object.fromEntries(Object.keys(routes).sort().map((key) => [key, routes[key]])) };
      for (const size of [1, 2, 2000]) {
        assert.is([...manifestChunks(after, size, previous)].join(''), serializeManifest(after), `${what}, ${size} a chunk`);
        // Kept runs are views of the previous bytes when they are ASCII (else the text is written): the same bytes come out.
        const chunks = [...manifestChunks(after, size, { ...previous, bytes: Buffer.from(text) })];
        if (what === 'nothing') assert.is(chunks.some((chunk) => typeof chunk !== 'string'), ascii, 'kept runs are views of ASCII bytes only');
        assert.is(joined(chunks), serializeManifest(after), `${what}, ${size} a chunk, from the bytes`);
      }
    }
    // A text not laid out by this serializer gives no entry.
    const compact = { manifest: previous.manifest, text: JSON.stringify(previous.manifest) };
    assert.is([...manifestChunks(previous.manifest, 2000, compact)].join(''), text);
  }
});

large('a build cache written with the previous text for its kept records is the text written without it', async () => {
  const { cacheChunks } = await import('../src/cache.js');
  const record = (n: number) => ({ inputs: { files: [{ id: `file:posts/${n}.md`, at: 'app/p/route.ts:3' }] } });
  const base = { version: 1 as const, settings: 's', project: '.', builtAt: 1, staticPaths: 6, digests: { 'file:posts/1.md': 'd' }, stamps: {}, global: {}, routes: {}, manifest: 'm' };
  // Without a non-ASCII key the text is ASCII: its bytes are used too.
  for (const keys of [['/a', '/a"b', '/a\\b', '/b\n', '/é', '/z'], ['/a', '/a"b', '/a\\b', '/b\n', '/e', '/z']]) {
    const text = [...cacheChunks({ ...base, paths: Object.fromEntries(keys.map((key, i) => [key, record(i)])) })].join('');
    const previous = { cache: JSON.parse(text) as Parameters<typeof cacheChunks>[0], text };
    const kept = previous.cache.paths;
    const changes: Array<[string, (paths: typeof kept) => void]> = [
      ['nothing', () => undefined],
      ['the first changed', (paths) => (paths['/a'] = record(9))],
      ['the last removed', (paths) => delete paths['/z']],
      ['one in the middle removed', (paths) => delete paths['/a\\b']],
      ['one added at the start and one in the middle', (paths) => Object.assign(paths, { '/': record(7), '/a!': record(8) })],
    ];
    for (const [what, change] of changes) {
      const paths = { ...kept };
      change(paths);
      const cache = { ...previous.cache, paths: Object.fromEntries(Object.keys(paths).sort().map((key) => [key, paths[key]])) };
      const written = [...cacheChunks(cache, previous)].join('');
      assert.is(written, [...cacheChunks(cache)].join(''), what);
      assert.equal(JSON.parse(written), cache, `${what}: the text is the cache`);
      // From the previous bytes: kept runs are views of them when they are ASCII, and the same bytes come out.
      const fromBytes = [...cacheChunks(cache, { ...previous, bytes: Buffer.from(text) })];
      if (what === 'nothing') assert.is(fromBytes.some((chunk) => typeof chunk !== 'string'), !keys.includes('/é'), 'kept runs are views of ASCII bytes only');
      assert.is(Buffer.concat(fromBytes.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk))).toString(), written, `${what}, from the bytes`);
    }
  }
  const empty = [...cacheChunks({ ...base, paths: {} })].join('');
  assert.equal(JSON.parse(empty).paths, {});
  // Many inputs are written in parts: the text is still the cache.
  const digests = Object.fromEntries(Array.from({ length: 25_001 }, (_, i) => [`file:posts/${i}.md`, `d${i}`]));
  const large = { ...base, digests, stamps: digests, paths: {} };
  const pieces = [...cacheChunks(large)];
  assert.equal(JSON.parse(pieces.join('')), large);
  assert.ok(Math.max(...pieces.map((piece) => piece.length)) < 200_000, 'no piece holds every input');
});

large('the report folds a route\'s written paths after the first three into one line; redirects and output stay listed', () => {
  const many: RouteFile = { file: '/w/app/p/[id]/route.ts', pattern: '/p/[id]', srcRoute: '/p/[id]', segments: [] };
  const results: PathResult[] = Array.from({ length: 10 }, (_, i) => ({ type: 'static' as const, path: `/p/${i}`, route: many, logs: i === 7 ? ['hello'] : [], status: i === 8 ? 307 : 200, headers: (i === 8 ? { location: '/x' } : {}) as Record<string, string>, file: i === 8 ? null : `p/${i}`, size: 10, sha256: 'x', revalidate: false as const }));
  const lines = formatReport(results, { routes: 1, durationMs: 0, output: '' }, { cwd: '/w', color: false, logs: true }).split('\n');
  assert.equal(lines.slice(0, 8), [
    'Static',
    '  ○ /p/0      10 B  ',
    '  ○ /p/1      10 B  ',
    '  ○ /p/2      10 B  ',
    '  … and 5 more paths of /p/[id] (50 B)',
    '  ○ /p/7      10 B  ',
    '      │ hello',
    '  ↪ /p/8  307 → /x',
  ]);
});

large("an incremental build reads the previous cache's path records from their text as the parsed records would decide, and writes them again unchanged", async () => {
  const { cacheChunks, Digests, hash, KeptPath, parseCache, planReuse } = await import('../src/cache.js');
  const at = 'app/p/route.ts:3';
  const records: Record<string, { inputs: Record<string, unknown>; builtAt?: number }> = {
    '/a': { inputs: { files: [{ id: 'file:posts/a.md', at }, { id: 'file:posts/shared.md', at }] } },
    '/a"b': { inputs: { env: [{ name: 'SITE', at }] } },
    '/b\n': { inputs: { files: [{ id: 'file:posts/"quoted".md', at }] } },
    '/c': { inputs: { files: [{ id: 'file:posts/c.md' }], env: [{ name: 'OTHER' }] } },
    '/d': { inputs: { fetches: [{ method: 'GET', url: 'https://example.com/"id":"file:posts/a.md"', at }] }, builtAt: 5 },
    '/e': { inputs: { variation: [{ kind: 'Date.now()', at }], files: [{ id: 'file:posts/e.md', at }] }, builtAt: 5 },
    '/é': { inputs: { files: [{ id: 'file:posts/é.md', at: 'app/p/name":"x.ts:1' }] } },
  };
  const keys = Object.keys(records).sort();
  const env = { SITE: 'site', OTHER: 'other' };
  const digests = new Digests(path.join(homedir(), 'no-such-project'), env);
  const recorded: Record<string, string> = {};
  for (const id of ['file:posts/a.md', 'file:posts/shared.md', 'file:posts/"quoted".md', 'file:posts/c.md', 'file:posts/e.md', 'file:posts/é.md', 'env:SITE', 'env:OTHER']) recorded[id] = digests.of(id);
  const route = { file: path.join(process.cwd(), 'app/p/route.ts'), pattern: '/[x]', srcRoute: '/[x]', segments: [] } as RouteFile;
  const entry = { file: 'x', headers: {}, revalidate: false, sha256: 's', size: 1, source: 'app/p/route.ts', srcRoute: '/[x]', status: 200 };
  const manifest = { version: 1, dynamic: {}, errors: {}, routes: Object.fromEntries(keys.map((key) => [key, entry])) } as never;
  const cache = { version: 1 as const, settings: 's', project: '.', builtAt: 1, staticPaths: keys.length, digests: recorded, stamps: {}, global: {}, routes: { 'app/p/route.ts': { code: 'c' } }, manifest: 'm', paths: Object.fromEntries(keys.map((key) => [key, records[key]])) } as never;
  const text = [...cacheChunks(cache)].join('');
  const full = parseCache(text)!;
  const lazy = parseCache(text, { lazy: true })!;
  assert.ok(Object.values(lazy.cache.paths).every((record) => record instanceof KeptPath), 'every record is kept as its text');
  assert.equal(JSON.parse(JSON.stringify(lazy.cache)), full.cache, 'parsed when asked, the records are the cache');
  const decide = (read: typeof full, changed: Record<string, string>) => {
    const plan = planReuse({ cache: { ...read.cache, digests: { ...recorded, ...changed } }, manifest }, { settings: 's', digests, cwd: process.cwd(), now: 10 });
    return keys.map((key) => [key, 'cause' in plan.check(key, route, 'c') ? (plan.check(key, route, 'c') as { cause: string }).cause : 'reused']);
  };
  for (const changed of <Array<Record<string, string>>>[{}, { 'file:posts/shared.md': 'old' }, { 'env:SITE': 'old' }, { 'file:posts/"quoted".md': 'old' }, { 'env:OTHER': 'old', 'file:posts/é.md': 'old' }, { 'file:posts/a.md': 'old' }]) {
    assert.equal(decide(lazy, changed), decide(full, changed), JSON.stringify(changed));
  }
  assert.equal(decide(lazy, { 'file:posts/a.md': 'old' }).filter(([, cause]) => cause !== 'reused').map(([key]) => key), ['/a', '/d', '/e'], 'a URL holding an id is not a read of it; the network and the clock run again');
  // Kept records are written as they were read; a text parsed lazily serves as the previous one.
  const after = { ...lazy.cache, paths: { ...lazy.cache.paths, '/c': records['/c'] } };
  assert.is([...cacheChunks(after, lazy)].join(''), [...cacheChunks(JSON.parse(JSON.stringify(after)))].join(''));
  // A damaged record makes its path run again.
  const damaged = text.replace('{"inputs":{"files":[{"id":"file:posts/c.md"}]', '{"inputs":{"files":[{"id":"file:posts/c\\q.md"}]');
  assert.is.not(damaged, text);
  const broken = planReuse({ cache: parseCache(damaged, { lazy: true })!.cache, manifest }, { settings: 's', digests, cwd: process.cwd(), now: 10 });
  assert.equal(broken.check('/c', route, 'c'), { cause: 'its record in the build cache is damaged' });
  assert.equal(hash(text).length, 64);
});

large("the previous cache's digests and stamps are read from their text: looked up, counted, walked, and written again with entries cut and added", async () => {
  const { TextTable } = await import('../src/cache-text.js');
  const entries: Record<string, string> = { 'file:a.md': '1', 'env:X': 'unset', 'file:b,c.md': '2', 'dir:posts': '3', 'file:d.md': '4' };
  const text = `{"head":1,"table":${JSON.stringify(entries)}}`;
  const from = text.indexOf('"table":{') + 9;
  const table = TextTable.of(text, from, text.length - 2)!;
  assert.ok(table, 'a table of this shape is kept as text');
  assert.equal([table.get('file:a.md'), table.get('file:b,c.md'), table.get('file:d.md')], ['1', '2', '4'], 'the first, a middle and the last entry');
  assert.equal([table.get('a.md'), table.get('file:a'), table.get('posts')], [undefined, undefined, undefined], 'part of an id is not that id');
  assert.equal([table.count(), table.count('file:')], [5, 3]);
  assert.equal([...table.entries('file:')], [['env:X', 'unset'], ['dir:posts', '3']]);
  const ids = Object.keys(entries);
  const bytes = Buffer.from(text);
  for (let mask = 0; mask < 1 << ids.length; mask++) {
    const cut = ids.filter((_, i) => mask & (1 << i));
    for (const added of [{}, { 'file:new.md': '9' }] as Array<Record<string, string>>) {
      const expected = [...ids.filter((id) => !cut.includes(id)).map((id) => [id, entries[id]]), ...Object.entries(added)];
      for (const from of [undefined, bytes]) {
        const written = [...table.spliced(cut, added, from)].map((piece) => (typeof piece === 'string' ? piece : Buffer.from(piece).toString())).join('');
        assert.equal(Object.entries(JSON.parse(`{${written}}`)), expected, `cut ${cut.join(' ')}, added ${Object.keys(added).join(' ')}${from ? ', as bytes' : ''}`);
      }
    }
  }
  for (let i = 0; i < 40; i++) assert.is(table.get(ids[i % ids.length]), entries[ids[i % ids.length]], 'past its lookups the table is parsed, and answers the same');
  assert.equal(TextTable.of('{"t":{}}', 6, 6)?.count(), 0, 'an empty table');
  const escaped = `{"table":${JSON.stringify({ 'file:a"b.md': '1' })}}`;
  assert.is(TextTable.of(escaped, 10, escaped.length - 2), undefined, 'a table whose text holds a backslash is parsed instead');
  assert.is(TextTable.of(text, from + 1, text.length - 2), undefined, 'not at the start of a table');
});

large("a worker's look reads a large cache only through its stamps, wherever a read of it ends", async () => {
  const { cacheChunks, cachePath } = await import('../src/cache.js');
  const { lookAgain, readUntil } = await import('../src/look.js');
  const { tempDir } = await import('./helpers.js');
  const { writeFileSync } = await import('node:fs');
  const dir = tempDir('look');
  const out = path.join(dir, 'dist');
  // 20,000 files (none of them there: each one's stamp changed), and a path record for each after them.
  const ids = Array.from({ length: 20_000 }, (_, i) => `file:content/post-${i}.md`);
  const table = Object.fromEntries(ids.map((id) => [id, '1:2:3']));
  const write = (settings: string) => writeFileSync(cachePath(out), [...cacheChunks({ version: 1, settings, project: '.', builtAt: 5, staticPaths: 1, digests: table, stamps: table, global: {}, routes: {}, paths: Object.fromEntries(ids.map((id, i) => [`/posts/${i}`, { inputs: { files: [{ id }] } }])) } as never)].join(''));
  write('s');
  const marker = readFileSync(cachePath(out), 'utf8').indexOf('},"paths":{');
  assert.ok(marker > 256 * 1024, 'the stamps end past the first read');
  // Each position of the end of the stamps around the end of a read of 256 KB.
  const boundary = Math.ceil((marker + 20) / (256 * 1024)) * 256 * 1024;
  for (const shift of [-12, -11, 0, 1, -6]) {
    write('s'.repeat(1 + boundary - marker + shift));
    assert.is(readFileSync(cachePath(out), 'utf8').indexOf('},"paths":{'), boundary + shift);
    const read = readUntil(cachePath(out), '},"paths":{')!;
    assert.ok(read.includes('},"paths":{') && read.length <= boundary + 256 * 1024, `shift ${shift}: read through the stamps and no further than the read that ends them`);
  }
  // The stamps' end read in two parts (the last write): every file is looked at.
  const looked = lookAgain(out, dir)!;
  assert.is(looked?.changed.length, ids.length);
  assert.is(looked.changed[ids.length - 1], ids[ids.length - 1]);
});

large.run();
