/**
 * Stage 4: run GET for every planned path in the sandbox and turn each outcome into a result.
 * Bodies are handed to the writer as they arrive, so they are not all held in memory at once.
 */
import { bug } from './errors.js';
import { dynamicResult, errorResult, type PlannedPath } from './plan.js';
import type { Sandbox } from './sandbox/pool.js';
import type { RenderOutcome, Task } from './sandbox/protocol.js';
import { hasFile, isStoredStatus } from './status.js';
import type { PathResult } from './types.js';

export interface ExecuteOptions {
  /** Output file of each path (from `assignFiles`). */
  files: Map<string, string>;
  onProgress?: (done: number, total: number) => void;
}

export async function executePaths(paths: PlannedPath[], sandbox: Sandbox, options: ExecuteOptions): Promise<PathResult[]> {
  let done = 0;
  const tasks = paths.map((planned): RenderTask => ({
    type: 'render',
    entry: planned.entry,
    source: planned.route.file,
    pattern: planned.route.pattern,
    requestPath: planned.requestPath,
    params: planned.params,
    config: planned.config,
    file: options.files.get(planned.path) ?? null,
  }));
  const ids: number[] = [];
  // Every task goes to the sandbox at once: it keeps each worker busy and limits what runs.
  const results = await Promise.all(paths.map(async (planned, index) => {
    const task = tasks[index];
    tasks[index] = undefined!; // let it go: at 100k paths the tasks add up
    const { outcome, logs, id } = await sandbox.run(task);
    ids[index] = id;
    const result = toResult(planned, outcome, planned.logs.length > 0 ? [...planned.logs, ...logs] : logs, task.file);
    options.onProgress?.(++done, paths.length);
    return result;
  }));

  // A timer or promise of a handler may throw after its response was returned.
  await sandbox.drain();
  return results.map((result, index) => {
    const late = sandbox.lateError(ids[index]);
    if (!late || result.type === 'error') return result;
    return errorResult(result.route, result.path, { ...late, message: `${late.message} (after the response was returned)` }, result.logs);
  });
}

type RenderTask = Extract<Task, { type: 'render' }>;

function toResult(planned: PlannedPath, outcome: RenderOutcome, logs: string[], file: string | null): PathResult {
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
    headers: outcome.headers,
    file: outcome.written ? file : null,
    size: outcome.size,
    sha256: outcome.sha256,
    revalidate: outcome.revalidate,
    logs,
  };
}
