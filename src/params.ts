/**
 * `generateStaticParams` results → concrete URL paths. Pure functions, used by the worker (to check
 * what the user's function returned, where the value lives) and by the planner.
 * Next.js's rules: docs/nextjs-rules.md §4 and §5.
 */
import { KeySet } from './key-set.js';
import type { Params, Segment } from './types.js';

/** An entry whose values are strings, but one that cannot be a safe path segment: an error for its path only. */
export interface RejectedPath {
  /** The path the entry would give (values as written). */
  path: string;
  message: string;
  hint: string;
}

/**
 * `missing`: a param an entry leaves out (not a key of it), as Next.js 15 and later look for one (see
 * `skipIncomplete` in plan.ts). `incomplete`: an optional catch-all param some entries leave out;
 * those entries give no path (Next.js 14 skips them; 15 and later prerender no path of the route).
 */
export type ParamsCheck = { ok: true; params: Params[]; rejected: RejectedPath[]; incomplete?: string } | { ok: false; message: string; hint: string; missing?: string };

const EXPECTED = {
  dynamic: 'a string',
  catchall: 'a non-empty array of strings',
  optional: 'an array of strings, [], null or undefined',
} as const;

/**
 * Checks the value returned by `generateStaticParams` against the route's parameters. Each entry's
 * params are read once, into a plain copy, and only the copy is checked and kept: a getter cannot
 * pass the check with one value and give another afterwards. (A copy of the params only, not of
 * the whole value: a million entries are not held twice.) An entry of the wrong shape makes the
 * whole route an error (the first by index, and how many others are bad); an entry whose values
 * cannot be safe path segments (`..`, `/`, …) is an error for its own path, and the other paths
 * are still built.
 */
export function checkStaticParams(value: unknown, segments: Segment[], pattern: string): ParamsCheck {
  const wanted = segments.filter((s): s is Exclude<Segment, { type: 'static' }> => s.type !== 'static');
  const example = `{ ${wanted.map((s) => `${s.name}: ${s.type === 'dynamic' ? "'hello'" : "['a', 'b']"}`).join(', ')} }`;
  if (!Array.isArray(value)) {
    return {
      ok: false,
      message: `generateStaticParams must return an array of objects, but it returned ${describe(value)}.`,
      hint: `return one object per path, e.g. [${example}]`,
    };
  }
  const params: Params[] = [];
  const bad: string[] = [];
  const rejected: RejectedPath[] = [];
  let incomplete: string | undefined;
  value.forEach((original: unknown, index) => {
    let entry: unknown;
    try {
      entry = paramsOf(original, wanted);
    } catch (error) {
      bad.push(`entry [${index}] cannot be read (${(error as Error).message})`);
      return;
    }
    const problem = checkEntry(entry, wanted, pattern);
    // `{}` under [[...path]] is not the bare path: `{ path: [] }` (or undefined, or null) is.
    const absent = problem ? undefined : wanted.find((segment) => segment.type === 'optional' && !(segment.name in (entry as object)));
    if (absent) incomplete ??= absent.name;
    else if (!problem) params.push(pick(entry as Record<string, unknown>, wanted));
    else if (problem.unsafe) {
      const slash = problem.text.includes('contains `/`');
      rejected.push({
        path: pathFromParams(segments, pick(entry as Record<string, unknown>, wanted)),
        message: `generateStaticParams returned an invalid value: entry [${index}] ${problem.text}.`,
        hint: slash ? `a single segment cannot hold a \`/\`; to match several segments use a catch-all folder such as \`[...${wanted[0].name}]\`` : 'give each path a plain, portable segment; this path was not built, the others were',
      });
    } else bad.push(`entry [${index}] ${problem.text}`);
  });
  if (bad.length > 0) {
    const more = bad.length > 1 ? ` (${bad.length - 1} more ${bad.length === 2 ? 'entry is' : 'entries are'} invalid)` : '';
    const missing = missingParam(value, wanted);
    return { ok: false, message: `generateStaticParams returned an invalid value: ${bad[0]}${more}.`, hint: `each entry must look like ${example}`, ...(missing ? { missing } : {}) };
  }
  return { ok: true, params, rejected, ...(incomplete !== undefined ? { incomplete } : {}) };
}

/**
 * The params of an entry, each read once into a plain object (arrays copied element by element);
 * what is not an object is returned as it is, for checkShape to describe.
 */
function paramsOf(entry: unknown, wanted: Exclude<Segment, { type: 'static' }>[]): unknown {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return entry;
  const copy: Record<string, unknown> = {};
  for (const { name } of wanted) {
    if (!(name in entry)) continue;
    const value = (entry as Record<string, unknown>)[name];
    copy[name] = Array.isArray(value) ? Array.from(value as unknown[]) : value;
  }
  return copy;
}

/** The first param that an entry (an object) does not have as a key at all. */
function missingParam(entries: unknown[], wanted: Exclude<Segment, { type: 'static' }>[]): string | undefined {
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
    const absent = wanted.find((segment) => !(segment.name in entry));
    if (absent) return absent.name;
  }
  return undefined;
}

/** What is wrong with an entry: its shape, or (`unsafe`) a string value that cannot be a path segment. */
function checkEntry(entry: unknown, wanted: Exclude<Segment, { type: 'static' }>[], pattern: string): { text: string; unsafe?: true } | null {
  const shape = checkShape(entry, wanted, pattern);
  if (shape) return { text: shape };
  const record = entry as Record<string, unknown>;
  for (const segment of wanted) {
    const value = record[segment.name];
    const values = typeof value === 'string' ? [value] : Array.isArray(value) ? (value as string[]) : [];
    for (const item of values) {
      const problem = checkValue(item);
      if (!problem) continue;
      const label = paramLabel(segment, pattern);
      return { unsafe: true, text: typeof value === 'string' ? `has ${label} set to ${quote(item)}, which ${problem}` : `has ${label} with the element ${quote(item)}, which ${problem}` };
    }
  }
  return null;
}

/** A param as messages name it: `` `slug` for /posts/[slug] ``. */
function paramLabel(segment: { name: string }, pattern: string): string {
  return `\`${segment.name}\` for ${pattern}`;
}

/** A value in a message, cut when long (a 10,000-segment path must not make a 20,000-character line). */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) + (value.length > 80 ? ` (${value.length} characters)` : '');
}

function checkShape(entry: unknown, wanted: Exclude<Segment, { type: 'static' }>[], pattern: string): string | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return `is ${describe(entry)}, expected an object`;
  const record = entry as Record<string, unknown>;
  const label = (segment: Segment & { name: string }) => paramLabel(segment, pattern);
  for (const segment of wanted) {
    const value = record[segment.name];
    if (segment.type === 'dynamic') {
      if (typeof value === 'string') continue;
      if (!(segment.name in record) || value === undefined) return `has no ${label(segment)} (expected ${EXPECTED.dynamic})`;
      return `has ${label(segment)} set to ${describe(value)}, expected ${EXPECTED.dynamic}`;
    }
    if (segment.type === 'optional' && (value === undefined || value === null)) continue;
    if (segment.type === 'catchall' && value === undefined) return `has no ${label(segment)} (expected ${EXPECTED.catchall})`;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      return `has ${label(segment)} set to ${describe(value)}, expected ${EXPECTED[segment.type]}`;
    }
    if (segment.type === 'catchall' && value.length === 0) return `has ${label(segment)} set to [], expected ${EXPECTED.catchall}`;
  }
  return null;
}

/**
 * A value becomes one path segment and one file name: it must not be able to climb out of the
 * output folder or name something a static host cannot serve. Next.js accepts some of these; we do
 * not (docs/nextjs-rules.md §5).
 */
export function checkValue(value: string): string | null {
  if (value === '') return 'is empty';
  if (value === '.' || value === '..') return 'would climb folders (`.` and `..` are not allowed)';
  // Most values are short and plain: one scan says so, and the rules below name what is wrong.
  if (PLAIN.test(value) && value.length <= 255 / 3) return null;
  if (value.includes('/')) return 'contains `/`';
  if (value.includes('\\')) return 'contains `\\`';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'contains a control character';
  // A lone surrogate becomes U+FFFD in a file name, so two different values could share one file.
  if (!value.isWellFormed()) return 'is not valid Unicode (it has an unpaired surrogate)';
  // Measured as written: `#` and `?` become three bytes each.
  if (Buffer.byteLength(escapeSegment(value)) > 255) return 'is longer than 255 bytes (as a file name), too long for most file systems';
  return null;
}

/**
 * No slash, backslash, control character or surrogate (so none unpaired). With at most 85 UTF-16
 * units such a value is at most 255 bytes as a file name, even with every character 3 bytes long.
 */
// eslint-disable-next-line no-control-regex
const PLAIN = /^[^/\\\u0000-\u001f\u007f\ud800-\udfff]*$/;

function pick(entry: Record<string, unknown>, wanted: Exclude<Segment, { type: 'static' }>[]): Params {
  const params: Params = {};
  for (const segment of wanted) {
    const value = entry[segment.name];
    if (segment.type === 'dynamic') params[segment.name] = value as string;
    else if (Array.isArray(value) && value.length > 0) params[segment.name] = [...(value as string[])];
    else if (segment.type === 'catchall') params[segment.name] = [...(value as string[])];
  }
  return params;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return `an object`;
  if (typeof value === 'undefined') return 'undefined';
  return `the ${typeof value} ${String(value)}`;
}

/** Next.js escapes only the characters that would change the URL's structure. */
export function escapeSegment(value: string): string {
  return value.includes('#') || value.includes('?') ? value.replace(/[#?]/g, (c) => encodeURIComponent(c)) : value;
}

/**
 * The manifest key of one concrete path: segment values raw except for `#` and `?`
 * (`b c` stays `/p/b c`, as in Next.js's prerender manifest).
 */
export function pathFromParams(segments: Segment[], params: Params): string {
  // Joined once: a path made by `+=` is a chain of concatenations that V8 flattens when the path is
  // first hashed, and the chain's head stays with every record holding the path (32 bytes a path).
  const parts: string[] = [];
  for (const segment of segments) {
    if (segment.type === 'static') parts.push('/', segment.value);
    else if (segment.type === 'dynamic') parts.push('/', escapeSegment(params[segment.name] as string));
    else {
      const values = (params[segment.name] as string[] | undefined) ?? [];
      for (const value of values) parts.push('/', escapeSegment(value));
    }
  }
  return parts.length === 0 ? '/' : parts.join('');
}

export interface Expansion<T extends PlannedPath = PlannedPath> {
  /**
   * The concrete paths of a route, in the order generated, duplicates collapsed to the first: the
   * manifest key (under `basePath`) and the params.
   */
  paths: T[];
  /** Different params that give one path (`a#b` and `a%23b` both give `/p/a%23b`). */
  clashes: { key: string; params: Params; first: Params }[];
}

/** A concrete path: its manifest key (under `basePath`) and its params. */
export interface PlannedPath {
  key: string;
  params: Params;
}

/** `make` makes each path's record (the one object a path has from here on, see assign.ts). */
export function expandPaths<T extends PlannedPath = PlannedPath>(segments: Segment[], list: Params[], basePath = '', make: (key: string, params: Params) => T = (key, params) => ({ key, params }) as T): Expansion<T> {
  const expansion: Expansion<T> = { paths: [], clashes: [] };
  const seen = new KeySet(list.length, (index) => expansion.paths[index].key);
  for (const params of list) {
    const key = withBasePath(basePath, pathFromParams(segments, params));
    const held = seen.add(expansion.paths.length, key);
    if (held === -1) expansion.paths.push(make(key, params));
    else if (JSON.stringify(expansion.paths[held].params) !== JSON.stringify(params)) expansion.clashes.push({ key, params, first: expansion.paths[held].params });
  }
  return expansion;
}

/** The path the handler sees in its request URL: every value fully percent-encoded (`/p/b%20c`). */
export function requestPathFromParams(segments: Segment[], params: Params): string {
  return pathFromParams(segments, mapValues(params, encodeURIComponent));
}

function mapValues(params: Params, fn: (value: string) => string): Params {
  const out: Params = {};
  for (const [key, value] of Object.entries(params)) out[key] = Array.isArray(value) ? value.map(fn) : value === undefined ? value : fn(value);
  return out;
}

/** A URL path under next.config's `basePath` (`/docs` + `/` is `/docs`). */
export function withBasePath(basePath: string, urlPath: string): string {
  return basePath === '' ? urlPath : urlPath === '/' ? basePath : [basePath, urlPath].join('');
}

/**
 * The manifest key of a request path: each segment decoded (as a host decodes it to find a file),
 * `#` and `?` written as in keys. Undefined for a path no host would map to a file: an encoded
 * slash or backslash, a dot segment, or bad percent-encoding.
 */
export function keyOfRequest(rawPath: string): string | undefined {
  const segments = rawPath.split('/').slice(1);
  const decoded: string[] = [];
  for (const segment of segments) {
    let value: string;
    try {
      value = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
    if (value.includes('/') || value.includes('\\') || value === '.' || value === '..' || value.includes('\0')) return undefined;
    decoded.push(value.replace(/#/g, '%23').replace(/\?/g, '%3F'));
  }
  const key = `/${decoded.join('/')}`;
  // `/a/` is `/a`, as hosts without trailing-slash rules serve it.
  return key.length > 1 && key.endsWith('/') ? key.slice(0, -1) : key;
}
