/**
 * Broken routes: each is an error that names the file, the line and the fix, and none hides the
 * results of the others.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { build, fixture, tempDir, text } from './helpers.js';

const broken = suite('broken routes');

broken('the one good route is still built', async () => {
  const result = await build('broken');
  assert.is(text(result, '/ok'), 'still built');
});

broken('a throwing handler is an error with the message and the line of the throw', async () => {
  const { manifest } = await build('broken');
  assert.is(manifest.errors['/throws'].message, 'missing API key');
  assert.is(manifest.errors['/throws'].at, 'fixtures/broken/app/throws/route.ts:7:9');
  assert.is(manifest.errors['/throws'].source, 'fixtures/broken/app/throws/route.ts');
});

broken('returning undefined or a string is an error in Next.js words; console output is kept', async () => {
  const result = await build('broken');
  const undef = result.manifest.errors['/returns-undefined'];
  assert.match(undef.message, "No response is returned from route handler '/returns-undefined'. Ensure you return a `Response`");
  assert.match(undef.message, 'It returned undefined');
  assert.is(undef.at, 'fixtures/broken/app/returns-undefined/route.ts:1:17');
  assert.match(result.manifest.errors['/returns-string'].message, 'It returned a string');
  const logged = result.results.find((r) => r.path === '/returns-undefined')!;
  assert.equal(logged.logs, ['computing nothing']);
});

broken('a GET that is not a function is an error at its export', async () => {
  const { manifest } = await build('broken');
  assert.is(manifest.errors['/get-not-function'].message, 'The route exports GET, but it is not a function.');
  assert.is(manifest.errors['/get-not-function'].at, 'fixtures/broken/app/get-not-function/route.ts:1:14');
});

broken('a module that throws while loading is an error at the throwing line', async () => {
  const { manifest } = await build('broken');
  assert.match(manifest.errors['/throws-on-load'].message, 'The route module threw while it was loaded: SyntaxError');
  assert.is(manifest.errors['/throws-on-load'].at, 'fixtures/broken/app/throws-on-load/route.ts:1:23');
});

broken("a syntax error is reported at esbuild's location; the other modules still compile", async () => {
  const { manifest } = await build('broken');
  assert.match(manifest.errors['/syntax-error'].message, 'The route module does not compile: Expected ")" but found "}"');
  assert.is(manifest.errors['/syntax-error'].at, 'fixtures/broken/app/syntax-error/route.ts:3:1');
});

broken('an unresolved import names the import and says how to fix it', async () => {
  const { manifest } = await build('broken');
  const error = manifest.errors['/missing-import'];
  assert.match(error.message, 'Could not resolve "./does-not-exist"');
  assert.is(error.at, 'fixtures/broken/app/missing-import/route.ts:1:23');
  assert.is(error.code, 'COMPILE_FAILED');
  const frame = (await build('broken')).results.find((r) => r.path === '/missing-import' && r.type === 'error') as { frame?: string };
  assert.is(frame.frame, "1 | import { thing } from './does-not-exist';\n  |                       ^^^^^^^^^^^^^^^^^^");
  assert.match(error.hint!, 'fix the import path: no file ./does-not-exist');
});

broken('the hint for an unresolved import fits the kind of import', async () => {
  const { loaderHint, unresolvedHint } = await import('../src/bundle.js');
  assert.match(unresolvedHint('Could not resolve "@/lib/posts"')!, 'looks like a path alias');
  assert.match(unresolvedHint('Could not resolve "@scope/pkg/sub"')!, 'install @scope/pkg in the project');
  assert.match(unresolvedHint('Could not resolve "left-pad/x"')!, 'npm install left-pad');
  assert.is(unresolvedHint('Expected ";"'), undefined);
  assert.match(loaderHint('No loader is configured for ".png" files: app/logo.png')!, "readFile(new URL('./file.png', import.meta.url))");
  assert.match(unresolvedHint('Could not resolve ".prisma/client/index"', 'node_modules/@prisma/client/index.js')!, 'the package @prisma/client imports .prisma/client/index');
  assert.match(unresolvedHint('Could not resolve "contentlayer/generated"', 'app/sitemap.ts', fixture('real-world'))!, 'tsconfig.json maps contentlayer/generated to ./.contentlayer/generated');
  // A project whose generator is recognised gets its command, from the package installed.
  const project = tempDir('generator');
  writeFileSync(path.join(project, 'tsconfig.json'), '{ "compilerOptions": { "paths": { "contentlayer/generated": ["./.contentlayer/generated"] } } }\n');
  writeFileSync(path.join(project, 'contentlayer.config.ts'), 'export default {};\n');
  mkdirSync(path.join(project, 'node_modules/contentlayer2'), { recursive: true });
  writeFileSync(path.join(project, 'node_modules/contentlayer2/package.json'), '{ "name": "contentlayer2" }\n');
  assert.match(unresolvedHint('Could not resolve "contentlayer/generated"', 'app/sitemap.ts', project)!, 'generate it first: run `npx contentlayer2 build` in the project (it reads contentlayer.config.ts;');
});

broken('generateStaticParams that throws is an error at the throw', async () => {
  const { manifest } = await build('broken');
  assert.is(manifest.errors['/params-throw/[slug]'].message, 'generateStaticParams failed: the CMS is down');
  assert.is(manifest.errors['/params-throw/[slug]'].at, 'fixtures/broken/app/params-throw/[slug]/route.ts:2:9');
});

broken('invalid generateStaticParams results name the index and what was expected', async () => {
  const { manifest } = await build('broken');
  assert.is(manifest.errors['/params-not-array/[slug]'].message, 'generateStaticParams must return an array of objects, but it returned an object.');
  assert.match(manifest.errors['/params-missing-key/[slug]'].message, 'entry [1] has no `slug`');
  assert.match(manifest.errors['/params-number/[slug]'].message, 'entry [0] has `slug` for /params-number/[slug] set to the number 1, expected a string');
  assert.match(manifest.errors['/params-string-catchall/[...path]'].message, 'expected a non-empty array of strings');
  assert.is(manifest.errors['/params-number/[slug]'].at, 'fixtures/broken/app/params-number/[slug]/route.ts:1:17');
});

broken('a / in a single-segment value is an error for that path, with the [...slug] hint', async () => {
  const { manifest } = await build('broken');
  const error = manifest.errors['/params-slash/a/b'];
  assert.is(error.code, 'PARAMS_INVALID');
  assert.match(error.message, 'contains `/`');
  assert.match(error.hint!, '[...slug]');
});

broken('a .. value is an error for its path only: the route\'s other paths are built', async () => {
  const result = await build('broken');
  assert.is(text(result, '/params-traversal/fine'), 'x');
  const climb = result.manifest.errors['/params-traversal/..'];
  assert.is(climb.code, 'PARAMS_INVALID');
  assert.match(climb.message, 'entry [1] has `slug` for /params-traversal/[slug] set to "..", which would climb folders');
  assert.match(result.manifest.errors['/params-traversal/../../x'].message, 'entry [2]');
  assert.match(result.manifest.errors['/params-traversal/../../x'].message, 'contains `/`');
  assert.is(climb.at, 'fixtures/broken/app/params-traversal/[slug]/route.ts:1:17');
});

broken('a param read twice is read once: the copy that was checked is the one used', async () => {
  const result = await build('broken');
  assert.is(text(result, '/params-getter/safe'), 'slug safe');
  assert.equal(Object.keys(result.manifest.routes).filter((key) => key.includes('ok')), ['/ok']);
  assert.not.ok(existsSync(path.join(result.partialDir!, '..', 'ok')), 'nothing written beside the output');
});

broken('no generateStaticParams and an empty result are dynamic, with reasons', async () => {
  const { manifest } = await build('broken');
  assert.is(manifest.dynamic['/no-params/[slug]'].reasons[0].kind, 'no generateStaticParams');
  assert.is(manifest.dynamic['/params-empty/[slug]'].reasons[0].kind, 'generateStaticParams() = []');
});

broken('process.exit() in a handler fails that path only', async () => {
  const { manifest } = await build('broken');
  assert.match(manifest.errors['/exits'].message, 'process.exit(7)');
});

broken('an error thrown from a timer is reported against its route', async () => {
  const { manifest } = await build('broken');
  assert.match(manifest.errors['/late-throw'].message, 'An error escaped the handler');
  assert.is(manifest.errors['/late-throw'].at, 'fixtures/broken/app/late-throw/route.ts:3:11');
});

broken('an error thrown by a timer or a promise after the response was returned fails that path', async () => {
  const { manifest } = await build('broken');
  assert.is(manifest.errors['/throws-after-return'].message, 'An error escaped the handler (thrown from a timer, an event or an unawaited promise): cleanup failed (after the response was returned)');
  assert.is(manifest.errors['/throws-after-return'].at, 'fixtures/broken/app/throws-after-return/route.ts:3:11');
  assert.match(manifest.errors['/rejects-after-return'].message, 'background sync failed (after the response was returned)');
  assert.not.ok(manifest.routes['/throws-after-return']);
});

broken('process.abort() and process.kill() of the build stop one worker only, and are named', async () => {
  const { manifest } = await build('broken');
  assert.is(manifest.errors['/aborts'].message, 'The route called process.abort(), which stopped its worker.');
  assert.is(manifest.errors['/kills'].message, 'The route called process.kill(process.pid, "SIGTERM"), which stopped its worker.');
  assert.is(manifest.errors['/exits'].message, 'The route called process.exit(7), which stopped its worker.');
});

broken('returning a plain object is an error that says what came back', async () => {
  const { manifest } = await build('broken');
  assert.match(manifest.errors['/returns-object'].message, 'It returned a plain object.');
});

broken('a body stream that errors half-way is an error for that path', async () => {
  const { manifest } = await build('broken');
  assert.match(manifest.errors['/broken-stream'].message, 'The response body failed while it was read: the database connection dropped');
});

broken('the previous output is left alone and the partial output is only kept on request', async () => {
  const result = await build('broken', { keepPartial: false });
  assert.not.ok(result.written);
  assert.is(result.partialDir, undefined);
  assert.not.ok(existsSync(result.outDir));
});

broken.run();

const conflicts = suite('URL conflicts and malformed folders');

conflicts('a route and a page at one URL is an error naming both files', async () => {
  const { manifest } = await build('conflicts');
  assert.is(manifest.errors['/about'].message, 'A route and a page resolve to the same URL /about: fixtures/conflicts/app/about/route.ts and fixtures/conflicts/app/about/page.tsx.');
});

conflicts('two route files at one URL through different groups is an error naming both', async () => {
  const { manifest } = await build('conflicts');
  assert.match(manifest.errors['/twice'].message, 'fixtures/conflicts/app/(a)/twice/route.ts and fixtures/conflicts/app/(b)/twice/route.ts');
});

conflicts('malformed segments are errors with a fix', async () => {
  const { manifest } = await build('conflicts');
  assert.match(manifest.errors['/[a][b]'].message, '`[a][b]`');
  assert.match(manifest.errors['/empty/[]'].message, 'empty parameter name');
  assert.match(manifest.errors['/rest/[...all]/more'].message, 'the catch-all `[...all]` is followed by `more`');
  assert.match(manifest.errors['/optional/[[x]]'].hint!, '[[...x]]');
});

conflicts('the other routes are still built', async () => {
  const { manifest } = await build('conflicts');
  assert.ok(manifest.routes['/fine']);
});

conflicts.run();

const limits = suite('time limit');

/** The hang fixture built once for the tests of limits (each route breaks a different one). */
let hang: ReturnType<typeof build> | undefined;
const buildHang = () => (hang ??= build('hang', { timeout: 1, retries: 1, maxMemory: 64, concurrency: 2 }));

limits('a handler that never settles, or spins forever, is stopped at --timeout, retried, and reported; the others are built', async () => {
  const { manifest } = await buildHang();
  assert.is(manifest.errors['/never'].message, 'The route timed out after 1 s (2 attempts).');
  assert.match(manifest.errors['/never'].hint!, '--timeout');
  assert.is(manifest.errors['/spin'].message, 'The route timed out after 1 s (2 attempts).');
  assert.is(manifest.routes['/fine'].status, 200);
});

limits('a route that allocates without bound is stopped by --max-memory', async () => {
  const { manifest } = await buildHang();
  assert.is(manifest.errors['/hog'].code, 'OUT_OF_MEMORY');
  assert.match(manifest.errors['/hog'].message, 'The route ran out of memory (limit 64 MB');
  assert.match(manifest.errors['/hog'].hint!, '--max-memory');
});

limits('Buffers count against --max-memory where Node.js tells a worker\'s memory (22.16+); on older versions only the heap does', async () => {
  const { manifest } = await buildHang();
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 16)) assert.is(manifest.errors['/buffers']?.code, 'OUT_OF_MEMORY', JSON.stringify(manifest.routes['/buffers']));
  else assert.is(manifest.routes['/buffers']?.status, 200, `documented: Node.js 20 limits the heap only (${JSON.stringify(manifest.errors['/buffers'])})`);
});

limits('a body over --max-body is an error for that path only', async () => {
  const { manifest } = await build('bodies', { maxBody: 100 / 1024 / 1024 });
  assert.is(manifest.errors['/binary.bin'].message, 'The response body is larger than the limit of 100 bytes (--max-body).');
  assert.ok(manifest.routes['/streamed.txt']);
  assert.ok(manifest.routes['/plain']);
});

limits('paths that would share a file are errors naming both routes; nothing is overwritten', async () => {
  const result = await build('collisions');
  assert.is(result.manifest.errors['/docs/index'].message, 'The path /docs/index cannot be written: its file docs/index would overwrite the file of /docs (fixtures/collisions/app/docs/route.ts).');
  assert.match(result.manifest.errors['/files/readme'].message, 'would overwrite the file of /files/README (fixtures/collisions/app/files/[name]/route.ts) (they differ only in case or Unicode form');
  assert.is(text(result, '/docs'), 'docs home');
  assert.is(text(result, '/files/README'), 'README');
});

limits.run();
