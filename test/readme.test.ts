/** The README's examples, run as written from the repository root. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ERRORS, REASON_KINDS } from '../src/index.js';
import { ROOT, tempDir } from './helpers.js';

/**
 * A folder that looks like a project with route-prerender installed: the README's commands run in
 * it as written, and nothing is written into the repository.
 */
const WORK = tempDir('readme');
mkdirSync(path.join(WORK, 'node_modules/.bin'), { recursive: true });
symlinkSync(ROOT, path.join(WORK, 'node_modules/route-prerender'));
symlinkSync(path.join(ROOT, 'out/cli.js'), path.join(WORK, 'node_modules/.bin/prerender'));
symlinkSync(path.join(ROOT, 'out/cli.js'), path.join(WORK, 'node_modules/.bin/route-prerender'));
// A copy, not a link: locations are reported where the files really are.
cpSync(path.join(ROOT, 'fixtures/blog'), path.join(WORK, 'fixtures/blog'), { recursive: true });
writeFileSync(path.join(WORK, 'package.json'), '{ "name": "readme-example", "private": true }\n');

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

function block(language: string, after: string): string {
  const start = README.indexOf(after);
  assert.ok(start !== -1, `README section ${after}`);
  const match = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(README.slice(start));
  assert.ok(match, `a ${language} block after ${after}`);
  return match![1];
}

/** Durations vary from run to run; everything else must match. */
const normalize = (text: string) => text.replace(/in \d+\.\d\d s\./g, 'in <time> s.').trimEnd();

const readme = suite('README');

readme('the example prints what the README shows', () => {
  const [command, ...expected] = block('console', '## Example').trimEnd().split('\n');
  assert.ok(command.startsWith('$ '));
  const stdout = execFileSync('sh', ['-c', command.slice(2)], { cwd: WORK, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined } });
  assert.fixture(normalize(stdout), normalize(expected.join('\n')));
});

readme('the manifest excerpt matches the manifest of that run', () => {
  const shown = JSON.parse(block('json', '## The manifest'));
  const written = JSON.parse(readFileSync(path.join(WORK, 'dist/prerender-manifest.json'), 'utf8'));
  assert.equal(shown.dynamic['/api/me'], written.dynamic['/api/me']);
  assert.equal(shown.routes['/posts/hello-world'], written.routes['/posts/hello-world']);
  assert.is(shown.version, written.version);
});

readme('the library example runs', () => {
  const file = path.join(WORK, 'library-example.mjs');
  writeFileSync(file, block('js', '## Library'));
  const child = spawnSync(process.execPath, [file], { cwd: WORK, encoding: 'utf8' });
  assert.is(child.status, 0, child.stderr);
  assert.match(child.stdout, "'/rss.xml'");
});

readme('every CLI option in --help is documented in the README', () => {
  const help = execFileSync(process.execPath, [path.join(ROOT, 'out/cli.js'), '--help'], { encoding: 'utf8' });
  for (const flag of help.match(/--[a-z-]+/g) ?? []) assert.match(README, '`' + flag, flag);
});

readme('every error code and every reason kind is documented', () => {
  const codes = Object.keys(ERRORS);
  assert.ok(codes.length > 25);
  for (const code of codes) assert.match(README, `| \`${code}\` |`, code);
  for (const kind of Object.keys(REASON_KINDS)) assert.match(README, `\`${kind}\``, kind);
});

readme("the workflow's Prerender step, run as written on GitHub Actions, writes a report without annotations in it", () => {
  const workflow = block('yaml', '## In CI');
  const step = /- name: Prerender\n\s+run: \|\n((?:\s{10}.*\n)+)/.exec(workflow)?.[1];
  assert.ok(step, 'the Prerender step');
  const project = path.join(WORK, 'workflow');
  mkdirSync(project);
  cpSync(path.join(ROOT, 'fixtures/blog'), project, { recursive: true });
  symlinkSync(path.join(WORK, 'node_modules'), path.join(project, 'node_modules'));
  const summary = path.join(WORK, 'summary.md');
  const child = spawnSync('bash', ['-c', step!.replace(/^ {10}/gm, '')], { cwd: project, encoding: 'utf8', env: { ...process.env, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: project } });
  assert.is(child.status, 0, child.stderr);
  const report = readFileSync(path.join(project, 'report.md'), 'utf8');
  assert.ok(report.startsWith('<!-- route-prerender report -->\n### route-prerender: 7 static, 1 dynamic, 0 errors'), report.slice(0, 200));
  assert.not.match(report, '::warning');
  assert.not.match(child.stderr, '::warning', '/api/** is allowed to be dynamic in the workflow');
  assert.match(child.stdout, '<!-- route-prerender report -->', 'the step prints the report too');
  assert.match(readFileSync(summary, 'utf8'), '### route-prerender');
});

/** Runs a README console command that keeps running; returns its first line and a way to stop it. */
async function started(after: string): Promise<{ expected: string; first: string; stop: () => Promise<void> }> {
  const [command, expected] = block('console', after).trimEnd().split('\n');
  // Its own process group: npx starts the command in a child of its own.
  const child = spawn('sh', ['-c', command.slice(2)], { cwd: WORK, detached: true });
  const first = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.on('exit', (code) => reject(new Error(`${command} exited with ${code}`)));
  });
  const stop = () => new Promise<void>((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    process.kill(-child.pid!, 'SIGINT');
  });
  return { expected, first, stop };
}

readme('the preview commands print what the README shows, serve the build of the example, and forward to the origin', async () => {
  const plain = await started('## Preview, and dynamic routes');
  try {
    assert.is(plain.first, plain.expected);
    const rss = await fetch('http://127.0.0.1:4173/rss.xml');
    assert.is(rss.status, 200);
    assert.is(rss.headers.get('content-type'), 'application/rss+xml');
  } finally {
    await plain.stop();
  }
  // The README's origin: a stand-in for `next start` on 127.0.0.1:3000 (if the port is free here).
  const origin = createServer((req, res) => res.end(`origin answered ${req.url}`));
  const listening = await new Promise<boolean>((resolve) => {
    origin.once('error', () => resolve(false));
    origin.listen(3000, '127.0.0.1', () => resolve(true));
  });
  const forwarding = await started('`prerender preview --origin http://127.0.0.1:3000` does the same');
  try {
    assert.is(forwarding.first, forwarding.expected);
    if (listening) assert.is(await (await fetch('http://127.0.0.1:4173/api/me')).text(), 'origin answered /api/me');
    assert.is((await fetch('http://127.0.0.1:4173/feed.json')).headers.get('content-type'), 'application/json');
  } finally {
    await forwarding.stop();
    origin.close();
  }
});


readme('the incremental build and explain examples print what the README shows', () => {
  const project = path.join(WORK, 'incremental');
  cpSync(path.join(ROOT, 'fixtures/incremental'), project, { recursive: true });
  const run = (command: string) => execFileSync('sh', ['-c', command], { cwd: project, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined }, timeout: 60_000 });
  run('npx prerender --quiet');
  appendFileSync(path.join(project, 'content/posts/post-2.md'), 'More.\n');
  const [explainCommand, ...explained] = block('console', '### `prerender explain`').trimEnd().split('\n');
  assert.fixture(run(explainCommand.slice(2)).trimEnd(), explained.join('\n'));
  const [buildCommand, , ...tail] = block('console', '## Incremental builds').trimEnd().split('\n');
  assert.ok(run(buildCommand.slice(2)).trimEnd().endsWith(tail.join('\n')), 'the report ends with the lines shown');
});

readme.run();
