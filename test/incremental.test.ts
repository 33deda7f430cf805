/**
 * What every path read, and what an incremental build does with it: the real pipeline on
 * fixtures/incremental (posts read from disk, an environment variable, a shared module, a route
 * that reads the clock, routes that read the network from a loopback server).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, cpSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cachePath, Digests, planReuse, readCache, type BuildCache } from '../src/cache.js';
import { lookAgain } from '../src/look.js';
import { bundleSettings } from '../src/bundle.js';
import { explainPath, formatExplanation, mergeShards, prerender, presentBuild, exitCodeFor, readManifest, type Logger, type PrerenderResult } from '../src/index.js';
import { bestMatch } from '../src/explain.js';
import { buildProject, fixture, ROOT, tempDir, tree, writeFiles } from './helpers.js';

const CLI = path.join(ROOT, 'out/cli.js');

/** A copy of the fixture to edit, with two output folders: incremental and full. */
function project(): { dir: string; build: (incremental: boolean, out?: string, logger?: Logger) => Promise<PrerenderResult> } {
  const dir = path.join(tempDir('incremental'), 'site');
  cpSync(fixture('incremental'), dir, { recursive: true });
  ageFiles(dir);
  return {
    dir,
    build: (incremental, out = 'dist', logger) => prerender({ appDir: path.join(dir, 'app'), out: path.join(dir, out), cwd: dir, concurrency: 2, incremental, ...(logger ? { logger } : {}) }),
  };
}

/** Runs `work` with environment variables set for route code, then puts them back. */
async function withEnv<T>(values: Record<string, string | undefined>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const set = (entries: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  set(values);
  try {
    return await work();
  } finally {
    set(saved);
  }
}

/**
 * The incremental output and a fresh full build of the same sources: the same files, the same
 * bytes; and build caches that record the same digests and stamps (an incremental build writes the
 * previous cache's tables again, but for what changed: see `Recorder.finish`).
 */
function assertSameAsFull(incremental: PrerenderResult, full: PrerenderResult, label: string): void {
  assert.equal(tree(incremental.outDir), tree(full.outDir), `${label}: the files and their bytes`);
  assert.is(readFileSync(incremental.manifestPath, 'utf8'), readFileSync(full.manifestPath, 'utf8'), `${label}: the manifest`);
  const [mine, theirs] = [readCache(incremental.outDir)!, readCache(full.outDir)!];
  const sorted = (table: Record<string, string> = {}) => Object.fromEntries(Object.entries(table).sort(([a], [b]) => (a < b ? -1 : 1)));
  assert.equal(sorted(mine.digests), sorted(theirs.digests), `${label}: the cache's digests`);
  assert.equal(sorted(mine.stamps), sorted(theirs.stamps), `${label}: the cache's stamps`);
}

/** Sets the times of every file under `dir` an hour back: a build then trusts their stamps (a file changed within two seconds of a build's end is read again). */
function ageFiles(dir: string): void {
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) utimesSync(path.join(entry.parentPath, entry.name), hourAgo, hourAgo);
}

const record = suite('what each path read');

record('files, folders, environment variables and the clock, each with the place that read it', async () => {
  const site = project();
  const result = await site.build(false);
  const cache = readCache(result.outDir)!;
  assert.ok(cache, 'a build cache beside the output');
  assert.is(result.cachePath, cachePath(result.outDir));
  assert.is(path.dirname(cache ? result.cachePath! : ''), path.dirname(result.outDir), 'beside the output folder, not in it');
  assert.equal(cache.paths['/posts/post-1'].inputs, { files: [{ id: 'file:content/posts/post-1.md', at: 'lib/posts.ts:13' }] });
  assert.equal(cache.routes['app/posts/[slug]/route.ts'].inputs, { files: [{ id: 'dir:content/posts', at: 'lib/posts.ts:9' }] });
  assert.equal(cache.paths['/feed.json'].inputs.files?.map((f) => f.id), ['dir:content/posts', 'file:content/posts/post-1.md', 'file:content/posts/post-2.md', 'file:content/posts/post-3.md']);
  assert.equal(cache.paths['/site.json'].inputs, { env: [{ name: 'SITE_NAME', at: 'app/site.json/route.ts:2' }] });
  assert.equal(cache.paths['/stamp.txt'].inputs.variation, [{ kind: 'Date.now()', at: 'app/stamp.txt/route.ts:2' }]);
  assert.ok(cache.paths['/stamp.txt'].builtAt! > 0);
  // The compiled modules and their maps are the tool's, never a route's input.
  assert.not.match(JSON.stringify(cache), 'route-prerender-');
  assert.is(cache.digests['env:SITE_NAME'], 'unset');
  assert.ok(!(cachePath(result.outDir).startsWith(result.outDir + path.sep)));
});

record('planReuse: each cause, from a cache and a manifest', () => {
  const root = tempDir('reuse');
  writeFileSync(path.join(root, 'a.md'), 'A');
  const digests = new Digests(root, { NAME: 'x' });
  const route = { file: path.join(root, 'app/[slug]/route.ts'), pattern: '/[slug]', srcRoute: '/[slug]', segments: [] };
  const entry = { srcRoute: '/[slug]', source: 'app/[slug]/route.ts', file: 'a', status: 200, headers: {}, revalidate: false as const, size: 1, sha256: 'x' };
  const cache: BuildCache = {
    version: 1, settings: 's', project: '.', builtAt: 0, staticPaths: 3,
    digests: { 'file:a.md': digests.of('file:a.md'), 'env:NAME': 'old' },
    global: {},
    routes: { 'app/[slug]/route.ts': { code: 'c' } },
    paths: { '/a': { inputs: { files: [{ id: 'file:a.md' }] } }, '/b': { inputs: { env: [{ name: 'NAME' }] } }, '/c': { inputs: { fetches: [{ method: 'GET', url: 'https://x.test/' }] }, builtAt: 1000 } },
  };
  const manifest = { version: 1 as const, routes: { '/a': entry, '/b': entry, '/c': { ...entry, revalidate: 60 } }, dynamic: {}, errors: {} };
  const plan = planReuse({ cache, manifest }, { settings: 's', digests, cwd: root, now: 2000 });
  assert.is(plan.none, undefined);
  assert.ok('entry' in plan.check('/a', route, 'c'), 'unchanged: reused');
  assert.equal(plan.check('/a', route, 'other'), { cause: 'the code of app/[slug]/route.ts or of a module it imports changed' });
  assert.equal(plan.check('/b', route, 'c'), { cause: '$NAME changed' });
  assert.ok('entry' in plan.check('/c', route, 'c'), 'a fetch of a route revalidating every 60 s, built 1 s ago: reused');
  const later = planReuse({ cache, manifest }, { settings: 's', digests, cwd: root, now: 120_000 });
  assert.equal(later.check('/c', route, 'c'), { cause: 'reads the network (fetch https://x.test/)' });
  assert.equal(plan.check('/d', route, 'c'), { cause: 'it is new' });
  assert.match(planReuse({ cache, manifest }, { settings: 'other', digests, cwd: root }).none ?? '', 'settings changed');
  assert.match(planReuse({ manifest }, { settings: 's', digests, cwd: root }).none ?? '', 'no build cache');
});

record("a worker's look at the previous build's files finds exactly those whose stamp changed, or are too recent to trust", async () => {
  const site = project();
  // Files last written an hour ago: their stamps are trusted.
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const name of readdirSync(path.join(site.dir, 'content/posts'))) utimesSync(path.join(site.dir, 'content/posts', name), hourAgo, hourAgo);
  const first = await site.build(false);
  const unchanged = lookAgain(first.outDir, site.dir)!;
  assert.equal(unchanged.changed.filter((id) => id.startsWith('file:content/')), [], 'nothing changed');
  assert.is(unchanged.builtAt, readCache(first.outDir)!.builtAt);
  assert.is(unchanged.root, site.dir);
  // One post edited, then given an old time again (the stamp still differs: size and time); one removed.
  const post1 = path.join(site.dir, 'content/posts/post-1.md');
  appendFileSync(post1, 'More.\n');
  utimesSync(post1, new Date(Date.now() - 7_200_000), new Date(Date.now() - 7_200_000));
  rmSync(path.join(site.dir, 'content/posts/post-3.md'));
  const looked = lookAgain(first.outDir, site.dir)!;
  assert.equal(looked.changed.filter((id) => id.startsWith('file:content/')).sort(), ['file:content/posts/post-1.md', 'file:content/posts/post-3.md']);
  // The build thread takes the others' recorded digests, and takes the changed ones itself.
  const cache = readCache(first.outDir)!;
  const digests = new Digests(site.dir, {});
  digests.adoptUnchanged(cache, looked.changed);
  assert.is(digests.of('file:content/posts/post-2.md'), cache.digests['file:content/posts/post-2.md']);
  assert.is.not(digests.of('file:content/posts/post-1.md'), cache.digests['file:content/posts/post-1.md']);
  assert.is(digests.of('file:content/posts/post-3.md'), 'absent');
  assert.is(lookAgain(path.join(site.dir, 'nowhere'), site.dir), undefined, 'no cache, no look');
});

record('the compiled modules are keyed by the tool modules that generate code, each found by its digest', () => {
  const { tool } = JSON.parse(bundleSettings([], ROOT)) as { tool: string[] };
  assert.is(tool.length, 4);
  for (const digest of tool) assert.match(digest, /^[0-9a-f]{64}$/, 'a module that moved or was renamed would no longer count');
});

record('a relative path read while the process runs in another folder is recorded as the file read there', async () => {
  // prerender() leaves the process's folder as it is: Node.js resolves the route's relative path
  // from it, so that is the file read, and the one whose changes count.
  const dir = path.join(tempDir('relative-read'), 'site');
  writeFiles(dir, {
    'package.json': '{ "name": "site", "private": true }\n',
    'notes.txt': 'in the project\n',
    'app/notes.txt/route.ts': "import { readFileSync } from 'node:fs';\nexport const GET = () => new Response(readFileSync('notes.txt', 'utf8'));\n",
  });
  const elsewhere = tempDir('relative-folder');
  writeFileSync(path.join(elsewhere, 'notes.txt'), 'in the process folder\n');
  const back = process.cwd();
  process.chdir(elsewhere);
  try {
    const result = await buildProject(dir);
    assert.is(readFileSync(path.join(result.outDir, 'notes.txt'), 'utf8'), 'in the process folder\n');
    assert.equal(readCache(result.outDir)!.paths['/notes.txt'].inputs.files?.map((f) => f.id), [`file:${path.join(elsewhere, 'notes.txt')}`]);
  } finally {
    process.chdir(back);
  }
});

record.run();

const incremental = suite('--incremental');

incremental('each kind of change reruns exactly the paths that read it; the output equals a full build', async () => {
  const site = project();
  await site.build(false);
  const post2 = path.join(site.dir, 'content/posts/post-2.md');

  const same = await site.build(true);
  assert.equal(same.incremental, { rebuilt: 1, reused: 8, compiled: false, analysesReused: 7, causes: [{ cause: 'uses Date.now(), which differs on every build', count: 1, examples: ['/stamp.txt'] }] }, 'nothing changed: only the path that reads the clock runs, nothing is compiled, and every route is planned from the cache');
  assert.ok(same.results.filter((r) => r.type === 'static' && r.reused).length === 8);

  const everyPost = ['/feed.json', '/posts/post-1', '/posts/post-2', '/posts/post-3', '/stamp.txt'];
  // `planned`: how many of the 7 routes were planned from the cache (generateStaticParams not run again).
  const steps: Array<{ label: string; edit: () => void; env?: Record<string, string>; rebuilt: string[]; compiled: boolean; planned?: number }> = [
    { label: 'a content file', edit: () => appendFileSync(post2, 'More.\n'), rebuilt: ['/feed.json', '/posts/post-2', '/stamp.txt'], compiled: false, planned: 7 },
    { label: 'an environment variable', edit: () => undefined, env: { SITE_NAME: 'Changed' }, rebuilt: ['/site.json', '/stamp.txt'], compiled: false },
    { label: 'a shared helper module', edit: () => appendFileSync(path.join(site.dir, 'lib/format.ts'), 'export const unused = 1;\n'), rebuilt: everyPost, compiled: true },
    // `./format` now finds format.js first (Next.js's order of extensions): no compiled file changed, the folder did.
    { label: 'a module that takes an import\'s place', edit: () => writeFileSync(path.join(site.dir, 'lib/format.js'), 'export function render(text) {\n  return `<div>${text.trim()}</div>`;\n}\n'), rebuilt: everyPost, compiled: true },
    { label: 'a param added', edit: () => writeFileSync(path.join(site.dir, 'content/posts/post-4.md'), '---\ntitle: Post 4\n---\nFour.\n'), rebuilt: ['/feed.json', '/posts/post-4', '/stamp.txt'], compiled: false, planned: 6 },
    { label: 'a param removed', edit: () => rmSync(path.join(site.dir, 'content/posts/post-1.md')), rebuilt: ['/feed.json', '/stamp.txt'], compiled: false },
    // /site.json becomes a folder's index: its unchanged bytes move from site.json to site.json/index.
    { label: 'a route under a path that had a file', edit: () => writeFiles(site.dir, { 'app/site.json/extra/route.ts': "export const GET = () => new Response('extra');\n" }), rebuilt: ['/site.json/extra', '/stamp.txt'], compiled: true },
  ];
  let env: Record<string, string> = {};
  for (const step of steps) {
    step.edit();
    env = { ...env, ...step.env };
    // Side by side: the incremental build starts first, and takes the worker that looks at its previous files.
    const [next, full] = await withEnv(env, () => Promise.all([site.build(true), site.build(false, 'full')]));
    const rebuilt = next.results.filter((r) => r.type === 'static' && !r.reused).map((r) => r.path).sort();
    assert.equal(rebuilt, step.rebuilt, `${step.label}: the paths run again`);
    assert.is(next.incremental!.rebuilt, step.rebuilt.length);
    assert.is(next.incremental!.compiled, step.compiled, `${step.label}: whether the modules were compiled`);
    if (step.planned !== undefined) assert.is(next.incremental!.analysesReused, step.planned, `${step.label}: the routes planned from the cache`);
    assertSameAsFull(next, full, step.label);
  }
  assert.not.ok('/posts/post-1' in readManifest(path.join(site.dir, 'dist/prerender-manifest.json')).routes, 'the removed param is gone');
});

incremental('reads through a descriptor or a FileHandle, and whether a variable is set, are inputs too; a child process runs the path again', async () => {
  const dir = path.join(tempDir('incremental-reads'), 'site');
  cpSync(fixture('incremental-reads'), dir, { recursive: true });
  const build = (incremental: boolean, out = 'dist') => prerender({ appDir: path.join(dir, 'app'), out: path.join(dir, out), cwd: dir, concurrency: 1, incremental });
  const first = await withEnv({ FEATURE_BETA: undefined }, () => build(false));
  const cache = readCache(first.outDir)!;
  assert.equal(cache.paths['/descriptor.txt'].inputs, { files: [{ id: 'file:data/descriptor.txt', at: 'app/descriptor.txt/route.ts:7' }] }, 'opened to be read; the log opened to be written is not an input');
  assert.equal(cache.paths['/handle.txt'].inputs.files?.map((f) => f.id), ['file:data/handle.txt']);
  assert.equal(cache.paths['/callback.txt'].inputs.files?.map((f) => f.id), ['file:data/callback.txt']);
  assert.equal(cache.paths['/flag.txt'].inputs, { env: [{ name: 'FEATURE_BETA', at: 'app/flag.txt/route.ts:3' }] });
  assert.equal(cache.paths['/git.txt'].inputs.variation, [{ kind: 'child_process.exec()', at: 'app/git.txt/route.ts:8' }]);
  assert.is(readFileSync(path.join(dir, 'dist/git.txt'), 'utf8'), 'answer 42\n', 'promisify(exec) resolves to { stdout, stderr }, as in Node.js');
  assert.is(readFileSync(path.join(dir, 'dist/exists.txt'), 'utf8'), 'true false\n', 'promisify(fs.exists) resolves to a boolean');
  assert.equal(cache.paths['/exists.txt'].inputs.files?.map((f) => f.id), ['stat:data/handle.txt', 'stat:data/missing.txt']);

  for (const name of ['descriptor', 'handle', 'callback']) appendFileSync(path.join(dir, `data/${name}.txt`), 'edited\n');
  const [next, full] = await withEnv({ FEATURE_BETA: '1' }, async () => [await build(true), await build(false, 'full')]);
  assert.equal(next.incremental?.rebuilt, 6, 'every path ran again');
  assert.ok(next.incremental?.causes.some((c) => c.cause === 'uses child_process.exec() (a child process, whose reads are not seen)' && c.examples.includes('/git.txt')));
  assert.match(readFileSync(path.join(dir, 'dist/handle.txt'), 'utf8'), 'edited');
  assert.is(readFileSync(path.join(dir, 'dist/flag.txt'), 'utf8'), 'beta\n');
  assertSameAsFull(next, full, 'after the edits');
});

incremental('top-level code that reads the clock runs every path again, and plans every route again', async () => {
  const dir = path.join(tempDir('incremental-load'), 'site');
  writeFiles(dir, {
    'package.json': '{ "name": "site", "private": true }\n',
    'lib/clock.ts': 'export const loadedAt = Date.now();\n',
    'app/stamp.txt/route.ts': "import { loadedAt } from '../../lib/clock';\nexport const GET = () => new Response(String(loadedAt));\n",
    'app/plain.txt/route.ts': "export const GET = () => new Response('plain');\n",
  });
  const build = (incremental: boolean) => buildProject(dir, { concurrency: 1, incremental });
  await build(false);
  const next = await build(true);
  assert.is(next.incremental!.rebuilt, 2);
  assert.equal(next.incremental!.causes.map((c) => c.cause), ['loading modules uses Date.now(), which differs on every build (lib/clock.ts:1)']);
  assert.is(next.incremental!.analysesReused, 0);
});

incremental('many paths run again: the first ones found go out one by one, the rest in batches, and the output is a full build\'s', async () => {
  // 30 posts, a third of them edited: more than the paths sent at once as they are found.
  const dir = path.join(tempDir('incremental-many'), 'site');
  const posts = Array.from({ length: 30 }, (_, i) => i);
  writeFiles(dir, {
    'package.json': '{ "name": "site", "private": true }\n',
    ...Object.fromEntries(posts.map((i) => [`content/p${i}.txt`, `post ${i}\n`])),
    'app/p/[id]/route.ts': [
      "import { readFileSync } from 'node:fs';",
      "import path from 'node:path';",
      'export const generateStaticParams = () => Array.from({ length: 30 }, (_, i) => ({ id: `p${i}` }));',
      "export const GET = (_: Request, { params }: { params: Promise<{ id: string }> }) => params.then(({ id }) => new Response(readFileSync(path.join(process.cwd(), `content/${id}.txt`), 'utf8').toUpperCase()));",
      '',
    ].join('\n'),
  });
  const build = (incremental: boolean, out = 'dist') => prerender({ appDir: path.join(dir, 'app'), out: path.join(dir, out), cwd: dir, incremental });
  await build(false);
  const edited = posts.filter((i) => i % 3 === 0);
  for (const i of edited) appendFileSync(path.join(dir, `content/p${i}.txt`), 'edited\n');
  const next = await build(true);
  assert.is(next.incremental!.rebuilt, edited.length);
  assert.is(next.incremental!.reused, posts.length - edited.length);
  const fresh = await build(false, 'fresh');
  assert.equal(tree(path.join(dir, 'dist')), tree(path.join(dir, 'fresh')));
  assert.is(readFileSync(path.join(dir, 'dist/p/p9'), 'utf8'), 'POST 9\nEDITED\n');
  assert.equal(Object.keys(next.manifest.routes), Object.keys(fresh.manifest.routes));
});

incremental('the report says how many paths ran and why, one line per cause; the logger is told each stage (no compile when the modules are taken)', async () => {
  const site = project();
  const stages: string[] = [];
  const logger = { phase: (text: string, stage: string) => stages.push(`${stage}: ${text.split(' ')[0]}`) };
  await site.build(false, 'dist', logger);
  assert.equal(stages.splice(0), ['compile: Compiling', 'plan: Planning', 'execute: Prerendering', 'write: Writing']);
  appendFileSync(path.join(site.dir, 'content/posts/post-2.md'), 'More.\n');
  const result = await site.build(true, 'dist', logger);
  assert.equal(stages, ['plan: Planning', 'execute: Prerendering', 'write: Writing']);
  const { report } = presentBuild(result, { format: 'text', json: false, quiet: true, allowDynamic: [], color: false }, { cwd: site.dir, host: 'none' });
  assert.match(report, [
    'Incremental: 3 paths rebuilt, 6 reused; 7 routes planned from the previous build (nothing their generateStaticParams or module read changed).',
    '  content/posts/post-2.md changed (2 paths): /feed.json, /posts/post-2',
    '  /stamp.txt: uses Date.now(), which differs on every build',
  ].join('\n'));
});

incremental('without a cache, or with other settings, every path runs, and says why', async () => {
  const site = project();
  const first = await site.build(true);
  assert.is(first.incremental!.reused, 0);
  assert.match(first.incremental!.causes[0].cause, 'no build cache');
  const strict = await prerender({ appDir: path.join(site.dir, 'app'), out: path.join(site.dir, 'dist'), cwd: site.dir, incremental: true, strict: true });
  assert.is(strict.incremental!.reused, 0);
  assert.match(strict.incremental!.causes[0].cause, 'settings changed');
});

incremental("in a monorepo, the workspace root's lock file is a setting: changing it runs every path", async () => {
  const repo = tempDir('workspace');
  writeFiles(repo, {
    'package.json': '{ "name": "workspace", "private": true, "workspaces": ["apps/*"] }\n',
    'package-lock.json': '{ "lockfileVersion": 3 }\n',
    'apps/web/package.json': '{ "name": "web", "private": true }\n',
    'apps/web/app/hello.txt/route.ts': "export function GET() {\n  return new Response('hello');\n}\n",
  });
  const build = () => buildProject(path.join(repo, 'apps/web'), { incremental: true });
  await build();
  assert.is((await build()).incremental!.reused, 1);
  writeFiles(repo, { 'package-lock.json': '{ "lockfileVersion": 3, "packages": {} }\n' });
  const after = await build();
  assert.is(after.incremental!.reused, 0);
  assert.match(after.incremental!.causes[0].cause, 'settings changed');
});

incremental('a previous file that was removed from the output is made again', async () => {
  const site = project();
  await site.build(false);
  rmSync(path.join(site.dir, 'dist/posts/post-3'));
  const next = await site.build(true);
  assert.ok(next.incremental!.causes.some((c) => c.cause.includes('missing') && c.examples.includes('/posts/post-3')));
  assert.is(readFileSync(path.join(site.dir, 'dist/posts/post-3'), 'utf8'), '<h1>Post 3</h1><p>Body of <em>post 3</em>.</p>');
});

incremental('the output is updated in place: unchanged files are left alone, everything the full build would not write goes', async () => {
  const site = project();
  const first = await site.build(false);
  const kept = path.join(first.outDir, 'posts/post-3');
  const before = statSync(kept);
  // Things a full build would not write: a stray file, one in folders of its own, empty folders.
  writeFileSync(path.join(first.outDir, 'stray.txt'), 'not ours');
  mkdirSync(path.join(first.outDir, 'extra/deep'), { recursive: true });
  writeFileSync(path.join(first.outDir, 'extra/deep/x.txt'), 'not ours');
  mkdirSync(path.join(first.outDir, 'empty/inside'), { recursive: true });
  appendFileSync(path.join(site.dir, 'content/posts/post-2.md'), 'More.\n');
  rmSync(path.join(site.dir, 'content/posts/post-1.md'));
  const next = await site.build(true);
  const full = await site.build(false, 'full');
  assertSameAsFull(next, full, 'in place');
  assert.equal(folders(next.outDir), folders(full.outDir), 'no folder left empty');
  const after = statSync(kept);
  assert.equal([after.ino, after.ctimeMs, after.nlink], [before.ino, before.ctimeMs, 1], 'an unchanged file is not linked, copied or rewritten');
  assert.equal(readdirSync(path.dirname(first.outDir)).filter((name) => name.startsWith('.prerender-')).sort(), ['.prerender-cache-dist-modules', '.prerender-cache-dist.json', '.prerender-cache-full-modules', '.prerender-cache-full.json'], 'no staging folder or journal left');
});

incremental.run();

/** Every folder under `dir`, relative to it. */
function folders(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).flatMap((entry) => [`${prefix}${entry.name}`, ...folders(path.join(dir, entry.name), `${prefix}${entry.name}/`)]);
}

const network = suite('frozen at build time');

/** A loopback server answering /posts with JSON. */
async function upstream(): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('["a","b"]'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server };
}

network('a fetch without revalidate, or a socket, is frozen; a fetch with revalidate is not; each always runs again', async () => {
  const { url, server } = await upstream();
  try {
    const site = project();
    await withEnv({ UPSTREAM: url }, async () => {
      const result = await site.build(false);
      const { routes } = result.manifest;
      assert.equal(routes['/upstream.json'].frozen, [{ at: 'app/upstream.json/route.ts:4', what: `fetch GET ${url}/posts` }]);
      assert.equal(routes['/socket.txt'].frozen?.map((f) => f.what), [`socket 127.0.0.1:${new URL(url).port}`]);
      assert.is(routes['/revalidated.json'].frozen, undefined);
      assert.is(routes['/revalidated.json'].revalidate, 3600);
      assert.is(routes['/feed.json'].frozen, undefined);

      const settings = { format: 'text' as const, json: false, quiet: true, allowDynamic: [], color: false };
      const { report, exitCode } = presentBuild(result, settings, { cwd: site.dir, host: 'none' });
      assert.match(report, `Frozen: /upstream.json is static, but reads ${url}/posts (app/upstream.json/route.ts:4) at build time; set \`revalidate\`, or rebuild to refresh.`);
      assert.is(exitCode, 0);
      const failing = presentBuild(result, { ...settings, failOnFrozen: true }, { cwd: site.dir, host: 'none' });
      assert.is(failing.exitCode, 3);
      assert.match(failing.report, 'Failing: /socket.txt, /upstream.json are frozen at build time (--fail-on frozen');
      assert.is(exitCodeFor(result.manifest, { failOnFrozen: true, allowFrozen: ['/upstream.json', '/socket.txt'] }), 0);

      const next = await site.build(true);
      const causes = Object.fromEntries(next.incremental!.causes.map((c) => [c.examples[0], c.cause]));
      assert.is(causes['/upstream.json'], `reads the network (fetch ${url}/posts)`);
      assert.match(causes['/socket.txt'], 'reads the network (socket 127.0.0.1:');
      assert.is(causes['/revalidated.json'], undefined, 'revalidates every hour and was built just now: reused');
      assert.equal(next.manifest.routes['/upstream.json'].frozen, routes['/upstream.json'].frozen);
    });
  } finally {
    server.close();
  }
});

network('the CLI: --fail-on frozen exits 3 unless --allow-frozen allows the route', async () => {
  const { url, server } = await upstream();
  try {
    const site = project();
    // The server answers while the CLI runs: spawn, not spawnSync.
    const run = (...args: string[]) => new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'app', '--out', 'dist', '--quiet', ...args], { cwd: site.dir, env: { ...process.env, UPSTREAM: url, NO_COLOR: '1' } });
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.on('exit', (status) => resolve({ status, stdout }));
    });
    const failing = await run('--fail-on', 'frozen');
    assert.is(failing.status, 3, failing.stdout);
    assert.match(failing.stdout, 'Failing: /socket.txt, /upstream.json are frozen at build time');
    const allowed = await run('--fail-on', 'frozen', '--allow-frozen', '/upstream.json', '--allow-frozen', '/socket.*');
    assert.is(allowed.status, 0, allowed.stdout);
  } finally {
    server.close();
  }
});

network.run();

const explain = suite('prerender explain');

explain('a static path: what it read, with the place, and what changed since', async () => {
  const site = project();
  writeFiles(site.dir, { 'app/search/[term]/route.ts': "export const dynamic = 'force-dynamic';\nexport const GET = () => new Response('found');\n" });
  await site.build(false);
  appendFileSync(path.join(site.dir, 'content/posts/post-2.md'), 'More.\n');
  const explanation = explainPath({ path: '/feed.json', out: 'dist', cwd: site.dir });
  assert.is(explanation.verdict, 'static');
  assert.equal(explanation.reads.filter((r) => r.changed).map((r) => r.what), ['content/posts/post-2.md']);
  const text = formatExplanation(explanation);
  assert.match(text, '/feed.json is static: app/feed.json/route.ts answered 200');
  assert.match(text, /content\/posts\/post-2\.md +lib\/posts\.ts:20 +\(changed since the build\)/);
  const cli = spawnSync(process.execPath, [CLI, 'explain', '/posts/post-1', '--out', 'dist'], { cwd: site.dir, encoding: 'utf8' });
  assert.is(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, 'the listing of content/posts/');
  // A manifest written elsewhere is found with --manifest.
  await prerender({ appDir: path.join(site.dir, 'app'), out: path.join(site.dir, 'elsewhere'), manifest: path.join(site.dir, 'm.json'), cwd: site.dir });
  assert.is(explainPath({ path: '/site.json', out: 'elsewhere', manifest: 'm.json', cwd: site.dir }).reads[0].what, '$SITE_NAME');
  const unknown = spawnSync(process.execPath, [CLI, 'explain', '/post/nope', '--out', 'dist'], { cwd: site.dir, encoding: 'utf8' });
  assert.is(unknown.status, 2);
  assert.match(unknown.stderr, '/post/nope is not a path of this build (10 paths). Paths like it: /posts/post-1');

  // A URL no handler ran for is explained by the route that serves it.
  const searched = explainPath({ path: '/search/caf%C3%A9', out: 'dist', cwd: site.dir });
  assert.is(searched.verdict, 'dynamic');
  assert.is(searched.srcRoute, '/search/[term]');
  assert.equal(searched.lines.slice(0, 2), ['/search/café has no file in this build: the route /search/[term] serves it.', '/search/[term] is dynamic (app/search/[term]/route.ts): it must be served by Next.js, because']);
  const unlisted = explainPath({ path: '/posts/nope', out: 'dist', cwd: site.dir });
  assert.is(unlisted.verdict, 'dynamic');
  assert.match(unlisted.lines[0], '/posts/nope was not prerendered: generateStaticParams of app/posts/[slug]/route.ts did not return it (/posts/[slug] has 3 other paths in this build).');
  assert.equal(unlisted.reads.map((r) => r.what), ['the listing of content/posts/']);
  assert.not.match(formatExplanation(unlisted), 'Its handler read');
});

explain('a URL goes to the route Next.js would pick: static segments, then [param], then [...rest], then [[...rest]]', () => {
  const patterns = ['/docs/[[...rest]]', '/docs/[...rest]', '/docs/[page]', '/docs/[page]/edit', '/[section]/intro'];
  assert.is(bestMatch(patterns, '/docs'), '/docs/[[...rest]]');
  assert.is(bestMatch(patterns, '/docs/a'), '/docs/[page]');
  assert.is(bestMatch(patterns, '/docs/a/b'), '/docs/[...rest]');
  assert.is(bestMatch(patterns, '/docs/a/edit'), '/docs/[page]/edit');
  assert.is(bestMatch(patterns, '/docs/intro'), '/docs/[page]', 'a static first segment wins over a dynamic one');
  assert.is(bestMatch(patterns, '/guide/intro'), '/[section]/intro');
  assert.is(bestMatch(patterns, '/guide'), undefined);
});

explain.run();

const sharded = suite('--incremental with --shard');

sharded('each shard rebuilds from its own cache; the merge equals a full build, and explain works on it', async () => {
  const site = project();
  const shard = (index: number) => prerender({ appDir: path.join(site.dir, 'app'), out: path.join(site.dir, `part-${index}`), cwd: site.dir, shard: { index, count: 2 }, incremental: true });
  for (const index of [1, 2]) await shard(index);
  appendFileSync(path.join(site.dir, 'content/posts/post-3.md'), 'More.\n');
  const parts = [await shard(1), await shard(2)];
  assert.is(parts[0].incremental!.rebuilt + parts[1].incremental!.rebuilt, 3, '/posts/post-3, /feed.json and /stamp.txt, wherever each is');
  assert.is(parts[0].incremental!.reused + parts[1].incremental!.reused, 6);
  const merged = await mergeShards({ dirs: ['part-1', 'part-2'], out: 'merged', cwd: site.dir });
  const full = await site.build(false, 'full');
  assert.equal(tree(merged.outDir), tree(full.outDir));
  assert.equal(readManifest(path.join(merged.outDir, 'prerender-manifest.json')).routes, readManifest(path.join(full.outDir, 'prerender-manifest.json')).routes);
  assert.equal(explainPath({ path: '/posts/post-3', out: 'merged', cwd: site.dir }).reads.map((r) => r.what), ['content/posts/post-3.md', 'the listing of content/posts/']);
});

sharded.run();

const damaged = suite('a damaged build cache');

damaged('a cache that is not JSON, or not of this shape, is ignored: every path runs, and the output is right', async () => {
  const site = project();
  const first = await site.build(false);
  const file = cachePath(first.outDir);
  const written = readFileSync(file, 'utf8');
  assert.equal(JSON.parse(written), readCache(first.outDir), 'the chunked text is the cache');
  for (const text of ['{ not json', JSON.stringify({ ...JSON.parse(written), paths: { '/posts/post-1': { inputs: 'x' } } }), JSON.stringify({ ...JSON.parse(written), routes: [] })]) {
    writeFileSync(file, text);
    const next = await site.build(true);
    assert.is(next.incremental!.reused, 0);
    assert.match(next.incremental!.causes[0].cause, 'no build cache');
    assert.ok(readCache(next.outDir), 'a good cache is written again');
  }
});

damaged('a manifest changed since the build (by hand, or damaged) is not trusted: every path runs', async () => {
  const site = project();
  const first = await site.build(false);
  const manifest = readFileSync(first.manifestPath, 'utf8');
  assert.is(readCache(first.outDir)!.manifest, createHash('sha256').update(manifest).digest('hex'), 'the cache knows the manifest written with it');
  const full = await site.build(false, 'full');
  // The same JSON on one line, with one entry's size changed; then not a manifest at all.
  const edited = JSON.parse(manifest) as ReturnType<typeof readManifest>;
  edited.routes['/posts/post-1'].size += 1;
  for (const [what, text] of [['edited by hand', JSON.stringify(edited)], ['damaged', '{ "version": 1, "routes": 3 }']]) {
    writeFileSync(first.manifestPath, text);
    const next = await site.build(true);
    assert.is(next.incremental!.reused, 0, what);
    assert.match(next.incremental!.causes[0].cause, 'the manifest is not the one written with the build cache');
    assertSameAsFull(next, full, what);
  }
  const unchanged = await site.build(true);
  assert.ok(unchanged.incremental!.reused > 0, 'the manifest written then is trusted again');
  assertSameAsFull(unchanged, full, 'the next build');
  // Known by its stamp (not hashed again) while it is the file written: an edit in place that keeps
  // its size, and even its modification time put back to the nanosecond, is not.
  const { size, mtimeMs, ctimeMs, ino } = statSync(unchanged.manifestPath);
  const { mtimeNs } = statSync(unchanged.manifestPath, { bigint: true });
  assert.is(readCache(unchanged.outDir)!.manifestStamp, `${size}:${mtimeMs}:${ctimeMs}:${ino}`, 'the cache knows the manifest file');
  const text = readFileSync(unchanged.manifestPath, 'utf8');
  const at = text.indexOf('"sha256": "') + '"sha256": "'.length;
  const handle = openSync(unchanged.manifestPath, 'r+');
  writeSync(handle, text[at] === '0' ? '1' : '0', at);
  closeSync(handle);
  const when = `@${mtimeNs / 1_000_000_000n}.${String(mtimeNs % 1_000_000_000n).padStart(9, '0')}`;
  assert.is(spawnSync('touch', ['-m', '-d', when, unchanged.manifestPath]).status, 0, 'touch sets the time');
  assert.is(statSync(unchanged.manifestPath, { bigint: true }).mtimeNs, mtimeNs, 'the time put back');
  assert.is(statSync(unchanged.manifestPath).size, size);
  const edited2 = await site.build(true);
  assert.is(edited2.incremental!.reused, 0, 'an edit in place');
  assert.match(edited2.incremental!.causes[0].cause, 'the manifest is not the one written with the build cache');
  assertSameAsFull(edited2, full, 'after an edit in place');
  // The stamp alone says it is the file written: a cache whose digest of it is wrong still keeps it.
  const rebuilt = await site.build(true);
  const cacheFile = cachePath(rebuilt.outDir);
  writeFileSync(cacheFile, readFileSync(cacheFile, 'utf8').replace(readCache(rebuilt.outDir)!.manifest!, '0'.repeat(64)));
  const byStamp = await site.build(true);
  assert.ok(byStamp.incremental!.reused > 0, 'trusted by its stamp');
  assertSameAsFull(byStamp, full, 'trusted by its stamp');
});

damaged.run();

const cached = suite('--incremental and cached work');

cached('a path served from unstable_cache depends on what the cached work read when it ran', async () => {
  const dir = path.join(tempDir('incremental-cache'), 'site');
  cpSync(fixture('incremental-cache'), dir, { recursive: true });
  // One worker: the second route takes the first one's cached value without reading anything.
  const build = (incremental: boolean, out = 'dist') => prerender({ appDir: path.join(dir, 'app'), out: path.join(dir, out), cwd: dir, concurrency: 1, incremental });
  const first = await build(false);
  const cache = readCache(first.outDir)!;
  assert.equal(Object.keys(cache.paths).sort(), ['/a.json', '/b.json'], 'both paths recorded the reads');
  writeFileSync(path.join(dir, 'content/two.txt'), 'Changed\n');
  const next = await build(true);
  assert.equal(next.results.filter((r) => r.type === 'static' && !r.reused).map((r) => r.path).sort(), ['/a.json', '/b.json']);
  assertSameAsFull(next, await build(false, 'full'), 'unstable_cache');
});

cached.run();
