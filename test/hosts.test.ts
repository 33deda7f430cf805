/** Host configuration from a real build of the hosting fixture. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { guessType, hostFiles, loadTypes, requestPathOf } from '../src/hosts.js';
import { prerender } from '../src/index.js';
import { build, fixture, ROOT, tempDir } from './helpers.js';

const hosts = suite('hosts');

hosts('a static host guesses types from names; extensionless files are octet-stream', async () => {
  await loadTypes();
  assert.is(guessType('feed.json'), 'application/json');
  assert.is(guessType('rss.xml'), 'application/xml');
  assert.is(guessType('api/posts'), 'application/octet-stream');
  assert.is(guessType('v1.2/data'), 'application/octet-stream');
});

hosts('request paths are encoded as a browser sends them, % included', () => {
  assert.is(requestPathOf('/p/b c'), '/p/b%20c');
  assert.is(requestPathOf('/p/über'), '/p/%C3%BCber');
  assert.is(requestPathOf('/p/a%23b'), '/p/a%23b');
  assert.is(requestPathOf('/p/100%'), '/p/100%25');
  assert.is(requestPathOf('/'), '/');
});

hosts('none writes no host files and keeps the root as index', async () => {
  const { manifest } = await build('hosting');
  assert.equal(await hostFiles(manifest, 'none'), []);
  assert.is(manifest.routes['/'].file, 'index');
});

hosts('netlify: headers only where the guess is wrong or caching applies; rewrites and redirects', async () => {
  const { manifest, outDir } = await build('hosting', { host: 'netlify' });
  const headers = readFileSync(path.join(outDir, '_headers'), 'utf8');
  const redirects = readFileSync(path.join(outDir, '_redirects'), 'utf8');
  assert.match(headers, '/api/posts\n  Content-Type: application/json\n');
  assert.match(headers, '/rss.xml\n  Content-Type: application/rss+xml\n');
  assert.match(headers, '/cached\n  Content-Type: application/json\n  Cache-Control: s-maxage=60, stale-while-revalidate\n');
  assert.not.match(headers, '/feed.json', 'feed.json is already served as JSON');
  assert.not.match(headers, '/logo.png');
  assert.equal(redirects.trim().split('\n'), ['/away https://example.com/elsewhere 307', '/moved /feed.json 308', '/old /rss.xml 307', '/api/posts /api/posts/index 200', '/docs/guide /docs/guide/index 200']);
  assert.is(manifest.routes['/'].file, 'index.html');
  assert.is(readFileSync(path.join(outDir, 'index.html'), 'utf8'), 'home');
});

hosts('cloudflare also writes a 404.html, so unknown paths are not answered with the root', async () => {
  const { outDir } = await build('hosting', { host: 'cloudflare' });
  assert.is(readFileSync(path.join(outDir, '404.html'), 'utf8'), 'Not Found\n');
});

hosts('vercel: Build Output API v3, bodies under static/, overrides for type and path, routes for redirects and cache', async () => {
  const { manifest, outDir } = await build('hosting', { host: 'vercel' });
  const config = JSON.parse(readFileSync(path.join(outDir, 'config.json'), 'utf8'));
  assert.is(config.version, 3);
  assert.is(manifest.routes['/api/posts'].file, 'static/api/posts/index');
  assert.equal(config.overrides['api/posts/index'], { path: 'api/posts', contentType: 'application/json' });
  assert.equal(config.overrides['index.html'], { path: '', contentType: 'text/plain; charset=utf-8' });
  assert.not.ok(config.overrides['feed.json']);
  assert.equal(config.routes[0], { src: '^\\/away$', status: 307, headers: { Location: 'https://example.com/elsewhere' } });
  assert.ok(config.routes.some((r: { src?: string; headers?: Record<string, string> }) => r.src === '^\\/cached$' && r.headers?.['cache-control'] === 's-maxage=60, stale-while-revalidate'));
  assert.equal(config.routes.at(-1), { handle: 'filesystem' });
  assert.is(readFileSync(path.join(outDir, 'static/feed.json'), 'utf8'), '{"items":[1,2,3]}');
});

hosts('s3: one object per key, with type, cache-control and website redirects', async () => {
  const { outDir } = await build('hosting', { host: 's3' });
  const objects = JSON.parse(readFileSync(path.join(outDir, 's3-upload.json'), 'utf8'));
  const byKey = new Map(objects.map((o: { key: string }) => [o.key, o]));
  assert.equal(byKey.get('api/posts'), { key: 'api/posts', file: 'api/posts/index', contentType: 'application/json', cacheControl: null, redirect: null });
  assert.equal(byKey.get('index.html'), { key: 'index.html', file: 'index.html', contentType: 'text/plain; charset=utf-8', cacheControl: null, redirect: null });
  assert.equal(byKey.get('old'), { key: 'old', file: null, contentType: null, cacheControl: null, redirect: '/rss.xml' });
  assert.equal(byKey.get('p/a#b'), { key: 'p/a#b', file: 'p/a#b', contentType: 'text/plain; charset=utf-8', cacheControl: null, redirect: null });
  assert.is((byKey.get('cached') as { cacheControl: string }).cacheControl, 's-maxage=60, stale-while-revalidate');
  assert.equal(objects.map((o: { key: string }) => o.key), [...objects.map((o: { key: string }) => o.key)].sort());
});

hosts('only the site is deployed: for netlify and cloudflare the manifest is kept beside the folder, and no marker is in it', async () => {
  for (const host of ['cloudflare', 'netlify'] as const) {
    const result = await build('hosting', { host });
    assert.is(result.manifestPath, `${result.outDir}.prerender-manifest.json`);
    assert.ok(existsSync(result.manifestPath));
    const deployed = readdirSync(result.outDir);
    assert.not.ok(deployed.includes('prerender-manifest.json'), host);
    assert.not.ok(deployed.some((name) => name.includes('route-prerender')), host);
    // The next build knows the folder as its own.
    const again = await prerender({ appDir: fixture('hosting'), out: result.outDir, host, cwd: ROOT });
    assert.ok(again.written);
  }
  const elsewhere = tempDir('elsewhere');
  const result = await prerender({ appDir: fixture('groups'), out: path.join(elsewhere, 'dist'), manifest: path.join(elsewhere, 'reports/m.json'), cwd: ROOT });
  assert.equal(readdirSync(result.outDir).filter((name) => name.startsWith('.')), []);
  assert.ok(existsSync(path.join(elsewhere, '.dist.route-prerender')));
});

hosts('a route that would overwrite a host file is a conflict, found from the host alone', async () => {
  const { assignPaths } = await import('../src/assign.js');
  const { AssignedPath } = await import('../src/plan.js');
  const route = { file: '/app/_headers/route.ts', pattern: '/_headers', srcRoute: '/_headers', segments: [] };
  const plan = () => ({ route, entry: '', optedIn: true, config: { dynamic: 'auto' as const, revalidate: false as const, dynamicParams: true, runtime: 'nodejs' as const }, logs: [], paths: [new AssignedPath('/_headers', {}), new AssignedPath('/a', {})] });
  const netlify = assignPaths([plan()], { host: 'netlify', reserved: ['prerender-manifest.json'], cwd: '/' });
  assert.equal(netlify.errors.map((e) => [e.path, e.code]), [['/_headers', 'PATH_CONFLICT']]);
  assert.match(netlify.errors[0].message, 'would overwrite _headers');
  assert.equal(netlify.paths.map((p) => p.file), ['a']);
  const none = assignPaths([plan()], { host: 'none', reserved: ['prerender-manifest.json'], cwd: '/' });
  assert.equal(none.errors, []);
  const vercel = assignPaths([plan()], { host: 'vercel', reserved: ['prerender-manifest.json'], cwd: '/' });
  assert.equal(vercel.paths.map((p) => p.file), ['static/_headers', 'static/a']);
});

hosts.run();
