/** The rest of the next/server, next/cache and fetch surface that route code touches. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isClientModule } from '../src/bundle.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build, buildProject, ROOT, tempDir, text, writeFiles } from './helpers.js';

const surface = suite('next surface');

surface('fetchCache: force-no-store and default-no-store make fetches request-time, as in Next.js', async () => {
  const { manifest } = await build('next-surface');
  assert.equal(manifest.dynamic['/fetch-cache/force-no-store'].reasons.map((r) => [r.kind, r.at]), [["fetchCache = 'force-no-store'", 'fixtures/next-surface/app/fetch-cache/force-no-store/route.ts:4:26']]);
  assert.is(manifest.dynamic['/fetch-cache/default-no-store'].reasons[0].kind, "fetchCache = 'default-no-store'");
  assert.ok(manifest.routes['/fetch-cache/default-no-store-cached'], 'an explicit force-cache wins over default-no-store');
  assert.ok(manifest.routes['/fetch-cache/force-cache'], 'force-cache overrides a no-store fetch');
  assert.is(manifest.dynamic['/fetch-cache/no-cache'].reasons[0].kind, "fetch({ cache: 'no-cache' })");
});

surface("fetchCache: only-cache and only-no-store refuse the other kind of fetch with Next.js's words", async () => {
  const { manifest } = await build('next-surface');
  assert.is(manifest.errors['/fetch-cache/only-cache'].message, `cache: 'no-store' used on fetch for data:application/json,{"n":1} with 'export const fetchCache = 'only-cache'`);
  assert.is(manifest.errors['/fetch-cache/only-cache'].at, 'fixtures/next-surface/app/fetch-cache/only-cache/route.ts:4:26');
  assert.is(manifest.errors['/fetch-cache/only-no-store'].message, `cache: 'force-cache' used on fetch for data:application/json,{"n":1} with 'export const fetchCache = 'only-no-store'`);
});

surface('fetch next.tags are recorded per path, sorted and unique', async () => {
  const { manifest } = await build('next-surface');
  assert.equal(manifest.routes['/tags'].tags, ['authors', 'posts']);
  assert.is(manifest.routes['/after'].tags, undefined);
});

surface('after() callbacks run before the path is done; their output stays with the path', async () => {
  const result = await build('next-surface');
  assert.is(text(result, '/after'), 'before');
  assert.equal(result.results.find((r) => r.path === '/after')!.logs, ['after ran']);
});

surface('unstable_cache is memoised for the build, and its revalidate lowers the path\'s, as in Next.js', async () => {
  const result = await build('next-surface');
  assert.equal(JSON.parse(text(result, '/unstable-cache')), { calls: 2 });
  assert.is(result.manifest.routes['/unstable-cache-revalidate'].revalidate, 30);
  // Under Next.js 14's rules a no-store fetch inside it still keeps the route on a server (15+ cache it with it).
  assert.is(result.manifest.dynamic['/cached-fetch'].reasons[0].kind, "fetch({ cache: 'no-store' })");
});

surface('revalidateTag() in a GET makes the path dynamic, under force-static too; updateTag() there is an error, as in Next.js', async () => {
  const { manifest } = await build('next-surface');
  assert.equal(manifest.dynamic['/revalidate-in-get'].reasons.map((r) => [r.kind, r.at]), [['revalidateTag()', 'fixtures/next-surface/app/revalidate-in-get/route.ts:5:3']]);
  // Under force-static too, unlike headers() and cookies(), which it empties.
  assert.equal(manifest.dynamic['/revalidate-force-static'].reasons.map((r) => [r.kind, r.at]), [['revalidateTag()', 'fixtures/next-surface/app/revalidate-force-static/route.ts:8:3']]);
  assert.is(manifest.errors['/update-tag'].code, 'HANDLER_THREW');
  assert.match(manifest.errors['/update-tag'].message, 'updateTag can only be called from within a Server Action');
});

surface('under force-static, draftMode().enable() keeps the route on a server, and headers() and cookies() are read-only, as in Next.js', async () => {
  const result = await build('next-surface');
  const { manifest } = result;
  assert.equal(manifest.dynamic['/force-static/draft-enable'].reasons.map((r) => [r.kind, r.at]), [['draftMode().enable()', 'fixtures/next-surface/app/force-static/draft-enable/route.ts:7:23']]);
  assert.is(manifest.errors['/force-static/cookie-set'].code, 'HANDLER_THREW');
  assert.is(manifest.errors['/force-static/cookie-set'].message, 'Cookies can only be modified in a Server Action or Route Handler. Read more: https://nextjs.org/docs/app/api-reference/functions/cookies#options');
  assert.is(text(result, '/force-static/header-set'), 'refused: Headers cannot be modified. Read more: https://nextjs.org/docs/app/api-reference/functions/headers');
});

surface('a route without dynamic segments gets { params: undefined }, as from next build', async () => {
  const result = await build('next-surface');
  assert.equal(JSON.parse(text(result, '/context')), { keys: ['params'], params: 'undefined' });
});

surface("NextResponse.rewrite(), NextResponse.next() and a relative NextResponse.redirect() are errors in Next.js's words", async () => {
  const { manifest } = await build('next-surface');
  assert.is(manifest.errors['/rewrite'].message, 'NextResponse.rewrite() was used in a app route handler, this is not currently supported. Please remove the invocation to continue.');
  assert.match(manifest.errors['/next'].message, 'NextResponse.next() was used in a app route handler, this is not supported.');
  assert.match(manifest.errors['/relative-redirect'].message, 'URL is malformed "/relative". Please use only absolute URLs');
  assert.is(manifest.errors['/rewrite'].at, 'fixtures/next-surface/app/rewrite/route.ts:4:23');
});

surface('request.ip and request.geo are absent at build time and are not request-time data', async () => {
  const result = await build('next-surface');
  assert.equal(JSON.parse(text(result, '/request-surface')), { ip: null, geo: null, pathname: '/request-surface' });
});

surface("a 'use client' module imported by a route is client references, its code not run, as in Next.js's server layer", async () => {
  const result = await build('next-surface');
  assert.equal(JSON.parse(text(result, '/client-references')), {
    button: 'function',
    reference: true,
    called: "Attempted to call format() from the server but format is on the client. It's not possible to invoke a client function from the server, it can only be rendered as a Component or passed to props of a Client Component.",
  });
});

surface('promisify(setTimeout) resolves with its value under the watched timers, as in Node.js', async () => {
  assert.is(text(await build('next-surface'), '/promisified'), 'waited slept\n');
});

surface('a client module is told by its directives, scanned in linear time', () => {
  assert.ok(isClientModule("'use client';\nexport const a = 1;"));
  assert.ok(isClientModule('// note\n/* more */\n"use strict";\n"use client"\nexport {};'));
  assert.not.ok(isClientModule("import x from 'y';\n'use client';"));
  assert.not.ok(isClientModule("const s = 'use client';"));
  // Long runs of blanks and comments (a pattern with nested repetition backtracks on them without end).
  const spaces = ' '.repeat(200_000);
  assert.not.ok(isClientModule(`${spaces}/* x */${spaces}export {};`));
  assert.ok(isClientModule(`${spaces}// x\n${spaces}'use client';`));
});

surface("server-external packages are imported from the project's node_modules, not compiled in (Next.js's list and serverExternalPackages); compiled packages may use __dirname; turbopack.resolveAlias and webpack() aliases apply, and tsconfig aliases in computed imports; a native addon makes every path run again", async () => {
  const dir = tempDir('externals');
  // Two CommonJS packages that read a file beside their own code (compiled into a route module,
  // __dirname would not exist): one on Next.js's list, one named in the config.
  const beside = (name: string, data: string) => ({
    [`node_modules/${name}/package.json`]: JSON.stringify({ name, main: 'index.js' }),
    [`node_modules/${name}/index.js`]: "const fs = require('fs');\nconst path = require('path');\nmodule.exports = () => fs.readFileSync(path.join(__dirname, 'data.txt'), 'utf8');\n",
    [`node_modules/${name}/data.txt`]: data,
  });
  writeFiles(dir, {
    ...beside('better-sqlite3', 'listed'),
    ...beside('beside-me', 'configured'),
    'package.json': '{ "name": "externals", "private": true }\n',
    // Aliases as next-intl's plugin sets them for next-intl/config: a path from the project root, and conditions.
    // And one that only a webpack() function sets, as next-intl's plugin does before Next.js 16 (it
    // constructs a webpack plugin too, which must not stop the aliases from being read).
    'next.config.mjs': [
      "import path from 'node:path';",
      'export default {',
      "  serverExternalPackages: ['beside-me'],",
      "  turbopack: { resolveAlias: { 'site/config': './config/site.ts', 'site/platform': { browser: './config/browser.ts', default: './config/server.ts' } } },",
      '  webpack(config, { webpack }) {',
      "    config.resolve.alias['site/webpack-only'] = path.resolve(config.context, 'config/webpack.ts');",
      '    config.plugins.push(new webpack.DefinePlugin({}));',
      '    return config;',
      '  },',
      '};',
      '',
    ].join('\n'),
    'tsconfig.json': '{ "compilerOptions": { "paths": { "@/*": ["./*"] } } }\n',
    'messages/en.json': '{ "hello": "Hello" }\n',
    'config/site.ts': "export const name = 'aliased';\n",
    'config/server.ts': "export const platform = 'server';\n",
    'config/browser.ts': "export const platform = 'browser';\n",
    'config/webpack.ts': "export const via = 'webpack';\n",
    'app/both.txt/route.ts': "import listed from 'better-sqlite3';\nimport configured from 'beside-me';\nexport function GET() {\n  return new Response(`${listed()} ${configured()}`);\n}\n",
    // A package compiled into the route that uses __dirname when it loads, as Next.js's bundles allow.
    'node_modules/uses-dirname/package.json': '{ "name": "uses-dirname", "main": "index.js" }',
    'node_modules/uses-dirname/index.js': "const here = require('path').join(__dirname, 'templates');\nmodule.exports = () => typeof here + ' ' + typeof __filename;\n",
    'app/dirname.txt/route.ts': "import where from 'uses-dirname';\nexport function GET() {\n  return new Response(where());\n}\n",
    'app/alias.txt/route.ts': "import { name } from 'site/config';\nimport { platform } from 'site/platform';\nimport { via } from 'site/webpack-only';\nexport function GET() {\n  return new Response(`${name} ${platform} ${via}`);\n}\n",
    // A computed import through a tsconfig alias, as next-intl apps load their messages.
    'app/messages.txt/route.ts': "export async function GET() {\n  const locale = 'en';\n  const messages = (await import(`@/messages/${locale}.json`)).default;\n  return new Response(messages.hello);\n}\n",
    // Loading a native addon (this one does not exist; the attempt is what counts).
    'app/addon.txt/route.ts': "try {\n  process.dlopen({ exports: {} }, '/nowhere/fake.node');\n} catch {}\nexport function GET() {\n  return new Response('addon');\n}\n",
  });
  const run = () => buildProject(dir, { incremental: true });
  const first = await run();
  assert.equal(first.manifest.errors, {});
  assert.is(text(first, '/both.txt'), 'listed configured');
  assert.is(text(first, '/dirname.txt'), 'string string');
  assert.is(text(first, '/alias.txt'), 'aliased server webpack');
  assert.is(text(first, '/messages.txt'), 'Hello');
  const second = await run();
  assert.equal(second.incremental!.causes.map((c) => c.cause), ['loading modules uses a native addon fake.node (whose reads are not seen) (app/addon.txt/route.ts:2)']);
  assert.is(second.incremental!.rebuilt, 5);
});

surface('a CommonJS server-external package is required, as webpack requires it: its named imports need not be readable in its source; an ES module one is imported', async () => {
  const dir = tempDir('externals-cjs');
  writeFiles(dir, {
    'package.json': '{ "name": "externals-cjs", "private": true }\n',
    // As @prisma/client writes its entry: names Node.js cannot find without running it.
    'node_modules/@prisma/client/package.json': '{ "name": "@prisma/client", "main": "index.js" }',
    'node_modules/@prisma/client/index.js': "const made = { PrismaClient: class PrismaClient {}, engine: 'library' };\nmodule.exports = { ...made };\n",
    'node_modules/shiki/package.json': '{ "name": "shiki", "type": "module", "exports": "./index.js" }',
    'node_modules/shiki/index.js': "export const highlight = (code) => `<pre>${code}</pre>`;\n",
    'app/db.txt/route.ts': "import { PrismaClient, engine } from '@prisma/client';\nimport prisma from '@prisma/client';\nimport { highlight } from 'shiki';\nexport function GET() {\n  return new Response(`${new PrismaClient().constructor.name} ${engine} ${typeof prisma.PrismaClient} ${highlight('x')}`);\n}\n",
  });
  const result = await buildProject(dir);
  assert.equal(result.manifest.errors, {});
  assert.is(text(result, '/db.txt'), 'PrismaClient library function <pre>x</pre>');
  // A client Prisma has not generated yet: the hint says how to make it.
  writeFiles(dir, { 'node_modules/@prisma/client/index.js': "module.exports = require('.prisma/client/default');\n" });
  const ungenerated = await buildProject(dir);
  assert.is(ungenerated.manifest.errors['/db.txt']?.code, 'MODULE_THREW');
  assert.match(ungenerated.manifest.errors['/db.txt']?.hint ?? '', 'run `npx prisma generate` in the project');
});

surface("a native addon a compiled package requires is required from where it is, as Turbopack loads one", async () => {
  const dir = tempDir('addon-file');
  writeFiles(dir, {
    'package.json': '{ "name": "addon-file", "private": true }\n',
    // As a napi-rs package requires its platform binary (this one is not a real addon: loading it fails, naming its place).
    'node_modules/fake-binding/package.json': '{ "name": "fake-binding", "main": "index.js" }',
    'node_modules/fake-binding/index.js': "let loaded;\ntry {\n  loaded = require('./fake.linux-x64.node');\n} catch (error) {\n  loaded = { failed: error.message.split('\\n')[0] };\n}\nmodule.exports = loaded;\n",
    'node_modules/fake-binding/fake.linux-x64.node': 'not an ELF file',
    'app/addon.txt/route.ts': "import binding from 'fake-binding';\nexport function GET() {\n  return new Response(String(binding.failed));\n}\n",
  });
  const result = await buildProject(dir);
  assert.equal(result.manifest.errors, {});
  assert.match(text(result, '/addon.txt'), path.join(dir, 'node_modules/fake-binding/fake.linux-x64.node'));
});

surface('a native addon a server-external package loads runs again only the routes that import such a package', async () => {
  const dir = tempDir('addon-scope');
  writeFiles(dir, {
    'package.json': '{ "name": "addon-scope", "private": true }\n',
    'next.config.mjs': "export default { serverExternalPackages: ['loads-addon'] };\n",
    'node_modules/loads-addon/package.json': '{ "name": "loads-addon", "main": "index.js" }',
    // As better-sqlite3 or sharp load theirs (this addon does not exist; the attempt is what counts).
    'node_modules/loads-addon/index.js': "try {\n  process.dlopen({ exports: {} }, '/nowhere/engine.node');\n} catch {}\nmodule.exports = () => 'rendered';\n",
    'app/image.txt/route.ts': "import render from 'loads-addon';\nexport function GET() {\n  return new Response(render());\n}\n",
    'app/plain.txt/route.ts': "export function GET() {\n  return new Response('plain');\n}\n",
  });
  const run = () => buildProject(dir, { incremental: true });
  await run();
  const second = await run();
  assert.equal(second.incremental!.causes, [{ cause: 'loading modules uses a native addon engine.node (whose reads are not seen)', count: 1, examples: ['/image.txt'] }]);
  assert.is(second.incremental!.reused, 1, 'the route that imports no server-external package keeps its bytes');
});

surface("the config's turbopack.rules loaders compile the files they match (webpack's loader API), and what a loader depends on is an input", async () => {
  const dir = tempDir('loaders');
  writeFiles(dir, {
    'package.json': '{ "name": "loaders", "private": true }\n',
    // A loader as plugins ship them (fumadocs-mdx's reads a post's frontmatter): asynchronous, with options, the import's query and a dependency.
    'md-loader.cjs': [
      "const fs = require('node:fs');",
      "const path = require('node:path');",
      'module.exports = function (source) {',
      '  const done = this.async();',
      "  const shared = path.join(this.rootContext, 'notes/shared.txt');",
      '  this.addDependency(shared);',
      "  const text = `${this.getOptions().prefix}${source.trim()}|${this.resourceQuery}|${fs.readFileSync(shared, 'utf8').trim()}`;",
      '  setTimeout(() => done(null, `export default ${JSON.stringify(text)};`), 1);',
      '};',
      '',
    ].join('\n'),
    // A loader only for imports with a query, as fumadocs-mdx declares its `*.json` one.
    'json-loader.cjs': 'module.exports = function (source) {\n  return `export default ${JSON.stringify({ loaded: JSON.parse(source), query: this.resourceQuery })};`;\n};\n',
    // Conditions, as Turbopack reads them: the first rule whose condition holds applies (a browser-only one never does here).
    'next.config.mjs': [
      'export default { turbopack: { rules: {',
      "  '*.md': [{ loaders: ['./no-such-loader.cjs'], condition: 'browser' }, { loaders: [{ loader: './md-loader.cjs', options: { prefix: 'P:' } }], as: '*.js', condition: { all: ['production', { path: 'notes/**' }, { not: { content: /DRAFT/ } }] } }],",
      "  '*.json': { loaders: ['./json-loader.cjs'], as: '*.js', condition: { query: /[?&]collection=/ } },",
      // A pattern with the g flag holds for each file (its test does not move on from the last match).
      "  '*.data': { loaders: ['./json-loader.cjs'], as: '*.js', condition: { query: /[?&]v=/g } },",
      '} } };',
      '',
    ].join('\n'),
    'notes/a.md': '# A\n',
    'notes/shared.txt': 'one\n',
    'notes/plain.json': '{ "a": 1 }\n',
    'notes/meta.json': '{ "b": 2 }\n',
    'notes/a.data': '{ "c": 3 }\n',
    'notes/b.data': '{ "d": 4 }\n',
    'app/note.txt/route.ts': "import note from '../../notes/a.md?collection=notes';\nexport function GET() {\n  return new Response(note);\n}\n",
    'app/data.json/route.ts': "import plain from '../../notes/plain.json';\nimport meta from '../../notes/meta.json?collection=notes';\nimport a from '../../notes/a.data?v=1';\nimport b from '../../notes/b.data?v=1';\nexport function GET() {\n  return Response.json({ plain, meta, a, b });\n}\n",
  });
  const run = () => buildProject(dir, { incremental: true });
  const first = await run();
  assert.equal(first.manifest.errors, {});
  assert.is(text(first, '/note.txt'), 'P:# A|?collection=notes|one');
  assert.is(text(first, '/data.json'), '{"plain":{"a":1},"meta":{"loaded":{"b":2},"query":"?collection=notes"},"a":{"loaded":{"c":3},"query":"?v=1"},"b":{"loaded":{"d":4},"query":"?v=1"}}');
  assert.is((await run()).incremental!.reused, 2);
  writeFiles(dir, { 'notes/shared.txt': 'two\n' });
  const after = await run();
  assert.equal(after.incremental!.causes.map((c) => c.cause), ['the code of app/note.txt/route.ts or of a module it imports changed']);
  assert.is(text(after, '/note.txt'), 'P:# A|?collection=notes|two');
});

surface('an imported image is its data ({ src, height, width, … }) as under Next.js, under the basePath; disableStaticImages leaves it out', async () => {
  const result = await build('images');
  assert.equal(result.manifest.errors, {});
  const data = JSON.parse(text(result, '/docs/images.json')) as Record<string, Record<string, unknown>>;
  const sizes = Object.fromEntries(Object.entries(data).map(([name, image]) => [name, [image.width, image.height]]));
  assert.equal(sizes, { hero: [3, 2], photo: [5, 4], dot: [2, 3], pic: [4, 3], lossless: [6, 9], alpha: [9, 6], icon: [7, 5], favicon: [16, 16], logo: [24, 12], wide: [30, 10] });
  // Without Next.js installed: the name's hash is the file's sha256, and there is no placeholder.
  const hash = createHash('sha256').update(readFileSync(path.join(ROOT, 'fixtures/images/assets/hero.png'))).digest('hex').slice(0, 8);
  assert.equal(data.hero, { src: `/docs/_next/static/media/hero.${hash}.png`, height: 2, width: 3, blurWidth: 0, blurHeight: 0 });
  assert.equal(Object.keys(data.hero), ['src', 'height', 'width', 'blurWidth', 'blurHeight'], "Next.js's key order");
  const dir = tempDir('no-static-images');
  writeFiles(dir, {
    'package.json': '{ "name": "no-static-images", "private": true }\n',
    'next.config.mjs': 'export default { images: { disableStaticImages: true } };\n',
    'hero.png': readFileSync(path.join(ROOT, 'fixtures/images/assets/hero.png')),
    'app/hero.json/route.ts': "import hero from '../../hero.png';\nexport function GET() {\n  return Response.json(hero);\n}\n",
  });
  const off = await buildProject(dir);
  assert.match(off.manifest.errors['/hero.json']?.message ?? '', 'No loader is configured for ".png" files');
  // A file that is no image: the error names it and says what to do.
  writeFiles(dir, { 'next.config.mjs': 'export default {};\n', 'hero.png': 'not an image' });
  const broken = await buildProject(dir);
  assert.match(broken.manifest.errors['/hero.json']?.message ?? '', 'hero.png is not an image Next.js can read (its size cannot be read), and Next.js fails the build on it too: replace it with a valid image, or remove its import');
});

surface("next/root-params gives each name imported as an async function of the path's param, as Next.js 16's compiler writes it", async () => {
  const dir = tempDir('root-params');
  writeFiles(dir, {
    'package.json': '{ "name": "root-params", "private": true }\n',
    'app/[locale]/greeting/route.ts': [
      "import { locale, type Other } from 'next/root-params';",
      '',
      "export const generateStaticParams = () => [{ locale: 'en' }, { locale: 'fr' }];",
      '',
      'export async function GET() {',
      '  return new Response(`hello ${await locale()}`);',
      '}',
      'export type Unused = Other;',
      '',
    ].join('\n'),
  });
  const result = await buildProject(dir);
  assert.equal(result.manifest.errors, {});
  assert.equal([text(result, '/en/greeting'), text(result, '/fr/greeting')], ['hello en', 'hello fr']);
});

surface.run();

const profiles = suite('cache profiles');

profiles('cacheLife and cacheTag (and their unstable_ names) are harmless at build time', async () => {
  const result = await build('next-surface');
  assert.is(text(result, '/cache-profile'), 'profiled');
});

profiles.run();
