/**
 * Worker thread entry: loads compiled route modules and runs the tasks it is sent one at a time
 * (inspect a module, call `generateStaticParams`, or run GET for one path). All instrumentation — the request store,
 * the patched `fetch` and `console`, the `next/*` stand-ins — lives in this thread only.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { exportLocation, readSegmentConfig } from '../config.js';
import { decideRoute } from '../decide.js';
import { checkStaticParams, withBasePath } from '../params.js';
import { hasFile, isStoredStatus } from '../status.js';
import type { Headers as HeaderRecord, Params, SegmentConfig } from '../types.js';
import { BEAT, type AnalyzeOutcome, type RenderOutcome, type ResultMessage, type Task, type TaskError, type TaskMessage, type WorkerNotice, type WorkerSetup } from './protocol.js';
import { locateInStack, setBundleDir } from './runtime/locate.js';
import { isNavigationSignal } from './runtime/next-navigation.js';
import { createIncomingRequest } from './runtime/request.js';
import { DynamicUsageError, requestData, requestStore, violate, type RequestStore } from './runtime/store.js';
import { installStrictWatch, strictUse } from './runtime/strict.js';
import { syncAndAsync } from './runtime/thenable.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
setBundleDir(setup.bundleDir);

// Route code reads files relative to the project, as under `next build`.
process.cwd = () => setup.projectRoot;

interface Running {
  id: number;
  logs: string[];
  crash: (error: unknown) => void;
}
let running: Running | undefined;
/** Which task scheduled the code that is running now: timers and promises keep it. */
const taskContext = new AsyncLocalStorage<number>();

// What route code prints belongs to the path being built, not to the middle of the report.
for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
  console[method] = (...args: unknown[]) => {
    const text = format(...args);
    if (running) running.logs.push(text);
    else port.postMessage({ log: text } satisfies WorkerNotice);
  };
}

// An error that escapes a handler (a timer, an event, an unawaited promise) fails the path whose
// code scheduled it, even when it fires after that path's response was returned.
process.on('uncaughtException', (error) => report(error));
process.on('unhandledRejection', (error) => report(error));
function report(error: unknown): void {
  const owner = taskContext.getStore();
  if (running && (owner === undefined || owner === running.id)) running.crash(new EscapedError(error));
  else if (owner !== undefined) port.postMessage({ late: { id: owner, error: taskError(new EscapedError(error)) } } satisfies WorkerNotice);
  else port.postMessage({ log: `Uncaught error outside any route: ${describeError(error)}` } satisfies WorkerNotice);
}

// Route code cannot end the build: exiting, aborting or signalling this process stops this worker
// only, and the build thread reports which API did it.
const exitWorker = process.exit.bind(process);
const realKill = process.kill.bind(process);
process.exit = ((code?: number | string | null) => {
  port.postMessage({ exiting: `process.exit(${code ?? ''})` } satisfies WorkerNotice);
  return exitWorker(Number(code ?? 0) || 0);
}) as typeof process.exit;
process.abort = (() => {
  port.postMessage({ exiting: 'process.abort()' } satisfies WorkerNotice);
  return exitWorker(134);
}) as typeof process.abort;
process.kill = ((pid: number, signal?: string | number) => {
  if (pid === process.pid || pid === 0 || pid === -process.pid || pid === process.ppid) {
    port.postMessage({ exiting: `process.kill(${pid === process.pid ? 'process.pid' : pid}${signal === undefined ? '' : `, ${JSON.stringify(signal)}`})` } satisfies WorkerNotice);
    return exitWorker(1);
  }
  return realKill(pid, signal);
}) as typeof process.kill;

installFetch();
installStrictWatch();

// Short timers that route code schedules are tracked, so that the build can wait for them before
// it decides that no error is still to come from a path that already returned.
const SHORT_TIMER_MS = 1000;
const pendingTimers = new Set<unknown>();
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
globalThis.setTimeout = ((callback: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) => {
  strictUse('setTimeout');
  if (taskContext.getStore() === undefined || typeof callback !== 'function' || (delay ?? 0) > SHORT_TIMER_MS) {
    return realSetTimeout(callback, delay, ...args);
  }
  const timer = realSetTimeout((...rest: unknown[]) => {
    pendingTimers.delete(timer);
    callback(...rest);
  }, delay, ...args);
  pendingTimers.add(timer);
  return timer;
}) as typeof setTimeout;
globalThis.clearTimeout = ((timer?: Parameters<typeof clearTimeout>[0]) => {
  pendingTimers.delete(timer);
  realClearTimeout(timer);
}) as typeof clearTimeout;

/** Resolves once the short timers of finished tasks have fired (at most SHORT_TIMER_MS later). */
async function settleTimers(): Promise<void> {
  const deadline = Date.now() + SHORT_TIMER_MS;
  while (pendingTimers.size > 0 && Date.now() < deadline) await new Promise((resolve) => realSetTimeout(resolve, 2));
  // Let rejections from the last callbacks be reported.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => realSetTimeout(resolve, 0));
}

/** An error thrown outside the handler's own promise chain (a timer, an event emitter). */
class EscapedError extends Error {
  constructor(readonly original: unknown) {
    super(`An error escaped the handler (thrown from a timer, an event or an unawaited promise): ${describeError(original)}`);
    this.stack = original instanceof Error ? original.stack : undefined;
  }
}

const modules = new Map<string, Promise<Record<string, unknown>>>();
function load(entry: string): Promise<Record<string, unknown>> {
  let loaded = modules.get(entry);
  if (!loaded) {
    loaded = import(pathToFileURL(entry).href) as Promise<Record<string, unknown>>;
    modules.set(entry, loaded);
  }
  return loaded;
}

const beat = new Float64Array(setup.beat);
const queue: Array<TaskMessage | { ping: number }> = [];
let results: ResultMessage[] = [];
let lastFlush = Date.now();
let working = false;

// Set up: the build thread counts a worker that dies before this as a failure to start.
port.postMessage({ ready: true } satisfies WorkerNotice);

port.on('message', (message: { tasks: TaskMessage[] } | { ping: number }) => {
  if ('tasks' in message) for (const task of message.tasks) queue.push(task);
  else queue.push(message);
  if (!working) void work();
});

/** Runs queued tasks one at a time; results go back in batches. */
async function work(): Promise<void> {
  working = true;
  while (queue.length > 0) {
    const next = queue.shift()!;
    if ('ping' in next) {
      flush();
      await settleTimers();
      port.postMessage({ pong: next.ping } satisfies WorkerNotice);
      continue;
    }
    results.push(await runTask(next));
    // Send when the batch is done, or often enough that progress and the pipeline keep moving.
    if (queue.length === 0 || results.length >= 32 || Date.now() - lastFlush > 50) flush();
  }
  flush();
  working = false;
}

function flush(): void {
  if (results.length === 0) return;
  port.postMessage({ results });
  results = [];
  lastFlush = Date.now();
}

async function runTask({ id, task }: TaskMessage): Promise<ResultMessage> {
  const logs: string[] = [];
  let crash!: (error: unknown) => void;
  const crashed = new Promise<never>((_, reject) => (crash = reject));
  running = { id, logs, crash };
  beat[BEAT.since] = Date.now();
  beat[BEAT.running] = id;
  let outcome: ResultMessage['outcome'];
  try {
    outcome = await Promise.race([taskContext.run(id, () => perform(task)), crashed]);
  } catch (error) {
    outcome = { ok: false, error: taskError(error) };
  }
  beat[BEAT.running] = 0;
  beat[BEAT.finished] = id;
  running = undefined;
  return { id, outcome, logs };
}

function perform(task: Task): Promise<ResultMessage['outcome']> {
  return task.type === 'analyze' ? analyze(task) : render(task);
}

/** Loads a route's module, applies the module-level rules, and generates its params. */
async function analyze(task: Extract<Task, { type: 'analyze' }>): Promise<AnalyzeOutcome> {
  const inspected = await inspect(task);
  if (!inspected.ok) return inspected;
  const decision = decideRoute(task.route, inspected, readFileSync(task.source, 'utf8'));
  if ('error' in decision) return { ok: false, error: decision.error };
  if (!decision.run) return { ok: true, config: inspected.config, reasons: decision.reasons };
  if (!decision.needsParams) return { ok: true, config: inspected.config, params: [{}] };
  try {
    const generated = await params(task);
    return generated.ok ? { ok: true, config: inspected.config, params: generated.params } : generated;
  } catch (error) {
    const failure = taskError(error);
    return { ok: false, error: { ...failure, message: `generateStaticParams failed: ${failure.message}` } };
  }
}

type Inspected = { ok: true; exports: string[]; functions: string[]; config: SegmentConfig } | { ok: false; error: TaskError };

async function inspect(task: Extract<Task, { type: 'analyze' }>): Promise<Inspected> {
  let mod: Record<string, unknown>;
  try {
    mod = await load(task.entry);
  } catch (error) {
    const failure = taskError(error);
    return { ok: false, error: { ...failure, message: `The route module threw while it was loaded: ${failure.message}`, hint: 'module-level code runs at build time too; move work that can fail into the handler or guard it' } };
  }
  const exports = Object.keys(mod).sort();
  const functions = exports.filter((name) => typeof mod[name] === 'function');
  const check = readSegmentConfig(mod);
  if (!check.ok) {
    return { ok: false, error: { message: check.message, hint: check.hint, at: exportLocation(task.source, check.name) } };
  }
  return { ok: true, exports, functions, config: check.config };
}

async function params(task: Extract<Task, { type: 'analyze' }>): Promise<{ ok: true; params: Params[] } | { ok: false; error: TaskError }> {
  const mod = await load(task.entry);
  const generate = mod.generateStaticParams as (arg: { params: Params }) => unknown;
  const value = await generate({ params: {} });
  const check = checkStaticParams(value, task.route.segments, task.route.pattern);
  if (!check.ok) {
    return { ok: false, error: { message: check.message, hint: check.hint, at: exportLocation(task.source, 'generateStaticParams') } };
  }
  return { ok: true, params: check.params };
}

async function render(task: Extract<Task, { type: 'render' }>): Promise<RenderOutcome> {
  const mod = await load(task.entry);
  const GET = mod.GET as (request: Request, context: { params: unknown }) => unknown;
  const store: RequestStore = { pattern: task.pattern, mode: task.config.dynamic, reasons: [], revalidate: task.config.revalidate, after: [], fetchCache: task.config.fetchCache, tags: new Set(), strict: setup.strict };
  const request = createIncomingRequest(`http://localhost:3000${withBasePath(setup.basePath ?? '', task.requestPath)}`, setup.basePath ?? '');
  const context = { params: syncAndAsync({ ...task.params }) };

  return requestStore.run(store, async (): Promise<RenderOutcome> => {
    let response: unknown;
    try {
      response = await GET(request, context);
    } catch (error) {
      if (!isNavigationSignal(error)) return settle(store, { ok: false, error: taskError(error) });
      response = new Response(null, { status: error.status, headers: error.location === undefined ? {} : { location: error.location } });
    }
    if (!isResponse(response)) {
      return settle(store, {
        ok: false,
        error: {
          message: `No response is returned from route handler '${task.pattern}'. Ensure you return a \`Response\` or a \`NextResponse\` in all branches of your handler. It returned ${describeValue(response)}.`,
          hint: 'return a Response, e.g. `return Response.json(data)` or `return new Response(text)`',
          at: exportLocation(task.source, 'GET'),
        },
      });
    }
    let body: Uint8Array;
    try {
      body = await readBody(response, setup.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) return settle(store, { ok: false, error: { message: error.message, hint: 'stream less data from this route, or raise the limit with --max-body' } });
      const failure = taskError(error);
      return settle(store, { ok: false, error: { ...failure, message: `The response body failed while it was read: ${failure.message}` } });
    }
    for (const callback of store.after) await callback();
    const outcome = settle(store, {
      ok: true,
      kind: 'response',
      status: response.status,
      headers: JSON.stringify(headerRecord(response.headers)),
      size: body.byteLength,
      sha256: createHash('sha256').update(body).digest('hex'),
      revalidate: store.revalidate,
      written: false,
      ...(store.tags.size > 0 ? { tags: [...store.tags].sort() } : {}),
    });
    if (!outcome.ok || outcome.kind !== 'response' || !isStoredStatus(outcome.status) || !hasFile(outcome.status) || task.file === null) return outcome;
    return writeBody(task.file, body, outcome);
  });
}

const madeFolders = new Set<string>();

/**
 * Bodies are written here, synchronously: a worker thread has nothing else to do meanwhile, and
 * many small files are written fastest that way. The bytes never travel to the build thread.
 */
function writeBody(file: string, body: Uint8Array, outcome: Extract<RenderOutcome, { kind: 'response' }>): RenderOutcome {
  const target = path.join(setup.outputDir, ...file.split('/'));
  // Every file name was checked when it was planned; this guards the invariant.
  if (!target.startsWith(setup.outputDir + path.sep)) return { ok: false, error: { message: `Refusing to write ${file} outside the output folder. This is a bug in route-prerender, please report it.` } };
  try {
    const folder = path.dirname(target);
    if (!madeFolders.has(folder)) {
      mkdirSync(folder, { recursive: true });
      madeFolders.add(folder);
    }
    writeFileSync(target, body);
  } catch (error) {
    // Planning rules out every name we know to be unwritable; the file system may know more.
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    return { ok: false, error: { message: `The body could not be written to ${file}: the file system answered ${code}.`, hint: 'choose param values that make plain, short file names' } };
  }
  return { ...outcome, written: true };
}

class BodyTooLarge extends Error {}

/** Reads the whole body, but stops as soon as it passes the limit. */
async function readBody(response: Response, limit: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge(`The response body is larger than the limit of ${formatMb(limit)} (--max-body).`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function formatMb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${+(bytes / 1024 / 1024).toFixed(2)} MB` : `${bytes} bytes`;
}

/** Request-time data wins over whatever the handler did after touching it. */
function settle(store: RequestStore, outcome: RenderOutcome): RenderOutcome {
  if (store.violation) return { ok: false, error: { message: store.violation.message, at: store.violation.at } };
  if (store.reasons.length > 0) return { ok: true, kind: 'dynamic', reasons: store.reasons };
  return outcome;
}

function isResponse(value: unknown): value is Response {
  return value instanceof Response || (typeof value === 'object' && value !== null && typeof (value as Response).arrayBuffer === 'function' && typeof (value as Response).status === 'number' && typeof (value as Response).headers?.get === 'function');
}

/** Lower-cased header names; several `set-cookie` headers stay separate, as in Next.js's `.meta`. */
function headerRecord(headers: Headers): HeaderRecord {
  const record: HeaderRecord = {};
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') record[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) record['set-cookie'] = cookies.length === 1 ? cookies[0] : cookies;
  return record;
}

function taskError(error: unknown): TaskError {
  if (error instanceof DynamicUsageError) return { message: error.message };
  if (error instanceof EscapedError) return { message: error.message, at: locateInStack(error.stack) };
  const stack = error instanceof Error ? error.stack : undefined;
  return { message: describeError(error), at: locateInStack(stack) };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`;
  return `a thrown ${describeValue(error)}`;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return `a string`;
  if (typeof value === 'object') return `${Array.isArray(value) ? 'an array' : `an object (${Object.getPrototypeOf(value)?.constructor?.name ?? 'no prototype'})`}`;
  return `a ${typeof value}`;
}

/**
 * `fetch` as in a Next.js build: `cache: 'no-store'` (or `'no-cache'`) and `next: { revalidate: 0 }`
 * are request-time; `next: { revalidate: N }` lowers the path's revalidate to the smallest N seen;
 * `next: { tags }` is recorded; the `fetchCache` segment config overrides or forbids as in Next.js.
 */
function installFetch(): void {
  const original = globalThis.fetch;
  type NextInit = RequestInit & { next?: { revalidate?: number | false; tags?: string[] } };
  globalThis.fetch = function fetch(input: string | URL | Request, init?: NextInit): Promise<Response> {
    const store = requestStore.getStore();
    if (store) {
      const cache = (init as { cache?: string } | undefined)?.cache ?? (input instanceof Request ? input.cache : undefined);
      const revalidate = init?.next?.revalidate;
      const url = input instanceof Request ? input.url : String(input);
      const mode = store.fetchCache ?? 'auto';
      for (const tag of init?.next?.tags ?? []) store.tags.add(tag);
      if (mode === 'only-cache' && cache === 'no-store') violate(`cache: 'no-store' used on fetch for ${url} with 'export const fetchCache = 'only-cache'`);
      if (mode === 'only-no-store' && (cache === 'force-cache' || (typeof revalidate === 'number' && revalidate > 0))) {
        violate(`cache: 'force-cache' used on fetch for ${url} with 'export const fetchCache = 'only-no-store'`);
      }
      const forcedCache = mode === 'force-cache' && (revalidate === undefined || revalidate === 0);
      const pass = () => undefined;
      if (mode === 'force-no-store' || mode === 'only-no-store') requestData(`fetchCache = '${mode}'`, pass, pass);
      else if (!forcedCache && (cache === 'no-store' || cache === 'no-cache')) requestData(`fetch({ cache: '${cache}' })`, pass, pass);
      else if (!forcedCache && revalidate === 0) requestData('fetch({ next: { revalidate: 0 } })', pass, pass);
      else if (mode === 'default-no-store' && cache === undefined && revalidate === undefined) requestData("fetchCache = 'default-no-store'", pass, pass);
      // --strict: a fetch must say how it is cached (or run in cached work).
      if (cache !== 'force-cache' && !(typeof revalidate === 'number' && revalidate > 0) && mode !== 'force-cache') strictUse('fetch() without cache');
      if (typeof revalidate === 'number' && revalidate > 0 && (store.revalidate === false || revalidate < store.revalidate)) {
        store.revalidate = revalidate;
      }
    }
    const { next: _next, ...rest } = init ?? {};
    return original(input, init ? rest : undefined);
  };
}
