/**
 * Stage 4: run GET for every planned path in the sandbox and turn each outcome into a result.
 * Bodies are handed to the writer as they arrive, so they are not all held in memory at once.
 */
import pMap from 'p-map';
import { bug } from './errors.js';
import { dynamicResult, errorResult, type PlannedPath } from './plan.js';
import type { Sandbox } from './sandbox/pool.js';
import type { RenderOutcome, Task } from './sandbox/protocol.js';
import type { PathResult } from './types.js';

export interface ExecuteOptions {
  concurrency: number;
  /** Output file of each path (from `assignFiles`). */
  files: Map<string, string>;
  /** Writes one body; resolves when it is on disk. */
  writeBody: (file: string, body: Uint8Array) => Promise<void>;
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
  }));
  const results = await pMap(paths, async (planned, index) => {
    const { outcome, logs } = await sandbox.run(tasks[index]);
    const result = await toResult(planned, outcome, [...planned.logs, ...logs], options);
    options.onProgress?.(++done, paths.length);
    return result;
  }, { concurrency: options.concurrency });

  // A timer or promise of a handler may throw after its response was returned.
  await sandbox.drain();
  return results.map((result, index) => {
    const late = sandbox.lateError(tasks[index]);
    if (!late || result.type === 'error') return result;
    return errorResult(result.route, result.path, { ...late, message: `${late.message} (after the response was returned)` }, result.logs);
  });
}

type RenderTask = Extract<Task, { type: 'render' }>;

/** Which statuses are stored as they are: 2xx and 3xx, and 404 (NEXTJS-SEMANTICS.md §2). */
export function isStoredStatus(status: number): boolean {
  return (status >= 200 && status < 400) || status === 404;
}

/** Only a 2xx response has a body worth a file; a 3xx or 404 is recorded in the manifest alone. */
export function hasFile(status: number): boolean {
  return status >= 200 && status < 300;
}

async function toResult(planned: PlannedPath, outcome: RenderOutcome, logs: string[], options: ExecuteOptions): Promise<PathResult> {
  const { route, path } = planned;
  if (!outcome.ok) return errorResult(route, path, outcome.error, logs);
  if (outcome.kind === 'dynamic') return dynamicResult(route, path, outcome.reasons, logs);
  if (!isStoredStatus(outcome.status)) {
    return dynamicResult(route, path, [{
      kind: 'response.status',
      message: `response.status is ${outcome.status}; only 2xx, 3xx and 404 responses are prerendered, as in Next.js`,
    }], logs);
  }
  let file: string | null = null;
  if (hasFile(outcome.status)) {
    file = options.files.get(path) ?? null;
    if (file === null) throw bug(`no output file was assigned to ${path}`);
    try {
      await options.writeBody(file, outcome.body);
    } catch (error) {
      // Planning rules out every name we know to be unwritable; the file system may know more.
      const code = (error as NodeJS.ErrnoException).code ?? 'an error';
      return errorResult(route, path, {
        message: `The body of ${path} could not be written to ${file}: the file system answered ${code}.`,
        hint: 'choose param values that make plain, short file names',
      }, logs);
    }
  }
  return {
    type: 'static',
    path,
    route,
    status: outcome.status,
    headers: outcome.headers,
    file,
    size: outcome.body.byteLength,
    sha256: outcome.sha256,
    revalidate: outcome.revalidate,
    logs,
  };
}
