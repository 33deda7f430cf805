/**
 * The manifest: what a CDN deploy and CI read. This module owns its format: the types, the version,
 * the builder (from results), the serializer (which sorts keys itself, at every level) and the
 * reader that validates a manifest from disk (for `--baseline` and `merge`). Pure but for
 * `readManifest`. Paths are relative to the working directory, with forward slashes.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setupError, type RouteErrorCode } from './errors.js';
import { entryLines, KeptEntries } from './splice.js';
import { formatLocation, relativeFile } from './location.js';
import { NO_LOGS } from './results.js';
import type { ReasonKind } from './reasons.js';
import type { FrozenUse, Headers, PathResult, RouteFile, StaticResult } from './types.js';

export const MANIFEST_VERSION = 1;
export const MANIFEST_NAME = 'prerender-manifest.json';

/** Hosts that deploy the output folder as it is: for them the manifest is kept beside it, never deployed. */
const DEPLOYS_WHOLE_FOLDER = ['netlify', 'cloudflare'];

/**
 * Where the manifest goes unless `--manifest` says: inside the output folder, or beside it
 * (`dist.prerender-manifest.json`) for a host that would serve every file of the folder.
 */
export function defaultManifestPath(out: string, host: string): string {
  return DEPLOYS_WHOLE_FOLDER.includes(host) ? path.join(path.dirname(out), `${path.basename(out)}.${MANIFEST_NAME}`) : path.join(out, MANIFEST_NAME);
}

/** The manifest of an output folder: inside it, else beside it (see `defaultManifestPath`). */
export function findManifest(out: string): string | undefined {
  return [path.join(out, MANIFEST_NAME), path.join(path.dirname(out), `${path.basename(out)}.${MANIFEST_NAME}`)].find((file) => existsSync(file));
}

export interface ManifestRoute {
  srcRoute: string;
  source: string;
  file: string | null;
  status: number;
  headers: Headers;
  revalidate: number | false;
  size: number;
  sha256: string;
  /** Cache tags of the path's fetches, when any. */
  tags?: string[];
  /**
   * Network reads that make these bytes a snapshot of build time (a fetch without revalidate, a
   * socket), when any: the path shows what was true when it was built until it is rebuilt.
   */
  frozen?: FrozenUse[];
}

export interface ManifestReason {
  kind: ReasonKind;
  message: string;
  at?: string;
}

export interface ManifestDynamic {
  srcRoute: string;
  source: string;
  reasons: ManifestReason[];
}

export interface ManifestError {
  srcRoute: string;
  source: string;
  /** Stable, from the error catalogue (the README lists every code). */
  code: RouteErrorCode;
  message: string;
  at?: string;
  hint?: string;
}

/** What a partial manifest says about the build it is part of (`--shard`). */
export interface ShardInfo {
  count: number;
  index: number;
  /** sha256 of every compiled source file and the build options that change the output. */
  fingerprint: string;
  /** sha256 of the sorted list of every path of the whole build. */
  paths: string;
  host: string;
}

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  routes: Record<string, ManifestRoute>;
  dynamic: Record<string, ManifestDynamic>;
  errors: Record<string, ManifestError>;
  /** Only in the output of `--shard`: which part of which build this is. */
  shard?: ShardInfo;
}

/** A manifest from its sections, each with its keys in sorted order (what every reader iterates). */
export function createManifest(sections: Pick<Manifest, 'routes' | 'dynamic' | 'errors'>, shard?: ShardInfo): Manifest {
  return { version: MANIFEST_VERSION, routes: sortedRecord(sections.routes), dynamic: sortedRecord(sections.dynamic), errors: sortedRecord(sections.errors), ...(shard ? { shard } : {}) };
}

function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  const sorted: Record<string, T> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key];
  return sorted;
}

export function buildManifest(results: PathResult[], cwd: string): Manifest {
  // Each section's entries are added in key order, so that the manifest is made without a sorted
  // copy of a million-entry record.
  const order = results.map((_, i) => i).sort((a, b) => (results[a].path < results[b].path ? -1 : results[a].path > results[b].path ? 1 : a - b));
  const routes: Record<string, ManifestRoute> = {};
  const dynamic: Record<string, ManifestDynamic> = {};
  const errors: Record<string, ManifestError> = {};
  const sources = new Map<string, string>();
  const sourceOf = (file: string) => {
    let source = sources.get(file);
    if (source === undefined) sources.set(file, (source = relativeFile(file, cwd)));
    return source;
  };
  // Header records are shared between paths (see execute.ts), and so are their sorted copies.
  const sortedHeaders = new Map<Headers, Headers>();
  const headersOf = (headers: Headers) => {
    let copy = sortedHeaders.get(headers);
    if (!copy) sortedHeaders.set(headers, (copy = sortedCopy(headers)));
    return copy;
  };
  // Entries are made with their keys in sorted order, so that the serializer's fast path (one
  // JSON.stringify per entry) applies; it sorts whatever is not.
  for (const index of order) {
    const result = results[index];
    const { srcRoute } = result.route;
    const source = sourceOf(result.route.file);
    switch (result.type) {
      case 'static':
        // A build's static result is its entry, or holds the previous build's (see StaticRecord, KeptRecord).
        if (result instanceof StaticRecord || result instanceof KeptRecord) {
          routes[result.path] = result.entry;
          break;
        }
        routes[result.path] = {
          file: result.file,
          ...(result.frozen ? { frozen: result.frozen } : {}),
          headers: headersOf(result.headers),
          revalidate: result.revalidate,
          sha256: result.sha256,
          size: result.size,
          source,
          srcRoute,
          status: result.status,
          ...(result.tags ? { tags: result.tags } : {}),
        };
        break;
      case 'dynamic':
        dynamic[result.path] = {
          reasons: result.reasons.map((reason) => ({ ...(reason.at ? { at: formatLocation(reason.at, cwd) } : {}), kind: reason.kind, message: reason.message })),
          source,
          srcRoute,
        };
        break;
      case 'error':
        // A path keeps its first error (two conflicting routes share one URL and one message).
        errors[result.path] ??= {
          ...(result.at ? { at: formatLocation(result.at, cwd) } : {}),
          code: result.code,
          ...(result.hint ? { hint: result.hint } : {}),
          message: result.message,
          source,
          srcRoute,
        };
        break;
    }
  }
  return { version: MANIFEST_VERSION, routes, dynamic, errors };
}

/** Two-space JSON with every object's keys sorted and a final newline: the same text for the same manifest. */
export function serializeManifest(manifest: Manifest): string {
  return [...manifestChunks(manifest)].join('');
}

/**
 * The text of `serializeManifest`, in pieces of about `entries` entries, so that the manifest of
 * 100k paths is written without one string of tens of megabytes. With `previous` (a manifest read
 * back with its text, that text as this serializer wrote it), an entry `manifest` holds unchanged
 * from it (the same object) is written as the text it was read from, not serialized again.
 */
export function* manifestChunks(manifest: Manifest, entries = 250, previous?: ManifestText): Generator<string | Uint8Array> {
  yield '{\n';
  const keys = definedKeys(manifest as unknown as Record<string, unknown>);
  for (const [i, key] of keys.entries()) {
    const value = (manifest as unknown as Record<string, unknown>)[key];
    const comma = i < keys.length - 1 ? ',' : '';
    const record = value as Record<string, unknown>;
    const names = key === 'routes' || key === 'dynamic' || key === 'errors' ? definedKeys(record) : [];
    if (names.length === 0) {
      yield `  ${JSON.stringify(key)}: ${pretty(value, '  ')}${comma}\n`;
      continue;
    }
    yield `  ${JSON.stringify(key)}: {\n`;
    const kept = key === 'routes' && previous ? { entries: keptRoutes(previous), value: (name: string) => record[name] } : undefined;
    yield* entryLines(names, (run) => entriesText(record, run), kept, entries);
    yield `  }${comma}\n`;
  }
  yield '}\n';
}

/** A manifest and the text it was parsed from, with the bytes of that text (see `KeptEntries`). */
export interface ManifestText {
  manifest: Manifest;
  text: string;
  bytes?: Uint8Array;
}

/**
 * The route entries of a manifest's text as this serializer lays them out: an entry starts a line
 * with four spaces and a quote, nested lines are indented further, and the section ends at a line
 * of two spaces and a brace.
 */
function keptRoutes({ manifest, text, bytes }: ManifestText): KeptEntries {
  const header = '\n  "routes": {\n';
  const start = text.indexOf(header);
  const end = start === -1 ? -1 : text.indexOf('\n  }', start + header.length - 1);
  return new KeptEntries(text, manifest.routes, start === -1 ? -1 : start + header.length, end, (t, at) => {
    const next = t.indexOf('\n    "', at) + 1;
    return next > 0 ? next : -1;
  }, bytes);
}

function definedKeys(record: Record<string, unknown>): string[] {
  return Object.keys(record).filter((key) => record[key] !== undefined).sort();
}

function sortedCopy<T extends object>(record: T): T {
  const copy = {} as Record<string, unknown>;
  for (const key of Object.keys(record).sort()) copy[key] = (record as Record<string, unknown>)[key];
  return copy as T;
}

/** Whether every object in `value` has its keys in sorted order (arrays keep theirs). */
function sortedDeep(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(sortedDeep);
  let previous: string | undefined;
  for (const key in value) {
    if (previous !== undefined && previous >= key) return false;
    if (!sortedDeep((value as Record<string, unknown>)[key])) return false;
    previous = key;
  }
  return true;
}

/**
 * The entries `names` of a section, four spaces in, joined by `,\n`. Entries already in key order
 * (what buildManifest makes) are written by one JSON.stringify of them all.
 */
function entriesText(record: Record<string, unknown>, names: string[]): string {
  if (names.length > 1 && names.every((name) => sortedDeep(record[name]))) {
    const part: Record<string, unknown> = {};
    for (const name of names) part[name] = record[name];
    // One level down in an object of its own, V8's serializer indents the entries as a section
    // does: no second pass over the text to indent it.
    const text = JSON.stringify({ s: part }, null, 2);
    return text.slice(NESTED_OPENING.length, text.length - NESTED_CLOSING.length);
  }
  return names.map((name) => `    ${JSON.stringify(name)}: ${pretty(record[name], '    ')}`).join(',\n');
}

/** What `JSON.stringify({ s: part }, null, 2)` puts around the entries of `part`. */
const NESTED_OPENING = '{\n  "s": {\n';
const NESTED_CLOSING = '\n  }\n}';

/** `JSON.stringify(value, null, 2)` at `indent`, with object keys sorted. */
function pretty(value: unknown, indent: string): string {
  // Fast path: already in order (what buildManifest makes), so V8's own serializer can write it.
  if (sortedDeep(value)) return (JSON.stringify(value, null, 2) ?? 'null').replace(/\n/g, `\n${indent}`);
  return prettySorted(value, indent);
}

function prettySorted(value: unknown, indent: string): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => `${inner}${prettySorted(item === undefined ? null : item, inner)}`).join(',\n')}\n${indent}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = definedKeys(record);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((key) => `${inner}${JSON.stringify(key)}: ${prettySorted(record[key], inner)}`).join(',\n')}\n${indent}}`;
}

export interface Counts {
  static: number;
  dynamic: number;
  errors: number;
  bytes: number;
}

export function countManifest(manifest: Manifest): Counts {
  // Loops, not lists: the manifest may hold a million paths.
  let statics = 0;
  let bytes = 0;
  for (const key in manifest.routes) {
    const entry = manifest.routes[key];
    statics++;
    if (entry.file !== null) bytes += entry.size;
  }
  return { static: statics, dynamic: Object.keys(manifest.dynamic).length, errors: Object.keys(manifest.errors).length, bytes };
}

/** Reads and validates a manifest written by route-prerender; the error names what is wrong. */
export function readManifest(file: string): Manifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw setupError('MANIFEST_INVALID', [file, code === 'ENOENT' ? 'the file does not exist' : `it cannot be read (${code ?? (error as Error).message})`], { file });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw setupError('MANIFEST_INVALID', [file, `it is not JSON (${(error as Error).message})`], { file });
  }
  const problem = checkManifest(value);
  if (problem) throw setupError('MANIFEST_INVALID', [file, problem], { file });
  return value as Manifest;
}

/** What is wrong with a value that should be a manifest, or undefined when nothing is. */
export function checkManifest(value: unknown): string | undefined {
  if (!isRecord(value)) return 'it is not a JSON object';
  if (value.version !== MANIFEST_VERSION) return `its "version" is ${JSON.stringify(value.version)}, not ${MANIFEST_VERSION} (it is not a route-prerender manifest, or of another version)`;
  const fields: Record<'routes' | 'dynamic' | 'errors', Record<string, (v: unknown) => boolean>> = {
    routes: { srcRoute: isString, source: isString, file: (v) => v === null || isString(v), status: isNumber, headers: isRecord, size: isNumber, sha256: isString, revalidate: (v) => v === false || isNumber(v) },
    dynamic: { srcRoute: isString, source: isString, reasons: Array.isArray },
    errors: { srcRoute: isString, source: isString, message: isString },
  };
  for (const section of ['routes', 'dynamic', 'errors'] as const) {
    const entries = value[section];
    if (!isRecord(entries)) return `its "${section}" is ${entries === undefined ? 'missing' : 'not an object'}`;
    const checks = Object.entries(fields[section]);
    // A loop without a pair per entry: a manifest of a million paths is read this way.
    for (const key in entries) {
      const entry = entries[key];
      if (!isRecord(entry)) return `${section}[${JSON.stringify(key)}] is not an object`;
      for (const [field, valid] of checks) {
        if (!valid(entry[field])) return `${section}[${JSON.stringify(key)}].${field} is ${entry[field] === undefined ? 'missing' : `invalid (${JSON.stringify(entry[field])})`}`;
      }
    }
  }
  if (value.shard !== undefined && !(isRecord(value.shard) && isNumber(value.shard.index) && isNumber(value.shard.count) && isString(value.shard.fingerprint) && isString(value.shard.paths) && isString(value.shard.host))) {
    return 'its "shard" is invalid';
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** The fields of a static path's manifest entry, as its result is made. */
export type EntryFields = Omit<ManifestRoute, 'frozen' | 'tags'> & { frozen?: FrozenUse[]; tags?: string[] };

/**
 * A static path's result made by a build, which is its manifest entry too (what `toJSON` gives).
 * It holds its key and a place in its build's `StaticRecords`, where the fields are kept in typed
 * columns: a million paths hold a small object and ~60 bytes of columns each, not a record, a
 * 64-character hash and a file name.
 */
export class StaticRecord implements StaticResult, ManifestRoute {
  readonly #store: StaticRecords;
  readonly #index: number;
  readonly #path: string;

  constructor(store: StaticRecords, index: number, path: string) {
    this.#store = store;
    this.#index = index;
    this.#path = path;
  }

  get type(): 'static' {
    return 'static';
  }
  get path(): string {
    return this.#path;
  }
  get route(): RouteFile {
    return this.#store.route(this.#index);
  }
  get logs(): string[] {
    return this.#store.extra(this.#index)?.logs ?? NO_LOGS;
  }
  get file(): string | null {
    return this.#store.file(this.#index, this.#path);
  }
  get frozen(): FrozenUse[] | undefined {
    return this.#store.extra(this.#index)?.frozen;
  }
  get headers(): Headers {
    return this.#store.headers(this.#index);
  }
  get revalidate(): number | false {
    return this.#store.revalidate(this.#index);
  }
  get sha256(): string {
    return this.#store.sha256(this.#index);
  }
  get size(): number {
    return this.#store.size(this.#index);
  }
  get source(): string {
    return this.#store.source(this.#index);
  }
  get srcRoute(): string {
    return this.#store.route(this.#index).srcRoute;
  }
  get status(): number {
    return this.#store.status(this.#index);
  }
  get tags(): string[] | undefined {
    return this.#store.extra(this.#index)?.tags;
  }
  /** The manifest entry: this record itself. */
  get entry(): ManifestRoute {
    return this;
  }
  /** The plain entry, with its keys in sorted order: what the manifest holds for this path. */
  toJSON(): ManifestRoute {
    return manifestEntry(this);
  }
}

/** What few paths have: logs, tags, frozen reads, a file name of their own, a hash that is not one. */
interface Extra {
  logs?: string[];
  tags?: string[];
  frozen?: FrozenUse[];
  file?: string;
  sha256?: string;
}

const FILE_NONE = 0;
const FILE_NATURAL = 1;
const FILE_OWN = 2;
const HASH_BYTES = 32;

/**
 * The static results of one build, in columns: the hash as 32 bytes, size, status, revalidate,
 * indices of the shared header records and routes, and whether the file is the path's natural one
 * (`prefix` and the path without its slash, as files.ts names most files). What few paths have
 * besides is in a sparse map.
 */
export class StaticRecords {
  readonly #prefix: string;
  #count = 0;
  #hashes: Buffer;
  #sizes: Float64Array;
  #statuses: Uint16Array;
  #revalidates: Float64Array;
  #headerIds: Uint32Array;
  #routeIds: Uint32Array;
  #files: Uint8Array;
  readonly #extras = new Map<number, Extra>();
  readonly #headerTable: Headers[] = [];
  readonly #headerIndex = new Map<Headers, number>();
  readonly #routeTable: Array<{ route: RouteFile; source: string }> = [];
  readonly #routeIndex = new Map<RouteFile, number>();

  /** `capacity`: how many records to make room for at once (more grow the columns). */
  constructor(capacity: number, prefix = '') {
    this.#prefix = prefix;
    const rows = Math.max(1, capacity);
    this.#hashes = Buffer.alloc(rows * HASH_BYTES);
    this.#sizes = new Float64Array(rows);
    this.#statuses = new Uint16Array(rows);
    this.#revalidates = new Float64Array(rows);
    this.#headerIds = new Uint32Array(rows);
    this.#routeIds = new Uint32Array(rows);
    this.#files = new Uint8Array(rows);
  }

  /** A new record; `fields.headers` is best shared between paths (one index per distinct record). */
  add(path: string, route: RouteFile, fields: EntryFields, logs: string[] = NO_LOGS): StaticRecord {
    if (this.#count === this.#sizes.length) this.#grow();
    const index = this.#count++;
    const extra: Extra = {};
    if (logs.length > 0) extra.logs = logs;
    if (fields.tags) extra.tags = fields.tags;
    // Kept as the entry writes them: objects with their keys in sorted order (see toJSON).
    if (fields.frozen && fields.frozen.length > 0) extra.frozen = fields.frozen.map((use) => (sortedDeep(use) ? use : sortedCopy(use)));
    if (fields.file === null) this.#files[index] = FILE_NONE;
    else if (isNatural(fields.file, this.#prefix, path)) this.#files[index] = FILE_NATURAL;
    else {
      this.#files[index] = FILE_OWN;
      extra.file = fields.file;
    }
    if (fields.sha256.length !== HASH_BYTES * 2 || this.#hashes.write(fields.sha256, index * HASH_BYTES, HASH_BYTES, 'hex') !== HASH_BYTES) extra.sha256 = fields.sha256;
    this.#sizes[index] = fields.size;
    this.#statuses[index] = fields.status;
    this.#revalidates[index] = fields.revalidate === false ? Number.NaN : fields.revalidate;
    this.#headerIds[index] = interned(this.#headerIndex, this.#headerTable, fields.headers, (h) => (sortedDeep(h) ? h : sortedCopy(h)));
    this.#routeIds[index] = interned(this.#routeIndex, this.#routeTable, route, (r) => ({ route: r, source: fields.source }));
    if (extra.logs || extra.tags || extra.frozen || extra.file || extra.sha256) this.#extras.set(index, extra);
    return new StaticRecord(this, index, path);
  }

  route(index: number): RouteFile {
    return this.#routeTable[this.#routeIds[index]].route;
  }
  source(index: number): string {
    return this.#routeTable[this.#routeIds[index]].source;
  }
  headers(index: number): Headers {
    return this.#headerTable[this.#headerIds[index]];
  }
  size(index: number): number {
    return this.#sizes[index];
  }
  status(index: number): number {
    return this.#statuses[index];
  }
  revalidate(index: number): number | false {
    const value = this.#revalidates[index];
    return Number.isNaN(value) ? false : value;
  }
  sha256(index: number): string {
    return this.#extras.get(index)?.sha256 ?? this.#hashes.toString('hex', index * HASH_BYTES, (index + 1) * HASH_BYTES);
  }
  file(index: number, path: string): string | null {
    const kind = this.#files[index];
    return kind === FILE_NONE ? null : kind === FILE_NATURAL ? this.#prefix + path.slice(1) : this.#extras.get(index)!.file!;
  }
  extra(index: number): Extra | undefined {
    return this.#extras.get(index);
  }

  #grow(): void {
    const capacity = this.#sizes.length * 2;
    const hashes = Buffer.alloc(capacity * HASH_BYTES);
    this.#hashes.copy(hashes);
    this.#hashes = hashes;
    this.#sizes = grown(this.#sizes, new Float64Array(capacity));
    this.#statuses = grown(this.#statuses, new Uint16Array(capacity));
    this.#revalidates = grown(this.#revalidates, new Float64Array(capacity));
    this.#headerIds = grown(this.#headerIds, new Uint32Array(capacity));
    this.#routeIds = grown(this.#routeIds, new Uint32Array(capacity));
    this.#files = grown(this.#files, new Uint8Array(capacity));
  }
}

function grown<T extends Float64Array | Uint16Array | Uint32Array | Uint8Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

/** The index of `value` in `table`, added (as `make` makes its row) when new. */
function interned<K, V>(index: Map<K, number>, table: V[], value: K, make: (value: K) => V): number {
  let id = index.get(value);
  if (id === undefined) {
    id = table.push(make(value)) - 1;
    index.set(value, id);
  }
  return id;
}

/**
 * Whether `file` is `prefix` and `path` without its leading slash (what files.ts names most files),
 * compared in place: no string is made for the million paths that are.
 */
function isNatural(file: string, prefix: string, path: string): boolean {
  if (file.length !== prefix.length + path.length - 1 || !file.startsWith(prefix)) return false;
  for (let i = 1; i < path.length; i++) if (file.charCodeAt(prefix.length + i - 1) !== path.charCodeAt(i)) return false;
  return true;
}

/**
 * A static path's result taken from the previous build (`--incremental`): it holds the entry of the
 * previous manifest (the same object, which the serializer then writes as the text it was read
 * from) and reads every field from it.
 */
export class KeptRecord implements StaticResult {
  constructor(
    readonly path: string,
    readonly route: RouteFile,
    readonly entry: ManifestRoute,
  ) {}

  get type(): 'static' {
    return 'static';
  }
  get reused(): true {
    return true;
  }
  get logs(): string[] {
    return NO_LOGS;
  }
  get status(): number {
    return this.entry.status;
  }
  get headers(): Headers {
    return this.entry.headers;
  }
  get file(): string | null {
    return this.entry.file;
  }
  get size(): number {
    return this.entry.size;
  }
  get sha256(): string {
    return this.entry.sha256;
  }
  get revalidate(): number | false {
    return this.entry.revalidate;
  }
  get tags(): string[] | undefined {
    return this.entry.tags;
  }
  get frozen(): FrozenUse[] | undefined {
    return this.entry.frozen;
  }
}

/** A manifest entry with its keys in sorted order. */
export function manifestEntry(fields: EntryFields): ManifestRoute {
  return {
    file: fields.file,
    ...(fields.frozen && fields.frozen.length > 0 ? { frozen: fields.frozen } : {}),
    headers: fields.headers,
    revalidate: fields.revalidate,
    sha256: fields.sha256,
    size: fields.size,
    source: fields.source,
    srcRoute: fields.srcRoute,
    status: fields.status,
    ...(fields.tags ? { tags: fields.tags } : {}),
  };
}
