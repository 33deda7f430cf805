/**
 * Stage 4: run GET for every planned path in the sandbox and turn each outcome into a result.
 * Bodies are handed to the writer as they arrive, so they are not all held in memory at once.
 */
import pMap from 'p-map';
import { dynamicResult, errorResult, type PlannedPath } from './plan.js';
import type { Sandbox } from './sandbox/pool.js';
import type { RenderOutcome } from './sandbox/protocol.js';
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
  return pMap(paths, async (planned) => {
    const { outcome, logs } = await sandbox.run({
      type: 'render',
      entry: planned.entry,
      source: planned.route.file,
      pattern: planned.route.pattern,
      requestPath: planned.requestPath,
      params: planned.params,
      config: planned.config,
    });
    const result = await toResult(planned, outcome, [...planned.logs, ...logs], options);
    options.onProgress?.(++done, paths.length);
    return result;
  }, { concurrency: options.concurrency });
}

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
    if (file === null) throw new Error(`no output file was assigned to ${path}`);
    await options.writeBody(file, outcome.body);
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
