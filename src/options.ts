/**
 * The library's options, validated before any work, with messages that name the option, what was
 * expected and what was received.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { setupError, type PrerenderError } from './errors.js';
import { findAppDir } from './discover.js';
import { HOSTS, type HostName } from './hosts.js';
import type { ShardSpec } from './shard.js';
import { defaultManifestPath } from './manifest.js';
import { DEFAULT_MAX_MEMORY_MB } from './sandbox/thread.js';

export interface Logger {
  /** Progress and route output; the CLI sends it to stderr. */
  info?(message: string): void;
  warn?(message: string): void;
  /** Called as paths finish: how many are done of how many. */
  progress?(done: number, total: number): void;
  /** Called as each stage starts, with what it is about to do ("Compiling 12 route files"), and which stage it is. */
  phase?(text: string, stage: Stage): void;
}

/** The stages of a build, in order (`compile` is skipped when an incremental build takes the previous build's modules). */
export type Stage = 'compile' | 'plan' | 'execute' | 'write';

export interface PrerenderOptions {
  /** The app directory (`./app`, `./src/app`), or the project folder that holds it. Default: the project in `cwd`. */
  appDir?: string;
  /** Output folder. Default `dist`. */
  out?: string;
  /** Where to write the manifest. Default `<out>/prerender-manifest.json`, or `<out>.prerender-manifest.json` beside it with host netlify or cloudflare. */
  manifest?: string;
  /**
   * The most worker threads. Default: the number of cores, the last of which a worker takes only
   * when paths are heavy (3 ms and more each): for quicker ones that core is the build thread's.
   */
  concurrency?: number;
  /** Seconds one handler (or generateStaticParams) may take. Default 60. */
  timeout?: number;
  /**
   * Seconds the GET of a route that Next.js 15 and later would not run at build (it does not opt
   * in) may take; one that takes longer stays on a server, as under next build. Default 10, or
   * `timeout` when that is given.
   */
  notRunTimeout?: number;
  /** How many more times a path that timed out is tried. Default 0. */
  retries?: number;
  /** Heap limit of each worker thread, in MB. Default 2048. */
  maxMemory?: number;
  /** Largest response body, in MB. Default 512. */
  maxBody?: number;
  /** Apply the Cache Components rules of Next.js 16 on top of the default ones. */
  strict?: boolean;
  /** Build only this part of the paths (`{ index: 2, count: 4 }`); see `mergeShards`. */
  shard?: ShardSpec;
  /** Write this host's configuration next to the files. Default `none`. */
  host?: HostName;
  /** The Next.js server that dynamic routes (and paths not in the output) are forwarded to, in the host files. */
  origin?: string;
  /** Replace an existing output folder that route-prerender did not write. */
  force?: boolean;
  /** When a route errors, keep the partial output for inspection instead of removing it. */
  keepPartial?: boolean;
  /**
   * Run a path's handler only when its code or something it read changed since the previous build
   * into the same folder (see the build cache in cache.ts); every other path keeps its bytes.
   */
  incremental?: boolean;
  /** Base for relative paths in options, the manifest and the report. Default `process.cwd()`. */
  cwd?: string;
  logger?: Logger;
  /** Aborting it stops the build: workers end, temporary folders go, the previous output stays (INTERRUPTED). */
  signal?: AbortSignal;
}

export interface ResolvedOptions {
  appDir: string;
  out: string;
  manifest: string;
  concurrency: number;
  /** How many workers start for light paths (see `moreWorkers`): all of them when `concurrency` was given. */
  lightWorkers: number;
  timeoutMs: number;
  /** The time limit of a GET Next.js 15+ would not run at build, when shorter than `timeoutMs` (see `notRunTimeout`). */
  notRunLimitMs?: number;
  retries: number;
  maxMemoryMb: number;
  maxBodyBytes: number;
  host: HostName;
  origin?: string;
  strict: boolean;
  shard?: ShardSpec;
  force: boolean;
  keepPartial: boolean;
  incremental: boolean;
  cwd: string;
  logger: Logger;
}

/** The default of `notRunTimeout`, in seconds: a static body that takes longer is rare, and such a path ends on a server all the same. */
const NOT_RUN_TIMEOUT = 10;

export function resolveOptions(options: PrerenderOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw usage('Expected options to be an object', options);
  const cwd = options.cwd === undefined ? process.cwd() : requireString('cwd', options.cwd);
  const appDir = options.appDir === undefined ? findAppDir(cwd) : requireString('appDir', options.appDir);
  const out = path.resolve(cwd, options.out === undefined ? 'dist' : requireString('out', options.out));
  const host = options.host ?? 'none';
  if (!HOSTS.includes(host)) throw usage(`Expected \`host\` to be one of ${HOSTS.join(', ')}`, host);
  const manifest = options.manifest === undefined ? defaultManifestPath(out, host) : path.resolve(cwd, requireString('manifest', options.manifest));
  const concurrency = options.concurrency === undefined ? availableParallelism() : options.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw usage('Expected `concurrency` to be an integer from 1 and up', concurrency);
  // The build thread's core, by default: a worker takes it only for heavy paths.
  const lightWorkers = options.concurrency === undefined ? Math.max(1, concurrency - 1) : concurrency;
  const timeout = options.timeout === undefined ? 60 : options.timeout;
  if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) throw usage('Expected `timeout` to be a number of seconds above 0', timeout);
  const notRun = options.notRunTimeout ?? (options.timeout === undefined ? NOT_RUN_TIMEOUT : undefined);
  if (notRun !== undefined && (typeof notRun !== 'number' || !(notRun > 0) || !Number.isFinite(notRun))) throw usage('Expected `notRunTimeout` to be a number of seconds above 0', notRun);
  const retries = options.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) throw usage('Expected `retries` to be an integer from 0 and up', retries);
  const maxMemory = options.maxMemory ?? DEFAULT_MAX_MEMORY_MB;
  if (!Number.isInteger(maxMemory) || maxMemory < 32) throw usage('Expected `maxMemory` to be a whole number of MB from 32 and up', maxMemory);
  const maxBody = options.maxBody ?? 512;
  if (typeof maxBody !== 'number' || !(maxBody > 0) || !Number.isFinite(maxBody)) throw usage('Expected `maxBody` to be a number of MB above 0', maxBody);
  const origin = options.origin === undefined ? undefined : checkOrigin(options.origin);
  if (origin && host === 'none') throw setupError('USAGE', ['`origin` needs a `host`: the host files are what forward requests to it (e.g. --host netlify --origin https://app.example.com).']);
  const { shard } = options;
  if (shard !== undefined && !(Number.isInteger(shard.count) && Number.isInteger(shard.index) && shard.count >= 1 && shard.index >= 1 && shard.index <= shard.count)) {
    throw usage('Expected `shard` to be { index, count } with 1 <= index <= count', JSON.stringify(shard));
  }
  return {
    shard,
    strict: options.strict === true,
    appDir: path.resolve(cwd, appDir),
    out,
    manifest,
    concurrency,
    lightWorkers,
    timeoutMs: Math.round(timeout * 1000),
    ...(notRun !== undefined && notRun < timeout ? { notRunLimitMs: Math.round(notRun * 1000) } : {}),
    retries,
    maxMemoryMb: maxMemory,
    maxBodyBytes: Math.floor(maxBody * 1024 * 1024),
    host,
    ...(origin ? { origin } : {}),
    force: options.force === true,
    keepPartial: options.keepPartial === true,
    incremental: options.incremental === true,
    cwd,
    logger: options.logger ?? {},
  };
}

/** An http(s) URL without query or fragment: where a CDN forwards what it does not have. */
export function checkOrigin(value: unknown): string {
  let url: URL | undefined;
  try {
    url = new URL(String(value));
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw usage('Expected `origin` to be the http(s) URL of your Next.js server, such as https://app.example.com', value);
  }
  return url.href.replace(/\/$/, '');
}

function requireString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw usage(`Expected \`${name}\` to be a non-empty string`, value);
  return value;
}

function usage(expected: string, received: unknown): PrerenderError {
  return setupError('USAGE', [`${expected}, got \`${String(received)}\` (${received === null ? 'null' : typeof received}).`]);
}
