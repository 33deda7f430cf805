/**
 * A hostile environment: links that lead to the app, Ctrl-C, a kill, a second build at once, a
 * file system that says no. Nothing the user has is lost, and nothing is left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { prerender } from '../src/index.js';
import { cleanLeftovers, fileSystemSays, isAlive, removeTreeAside } from '../src/write.js';
import { bundleRoutes } from '../src/bundle.js';
import { discoverRoutes } from '../src/discover.js';
import { planRoutes } from '../src/plan.js';
import { Sandbox, type SandboxOptions } from '../src/sandbox/pool.js';
import { build, fixture, ROOT, tempDir, tree } from './helpers.js';
import { hash as hashOf } from '../src/cache.js';

const CLI = path.join(ROOT, 'out/cli.js');

/** A copy of a fixture app in a temp folder, so that tests can break things around it. */
function project(name: string): string {
  const dir = path.join(tempDir(`env-${name}`), name);
  cpSync(fixture(name), dir, { recursive: true });
  return dir;
}

async function refusal(options: Parameters<typeof prerender>[0]): Promise<{ code: string; message: string; hint?: string }> {
  try {
    await prerender(options);
  } catch (error) {
    return error as { code: string; message: string; hint?: string };
  }
  throw new Error('the build was not refused');
}

const out = suite('output folder rules');

out('a link to the app folder is the app folder: refused, with --force too, and no route file is lost', async () => {
  const dir = project('groups');
  symlinkSync(path.join(dir, 'app'), path.join(dir, 'link-to-app'));
  const before = readdirSync(path.join(dir, 'app')).sort();
  for (const [appDir, outDir] of [[path.join(dir, 'link-to-app'), path.join(dir, 'app')], [path.join(dir, 'app'), path.join(dir, 'link-to-app')]]) {
    const error = await refusal({ appDir, out: outDir, cwd: dir, force: true });
    assert.is(error.code, 'OUT_DIR_UNSAFE');
  }
  assert.equal(readdirSync(path.join(dir, 'app')).sort(), before);
});

out('public/, .next/, node_modules/ and .git/ are never the output, and the hint does not offer --force', async () => {
  const dir = project('groups');
  for (const folder of ['public', '.next', 'node_modules', '.git', 'public/feeds']) {
    mkdirSync(path.join(dir, folder), { recursive: true });
    writeFileSync(path.join(dir, folder, 'keep.svg'), '<svg/>');
    const error = await refusal({ appDir: path.join(dir, 'app'), out: path.join(dir, folder), cwd: ROOT, force: true });
    assert.is(error.code, 'OUT_DIR_UNSAFE', folder);
    assert.match(error.message, `inside a ${folder.split('/')[0]}/ folder`);
    assert.not.match(error.hint ?? '', '--force');
    assert.ok(existsSync(path.join(dir, folder, 'keep.svg')));
  }
});

out('a symbolic link as --out is refused, saying where it leads', async () => {
  const dir = project('groups');
  mkdirSync(path.join(dir, 'target'));
  symlinkSync(path.join(dir, 'target'), path.join(dir, 'dist'));
  const error = await refusal({ appDir: path.join(dir, 'app'), out: path.join(dir, 'dist'), cwd: ROOT });
  assert.is(error.code, 'OUT_DIR_UNSAFE');
  assert.match(error.message, `a symbolic link (to ${path.join(dir, 'target')})`);
});

out('a rebuild removes the previous output, its folders and links, without following a link out of it', async () => {
  const dir = project('groups');
  const dist = path.join(dir, 'dist');
  await prerender({ appDir: path.join(dir, 'app'), out: dist, cwd: dir });
  const built = tree(dist);
  // What a person (or a deploy tool) left in the output since: none of it is the build's.
  const outside = path.join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'keep.txt'), 'keep');
  mkdirSync(path.join(dist, 'extra/deeper'), { recursive: true });
  writeFileSync(path.join(dist, 'extra/deeper/note.txt'), 'x');
  symlinkSync(outside, path.join(dist, 'extra/to-outside'));
  symlinkSync(path.join(outside, 'keep.txt'), path.join(dist, 'keep-link.txt'));
  await prerender({ appDir: path.join(dir, 'app'), out: dist, cwd: dir });
  assert.equal(tree(dist), built);
  assert.is(readFileSync(path.join(outside, 'keep.txt'), 'utf8'), 'keep');
  assert.equal(readdirSync(dir).filter((name) => name.startsWith('.prerender-old-')), []);
});

out('a previous output is removed without rm too (Windows, a container without it), links not followed', async () => {
  const dir = tempDir('remove');
  const outside = path.join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'keep.txt'), 'keep');
  const old = path.join(dir, 'old');
  for (const [withRm, folder] of [[true, `${old}-rm`], [false, `${old}-walk`]] as const) {
    mkdirSync(path.join(folder, 'a/b'), { recursive: true });
    writeFileSync(path.join(folder, 'a/b/c.txt'), 'c');
    writeFileSync(path.join(folder, 'top.txt'), 't');
    symlinkSync(outside, path.join(folder, 'a/to-outside'));
    const saved = process.env.PATH;
    if (!withRm) process.env.PATH = path.join(dir, 'no-such-folder');
    try {
      await removeTreeAside(folder);
    } finally {
      process.env.PATH = saved;
    }
    assert.not.ok(existsSync(folder), folder);
  }
  assert.is(readFileSync(path.join(outside, 'keep.txt'), 'utf8'), 'keep');
});

out('route files are found in dot folders and through links, never in node_modules, and a link to a folder that holds it is not walked', async () => {
  const dir = tempDir('env-links');
  const app = path.join(dir, 'app');
  const route = `export function GET() { return new Response('x'); }\n`;
  // As next build: only `_` folders are private; `.well-known` is a folder like any other.
  for (const file of ['a/route.ts', '.well-known/security.txt/route.ts', 'b/.route.ts', 'node_modules/x/route.ts', 'c/node_modules/route.ts', 'd/route.ts.bak', 'e/sitemap.xml', 'e/icon1.png', '_private/route.ts']) {
    mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
    writeFileSync(path.join(app, file), file.endsWith('.xml') ? '<urlset/>' : file.endsWith('.png') ? 'PNG' : route);
  }
  mkdirSync(path.join(dir, 'shared/inner'), { recursive: true });
  writeFileSync(path.join(dir, 'shared/inner/route.ts'), route);
  symlinkSync(path.join(dir, 'shared'), path.join(app, 'linked'));
  symlinkSync(path.join(app, 'a'), path.join(app, 'a/loop'));
  mkdirSync(path.join(app, 'up'));
  symlinkSync(app, path.join(app, 'up/root'));
  symlinkSync(path.join(dir, 'missing'), path.join(app, 'broken'));
  mkdirSync(path.join(app, 'f'));
  symlinkSync(path.join(app, 'a/route.ts'), path.join(app, 'f/route.ts'));
  const { routes, invalid } = await discoverRoutes(app, { cwd: dir });
  assert.equal(routes.map((r) => r.pattern), ['/.well-known/security.txt', '/a', '/e/icon1.png', '/e/sitemap.xml', '/f', '/linked/inner']);
  assert.equal(invalid, []);
});

out.run();

const interrupt = suite('interruptions');

/** Starts the CLI on the `hang` fixture, which never finishes, and sends `signal` once it runs. */
function interrupted(signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string; dist: string; tmp: string }> {
  const dir = tempDir('signal');
  const tmp = path.join(dir, 'tmp');
  const dist = path.join(dir, 'dist');
  mkdirSync(tmp);
  assert.is(spawnSync(process.execPath, [CLI, fixture('groups'), '--out', dist], { cwd: ROOT }).status, 0, 'a previous output');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, fixture('hang'), '--out', dist, '--force', '--timeout', '30', '--max-memory', '64'], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp } });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // Once the build has begun: its staging folder is there.
    const poll = setInterval(() => {
      if (readdirSync(dir).some((name) => name.startsWith('.prerender-staging-'))) {
        clearInterval(poll);
        setTimeout(() => child.kill(signal), 300);
      }
    }, 50);
    child.on('exit', (code) => resolve({ code, stderr, dist, tmp }));
  });
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  interrupt(`${signal}: exit ${code}, one line, workers and temp folders gone, the previous output untouched`, async () => {
    const result = await interrupted(signal);
    assert.is(result.code, code, result.stderr);
    assert.is(result.stderr.trim().split('\n').at(-1), `prerender: The build was interrupted (${signal}); the previous output was left as it was.`);
    assert.equal(readdirSync(result.tmp), [], 'the bundle folder is removed');
    assert.equal(readdirSync(path.dirname(result.dist)).sort(), ['.prerender-cache-dist-modules', '.prerender-cache-dist.json', 'dist', 'tmp'], 'the previous build and its cache, nothing else');
    assert.ok(existsSync(path.join(result.dist, 'about.json')), 'the previous output is still there');
  });
}

interrupt('a build killed outright leaves folders that the next build removes; a kill inside the swap loses nothing', async () => {
  const dir = tempDir('killed');
  const dist = path.join(dir, 'dist');
  // What a build with pid 2^22+1 (not running) left: its staging folder, and an output moved aside
  // by the first rename of its swap, with --out missing.
  mkdirSync(path.join(dir, '.prerender-staging-dist-4194305-abc'));
  mkdirSync(path.join(dir, '.prerender-old-dist-4194305-abc'));
  writeFileSync(path.join(dir, '.prerender-old-dist-4194305-abc', 'previous.txt'), 'the previous output');
  writeFileSync(path.join(dir, '.prerender-lock-dist'), '4194305\n');
  const failing = await prerender({ appDir: fixture('broken'), out: dist, cwd: ROOT });
  assert.not.ok(failing.written);
  assert.is(readFileSync(path.join(dist, 'previous.txt'), 'utf8'), 'the previous output', 'recovered, and kept by a failed build');
  assert.equal(readdirSync(dir), ['dist']);
});

interrupt('an in-place update a kill stopped in the middle is finished by the next build; one stopped before it began is dropped', async () => {
  const dir = tempDir('killed-apply');
  const dist = path.join(dir, 'dist');
  // What an incremental build with pid 2^22+1 (not running) left: its journal written, one of its
  // two staged files moved in, one old file of the two to remove already gone.
  mkdirSync(path.join(dist, 'old'), { recursive: true });
  writeFileSync(path.join(dist, 'kept.txt'), 'kept');
  writeFileSync(path.join(dist, 'old/b.txt'), 'old b');
  writeFileSync(path.join(dist, 'new.txt'), 'new');
  mkdirSync(path.join(dir, '.prerender-staging-dist-4194305-abc/sub'), { recursive: true });
  writeFileSync(path.join(dir, '.prerender-staging-dist-4194305-abc/sub/later.txt'), 'later');
  writeFileSync(path.join(dir, '.prerender-apply-dist-4194305-abc'), JSON.stringify({ remove: ['old/a.txt', 'old/b.txt'], last: null }));
  assert.is(await cleanLeftovers(dist), path.join(dir, '.prerender-staging-dist-4194305-abc'));
  assert.equal(tree(dist), { 'kept.txt': hashOf('kept'), 'new.txt': hashOf('new'), 'sub/later.txt': hashOf('later') });
  assert.equal(readdirSync(dir), ['dist']);

  // A journal still being written when the kill came: nothing was applied, the staging folder goes.
  mkdirSync(path.join(dir, '.prerender-staging-dist-4194305-abd'));
  writeFileSync(path.join(dir, '.prerender-staging-dist-4194305-abd/next.txt'), 'next');
  writeFileSync(path.join(dir, '.prerender-apply-dist-4194305-abd.tmp'), '{"remove":["kep');
  assert.is(await cleanLeftovers(dist), undefined);
  assert.equal(Object.keys(tree(dist)), ['kept.txt', 'new.txt', 'sub/later.txt']);
  assert.equal(readdirSync(dir), ['dist']);
});

interrupt('in one process too: a second build into an output folder a build is writing is refused, builds into two folders both finish, and what a failed build of this process left is finished by its next one', async () => {
  const dir = tempDir('same-process');
  const dist = path.join(dir, 'dist');
  const outcome = (build: Promise<unknown>) => build.then(() => 'built', (error: { code?: string }) => error.code ?? String(error));
  const both = await Promise.all([outcome(prerender({ appDir: fixture('groups'), out: dist, cwd: ROOT })), outcome(prerender({ appDir: fixture('groups'), out: dist, cwd: ROOT }))]);
  assert.equal(both.sort(), ['OUT_DIR_LOCKED', 'built'], 'one builds, the other is refused, whichever came first');
  // Into two output folders at once, both build (they share esbuild's service, which stops after the last).
  const apart = await Promise.all([outcome(prerender({ appDir: fixture('groups'), out: path.join(dir, 'a'), cwd: ROOT })), outcome(prerender({ appDir: fixture('groups'), out: path.join(dir, 'b'), cwd: ROOT }))]);
  assert.equal(apart, ['built', 'built']);
  // An in-place update of this process that stopped in the middle (its journal written, its file
  // not moved yet): the next build finishes it before it starts.
  mkdirSync(path.join(dir, `.prerender-staging-dist-${process.pid}-abc`));
  writeFileSync(path.join(dir, `.prerender-staging-dist-${process.pid}-abc`, 'late.txt'), 'late');
  writeFileSync(path.join(dir, `.prerender-apply-dist-${process.pid}-abc`), JSON.stringify({ remove: [], last: null }));
  assert.is(await cleanLeftovers(dist), path.join(dir, `.prerender-staging-dist-${process.pid}-abc`));
  assert.is(readFileSync(path.join(dist, 'late.txt'), 'utf8'), 'late');
  assert.equal(readdirSync(dir).filter((name) => name.startsWith('.prerender-apply') || name.startsWith('.prerender-staging')), []);
});

interrupt('two builds into one --out at once: the second is refused at once, naming the first', async () => {
  const dir = tempDir('twice');
  const dist = path.join(dir, 'dist');
  const first = spawn(process.execPath, [CLI, fixture('hang'), '--out', dist, '--timeout', '30', '--max-memory', '64'], { cwd: ROOT });
  await new Promise((resolve) => {
    const poll = setInterval(() => existsSync(path.join(dir, '.prerender-lock-dist')) && (clearInterval(poll), resolve(undefined)), 50);
  });
  const second = spawnSync(process.execPath, [CLI, fixture('groups'), '--out', dist], { cwd: ROOT, encoding: 'utf8' });
  first.kill('SIGINT');
  await new Promise((resolve) => first.on('exit', resolve));
  assert.is(second.status, 2);
  assert.match(second.stderr, `Another build is writing ${dist} (pid ${first.pid}).`);
  assert.not.match(second.stderr, 'bug');
  assert.equal(readdirSync(dir), [], 'the first, interrupted, left nothing');
});

interrupt.run();

/** Whether a process has ended (a zombie not reaped yet counts as ended), within a second. */
async function stopped(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (!isAlive(pid)) return true;
    try {
      if (/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return true;
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

const shared = suite('routes cannot change the rules for other routes');

shared("a route that replaces fetch does not hide another's no-store fetch; changes to shared state are named; no child process outlives the build", async () => {
  for (const concurrency of [1, 2]) {
    const result = await build('shared-state', { concurrency });
    assert.equal(result.manifest.dynamic['/b-no-store'].reasons.map((r) => r.kind), ["fetch({ cache: 'no-store' })"], `concurrency ${concurrency}`);
    const warnings = result.warnings.join('\n');
    assert.match(warnings, '/a-replace-fetch (app/a-replace-fetch/route.ts) changed globalThis.fetch (put back), globalThis.sharedCounter');
    assert.match(warnings, '/c-env (app/c-env/route.ts) changed process.env.SET_BY_ROUTE');
    assert.not.match(warnings, '/e-wrap-fetch', "a wrapper of the sandbox's fetch (React's dedupe) is not a change to report");
    assert.not.match(warnings, '__moduleRegistry', "a package's internal global (named __…) defined as a module loads is shared as under next build");
    assert.match(warnings, '/f-module-global (app/f-module-global/route.ts) changed globalThis.moduleCounter, Array.prototype', 'what module-level code writes is named too');
    const pid = Number(/left a child process running \(pid (\d+): sleep 1000\)/.exec(warnings)?.[1]);
    assert.ok(pid > 0, warnings);
    assert.ok(await stopped(pid), 'the child was stopped');
  }
});

shared('a child process of a worker stopped at the time limit is stopped with it, and named', async () => {
  const result = await build('child-timeout', { timeout: 1, concurrency: 1 });
  assert.is(result.manifest.errors['/stuck']?.code, 'TIMED_OUT');
  const warnings = result.warnings.join('\n');
  const pid = Number(/\/stuck \(app\/stuck\/route\.ts\) left a child process running \(pid (\d+): sleep 1000\); it was stopped with its worker/.exec(warnings)?.[1]);
  assert.ok(pid > 0, warnings);
  assert.ok(await stopped(pid), 'the child was stopped');
});

shared.run();

const refusals = suite('the environment says no');

refusals('a temp folder, an --out or a --manifest place that takes no files: exit 2 in plain words, nothing left', () => {
  const dir = tempDir('refused');
  const cases = [
    { args: ['--out', path.join(dir, 'dist')], env: { TMPDIR: '/proc' }, where: '/proc' },
    { args: ['--out', '/proc/dist'], env: {}, where: '/proc' },
    { args: ['--out', path.join(dir, 'dist'), '--manifest', '/proc/manifest.json'], env: {}, where: '/proc' },
  ];
  for (const { args, env, where } of cases) {
    const child = spawnSync(process.execPath, [CLI, fixture('groups'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
    assert.is(child.status, 2, child.stderr);
    assert.match(child.stderr, `The output could not be written to ${where}: the folder cannot hold new files`);
    assert.not.match(child.stderr, /bug|\n\s+at /);
    assert.equal(readdirSync(dir).filter((name) => name !== 'dist'), [], 'no staging folder or lock left');
  }
});

refusals('each refusal of the file system has its own words and hint', () => {
  const says = (code: string) => fileSystemSays(Object.assign(new Error(code), { code }));
  assert.match(says('ENOSPC')!.why, 'the disk is full');
  assert.match(says('EROFS')!.why, 'read-only');
  assert.match(says('EACCES')!.why, 'permission');
  assert.match(says('EPERM')!.why, 'immutable or locked');
  assert.match(says('EBUSY')!.why, 'busy');
  assert.is(says('EWHATEVER'), undefined);
});

refusals.run();

/** What a test chooses of the sandbox it renders in. */
type SandboxChoice = Pick<SandboxOptions, 'size' | 'light' | 'heavyHeapMb' | 'env'>;

/**
 * The sandbox on its own, on the one route of a fixture app: `render(count)` plans the route and
 * renders `count` paths (cycling through those it has) in a sandbox made with `options`, and says
 * how many workers it started and whether every path rendered.
 */
async function routeSandbox(name: string, label: string): Promise<{ render: (count: number, options: SandboxChoice) => Promise<{ started: number; ok: boolean }>; routes: number; cleanup: () => Promise<void> }> {
  const app = fixture(name);
  const { routes } = await discoverRoutes(path.join(app, 'app'), { cwd: ROOT });
  const dir = tempDir(label);
  const bundle = await bundleRoutes(routes, app, path.join(dir, 'bundle'));
  let runs = 0;
  const render = async (count: number, options: SandboxChoice) => {
    const out = path.join(dir, `out-${runs++}`);
    mkdirSync(out);
    const sandbox = new Sandbox({ outputDir: out, bundleDir: bundle.dir, projectRoot: app, timeoutMs: 30_000, maxBodyBytes: 1e6, ...options });
    sandbox.start();
    try {
      const [route] = (await planRoutes(bundle.entries, sandbox, 1)).routes;
      const rendered: boolean[] = [];
      const at = (i: number) => route.paths[i % route.paths.length];
      const task = (i: number) => ({ type: 'render' as const, entry: route.entry, source: route.route.file, pattern: route.route.pattern, requestPath: at(i).key, params: at(i).params, config: route.config, file: `f${i}` });
      await sandbox.runAll(count, task, (_, result) => rendered.push(result.outcome.ok));
      return { started: sandbox.started, ok: rendered.length === count && rendered.every(Boolean) };
    } finally {
      await sandbox.close();
    }
  };
  return { render, routes: routes.length, cleanup: bundle.cleanup };
}

const memory = suite('memory a route leaves behind');

memory('a worker whose heap a generateStaticParams grew is replaced, and the paths are still built', async () => {
  const shuffle = await routeSandbox('shuffle', 'heavy');
  const light = await shuffle.render(60, { size: 1, heavyHeapMb: 10_000 });
  const heavy = await shuffle.render(60, { size: 1, heavyHeapMb: 1 }); // every analyze counts as heavy
  assert.equal(light, { started: 1, ok: true }, 'one worker for the whole build, every path rendered');
  assert.ok(heavy.started > shuffle.routes, `a fresh worker after the route was analyzed (${heavy.started})`);
  assert.ok(heavy.ok, 'every path still rendered');
  await shuffle.cleanup();
});

memory.run();

const measured = suite('workers from measured work');

measured('a few quick paths keep to one worker; work that lasts starts the second', async () => {
  const shuffle = await routeSandbox('shuffle', 'measured');
  const few = await shuffle.render(4, { size: 2 });
  const many = await shuffle.render(600, { size: 2 }); // about 2.4 s of waiting on one worker
  assert.equal(few, { started: 1, ok: true }, 'four paths of a few ms: the second worker would start after they are done');
  assert.equal(many, { started: 2, ok: true }, 'work that outlasts starting a worker gets the second one');
  await shuffle.cleanup();
});

measured('quick paths leave the build thread its core; heavy ones get a worker on it', async () => {
  const workload = await routeSandbox('workload', 'workload');
  // 1,000 paths of 0.4 ms: more work left than starting a worker takes (on any machine), but light.
  const quick = { WORKLOAD_PATHS: '1000', WORKLOAD_MS: '0.4' };
  const light = await workload.render(1000, { size: 2, light: 1, env: quick });
  const lightAll = await workload.render(1000, { size: 2, env: quick });
  // 200 paths of 5 ms each.
  const heavy = await workload.render(200, { size: 2, light: 1, env: { WORKLOAD_PATHS: '200', WORKLOAD_MS: '5' } });
  assert.equal(light, { started: 1, ok: true }, 'one worker for quick paths');
  assert.equal(lightAll, { started: 2, ok: true }, 'when every core may take a worker (a --concurrency given), the same paths get two');
  assert.equal(heavy, { started: 2, ok: true }, 'a second worker for heavy paths');
  await workload.cleanup();
});

measured.run();
