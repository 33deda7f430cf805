/**
 * Guarantees under hostile input: output never escapes the output folder, URL path, file and
 * manifest entry round-trip, nothing is overwritten silently, and the output is deterministic.
 */
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkValue, pathFromParams } from '../src/params.js';
import { prerender } from '../src/index.js';
import { build, fixture, ROOT, tempDir, tree } from './helpers.js';


const determinism = suite('determinism');

determinism('builds at concurrency 1, 2 and 8 are byte-identical, whatever order handlers finish in', async () => {
  for (const app of ['shuffle', 'blog', 'shared-state', 'real-world']) {
    const trees = [];
    for (const concurrency of [1, 2, 8]) {
      // At 2, the build the other tests share (made once per process).
      const result = concurrency === 2 ? await build(app) : await prerender({ appDir: fixture(app), out: path.join(tempDir('det'), 'dist'), cwd: ROOT, concurrency });
      assert.ok(result.written);
      trees.push(tree(result.outDir));
    }
    assert.ok(Object.keys(trees[0]).length > 2, app);
    assert.equal(trees[1], trees[0], `${app} at concurrency 2`);
    assert.equal(trees[2], trees[0], `${app} at concurrency 8`);
  }
});

determinism.run();

// A small seeded generator, so a failure can be replayed.
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['..', '.', '/', '\\', '%2e%2e', '%2F', '#', '?', '%', '%23', '&', '=', '+', ' ', ':', '@', '*', '|', '<', '>', '"', "'", '\u0000', '\n', '\t', '\u007f',
  'caf\u00e9', 'cafe\u0301', '\ud83d\ude00', '\ud800', 'CON', 'index', 'Index', 'A', 'a', '~', '$', '[', ']', '(', ')', '..%2F', '\u202e', '\ufeff', 'ß', 'İ'];

function hostileValue(next: () => number): string {
  let value = '';
  const parts = 1 + Math.floor(next() * 5);
  for (let i = 0; i < parts; i++) {
    const roll = next();
    if (roll < 0.5) value += PIECES[Math.floor(next() * PIECES.length)];
    else if (roll < 0.85) value += String.fromCodePoint(0x20 + Math.floor(next() * 0x2fff));
    else value += 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(1 + Math.floor(next() * 9)).slice(0, 40 + Math.floor(next() * 240));
  }
  return value;
}

const fuzz = suite('fuzz');

fuzz('thousands of hostile param values: files stay inside the output, paths round-trip, every value is accounted for', async () => {
  const next = random(Number(process.env.FUZZ_SEED ?? 20261121));
  const values = Array.from({ length: 3000 }, () => hostileValue(next));
  const accepted = [...new Set(values.filter((v) => checkValue(v) === null))];
  const rejected = values.filter((v) => checkValue(v) !== null);
  assert.ok(accepted.length > 500 && rejected.length > 500, `${accepted.length} accepted, ${rejected.length} rejected`);

  // A real app on disk: one route takes every accepted value, a catch-all takes them in pairs,
  // and one route per sampled rejected value.
  const project = tempDir('fuzz');
  const handler = `export async function GET(request, { params }) {
  return Response.json({ params: await params, pathname: request.nextUrl.pathname });
}`;
  const route = (folder: string, list: unknown[]) => {
    mkdirSync(path.join(project, 'app', folder), { recursive: true });
    writeFileSync(path.join(project, 'app', folder, 'route.js'), `export const generateStaticParams = () => ${JSON.stringify(list)};\n${handler}\n`);
  };
  writeFileSync(path.join(project, 'package.json'), '{ "name": "fuzz" }');
  route('one/[value]', accepted.map((value) => ({ value })));
  const pairs = accepted.slice(0, 400).map((v, i) => ({ parts: [v, accepted[(i * 7 + 3) % accepted.length]] }));
  route('many/[...parts]', pairs);
  const sample = rejected.filter((_, i) => i % Math.ceil(rejected.length / 40) === 0);
  sample.forEach((value, i) => route(`bad-${i}/[value]`, [{ value: 'fine' }, { value }]));

  const out = path.join(tempDir('fuzz-out'), 'dist');
  const result = await prerender({ appDir: path.join(project, 'app'), out, cwd: ROOT, keepPartial: true });
  const written = result.partialDir ?? result.outDir;
  const root = realpathSync(written);

  // Every file on disk is inside the output folder and is a manifest entry's file.
  const onDisk = Object.keys(tree(written)).filter((f) => f !== 'prerender-manifest.json' && f !== '.route-prerender');
  const manifestFiles = new Set(Object.values(result.manifest.routes).map((r) => r.file));
  for (const file of onDisk) {
    assert.ok(realpathSync(path.join(written, file)).startsWith(root + path.sep), file);
    assert.ok(manifestFiles.has(file), `${JSON.stringify(file)} on disk but not in the manifest`);
  }

  // Each static entry round-trips: key ↔ params ↔ the pathname the handler saw ↔ the file's bytes.
  for (const [key, entry] of Object.entries(result.manifest.routes)) {
    if (entry.file === null || entry.srcRoute.startsWith('/bad-')) continue;
    const body = JSON.parse(readFileSync(path.join(written, entry.file), 'utf8'));
    const segments = entry.srcRoute === '/one/[value]'
      ? [{ type: 'static' as const, value: 'one' }, { type: 'dynamic' as const, name: 'value' }]
      : [{ type: 'static' as const, value: 'many' }, { type: 'catchall' as const, name: 'parts' }];
    assert.is(pathFromParams(segments, body.params), key);
    const decoded = body.pathname.split('/').slice(2).map(decodeURIComponent);
    assert.equal(decoded, entry.srcRoute === '/one/[value]' ? [body.params.value] : body.params.parts);
    const decodedKey = key.slice(1).replace(/%23/g, '#').replace(/%3F/g, '?');
    assert.ok(entry.file === decodedKey || entry.file === `${decodedKey}/index`, `${key} → ${entry.file}`);
  }

  // Every accepted value is either written or an error that says why (a shared file, a clash).
  for (const value of accepted) {
    const key = pathFromParams([{ type: 'static', value: 'one' }, { type: 'dynamic', name: 'value' }], { value });
    const error = result.manifest.errors[key];
    assert.ok(result.manifest.routes[key] || (error && /would overwrite|give the same path/.test(error.message)), `${JSON.stringify(value)} is unaccounted for`);
  }

  // Every sampled rejected value is an error for its own path that names the rule; the route's
  // other path is still built.
  sample.forEach((value, i) => {
    const errors = Object.entries(result.manifest.errors).filter(([, e]) => e.srcRoute === `/bad-${i}/[value]`);
    assert.is(errors.length, 1, `bad-${i}`);
    assert.is(errors[0][1].code, 'PARAMS_INVALID');
    assert.match(errors[0][1].message, 'entry [1]');
    assert.match(errors[0][1].message, checkValue(value)!);
    assert.ok(result.manifest.routes[`/bad-${i}/fine`], `bad-${i}/fine is built`);
  });
});

fuzz.run();
