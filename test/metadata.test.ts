/** Metadata routes and files, at Next.js's URLs, with its serialization, content types and cache headers. */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LONG_CACHE, metadataFile, metadataModule, REVALIDATE_CACHE } from '../src/metadata.js';
import { body, build, buildProject, fixture, tempDir, text, writeFiles } from './helpers.js';

const metadata = suite('metadata routes');

metadata('robots.ts becomes /robots.txt as Next.js writes it', async () => {
  const result = await build('metadata');
  assert.is(text(result, '/robots.txt'), [
    'User-Agent: Googlebot', 'Allow: /', 'Disallow: /private/', '',
    'User-Agent: Applebot', 'User-Agent: Bingbot', 'Disallow: /', 'Crawl-delay: 2', '',
    'Host: https://example.com', 'Sitemap: https://example.com/sitemap.xml', '',
  ].join('\n'));
  assert.equal(result.manifest.routes['/robots.txt'].headers, { 'cache-control': 'public, max-age=0, must-revalidate', 'content-type': 'text/plain' });
});

metadata('sitemap.ts becomes /sitemap.xml with the namespaces its entries need', async () => {
  const result = await build('metadata');
  assert.is(text(result, '/sitemap.xml'), `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1" xmlns:xhtml="http://www.w3.org/1999/xhtml">
<url>
<loc>https://example.com</loc>
<lastmod>2026-01-02T03:04:05.000Z</lastmod>
<changefreq>yearly</changefreq>
<priority>1</priority>
</url>
<url>
<loc>https://example.com/about</loc>
<xhtml:link rel="alternate" hreflang="de" href="https://example.com/de/about" />
</url>
<url>
<loc>https://example.com/gallery</loc>
<image:image>
<image:loc>https://example.com/a.png</image:loc>
</image:image>
</url>
</urlset>
`);
  assert.is(result.manifest.routes['/sitemap.xml'].headers['content-type'], 'application/xml');
  assert.is(result.manifest.routes['/sitemap.xml'].source, 'fixtures/metadata/app/sitemap.ts');
});

metadata('a nested sitemap keeps its folder; generateSitemaps gives /…/sitemap/<id>.xml', async () => {
  const result = await build('metadata');
  assert.match(text(result, '/blog/sitemap.xml'), '<loc>https://example.com/blog/hello</loc>');
  assert.match(text(result, '/products/sitemap/0.xml'), '<loc>https://example.com/products/0</loc>');
  assert.match(text(result, '/products/sitemap/1.xml'), '<loc>https://example.com/products/1000</loc>');
  assert.is(result.manifest.routes['/products/sitemap/1.xml'].srcRoute, '/products/sitemap/[__metadata_id__]');
});

metadata('manifest.ts becomes /manifest.webmanifest (compact JSON)', async () => {
  const result = await build('metadata');
  assert.is(text(result, '/manifest.webmanifest'), '{"name":"Example","short_name":"Ex","start_url":"/","display":"standalone","icons":[{"src":"/icon.png","sizes":"1x1","type":"image/png"}]}');
  assert.is(result.manifest.routes['/manifest.webmanifest'].headers['content-type'], 'application/manifest+json');
});

metadata('static metadata files are copied byte for byte with their type and cache header', async () => {
  const result = await build('metadata');
  assert.ok(body(result, '/icon.png').equals(readFileSync(fixture('metadata/app/icon.png'))));
  assert.equal(result.manifest.routes['/icon.png'].headers, { 'cache-control': 'public, immutable, no-transform, max-age=31536000', 'content-type': 'image/png' });
  assert.equal(result.manifest.routes['/favicon.ico'].headers, { 'cache-control': 'public, max-age=0, must-revalidate', 'content-type': 'image/x-icon' });
  assert.is(result.manifest.routes['/docs/sitemap.xml'].headers['content-type'], 'application/xml');
  // A numbered image is a route of its own, as in Next.js.
  assert.ok(body(result, '/blog/icon2.png').equals(readFileSync(fixture('metadata/app/blog/icon2.png'))));
  assert.is(result.manifest.routes['/blog/icon2.png'].headers['content-type'], 'image/png');
});

metadata('an image route without next/og installed is dynamic, saying what to install; never a crash', async () => {
  const { manifest } = await build('metadata');
  const reason = manifest.dynamic['/opengraph-image'].reasons[0];
  assert.is(reason.kind, 'next/og');
  assert.match(reason.message, 'npm install next react react-dom');
  assert.equal(manifest.errors, {});
});

metadata('which file names are metadata, and where', () => {
  assert.is(metadataFile('robots.ts', true)?.urlSegments[0], 'robots.txt');
  assert.is(metadataFile('robots.ts', false), undefined);
  assert.is(metadataFile('favicon.ico', false), undefined);
  assert.is(metadataFile('icon.webp', true), undefined);
  assert.equal(metadataFile('sitemap.ts', false, () => 'export async function generateSitemaps() {}')?.urlSegments, ['sitemap', '[__metadata_id__]']);
  assert.is(metadataFile('opengraph-image.jpg', false)?.contentType, 'image/jpeg');
  assert.is(metadataFile('manifest.json', true)?.contentType, 'application/manifest+json');
  // Several images of one kind, numbered with one digit, as in Next.js (checked with next build 16.2).
  assert.equal(metadataFile('icon1.png', false), { kind: 'static', name: 'icon1', urlSegments: ['icon1.png'], contentType: 'image/png', cacheControl: LONG_CACHE });
  assert.equal(metadataFile('opengraph-image2.tsx', false)?.urlSegments, ['opengraph-image2']);
  assert.is(metadataFile('apple-icon3.jpg', false)?.contentType, 'image/jpeg');
  for (const name of ['icon12.png', 'favicon1.ico', 'sitemap1.ts', 'robots2.txt', 'icon1.webp', 'constructor.ts', 'toString.png']) assert.is(metadataFile(name, true), undefined, name);
});

metadata('an Open Graph image file over 8 MB or a Twitter one over 5 MB fails its route, as it fails next build; the other routes are built', async () => {
  const dir = tempDir('metadata-large');
  const MB = 1024 * 1024;
  writeFiles(dir, {
    'package.json': '{ "name": "large", "private": true }',
    'app/opengraph-image.png': new Uint8Array(8 * MB), // at the limit: served
    'app/blog/opengraph-image.png': new Uint8Array(8 * MB + 1),
    'app/blog/twitter-image.jpg': new Uint8Array(5 * MB + 1),
    'app/blog/opengraph-image2.png': new Uint8Array(8 * MB + 1), // numbered: next build does not check it either
    'app/rss.xml/route.ts': "export function GET() { return new Response('<rss/>'); }\n",
  });
  const result = await buildProject(dir);
  assert.equal(Object.keys(result.manifest.errors).sort(), ['/blog/opengraph-image.png', '/blog/twitter-image.jpg']);
  assert.match(result.manifest.errors['/blog/twitter-image.jpg'].message, /File size for Twitter image .*twitter-image\.jpg" exceeds 5MB \(current: 5\.00MB\)/);
  assert.match(result.manifest.errors['/blog/opengraph-image.png'].message, 'exceeds 8MB');
  const [failed] = result.results.filter((r) => r.type === 'error' && r.path === '/blog/twitter-image.jpg');
  assert.match(failed.type === 'error' ? failed.hint ?? '' : '', 'make the image smaller than 5 MB');
  assert.equal(Object.keys(result.manifest.routes).sort(), ['/blog/opengraph-image2.png', '/opengraph-image.png', '/rss.xml']);
  assert.is(result.written, false, 'a failed route leaves the previous output as it was');
});

metadata('a static metadata file is cached for a year up to Next.js 15 and must revalidate from 16, as next build sends it', () => {
  const icon = metadataFile('icon.png', false)!;
  const cacheOf = (major?: number) => /'Cache-Control': ("[^"]+")/.exec(metadataModule(fixture('metadata/app/icon.png'), icon, '/runtime.js', true, major))?.[1];
  assert.equal([cacheOf(undefined), cacheOf(14), cacheOf(15), cacheOf(16)].map((c) => JSON.parse(c!)), [LONG_CACHE, LONG_CACHE, LONG_CACHE, REVALIDATE_CACHE]);
  const favicon = metadataFile('favicon.ico', true)!;
  assert.match(metadataModule(fixture('metadata/app/favicon.ico'), favicon, '/runtime.js', true, 15), REVALIDATE_CACHE);
});

metadata('the id a sitemap or image function gets, and whether images of generateImageMetadata are prerendered, follow the installed Next.js', () => {
  // Checked against next build: 14 passes the item's id, 15 a sitemap's as text, 16 a promise of the text;
  // 16 prerenders each image of generateImageMetadata, 15 and earlier serve them on request.
  const sitemap = metadataFile('sitemap.ts', false, () => 'export async function generateSitemaps() {}')!;
  const sitemapId = (major?: number) => /id = ([^;]+);/.exec(metadataModule('/app/sitemap.ts', sitemap, '/runtime.js', true, major))?.[1];
  assert.equal([sitemapId(undefined), sitemapId(14), sitemapId(15), sitemapId(16)], ['found.id', 'found.id', 'String(found.id)', 'Promise.resolve(String(found.id))']);
  const icon = metadataFile('icon.tsx', false, () => 'export function generateImageMetadata() {}')!;
  const image = (major?: number) => metadataModule('/app/icon.tsx', icon, '/runtime.js', true, major);
  assert.match(image(15), 'id: found.id');
  assert.not.match(image(15), 'generateStaticParams');
  assert.match(image(16), 'id: Promise.resolve(wanted)');
  assert.match(image(16), 'export async function generateStaticParams');
});

metadata.run();

const images = suite('image metadata routes');

images("an image route runs with the app's own next/og and is written with its type", async () => {
  const result = await build('og');
  assert.is(text(result, '/opengraph-image'), 'image 1200x630: {"type":"div","props":{"children":"Example"}}');
  assert.is(result.manifest.routes['/opengraph-image'].headers['content-type'], 'image/png');
  assert.is(text(result, '/icon'), 'image 32x32: {"type":"span","props":{"children":"E"}}');
  assert.equal(result.manifest.dynamic, {});
});

images('an image under a dynamic segment gets its params, as an object that is also a promise (Next.js 16)', async () => {
  const result = await build('og');
  assert.is(text(result, '/blog/first/opengraph-image'), 'image 600x315: {"type":"div","props":{"children":"first first"}}');
  assert.is(text(result, '/blog/second/opengraph-image'), 'image 600x315: {"type":"div","props":{"children":"second second"}}');
  assert.is(result.manifest.routes['/blog/first/opengraph-image'].srcRoute, '/blog/[slug]/opengraph-image');
});

images('generateImageMetadata gives one image per id, at <name>/<id>, as in Next.js', async () => {
  const result = await build('og');
  assert.is(text(result, '/docs/icon/small'), 'image 16x16: {"type":"span","props":{"children":"small"}}');
  assert.is(text(result, '/docs/icon/large'), 'image 48x48: {"type":"span","props":{"children":"large"}}');
  assert.is(result.manifest.routes['/docs/icon/small'].srcRoute, '/docs/icon/[__metadata_id__]');
});

images.run();
