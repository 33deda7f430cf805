/**
 * Images a route module imports (`import hero from './hero.png'`; MDX compiled by fumadocs-mdx
 * imports every image of a post that way): as in Next.js, the module is the image's data,
 * `{ src, height, width, blurDataURL, blurWidth, blurHeight }` (`StaticImageData`), not its bytes.
 *
 * With Next.js installed, the data is made by Next.js's own code, as `next build` with webpack makes
 * it: the file name's hash (`/_next/static/media/hero.1a2b3c4d.png`), the size, and the 8-pixel
 * WebP placeholder (through sharp, when the app has it). Without it, the size is read here, the
 * hash is the first 8 hex digits of the file's sha256 and there is no placeholder. Turbopack (the
 * default of `next build` from Next.js 16) hashes names and draws placeholders its own way: a body
 * that prints `src` or `blurDataURL` may differ from its.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as esbuild from 'esbuild';

/** The files Next.js's image loader takes (its webpack configuration's test). */
export const IMAGE_FILE = /\.(png|jpg|jpeg|gif|webp|avif|ico|bmp|svg)$/i;

/** `StaticImageData`, its keys in the order Next.js writes them. */
export interface ImageData {
  src: string;
  height?: number;
  width?: number;
  blurDataURL?: string;
  blurWidth: number;
  blurHeight: number;
}

/** The pieces of the app's Next.js that make the data, when it has them. */
interface NextImageCode {
  interpolateName(context: { resourcePath: string; resourceQuery: string }, name: string, options: { context: string; content: Buffer }): string;
  getImageSize(content: Buffer, extension: string): Promise<{ width?: number; height?: number }>;
  optimizeImage(options: { buffer: Buffer; width: number; height: number; contentType: string; quality: number }): Promise<Buffer>;
  isAnimated(content: Buffer): boolean;
}

const BLUR_SIZE = 8;
const BLUR_QUALITY = 70;
const BLUR_EXTENSIONS = ['jpeg', 'png', 'webp', 'avif'];

/** The esbuild plugin: an image file imported by route code becomes a module of its data. */
export function staticImages(projectRoot: string, assetPrefix = ''): esbuild.Plugin {
  let next: NextImageCode | null | undefined;
  const nextCode = (): NextImageCode | null => (next === undefined ? (next = loadNextImageCode(projectRoot)) : next);
  return {
    name: 'route-prerender-static-images',
    setup(build) {
      build.onLoad({ filter: IMAGE_FILE }, async (args) => {
        if (args.namespace !== 'file') return undefined;
        try {
          const data = await imageData(await readFile(args.path), args.path, projectRoot, assetPrefix, nextCode());
          return { contents: `export default ${JSON.stringify(data)};`, loader: 'js' };
        } catch (error) {
          return { errors: [{ text: `${path.relative(projectRoot, args.path)} is not an image Next.js can read (${(error as Error).message}), and Next.js fails the build on it too: replace it with a valid image, or remove its import` }] };
        }
      });
    },
  };
}

/** The data of one image (see the module's comment). */
export async function imageData(content: Buffer, file: string, projectRoot: string, assetPrefix: string, next: NextImageCode | null): Promise<ImageData> {
  let extension = path.extname(file).slice(1).toLowerCase();
  const name = next
    ? next.interpolateName({ resourcePath: file, resourceQuery: '' }, '/static/media/[name].[hash:8].[ext]', { context: projectRoot, content })
    : `/static/media/${path.basename(file, path.extname(file))}.${createHash('sha256').update(content).digest('hex').slice(0, 8)}${path.extname(file)}`;
  if (extension === 'jpg') extension = 'jpeg';
  const size = next ? await next.getImageSize(content, extension) : imageSize(content, extension);
  if (size.width === undefined || size.height === undefined) throw new Error('its size cannot be read');
  let blurWidth = 0;
  let blurHeight = 0;
  let blurDataURL: string | undefined;
  if (next && BLUR_EXTENSIONS.includes(extension) && !next.isAnimated(content)) {
    // The largest side shrunk to 8 pixels, as Next.js does.
    if (size.width >= size.height) {
      blurWidth = BLUR_SIZE;
      blurHeight = Math.max(Math.round((size.height / size.width) * BLUR_SIZE), 1);
    } else {
      blurWidth = Math.max(Math.round((size.width / size.height) * BLUR_SIZE), 1);
      blurHeight = BLUR_SIZE;
    }
    try {
      const resized = await next.optimizeImage({ buffer: content, width: blurWidth, height: blurHeight, contentType: 'image/webp', quality: BLUR_QUALITY });
      blurDataURL = `data:image/webp;base64,${resized.toString('base64')}`;
    } catch {
      // without sharp there is no placeholder
    }
  }
  return { src: `${assetPrefix}/_next${name}`, height: size.height, width: size.width, ...(blurDataURL ? { blurDataURL } : {}), blurWidth, blurHeight };
}

function loadNextImageCode(projectRoot: string): NextImageCode | null {
  try {
    const require = createRequire(path.join(projectRoot, 'package.json'));
    const { interpolateName } = require('next/dist/compiled/loader-utils3') as Pick<NextImageCode, 'interpolateName'>;
    const { getImageSize, optimizeImage } = require('next/dist/server/image-optimizer') as Pick<NextImageCode, 'getImageSize' | 'optimizeImage'>;
    const isAnimated = require('next/dist/compiled/is-animated') as NextImageCode['isAnimated'];
    return typeof interpolateName === 'function' && typeof getImageSize === 'function' && typeof optimizeImage === 'function' && typeof isAnimated === 'function' ? { interpolateName, getImageSize, optimizeImage, isAnimated } : null;
  } catch {
    return null;
  }
}

/** An image's size from its header, for the formats Next.js's loader takes (without Next.js installed). */
export function imageSize(bytes: Buffer, extension: string): { width?: number; height?: number } {
  const ascii = (at: number, length: number) => bytes.toString('latin1', at, at + length);
  if (extension === 'png' && ascii(1, 3) === 'PNG') return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  if (extension === 'gif' && ascii(0, 3) === 'GIF') return { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  if (extension === 'bmp' && ascii(0, 2) === 'BM') return { width: bytes.readInt32LE(18), height: Math.abs(bytes.readInt32LE(22)) };
  if (extension === 'ico' && bytes.readUInt16LE(2) === 1) return { width: bytes[6] || 256, height: bytes[7] || 256 };
  if (extension === 'webp' && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') {
    const chunk = ascii(12, 4);
    if (chunk === 'VP8 ') return { width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
    if (chunk === 'VP8L') {
      const [b0, b1, b2, b3] = [bytes[21], bytes[22], bytes[23], bytes[24]];
      return { width: 1 + (((b1 & 0x3f) << 8) | b0), height: 1 + (((b3 & 0xf) << 10) | (b2 << 2) | ((b1 & 0xc0) >> 6)) };
    }
    if (chunk === 'VP8X') return { width: 1 + bytes.readUIntLE(24, 3), height: 1 + bytes.readUIntLE(27, 3) };
  }
  if (extension === 'jpeg' && bytes[0] === 0xff && bytes[1] === 0xd8) {
    for (let at = 2; at + 9 < bytes.length && bytes[at] === 0xff; ) {
      const marker = bytes[at + 1];
      // A start of frame (not DHT, JPG or DAC, which share the range).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
      at += 2 + bytes.readUInt16BE(at + 2);
    }
  }
  if (extension === 'avif') {
    const box = bytes.indexOf('ispe');
    if (box !== -1) return { width: bytes.readUInt32BE(box + 8), height: bytes.readUInt32BE(box + 12) };
  }
  if (extension === 'svg') {
    const tag = /<svg\b[^>]*>/i.exec(bytes.toString('utf8'))?.[0] ?? '';
    const attribute = (name: string) => new RegExp(`\\s${name}\\s*=\\s*["']([^"']*)["']`, 'i').exec(tag)?.[1];
    const length = (value: string | undefined) => (value !== undefined && /^\s*[\d.]+(px)?\s*$/.test(value) ? Math.round(parseFloat(value)) : undefined);
    const [width, height] = [length(attribute('width')), length(attribute('height'))];
    const box = attribute('viewBox')?.trim().split(/[\s,]+/).map(Number);
    const ratio = box && box.length === 4 && box[2] > 0 && box[3] > 0 ? box[2] / box[3] : undefined;
    if (width !== undefined && height !== undefined) return { width, height };
    if (width !== undefined && ratio) return { width, height: Math.round(width / ratio) };
    if (height !== undefined && ratio) return { width: Math.round(height * ratio), height };
    if (box && ratio) return { width: Math.round(box[2]), height: Math.round(box[3]) };
  }
  return {};
}
