/**
 * `prerender preview`: the output served on this machine as a static host serves it — the type and
 * cache headers the host files give, redirects, recorded 404s, files moved to `index` — and, with
 * `origin`, every other request forwarded to the Next.js server there, as `--origin` host files
 * make the CDN do. Safe by default: it listens on 127.0.0.1, serves only the files the manifest
 * lists (never the manifest, the host's configuration or anything outside the folder), and
 * forwards only to the one origin given.
 */
import { createReadStream, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setupError } from './errors.js';
import { guessType, hostLayout, loadTypes, S3_LIST, servedFiles, type HostName, type Redirect, type ServedFile } from './hosts.js';
import { findManifest, readManifest, type Manifest } from './manifest.js';
import { keyOfRequest } from './params.js';

export interface PreviewOptions {
  /** The output folder of a build. Default `dist`. */
  dir?: string;
  /** Default 4173; 0 picks a free port. */
  port?: number;
  /** The address to listen on. Default 127.0.0.1 (this machine only). */
  listen?: string;
  /** Where dynamic routes (and every path not in the output) are forwarded, e.g. http://127.0.0.1:3000. */
  origin?: string;
  cwd?: string;
}

export interface Preview {
  url: string;
  close(): Promise<void>;
}

/** What the preview answers for one request path, decided from the manifest alone. Pure. */
export type Answer =
  | { kind: 'file'; file: string; contentType: string; cacheControl: string | null }
  | { kind: 'redirect'; status: number; location: string }
  | { kind: 'not-found' }
  | { kind: 'bad-request' }
  | { kind: 'forward' };

export interface Site {
  /** The host the output was built for, told by its configuration files. */
  host: HostName;
  /** The folder the host serves (`static/` for Vercel's output). */
  root: string;
  files: Map<string, ServedFile>;
  redirects: Map<string, Redirect>;
  /** Keys whose recorded answer is a 404. */
  notFound: Set<string>;
}

/** The host an output folder was built for, from the configuration files `--host` wrote. */
export function hostOf(dir: string): HostName {
  const has = (file: string) => existsSync(path.join(dir, file));
  if (has('config.json') && has('static')) return 'vercel';
  if (has(S3_LIST)) return 's3';
  if (has('404.html') && has('_headers')) return 'cloudflare';
  if (has('_headers')) return 'netlify';
  return 'none';
}

export function siteOf(dir: string, manifest: Manifest): Site {
  const host = hostOf(dir);
  const layout = hostLayout(host);
  const { files, redirects } = servedFiles(manifest, layout);
  return {
    host,
    root: path.join(dir, layout.prefix),
    files: new Map(files.map((f) => [f.key, f])),
    redirects: new Map(redirects.map((r) => [r.key, r])),
    notFound: new Set(Object.entries(manifest.routes).filter(([, r]) => r.status === 404).map(([key]) => key)),
  };
}

export function answer(site: Site, method: string, rawPath: string): Answer {
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'forward' };
  if (rawPath.includes('\\')) return { kind: 'bad-request' };
  const key = keyOfRequest(rawPath);
  if (key === undefined) return { kind: 'bad-request' };
  const redirect = site.redirects.get(key);
  if (redirect) return { kind: 'redirect', status: redirect.status, location: redirect.location };
  const served = site.files.get(key);
  if (served) return { kind: 'file', file: served.file, contentType: served.contentType ?? guessType(served.file), cacheControl: served.cacheControl };
  if (site.notFound.has(key)) return { kind: 'not-found' };
  return { kind: 'forward' };
}

export async function startPreview(options: PreviewOptions = {}): Promise<Preview> {
  const cwd = options.cwd ?? process.cwd();
  const dir = path.resolve(cwd, options.dir ?? 'dist');
  const manifestFile = findManifest(dir);
  if (!manifestFile) throw setupError('USAGE', [`${dir} has no prerender-manifest.json (inside or beside it).`], { hint: 'build first: prerender ./app --out dist' });
  await loadTypes();
  const site = siteOf(dir, readManifest(manifestFile));
  const root = realpathSync(site.root);
  let origin: URL | undefined;
  if (options.origin !== undefined) {
    try {
      origin = new URL(options.origin);
    } catch {
      throw setupError('USAGE', [`Expected --origin to be a URL such as http://127.0.0.1:3000, got \`${options.origin}\`.`]);
    }
    if (origin.protocol !== 'http:' && origin.protocol !== 'https:') throw setupError('USAGE', [`Expected --origin to be an http or https URL, got \`${options.origin}\`.`]);
  }
  const server = createServer((request, response) => {
    void handle(site, root, origin, request, response).catch(() => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('Bad gateway\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(setupError('USAGE', [`Cannot listen on ${options.listen ?? '127.0.0.1'}:${options.port ?? 4173}: ${(error as NodeJS.ErrnoException).code ?? error.message}.`], { hint: 'choose another port with --port' })));
    server.listen(options.port ?? 4173, options.listen ?? '127.0.0.1', resolve);
  });
  const address = server.address() as { port: number; address: string };
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}`, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function handle(site: Site, root: string, origin: URL | undefined, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const raw = request.url ?? '/';
  const rawPath = raw.split('?')[0];
  const decision = answer(site, request.method ?? 'GET', rawPath);
  const text = (status: number, body: string) => {
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
  // Cloudflare and Netlify answer a 404 with the site's own 404.html.
  const notFound = () => {
    const page = path.join(root, '404.html');
    if ((site.host === 'cloudflare' || site.host === 'netlify') && existsSync(page)) {
      const body = readFileSync(page);
      response.writeHead(404, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.byteLength });
      return void response.end(request.method === 'HEAD' ? undefined : body);
    }
    return text(404, 'Not Found\n');
  };
  switch (decision.kind) {
    case 'bad-request':
      return text(400, 'Bad request\n');
    case 'not-found':
      return notFound();
    case 'redirect': {
      // As the host answers a redirect rule: Cloudflare Pages says where to in a text body (not for
      // a 308, as its own server does); the others send no body.
      const body = site.host === 'cloudflare' && decision.status !== 308 ? `Redirecting to ${decision.location}` : '';
      response.writeHead(decision.status, { location: decision.location, ...(body ? { 'content-type': 'text/plain;charset=UTF-8' } : {}), 'content-length': Buffer.byteLength(body) });
      return void response.end(request.method === 'HEAD' ? undefined : body);
    }
    case 'file': {
      const file = path.join(root, ...decision.file.split('/'));
      // A file that a link turns into something outside the folder is not served.
      let real: string;
      try {
        real = realpathSync(file);
      } catch {
        return notFound();
      }
      if (!real.startsWith(root + path.sep) || !statSync(real).isFile()) return notFound();
      response.writeHead(200, { 'content-type': decision.contentType, 'content-length': statSync(real).size, ...(decision.cacheControl ? { 'cache-control': decision.cacheControl } : {}) });
      if (request.method === 'HEAD') return void response.end();
      createReadStream(real).pipe(response);
      return;
    }
    case 'forward': {
      if (!origin) return notFound();
      return forward(origin, raw, request, response);
    }
  }
}

/** The request, sent on to the origin (and only there); its answer, sent back as it came. */
async function forward(origin: URL, raw: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const target = new URL(raw.startsWith('/') ? raw : `/${raw}`, origin);
  if (target.origin !== origin.origin) return void response.writeHead(400).end();
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || ['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade'].includes(name)) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const upstream = await fetch(target, {
    method: request.method,
    headers,
    redirect: 'manual',
    ...(hasBody ? { body: Readable.toWeb(request) as ReadableStream, duplex: 'half' } : {}),
  } as RequestInit);
  const out: Record<string, string | string[]> = {};
  upstream.headers.forEach((value, name) => {
    // fetch has decoded the body already.
    if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection', 'set-cookie'].includes(name)) out[name] = value;
  });
  const cookies = upstream.headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  response.writeHead(upstream.status, out);
  if (!upstream.body || request.method === 'HEAD') return void response.end();
  Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream).pipe(response);
}
