/**
 * Stack frames of the compiled route modules → the place in the user's original file, through the
 * source maps esbuild wrote. Runs in worker threads only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SourceLocation } from '../../types.js';
import { EXTERNAL_CJS_NAMESPACE } from '../protocol.js';
import { LazySourceMap, type MapEntry } from './source-map.js';

let bundlePrefix = '';
const maps = new Map<string, LazySourceMap | null>();

export function setBundleDir(dir: string): void {
  bundlePrefix = pathToFileURL(dir).href + '/';
  // Frames of our own instrumentation sit above the user's; keep enough of the stack to reach them.
  Error.stackTraceLimit = Math.max(Error.stackTraceLimit, 50);
}

const FRAME = /\(?((?:file|node):[^\s()]+?):(\d+):(\d+)\)?$/;

/** The first frame of the user's code in a stack, preferring the app's own files to packages. */
export function locateInStack(stack: string | undefined): SourceLocation | undefined {
  if (!stack) return undefined;
  let fallback: SourceLocation | undefined;
  for (const line of stack.split('\n')) {
    const match = FRAME.exec(line.trim());
    if (!match || !match[1].startsWith(bundlePrefix)) continue;
    const original = mapFrame(match[1], Number(match[2]), Number(match[3]));
    if (original === PACKAGE_BOUNDARY) return fallback;
    if (!original) continue;
    if (!original.file.split(path.sep).includes('node_modules')) return original;
    fallback ??= original;
  }
  return fallback;
}

/**
 * Whether the function `depth` frames above this one's caller is compiled app code (the app's own
 * files or the packages bundled with them), not Node's or the sandbox's.
 */
export function callerInBundle(depth: number): boolean {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = depth + 2;
  Error.captureStackTrace(holder, callerInBundle);
  Error.stackTraceLimit = limit;
  const frame = holder.stack?.split('\n')[depth + 1]?.trim() ?? '';
  return FRAME.exec(frame)?.[1].startsWith(bundlePrefix) ?? false;
}

/** Where the caller's caller stands in the user's code. */
export function locateCaller(): SourceLocation | undefined {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, locateCaller);
  return locateInStack(holder.stack);
}

/**
 * The frame of the module that requires a CommonJS server-external package for an import of it
 * (see `serverExternals` in bundle.ts): what runs above it is the package's, as when Node.js
 * imports the package itself, so the frames below it (the importing module) do not count.
 */
const PACKAGE_BOUNDARY = Symbol('a required server-external package');
const BOUNDARY_SOURCE = `${EXTERNAL_CJS_NAMESPACE}:`;

/** Mapped places by compiled frame (`url:line:column`): a read in a loop is located once. */
const placed = new Map<string, SourceLocation | typeof PACKAGE_BOUNDARY | null>();

/**
 * `locateCaller` for code that runs once per read of a file: the stack as V8's call sites (no text
 * is made of it), each compiled frame mapped once. Returns the first of the app's own files, else of
 * the packages bundled with it; also whether any compiled frame was on the stack at all.
 */
export function locateCallerQuickly(): { at?: SourceLocation; inBundle: boolean } {
  const previous = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  Error.prepareStackTrace = (_error, sites) => sites;
  // Deep enough for a read made by a package the app calls, not the whole async chain.
  Error.stackTraceLimit = 16;
  try {
    Error.captureStackTrace(holder, locateCallerQuickly);
    void holder.stack;
  } finally {
    Error.prepareStackTrace = previous;
    Error.stackTraceLimit = limit;
  }
  let fallback: SourceLocation | undefined;
  let inBundle = false;
  for (const site of Array.isArray(holder.stack) ? holder.stack : []) {
    const url = site.getFileName();
    if (!url?.startsWith(bundlePrefix)) continue;
    inBundle = true;
    const key = `${url}:${site.getLineNumber()}:${site.getColumnNumber()}`;
    let original = placed.get(key);
    if (original === undefined) placed.set(key, (original = mapFrame(url, site.getLineNumber() ?? 0, site.getColumnNumber() ?? 0) ?? null));
    if (original === PACKAGE_BOUNDARY) return { at: fallback, inBundle };
    if (!original) continue;
    if (!original.file.split(path.sep).includes('node_modules')) return { at: original, inBundle };
    fallback ??= original;
  }
  return { at: fallback, inBundle };
}

/** The source map of a compiled module (by its file), read and parsed once; null when it has none. */
function sourceMap(file: string): LazySourceMap | null {
  let map = maps.get(file);
  if (map === undefined) {
    try {
      map = new LazySourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  return map;
}

/**
 * Reads the source map of a compiled module ahead of the first frame to map: a route planned from
 * the previous build is loaded while the worker has nothing else to do, and its paths (the ones
 * that run again) are located without waiting for the map.
 */
export function prepareSourceMap(entry: string): void {
  sourceMap(entry);
}

function mapFrame(url: string, line: number, column: number): SourceLocation | typeof PACKAGE_BOUNDARY | undefined {
  const map = sourceMap(fileURLToPath(url));
  if (!map) return undefined;
  let entry: MapEntry;
  try {
    entry = map.findEntry(line - 1, column - 1);
  } catch {
    return undefined; // mappings that do not decode
  }
  if (!entry || entry.originalSource === undefined || entry.originalLine === undefined) return undefined;
  if (entry.originalSource.startsWith(BOUNDARY_SOURCE)) return PACKAGE_BOUNDARY;
  // Map sources are URLs relative to the map (`[slug]` is spelled `%5Bslug%5D`); a generated
  // module (a metadata route) has a source that is not a file.
  let source: string;
  try {
    source = fileURLToPath(new URL(entry.originalSource, url));
  } catch {
    return undefined;
  }
  return { file: source, line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 };
}
