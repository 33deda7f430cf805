/**
 * Detection of request-time data (docs/nextjs-rules.md §2), each trigger in its own fixture route,
 * with the kind and the user's own line in each reason.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describeReason, type ReasonKind } from '../src/reasons.js';
import { build, fixture, text } from './helpers.js';

const detect = suite('request-time data');

const expected: Record<string, [kind: string, at: string]> = {
  '/headers': ['headers()', 'headers/route.ts:4:22'],
  '/headers-sync': ['headers()', 'headers-sync/route.ts:5:33'],
  '/swallowed': ['headers()', 'swallowed/route.ts:6:20'],
  '/request-url': ['request.url', 'request-url/route.ts:2:44'],
  '/request-headers': ['request.headers', 'request-headers/route.ts:2:40'],
  '/request-cookies': ['request.cookies', 'request-cookies/route.ts:4:41'],
  '/request-json': ['request.json()', 'request-json/route.ts:2:30'],
  '/request-clone': ['request.url', 'request-clone/route.ts:3:28'],
  '/search-params': ['nextUrl.searchParams', 'search-params/route.ts:4:32'],
  '/next-url-href': ['nextUrl.href', 'next-url-href/route.ts:4:39'],
  '/cookies-set': ['cookies()', 'cookies-set/route.ts:4:10'],
  '/draft-enable': ['draftMode().enable()', 'draft-enable/route.ts:4:23'],
  '/connection': ['connection()', 'connection/route.ts:4:9'],
  '/no-store': ['unstable_noStore()', 'no-store/route.ts:4:3'],
  '/fetch-no-store': ["fetch({ cache: 'no-store' })", 'fetch-no-store/route.ts:2:26'],
  '/fetch-revalidate-0': ['fetch({ next: { revalidate: 0 } })', 'fetch-revalidate-0/route.ts:2:26'],
  '/request-text': ['request.text()', 'request-text/route.ts:2:37'],
  '/request-body': ['request.body', 'request-body/route.ts:2:31'],
  '/next-url-search': ['nextUrl.search', 'next-url-search/route.ts:4:39'],
  '/next-url-origin': ['nextUrl.origin', 'next-url-origin/route.ts:4:50'],
  '/next-url-to-string': ['nextUrl.toString()', 'next-url-to-string/route.ts:4:34'],
  '/draft-disable': ['draftMode().disable()', 'draft-disable/route.ts:4:23'],
};

for (const [urlPath, [kind, at]] of Object.entries(expected)) {
  detect(`${urlPath}: ${kind} makes the path dynamic, reported at ${at}`, async () => {
    const { manifest } = await build('request-data');
    const entry = manifest.dynamic[urlPath];
    assert.ok(entry, `${urlPath} should be dynamic`);
    assert.equal(entry.reasons.map((r) => r.kind), [kind]);
    assert.is(entry.reasons[0].at, `fixtures/request-data/app/${at}`);
    // The message starts with the API as written and says why it is request-time.
    assert.ok(entry.reasons[0].message.startsWith(`${kind} `), entry.reasons[0].message);
    assert.is(entry.reasons[0].message, describeReason(kind as ReasonKind));
  });
}

detect('a try/catch that swallows the bail-out does not make the path static', async () => {
  const { manifest } = await build('request-data');
  assert.not.ok(manifest.routes['/swallowed']);
  assert.ok(manifest.dynamic['/swallowed']);
});

detect('a helper module that reads cookies() is reported at its own line', async () => {
  const { manifest } = await build('request-data');
  assert.equal(manifest.dynamic['/via-helper'].reasons.map((r) => [r.kind, r.at]), [['cookies()', 'fixtures/request-data/lib/theme.ts:4:21']]);
});

detect('method, pathname, host, ip and signal are not request-time data', async () => {
  const result = await build('request-data');
  assert.equal(JSON.parse(text(result, '/untracked')), {
    method: 'GET',
    pathname: '/untracked',
    host: 'localhost:3000',
    hostname: 'localhost',
    port: '3000',
    protocol: 'http:',
    basePath: '',
    ip: null,
    aborted: false,
  });
});

detect('draftMode().isEnabled is false at build and not request-time data', async () => {
  const result = await build('request-data');
  assert.equal(JSON.parse(text(result, '/draft-is-enabled')), { isEnabled: false });
});

detect('the build is complete: every route is static or dynamic, none errored', async () => {
  const { manifest } = await build('request-data');
  assert.equal(manifest.errors, {});
  // One entry per route folder of the fixture: none lost, none errored.
  const folders = readdirSync(path.join(fixture('request-data'), 'app')).map((name) => `/${name}`).sort();
  const keys = [...Object.keys(manifest.routes), ...Object.keys(manifest.dynamic)].sort();
  assert.equal(keys, folders);
});

detect.run();

const packages = suite('packages');

packages('a package that imports next/headers gets the instrumented one; the reason points at the app code', async () => {
  const { manifest } = await build('package-import');
  assert.equal(manifest.dynamic['/me.json'].reasons.map((r) => [r.kind, r.at]), [['headers()', 'fixtures/package-import/app/me.json/route.ts:4:32']]);
});

packages('bundled code can use Node built-ins, and process.cwd() is the project root', async () => {
  const result = await build('package-import');
  assert.equal(JSON.parse(text(result, '/cms.json')), { cms: 'fake-cms' });
});

packages('a src/app project is found from its project folder', async () => {
  const result = await build('src-layout');
  assert.is(text(result, '/hello.txt'), 'hello from src/app (src-layout)');
  assert.is(result.manifest.routes['/hello.txt'].source, 'fixtures/src-layout/src/app/hello.txt/route.ts');
});

packages.run();
