/**
 * User-facing errors. Each carries a stable `code` (what CI scripts and tests match on), the file it
 * is about, what is wrong, and a hint that says how to fix it. Recognised by the `code` field, not by
 * `instanceof`, so errors that crossed a worker boundary as plain objects are still understood.
 */

export type ErrorCode =
  | 'USAGE' // a bad option or flag value
  | 'APP_DIR_MISSING'
  | 'APP_DIR_NOT_A_DIRECTORY'
  | 'NO_ROUTES'
  | 'OUT_DIR_UNSAFE'
  | 'OUT_DIR_NOT_OURS'
  | 'INTERNAL';

export class PrerenderError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly file?: string;

  constructor(code: ErrorCode, message: string, details: { hint?: string; file?: string } = {}) {
    super(message);
    this.name = 'PrerenderError';
    this.code = code;
    this.hint = details.hint;
    this.file = details.file;
  }
}

export function isPrerenderError(value: unknown): value is PrerenderError {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string' &&
    (value as Error).name === 'PrerenderError';
}

/** Our own invariant failed: say so, so that users report it instead of debugging their app. */
export function bug(message: string): PrerenderError {
  return new PrerenderError(
    'INTERNAL',
    `${message}. This is a bug in route-prerender, please report it with the route file that triggered it.`,
  );
}
