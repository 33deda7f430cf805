/**
 * The whole pipeline on real fixture apps: real files, one esbuild build, real worker threads.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { body, build, text } from './helpers.js';

const blog = suite('blog');

blog('writes /rss.xml as rss.xml with its content type', async () => {
  const result = await build('blog');
  const entry = result.manifest.routes['/rss.xml'];
  assert.is(entry.file, 'rss.xml');
  assert.is(entry.status, 200);
  assert.equal(entry.headers, { 'content-type': 'application/rss+xml' });
  assert.is(entry.srcRoute, '/rss.xml');
  assert.is(entry.source, 'fixtures/blog/app/rss.xml/route.ts');
  assert.ok(text(result, '/rss.xml').includes('<title>Hello, world</title>'));
});

blog('records size and sha256 of the body bytes', async () => {
  const result = await build('blog');
  const entry = result.manifest.routes['/feed.json'];
  const bytes = body(result, '/feed.json');
  assert.is(entry.size, bytes.length);
  assert.is(entry.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.is(JSON.parse(bytes.toString()).items.length, 2);
});

blog('expands generateStaticParams into one file per slug (tsconfig paths resolve)', async () => {
  const result = await build('blog');
  assert.is(result.manifest.routes['/posts/hello-world'].srcRoute, '/posts/[slug]');
  assert.equal(JSON.parse(text(result, '/posts/static-by-default')), { slug: 'static-by-default', title: 'Static by default', date: '2026-02-11' });
});

blog('params work the Next.js 14 way (params.id) too', async () => {
  const result = await build('blog');
  assert.is(JSON.parse(text(result, '/api/posts/hello-world')).slug, 'hello-world');
});

blog('a path that is also a folder is written as <path>/index', async () => {
  const result = await build('blog');
  assert.is(result.manifest.routes['/api/posts'].file, 'api/posts/index');
  assert.is(result.manifest.routes['/api/posts/hello-world'].file, 'api/posts/hello-world');
  assert.is(JSON.parse(text(result, '/api/posts')).length, 2);
});

blog('api/me reads cookies and is dynamic, with the line of the cookies() call', async () => {
  const result = await build('blog');
  const entry = result.manifest.dynamic['/api/me'];
  assert.is(entry.source, 'fixtures/blog/app/api/me/route.ts');
  assert.is(entry.reasons.length, 1);
  assert.is(entry.reasons[0].kind, 'cookies()');
  assert.is(entry.reasons[0].at, 'fixtures/blog/app/api/me/route.ts:4:26');
  assert.not.ok(result.manifest.routes['/api/me']);
});

blog('replaces the output folder as a whole and writes the manifest into it', async () => {
  const result = await build('blog');
  assert.ok(result.written);
  const manifest = JSON.parse(readFileSync(path.join(result.outDir, 'prerender-manifest.json'), 'utf8'));
  assert.equal(manifest, JSON.parse(JSON.stringify(result.manifest)));
  assert.equal(Object.keys(manifest.routes), [...Object.keys(manifest.routes)].sort());
  assert.is(manifest.version, 1);
  assert.equal(manifest.errors, {});
});

blog('reports progress to the logger as paths finish, and prints nothing by itself', async () => {
  const seen: [number, number][] = [];
  const { prerender } = await import('../src/index.js');
  const { tempDir, fixture, ROOT } = await import('./helpers.js');
  // Everything written to stdout and stderr while it runs is captured: the library writes nothing.
  const written: string[] = [];
  const original = { out: process.stdout.write, err: process.stderr.write };
  const capture = (chunk: string | Uint8Array) => (written.push(String(chunk)), true);
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  let result;
  try {
    result = await prerender({ appDir: fixture('blog'), out: `${tempDir('progress')}/dist`, cwd: ROOT, logger: { progress: (done, total) => seen.push([done, total]) } });
  } finally {
    process.stdout.write = original.out;
    process.stderr.write = original.err;
  }
  assert.equal(written, []);
  // Eight handlers run: the seven static paths and /api/me, found dynamic while it ran.
  assert.equal(seen.map(([done]) => done), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(seen.at(-1), [8, 8]);
  assert.ok(result.written);
});

blog.run();

const catchall = suite('catch-all and encoding');

catchall('[...path] expands arrays into nested paths; duplicates collapse', async () => {
  const result = await build('catchall');
  assert.is(text(result, '/docs/intro'), 'docs:intro');
  assert.is(text(result, '/docs/guide/setup'), 'docs:guide/setup');
  assert.is(result.manifest.routes['/docs/guide/setup'].file, 'docs/guide/setup');
  assert.is(Object.keys(result.manifest.routes).filter((p) => p.startsWith('/docs/')).length, 2);
});

catchall('[[...path]] with [] or undefined is the bare route', async () => {
  const result = await build('catchall');
  assert.equal(JSON.parse(text(result, '/files')), { path: null });
  assert.equal(JSON.parse(text(result, '/files/a/b')), { path: ['a', 'b'] });
  assert.is(result.manifest.routes['/files'].file, 'files/index');
});

catchall('[[...path]] with {} is no path at all, as in Next.js 14: the other entries are built; with no other entry the route stays dynamic', async () => {
  const result = await build('catchall');
  assert.equal(Object.keys(result.manifest.routes).filter((p) => p.startsWith('/skips')), ['/skips/x']);
  assert.equal(JSON.parse(text(result, '/skips/x')), { path: ['x'] });
  assert.ok(result.warnings.includes('/skips/[[...path]]: generateStaticParams leaves `path` out of an entry, which gives no path, as in Next.js 14 (`{ path: [] }` is the bare path); Next.js 15 and later prerender no path of this route.'), result.warnings.join('\n'));
  const [reason] = result.manifest.dynamic['/bare-only/[[...path]]'].reasons;
  assert.equal([reason.kind, reason.at], ['generateStaticParams() incomplete', 'fixtures/catchall/app/bare-only/[[...path]]/route.ts:2:17']);
  assert.match(reason.message, 'generateStaticParams leaves `path` out of every entry');
  assert.match(reason.message, '`{ path: [] }` is the bare path');
});

catchall('values keep spaces and unicode raw in keys and files, # is escaped; the handler sees the encoded pathname', async () => {
  const result = await build('catchall');
  assert.equal(JSON.parse(text(result, '/p/b c')), { name: 'b c', pathname: '/p/b%20c', method: 'GET' });
  assert.is(result.manifest.routes['/p/b c'].file, 'p/b c');
  assert.is(JSON.parse(text(result, '/p/über')).pathname, '/p/%C3%BCber');
  assert.is(JSON.parse(text(result, '/p/a%23b')).name, 'a#b');
  assert.is(result.manifest.routes['/p/a%23b'].file, 'p/a#b');
  assert.equal(Object.keys(result.manifest.dynamic), ['/bare-only/[[...path]]']);
});

catchall.run();

const groups = suite('groups and private folders');

groups('(group) and @slot folders vanish from the URL; route.js counts', async () => {
  const result = await build('groups');
  assert.equal(Object.keys(result.manifest.routes).sort(), ['/', '/_internal', '/about.json', '/items', '/slot.txt']);
  assert.equal(JSON.parse(text(result, '/items')), ['a', 'b']);
});

groups('_private folders are skipped, and route.mjs is not a route', async () => {
  const result = await build('groups');
  assert.equal(result.manifest.errors, {});
  assert.ok(Object.values(result.manifest.routes).every((r) => !r.source.includes('_lib') && !r.source.includes('.mjs')));
});

groups('%5F at the start of a folder is a literal underscore', async () => {
  const result = await build('groups');
  assert.is(text(result, '/_internal'), 'underscore');
});

groups('the root route is written as index', async () => {
  const result = await build('groups');
  assert.is(result.manifest.routes['/'].file, 'index');
  assert.is(text(result, '/'), 'root');
});

groups('a route.tsx with JSX compiles even when the project says "jsx": "preserve"', async () => {
  const result = await build('jsx');
  assert.is(text(result, '/badge.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="20"><text x="4" y="14">static</text></svg>');
  assert.is(result.manifest.routes['/badge.svg'].headers['content-type'], 'image/svg+xml');
});

groups.run();

const config = suite('segment config');

config("force-dynamic, revalidate = 0 and runtime = 'edge' are dynamic without running, with the line of the export", async () => {
  const { manifest } = await build('segment-config');
  assert.equal(manifest.dynamic['/force-dynamic'].reasons.map((r) => [r.kind, r.at]), [["dynamic = 'force-dynamic'", 'fixtures/segment-config/app/force-dynamic/route.ts:1:14']]);
  assert.is(manifest.dynamic['/revalidate-0'].reasons[0].kind, 'revalidate = 0');
  assert.is(manifest.dynamic['/edge'].reasons[0].kind, "runtime = 'edge'");
});

config('force-static: request data reads as empty and the route is written', async () => {
  const result = await build('segment-config');
  assert.equal(JSON.parse(text(result, '/force-static')), { agent: null, session: null, headerCount: 0, search: '', query: 0, url: 'http://localhost:3000/force-static' });
});

config("dynamic = 'error': touching request data is an error naming the API and line", async () => {
  const { manifest } = await build('segment-config');
  const error = manifest.errors['/error-mode'];
  assert.match(error.message, 'Route /error-mode with `dynamic = "error"` couldn\'t be rendered statically because it used `request.headers`');
  assert.is(error.at, 'fixtures/segment-config/app/error-mode/route.ts:4:25');
  assert.ok(manifest.routes['/error-mode-clean'], 'a clean route under dynamic = error is written');
});

config('revalidate = N is recorded; fetch next.revalidate lowers it; auto is static', async () => {
  const { manifest } = await build('segment-config');
  assert.is(manifest.routes['/revalidate-60'].revalidate, 60);
  assert.is(manifest.routes['/fetch-revalidate'].revalidate, 30);
  assert.is(manifest.routes['/auto'].revalidate, false);
});

config('invalid values are errors with the export line and the valid values', async () => {
  const { manifest } = await build('segment-config');
  assert.is(manifest.errors['/invalid-dynamic'].message, "Invalid segment config: `dynamic = 'sometimes'`.");
  assert.is(manifest.errors['/invalid-dynamic'].at, 'fixtures/segment-config/app/invalid-dynamic/route.ts:2:14');
  assert.match(manifest.errors['/invalid-dynamic'].hint!, "'force-static'");
  assert.is(manifest.errors['/invalid-revalidate'].message, 'Invalid segment config: `revalidate = -1`.');
});

config('a build with errors leaves no output folder', async () => {
  const result = await build('segment-config');
  assert.not.ok(result.written);
  assert.not.ok(existsSync(result.outDir));
  assert.ok(result.partialDir && existsSync(result.partialDir));
});

config.run();
