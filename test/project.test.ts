/** The project around the app directory: .env files and next.config, as next build reads them. */
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseEnv } from '../src/project.js';
import { prerender, type PrerenderError } from '../src/index.js';
import { build, buildProject, fixture, tempDir, text, writeFiles } from './helpers.js';

const project = suite('project config');

project('.env files load in Next.js order (.env.production.local, .env.local, .env.production, .env), with expansion; NEXT_RUNTIME and process.browser are inlined', async () => {
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
    NEXT_RUNTIME: 'nodejs',
    browser: false,
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

project('a middleware or proxy is named with its matcher: a host serving the files never runs it', async () => {
  // fixtures/middleware: a proxy.ts with a string and an object matcher; beside it, a middleware.js
  // of before Next.js 16 in src/, without a config (every path).
  const legacy = tempDir('middleware');
  writeFiles(legacy, { 'package.json': '{ "name": "legacy", "private": true }', 'src/app/feed.xml/route.ts': "export function GET() { return new Response('x'); }\n", 'src/middleware.js': 'export function middleware() {}\n' });
  const [withProxy, withMiddleware] = await Promise.all([build('middleware'), prerender({ appDir: path.join(legacy, 'src/app'), out: path.join(legacy, 'dist'), cwd: legacy })]);
  assert.equal(withProxy.warnings, ["proxy.ts: under Next.js the proxy runs before requests to the paths its matcher selects (/resume/:path*, /api/:path*), prerendered ones too; a host serving the output's files never runs it: do on the host what it does for those paths (redirects, headers, cookies, access checks), or keep them dynamic."]);
  assert.match(withMiddleware.warnings.join('\n'), /^src\/middleware\.js: under Next\.js the middleware runs before requests to every path, prerendered ones too/);
  assert.ok(withProxy.manifest.routes['/feed.xml'] && withMiddleware.manifest.routes['/feed.xml'], 'the routes are built all the same');
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

project("next.config runs as in next build's process (argv has build, cwd is the project root), from any folder, and what it prints goes to the logger", async () => {
  const dir = tempDir('config-build');
  writeFiles(dir, {
    'package.json': '{ "name": "config-build", "private": true }\n',
    // The pattern of Velite's Next.js set-up: the content is generated when the config is loaded for a build, relative to the working directory.
    'next.config.mjs': [
      "import { mkdirSync, writeFileSync } from 'node:fs';",
      "if (process.argv.includes('build')) {",
      "  mkdirSync('generated', { recursive: true });",
      "  writeFileSync('generated/content.json', JSON.stringify({ cwd: process.cwd(), third: process.argv[2] }));",
      "  console.log('content generated');",
      "  console.error('a note on stderr');",
      '}',
      'export default {};',
      '',
    ].join('\n'),
    'app/content.json/route.ts': "import content from '../../generated/content.json';\nexport function GET() {\n  return Response.json(content);\n}\n",
  });
  const run = async (out: string) => {
    const printed: string[] = [];
    const result = await buildProject(dir, { out: path.join(dir, out), logger: { warn: (text) => printed.push(text) } });
    return { printed, body: JSON.parse(text(result, '/content.json')) as unknown };
  };
  // From another folder (this process's), the config runs in a child process started in the project root.
  assert.is.not(process.cwd(), dir);
  const elsewhere = await run('dist-a');
  assert.equal(elsewhere.body, { cwd: dir, third: 'build' });
  assert.equal(elsewhere.printed.filter((line) => !line.startsWith('Incremental')), ['content generated', 'a note on stderr']);
  // From the project root, in a worker thread.
  rmSync(path.join(dir, 'generated'), { recursive: true });
  const back = process.cwd();
  process.chdir(dir);
  try {
    const inRoot = await run('dist-b');
    assert.equal(inRoot.body, { cwd: dir, third: 'build' });
    assert.equal(inRoot.printed, ['content generated', 'a note on stderr']);
  } finally {
    process.chdir(back);
  }
});

project('work a config starts without waiting for it (a content generator) is done before routes compile, as under next build', async () => {
  const dir = tempDir('config-settle');
  writeFiles(dir, {
    'package.json': '{ "name": "config-settle", "private": true }\n',
    // fumadocs-mdx's createMDX starts writing .source this way: the config returns before it is written.
    'next.config.mjs': [
      "import { execFile } from 'node:child_process';",
      "import { mkdirSync, writeFileSync } from 'node:fs';",
      "execFile(process.execPath, ['-e', 'setTimeout(() => {}, 300)'], () => {",
      "  mkdirSync('generated', { recursive: true });",
      "  writeFileSync('generated/late.json', JSON.stringify({ late: true }));",
      '});',
      'export default {};',
      '',
    ].join('\n'),
    'app/late.json/route.ts': "import late from '../../generated/late.json';\nexport function GET() {\n  return Response.json(late);\n}\n",
  });
  const result = await buildProject(dir);
  assert.equal(JSON.parse(text(result, '/late.json')), { late: true });
});

project('parseEnv reads the dotenv format', () => {
  assert.equal(parseEnv('A=1\n# comment\nexport B = two words # note\nC="x\\ny"\nD=\'$raw\'\nE=\n'), { A: '1', B: 'two words', C: 'x\ny', D: '\0raw$raw', E: '' });
});

project.run();
