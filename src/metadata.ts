/**
 * Metadata files of the App Router (sitemap, robots, manifest, icons, Open Graph images): which
 * files they are, the URL each serves, and the route module that serves it, as Next.js's metadata
 * loader makes one. Pure, except `metadataModule`, which reads the static file it embeds.
 */
import { readFileSync } from 'node:fs';
import { findExport } from './config.js';
import { HINT_KEY } from './errors.js';

export type MetadataKind =
  /** sitemap.ts, robots.ts, manifest.ts: a function whose result becomes text. */
  | 'text'
  /** icon.tsx, opengraph-image.tsx, …: an ImageResponse from next/og. */
  | 'image'
  /** favicon.ico, icon.png, sitemap.xml, …: the file itself. */
  | 'static';

export interface MetadataFile {
  kind: MetadataKind;
  /** `sitemap`, `robots`, `manifest`, `favicon`, `icon`, `apple-icon`, `opengraph-image`, `twitter-image`. */
  name: string;
  /** The last URL segment(s) it serves: `sitemap.xml`, or `sitemap/[__metadata_id__]` with generateSitemaps. */
  urlSegments: string[];
  contentType?: string;
  cacheControl?: string;
}

const CODE = ['ts', 'tsx', 'js', 'jsx'];
const IMAGE_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', ico: 'image/x-icon', svg: 'image/svg+xml', gif: 'image/gif' };
const STATIC_FILES: Record<string, string[]> = {
  favicon: ['ico'],
  icon: ['ico', 'jpg', 'jpeg', 'png', 'svg'],
  'apple-icon': ['jpg', 'jpeg', 'png'],
  'opengraph-image': ['jpg', 'jpeg', 'png', 'gif'],
  'twitter-image': ['jpg', 'jpeg', 'png', 'gif'],
  sitemap: ['xml'],
  robots: ['txt'],
  manifest: ['json', 'webmanifest'],
};
/** Only valid at the root of the app directory. */
const ROOT_ONLY = new Set(['favicon', 'robots', 'manifest']);
const TEXT_ROUTES: Record<string, string> = { sitemap: 'sitemap.xml', robots: 'robots.txt', manifest: 'manifest.webmanifest' };
const TEXT_TYPES: Record<string, string> = { sitemap: 'application/xml', robots: 'text/plain', manifest: 'application/manifest+json' };

export const LONG_CACHE = 'public, immutable, no-transform, max-age=31536000';
export const REVALIDATE_CACHE = 'public, max-age=0, must-revalidate';

/** The images a folder may hold several of, numbered with one digit (`icon1.png`, `opengraph-image2.tsx`), as in Next.js. */
const NUMBERED = new Set(['icon', 'apple-icon', 'opengraph-image', 'twitter-image']);

/** The convention a file's name before its first dot follows (`icon` for `icon` and `icon1`), if any. */
function conventionOf(name: string): string | undefined {
  if (Object.hasOwn(STATIC_FILES, name)) return name;
  const base = /^(.+)\d$/.exec(name)?.[1];
  return base !== undefined && NUMBERED.has(base) ? base : undefined;
}

/** Whether a file's name before its first dot is a metadata file's (`sitemap`, `icon`, `icon1`, …). */
export function isMetadataName(name: string): boolean {
  return conventionOf(name) !== undefined;
}

/**
 * What a file is, given its name and whether it sits at the root of the app directory. `source`
 * gives the module's text, read only for a sitemap or image module: whether it exports
 * generateSitemaps or generateImageMetadata, as Next.js checks.
 */
export function metadataFile(fileName: string, atRoot: boolean, source: () => string = () => ''): MetadataFile | undefined {
  const dot = fileName.indexOf('.');
  if (dot <= 0) return undefined;
  const name = fileName.slice(0, dot);
  const ext = fileName.slice(dot + 1);
  const convention = conventionOf(name);
  if (convention === undefined || (ROOT_ONLY.has(convention) && !atRoot)) return undefined;
  if (CODE.includes(ext)) {
    if (name in TEXT_ROUTES) {
      const sharded = name === 'sitemap' && findExport(source(), 'generateSitemaps') !== undefined;
      return { kind: 'text', name, urlSegments: sharded ? ['sitemap', '[__metadata_id__]'] : [TEXT_ROUTES[name]], contentType: TEXT_TYPES[name], cacheControl: REVALIDATE_CACHE };
    }
    if (NUMBERED.has(convention)) {
      // With generateImageMetadata, one image per id: /icon/small, /icon/large (as in Next.js).
      const several = findExport(source(), 'generateImageMetadata') !== undefined;
      return { kind: 'image', name, urlSegments: several ? [name, '[__metadata_id__]'] : [name] };
    }
    return undefined;
  }
  if (STATIC_FILES[convention].includes(ext)) {
    const contentType = convention in TEXT_TYPES ? TEXT_TYPES[convention] : convention === 'favicon' ? 'image/x-icon' : IMAGE_TYPES[ext] ?? 'text/plain';
    return { kind: 'static', name, urlSegments: [fileName], contentType, cacheControl: convention === 'favicon' ? REVALIDATE_CACHE : LONG_CACHE };
  }
  return undefined;
}

/**
 * Why `next build` refuses a static Open Graph or Twitter image file, as its route says when it
 * loads: larger than the 8 MB Open Graph or the 5 MB Twitter allows (only the unnumbered names are
 * checked there, as here). Undefined when it is not refused.
 */
function imageTooLarge(file: string, name: string, size: number): { message: string; hint: string } | undefined {
  const limitMb = name === 'twitter-image' ? 5 : name === 'opengraph-image' ? 8 : undefined;
  const mb = size / 1024 / 1024;
  if (limitMb === undefined || mb <= limitMb) return undefined;
  const kind = name === 'twitter-image' ? 'Twitter' : 'Open Graph';
  return {
    message: `File size for ${kind} image ${JSON.stringify(file)} exceeds ${limitMb}MB (current: ${mb.toFixed(2)}MB); next build refuses it too.`,
    hint: `make the image smaller than ${limitMb} MB, the most ${kind} takes (see https://nextjs.org/docs/app/api-reference/file-conventions/metadata/opengraph-image#image-files-jpg-png-gif)`,
  };
}

/**
 * The route module that serves a metadata file (the way Next.js's loader writes one), importing
 * the user's module for `text` and `image` files. `runtime` is the absolute path of the sandbox's
 * metadata serializers. `nextMajor`: the app's Next.js major version (undefined: not installed, the
 * rules of 14); what a sitemap or image function gets as its `id` changed: the item's own id (14),
 * its text (a sitemap's, 15), a promise of its text (16).
 */
export function metadataModule(file: string, meta: MetadataFile, runtime: string, hasNextOg = true, nextMajor?: number): string {
  const user = JSON.stringify(file);
  const major = nextMajor ?? 14;
  if (meta.kind === 'image' && !hasNextOg) {
    // The user's module needs next/og (and React) to compile; the stand-in says what to install.
    return `import { ImageResponse } from 'next/og';
export function GET() {
  return new ImageResponse();
}
`;
  }
  if (meta.kind === 'static') {
    const content = readFileSync(file);
    const tooLarge = imageTooLarge(file, meta.name, content.byteLength);
    if (tooLarge) return `const error = new Error(${JSON.stringify(tooLarge.message)});\nerror[Symbol.for(${JSON.stringify(HINT_KEY)})] = ${JSON.stringify(tooLarge.hint)};\nthrow error;\n`;
    const bytes = content.toString('base64');
    // Next.js 16 sends every static metadata file with must-revalidate (vercel/next.js#83215); up to
    // 15, all but the favicon were cached for a year as immutable.
    const cacheControl = major >= 16 ? REVALIDATE_CACHE : meta.cacheControl;
    return `import { NextResponse } from 'next/server';
const body = Buffer.from(${JSON.stringify(bytes)}, 'base64');
export function GET() {
  return new NextResponse(body, { headers: { 'Content-Type': ${JSON.stringify(meta.contentType)}, 'Cache-Control': ${JSON.stringify(cacheControl)} } });
}
export const dynamic = 'force-static';
`;
  }
  // The image function gets the params of the segments above it (none: undefined), as an object that
  // is a promise too (Next.js 16 passes a promise); generateImageMetadata gets the object. Next.js 16
  // prerenders each image; 15 and earlier give the route no generateStaticParams (served on request).
  if (meta.kind === 'image' && meta.urlSegments.length > 1) {
    return `import * as userland from ${user};
import { syncAndAsync } from ${JSON.stringify(runtime)};
export * from ${user};
export async function GET(_request, context) {
  if (typeof userland.default !== 'function') throw new Error('Default export is missing in ' + ${user});
  const { __metadata_id__: wanted, ...params } = await context.params;
  const found = (await userland.generateImageMetadata({ params })).find((item) => String(item.id) === wanted);
  if (!found) return new Response('Not Found', { status: 404 });
  return userland.default({ params: syncAndAsync(params), id: ${major >= 16 ? 'Promise.resolve(wanted)' : 'found.id'} });
}
${major >= 16 ? `export async function generateStaticParams() {
  return (await userland.generateImageMetadata({ params: {} })).map((item) => ({ __metadata_id__: String(item.id) }));
}
` : ''}`;
  }
  if (meta.kind === 'image') {
    return `import * as userland from ${user};
import { syncAndAsync } from ${JSON.stringify(runtime)};
export * from ${user};
export async function GET(_request, context) {
  if (typeof userland.default !== 'function') throw new Error('Default export is missing in ' + ${user});
  const params = (await context.params) ?? {};
  return userland.default({ params: Object.keys(params).length > 0 ? syncAndAsync({ ...params }) : undefined, id: undefined });
}
`;
  }
  const serializer = meta.name === 'sitemap' ? 'sitemapXml' : meta.name === 'robots' ? 'robotsTxt' : 'manifestJson';
  const sharded = meta.urlSegments.length > 1;
  return `import { NextResponse } from 'next/server';
import * as userland from ${user};
import { ${serializer} as serialize } from ${JSON.stringify(runtime)};
export * from ${user};
export async function GET(_request, context) {
  if (typeof userland.default !== 'function') throw new Error('Default export is missing in ' + ${user});
  let id;
  ${sharded ? `const wanted = (await context.params).__metadata_id__;
  const found = (await userland.generateSitemaps()).find((item) => String(item.id) + '.xml' === wanted);
  if (!found) return new NextResponse('Not Found', { status: 404 });
  id = ${major >= 16 ? 'Promise.resolve(String(found.id))' : major === 15 ? 'String(found.id)' : 'found.id'};` : ''}
  const data = await userland.default(${sharded ? '{ id }' : ''});
  return new NextResponse(serialize(data), { headers: { 'Content-Type': ${JSON.stringify(meta.contentType)}, 'Cache-Control': ${JSON.stringify(meta.cacheControl)} } });
}
${sharded ? `export async function generateStaticParams() {
  return (await userland.generateSitemaps()).map((item) => ({ __metadata_id__: String(item.id) + '.xml' }));
}` : ''}
`;
}
