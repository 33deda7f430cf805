/**
 * Host configuration, from the manifest: what a static host needs to serve each file with the
 * status, content type and cache headers the handler gave. Pure.
 *
 * A static host picks a file's type from its name (`/api/posts` → `application/octet-stream`), so
 * wherever that guess differs from the response's `content-type`, the host is told.
 */
import { bug } from './errors.js';
import { fileOfPath, INDEX_FILE } from './files.js';
import type { Manifest, ManifestRoute } from './manifest.js';

import type { HostName } from './option-values.js';

export { HOSTS, type HostName } from './option-values.js';

export interface HostLayout {
  /** Folder of the bodies inside the output folder (`static/` in Vercel's Build Output API). */
  prefix: string;
  /** File of the root route `/`: the host's own index document where it has one. */
  rootFile: string;
  /** Files this host's configuration takes in the output folder. */
  reserved: string[];
}

export function hostLayout(host: HostName): HostLayout {
  switch (host) {
    case 'none':
      return { prefix: '', rootFile: INDEX_FILE, reserved: [] };
    case 'netlify':
      return { prefix: '', rootFile: 'index.html', reserved: ['_headers', '_redirects'] };
    case 'cloudflare':
      // Without a top-level 404.html, Pages serves the root for every unknown path.
      return { prefix: '', rootFile: 'index.html', reserved: ['_headers', '_redirects', '404.html', '_worker.js', '_routes.json'] };
    case 'vercel':
      return { prefix: 'static/', rootFile: 'index.html', reserved: ['config.json'] };
    case 's3':
      return { prefix: '', rootFile: 'index.html', reserved: [S3_LIST, CLOUDFRONT_LIST] };
  }
}

export const S3_LIST = 's3-upload.json';
export const CLOUDFRONT_LIST = 'cloudfront-origin.json';

/** A Pages worker: the static files first; what they do not have (and every non-GET) goes to the origin. */
function cloudflareWorker(origin: string, recorded404: string[]): string {
  return `// Written by route-prerender --origin: serves the prerendered files, forwards the rest.
const ORIGIN = ${JSON.stringify(origin)};
const RECORDED_404 = new Set(${JSON.stringify(recorded404)});
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === 'GET' || request.method === 'HEAD') {
      const asset = await env.ASSETS.fetch(request);
      if (asset.status !== 404 || RECORDED_404.has(url.pathname)) return asset;
    }
    return fetch(new Request(ORIGIN + url.pathname + url.search, request));
  },
};
`;
}

export interface HostFile {
  file: string;
  content: string;
}

/** What a host should send for one written file. */
export interface ServedFile {
  key: string;
  /** The path as a browser requests it (`/p/b%20c`). */
  requestPath: string;
  file: string;
  /** The response's content type. */
  contentType: string | null;
  /** True when the host's guess from the file name is not the response's type. */
  typeDiffers: boolean;
  cacheControl: string | null;
  /** True when the file does not sit at its URL path (`api/posts/index`, the root). */
  moved: boolean;
}

export interface Redirect {
  key: string;
  requestPath: string;
  status: number;
  location: string;
}

export function servedFiles(manifest: Manifest, layout: HostLayout): { files: ServedFile[]; redirects: Redirect[] } {
  const files: ServedFile[] = [];
  const redirects: Redirect[] = [];
  for (const key in manifest.routes) {
    const route = manifest.routes[key];
    const requestPath = requestPathOf(key);
    if (route.status >= 300 && route.status < 400 && typeof route.headers.location === 'string') {
      redirects.push({ key, requestPath, status: route.status, location: route.headers.location });
      continue;
    }
    if (route.file === null) continue;
    const file = route.file.slice(layout.prefix.length);
    const contentType = single(route.headers['content-type']);
    files.push({
      key,
      requestPath,
      file,
      contentType,
      typeDiffers: contentType !== null && essence(contentType) !== essence(guessType(file)),
      cacheControl: cacheControlOf(route),
      moved: file !== fileOfPath(key),
    });
  }
  return { files, redirects };
}

/**
 * The table of types by extension, loaded by `loadTypes` where a host's files are made: loading it
 * defines every type of the mime package (about 10 ms), which a build without a host never needs.
 */
let types: { getType(name: string): string | null } | undefined;

export async function loadTypes(): Promise<void> {
  types ??= (await import('mime')).default;
}

/** The type a static host infers from the file name (once `loadTypes` has loaded the table). */
export function guessType(file: string): string {
  if (!types) throw bug('guessType() was called before loadTypes()');
  const name = file.split('/').pop()!;
  return (name.includes('.') ? types.getType(name) : null) ?? 'application/octet-stream';
}

function essence(type: string): string {
  return type.split(';')[0].trim().toLowerCase();
}

/** `revalidate = N` as Next.js sends it; otherwise the response's own cache-control, if any. */
export function cacheControlOf(route: ManifestRoute): string | null {
  if (typeof route.revalidate === 'number') return `s-maxage=${route.revalidate}, stale-while-revalidate`;
  return single(route.headers['cache-control']);
}

function single(value: string | string[] | undefined): string | null {
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The path a browser sends for a manifest key: the WHATWG path encoding, plus `%` itself, so that
 * every value maps to one request path.
 */
export function requestPathOf(key: string): string {
  return key
    .split('/')
    .map((segment) => {
      const raw = segment.replace(/%23/g, '#').replace(/%3F/g, '?');
      const escaped = raw.replace(/%/g, '%25').replace(/#/g, '%23').replace(/\?/g, '%3F');
      return new URL(`http://h/${escaped}`).pathname.slice(1);
    })
    .join('/');
}

/** `_headers` and `_redirects` read `*` and a leading `:` as patterns; spell them literally. */
function rulePath(requestPath: string): string {
  return requestPath.replace(/\*/g, '%2A').replace(/\/:/g, '/%3A');
}

/**
 * The URL patterns of the dynamic routes, in the host's own syntax: `:name` for a segment, `*` for
 * the rest of the path. A route dynamic per path is its path.
 */
export function dynamicPatterns(manifest: Manifest, splat: string): string[] {
  const patterns = new Set<string>();
  for (const key of Object.keys(manifest.dynamic)) {
    const segments = key.split('/').slice(1);
    const converted: string[] = [];
    let optional = false;
    for (const segment of segments) {
      const param = /^\[(\[)?(\.\.\.)?([^\]]+)\]?\]$/.exec(segment);
      if (!param) converted.push(requestPathOf(`/${segment}`).slice(1));
      else if (param[2]) {
        converted.push(splat);
        optional = param[1] === '[';
        break;
      } else converted.push(`:${param[3]}`);
    }
    const pattern = `/${converted.join('/')}`;
    patterns.add(pattern);
    if (optional) patterns.add(pattern.slice(0, -(splat.length + 1)) || '/');
  }
  return [...patterns].sort();
}

export async function hostFiles(manifest: Manifest, host: HostName, origin?: string): Promise<HostFile[]> {
  if (host === 'none') return [];
  await loadTypes();
  const layout = hostLayout(host);
  const { files, redirects } = servedFiles(manifest, layout);
  const base = origin?.replace(/\/$/, '');
  const recorded404: string[] = [];
  for (const key in manifest.routes) if (manifest.routes[key].status === 404) recorded404.push(requestPathOf(key));
  switch (host) {
    case 'netlify':
    case 'cloudflare': {
      const headerBlocks: string[] = [];
      for (const served of files) {
        const lines: string[] = [];
        if (served.typeDiffers || served.moved) lines.push(`  Content-Type: ${served.contentType}`);
        if (served.cacheControl) lines.push(`  Cache-Control: ${served.cacheControl}`);
        if (lines.length > 0) headerBlocks.push([rulePath(served.requestPath), ...lines].join('\n'));
      }
      const rules = [
        ...redirects.map((r) => `${rulePath(r.requestPath)} ${encodeLocation(r.location)} ${r.status}`),
        // A 200 rule serves another file at this URL without a redirect (a rewrite).
        ...files.filter((f) => f.moved && f.requestPath !== '/').map((f) => `${rulePath(f.requestPath)} ${rulePath(requestPathOf(`/${f.file}`))} 200`),
      ];
      if (base && host === 'netlify') {
        // Netlify proxies a 200 rule to another site; files still win over these rules. Recorded
        // 404s stay 404s; each dynamic route, then every other path, goes to the origin.
        rules.push(...recorded404.map((p) => `${rulePath(p)} /404.html 404`));
        rules.push(...dynamicPatterns(manifest, '*').map((p) => `${p} ${base}${p.replace(/\*$/, ':splat')} 200`));
        rules.push(`/* ${base}/:splat 200`);
      }
      const out = [
        { file: '_headers', content: headerBlocks.length > 0 ? `${headerBlocks.join('\n')}\n` : '' },
        { file: '_redirects', content: rules.length > 0 ? `${rules.join('\n')}\n` : '' },
      ];
      if (host === 'cloudflare') out.push({ file: '404.html', content: 'Not Found\n' });
      if (base && host === 'cloudflare') out.push({ file: '_worker.js', content: cloudflareWorker(base, recorded404) });
      return out;
    }
    case 'vercel': {
      const overrides: Record<string, { path?: string; contentType?: string }> = {};
      for (const served of files) {
        const override: { path?: string; contentType?: string } = {};
        if (served.moved) override.path = served.key === '/' ? '' : fileOfPath(served.key);
        if ((served.typeDiffers || served.moved) && served.contentType) override.contentType = served.contentType;
        if (Object.keys(override).length > 0) overrides[served.file] = override;
      }
      const routes: object[] = [
        ...redirects.map((r) => ({ src: `^${escapeRegExp(r.requestPath)}$`, status: r.status, headers: { Location: r.location } })),
        ...files.filter((f) => f.cacheControl).map((f) => ({ src: `^${escapeRegExp(f.requestPath)}$`, headers: { 'cache-control': f.cacheControl }, continue: true })),
        ...(base ? recorded404.map((p) => ({ src: `^${escapeRegExp(p)}$`, status: 404 })) : []),
        { handle: 'filesystem' },
        // After the files: dynamic routes and every other path, to the Next.js server.
        ...(base ? [{ src: '^/(.*)$', dest: `${base}/$1` }] : []),
      ];
      return [{ file: 'config.json', content: `${JSON.stringify({ version: 3, routes, overrides }, null, 2)}\n` }];
    }
    case 's3': {
      const objects = [
        ...files.map((f) => ({ key: f.key === '/' ? layout.rootFile : fileOfPath(f.key), file: f.file, contentType: f.contentType, cacheControl: f.cacheControl, redirect: null as string | null })),
        // An empty object whose website-redirect-location sends visitors on (S3 answers 301).
        ...redirects.map((r) => ({ key: fileOfPath(r.key), file: null, contentType: null, cacheControl: null, redirect: r.location })),
      ].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const out = [{ file: S3_LIST, content: `${JSON.stringify(objects, null, 2)}\n` }];
      if (base) {
        // S3 cannot forward; a CloudFront distribution in front of it sends these to the origin.
        const behaviors = { origin: base, pathPatterns: dynamicPatterns(manifest, '*').map((p) => p.replace(/:[^/]+/g, '*')), fallback: 'make the origin answer what the bucket does not have: a CloudFront origin group, or a custom error response' };
        out.push({ file: CLOUDFRONT_LIST, content: `${JSON.stringify(behaviors, null, 2)}\n` });
      }
      return out;
    }
  }
}

function encodeLocation(location: string): string {
  return location.replace(/ /g, '%20');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
