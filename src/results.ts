/** The results a path can end with, made in one place for every stage. Pure. */
import type { TaskError } from './sandbox/protocol.js';
import type { DynamicResult, ErrorResult, Reason, RouteFile } from './types.js';

/** Shared by the many paths that printed nothing. */
export const NO_LOGS: string[] = Object.freeze([]) as unknown as string[];

/** `key` is the manifest key: a concrete path's URL, or `route.srcRoute` for a route that never ran. */
export function errorResult(route: RouteFile, key: string, error: TaskError, logs: string[] = NO_LOGS): ErrorResult {
  return { type: 'error', path: key, route, code: error.code, message: error.message, at: error.at, hint: error.hint, logs, ...(error.frame ? { frame: error.frame } : {}) };
}

export function dynamicResult(route: RouteFile, key: string, reasons: Reason[], logs: string[] = NO_LOGS): DynamicResult {
  return { type: 'dynamic', path: key, route, reasons, logs };
}
