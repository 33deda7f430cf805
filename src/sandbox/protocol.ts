/** Messages between the build thread and the worker threads that run route code. Plain data only. */
import type { RouteErrorCode } from '../errors.js';
import type { RejectedPath } from '../params.js';
import type { Params, Reason, RouteFile, SegmentConfig, SourceLocation } from '../types.js';

/** A route error, as data: a code from the catalogue (errors.ts) and its words. */
export interface TaskError {
  code: RouteErrorCode;
  message: string;
  /** The source line and a caret under the place, as compilers show it (compile errors). */
  frame?: string;
  at?: SourceLocation;
  hint?: string;
  /** PARAMS_INVALID: a param an entry of generateStaticParams leaves out (see `skipIncomplete` in plan.ts). */
  missingParam?: string;
}

/** A place in the user's code as `file:line`, relative to the project. */
export type SourceLocationText = string;

/**
 * What one phase of a task read (see runtime/inputs.ts). File ids are `file:`, `dir:` or `stat:`
 * and a path relative to the project (absolute outside it).
 */
export interface RecordedInputs {
  /** With `digest` (sha256 of the bytes read) and `stamp` (see cache.ts) when the worker read the content itself. */
  files?: Array<{ id: string; at?: SourceLocationText; digest?: string; stamp?: string }>;
  env?: Array<{ name: string; at?: SourceLocationText }>;
  fetches?: Array<{ method: string; url: string; cache?: string; revalidate?: number | false; at?: SourceLocationText }>;
  /** `host:port` (or a socket path) of a connection route code opened itself. */
  sockets?: Array<{ target: string; at?: SourceLocationText }>;
  /** `Date.now()`, `new Date()`, `Math.random()`, `crypto.randomUUID()`, … */
  variation?: Array<{ kind: string; at?: SourceLocationText }>;
}

/** A task's reads by phase: evaluating modules, generateStaticParams, the handler. */
export type TaskInputs = Partial<Record<'module' | 'params' | 'path', RecordedInputs>>;

export type Task =
  /** With `loadOnly`, the module is loaded and nothing else, to be ready for the route's paths (a route planned from the previous build). */
  | { type: 'analyze'; entry: string; source: string; route: RouteFile; loadOnly?: boolean }
  | {
      type: 'render';
      entry: string;
      source: string;
      pattern: string;
      /** The URL path the handler sees, percent-encoded. */
      requestPath: string;
      params: Params;
      config: SegmentConfig;
      /** Where a 2xx body goes, relative to the output folder. */
      file: string;
      /** A time limit of its own, shorter than the build's (see `notRunTimeout` in options.ts). */
      limitMs?: number;
    };

/** A route's module, loaded: dynamic as a whole (with the reasons), or the params of its paths. */
export type AnalyzeOutcome =
  | { ok: true; config: SegmentConfig; reasons: Reason[] }
  /** `optedIn`: the module asks Next.js 15+ to run its GET at build (see docs/nextjs-rules.md §1). */
  /** `incomplete`: an optional catch-all param some entries left out; those entries are not in `params` (see `checkStaticParams`). */
  | { ok: true; config: SegmentConfig; params: Params[]; optedIn: boolean; rejected?: RejectedPath[]; incomplete?: string }
  | { ok: false; error: TaskError };

export type RenderOutcome =
  | {
      ok: true;
      kind: 'response';
      status: number;
      /** JSON of the lower-cased headers: text is cheaper to send than an object. */
      headers: string;
      size: number;
      sha256: string;
      /** True when the body was written to the task's file. */
      written: boolean;
      /** Cache tags of the path's fetches, sorted. */
      tags?: string[];
      revalidate: number | false;
    }
  | { ok: true; kind: 'dynamic'; reasons: Reason[] }
  | { ok: false; error: TaskError };

export type Outcome<T extends Task> = T extends { type: 'analyze' } ? AnalyzeOutcome : RenderOutcome;

export interface TaskMessage {
  id: number;
  task: Task;
}

export interface ResultMessage {
  id: number;
  outcome: AnalyzeOutcome | RenderOutcome;
  logs: string[];
  /** What the task's code read, when it read anything. */
  inputs?: TaskInputs;
  /** How long a render task kept the worker, in ms (see `moreWorkers`). */
  ms?: number;
}

/** What a worker says besides task results. */
export type WorkerNotice =
  /** Output of route code outside any task. */
  | { log: string }
  /** Something a route did that the report should mention (it changed shared state). */
  | { warning: string }
  /** An error that escaped task `id` after its result was sent. */
  | { late: { id: number; error: TaskError } }
  /**
   * After a task that left the worker's heap this large (MB: a generateStaticParams of a million
   * entries), the worker asks to be replaced, so that the build does not keep that memory.
   */
  | { heavy: number }
  /** Route code started a child process (`pid`), or one ended: the build thread stops what a terminated worker leaves. */
  | { child: { pid: number; owner: string; command: string; running: boolean } }
  /** Route code is ending the worker through this API. */
  | { exiting: string }
  | { ready: true }
  | { pong: number };

export interface WorkerSetup {
  /** Folder of the compiled route modules; stack frames inside it are the user's code. */
  bundleDir: string;
  /** `process.cwd()` inside route code: the project root, as under `next build`. */
  projectRoot: string;
  /** A longer response body is an error for its path. */
  maxBodyBytes: number;
  /** The folder that bodies are written to (the staging folder). */
  outputDir: string;
  /** `--strict`: the Cache Components rules count too. */
  strict?: boolean;
  /**
   * Next.js 15 and later: a fetch inside an `unstable_cache` function is cached with it, so its
   * `cache: 'no-store'` (or `revalidate: 0`) does not make the path dynamic, as it does in 14.
   */
  cachedFetches?: boolean;
  /** next.config's basePath: request URLs include it, `nextUrl.pathname` does not. */
  basePath?: string;
  /** A worker whose heap is larger than this (MB) after an `analyze` task asks to be replaced. Default 192. */
  heavyHeapMb?: number;
  /** Float64 slots, indexed by BEAT, that the worker updates as it starts and ends tasks. */
  beat: SharedArrayBuffer;
}

/** Where the worker tells, in shared memory, what it is doing. */
export const BEAT = { running: 0, since: 1, finished: 2 } as const;

/**
 * The esbuild namespace of the module that requires a CommonJS server-external package for an
 * import of it (bundle.ts); the sandbox knows its frames by it in source maps (runtime/locate.ts).
 */
export const EXTERNAL_CJS_NAMESPACE = 'route-prerender-external-cjs';
