/**
 * Stage 4: run GET for every planned path in the sandbox and turn each outcome into a result.
 * Bodies are handed to the writer as they arrive, so they are not all held in memory at once.
 */
import type { AssignedPath } from './plan.js';
import { bug } from './errors.js';
import { requestPathFromParams } from './params.js';
import { dynamicResult, errorResult, NO_LOGS } from './results.js';
import { StaticRecords } from './manifest.js';
import { relativeFile } from './location.js';
import type { Sandbox, TaskResult } from './sandbox/pool.js';
import type { RenderOutcome, Task, TaskInputs } from './sandbox/protocol.js';
import { hasFile, isStoredStatus } from './status.js';
import type { FrozenUse, Headers, Params, PathResult, RouteFile, StaticResult } from './types.js';

export interface ExecuteOptions {
  /** Base of the manifest entries' `source`. Default `process.cwd()`. */
  cwd?: string;
  onProgress?: (done: number, total: number) => void;
  /**
   * An incremental build's decision for a path: undefined when it runs, else what makes its
   * previous result (called once the paths that run are on their way to the workers).
   */
  reuse?: (path: AssignedPath) => StaticResult | undefined;
  /** What each handler read (files, environment, network, clock). */
  onInputs?: (path: AssignedPath, inputs: TaskInputs | undefined) => void;
  /** Static paths that read the network: the uses, for the frozen-at-build warning. */
  frozen?: (path: AssignedPath) => FrozenUse[];
  /** A time limit of a path's own, in ms, shorter than the build's (undefined: the build's). */
  limit?: (path: AssignedPath) => number | undefined;
  /** What the host's layout puts before every file name (see hosts.ts): most files are this and their path. */
  filePrefix?: string;
  /** Called as each result is made (a pacer of garbage collection, for a large build). */
  onResult?: () => void;
}

/**
 * Runs the paths and returns their results in the same order. `paths` is taken: each path's record
 * is let go once its result is made (a million finished paths do not wait beside their results).
 */
export async function executePaths(paths: AssignedPath[], sandbox: Sandbox, options: ExecuteOptions = {}): Promise<PathResult[]> {
  let done = 0;
  const results: PathResult[] = new Array(paths.length);
  const records = new StaticRecords(paths.length, options.filePrefix);
  // The sandbox's id of each path's task, for errors thrown after the handler returned (-1: none).
  const ids = new Int32Array(paths.length).fill(-1);
  // Most paths of a route answer with the same headers: one record each, shared.
  const headers = new Map<string, Headers>();
  const sources = new Map<RouteFile, string>();
  const sourceOf = (route: RouteFile) => {
    let source = sources.get(route);
    if (source === undefined) sources.set(route, (source = relativeFile(route.file, options.cwd ?? process.cwd())));
    return source;
  };
  const task = (index: number): RenderTask => {
    const assigned = paths[index];
    const { plan, params, file } = assigned;
    // The task carries the params from here on (the worker gets a copy): the path's record lets
    // them go, so that a million results do not sit beside a million params.
    assigned.params = NO_PARAMS;
    const limitMs = options.limit?.(assigned);
    return {
      type: 'render',
      entry: plan.entry,
      source: plan.route.file,
      pattern: plan.route.pattern,
      requestPath: requestPathFromParams(plan.route.segments, params),
      params,
      config: plan.config,
      file,
      ...(limitMs !== undefined ? { limitMs } : {}),
    };
  };
  const finished = (index: number, { outcome, logs, id, inputs }: TaskResult<RenderTask>) => {
    const assigned = paths[index];
    ids[index] = id;
    options.onInputs?.(assigned, inputs);
    const frozen = outcome.ok && outcome.kind === 'response' && outcome.revalidate === false && options.frozen ? options.frozen(assigned) : undefined;
    results[index] = toResult(assigned, outcome, assigned.logs.length > 0 ? [...assigned.logs, ...logs] : logs.length > 0 ? logs : NO_LOGS, { headers, source: sourceOf(assigned.plan.route), frozen, records });
    paths[index] = FINISHED;
    options.onResult?.();
    options.onProgress?.(++done, paths.length);
  };
  // Paths whose previous output is taken as it is never become tasks: their results are made as
  // they are decided. The first paths found to run again go to the workers at once, while the
  // others are decided (an edit runs a few paths).
  let toRun: number[] | undefined;
  const first: Array<Promise<void>> = [];
  if (options.reuse) {
    toRun = [];
    for (let index = 0; index < paths.length; index++) {
      const kept = options.reuse(paths[index]);
      if (kept) {
        results[index] = kept;
        paths[index] = FINISHED;
      } else if (first.length < FIRST_RUNS) first.push(sandbox.run(task(index), true).then((result) => finished(index, result)));
      else toRun.push(index);
    }
    done = paths.length - toRun.length - first.length;
  }
  const count = toRun ? toRun.length : paths.length;
  const at = toRun ? (j: number) => toRun![j] : (j: number) => j;
  const running = sandbox.runAll(count, (j) => task(at(j)), (j, result) => finished(at(j), result));
  await Promise.all([running, ...first]);

  // A timer or promise of a handler may throw after its response was returned.
  await sandbox.drain();
  return results.map((result, index) => {
    if (ids[index] === -1) return result;
    const late = sandbox.lateError(ids[index]);
    if (!late || result.type === 'error') return result;
    return errorResult(result.route, result.path, late, result.logs);
  });
}

type RenderTask = Extract<Task, { type: 'render' }>;

/** How many of the paths an incremental build runs again go to the workers one by one as they are found (the rest in batches). */
const FIRST_RUNS = 8;

const NO_PARAMS: Params = Object.freeze({}) as Params;

/** What stands in `paths` for a path whose result is made. */
const FINISHED = Object.freeze({}) as AssignedPath;

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** `made.headers` interns header records: most paths of a route answer with the same headers. */
function toResult({ plan: { route }, key, file }: AssignedPath, outcome: RenderOutcome, logs: string[], made: { headers: Map<string, Headers>; source: string; frozen?: FrozenUse[]; records: StaticRecords }): PathResult {
  if (!outcome.ok) return errorResult(route, key, outcome.error, logs);
  if (outcome.kind === 'dynamic') return dynamicResult(route, key, outcome.reasons, logs);
  if (!isStoredStatus(outcome.status)) {
    const kind = 'response.status';
    return dynamicResult(route, key, [{ kind, message: `response.status is ${outcome.status}; only 2xx, 3xx and 404 responses are prerendered, as in Next.js` }], logs);
  }
  if (hasFile(outcome.status) && !outcome.written) throw bug(`the body of ${key} was not written`);
  return made.records.add(key, route, {
    file: outcome.written ? file : null,
    frozen: made.frozen,
    headers: intern(made.headers, outcome.headers),
    revalidate: outcome.revalidate,
    // Every empty body has the same hash (the many 404s and redirects).
    sha256: outcome.size === 0 ? EMPTY_SHA256 : outcome.sha256,
    size: outcome.size,
    source: made.source,
    srcRoute: route.srcRoute,
    status: outcome.status,
    tags: outcome.tags,
  }, logs);
}

/** Headers arrive as JSON text (cheaper to send than an object); each distinct text is parsed (and its keys sorted) once. */
function intern(seen: Map<string, Headers>, json: string): Headers {
  let record = seen.get(json);
  if (!record) {
    const parsed = JSON.parse(json) as Headers;
    record = {};
    for (const name of Object.keys(parsed).sort()) record[name] = parsed[name];
    seen.set(json, record);
  }
  return record;
}
