/** --strict: the Cache Components rules of Next.js 16, on top of the default ones. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readCache } from '../src/cache.js';
import { findCacheBodies, transformUseCache } from '../src/use-cache.js';
import { build, ROOT, tempDir } from './helpers.js';

const strict = suite('--strict');

strict('by default, non-deterministic work is allowed and its build-time value frozen, as in Next.js 14', async () => {
  const result = await build('strict');
  assert.is(Object.keys(result.manifest.routes).length, 16);
  assert.equal(result.manifest.dynamic, {});
  // Each is a per-build variation all the same: an incremental build runs it again.
  const variation = (key: string) => readCache(result.outDir)!.paths[key]?.inputs.variation?.map((v) => v.kind);
  assert.equal(variation('/date-call'), ['Date()']);
  assert.equal(variation('/random-bytes'), ['crypto.randomBytes()']);
  assert.equal(variation('/random-bytes-callback'), ['crypto.randomBytes()'], 'the callback form too');
});

strict('with --strict, each non-deterministic or uncached use makes its path dynamic, at its line', async () => {
  const { manifest } = await build('strict', { strict: true });
  const kinds = Object.fromEntries(Object.entries(manifest.dynamic).map(([key, d]) => [key, d.reasons.map((r) => `${r.kind} @ ${r.at}`)]));
  assert.equal(kinds, {
    '/date-call': ['Date() @ fixtures/strict/app/date-call/route.ts:3:23'],
    '/random-bytes': ['crypto.randomBytes() @ fixtures/strict/app/random-bytes/route.ts:4:33'],
    '/random-bytes-callback': ['crypto.randomBytes() @ fixtures/strict/app/random-bytes-callback/route.ts:6:5'],
    '/new-date': ['new Date() @ fixtures/strict/app/new-date/route.ts:2:30'],
    '/now': ['Date.now() @ fixtures/strict/app/now/route.ts:2:35'],
    '/random': ['Math.random() @ fixtures/strict/app/random/route.ts:2:38'],
    '/timer': ['setTimeout @ fixtures/strict/app/timer/route.ts:2:34'],
    '/uncached-fetch': ['fetch() without cache @ fixtures/strict/app/uncached-fetch/route.ts:2:26'],
    '/uuid': ['crypto.randomUUID() @ fixtures/strict/app/uuid/route.ts:4:30'],
    '/web-crypto': ['crypto.randomUUID() @ fixtures/strict/app/web-crypto/route.ts:2:37'],
  });
});

strict("work inside 'use cache' or unstable_cache, cached fetches, fixed dates and performance.now() (as in Next.js 16.4) stay static", async () => {
  const { manifest } = await build('strict', { strict: true });
  assert.equal(Object.keys(manifest.routes), ['/cached-fetch', '/fixed-date', '/performance-now', '/plain', '/unstable-cache', '/use-cache']);
});

strict("the 'use cache' transform wraps function bodies without adding lines", () => {
  const source = "export async function a(x) {\n  'use cache';\n  const t = `${x} } { ${ { b: 1 }.b }`;\n  if (/}/.test(t)) return Date.now();\n  return t;\n}\nconst b = async () => { \"use cache\"\n  return 1 };\nfunction c() { return 'use cache'; }\nconst d = { 'use cache': 1 };\n";
  const out = transformUseCache(source)!;
  assert.is(out.split('\n').length, source.split('\n').length);
  assert.is(findCacheBodies(source).length, 2);
  assert.match(out, "export async function a(x) { return __rpCacheScope(async () => {\n  'use cache';");
  assert.match(out, "const b = async () => { return __rpCacheScope(async () => { \"use cache\"\n  return 1 });};");
  assert.match(out, "function c() { return 'use cache'; }");
  assert.match(out, "const d = { 'use cache': 1 };");
  assert.is(transformUseCache('const x = 1;'), undefined);
});

strict('workers that cannot start end the build with a clear error instead of being replaced forever', () => {
  const preload = path.join(tempDir('preload'), 'refuse-workers.mjs');
  writeFileSync(preload, "import { isMainThread } from 'node:worker_threads';\nif (!isMainThread) throw new Error('this preload refuses worker threads');\n");
  const child = spawnSync(process.execPath, ['--import', preload, path.join(ROOT, 'out/cli.js'), 'fixtures/groups/app', '--out', path.join(tempDir('preload'), 'dist')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.is(child.status, 1);
  assert.match(child.stdout, 'A worker thread could not start');
  assert.match(child.stdout, 'this preload refuses worker threads');
});

strict.run();
