/** The project around the app directory: .env files and next.config, as next build reads them. */
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseEnv } from '../src/project.js';
import { prerender, type PrerenderError } from '../src/index.js';
import { build, fixture, tempDir, text } from './helpers.js';

const project = suite('project config');

project('.env files load in Next.js order (.env.production.local, .env.local, .env.production, .env), with expansion', async () => {
  const result = await build('project-config');
  assert.equal(JSON.parse(text(result, '/docs/env.json')), {
    GREETING: 'from .env',
    SHARED: 'production',
    LOCAL_ONLY: 'local',
    EXPANDED: 'base-expanded',
    QUOTED: 'line one\nline two',
    LITERAL: 'no $NAME here',
    FROM_CONFIG: 'config',
    NODE_ENV: 'production',
    NEXT_PHASE: 'phase-production-build',
  });
});

project('basePath prefixes every URL and file; nextUrl.pathname leaves it out, as in Next.js', async () => {
  const result = await build('project-config');
  assert.equal(Object.keys(result.manifest.routes), ['/docs', '/docs/env.json', '/docs/items/1', '/docs/where']);
  assert.is(result.manifest.routes['/docs/items/1'].file, 'docs/items/1');
  assert.is(result.manifest.routes['/docs'].file, 'docs/index');
  assert.equal(JSON.parse(text(result, '/docs/where')), { pathname: '/where', basePath: '/docs' });
});

project('pageExtensions decides which route files count', async () => {
  const result = await build('project-config');
  assert.not.ok(Object.values(result.manifest.routes).some((r) => r.source.endsWith('.js')));
  assert.equal(result.manifest.errors, {});
});

project('settings that are not applied and would change the output are reported', async () => {
  const { warnings } = await build('project-config');
  assert.equal(warnings, [
    'next.config.mjs: `trailingSlash` is not applied: paths and files are written without a trailing slash.',
    'next.config.mjs: `headers()` is not applied: set those headers on your host.',
  ]);
});

project('a next.config.ts in function form is compiled and called with the build phase', async () => {
  const result = await build('config-ts');
  assert.ok(result.manifest.routes['/built/hello.txt']);
  assert.ok(existsSync(path.join(result.outDir, 'built/hello.txt')));
  assert.equal(result.warnings, []);
});

project('a next.config.ts that imports a package not installed names the package and the config file', async () => {
  const dir = tempDir('config-missing');
  cpSync(fixture('config-ts'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'next.config.ts'), "import withMdx from '@next/mdx';\nexport default withMdx()({});\n");
  const error = await prerender({ appDir: path.join(dir, 'app'), out: path.join(dir, 'dist'), cwd: dir }).then(() => undefined, (e: PrerenderError) => e);
  assert.is(error?.code, 'CONFIG_INVALID');
  assert.match(error!.message, `Cannot find package '@next/mdx' imported from ${path.join(dir, 'next.config.ts')}`);
  assert.not.match(error!.message, '.route-prerender-', 'the compiled copy is not named');
  assert.is(error!.hint, "install @next/mdx in the project (npm install @next/mdx), or run prerender where the app's dependencies are installed");
});

project('parseEnv reads the dotenv format', () => {
  assert.equal(parseEnv('A=1\n# comment\nexport B = two words # note\nC="x\\ny"\nD=\'$raw\'\nE=\n'), { A: '1', B: 'two words', C: 'x\ny', D: '\0raw$raw', E: '' });
});

project.run();
