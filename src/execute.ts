/**
 * Stage 4: run GET for every planned path in the sandbox and turn each outcome into a result.
 * Bodies are handed to the writer as they arrive, so they are not all held in memory at once.
 */
import { bug } from './errors.js';
import { requestPathFromParams } from './params.js';
import { dynamicResult, errorResult, NO_LOGS, type PlannedPath } from './plan.js';
import type { Sandbox } from './sandbox/pool.js';
import type { RenderOutcome, Task } from './sandbox/protocol.js';
import { hasFile, isStoredStatus } from './status.js';
import type { Headers, PathResult } from './types.js';

export interface ExecuteOptions {
  /** Output file of each path (from `assignFiles`). */
  files: Map<string, string>;
  onProgress?: (done: number, total: number) => void;
}

export async function executePaths(paths: PlannedPath[], sandbox: Sandbox, options: ExecuteOptions): Promise<PathResult[]> {
  let done = 0;
  const ids: number[] = new Array(paths.length);
  const results: PathResult[] = new Array(paths.length);
  const files: (string | null)[] = new Array(paths.length);
  // Most paths of a route answer with the same headers: one record each, shared.
  const headers = new Map<string, Headers>();
  await sandbox.runAll(
    paths.length,
    (index): RenderTask => {
      const planned = paths[index];
      const file = options.files.get(planned.path) ?? null;
      files[index] = file;
      return {
        type: 'render',
        entry: planned.entry,
        source: planned.route.file,
        pattern: planned.route.pattern,
        requestPath: requestPathFromParams(planned.route.segments, planned.params),
        params: planned.params,
        config: planned.config,
        file,
      };
    },
    (index, { outcome, logs, id }) => {
      const planned = paths[index];
      ids[index] = id;
      results[index] = toResult(planned, outcome, planned.logs.length > 0 ? [...planned.logs, ...logs] : logs.length > 0 ? logs : NO_LOGS, files[index], headers);
      options.onProgress?.(++done, paths.length);
    },
  );

  // A timer or promise of a handler may throw after its response was returned.
  await sandbox.drain();
  return results.map((result, index) => {
    const late = sandbox.lateError(ids[index]);
    if (!late || result.type === 'error') return result;
    return errorResult(result.route, result.path, { ...late, message: `${late.message} (after the response was returned)` }, result.logs);
  });
}

type RenderTask = Extract<Task, { type: 'render' }>;

/** `headers` interns header records: most paths of a route answer with the same headers. */
function toResult(planned: PlannedPath, outcome: RenderOutcome, logs: string[], file: string | null, headers: Map<string, Headers>): PathResult {
  const { route, path } = planned;
  if (!outcome.ok) return errorResult(route, path, outcome.error, logs);
  if (outcome.kind === 'dynamic') return dynamicResult(route, path, outcome.reasons, logs);
  if (!isStoredStatus(outcome.status)) {
    return dynamicResult(route, path, [{
      kind: 'response.status',
      message: `response.status is ${outcome.status}; only 2xx, 3xx and 404 responses are prerendered, as in Next.js`,
    }], logs);
  }
  if (hasFile(outcome.status) && !outcome.written) throw bug(`the body of ${path} was not written`);
  return {
    type: 'static',
    path,
    route,
    status: outcome.status,
    headers: intern(headers, outcome.headers),
    file: outcome.written ? file : null,
    size: outcome.size,
    sha256: outcome.sha256,
    revalidate: outcome.revalidate,
    ...(outcome.tags ? { tags: outcome.tags } : {}),
    logs,
  };
}

/** Headers arrive as JSON text (cheaper to send than an object); each distinct text is parsed once. */
function intern(seen: Map<string, Headers>, json: string): Headers {
  let record = seen.get(json);
  if (!record) seen.set(json, (record = JSON.parse(json) as Headers));
  return record;
}
