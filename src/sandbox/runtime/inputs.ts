/**
 * What route code reads while a task runs: files and folders through `node:fs`, environment
 * variables, `fetch` calls, sockets, and the per-build sources of variation (the clock, random
 * numbers). The build thread turns these into the build cache (incremental rebuilds, `explain`)
 * and into the frozen-at-build warning. Worker threads only; a worker runs one task at a time, so
 * the log being filled is simply the current one.
 */
import childProcess from 'node:child_process';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import type { RecordedInputs, SourceLocationText } from '../protocol.js';
import { locateCallerQuickly } from './locate.js';
import { replaceFunction } from './patch.js';
import { fileStamp, hash, inputId } from '../../cache.js';

/** One task's reads, by phase: module evaluation, generateStaticParams, or the handler. */
export type Phase = 'module' | 'params' | 'path';

/** A file read: where, and (for `readFile`) what was read and the file's stamp just before. */
interface FileRead {
  at?: SourceLocationText;
  digest?: string;
  stamp?: string;
}

class InputLog {
  files = new Map<string, FileRead>();
  env = new Map<string, SourceLocationText | undefined>();
  fetches: NonNullable<RecordedInputs['fetches']> = [];
  sockets: NonNullable<RecordedInputs['sockets']> = [];
  variation = new Map<string, SourceLocationText | undefined>();

  addFile(id: string, read: FileRead): void {
    if (!this.files.has(id)) this.files.set(id, read);
  }
  addEnv(name: string, at: SourceLocationText | undefined): void {
    if (!this.env.has(name)) this.env.set(name, at);
  }
  addVariation(kind: string, at: SourceLocationText | undefined): void {
    if (!this.variation.has(kind)) this.variation.set(kind, at);
  }

  /** Adds what `other` read (cached work's reads, to a task served its value). */
  absorb(other: InputLog): void {
    for (const [id, read] of other.files) this.addFile(id, read);
    for (const [name, at] of other.env) this.addEnv(name, at);
    this.fetches.push(...other.fetches);
    this.sockets.push(...other.sockets);
    for (const [kind, at] of other.variation) this.addVariation(kind, at);
  }

  get empty(): boolean {
    return this.files.size === 0 && this.env.size === 0 && this.fetches.length === 0 && this.sockets.length === 0 && this.variation.size === 0;
  }

  take(): RecordedInputs | undefined {
    if (this.empty) return undefined;
    return {
      ...(this.files.size > 0 ? { files: [...this.files].map(([id, read]) => ({ id, ...read })) } : {}),
      ...(this.env.size > 0 ? { env: [...this.env].map(([name, at]) => (at ? { name, at } : { name })) } : {}),
      ...(this.fetches.length > 0 ? { fetches: this.fetches } : {}),
      ...(this.sockets.length > 0 ? { sockets: this.sockets } : {}),
      ...(this.variation.size > 0 ? { variation: [...this.variation].map(([kind, at]) => (at ? { kind, at } : { kind })) } : {}),
    };
  }
}

let projectRoot = '';
/** The process's working folder, where Node.js resolves a relative path given to `fs` (`process.cwd()` itself answers the project root in route code). */
let processFolder = (): string => projectRoot;
/** The running task's logs, made at its first read (most handlers read nothing). */
let logs: Partial<Record<Phase, InputLog>> | undefined;
let phase: Phase = 'module';

/** Starts a task's logs; reads go to the `module` phase until `enterPhase` says otherwise. */
export function beginInputs(): void {
  logs = {};
  phase = 'module';
}

export function enterPhase(next: Phase): void {
  phase = next;
}

/** Ends the task's logs and returns what each phase read. */
export function endInputs(): Partial<Record<Phase, RecordedInputs>> {
  const taken: Partial<Record<Phase, RecordedInputs>> = {};
  if (logs) {
    for (const name of ['module', 'params', 'path'] as const) {
      const inputs = logs[name]?.take();
      if (inputs) taken[name] = inputs;
    }
  }
  logs = undefined;
  return taken;
}

/**
 * Cached work (`unstable_cache`, `'use cache'`) runs once per worker and is then served from memory:
 * what it read is captured while it runs, and replayed into the log of every task that takes its
 * value, so that those paths depend on those reads too.
 */
const captures = new Set<InputLog>();

/** Starts capturing what cached work reads; `stop` ends it, `replay` adds it to the running task's reads. */
export function captureReads(): { stop: () => void; replay: () => void } {
  const capture = new InputLog();
  captures.add(capture);
  return {
    stop: () => captures.delete(capture),
    replay: () => current()?.absorb(capture),
  };
}

/** The running task's log and every capture under way: a read goes into each. */
function* into(log: InputLog): Generator<InputLog> {
  yield log;
  yield* captures;
}

/** Set while a read is being recorded: finding its place reads source maps, which is not the route's read. */
let recording = false;

function current(): InputLog | undefined {
  if (recording || !logs) return undefined;
  return (logs[phase] ??= new InputLog());
}

function quietly<T>(work: () => T): T {
  recording = true;
  try {
    return work();
  } finally {
    recording = false;
  }
}

/** Where the read happened in the user's code, as `file:line`; none when no bundled code made it. */
function place(): SourceLocationText | undefined {
  return located().at;
}

/** The place of the read, and whether compiled app code (a bundled package included) made it. */
function located(): { at?: SourceLocationText; inBundle: boolean } {
  const { at, inBundle } = locateCallerQuickly();
  return { at: at ? `${path.relative(projectRoot, at.file).split(path.sep).join('/')}:${at.line}` : undefined, inBundle };
}

/** The absolute path a `node:fs` call was given, or undefined (a file descriptor, a non-file URL). */
function targetPath(target: unknown): string | undefined {
  let file: string;
  if (typeof target === 'string') file = target;
  else if (target instanceof URL) {
    if (target.protocol !== 'file:') return undefined;
    file = decodeURIComponent(target.pathname);
  } else if (Buffer.isBuffer(target)) file = target.toString();
  else return undefined; // a file descriptor: its open was not through a path we saw
  // Resolved as the read itself resolves it: from the process's folder (the project root when the
  // prerender command runs the build, which it runs there).
  return path.resolve(processFolder(), file);
}

/** A read's id (see `inputId`), or undefined for what is the tool's own. */
function readId(kind: 'file' | 'dir' | 'stat', absolute: string | undefined): string | undefined {
  // The compiled modules and their source maps are the tool's (the route's code is recorded as a
  // whole), and so is the output being written.
  if (absolute === undefined || absolute.startsWith(bundlePrefix) || absolute.startsWith(outputPrefix)) return undefined;
  return inputId(kind, projectRoot, absolute);
}

/** Records a read of `absolute` by the code calling the patched function; returns its record when it is new. */
function recordRead(kind: 'file' | 'dir' | 'stat', absolute: string | undefined): FileRead | undefined {
  const log = current();
  if (!log) return undefined;
  const id = readId(kind, absolute);
  if (id === undefined || log.files.has(id)) return undefined;
  return quietly(() => {
    const { at, inBundle } = located();
    // Node's and the tool's own reads (module loading, source maps) are not the route's.
    if (!inBundle) return undefined;
    const read: FileRead = at ? { at } : {};
    for (const each of into(log)) each.addFile(id, read);
    return read;
  });
}

/** The encoding a `readFile` call asked for (its options argument). */
function encodingOf(options: unknown): BufferEncoding | undefined {
  if (typeof options === 'string') return options as BufferEncoding;
  if (options && typeof options === 'object' && typeof (options as { encoding?: unknown }).encoding === 'string') return (options as { encoding: BufferEncoding }).encoding;
  return undefined;
}

/**
 * `readFile` in its three forms, recorded with a digest of what it returned (so that the build
 * thread need not read the file again) and the file's stamp taken just before the read.
 */
function watchedReadFile(form: 'sync' | 'callback' | 'promise', real: (...args: unknown[]) => unknown, stat: (file: string) => { size: number; mtimeMs: number; ino: number }) {
  return function (this: unknown, target: unknown, ...rest: unknown[]) {
    const absolute = logs ? targetPath(target) : undefined;
    const read = absolute === undefined ? undefined : recordRead('file', absolute);
    if (!read) return real.call(this, target, ...rest);
    try {
      read.stamp = fileStamp(stat(absolute!));
    } catch {
      // no stamp: the next build reads the file to compare it
    }
    const encoding = encodingOf(form === 'callback' && typeof rest[0] === 'function' ? undefined : rest[0]);
    const note = (value: unknown) => {
      if (Buffer.isBuffer(value)) read.digest = hash(value);
      else if (typeof value === 'string') read.digest = hash(Buffer.from(value, encoding ?? 'utf8'));
    };
    if (form === 'sync') {
      const value = real.call(this, target, ...rest);
      note(value);
      return value;
    }
    if (form === 'promise') return (real.call(this, target, ...rest) as Promise<unknown>).then((value) => (note(value), value));
    const last = rest.length - 1;
    const callback = rest[last];
    if (typeof callback === 'function') {
      rest[last] = function (this: unknown, error: unknown, value: unknown) {
        if (!error) note(value);
        return (callback as (...args: unknown[]) => unknown).call(this, error, value);
      };
    }
    return real.call(this, target, ...rest);
  };
}

let bundlePrefix = '\0';
let outputPrefix = '\0';

export function recordEnv(name: string): void {
  const log = current();
  if (!log || log.env.has(name)) return;
  quietly(() => {
    const { at, inBundle } = located();
    if (inBundle) for (const each of into(log)) each.addEnv(name, at);
  });
}

export function recordFetch(method: string, url: string, cache: string | undefined, revalidate: number | false | undefined): void {
  const log = current();
  if (!log) return;
  const use = { method, url, ...(cache ? { cache } : {}), ...(revalidate !== undefined ? { revalidate } : {}), ...withPlace(quietly(place)) };
  for (const each of into(log)) each.fetches.push(use);
}

/** Whether a use of `kind` would be new for the running task (checked before its caller is looked up). */
export function wantsVariation(kind: string): boolean {
  return logs !== undefined && !recording && !logs[phase]?.variation.has(kind);
}

/** `Date.now()`, `Math.random()`, …: output that may differ on every build. */
export function recordVariation(kind: string): void {
  const log = current();
  if (!log || log.variation.has(kind)) return;
  const at = quietly(place);
  for (const each of into(log)) each.addVariation(kind, at);
}

function withPlace(at: SourceLocationText | undefined): { at?: SourceLocationText } {
  return at ? { at } : {};
}

/**
 * Installs the watches. `root` is the project (read paths are recorded relative to it), `bundleDir`
 * the compiled route modules (a read is the app's when their code is on the stack), `outputDir`
 * where bodies are written, `folder` the process's working folder as Node.js resolves paths from it.
 */
export function installInputWatch(root: string, bundleDir: string, outputDir: string, folder: () => string): void {
  projectRoot = root;
  processFolder = folder;
  outputPrefix = outputDir + path.sep;
  bundlePrefix = bundleDir + path.sep;
  /** `reads` says, from the arguments after the path, whether the call reads (every call when absent). */
  type Reads = (rest: unknown[]) => boolean;
  const watched = (kind: 'file' | 'dir' | 'stat', real: (...args: never[]) => unknown, reads?: Reads) =>
    function (this: unknown, target: unknown, ...rest: unknown[]) {
      if (logs && (!reads || reads(rest))) recordRead(kind, targetPath(target));
      return (real as (...args: unknown[]) => unknown).call(this, target, ...rest);
    };
  const patch = (object: object, names: string[], kind: 'file' | 'dir' | 'stat', reads?: Reads) => {
    for (const name of names) replaceFunction(object, name, (real) => watched(kind, real, reads));
  };
  const fsModule = fs as object;
  const promises = fs.promises as object;
  const stat = fs.statSync;
  const readers: Array<[object, string, 'sync' | 'callback' | 'promise']> = [[fsModule, 'readFileSync', 'sync'], [fsModule, 'readFile', 'callback'], [promises, 'readFile', 'promise']];
  for (const [object, name, form] of readers) replaceFunction(object, name, (real) => watchedReadFile(form, real, stat));
  // A file opened to be read (then read through its descriptor or FileHandle); not one opened
  // to be written only, as writeFileSync opens the output it writes.
  const opensToRead: Reads = (rest) => opensForReading(rest[0]);
  patch(fsModule, ['openSync', 'open'], 'file', opensToRead);
  patch(promises, ['open'], 'file', opensToRead);
  patch(fsModule, ['createReadStream'], 'file');
  patch(fsModule, ['readdirSync', 'readdir', 'opendirSync', 'opendir'], 'dir');
  patch(fsModule, ['existsSync', 'statSync', 'stat', 'lstatSync', 'lstat', 'exists', 'accessSync', 'access'], 'stat');
  patch(promises, ['readdir', 'opendir'], 'dir');
  patch(promises, ['stat', 'lstat', 'access'], 'stat');
  // A child process reads what it likes, unseen: a path that starts one runs again on every build.
  // The call the route made is recorded, not those it makes itself (`exec` calls `execFile`).
  let starting = 0;
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
    const started = (real: (...args: unknown[]) => unknown) =>
      function (this: unknown, ...args: unknown[]) {
        if (logs && starting === 0) recordVariation(`child_process.${name}()`);
        starting++;
        try {
          return real.apply(this, args);
        } finally {
          starting--;
        }
      };
    replaceFunction(childProcess, name, started);
  }
  syncBuiltinESMExports();
  // A native addon reads what it likes, unseen too (a SQLite file through better-sqlite3, an image
  // through sharp): what loads one runs again on every build, as for a child process.
  replaceFunction(process, 'dlopen', (real) =>
    function (this: unknown, ...args: unknown[]) {
      if (logs) recordVariation(`native addon ${path.basename(String(args[1]))}`);
      return (real as (...a: unknown[]) => unknown).apply(this, args);
    });

  // Sockets: a database or cache server. fetch's own connections are recorded as fetches.
  const connect = net.Socket.prototype.connect as (...args: unknown[]) => net.Socket;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const log = current();
    if (log) {
      const holder: { stack?: string } = {};
      Error.captureStackTrace(holder);
      const stack = holder.stack ?? '';
      if (!stack.includes('undici')) {
        const first = (Array.isArray(args[0]) ? args[0][0] : args[0]) as { port?: unknown; host?: unknown; path?: unknown } | number | string;
        const target = typeof first === 'object' && first !== null ? (first.path ? String(first.path) : `${String(first.host ?? 'localhost')}:${String(first.port)}`) : `${String(args[1] ?? 'localhost')}:${String(first)}`;
        const use = { target, ...withPlace(quietly(place)) };
        for (const each of into(log)) each.sockets.push(use);
      }
    }
    return connect.apply(this, args);
  } as typeof net.Socket.prototype.connect;
}

/**
 * Whether `open` flags let the file's content be read: no flags (`'r'`), `'r…'`, `'a+'`, or a
 * number whose access mode is not write-only and that does not truncate. `'w+'` reads nothing
 * that was there: it empties the file first.
 */
export function opensForReading(flags: unknown): boolean {
  if (flags === undefined || flags === null || typeof flags === 'function') return true;
  if (typeof flags === 'string') return flags.startsWith('r') || (flags.startsWith('a') && flags.includes('+'));
  if (typeof flags === 'number') return (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR)) !== fs.constants.O_WRONLY && (flags & fs.constants.O_TRUNC) === 0;
  return true;
}

/** Whether a task is recording (cheap: checked before anything else is done). */
export function recordingInputs(): boolean {
  return logs !== undefined && !recording;
}
