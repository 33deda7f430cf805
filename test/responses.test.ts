/** Bodies, statuses, redirects and methods, on real fixture apps. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { body, build, text } from './helpers.js';

const bodies = suite('bodies');

bodies('binary bodies come out byte for byte', async () => {
  const result = await build('bodies');
  const bytes = body(result, '/binary.bin');
  assert.is(bytes.length, 256);
  assert.ok(bytes.every((byte, i) => byte === i));
  assert.is(result.manifest.routes['/binary.bin'].headers['content-type'], 'application/octet-stream');
});

bodies('streamed bodies are drained completely', async () => {
  const result = await build('bodies');
  assert.is(text(result, '/streamed.txt'), 'chunk 0\nchunk 1\nchunk 2\n');
});

bodies('a string body without content-type gets text/plain;charset=UTF-8, as under next build', async () => {
  const result = await build('bodies');
  assert.is(result.manifest.routes['/plain'].headers['content-type'], 'text/plain;charset=UTF-8');
  assert.is(text(result, '/plain'), 'héllo');
  assert.is(result.manifest.routes['/plain'].size, 6);
});

bodies('a 204 is written as an empty file', async () => {
  const result = await build('bodies');
  assert.is(result.manifest.routes['/empty'].status, 204);
  assert.is(body(result, '/empty').length, 0);
});

bodies('several set-cookie headers are kept as an array', async () => {
  const { manifest } = await build('bodies');
  assert.equal(manifest.routes['/with-cookies'].headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
});

bodies.run();

const navigation = suite('redirects and statuses');

navigation('redirect() is a 307 with Location and no file', async () => {
  const { manifest } = await build('navigation');
  const entry = manifest.routes['/old-feed'];
  assert.is(entry.status, 307);
  assert.is(entry.headers.location, '/rss.xml');
  assert.is(entry.file, null);
});

navigation('permanentRedirect() is a 308; NextResponse.redirect() is a 307 with an absolute Location', async () => {
  const { manifest } = await build('navigation');
  assert.is(manifest.routes['/moved'].status, 308);
  assert.is(manifest.routes['/absolute'].status, 307);
  assert.is(manifest.routes['/absolute'].headers.location, 'https://example.com/elsewhere');
});

navigation('notFound() and a returned 404 are recorded without a file', async () => {
  const { manifest } = await build('navigation');
  assert.is(manifest.routes['/gone'].status, 404);
  assert.is(manifest.routes['/gone'].file, null);
  assert.is(manifest.routes['/missing'].status, 404);
  assert.is(manifest.routes['/missing'].file, null);
});

navigation('unstable_rethrow lets a caught redirect through', async () => {
  const { manifest } = await build('navigation');
  assert.is(manifest.routes['/caught-redirect'].headers.location, '/target');
});

navigation('a 500 makes the path dynamic, with the status as the reason', async () => {
  const { manifest } = await build('navigation');
  const reasons = manifest.dynamic['/server-error'].reasons;
  assert.is(reasons[0].kind, 'response.status');
  assert.match(reasons[0].message, 'response.status is 500');
});

navigation.run();

const methods = suite('methods');

methods('a route that also exports POST is dynamic as a whole, GET included', async () => {
  const { manifest } = await build('methods');
  assert.equal(manifest.dynamic['/with-post'].reasons.map((r) => [r.kind, r.at]), [['POST', 'fixtures/methods/app/with-post/route.ts:5:23']]);
  assert.not.ok(manifest.routes['/with-post']);
});

methods('PUT and DELETE exported through export { … as } are found, each with its line', async () => {
  const { manifest } = await build('methods');
  assert.equal(manifest.dynamic['/put-delete'].reasons.map((r) => r.kind), ['PUT', 'DELETE']);
  assert.is(manifest.dynamic['/put-delete'].reasons[0].at, 'fixtures/methods/app/put-delete/route.ts:5:37');
});

methods('a route without GET is dynamic for that reason alone, naming the methods it has', async () => {
  const { manifest } = await build('methods');
  assert.equal(manifest.dynamic['/only-post'].reasons.map((r) => r.kind), ['no GET']);
  assert.match(manifest.dynamic['/only-post'].reasons[0].message, '(it exports POST)');
});

methods('HEAD does not keep a route on a server', async () => {
  const result = await build('methods');
  assert.is(text(result, '/with-head'), 'body');
});

methods.run();
