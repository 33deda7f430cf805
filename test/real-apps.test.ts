/**
 * What real App Router projects have and our own fixtures did not: the app's own next and React,
 * every next/* name, routes dynamic by config that only an edge runtime can compile, contentlayer's
 * .mjs output, MDX, assets beside routes, a next.config.ts that imports packages.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compileMdx } from '../src/bundle.js';
import { NEXT_EXPORTS } from '../src/next-exports.js';
import { __rpCacheScope } from '../src/sandbox/runtime/strict.js';
import { build, fixture, ROOT, tempDir, text } from './helpers.js';

const apps = suite('real apps');

apps("with next installed, React is its compiled copy under react-server, and what we do not instrument is the app's own", async () => {
  const result = await build('next-installed');
  assert.equal(result.manifest.errors, {});
  assert.equal(JSON.parse(text(result, '/jsx')), { react: 'next compiled react, react-server', jsx: 'next compiled react, react-server' });
  assert.equal(JSON.parse(text(result, '/names.json')), { pattern: '/posts/:id', rootParams: 'undefined' });
  assert.equal(JSON.parse(text(result, '/ws')), { WebSocket: 'function' });
});

apps('a React 18 app without next: react and its JSX runtime load (no react-server condition)', async () => {
  const result = await build('real-world');
  assert.equal(JSON.parse(text(result, '/cached')), { version: '18.3.1' });
});

apps('every name next/* exports in some version links; a name this version lacks is undefined, as under webpack', async () => {
  const result = await build('next-exports');
  const types = JSON.parse(text(result, '/names.json')) as Record<string, string>;
  assert.is(Object.keys(types).length, Object.values(NEXT_EXPORTS).flat().length);
  assert.is(types['next/server#NextResponse'], 'function');
  assert.is(types['next/server#ImageResponse'], 'function', 'the stand-in that says what to install');
  assert.is(types['next/navigation#useRouter'], 'undefined');
  assert.is(types['next/cache#unstable_revalidateTag'], 'undefined');
});

apps('a route dynamic by its segment config is never compiled: an edge route importing wasm is dynamic, not an error', async () => {
  const { manifest } = await build('next-exports');
  assert.equal(manifest.dynamic['/edge-og'].reasons.map((r) => [r.kind, r.at]), [["runtime = 'edge'", 'fixtures/next-exports/app/edge-og/route.tsx:5:14']]);
  assert.equal(manifest.errors, {});
});

apps("contentlayer's extensionless .mjs import, MDX, and an asset found through import.meta.url", async () => {
  const result = await build('real-world');
  assert.equal(JSON.parse(text(result, '/posts.json')), ['hello', 'world']);
  assert.equal(JSON.parse(text(result, '/docs.json')), { title: 'Intro', component: 'function' });
  assert.is(text(result, '/font'), 'font bytes\n');
});

apps('reading request.formData as a property is a touch of the body', async () => {
  const { manifest } = await build('real-world');
  assert.equal(manifest.dynamic['/form'].reasons.map((r) => [r.kind, r.at]), [['request.formData()', 'fixtures/real-world/app/form/route.ts:3:26']]);
});

apps('a failed fetch says why, and what to do about a file: URL', async () => {
  const { manifest } = await build('broken');
  const error = manifest.errors['/file-fetch'];
  assert.is(error.code, 'HANDLER_THREW');
  assert.match(error.message, 'fetch failed for file:');
  assert.match(error.message, 'read the file with node:fs instead');
  assert.is(error.at, 'fixtures/broken/app/file-fetch/route.ts:3:26');
});

apps('next.config.ts that imports a package, a relative TypeScript file and __dirname; nothing is left beside it', async () => {
  const result = await build('config-package');
  assert.equal(Object.keys(result.manifest.routes), ['/guide/info.json']);
  assert.equal(JSON.parse(text(result, '/guide/info.json')), { plugin: 'with-docs', dir: 'config-package' });
  assert.equal(readdirSync(fixture('config-package')).filter((name) => name.startsWith('.next.config')), []);
});

apps('MDX without a compiler in the app says what to install', async () => {
  const project = tempDir('no-mdx');
  const file = path.join(project, 'page.mdx');
  const root: string = project;
  writeFileSync(file, '# hi\n');
  // Outside the repository, no @mdx-js/mdx can be found from this project.
  const result = await compileMdx(file, root);
  assert.ok(!existsSync(path.join(project, 'node_modules')));
  assert.match(result.errors![0].text ?? '', 'install @mdx-js/mdx');
});

apps("a 'use cache' function called twice with the same arguments runs once and gives one value", async () => {
  let runs = 0;
  const body = async () => ({ run: ++runs });
  const first = await __rpCacheScope(body, 'lib/data.ts:10', ['a', 1]);
  const second = await __rpCacheScope(body, 'lib/data.ts:10', ['a', 1]);
  const other = await __rpCacheScope(body, 'lib/data.ts:10', ['b', 1]);
  assert.is(first, second);
  assert.equal(other, { run: 2 });
  assert.is(runs, 2);
});

apps('cacheComponents in next.config applies the Cache Components rules, and the report says so first', async () => {
  const result = await build('cache-components');
  assert.equal(result.manifest.dynamic['/rss.xml'].reasons.map((r) => r.kind), ['new Date()']);
  assert.is(result.rules[0], 'Rules: Next.js 16.4.3 (installed); the Cache Components rules, from cacheComponents in fixtures/cache-components/next.config.ts.');
  assert.equal(result.notOptedIn, []);
});

apps('with Next.js 15 and no Cache Components, static paths of routes that do not opt in are named', async () => {
  const result = await build('next15', { notRunTimeout: 0.5 });
  assert.equal(Object.keys(result.manifest.routes), ['/cached-fetch', '/opted-in', '/plain']);
  assert.equal(result.notOptedIn, ['/plain']);
  // A no-store fetch inside unstable_cache is cached with it under Next.js 15+ (14 keeps the route on a server).
  assert.equal([text(result, '/cached-fetch'), result.manifest.routes['/cached-fetch'].revalidate], ['hello', 120]);
  const { presentBuild } = await import('../src/output.js');
  const { report } = presentBuild(result, { format: 'text', json: false, quiet: false, allowDynamic: [], color: false }, { cwd: ROOT, host: 'none' });
  assert.match(report, 'would not prerender one of these static paths (/plain)');
  assert.ok(report.startsWith('Rules: Next.js 15.2.0 (installed); every GET runs'));
  // A GET that next build would not run, and that fails here, stays on a server; an opted-in one fails the build, as there.
  const [reason] = result.manifest.dynamic['/out-of-reach'].reasons;
  assert.equal([reason.kind, reason.at], ['failed at build', 'fixtures/next15/app/out-of-reach/route.ts:4:9']);
  assert.match(reason.message, /^connect ECONNREFUSED 127\.0\.0\.1:5432\. Next\.js 15 and later do not run this GET at build/);
  // One that waits forever has a limit of its own (notRunTimeout; 10 s unless --timeout is given).
  const [hangs] = result.manifest.dynamic['/hangs'].reasons;
  assert.is(hangs.kind, 'failed at build');
  assert.match(hangs.message, /^The route timed out after 0\.5 s \(the limit of a GET that Next\.js 15 and later would not run at build; --timeout sets it\)\. Next\.js 15 and later/);
  assert.equal(Object.keys(result.manifest.errors), ['/[lang]/pinned/[slug]', '/computed-config', '/opted-in-broken', '/pinned-files/[[...path]]']);
  // Segment config Next.js 15+ cannot read from the source fails next build there.
  const computed = result.manifest.errors['/computed-config'];
  assert.equal([computed.code, computed.at], ['SEGMENT_CONFIG_INVALID', 'fixtures/next15/app/computed-config/route.ts:3:14']);
  assert.match(computed.message, 'Next.js 15 and later cannot read `revalidate = 60 * 60` from the source');
  assert.is(result.manifest.errors['/opted-in-broken'].code, 'HANDLER_THREW');
  assert.is(result.manifest.errors['/[lang]/pinned/[slug]'].code, 'PARAMS_INVALID', 'with dynamicParams = false, a param left out fails the build');
  // Entries without a param: no path prerendered, as Next.js 15+ does (Next.js 14 fails the build).
  const [incomplete] = result.manifest.dynamic['/[lang]/docs/[slug]'].reasons;
  assert.equal([incomplete.kind, incomplete.at], ['generateStaticParams() incomplete', 'fixtures/next15/app/[lang]/docs/[slug]/route.ts:3:17']);
  assert.match(incomplete.message, 'generateStaticParams leaves `lang` out of an entry, so Next.js 15 and later prerender no path of /[lang]/docs/[slug]');
  // `{}` under [[...path]] leaves the param out too (`{ path: [] }` is the bare path).
  const [files] = result.manifest.dynamic['/files/[[...path]]'].reasons;
  assert.equal([files.kind, files.at], ['generateStaticParams() incomplete', 'fixtures/next15/app/files/[[...path]]/route.ts:5:17']);
  assert.match(files.message, 'generateStaticParams leaves `path` out of an entry, so Next.js 15 and later prerender no path of /files/[[...path]]');
  assert.match(result.manifest.errors['/pinned-files/[[...path]]'].message, 'exports dynamicParams = false: Next.js 15 and later fail the build');
});

apps("output: 'export' fails the routes next build fails for: request-time data, force-dynamic, no generateStaticParams, not opted in (15+)", async () => {
  const result = await build('static-export');
  assert.is(result.written, false, 'a failed export leaves the output as it was');
  assert.equal(Object.keys(result.manifest.routes), ['/feed.json', '/tags/news', '/tags/notes']);
  assert.equal(Object.keys(result.manifest.dynamic), ['/api/subscribe'], 'a route without GET is left out, as Next.js leaves it out');
  const errors = result.manifest.errors;
  assert.equal(Object.keys(errors), ['/api/live', '/api/me', '/plain.txt', '/posts/[slug]']);
  for (const error of Object.values(errors)) assert.is(error.code, 'NOT_EXPORTABLE');
  assert.match(errors['/api/me'].message, "next.config.mjs sets output: 'export', which writes static files only, and this route needs a server: headers() reads the request headers.");
  assert.is(errors['/api/me'].at, 'fixtures/static-export/app/api/me/route.ts:6:24');
  assert.match(errors['/plain.txt'].hint!, "add `export const dynamic = 'force-static'` to the route");
  assert.match(result.rules[0], "output: 'export' in fixtures/static-export/next.config.mjs, so every route must be static");
  assert.equal(result.notOptedIn, []);
});

apps.run();
