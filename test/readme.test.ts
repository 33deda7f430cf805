/** The README's examples, run as written from the repository root. */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './helpers.js';

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
  const stdout = execFileSync('sh', ['-c', command.slice(2)], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.fixture(normalize(stdout), normalize(expected.join('\n')));
});

readme('the manifest excerpt matches the manifest of that run', () => {
  const shown = JSON.parse(block('json', '## The manifest'));
  const written = JSON.parse(readFileSync(path.join(ROOT, 'dist/prerender-manifest.json'), 'utf8'));
  assert.equal(shown.dynamic['/api/me'], written.dynamic['/api/me']);
  assert.equal(shown.routes['/posts/hello-world'], written.routes['/posts/hello-world']);
  assert.is(shown.version, written.version);
});

readme('the library example runs', () => {
  const file = path.join(ROOT, 'out/readme-library-example.mjs');
  writeFileSync(file, block('js', '## Library'));
  const child = spawnSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8' });
  assert.is(child.status, 0, child.stderr);
  assert.match(child.stdout, "'/rss.xml'");
});

readme('every CLI option in --help is documented in the README', () => {
  const help = execFileSync(process.execPath, [path.join(ROOT, 'out/cli.js'), '--help'], { encoding: 'utf8' });
  for (const flag of help.match(/--[a-z-]+/g) ?? []) assert.match(README, '`' + flag, flag);
});

readme.run();
