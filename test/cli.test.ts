/** End to end: the built CLI, spawned as a user runs it. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, ROOT, tempDir } from './helpers.js';

const CLI = path.join(ROOT, 'out/cli.js');

const cliEnv = (env: Record<string, string>) => ({ ...process.env, NO_COLOR: '', FORCE_COLOR: undefined, GITHUB_ACTIONS: undefined, ...env });

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: cliEnv(env) });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

/** `run`, without waiting: runs that do not depend on each other go side by side. */
function start(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: cliEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject).on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const cli = suite('cli');

cli('builds the blog: files, manifest, report on stdout, exit 0', () => {
  const out = path.join(tempDir('cli'), 'dist');
  const { code, stdout, stderr } = run(['fixtures/blog/app', '--out', out]);
  assert.is(code, 0, stderr);
  assert.ok(existsSync(path.join(out, 'rss.xml')));
  assert.ok(existsSync(path.join(out, 'api/posts/index')));
  const manifest = JSON.parse(readFileSync(path.join(out, 'prerender-manifest.json'), 'utf8'));
  assert.is(manifest.dynamic['/api/me'].reasons[0].at, 'fixtures/blog/app/api/me/route.ts:4:26');
  assert.match(stdout, /○ \/rss\.xml\s+275 B {2}application\/rss\+xml/);
  assert.match(stdout, 'cookies() at fixtures/blog/app/api/me/route.ts:4:26');
  assert.match(stdout, '7 static (875 B), 1 dynamic, 0 errors from 6 routes');
  assert.not.match(stdout, '\u001b[', 'no colour when not a terminal');
});

cli('--json prints the manifest on stdout and the report on stderr', () => {
  const out = path.join(tempDir('cli'), 'dist');
  const { code, stdout, stderr } = run(['fixtures/blog/app', '--out', out, '--json']);
  assert.is(code, 0);
  const manifest = JSON.parse(stdout);
  assert.is(manifest.version, 1);
  assert.is(manifest.routes['/feed.json'].file, 'feed.json');
  assert.equal(manifest, JSON.parse(readFileSync(path.join(out, 'prerender-manifest.json'), 'utf8')));
  assert.match(stderr, 'Dynamic');
});

cli('--fail-on-dynamic exits 3 when a route is dynamic', async () => {
  const [dynamic, clean] = await Promise.all([start(['fixtures/blog/app', '--out', path.join(tempDir('cli'), 'dist'), '--fail-on-dynamic']), start(['fixtures/groups/app', '--out', path.join(tempDir('cli'), 'dist'), '--fail-on-dynamic'])]);
  assert.is(dynamic.code, 3);
  assert.is(clean.code, 0);
});

cli('--manifest moves the manifest out of the output folder', () => {
  const dir = tempDir('cli');
  const { code } = run(['fixtures/groups/app', '--out', path.join(dir, 'dist'), '--manifest', path.join(dir, 'reports/manifest.json')]);
  assert.is(code, 0);
  assert.ok(existsSync(path.join(dir, 'reports/manifest.json')));
  assert.not.ok(existsSync(path.join(dir, 'dist/prerender-manifest.json')));
  // The folder is still recognised as ours on the next run.
  assert.is(run(['fixtures/groups/app', '--out', path.join(dir, 'dist'), '--manifest', path.join(dir, 'reports/manifest.json')]).code, 0);
});

cli('a route error exits 1 and leaves the previous output exactly as it was', () => {
  const out = path.join(tempDir('cli'), 'dist');
  assert.is(run(['fixtures/blog/app', '--out', out]).code, 0);
  const before = readFileSync(path.join(out, 'prerender-manifest.json'), 'utf8');
  const { code, stdout } = run(['fixtures/broken/app', '--out', out]);
  assert.is(code, 1);
  assert.match(stdout, 'untouched because a route failed');
  // What route code printed is shown under its path.
  assert.match(stdout, /✗ \/returns-undefined .*\n.*\n.*\n +│ computing nothing/);
  assert.is(readFileSync(path.join(out, 'prerender-manifest.json'), 'utf8'), before);
  assert.ok(existsSync(path.join(out, 'rss.xml')));
  assert.not.ok(existsSync(path.join(out, 'ok')));
});

cli('--keep-partial keeps the unfinished output and says where; with --json, route output never reaches stdout', () => {
  const out = path.join(tempDir('cli'), 'dist');
  const { code, stdout, stderr } = run(['fixtures/broken/app', '--out', out, '--keep-partial', '--json']);
  assert.is(code, 1);
  assert.is(JSON.parse(stdout).version, 1);
  const partial = /the partial output is in (\S+)\//.exec(stderr)?.[1];
  assert.ok(partial, stderr);
  assert.is(readFileSync(path.resolve(ROOT, partial!, 'ok'), 'utf8'), 'still built');
});

cli('set-up problems exit 2 with the file and a hint', async () => {
  const [missing, file, empty] = await Promise.all([start(['fixtures/nope/app']), start(['fixtures/blog/package.json']), start(['fixtures/no-routes/app', '--out', path.join(tempDir('cli'), 'dist')])]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, `The app directory ${fixture('nope/app')} does not exist.`);
  assert.match(missing.stderr, 'hint:');
  assert.is(file.code, 2);
  assert.match(file.stderr, 'is a file, not a folder');
  assert.match(file.stderr, 'hint: pass the app folder');
  assert.is(empty.code, 2);
  assert.match(empty.stderr, 'No route files found under');
  assert.match(empty.stderr, 'hint: Route handlers live in files named route.ts');
});

cli('run from another folder, the build runs in the project: a relative path in route code means what it means there', () => {
  const parent = tempDir('cli-folder');
  mkdirSync(path.join(parent, 'site/app/a.txt'), { recursive: true });
  mkdirSync(path.join(parent, 'site/content'));
  writeFileSync(path.join(parent, 'site/package.json'), '{ "name": "site", "private": true }\n');
  writeFileSync(path.join(parent, 'site/content/a.txt'), 'from the project\n');
  writeFileSync(path.join(parent, 'site/app/a.txt/route.ts'), "import { readFileSync } from 'node:fs';\nimport { execFileSync } from 'node:child_process';\nexport const GET = () => new Response(readFileSync('content/a.txt', 'utf8') + execFileSync('pwd', { encoding: 'utf8' }));\n");
  const child = spawnSync(process.execPath, [CLI, 'site/app', '--out', 'site/dist'], { cwd: parent, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.is(child.status, 0, child.stdout + child.stderr);
  assert.is(readFileSync(path.join(parent, 'site/dist/a.txt'), 'utf8'), `from the project\n${path.join(parent, 'site')}\n`);
  assert.match(child.stdout, 'Wrote site/dist/.', 'what it prints is relative to where it ran');
});

cli('bad usage exits 2 and names the flag (the checks of each flag: the flags suite)', async () => {
  const [near, concurrency, none] = await Promise.all([start(['fixtures/blog/app', '--outdir', 'dist']), start(['fixtures/blog/app', '--concurrency', '0']), start([])]);
  assert.is(near.code, 2);
  assert.match(near.stderr, 'unknown option --outdir (did you mean --out?)');
  assert.is(concurrency.code, 2);
  assert.match(concurrency.stderr, 'Expected --concurrency to be an integer from 1 and up, got `0`');
  assert.is(none.code, 2, 'the repository root has no app/ folder');
  assert.match(none.stderr, 'no app/ or src/app/ folder in');
});

cli('refuses an --out that would replace the project, or a folder it did not write', async () => {
  const foreign = path.join(tempDir('cli'), 'site');
  mkdirSync(foreign);
  writeFileSync(path.join(foreign, 'keep.txt'), 'mine');
  const [project, refused] = await Promise.all([start(['fixtures/blog/app', '--out', 'fixtures/blog']), start(['fixtures/groups/app', '--out', foreign])]);
  assert.is(project.code, 2);
  assert.match(project.stderr, 'Refusing to write the output to');
  assert.is(refused.code, 2);
  assert.match(refused.stderr, 'already holds files that route-prerender did not write');
  assert.is(readFileSync(path.join(foreign, 'keep.txt'), 'utf8'), 'mine');
  assert.is(run(['fixtures/groups/app', '--out', foreign, '--force']).code, 0);
  assert.not.ok(existsSync(path.join(foreign, 'keep.txt')));
});

cli('route output is hidden with --quiet (shown by default: see the route error above)', () => {
  const quiet = run(['fixtures/broken/app', '--out', path.join(tempDir('cli'), 'dist'), '--quiet']);
  assert.is(quiet.code, 1);
  assert.not.match(quiet.stdout, 'computing nothing');
  assert.not.match(quiet.stderr, 'computing nothing');
});

cli('on a terminal, a progress line is shown through every phase and cleared before the report; in a log, phase lines', async () => {
  const out = path.join(tempDir('cli'), 'dist');
  // In a log (CI): one line per phase, on stderr; nothing with --quiet. Those two run while the terminal's run does.
  const pipedRun = start(['fixtures/shuffle/app', '--out', path.join(tempDir('cli'), 'dist')]);
  const quietRun = start(['fixtures/shuffle/app', '--out', path.join(tempDir('cli'), 'dist'), '--quiet']);
  // `script` runs the command with a pseudo-terminal as its stdout and stderr.
  const tty = spawnSync('script', ['-qec', `${process.execPath} ${CLI} fixtures/shuffle/app --out ${out}`, '/dev/null'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.is(tty.status, 0, tty.stderr);
  assert.match(tty.stdout, /Prerendering \d+\/60 paths/);
  assert.match(tty.stdout, /\r\u001b\[2K(Rules|\r)/);
  assert.match(tty.stdout, /Compiling 1 route file…/);
  const [piped, quiet] = await Promise.all([pipedRun, quietRun]);
  assert.match(piped.stderr, /^Compiling 1 route file…\nPlanning 1 route module \(segment config, generateStaticParams\)…\nPrerendering 60 paths…\nWriting the manifest and swapping in the output…\n/);
  assert.not.match(piped.stdout, 'Compiling');
  assert.is(quiet.stderr, '');
});

cli('the library runs from node -e without its workers running that code again', () => {
  const out = path.join(tempDir('cli'), 'dist');
  const code = `const { prerender } = await import(${JSON.stringify(path.join(ROOT, 'out/src/index.js'))}); const r = await prerender({ appDir: 'fixtures/groups/app', out: ${JSON.stringify(out)} }); console.log(String(Object.keys(r.manifest.routes).length));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.is(child.status, 0, child.stderr);
  assert.is(child.stdout.trim(), '5');
});

cli('runs under node flags that workers refuse, such as --max-old-space-size', () => {
  const child = spawnSync(process.execPath, ['--max-old-space-size=4096', '--stack-size=2000', CLI, 'fixtures/groups/app', '--out', path.join(tempDir('cli'), 'dist')], { cwd: ROOT, encoding: 'utf8' });
  assert.is(child.status, 0, child.stderr);
  assert.match(child.stdout, '5 static');
});

cli('--help lists every option with its default; --version prints the version', () => {
  const help = run(['--help']);
  assert.is(help.code, 0);
  for (const flag of ['--out', '--manifest', '--json', '--fail-on-dynamic', '--concurrency', '--timeout', '--force', '--keep-partial', '--quiet', '--no-color']) {
    assert.match(help.stdout, flag);
  }
  assert.match(help.stdout, '(default: dist)');
  const optionLines = help.stdout.split('Options:')[1].split('Exit codes')[0].split(/\n(?=  -)/).filter((block) => block.includes('--') && !/--(help|version)/.test(block));
  for (const block of optionLines) assert.match(block, 'default', `no default in: ${block}`);
  const version = run(['--version']);
  assert.is(version.stdout.trim(), JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
});

cli.run();

const ci = suite('cli in CI');

const baselines = new Map<string, string>();

/** The manifest of a build of one version of an app (built once). */
function baselineOf(version: string, app = 'evolve'): string {
  const key = `${app}/${version}`;
  if (!baselines.has(key)) baselines.set(key, buildBaseline(version, app));
  return baselines.get(key)!;
}

function buildBaseline(version: string, app: string): string {
  const out = path.join(tempDir('ci'), 'dist');
  const { code, stderr } = run([app === 'evolve' ? `fixtures/evolve/${version}/app` : `fixtures/${app}/${version}`, '--out', out]);
  assert.is(code, 0, stderr);
  return path.join(out, 'prerender-manifest.json');
}

ci('--baseline lists what changed; --fail-on new-dynamic exits 3 for a route that was static', () => {
  const baseline = baselineOf('v1');
  const { code, stdout } = run(['fixtures/evolve/v2/app', '--out', path.join(tempDir('ci'), 'dist'), '--baseline', baseline, '--fail-on', 'new-dynamic']);
  assert.is(code, 3);
  assert.match(stdout, 'Changes since the baseline\n  ! /user was static, now dynamic: cookies() at fixtures/evolve/v2/app/user/route.ts:4:23\n  + /new.txt is new\n  - /old.txt is gone\n  ~ /feed.json has other bytes');
  assert.match(stdout, 'Failing: /user became dynamic (--fail-on new-dynamic).');
});

ci('under a basePath, keys and srcRoute carry it, and a route that became dynamic exits 3 with new-dynamic', () => {
  const baseline = baselineOf('v1', 'base-path');
  const before = JSON.parse(readFileSync(baseline, 'utf8'));
  assert.equal(Object.keys(before.routes), ['/docs/docs/posts/first', '/docs/docs/posts/second', '/docs/docs/static']);
  assert.equal(Object.keys(before.dynamic), ['/docs/docs/[slug]', '/docs/other/[id]']);
  assert.is(before.routes['/docs/docs/posts/first'].srcRoute, '/docs/docs/posts/[slug]');
  assert.is(before.dynamic['/docs/docs/[slug]'].srcRoute, '/docs/docs/[slug]');
  const { code, stdout } = run(['fixtures/base-path/v2', '--out', path.join(tempDir('ci'), 'dist'), '--baseline', baseline, '--fail-on', 'new-dynamic']);
  assert.is(code, 3, stdout);
  assert.match(stdout, '! /docs/docs/posts/first was static, now dynamic: POST at fixtures/base-path/v2/app/docs/posts/[slug]/route.ts');
  assert.not.match(stdout, 'is new', 'the route is matched, not reported as removed plus added');
  assert.not.match(stdout, 'is gone');
});

ci('a route dynamic in both runs does not fail new-dynamic; --allow-dynamic exempts a route from --fail-on dynamic', async () => {
  const strictRun = start(['fixtures/evolve/v2/app', '--out', path.join(tempDir('ci'), 'dist'), '--fail-on', 'dynamic', '--allow-dynamic', '/api/**']);
  const allowedRun = start(['fixtures/evolve/v2/app', '--out', path.join(tempDir('ci'), 'dist'), '--fail-on', 'dynamic', '--allow-dynamic', '/api/**', '--allow-dynamic', '/user']);
  const baseline = baselineOf('v2');
  const same = run(['fixtures/evolve/v2/app', '--out', path.join(tempDir('ci'), 'dist'), '--baseline', baseline, '--fail-on', 'new-dynamic']);
  assert.is(same.code, 0);
  assert.match(same.stdout, 'Changes since the baseline\n  no changes');
  const [strict, allowed] = await Promise.all([strictRun, allowedRun]);
  assert.is(strict.code, 3);
  assert.match(strict.stdout, 'Failing: /user is dynamic (--fail-on dynamic).');
  assert.is(allowed.code, 0);
});

ci('--fail-on new-dynamic without --baseline, a bad --format or an unreadable baseline is bad usage', async () => {
  const [unbased, format, broken] = await Promise.all([start(['fixtures/evolve/v2/app', '--fail-on', 'new-dynamic']), start(['fixtures/evolve/v2/app', '--format', 'html']), start(['fixtures/evolve/v2/app', '--baseline', 'package.json'])]);
  assert.is(unbased.code, 2);
  assert.is(format.code, 2);
  assert.is(broken.code, 2);
  assert.match(broken.stderr, 'Cannot read the manifest package.json: its "version" is "0.1.0", not 1');
});

ci('--format markdown prints tables for a pull-request comment', () => {
  const baseline = baselineOf('v1');
  const { code, stdout } = run(['fixtures/evolve/v2/app', '--out', path.join(tempDir('ci'), 'dist'), '--format', 'markdown', '--baseline', baseline]);
  assert.is(code, 0);
  assert.match(stdout, '### route-prerender: 2 static, 2 dynamic, 0 errors');
  assert.match(stdout, '- :warning: `/user` was static and is now dynamic: `cookies()` at `fixtures/evolve/v2/app/user/route.ts:4:23`');
  assert.match(stdout, '| `/api/session` | `POST`: POST is exported too');
  assert.match(stdout, '| `/feed.json` | 200 | 19 B | application/json |');
});

ci('on GitHub Actions: annotations on the exact lines, and the markdown summary appended to the step summary', async () => {
  const summary = path.join(tempDir('ci'), 'summary.md');
  writeFileSync(summary, '# earlier step\n');
  const brokenRun = start(['fixtures/broken/app', '--out', path.join(tempDir('ci'), 'dist'), '--json'], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: path.join(tempDir('ci'), 'summary.md') });
  const { stdout, stderr } = run(['fixtures/evolve/v2/app', '--out', path.join(tempDir('ci'), 'dist'), '--allow-dynamic', '/api/**'], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary });
  assert.match(stderr, '::warning file=fixtures/evolve/v2/app/user/route.ts,line=4,col=23,title=/user is dynamic::cookies(): cookies() reads or sets the visitor\'s cookies');
  assert.not.match(stderr, '::warning file=fixtures/evolve/v2/app/api', 'allowed routes are not annotated');
  assert.not.match(stdout, '::', 'annotations never mix into the report');
  const written = readFileSync(summary, 'utf8');
  assert.ok(written.startsWith('# earlier step\n<!-- route-prerender report -->\n### route-prerender: 2 static, 2 dynamic, 0 errors'));
  const broken = await brokenRun;
  assert.is(JSON.parse(broken.stdout).version, 1, 'stdout stays JSON');
  assert.match(broken.stderr, '::error file=fixtures/broken/app/throws/route.ts,line=7,col=9,title=/throws failed to prerender::missing API key');
});

ci.run();
