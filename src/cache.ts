/**
 * The build cache: what every path read to make its bytes, kept beside the output folder (never in
 * it, so never deployed). From it come incremental rebuilds (a path runs again only when its code
 * or something it read changed), `prerender explain`, and the frozen-at-build warning.
 *
 * Reads are recorded in the workers (sandbox/runtime/inputs.ts) by phase: while modules are
 * evaluated (every path depends on those: a module shared by routes is evaluated once per worker),
 * in generateStaticParams (every path of the route), and in the handler (that path). What a read
 * was is kept as a digest: a file's content, a folder's listing, whether a path exists and its size,
 * a variable's value.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isAscii } from 'node:buffer';
import { entryLines, KeptEntries } from './splice.js';
import { TextTable } from './cache-text.js';
import { relativeFile } from './location.js';
import type { Manifest, ManifestRoute } from './manifest.js';
import type { AnalyzeOutcome, RecordedInputs, TaskInputs } from './sandbox/protocol.js';
import type { FrozenUse, RouteFile } from './types.js';

export const CACHE_VERSION = 1;

/** Beside the output folder: `.prerender-cache-dist.json`. */
export function cachePath(out: string): string {
  return path.join(path.dirname(out), `.prerender-cache-${path.basename(out)}.json`);
}

export interface PathRecord {
  inputs: RecordedInputs;
  /** When the bytes were made (ms), kept for paths that read the network or the clock. */
  builtAt?: number;
}

export interface RouteRecord {
  /** sha256 of the route's module graph: every source file esbuild compiled into it, with its content. */
  code: string;
  /** What generateStaticParams read. */
  inputs?: RecordedInputs;
  /**
   * The route's analysis as JSON text (see `Analysis`): kept when it read only files and variables,
   * so that a build where none of them changed plans the route without loading its module.
   */
  analysis?: string;
}

/**
 * What a route's analysis gave: its module loaded, the module-level rules applied and its params
 * generated, with the output and the reads of that task (as the worker sent them).
 */
export interface Analysis {
  outcome: AnalyzeOutcome;
  logs: string[];
  inputs?: TaskInputs;
}

/** Digests of inputs as a build took them, with the stamps of the files and when the build ended. */
export interface Recorded {
  builtAt: number;
  /** What each recorded input was when it was read (see `Digests`). */
  digests: Record<string, string>;
  /** Size, time and inode of each file input when its digest was taken (see `Digests`). */
  stamps?: Record<string, string>;
}

export interface BuildCache extends Recorded {
  version: typeof CACHE_VERSION;
  /** sha256 of what changes every path at once: options, next.config, lock files, Node.js, the tool. */
  settings: string;
  /** The project folder, relative to the working directory of the build (where file reads are relative to). */
  project: string;
  /** The number of static paths in the manifest written with this cache (a check that they belong together). */
  staticPaths: number;
  /** What evaluating modules read: every path depends on it. */
  global: RecordedInputs;
  /** By route source file (relative to the working directory). */
  routes: Record<string, RouteRecord>;
  /** By manifest key: only paths whose handler read something. */
  paths: Record<string, PathRecord>;
  /**
   * sha256 of the manifest's text written with this cache: a manifest that still has it is this
   * tool's own, unchanged, and its text is taken as it is (see `manifestChunks`).
   */
  manifest?: string;
  /**
   * The manifest file's stamp once it was in its place (see `manifestStamp`): a manifest that still
   * has it is not hashed again to be known unchanged.
   */
  manifestStamp?: string;
}

/**
 * What the compiled route modules kept beside the output (see `modulesPath`) were compiled from,
 * in their folder: small, so that it is read before anything is compiled.
 */
export interface BundleRecord extends Recorded {
  version: typeof CACHE_VERSION;
  /** sha256 of the settings, routes, options and places the modules were compiled with. */
  key: string;
  /** The source files compiled, relative to the project. */
  inputs: string[];
  /** Each route's module graph, in the order of the routes compiled: indexes into `inputs`. */
  graphs: number[][];
  /** The inputs that import a server-external package: indexes into `inputs`. */
  importers?: number[];
  /**
   * What else decides how imports resolve, as input ids whose digests are kept: tsconfig.json,
   * jsconfig.json, package.json, and the listing of each folder of the project holding a source
   * file (a file added there may take an import's place). Packages change with the lock file.
   */
  checks: string[];
}

/** Beside the output folder: `.prerender-cache-dist-modules/`, the compiled route modules of its last build. */
export function modulesPath(out: string): string {
  return path.join(path.dirname(out), `.prerender-cache-${path.basename(out)}-modules`);
}

/** In the modules' folder. */
const MODULES_RECORD = 'modules.json';

/** The record of the compiled modules kept beside `out`; undefined when there is none, or it is damaged. */
export function readModulesRecord(out: string): BundleRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(path.join(modulesPath(out), MODULES_RECORD), 'utf8')) as unknown;
    return isBundleRecord(record) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Every input id whose digest the record keeps: its source files, then its checks. */
function bundleIds(record: Pick<BundleRecord, 'inputs' | 'checks'>): string[] {
  return [...record.inputs.map((file) => `file:${file}`), ...record.checks];
}

/** What the modules of the last build were compiled from, made absolute, when nothing of it changed. */
export function unchangedBundle(record: BundleRecord | undefined, key: string, digests: Digests, root: string): { inputs: string[]; graphs: string[][]; importers: string[] } | undefined {
  if (!record || record.key !== key) return undefined;
  if (bundleIds(record).some((id) => record.digests[id] === undefined || record.digests[id] !== digests.of(id))) return undefined;
  const inputs = record.inputs.map((file) => path.resolve(root, file));
  return { inputs, graphs: record.graphs.map((graph) => graph.map((index) => inputs[index])), importers: (record.importers ?? []).map((index) => inputs[index]) };
}

/**
 * Writes the record of the compiled modules into their folder (`graphs` in the order of the routes
 * compiled), with the digests of what it checks as they are now.
 */
export function writeModulesRecord(out: string, build: { key: string; inputs: string[]; graphs: string[][]; importers: string[]; root: string; digests: Digests }): void {
  const { root, digests } = build;
  const index = new Map(build.inputs.map((file, i) => [file, i]));
  const folders = new Set(build.inputs.map((file) => inputId('dir', root, path.dirname(file))).filter((folder) => !folder.split('/').includes('node_modules')));
  const inputs = build.inputs.map((file) => splitId(inputId('file', root, file))[1]);
  const checks = [...['tsconfig.json', 'jsconfig.json', 'package.json'].map((name) => `file:${name}`), ...[...folders].sort()];
  const recorded: Record<string, string> = {};
  const stamps: Record<string, string> = {};
  for (const checked of bundleIds({ inputs, checks })) {
    recorded[checked] = digests.of(checked);
    const stamp = digests.stampOf(checked);
    if (stamp !== undefined) stamps[checked] = stamp;
  }
  const record: BundleRecord = { version: CACHE_VERSION, key: build.key, builtAt: Date.now(), inputs, graphs: build.graphs.map((graph) => graph.map((file) => index.get(file)!)), importers: build.importers.flatMap((file) => (index.has(file) ? [index.get(file)!] : [])), checks, digests: recorded, stamps };
  writeFileSync(path.join(modulesPath(out), MODULES_RECORD), JSON.stringify(record));
}

/**
 * A read's id: its kind (`file`, `dir`, `stat`) and the path, relative to the project with forward
 * slashes when inside it, else absolute. Environment variables are `env:NAME`.
 */
export function inputId(kind: 'file' | 'dir' | 'stat', root: string, absolute: string): string {
  const relative = path.relative(root, absolute);
  return `${kind}:${relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative.split(path.sep).join('/')}`;
}

/** An id's kind and name: `['file', 'posts/a.md']`, `['env', 'SITE_URL']`. */
function splitId(id: string): [kind: string, name: string] {
  const colon = id.indexOf(':');
  return [id.slice(0, colon), id.slice(colon + 1)];
}

/**
 * The first id, among the inputs whose digest decides whether they changed, that `test` accepts
 * (a loop, not a list or a generator: it runs for every path of a build).
 */
export function findInputId(inputs: RecordedInputs | undefined, test: (id: string) => boolean): string | undefined {
  const files = inputs?.files;
  if (files) for (let i = 0; i < files.length; i++) if (test(files[i].id)) return files[i].id;
  const env = inputs?.env;
  if (env) for (let i = 0; i < env.length; i++) if (test(`env:${env[i].name}`)) return `env:${env[i].name}`;
  return undefined;
}

/**
 * The stamp of the manifest file: size, modification and change times, inode. The change time
 * moves with every write and with every change of the other times (`utimes` included), so a
 * manifest edited since keeps none of it. Undefined where the file system keeps whole seconds (an
 * edit in the same second would leave it) or the file cannot be read: the manifest is then hashed.
 */
export function manifestStamp(file: string): string | undefined {
  try {
    const { size, mtimeMs, ctimeMs, ino } = statSync(file);
    return ctimeMs % 1000 === 0 ? undefined : `${size}:${mtimeMs}:${ctimeMs}:${ino}`;
  } catch {
    return undefined;
  }
}

/** What a file was when its digest was taken: size, modification time and inode. */
export function fileStamp(stats: { size: number; mtimeMs: number; ino: number }): string {
  return `${stats.size}:${stats.mtimeMs}:${stats.ino}`;
}

/**
 * Whether a file with this `stamp` (see `fileStamp`) and time is the one `recorded` stamped in a
 * build that ended at `builtAt`: the same stamp, and a time more than two seconds before that end
 * (a file changed closer to it may not show it in its time: coarse file systems cannot tell two
 * writes apart within two seconds).
 */
export function sameAsStamped(stamp: string, mtimeMs: number, recorded: string | undefined, builtAt: number): boolean {
  return recorded === stamp && mtimeMs < builtAt - 2000;
}

/** A project folder with a separator after it: input ids' paths are joined to it without normalizing. */
export function folderPrefix(root: string): string {
  return root.endsWith(path.sep) ? root : root + path.sep;
}

/** The file an input id's path names: absolute as it is, else inside the project. */
export function inputFile(prefix: string, name: string): string {
  return path.isAbsolute(name) ? name : prefix + name;
}

/**
 * What an input is now, one digest per id, each computed once. With the previous build's cache, a
 * file whose size, time and inode are those recorded, and whose time is well before that build
 * ended, keeps its digest without being read again (as git's index does); any other file is read.
 */
export class Digests {
  readonly #memo = new Map<string, string>();
  /** Stamps of the files read for a digest here (see `stampOf`). */
  readonly #stamps = new Map<string, string>();
  readonly #trusted: Recorded[] = [];
  /** Records whose unchanged files keep their digests (see `adoptUnchanged`), with the ids that changed. */
  readonly #adopted: Array<{ recorded: Recorded; moved: Set<string> }> = [];

  /** The project folder with a separator after it: ids' paths are joined to it without normalizing. */
  readonly #prefix: string;

  constructor(root: string, private readonly env: Record<string, string | undefined>) {
    this.#prefix = folderPrefix(root);
  }

  /** Lets unchanged files keep the digests a previous build recorded (its cache, its modules' record). */
  trust(recorded: Recorded | undefined): void {
    if (recorded) this.#trusted.push(recorded);
  }

  /**
   * Lets each file input of `recorded` with a stamp that is not in `changed` (a worker found its
   * stamp unchanged, see `lookAgain`) keep the digest and stamp recorded. Ids already taken stay.
   * Looked up as ids are asked for, not copied: a cache of 10,000 files would be 20,000 entries.
   */
  adoptUnchanged(recorded: Recorded, changed: Iterable<string>): void {
    this.#adopted.push({ recorded, moved: new Set(changed) });
  }

  /** The digest and stamp `id` keeps from a record (see `adoptUnchanged`). */
  #adoptedFor(id: string): { digest: string; stamp: string } | undefined {
    if (this.#adopted.length === 0 || !id.startsWith('file:')) return undefined;
    for (const { recorded, moved } of this.#adopted) {
      if (moved.has(id)) continue;
      const stamp = recordedStamp(recorded, id);
      const digest = stamp === undefined ? undefined : recordedDigest(recorded, id);
      if (digest !== undefined) return { digest, stamp: stamp! };
    }
    return undefined;
  }

  of(id: string): string {
    let digest = this.#memo.get(id);
    if (digest !== undefined) return digest;
    const adopted = this.#adoptedFor(id);
    if (adopted) return adopted.digest;
    this.#memo.set(id, (digest = this.#compute(id)));
    return digest;
  }

  /** What a file was when its digest was taken (see `fileStamp`), for the next build; undefined for other inputs. */
  stampOf(id: string): string | undefined {
    return this.#stamps.get(id) ?? (this.#memo.has(id) ? undefined : this.#adoptedFor(id)?.stamp);
  }

  #compute(id: string): string {
    const [kind, name] = splitId(id);
    if (kind === 'env') return this.env[name] === undefined ? 'unset' : hash(this.env[name]!);
    const file = inputFile(this.#prefix, name);
    try {
      if (kind === 'file') {
        const stats = statSync(file);
        const stamp = fileStamp(stats);
        this.#stamps.set(id, stamp);
        for (const previous of this.#trusted) {
          if (!sameAsStamped(stamp, stats.mtimeMs, recordedStamp(previous, id), previous.builtAt)) continue;
          const digest = recordedDigest(previous, id);
          if (digest !== undefined) return digest;
        }
        return hash(readFileSync(file));
      }
      if (kind === 'dir') return hash(readdirSync(file).sort().join('\n'));
      // Whether it exists, what it is and its size; not its time, which a fresh checkout changes.
      const stats = statSync(file);
      return stats.isDirectory() ? 'dir' : `file ${stats.size}`;
    } catch {
      return 'absent';
    }
  }
}

export function hash(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `chunks` as bytes (each encoded once, for the hash and the file), hashed as they are read: `digest()` once every one was. */
export function hashing(chunks: Iterable<string | Uint8Array>): { chunks: Generator<Uint8Array>; digest: () => string } {
  const sha256 = createHash('sha256');
  function* read() {
    for (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      sha256.update(bytes);
      yield bytes;
    }
  }
  return { chunks: read(), digest: () => sha256.digest('hex') };
}

/** A route's code: its module graph's files with their contents. */
export function codeDigest(files: string[], digests: Digests, root: string): string {
  return hash(files.map((file) => `${path.relative(root, file).split(path.sep).join('/')}\0${digests.of(inputId('file', root, file))}`).join('\n'));
}

/** Reads the cache beside `out`; undefined when there is none or it is not of this version. */
export function readCache(out: string): BuildCache | undefined {
  return readCacheText(out)?.cache;
}

/** A build cache and the text it was parsed from. */
export interface CacheText {
  cache: BuildCache;
  text: string;
  /** The bytes the text was decoded from, for writing kept records again as they were (see `KeptEntries`). */
  bytes?: Uint8Array;
}

/** The cache beside `out` with its text (see `cacheChunks`). */
export function readCacheText(out: string): CacheText | undefined {
  const text = readCacheFile(out);
  return text === undefined ? undefined : parseCache(text);
}

/** The text of the cache beside `out`, when there is one. */
export function readCacheFile(out: string): string | undefined {
  return readCacheBytes(out)?.toString();
}

/** The bytes of the cache beside `out`, when there is one (read as bytes, then decoded: 27 ms for the 2.9 MB cache of 10,000 paths where reading it as text took 37–48 ms). */
export function readCacheBytes(out: string): Buffer | undefined {
  try {
    return readFileSync(cachePath(out));
  } catch {
    return undefined; // none or unreadable: the build runs every path
  }
}

/**
 * A cache from its text; undefined when it is not JSON, or not of this version's shape. With
 * `lazy`, the path records are not parsed: each is a `KeptPath` over its line of the text (an
 * incremental build reads a few of them; the others it writes again as they were).
 */
export function parseCache(text: string, options: { lazy?: boolean; bytes?: Uint8Array; head?: Head } = {}): CacheText | undefined {
  try {
    const lazy = options.lazy ? lazyPaths(text) : undefined;
    const tables = lazy && textTables(text, lazy.opening);
    const head = tables && (options.head?.end === tables.head ? options.head.value : (JSON.parse(`${text.slice(0, tables.head)}}`) as Partial<BuildCache>));
    const cache = (tables ? withTables(head as BuildCache, tables, options.bytes) : JSON.parse(lazy ? `${text.slice(0, lazy.opening)}}` : text)) as BuildCache;
    if (lazy) cache.paths = lazy.paths;
    return isCache(cache, lazy !== undefined) ? { cache, text, ...(options.bytes ? { bytes: options.bytes } : {}) } : undefined;
  } catch {
    return undefined;
  }
}

/** A cache's digests and stamps kept as their text (see cache-text.ts), with the bytes it was decoded from when they are ASCII. */
interface Tables {
  digests: TextTable;
  stamps: TextTable;
  bytes?: Uint8Array;
}

/** The tables of caches read with `lazy`: their `digests` and `stamps` are parsed only when asked for whole. */
const TABLES = new WeakMap<Recorded, Tables>();

/** The digests and stamps of a cache's text, laid out as `cacheChunks` writes them before the paths (at `paths`), and where its head ends. */
function textTables(text: string, paths: number): { head: number; digests: TextTable; stamps: TextTable } | undefined {
  const head = text.lastIndexOf(DIGESTS_OPENING, paths);
  const stampsAt = text.lastIndexOf(STAMPS_OPENING, paths);
  if (head === -1 || stampsAt < head) return undefined;
  const digests = TextTable.of(text, head + DIGESTS_OPENING.length, stampsAt - 1);
  const stamps = TextTable.of(text, stampsAt + STAMPS_OPENING.length, paths - 1);
  return digests && stamps ? { head, digests, stamps } : undefined;
}

/** `cache` with `digests` and `stamps` that are `tables`, parsed when asked for whole. */
function withTables(cache: BuildCache, tables: { digests: TextTable; stamps: TextTable }, bytes: Uint8Array | undefined): BuildCache {
  tablesWhenAsked(cache, () => tables.digests.all(), () => tables.stamps.all());
  TABLES.set(cache, { digests: tables.digests, stamps: tables.stamps, ...(bytes && isAscii(bytes) ? { bytes } : {}) });
  return cache;
}

/** Gives `cache` its `digests` and `stamps` as getters: each made whole only when asked for. */
function tablesWhenAsked(cache: BuildCache, digests: () => Record<string, string>, stamps: () => Record<string, string>): void {
  Object.defineProperty(cache, 'digests', { get: digests, enumerable: true, configurable: true });
  Object.defineProperty(cache, 'stamps', { get: stamps, enumerable: true, configurable: true });
}

/** A cache's stamps in the order it wrote them (walked in its text when it has one). */
export function stampEntries(cache: BuildCache): Iterable<[string, string]> {
  return TABLES.get(cache)?.stamps.entries() ?? Object.entries(cache.stamps ?? {});
}

/** The digest `recorded` has for `id` (looked up in its text when it has one: see `TextTable`). */
function recordedDigest(recorded: Recorded, id: string): string | undefined {
  const tables = TABLES.get(recorded);
  return tables ? tables.digests.get(id) : recorded.digests[id];
}

/** The stamp `recorded` has for `id`. */
function recordedStamp(recorded: Recorded, id: string): string | undefined {
  const tables = TABLES.get(recorded);
  return tables ? tables.stamps.get(id) : recorded.stamps?.[id];
}

/**
 * The layout `cacheChunks` writes: the head (everything but the digests, stamps and paths), then
 * these openings, the path records a line each, and `\n}}` to close.
 */
export const DIGESTS_OPENING = ',"digests":{';
export const STAMPS_OPENING = ',"stamps":{';
export const PATHS_OPENING = ',"paths":{\n';
const CLOSING = '\n}}';

/** Where a cache's text has its path records: from the first one's start to the last one's end (the text before `\n}}`); undefined when it is not laid out that way. */
function pathLines(text: string): { opening: number; start: number; end: number } | undefined {
  const opening = text.indexOf(PATHS_OPENING);
  if (opening === -1 || !text.endsWith(CLOSING)) return undefined;
  return { opening, start: opening + PATHS_OPENING.length, end: text.length - CLOSING.length };
}

/** What separates a path record's key from its record on its line (the record's first member is `inputs`). */
const RECORD_START = '":{"inputs":';

/**
 * The path records of a cache's text as `KeptPath`s, by key, and where they start: undefined when
 * the text is not laid out as `cacheChunks` writes it (it is then parsed whole).
 */
function lazyPaths(text: string): { opening: number; paths: Record<string, PathRecord> } | undefined {
  const lines = pathLines(text);
  if (!lines) return undefined;
  const { opening, start, end } = lines;
  const paths: Record<string, PathRecord> = {};
  for (let at = start; at < end; ) {
    const next = text.indexOf('\n', at);
    const stop = next === -1 || next > end ? end : next;
    const split = text.indexOf(RECORD_START, at);
    if (text.charCodeAt(at) !== 34 || split === -1 || split > stop) return undefined;
    const quoted = text.slice(at, split + 1);
    const key = quoted.includes('\\') ? (JSON.parse(quoted) as string) : quoted.slice(1, -1);
    // The record without the comma after it (the last one has none).
    const to = text.charCodeAt(stop - 1) === 44 ? stop - 1 : stop;
    paths[key] = new KeptPath(text.slice(split + 2, to));
    at = stop + 1;
  }
  return { opening, paths };
}

/**
 * A path's record as the previous cache's text has it (see `parseCache`), read only as far as a
 * build asks: the ids of the files and variables it read, and whether it may have used the network
 * or a per-build source of variation, come from its text; the record is parsed when its `inputs`
 * are asked for. Written again, it is its text (see `cacheChunks`), or what that parses to.
 */
export class KeptPath implements PathRecord {
  #record?: PathRecord;

  /** `text`: the record's JSON (a slice of the cache's text, not a copy). */
  constructor(readonly text: string) {}

  get inputs(): RecordedInputs {
    return this.#parsed().inputs;
  }

  get builtAt(): number | undefined {
    return this.#parsed().builtAt;
  }

  toJSON(): PathRecord {
    return this.#parsed();
  }

  /** The record, parsed once; a damaged one throws. */
  #parsed(): PathRecord {
    if (!this.#record) {
      const record = JSON.parse(this.text) as PathRecord;
      if (!isRecord(record) || record.inputs === undefined || !isInputs(record.inputs) || (record.builtAt !== undefined && typeof record.builtAt !== 'number')) throw new Error('a damaged path record');
      this.#record = record;
    }
    return this.#record;
  }

  /** Whether the handler read a file (its record has `files`). */
  get readsFiles(): boolean {
    return this.text.includes('"files":');
  }

  /** Whether the record may hold a read of the network or of a per-build source of variation (then it is parsed to tell). */
  get mayVary(): boolean {
    return this.text.includes('"fetches":') || this.text.includes('"sockets":') || this.text.includes('"variation":');
  }

  /**
   * The first id among the files, then the variables, the handler read that `test` accepts (as
   * `findInputId`), found in the text: an id is what follows `"id":` (a variable, `"name":`),
   * members no other read has; a record holding a backslash (an escaped character) is parsed.
   */
  findId(test: (id: string) => boolean): string | undefined {
    const { text } = this;
    if (text.includes('\\')) return findInputId(this.inputs, test);
    for (const [member, prefix] of [['"id":"', ''], ['"name":"', 'env:']] as const) {
      for (let at = text.indexOf(member); at !== -1; at = text.indexOf(member, at + member.length)) {
        const start = at + member.length;
        const id = prefix + text.slice(start, text.indexOf('"', start));
        if (test(id)) return id;
      }
    }
    return undefined;
  }
}

/** The first id of a path's reads that `test` accepts (see `findInputId`), without parsing a kept record. */
function pathInputId(record: PathRecord, test: (id: string) => boolean): string | undefined {
  return record instanceof KeptPath ? record.findId(test) : findInputId(record.inputs, test);
}

/** Whether a path's handler read a file, without parsing a kept record. */
function pathReadsFiles(record: PathRecord): boolean {
  return record instanceof KeptPath ? record.readsFiles : record.inputs.files !== undefined;
}

/** A path's first read of the network or of a per-build source of variation (see `firstVarying`); a kept record is parsed only when it may have one. */
function pathVarying(record: PathRecord): Varying | undefined {
  return record instanceof KeptPath && !record.mayVary ? undefined : firstVarying(record.inputs);
}

/** The members of a cache's text before its digests (where `cacheChunks` puts everything but the digests, stamps and paths), parsed alone. */
export function cacheHead(text: string): Partial<BuildCache> | undefined {
  return parsedHead(text)?.value;
}

/** A cache's head (see `cacheHead`), with where it ends in the text. */
export interface Head {
  value: Partial<BuildCache>;
  end: number;
}

function parsedHead(text: string): Head | undefined {
  const end = text.indexOf(DIGESTS_OPENING);
  if (end === -1) return undefined;
  try {
    return { value: JSON.parse(`${text.slice(0, end)}}`) as Partial<BuildCache>, end };
  } catch {
    return undefined;
  }
}

/**
 * The head of a cache's text when it holds an analysis that a build with these `settings` might
 * take (a look at its head, without parsing the rest): a build that must plan every route starts
 * planning at once. `parseCache` takes the head given, not to parse it twice.
 */
export function headOffering(text: string, settings: string): Head | undefined {
  const head = parsedHead(text);
  const offers = head?.value.settings === settings && isRecord(head.value.routes) && Object.values(head.value.routes).some((route) => isRecord(route) && typeof route.analysis === 'string');
  return offers ? head : undefined;
}

/** Whether a parsed cache has the shape this version writes; one that does not is ignored, never trusted. */
function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Whether every value of `x` passes: a loop without an array of a million values (a cache of a million paths is read this way). */
function everyValue(x: Record<string, unknown>, test: (item: unknown) => boolean): boolean {
  for (const key in x) if (!test(x[key])) return false;
  return true;
}

const isString = (x: unknown): x is string => typeof x === 'string';

/** A record of reads: lists of objects by kind (a plain loop: it runs for every path of a cache). */
function isInputs(x: unknown): boolean {
  if (x === undefined) return true;
  if (!isRecord(x)) return false;
  for (const kind in x) {
    const list = x[kind];
    if (!Array.isArray(list)) return false;
    for (let i = 0; i < list.length; i++) if (!isRecord(list[i])) return false;
  }
  return true;
}

function isCache(value: unknown, lazyPaths = false): value is BuildCache {
  const cache = value as BuildCache;
  return (
    isRecord(cache) && cache.version === CACHE_VERSION && typeof cache.settings === 'string' && typeof cache.builtAt === 'number' && typeof cache.staticPaths === 'number' &&
    // Tables kept as text are checked as they are parsed (see `TextTable.all`).
    (TABLES.has(cache) || (isRecord(cache.digests) && everyValue(cache.digests, isString) && (cache.stamps === undefined || isRecord(cache.stamps)))) && (cache.manifest === undefined || isString(cache.manifest)) && (cache.manifestStamp === undefined || isString(cache.manifestStamp)) &&
    isInputs(cache.global) &&
    isRecord(cache.routes) && everyValue(cache.routes, (r) => isRecord(r) && typeof r.code === 'string' && isInputs(r.inputs) && (r.analysis === undefined || isString(r.analysis))) &&
    isRecord(cache.paths) && (lazyPaths || everyValue(cache.paths, (p) => isRecord(p) && p.inputs !== undefined && isInputs(p.inputs)))
  );
}

function isBundleRecord(value: unknown): value is BundleRecord {
  const bundle = value as BundleRecord;
  const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every(isString);
  const texts = (x: unknown) => isRecord(x) && everyValue(x, isString);
  return (
    isRecord(bundle) && bundle.version === CACHE_VERSION && typeof bundle.key === 'string' && typeof bundle.builtAt === 'number' &&
    strings(bundle.inputs) && strings(bundle.checks) && texts(bundle.digests) && (bundle.stamps === undefined || texts(bundle.stamps)) &&
    Array.isArray(bundle.graphs) && bundle.graphs.every((graph) => Array.isArray(graph) && graph.every((i) => Number.isInteger(i) && i >= 0 && i < bundle.inputs.length)) &&
    (bundle.importers === undefined || (Array.isArray(bundle.importers) && bundle.importers.every((i) => Number.isInteger(i) && i >= 0 && i < bundle.inputs.length)))
  );
}

/**
 * The cache as JSON text in pieces, so that a million records are never one string: a line of
 * everything but the paths, then a line for each path's record. With `previous` (a cache and its
 * text), a record this cache holds from it (the same object) is copied from that text.
 */
export function* cacheChunks(cache: BuildCache, previous?: CacheText): Generator<string | Uint8Array> {
  // The members but the tables and the paths (read one by one: a spliced cache's tables are made whole only when asked for).
  const rest: Record<string, unknown> = {};
  for (const name of Object.keys(cache) as Array<keyof BuildCache>) if (name !== 'paths' && name !== 'digests' && name !== 'stamps') rest[name] = cache[name];
  const { paths } = cache;
  const splice = SPLICES.get(cache);
  yield `${JSON.stringify(rest).slice(0, -1)}${DIGESTS_OPENING}`;
  yield* splice ? splice.tables.digests.spliced(splice.cut, splice.digests, splice.tables.bytes) : texts(cache.digests);
  yield `}${STAMPS_OPENING}`;
  yield* splice ? splice.tables.stamps.spliced(splice.cut, splice.stamps, splice.tables.bytes) : texts(cache.stamps ?? {});
  yield `}${PATHS_OPENING}`;
  const kept = previous ? { entries: keptPaths(previous), value: (key: string) => paths[key] } : undefined;
  yield* entryLines(Object.keys(paths), (run) => run.map((key) => `${JSON.stringify(key)}:${JSON.stringify(paths[key])}`).join(',\n'), kept);
  yield CLOSING.slice(1);
}

/** A record's members as JSON text, without the braces: in parts of a few thousand when it is large (a million inputs are never one string). */
function* texts(record: Record<string, string>): Generator<string> {
  const keys = Object.keys(record);
  if (keys.length <= 20_000) {
    yield JSON.stringify(record).slice(1, -1);
    return;
  }
  for (let start = 0; start < keys.length; start += 5000) {
    const part: Record<string, string> = {};
    for (let i = start; i < Math.min(start + 5000, keys.length); i++) part[keys[i]] = record[keys[i]];
    yield `${start === 0 ? '' : ','}${JSON.stringify(part).slice(1, -1)}`;
  }
}

/** The path records of a cache's text, a line each between the line that opens them and the closing braces. */
function keptPaths({ cache, text, bytes }: CacheText): KeptEntries {
  const lines = pathLines(text);
  return new KeptEntries(text, cache.paths, lines?.start ?? -1, lines?.end ?? -1, (t, at) => {
    const next = t.indexOf('\n', at) + 1;
    return next > 0 && t.startsWith('"', next) ? next : -1;
  }, bytes);
}

export function frozenUses(...all: Array<RecordedInputs | undefined>): FrozenUse[] {
  const uses = new Map<string, FrozenUse>();
  for (const inputs of all) {
    for (const f of inputs?.fetches ?? []) {
      if (typeof f.revalidate === 'number' && f.revalidate > 0) continue;
      const what = `fetch ${f.method} ${f.url}`;
      if (!uses.has(what)) uses.set(what, { ...(f.at ? { at: f.at } : {}), what });
    }
    for (const s of inputs?.sockets ?? []) {
      const what = `socket ${s.target}`;
      if (!uses.has(what)) uses.set(what, { ...(s.at ? { at: s.at } : {}), what });
    }
  }
  return [...uses.values()];
}

/** The union of two records (first place of each read kept). */
function mergeInputs(a: RecordedInputs | undefined, b: RecordedInputs | undefined): RecordedInputs | undefined {
  if (!a) return b;
  if (!b) return a;
  const union = <T>(x: T[] | undefined, y: T[] | undefined, key: (item: T) => string): T[] | undefined => {
    if (!x) return y;
    if (!y) return x;
    const seen = new Map(x.map((item) => [key(item), item]));
    for (const item of y) if (!seen.has(key(item))) seen.set(key(item), item);
    return [...seen.values()];
  };
  const merged: RecordedInputs = {
    files: union(a.files, b.files, (f) => f.id),
    env: union(a.env, b.env, (e) => e.name),
    fetches: union(a.fetches, b.fetches, (f) => `${f.method} ${f.url} ${f.cache} ${f.revalidate}`),
    sockets: union(a.sockets, b.sockets, (s) => s.target),
    variation: union(a.variation, b.variation, (v) => v.kind),
  };
  for (const key of Object.keys(merged) as Array<keyof RecordedInputs>) if (merged[key] === undefined) delete merged[key];
  return merged;
}

/**
 * Collects what the build's tasks read, and makes the cache written with its output. Reused paths
 * carry their previous record over.
 */
export class Recorder {
  global: RecordedInputs | undefined;
  /** Digests and stamps of files the workers read, by id: the first read of each. */
  readonly #read = new Map<string, { digest: string; stamp?: string }>();
  readonly routes = new Map<RouteFile, { params?: RecordedInputs; module?: RecordedInputs }>();
  readonly paths = new Map<string, PathRecord>();
  /** Analyses the next build may take, as the text the cache keeps. */
  readonly #analyses = new Map<RouteFile, string>();

  /** A task's reads: module evaluation counts for every path, params for the route, the handler for `key`. */
  task(route: RouteFile, key: string | undefined, inputs: TaskInputs | undefined, now = Date.now()): void {
    if (!inputs) return;
    for (const phase of [inputs.module, inputs.params, inputs.path]) this.#takeDigests(phase);
    if (inputs.module) {
      this.global = mergeInputs(this.global, inputs.module);
      const record = this.#route(route);
      record.module = mergeInputs(record.module, inputs.module);
    }
    if (inputs.params) this.#route(route).params = mergeInputs(this.#route(route).params, inputs.params);
    if (key !== undefined && inputs.path) {
      this.paths.set(key, { inputs: inputs.path, ...(varies(inputs.path) ? { builtAt: now } : {}) });
    }
  }

  /** Keeps what the worker knew of each file read, and leaves the record with the read alone. */
  #takeDigests(inputs: RecordedInputs | undefined): void {
    if (!inputs?.files) return;
    inputs.files = inputs.files.map((file) => {
      if (file.digest === undefined) return file;
      if (!this.#read.has(file.id)) this.#read.set(file.id, { digest: file.digest, ...(file.stamp ? { stamp: file.stamp } : {}) });
      return file.at ? { id: file.id, at: file.at } : { id: file.id };
    });
  }

  /**
   * A route's analysis, run by this build or taken from the previous one: its reads are recorded,
   * and it is kept for the next build when it gave params (up to `KEPT_PARAMS`; a route dynamic as a
   * whole is quick to analyze, and its reasons name files by absolute path) and read neither the
   * network nor anything that differs on every build.
   */
  analyzed(route: RouteFile, analysis: Analysis): void {
    this.task(route, undefined, analysis.inputs);
    const { module, params } = analysis.inputs ?? {};
    const { outcome } = analysis;
    if (outcome.ok && 'params' in outcome && outcome.params.length <= KEPT_PARAMS && !varies(module) && !varies(params)) this.#analyses.set(route, JSON.stringify(analysis));
  }

  reused(key: string, record: PathRecord | undefined): void {
    if (record) this.paths.set(key, record);
  }

  #route(route: RouteFile): { params?: RecordedInputs; module?: RecordedInputs } {
    let record = this.routes.get(route);
    if (!record) this.routes.set(route, (record = {}));
    return record;
  }

  /** The path's reads in every phase, for the frozen-at-build warning. */
  frozen(route: RouteFile, key: string): FrozenUse[] {
    const record = this.routes.get(route);
    return frozenUses(record?.module, record?.params, this.paths.get(key)?.inputs);
  }

  /**
   * The cache of this build; `codes` by route, `keys` the manifest keys whose records it keeps, in
   * order (the static and dynamic paths).
   */
  finish(given: FinishOptions): BuildCache {
    // The keys are walked once more when the previous cache's tables cannot be spliced (a full
    // build walks them once, without holding a list of a million).
    const options = given.previous ? { ...given, keys: [...given.keys] } : given;
    const spliced = options.previous && this.#spliced(options, options.previous);
    if (spliced) return spliced;
    const digests: Record<string, string> = {};
    const take = (id: string) => {
      digests[id] ??= this.#digestOf(id, options.digests);
      return false;
    };
    const note = (inputs: RecordedInputs | undefined) => findInputId(inputs, take);
    note(this.global);
    const routes = this.#routes(options, note);
    const paths: Record<string, PathRecord> = {};
    for (const key of options.keys) {
      const record = this.paths.get(key);
      if (!record) continue;
      pathInputId(record, take);
      paths[key] = record;
    }
    // In the order first read (the same for the same build), not sorted again.
    const stamps: Record<string, string> = {};
    for (const id in digests) {
      const stamp = this.#stampOf(id, options.digests);
      if (stamp !== undefined) stamps[id] = stamp;
    }
    return this.#cache(options, { digests, stamps, routes, paths });
  }

  /** A file's digest as a worker took it when it read the file, else as the build takes it now. */
  #digestOf(id: string, digests: Digests): string {
    return this.#read.get(id)?.digest ?? digests.of(id);
  }

  /** A file's stamp as a worker took it when it read the file, else as the build knows it (see `Digests.stampOf`). */
  #stampOf(id: string, digests: Digests): string | undefined {
    return this.#read.has(id) ? this.#read.get(id)!.stamp : digests.stampOf(id);
  }

  /** The cache of this build from its parts. */
  #cache(options: FinishOptions, parts: Pick<BuildCache, 'digests' | 'stamps' | 'routes' | 'paths'>): BuildCache {
    return { version: CACHE_VERSION, settings: options.settings, project: path.relative(options.cwd, options.project) || '.', builtAt: Date.now(), staticPaths: options.staticPaths, digests: parts.digests, stamps: parts.stamps, global: this.global ?? {}, routes: parts.routes, paths: parts.paths, ...(options.manifest ? { manifest: options.manifest } : {}), ...(options.manifest && options.manifestStamp ? { manifestStamp: options.manifestStamp } : {}) };
  }

  /** The routes' records, each input of what generateStaticParams read passed to `note`. */
  #routes(options: FinishOptions, note: (inputs: RecordedInputs | undefined) => unknown): Record<string, RouteRecord> {
    const routes: Record<string, RouteRecord> = {};
    for (const [route, code] of options.codes) {
      const record = this.routes.get(route);
      note(record?.params);
      const analysis = this.#analyses.get(route);
      routes[relativeFile(route.file, options.cwd)] = { code, ...(record?.params ? { inputs: record.params } : {}), ...(analysis ? { analysis } : {}) };
    }
    return routes;
  }

  /**
   * The cache of an incremental build as the previous one's digests and stamps, their text kept but
   * for the inputs this build took anew (`rewrite`, and those no record reads any more), with those
   * this build's own reads need after them: the paths it kept are not walked. Undefined when the
   * previous cache's tables are not text, or when more than a few inputs would have to be looked for
   * in its records (the cache is then made as a full build makes it).
   */
  #spliced(options: FinishOptions, previous: { read: CacheText; rewrite: Set<string> }): BuildCache | undefined {
    const { cache: old, text } = previous.read;
    const tables = TABLES.get(old);
    const lines = pathLines(text);
    if (!tables || !lines) return undefined;
    // What this build read itself: loading modules, generateStaticParams, the paths that ran.
    const fresh = new Set<string>();
    const add = (id: string) => {
      fresh.add(id);
      return false;
    };
    findInputId(this.global, add);
    const routes = this.#routes(options, (inputs) => findInputId(inputs, add));
    const paths: Record<string, PathRecord> = {};
    for (const key of options.keys) {
      const record = this.paths.get(key);
      if (!record) continue;
      paths[key] = record;
      if (record !== old.paths[key]) pathInputId(record, add);
    }
    // What the previous build's own records read: its digests hold each of those.
    const recorded = new Set<string>();
    const had = (id: string) => {
      recorded.add(id);
      return false;
    };
    findInputId(old.global, had);
    for (const source in old.routes) findInputId(old.routes[source].inputs, had);
    // Inputs the previous records that are not kept read: written again only when a kept one reads them.
    const dropped = new Set<string>();
    for (const key in old.paths) {
      const record = old.paths[key];
      if (this.paths.get(key) !== record) pathInputId(record, (id) => (dropped.add(id), false));
    }
    for (const id of recorded) dropped.add(id);
    for (const id of previous.rewrite) dropped.add(id);
    const cut = new Set<string>();
    const added: Record<string, string> = {};
    const addedStamps: Record<string, string> = {};
    const write = (id: string) => {
      cut.add(id);
      added[id] = this.#digestOf(id, options.digests);
      const stamp = this.#stampOf(id, options.digests);
      if (stamp !== undefined) addedStamps[id] = stamp;
    };
    // Each input looked for is a search of the previous text: past a few, the cache is made whole.
    let searches = 0;
    const search = () => ++searches <= SPLICE_SEARCHES;
    for (const id of fresh) {
      dropped.delete(id);
      if (previous.rewrite.has(id)) write(id);
      else if (!recorded.has(id)) {
        if (!search()) return undefined;
        if (tables.digests.get(id) === undefined) write(id);
      }
    }
    for (const id of dropped) {
      if (!search()) return undefined;
      if (!this.#keptReads(id, previous.read, lines)) cut.add(id);
      else if (previous.rewrite.has(id)) write(id);
    }
    if (cut.size > SPLICE_SEARCHES) return undefined;
    // Its digests and stamps are made whole only when asked for (cacheChunks writes them from the splice).
    const cache = this.#cache(options, { digests: {}, stamps: {}, routes, paths });
    const splice = { cut, digests: added, stamps: addedStamps, tables };
    const whole = (table: TextTable, fresh: Record<string, string>) => () => {
      const all = { ...table.all() };
      for (const id of cut) delete all[id];
      return Object.assign(all, fresh);
    };
    tablesWhenAsked(cache, whole(tables.digests, added), whole(tables.stamps, addedStamps));
    SPLICES.set(cache, splice);
    return cache;
  }

  /** Whether a path record kept from the previous cache reads `id` (looked for in that cache's text). */
  #keptReads(id: string, read: CacheText, lines: { start: number; end: number }): boolean {
    const { text, cache: old } = read;
    const needle = id.startsWith('env:') ? `"name":${JSON.stringify(id.slice(4))}` : `"id":${JSON.stringify(id)}`;
    for (let at = text.indexOf(needle, lines.start); at !== -1 && at < lines.end; at = text.indexOf(needle, at + needle.length)) {
      const start = text.lastIndexOf('\n', at) + 1;
      const quoted = text.slice(start, text.indexOf(RECORD_START, start) + 1);
      let key: string;
      try {
        key = JSON.parse(quoted) as string;
      } catch {
        return true; // not a line of this layout: counted as read, so that nothing is lost
      }
      if (old.paths[key] !== undefined && this.paths.get(key) === old.paths[key]) return true;
    }
    return false;
  }
}

/** What `Recorder.finish` makes the cache of. */
export interface FinishOptions {
  settings: string;
  project: string;
  codes: Map<RouteFile, string>;
  digests: Digests;
  cwd: string;
  staticPaths: number;
  /** The manifest keys whose records the cache keeps, in order (the static and dynamic paths). */
  keys: Iterable<string>;
  /** sha256 of the manifest's text written with the cache. */
  manifest?: string;
  /** The manifest file's stamp (see `manifestStamp`). */
  manifestStamp?: string;
  /**
   * The previous build's cache read with its tables as text, and the inputs whose digest or stamp
   * changed since (see `changedInputs`): its tables are written again as they were, but for those.
   */
  previous?: { read: CacheText; rewrite: Set<string> };
}

/** Inputs looked for in the previous cache's text while splicing its tables, past which the cache is made whole. */
const SPLICE_SEARCHES = 64;

/** Caches made from a previous one's tables (see `Recorder.finish`): what `cacheChunks` writes of them. */
const SPLICES = new WeakMap<BuildCache, { cut: Set<string>; digests: Record<string, string>; stamps: Record<string, string>; tables: Tables }>();

/**
 * The caches of a sharded build's parts as one (for `prerender merge`, whose manifest's text has the
 * sha256 `manifest`): undefined unless every part has one of the same settings.
 */
export function mergeCaches(caches: Array<BuildCache | undefined>, staticPaths: number, manifest: string): BuildCache | undefined {
  if (caches.length === 0 || caches.some((cache) => cache === undefined || cache.settings !== caches[0]!.settings)) return undefined;
  const [first] = caches as BuildCache[];
  const merged: BuildCache = { ...first, manifest, staticPaths, builtAt: Math.max(...(caches as BuildCache[]).map((c) => c.builtAt)), digests: {}, stamps: {}, global: {}, routes: {}, paths: {} };
  // A part's manifest stamp is not the merged manifest's: that one is known by its digest.
  delete merged.manifestStamp;
  for (const cache of caches as BuildCache[]) {
    Object.assign(merged.digests, cache.digests);
    Object.assign(merged.stamps!, cache.stamps);
    Object.assign(merged.routes, cache.routes);
    Object.assign(merged.paths, cache.paths);
    merged.global = mergeInputs(merged.global, cache.global) ?? {};
  }
  return merged;
}

/** Whether an input id's digest now is not the one `cache` recorded. */
function changedSince(cache: Recorded, digests: Digests): (id: string) => boolean {
  return (id) => recordedDigest(cache, id) !== digests.of(id);
}

/**
 * The inputs of a cache read with its tables as text whose digests changed, once a worker took the
 * stamps of its files again (`moved`: the files whose stamps changed, see `lookAgain`) and `digests`
 * adopted the others': only those files and the inputs that are not files (variables, folders'
 * listings, paths' existence) are taken again. `rewrite`: the inputs whose digest or stamp the next
 * cache writes anew (see `Recorder.finish`). Undefined when a file input has no stamp (its digest
 * is not adopted: the inputs are compared one by one).
 */
export function changedInputs(cache: BuildCache, digests: Digests, moved: string[]): { changed: Set<string>; rewrite: Set<string> } | undefined {
  const tables = TABLES.get(cache);
  // Stamps are only ever taken of files: as many as there are file inputs means each has one.
  if (!tables || tables.digests.count('file:') !== tables.stamps.count()) return undefined;
  const changed = new Set<string>();
  for (const id of moved) if (digests.of(id) !== tables.digests.get(id)) changed.add(id);
  for (const [id, digest] of tables.digests.entries('file:')) if (digests.of(id) !== digest) changed.add(id);
  return { changed, rewrite: new Set([...moved, ...changed]) };
}

/** The most params of a route whose analysis the cache keeps (its text is held until the cache is written). */
const KEPT_PARAMS = 200_000;

/** Whether reads include the network or a per-build source of variation. */
function varies(inputs: RecordedInputs | undefined): boolean {
  return firstVarying(inputs) !== undefined;
}

type Varying = NonNullable<RecordedInputs['fetches'] | RecordedInputs['sockets'] | RecordedInputs['variation']>[number];

/**
 * The first read of the network or of a per-build source of variation; with `addons` false, not a
 * native addon that a package loaded (see `addonLoaded`).
 */
function firstVarying(inputs: RecordedInputs | undefined, addons = true): Varying | undefined {
  return inputs?.fetches?.[0] ?? inputs?.sockets?.[0] ?? inputs?.variation?.find((use) => addons || !isPackageAddon(use));
}

/**
 * A native addon loaded by a package, not by the app's own code (no place of the app's on the
 * stack): a package that loads one is a server-external package, imported from node_modules, since
 * an addon cannot be compiled into a route.
 */
function isPackageAddon(use: { kind: string; at?: string }): boolean {
  return use.kind.startsWith('native addon ') && use.at === undefined;
}

/** A native addon a package loaded while modules loaded (see `planReuse`). */
function addonLoaded(inputs: RecordedInputs | undefined): Varying | undefined {
  return inputs?.variation?.find(isPackageAddon);
}

/**
 * The analyses an incremental build takes from the previous one instead of loading a route's
 * module to plan it: by route, when the settings, what loading every route's modules read, the
 * route's code, and what its module and generateStaticParams read are all unchanged.
 */
export function reusableAnalyses(cache: BuildCache | undefined, current: { settings: string; digests: Digests; cwd: string; codes: Map<RouteFile, string>; importsExternals?: (route: RouteFile) => boolean }): Map<RouteFile, Analysis> {
  const reusable = new Map<RouteFile, Analysis>();
  if (!cache || cache.settings !== current.settings) return reusable;
  const differs = changedSince(cache, current.digests);
  // What top-level code got from the network or the clock may be in any route's params; what a
  // native addon read, in those of the routes that import a server-external package.
  if (findInputId(cache.global, differs) || firstVarying(cache.global, false)) return reusable;
  const addon = addonLoaded(cache.global) !== undefined;
  for (const [route, code] of current.codes) {
    if (addon && (current.importsExternals?.(route) ?? true)) continue;
    const record = cache.routes[relativeFile(route.file, current.cwd)];
    if (record?.analysis === undefined || record.code !== code) continue;
    const analysis = parseAnalysis(record.analysis);
    if (!analysis || findInputId(analysis.inputs?.module, differs) || findInputId(analysis.inputs?.params, differs)) continue;
    reusable.set(route, analysis);
  }
  return reusable;
}

function parseAnalysis(text: string): Analysis | undefined {
  try {
    const analysis = JSON.parse(text) as Analysis;
    const outcome = analysis.outcome as Record<string, unknown>;
    const shaped = isRecord(outcome) && outcome.ok === true && isRecord(outcome.config) && Array.isArray(outcome.params) && outcome.params.every(isRecord);
    return shaped && Array.isArray(analysis.logs) && (analysis.inputs === undefined || (isRecord(analysis.inputs) && isInputs(analysis.inputs.module) && isInputs(analysis.inputs.params))) ? analysis : undefined;
  } catch {
    return undefined;
  }
}

/** A decision for one path of an incremental build. */
export type Reuse = { entry: ManifestRoute; record?: PathRecord } | { cause: string };

export interface ReusePlan {
  /** Set when nothing can be reused, with the reason. */
  none?: string;
  check(key: string, route: RouteFile, code: string | undefined): Reuse;
}

/** A per-build source of variation for a person: `Date.now(), which differs on every build`. */
export function variationLabel(kind: string): string {
  if (kind.startsWith('child_process.')) return `${kind} (a child process, whose reads are not seen)`;
  if (kind.startsWith('native addon ')) return `a ${kind} (whose reads are not seen)`;
  return `${kind}, which differs on every build`;
}

/** Labels an input id for a person: `posts/a.md`, `the listing of posts/`, `$SITE_URL`. */
export function inputLabel(id: string): string {
  const [kind, name] = splitId(id);
  if (kind === 'env') return `$${name}`;
  if (kind === 'dir') return `the listing of ${name}/`;
  if (kind === 'stat') return `${name} (whether it exists, its size)`;
  return name;
}

/**
 * What an incremental build may take from the previous one: a path whose route code, recorded
 * inputs and settings are unchanged, that was static, and that read neither the network nor a
 * per-build source of variation (unless its route revalidates and the output is younger than that).
 * Nothing, when the previous manifest `changed` since the cache was written with it.
 */
export function planReuse(previous: { cache?: BuildCache; manifest?: Manifest; changed?: boolean }, current: { settings: string; digests: Digests; cwd: string; now?: number; importsExternals?: (route: RouteFile) => boolean; /** Whether an input of the cache has the digest it had, when known (else each is compared). */ unchanged?: (id: string) => boolean }): ReusePlan {
  const { cache, manifest } = previous;
  const none = (why: string): ReusePlan => ({ none: why, check: () => ({ cause: why }) });
  if (!cache) return none('there is no build cache of a previous build beside the output folder');
  if (cache.settings !== current.settings) return none('the build settings changed (options, next.config, a lock file, Node.js or route-prerender)');
  if (previous.changed) return none('the manifest is not the one written with the build cache (it changed after that build)');
  if (!manifest) return none('there is no manifest of a previous build');
  if (Object.keys(manifest.routes).length !== cache.staticPaths) return none('the output folder is not the one the build cache describes');
  const { unchanged } = current;
  const differs = unchanged ? (id: string) => !unchanged(id) : changedSince(cache, current.digests);
  const changed = (inputs: RecordedInputs | undefined): string | undefined => findInputId(inputs, differs);
  const global = changed(cache.global);
  if (global) return none(`${inputLabel(global)} changed (read while modules were loaded)`);
  // A native addon a package loaded while modules loaded is reached through a server-external
  // package (an addon cannot be compiled into a route): it counts for the routes that import one.
  const loadVaries = firstVarying(cache.global, false);
  const addon = addonLoaded(cache.global);
  const importsExternals = current.importsExternals ?? (() => true);
  const now = current.now ?? Date.now();
  const routeCauses = new Map<string, string | null>();
  const sources = new Map<RouteFile, string>();
  return {
    check(key, route, code) {
      const entry = manifest.routes[key];
      if (!entry) return { cause: manifest.dynamic[key] || manifest.errors[key] ? 'it was not static in the previous build' : 'it is new' };
      let source = sources.get(route);
      if (source === undefined) sources.set(route, (source = relativeFile(route.file, current.cwd)));
      const routeRecord = cache.routes[source];
      if (!routeRecord || routeRecord.code !== code) return { cause: `the code of ${source} or of a module it imports changed` };
      if (entry.source !== source) return { cause: 'it is served by another route file now' };
      const record = cache.paths[key];
      let input: string | undefined;
      try {
        input = record && pathInputId(record, differs);
      } catch {
        return { cause: 'its record in the build cache is damaged' };
      }
      if (input) return { cause: `${inputLabel(input)} changed` };
      // generateStaticParams decides which paths exist; what it read is a path's input only when the
      // handler read no file itself (then it may use what generateStaticParams left in memory).
      if (!record || !pathReadsFiles(record)) {
        let routeCause = routeCauses.get(source);
        if (routeCause === undefined) {
          const changedInput = changed(routeRecord.inputs);
          routeCauses.set(source, (routeCause = changedInput ? `${inputLabel(changedInput)} changed (read by generateStaticParams of ${source}; the handler read no file itself)` : null));
        }
        if (routeCause) return { cause: routeCause };
      }
      // The network or a per-build source of variation, used by the handler or while modules were
      // loaded (every path may hold what top-level code got).
      const own = record && pathVarying(record);
      const varies = own ?? loadVaries ?? (addon && importsExternals(route) ? addon : undefined);
      if (varies) {
        const fresh = typeof entry.revalidate === 'number' && record?.builtAt !== undefined && now - record.builtAt < entry.revalidate * 1000;
        if (!fresh) {
          const what = 'url' in varies ? `reads the network (fetch ${varies.url})` : 'target' in varies ? `reads the network (socket ${varies.target})` : `uses ${variationLabel(varies.kind)}`;
          return { cause: own ? what : `loading modules ${what}${varies.at ? ` (${varies.at})` : ''}` };
        }
      }
      return record ? { entry, record } : { entry };
    },
  };
}

/**
 * Puts a previous output file in the new output: a hard link (no bytes copied), else a copy.
 * Returns false when the previous file is not there any more.
 */
export function carryOver(from: string, to: string, made: Set<string>): boolean {
  const folder = path.dirname(to);
  if (!made.has(folder)) {
    mkdirSync(folder, { recursive: true });
    made.add(folder);
  }
  try {
    linkSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    try {
      copyFileSync(from, to);
    } catch {
      return false;
    }
  }
  return true;
}

/** Paths rebuilt, by cause, for the report: counts and a few examples each. */
export class RebuildCauses {
  readonly #causes = new Map<string, { count: number; examples: string[] }>();
  rebuilt = 0;
  reused = 0;
  compiled = true;
  analysesReused = 0;

  add(cause: string, key: string): void {
    this.rebuilt++;
    let entry = this.#causes.get(cause);
    if (!entry) this.#causes.set(cause, (entry = { count: 0, examples: [] }));
    entry.count++;
    if (entry.examples.length < 3) entry.examples.push(key);
  }

  summary(): IncrementalSummary {
    return { rebuilt: this.rebuilt, reused: this.reused, compiled: this.compiled, analysesReused: this.analysesReused, causes: [...this.#causes].map(([cause, { count, examples }]) => ({ cause, count, examples })).sort((a, b) => b.count - a.count || (a.cause < b.cause ? -1 : 1)) };
  }
}

export interface IncrementalSummary {
  rebuilt: number;
  reused: number;
  /** Whether the route modules were compiled, or the previous build's were taken (their sources unchanged). */
  compiled: boolean;
  /**
   * Routes planned from the previous build's cache: generateStaticParams was not run again and the
   * module-level rules not applied again, because nothing those read changed.
   */
  analysesReused: number;
  /** Why paths were run again, most paths first. */
  causes: Array<{ cause: string; count: number; examples: string[] }>;
}
