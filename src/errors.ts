/**
 * The error catalogue: every error the tool reports, for one path (a route error, written to the
 * manifest's `errors`) or for the whole build (a set-up error, exit code 2), has a stable `code`
 * from this table, with a title, a message built from the details, and a hint that says how to fix
 * it. CI scripts and tests match on the code, never on the sentence. The README lists every code
 * (a test checks it).
 *
 * Errors are recognised by their `code` field, not by `instanceof`, so that errors that crossed a
 * worker boundary as plain objects are still understood.
 */

/** The package a bare specifier names: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** What to do about a package import that is not installed (`@scope/name/sub` → `@scope/name`). */
export function installHint(specifier: string): string {
  const name = packageName(specifier);
  return `install ${name} in the project (npm install ${name}), or run prerender where the app's dependencies are installed`;
}

/**
 * Where an error thrown by a module the tool writes itself (a metadata file's route) keeps its own
 * hint, as `Symbol.for(HINT_KEY)`: the route's error shows it instead of the generic one.
 */
export const HINT_KEY = 'route-prerender.hint';

/**
 * What to do about a module the code requires that is not there: a client Prisma generates, or a
 * package that is not installed. Undefined for any other failure.
 */
export function missingModuleHint(message: string): string | undefined {
  const name = /Cannot find (?:module|package) '([^']+)'/.exec(message)?.[1];
  if (name === undefined) return undefined;
  if (name.startsWith('.prisma/client')) return 'the Prisma client is not generated: run `npx prisma generate` in the project (it usually runs when the dependencies are installed; next build needs it too)';
  return name.startsWith('.') || name.startsWith('/') ? undefined : installHint(name);
}

/** The exit-code contract (see policy.ts for when each applies). */
export const EXIT = { done: 0, routeErrors: 1, setup: 2, unwantedDynamic: 3 } as const;

type Text<A extends unknown[]> = string | ((...args: A) => string);

interface ErrorData<A extends unknown[] = never[]> {
  /** For the README's table. */
  title: string;
  /** Set-up errors end the build (exit 2); route errors are one path's result. */
  scope: 'route' | 'setup';
  message: (...args: A) => string;
  hint?: Text<A>;
}

/** Builds one entry, keeping its argument types for `errorData`. */
function entry<S extends ErrorData['scope'], A extends unknown[]>(data: ErrorData<A> & { scope: S }): ErrorData<A> & { scope: S } {
  return data;
}

const BUG_REPORT = 'This is a bug in route-prerender; please report it with the route file that triggered it.';

export const ERRORS = {
  // ── route errors: one path (or one route) failed, the others are still built ──────────────
  ROUTE_CONFLICT: entry({
    title: 'Two files serve one URL',
    scope: 'route',
    message: (what: string, first: string, second: string) => `${what}: ${first} and ${second}.`,
    hint: (_what: string, _a: string, _b: string) => 'remove or move one of them; Next.js serves one URL from one file',
  }),
  FOLDER_INVALID: entry({
    title: 'A route folder name that Next.js refuses',
    scope: 'route',
    message: (problem: string) => `Invalid route folder: ${problem}.`,
  }),
  COMPILE_FAILED: entry({
    title: 'The route module does not compile',
    scope: 'route',
    message: (text: string) => `The route module does not compile: ${text}`,
    hint: 'fix the code at this location; the route is built as soon as it compiles',
  }),
  MODULE_THREW: entry({
    title: 'The route module threw while it was loaded',
    scope: 'route',
    message: (error: string) => `The route module threw while it was loaded: ${error}`,
    hint: 'module-level code runs at build time too; move work that can fail into the handler or guard it',
  }),
  SEGMENT_CONFIG_INVALID: entry({
    title: 'An invalid segment config value',
    scope: 'route',
    message: (name: string, shown: string, _expected: string) => `Invalid segment config: \`${name} = ${shown}\`.`,
    hint: (name: string, _shown: string, expected: string) => `\`${name}\` must be ${expected} (see https://nextjs.org/docs/app/api-reference/file-conventions/route-segment-config)`,
  }),
  EXPORT_NOT_FUNCTION: entry({
    title: 'GET or generateStaticParams is exported but is not a function',
    scope: 'route',
    message: (name: string) => `The route exports ${name}, but it is not a function.`,
    hint: (name: string) => (name === 'GET' ? 'export an async function: `export async function GET(request) { … }`' : 'export a function that returns an array of params objects'),
  }),
  PARAMS_THREW: entry({
    title: 'generateStaticParams threw',
    scope: 'route',
    message: (error: string) => `generateStaticParams failed: ${error}`,
  }),
  PARAMS_INVALID: entry({
    title: 'generateStaticParams returned a value that is not a list of params',
    scope: 'route',
    message: (problem: string) => `generateStaticParams returned an invalid value: ${problem}.`,
  }),
  PARAMS_CLASH: entry({
    title: 'Two params give one path',
    scope: 'route',
    message: (first: string, second: string, urlPath: string) => `generateStaticParams returned ${first} and ${second}, which give the same path ${urlPath}.`,
    hint: 'a `#` or `?` in a value is written as %23 or %3F; keep values distinct after that encoding',
  }),
  PATH_CONFLICT: entry({
    title: "A path's file would overwrite another's",
    scope: 'route',
    message: (urlPath: string, why: string) => `The path ${urlPath} cannot be written: ${why}.`,
    hint: 'rename one of the routes or params so that each path has its own file',
  }),
  HANDLER_THREW: entry({
    title: 'The GET handler threw',
    scope: 'route',
    message: (error: string) => error,
  }),
  ESCAPED_ERROR: entry({
    title: 'An error escaped the handler (a timer, an event, an unawaited promise)',
    scope: 'route',
    message: (error: string, late?: boolean) => `An error escaped the handler (thrown from a timer, an event or an unawaited promise): ${error}${late ? ' (after the response was returned)' : ''}`,
  }),
  DYNAMIC_FORBIDDEN: entry({
    title: "Request-time data in a route that forbids it (`dynamic = 'error'`, `fetchCache`)",
    scope: 'route',
    message: (message: string) => message,
  }),
  NOT_EXPORTABLE: entry({
    title: "A route that `output: 'export'` cannot serve: it needs a server",
    scope: 'route',
    message: (config: string, why: string) => `${config} sets output: 'export', which writes static files only, and this route needs a server: ${why}.`,
    hint: (config: string, _why: string) => `make the route static, or remove output: 'export' from ${config} to serve it from a Next.js server`,
  }),
  NO_RESPONSE: entry({
    title: 'The handler returned no Response',
    scope: 'route',
    message: (pattern: string, got: string) => `No response is returned from route handler '${pattern}'. Ensure you return a \`Response\` or a \`NextResponse\` in all branches of your handler. It returned ${got}.`,
    hint: 'return a Response, e.g. `return Response.json(data)` or `return new Response(text)`',
  }),
  BODY_FAILED: entry({
    title: 'The response body failed while it was read',
    scope: 'route',
    message: (error: string) => `The response body failed while it was read: ${error}`,
  }),
  BODY_TOO_LARGE: entry({
    title: 'The response body is larger than --max-body',
    scope: 'route',
    message: (limit: string) => `The response body is larger than the limit of ${limit} (--max-body).`,
    hint: 'stream less data from this route, or raise the limit with --max-body',
  }),
  WRITE_FAILED: entry({
    title: 'The body could not be written',
    scope: 'route',
    message: (file: string, why: string) => `The body could not be written to ${file}: ${why}.`,
    hint: 'choose param values that make plain, short file names',
  }),
  TIMED_OUT: entry({
    title: 'A handler or generateStaticParams passed --timeout',
    scope: 'route',
    message: (seconds: number, attempts: number, _what: string) => `The route timed out after ${seconds} s${attempts > 1 ? ` (${attempts} attempts)` : ''}.`,
    hint: (_s: number, _a: number, what: string) => `make the ${what} finish sooner, or raise the limit with --timeout`,
  }),
  OUT_OF_MEMORY: entry({
    title: 'A route passed --max-memory',
    scope: 'route',
    message: (limitMb: number) => `The route ran out of memory (limit ${limitMb} MB, for its worker's heap and buffers).`,
    hint: 'reduce what the route holds in memory, or raise the limit with --max-memory',
  }),
  WORKER_EXITED: entry({
    title: 'Route code ended its worker (process.exit, abort, kill)',
    scope: 'route',
    message: (api: string) => `The route called ${api}, which stopped its worker.`,
    hint: 'route code must not end the process; return a Response (or throw) instead',
  }),
  WORKER_CRASHED: entry({
    title: 'The worker running the route crashed',
    scope: 'route',
    message: (error: string) => `The route crashed its worker: ${error}.`,
    hint: 'this may be a bug in route-prerender; please report it with the route file',
  }),
  WORKER_START_FAILED: entry({
    title: 'Worker threads could not start',
    scope: 'route',
    message: (why: string) => `A worker thread could not start (${why}). This is a bug in route-prerender, or a Node flag it cannot run with; please report it.`,
  }),

  // ── set-up errors: the build cannot start (exit code 2) ─────────────────────────────────────
  USAGE: entry({
    title: 'A bad option or flag value',
    scope: 'setup',
    message: (text: string) => text,
    hint: 'run `prerender --help` for the options',
  }),
  APP_DIR_MISSING: entry({
    title: 'The app directory does not exist',
    scope: 'setup',
    message: (dir: string) => `The app directory ${dir} does not exist.`,
    hint: 'pass the folder that holds your route files, e.g. `prerender ./app` or `prerender ./src/app`',
  }),
  APP_DIR_NOT_A_DIRECTORY: entry({
    title: 'The app directory is a file',
    scope: 'setup',
    message: (dir: string) => `The app directory ${dir} is a file, not a folder.`,
    hint: 'pass the app folder (./app or ./src/app), not a file in it',
  }),
  NO_ROUTES: entry({
    title: 'No route files were found',
    scope: 'setup',
    message: (dir: string) => `No route files found under ${dir}.`,
  }),
  CONFIG_INVALID: entry({
    title: 'next.config cannot be loaded or has an invalid value',
    scope: 'setup',
    message: (file: string, what: string) => `${file}: ${what}`,
    hint: 'fix the config file; see https://nextjs.org/docs/app/api-reference/config/next-config-js',
  }),
  OUT_DIR_UNSAFE: entry({
    title: '--out would replace something that is not output',
    scope: 'setup',
    message: (out: string, what: string) => `Refusing to write the output to ${out}: it is ${what}, and the output folder is replaced as a whole.`,
    hint: 'pass a dedicated folder, e.g. `--out dist`',
  }),
  OUT_DIR_NOT_OURS: entry({
    title: '--out holds files route-prerender did not write',
    scope: 'setup',
    message: (out: string, isFile?: boolean) => (isFile ? `The output path ${out} is a file.` : `The output folder ${out} already holds files that route-prerender did not write.`),
    hint: (_out: string, isFile?: boolean) => (isFile ? 'remove it, choose another --out, or pass --force to replace it' : 'it would be replaced as a whole: choose an empty or new folder, or pass --force to replace it'),
  }),
  OUT_DIR_LOCKED: entry({
    title: 'Another build is writing the same --out',
    scope: 'setup',
    message: (out: string, pid: number) => `Another build is writing ${out}${pid ? ` (pid ${pid})` : ''}.`,
    hint: 'wait for it to finish, or choose another --out',
  }),
  OUTPUT_FAILED: entry({
    title: 'The output could not be written (disk full, read-only, permissions)',
    scope: 'setup',
    message: (folder: string, why: string, _hint?: string) => `The output could not be written to ${folder}: ${why}.`,
    hint: (_folder: string, _why: string, hint?: string) => hint ?? 'free space or choose a writable folder with --out; the previous output was left as it was',
  }),
  INTERRUPTED: entry({
    title: 'The build was interrupted (Ctrl-C, SIGTERM)',
    scope: 'setup',
    message: (signal: string) => `The build was interrupted (${signal}); the previous output was left as it was.`,
  }),
  MANIFEST_INVALID: entry({
    title: 'A manifest (--baseline, a shard) cannot be read',
    scope: 'setup',
    message: (file: string, what: string) => `Cannot read the manifest ${file}: ${what}.`,
    hint: 'pass the prerender-manifest.json written by an earlier run of route-prerender',
  }),
  SHARD_MISMATCH: entry({
    title: 'Shards that are not the parts of one build',
    scope: 'setup',
    message: (text: string) => text,
  }),
  INTERNAL: entry({
    title: 'A bug in route-prerender',
    scope: 'setup',
    message: (what: string) => `${what}. ${BUG_REPORT}`,
  }),
} as const;

export type ErrorCode = keyof typeof ERRORS;
export type RouteErrorCode = { [C in ErrorCode]: (typeof ERRORS)[C]['scope'] extends 'route' ? C : never }[ErrorCode];
type Args<C extends ErrorCode> = Parameters<(typeof ERRORS)[C]['message']>;

/** The message and hint of an error, from the catalogue. */
export function errorText<C extends ErrorCode>(code: C, ...args: Args<C>): { code: C; message: string; hint?: string } {
  const data = ERRORS[code] as unknown as ErrorData<unknown[]>;
  const hint = typeof data.hint === 'function' ? data.hint(...args) : data.hint;
  return { code, message: data.message(...args), ...(hint ? { hint } : {}) };
}

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

/** A set-up error from the catalogue; `hint` overrides the catalogue's when given. */
export function setupError<C extends ErrorCode>(code: C, args: Args<C>, details: { hint?: string; file?: string } = {}): PrerenderError {
  const text = errorText(code, ...args);
  return new PrerenderError(code, text.message, { file: details.file, hint: details.hint ?? text.hint });
}

export function isPrerenderError(value: unknown): value is PrerenderError {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string' &&
    (value as Error).name === 'PrerenderError';
}

/** Our own invariant failed: say so, so that users report it instead of debugging their app. */
export function bug(message: string): PrerenderError {
  return setupError('INTERNAL', [message]);
}
