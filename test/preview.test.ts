/**
 * `prerender preview` and `--origin`: the output served over real HTTP on 127.0.0.1 as the host will
 * serve it, dynamic routes forwarded to a real local origin server, and every attempt to reach
 * something else refused.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { prerender, startPreview } from '../src/index.js';
import { fixture, ROOT, tempDir } from './helpers.js';

/** fixtures/hosting plus two dynamic routes, in a temp folder. */
function app(): string {
  const dir = path.join(tempDir('preview-app'), 'hosting');
  cpSync(fixture('hosting'), dir, { recursive: true });
  mkdirSync(path.join(dir, 'app/api/me'), { recursive: true });
  writeFileSync(path.join(dir, 'app/api/me/route.ts'), "import { cookies } from 'next/headers';\nexport async function GET() {\n  return Response.json({ user: (await cookies()).get('user')?.value ?? null });\n}\n");
  mkdirSync(path.join(dir, 'app/u/[id]'), { recursive: true });
  writeFileSync(path.join(dir, 'app/u/[id]/route.ts'), 'export function GET() {\n  return new Response("user");\n}\n');
  return dir;
}

/** A real origin server on 127.0.0.1 that says what it was asked. */
async function origin(): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
      res.end(JSON.stringify({ origin: true, method: req.method, url: req.url, body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen, server };
}

/** A request with the path sent exactly as written (no client-side normalization). */
function get(base: string, rawPath: string, method = 'GET', body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: rawPath, method }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const preview = suite('prerender preview');

preview('serves what the host serves: types, cache headers, index files, encoded paths, redirects, recorded 404s', async () => {
  const result = await prerender({ appDir: fixture('hosting'), out: path.join(tempDir('preview'), 'dist'), cwd: ROOT, host: 'cloudflare' });
  const server = await startPreview({ dir: result.outDir, port: 0 });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const routes = result.manifest.routes;
    const api = await get(server.url, '/api/posts');
    assert.is(api.status, 200);
    assert.is(api.headers['content-type'], routes['/api/posts'].headers['content-type']);
    assert.is(api.body, readFileSync(path.join(result.outDir, 'api/posts/index'), 'latin1'));
    assert.is((await get(server.url, '/cached')).headers['cache-control'], 's-maxage=60, stale-while-revalidate');
    assert.is((await get(server.url, '/p/b%20c')).status, 200);
    assert.is((await get(server.url, '/p/a%23b')).status, 200);
    assert.is((await get(server.url, '/p/100%25')).status, 200);
    assert.is((await get(server.url, '/p/%C3%BCber')).status, 200);
    const moved = await get(server.url, '/moved');
    assert.equal([moved.status, moved.headers.location], [308, '/feed.json']);
    assert.is((await get(server.url, '/gone')).status, 404);
    assert.is((await get(server.url, '/nothing-here')).status, 404);
    assert.is((await get(server.url, '/', 'HEAD')).status, 200);
  } finally {
    await server.close();
  }
});

preview('never serves the manifest, host files, or anything outside the output; refuses encoded traversal', async () => {
  const dir = path.join(tempDir('preview-safe'), 'dist');
  const result = await prerender({ appDir: fixture('hosting'), out: dir, cwd: ROOT, host: 'netlify', manifest: path.join(dir, 'prerender-manifest.json') });
  // A file of the output replaced by a link that leads out of it.
  rmSync(path.join(dir, 'rss.xml'));
  symlinkSync('/etc/passwd', path.join(dir, 'rss.xml'));
  const server = await startPreview({ dir: result.outDir, port: 0 });
  try {
    for (const attempt of ['/prerender-manifest.json', '/_headers', '/_redirects', '/rss.xml', '/..%2f..%2fetc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..\\..\\etc\\passwd', '/feed.json%00', '/%ZZ']) {
      const answer = await get(server.url, attempt);
      assert.ok(answer.status === 404 || answer.status === 400, `${attempt}: ${answer.status}`);
      assert.not.match(answer.body, 'root:', attempt);
      assert.not.match(answer.body, '"routes"', attempt);
    }
  } finally {
    await server.close();
  }
});

preview('with --origin: dynamic routes and unknown paths go to the origin, and only there; files and recorded 404s do not', async () => {
  const upstream = await origin();
  const project = app();
  const result = await prerender({ appDir: project, out: path.join(tempDir('preview-origin'), 'dist'), cwd: ROOT, host: 'netlify', origin: upstream.url });
  const server = await startPreview({ dir: result.outDir, port: 0, origin: upstream.url });
  try {
    assert.equal(Object.keys(result.manifest.dynamic), ['/api/me', '/u/[id]']);
    const me = await get(server.url, '/api/me?x=1');
    assert.is(me.status, 200);
    assert.equal(JSON.parse(me.body), { origin: true, method: 'GET', url: '/api/me?x=1', body: '' });
    assert.equal(me.headers['set-cookie'], ['a=1', 'b=2']);
    assert.is(JSON.parse((await get(server.url, '/u/42')).body).url, '/u/42');
    assert.is(JSON.parse((await get(server.url, '/feed.json', 'POST', 'hello')).body).body, 'hello');
    assert.is((await get(server.url, '/gone')).status, 404);
    assert.not.match((await get(server.url, '/feed.json')).body, '"origin"');
    assert.is((await get(server.url, '//evil.example/steal')).status, 400);
    assert.equal(upstream.seen, ['GET /api/me?x=1', 'GET /u/42', 'POST /feed.json']);
  } finally {
    await server.close();
    upstream.server.close();
  }
});

preview.run();

const origins = suite('--origin host files');

origins('each host forwards dynamic routes, then every path not in the output, to the origin', async () => {
  const project = app();
  const files = async (host: 'netlify' | 'cloudflare' | 'vercel' | 's3') => {
    const result = await prerender({ appDir: project, out: path.join(tempDir(`origin-${host}`), 'dist'), cwd: ROOT, host, origin: 'https://app.example.com/' });
    return (file: string) => readFileSync(path.join(result.outDir, file), 'utf8');
  };
  const netlify = (await files('netlify'))('_redirects').split('\n');
  assert.ok(netlify.includes('/api/me https://app.example.com/api/me 200'));
  assert.ok(netlify.includes('/u/:id https://app.example.com/u/:id 200'));
  assert.ok(netlify.includes('/gone /404.html 404'));
  assert.is(netlify.filter(Boolean).at(-1), '/* https://app.example.com/:splat 200');
  const worker = (await files('cloudflare'))('_worker.js');
  assert.match(worker, 'const ORIGIN = "https://app.example.com";');
  assert.match(worker, 'env.ASSETS.fetch(request)');
  const vercel = JSON.parse((await files('vercel'))('config.json'));
  assert.equal(vercel.routes.at(-1), { src: '^/(.*)$', dest: 'https://app.example.com/$1' });
  assert.equal(vercel.routes.at(-2), { handle: 'filesystem' });
  const cloudfront = JSON.parse((await files('s3'))('cloudfront-origin.json'));
  assert.equal(cloudfront.pathPatterns, ['/api/me', '/u/*']);
});

origins('--origin without --host, or that is not an http(s) URL, is bad usage', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'out/cli.js'), 'fixtures/groups/app', '--out', path.join(tempDir('o'), 'dist'), ...args], { cwd: ROOT, encoding: 'utf8' });
  assert.match(cli(['--origin', 'https://a.example']).stderr, '`origin` needs a `host`');
  assert.is(cli(['--host', 'netlify', '--origin', 'ftp://a.example']).status, 2);
});

origins.run();
