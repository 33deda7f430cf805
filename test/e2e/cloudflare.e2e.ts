/**
 * The output served by a real static host: Cloudflare Pages' own local server (`wrangler pages
 * dev`, the same asset handling as production) on 127.0.0.1, reading the generated `_headers` and
 * `_redirects`. Every path of the manifest is fetched and compared with what its handler returned.
 *
 * Run with `npm run test:e2e`; wrangler is installed into .cache/e2e on first use.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { requestPathOf } from '../../src/hosts.js';
import { prerender, startPreview, type PrerenderResult } from '../../src/index.js';
import { fixture, ROOT, tempDir } from '../helpers.js';

// The last wrangler release that runs on Node 20.
const WRANGLER = 'wrangler@4.86.0';
const CACHE = path.join(ROOT, '.cache/e2e');

function installWrangler(): string {
  const bin = path.join(CACHE, 'node_modules/.bin/wrangler');
  if (!existsSync(bin)) {
    mkdirSync(CACHE, { recursive: true });
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', CACHE, WRANGLER], { stdio: 'inherit' });
    if (install.status !== 0) throw new Error(`npm install ${WRANGLER} failed`);
  }
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitFor(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler exited with ${child.exitCode}:\n${log()}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`wrangler did not answer within 90 s:\n${log()}`);
}

const cloudflare = suite('cloudflare pages');
let result: PrerenderResult;
let server: ChildProcess;
let origin: string;

/** `wrangler pages dev` serving `dir` on 127.0.0.1, once it answers. */
async function servePages(dir: string): Promise<{ process: ChildProcess; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  // Its state and logs go to a temp folder, never into the repository.
  const state = tempDir('wrangler');
  const child = spawn(installWrangler(), ['pages', 'dev', dir, '--ip', '127.0.0.1', '--port', String(port), '--compatibility-date=2025-01-01', '--persist-to', state], {
    cwd: state,
    env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
    detached: true,
  });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  await waitFor(`${url}/feed.json`, child, () => output);
  return { process: child, url };
}

cloudflare.before(async () => {
  result = await prerender({ appDir: fixture('hosting'), out: path.join(tempDir('e2e'), 'dist'), cwd: ROOT, host: 'cloudflare' });
  assert.ok(result.written);
  ({ process: server, url: origin } = await servePages(result.outDir));
});

cloudflare.after(() => {
  if (server?.pid) process.kill(-server.pid, 'SIGTERM');
});

cloudflare('every static path comes back with its status, content type and bytes', async () => {
  let checked = 0;
  for (const [key, entry] of Object.entries(result.manifest.routes)) {
    if (entry.file === null) continue;
    const response = await fetch(origin + requestPathOf(key), { redirect: 'manual' });
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.is(response.status, entry.status, key);
    assert.is(response.headers.get('content-type'), entry.headers['content-type'], `content-type of ${key}`);
    assert.is(createHash('sha256').update(bytes).digest('hex'), entry.sha256, `body of ${key}`);
    checked++;
  }
  assert.is(checked, 16); // /.well-known/security.txt among them
});

cloudflare('redirects keep their status and Location', async () => {
  for (const key of ['/old', '/moved', '/away']) {
    const entry = result.manifest.routes[key];
    const response = await fetch(origin + key, { redirect: 'manual' });
    assert.is(response.status, entry.status, key);
    assert.is(response.headers.get('location'), entry.headers.location, key);
  }
});

cloudflare('a recorded 404 is a 404, not the root page', async () => {
  const response = await fetch(`${origin}/gone`, { redirect: 'manual' });
  assert.is(response.status, 404);
  assert.is.not(await response.text(), 'home');
});

cloudflare('revalidate becomes s-maxage; a response cache-control is kept', async () => {
  const cached = await fetch(`${origin}/cached`);
  assert.is(cached.headers.get('cache-control'), 's-maxage=60, stale-while-revalidate');
  const own = await fetch(`${origin}/with-cache-control`);
  assert.is(own.headers.get('cache-control'), 'public, max-age=3600');
});

cloudflare('prerender preview answers every path as Pages does: status, content type, location, bytes', async () => {
  const preview = await startPreview({ dir: result.outDir, port: 0 });
  try {
    const paths = [...Object.keys(result.manifest.routes).map(requestPathOf), '/not-in-the-output', '/p/missing%20value'];
    for (const requestPath of paths) {
      const [pages, ours] = await Promise.all([fetch(origin + requestPath, { redirect: 'manual' }), fetch(preview.url + requestPath, { redirect: 'manual' })]);
      assert.is(ours.status, pages.status, `status of ${requestPath}`);
      assert.is(essence(ours.headers.get('content-type')), essence(pages.headers.get('content-type')), `content-type of ${requestPath}`);
      assert.is(ours.headers.get('location'), pages.headers.get('location'), `location of ${requestPath}`);
      assert.equal(Buffer.from(await ours.arrayBuffer()), Buffer.from(await pages.arrayBuffer()), `bytes of ${requestPath}`);
    }
  } finally {
    await preview.close();
  }
});

cloudflare.run();

function essence(type: string | null): string | null {
  return type === null ? null : type.split(';')[0].trim().toLowerCase();
}

const forwarding = suite('cloudflare pages with --origin');
let upstream: Server;
let forwarded: string[];
let pages: ChildProcess;
let pagesUrl: string;
let built: PrerenderResult;

forwarding.before(async () => {
  forwarded = [];
  upstream = createHttpServer((req, res) => {
    forwarded.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ from: 'origin', url: req.url }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  built = await prerender({ appDir: fixture('hosting'), out: path.join(tempDir('e2e-origin'), 'dist'), cwd: ROOT, host: 'cloudflare', origin: upstreamUrl });
  ({ process: pages, url: pagesUrl } = await servePages(built.outDir));
});

forwarding.after(() => {
  if (pages?.pid) process.kill(-pages.pid, 'SIGTERM');
  upstream?.close();
});

forwarding('files are served by Pages; a path not in the output goes to the origin; a recorded 404 stays', async () => {
  const feed = await fetch(`${pagesUrl}/feed.json`);
  assert.is(feed.headers.get('content-type'), built.manifest.routes['/feed.json'].headers['content-type']);
  assert.is(createHash('sha256').update(Buffer.from(await feed.arrayBuffer())).digest('hex'), built.manifest.routes['/feed.json'].sha256);
  const api = await fetch(`${pagesUrl}/api/me?x=1`);
  assert.equal(await api.json(), { from: 'origin', url: '/api/me?x=1' });
  assert.is((await fetch(`${pagesUrl}/gone`, { redirect: 'manual' })).status, 404);
  assert.ok(forwarded.includes('GET /api/me?x=1'), forwarded.join(', '));
  assert.not.ok(forwarded.some((line) => line.startsWith('GET /feed.json') || line.startsWith('GET /gone')), forwarded.join(', '));
});

forwarding.run();
