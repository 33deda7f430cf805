/** The results a path can end with, made in one place for every stage. Pure. */
import type { RouteErrorCode } from './errors.js';
import type { TaskError } from './sandbox/protocol.js';
import type { DynamicResult, ErrorResult, PathResult, Reason, RouteFile } from './types.js';

/** Shared by the many paths that printed nothing. */
export const NO_LOGS: string[] = Object.freeze([]) as unknown as string[];

/** `key` is the manifest key: a concrete path's URL, or `route.srcRoute` for a route that never ran. */
export function errorResult(route: RouteFile, key: string, error: TaskError, logs: string[] = NO_LOGS): ErrorResult {
  return { type: 'error', path: key, route, code: error.code, message: error.message, at: error.at, hint: error.hint, logs, ...(error.frame ? { frame: error.frame } : {}) };
}

export function dynamicResult(route: RouteFile, key: string, reasons: Reason[], logs: string[] = NO_LOGS): DynamicResult {
  return { type: 'dynamic', path: key, route, reasons, logs };
}

/**
 * The errors of running a GET handler (not of loading its module, which `next build` does for every
 * route, nor of this tool: a crashed worker, a file that cannot be written).
 */
const HANDLER_FAILURES: ReadonlySet<RouteErrorCode> = new Set<RouteErrorCode>(['HANDLER_THREW', 'ESCAPED_ERROR', 'NO_RESPONSE', 'BODY_FAILED', 'BODY_TOO_LARGE', 'TIMED_OUT', 'OUT_OF_MEMORY', 'WORKER_EXITED']);

/**
 * Next.js 15 and later do not run, at build, the GET of a route that does not opt in (`notOptedIn`):
 * `next build` serves it from the server and passes whatever the handler would do. This tool runs
 * it anyway, to find what can be static; when that run fails (a database or an API out of reach at
 * build, a secret that is not set), the path stays on a server as under Next.js, with the failure as
 * its reason, instead of failing the build and holding back every other route's files.
 */
export function failuresOnServer(results: PathResult[], notOptedIn: ReadonlySet<RouteFile>): PathResult[] {
  if (notOptedIn.size === 0) return results;
  return results.map((result) => {
    if (result.type !== 'error' || !notOptedIn.has(result.route) || !HANDLER_FAILURES.has(result.code)) return result;
    const message = `${result.message.trim().replace(/\.?$/, '.')} Next.js 15 and later do not run this GET at build, since its route does not opt in (dynamic = 'force-static', revalidate or generateStaticParams): it stays on a server, as under next build.`;
    return dynamicResult(result.route, result.path, [{ kind: 'failed at build', message, ...(result.at ? { at: result.at } : {}) }], result.logs);
  });
}
