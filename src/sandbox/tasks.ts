/**
 * The two tasks a worker runs: `analyze` (load a route's module, apply the module-level rules,
 * generate its params) and `render` (run GET for one path and write its body).
 */
import crypto, { createHash } from 'node:crypto';

/** The one-shot hash where Node.js has it (20.12+): no Hash object per body. */
const sha256: (body: Uint8Array) => string = typeof (crypto as { hash?: unknown }).hash === 'function'
  ? (body) => (crypto as unknown as { hash(algorithm: string, data: Uint8Array, encoding: 'hex'): string }).hash('sha256', body, 'hex')
  : (body) => createHash('sha256').update(body).digest('hex');
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { exportLocation, readSegmentConfig } from '../config.js';
import { decideRoute } from '../decide.js';
import { errorText, HINT_KEY, missingModuleHint } from '../errors.js';
import { fileSystemSays } from '../write.js';
import { checkStaticParams, withBasePath, type RejectedPath } from '../params.js';
import { hasFile, isStoredStatus } from '../status.js';
import type { Params, SegmentConfig } from '../types.js';
import { BodyTooLarge, formatLimit, headerRecord, isResponse, readBody } from './body.js';
import { describeError, describeValue } from './describe.js';
import { acceptLoadedGlobals } from './guards.js';
import type { AnalyzeOutcome, RenderOutcome, Task, TaskError, WorkerSetup } from './protocol.js';
import { locateInStack, prepareSourceMap } from './runtime/locate.js';
import { isNavigationSignal } from './runtime/next-navigation.js';
import { createIncomingRequest } from './runtime/request.js';
import { DynamicUsageError, requestStore, type RequestStore } from './runtime/store.js';
import { syncAndAsync } from './runtime/thenable.js';
import { enterPhase } from './runtime/inputs.js';

type AnalyzeTask = Extract<Task, { type: 'analyze' }>;
type RenderTask = Extract<Task, { type: 'render' }>;

/** An error thrown outside the handler's own promise chain (a timer, an event emitter). */
export class EscapedError extends Error {
  constructor(readonly original: unknown) {
    super(describeError(original));
    this.stack = original instanceof Error ? original.stack : undefined;
  }
}

/** What route code threw, as a route error with the place in the user's code. */
export function taskError(error: unknown, late = false): TaskError {
  if (error instanceof DynamicUsageError) return { code: 'HANDLER_THREW', message: error.message };
  if (error instanceof EscapedError) return { ...errorText('ESCAPED_ERROR', error.message, late), at: locateInStack(error.stack) };
  const stack = error instanceof Error ? error.stack : undefined;
  const failure: TaskError = { ...errorText('HANDLER_THREW', describeError(error)), at: locateInStack(stack) };
  const own = error instanceof Error ? (error as Error & Record<symbol, unknown>)[Symbol.for(HINT_KEY)] : undefined;
  const hint = typeof own === 'string' ? own : missingModuleHint(failure.message);
  return hint ? { ...failure, hint } : failure;
}

export function createTasks(setup: WorkerSetup) {
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  const load = (entry: string): Promise<Record<string, unknown>> => {
    let loaded = modules.get(entry);
    if (!loaded) {
      // What the module defined on globalThis as it loaded is shared as under next build (see acceptLoadedGlobals).
      loaded = (import(pathToFileURL(entry).href) as Promise<Record<string, unknown>>).then((module) => {
        acceptLoadedGlobals();
        return module;
      });
      modules.set(entry, loaded);
    }
    return loaded;
  };
  const madeFolders = new Set<string>();

  /** Loads a route's module, applies the module-level rules, and generates its params. */
  async function analyze(task: AnalyzeTask): Promise<AnalyzeOutcome> {
    const inspected = await inspect(task);
    if (inspected.ok && task.loadOnly) prepareSourceMap(task.entry);
    if (!inspected.ok || task.loadOnly) return inspected.ok ? { ok: true, config: inspected.config, reasons: [] } : inspected;
    const decision = decideRoute(task.route, inspected, readFileSync(task.source, 'utf8'));
    if ('error' in decision) return { ok: false, error: decision.error };
    if (!decision.run) return { ok: true, config: inspected.config, reasons: decision.reasons };
    const { config, exports } = inspected;
    const optedIn = config.dynamic === 'force-static' || config.dynamic === 'error' || (exports.includes('revalidate') && (config.revalidate === false || config.revalidate > 0)) || exports.includes('generateStaticParams');
    if (!decision.needsParams) return { ok: true, config, params: [{}], optedIn };
    try {
      const generated = await params(task);
      if (generated.ok) return { ok: true, config, params: generated.params, optedIn, ...(generated.rejected.length > 0 ? { rejected: generated.rejected } : {}), ...(generated.incomplete !== undefined ? { incomplete: generated.incomplete } : {}) };
      // With dynamicParams = false, Next.js 15 and later fail the build for a param left out too.
      if (config.dynamicParams === false && generated.error.missingParam !== undefined) {
        const { missingParam: _left, ...error } = generated.error;
        return { ok: false, error };
      }
      return generated;
    } catch (error) {
      const failure = taskError(error);
      return { ok: false, error: { ...failure, ...errorText('PARAMS_THREW', failure.message) } };
    }
  }

  type Inspected = { ok: true; exports: string[]; functions: string[]; config: SegmentConfig } | { ok: false; error: TaskError };

  async function inspect(task: AnalyzeTask): Promise<Inspected> {
    let mod: Record<string, unknown>;
    try {
      mod = await load(task.entry);
    } catch (error) {
      const failure = taskError(error);
      // A module that is not there keeps the hint taskError found for it.
      return { ok: false, error: { ...failure, ...errorText('MODULE_THREW', failure.message), ...(failure.hint ? { hint: failure.hint } : {}) } };
    }
    const exports = Object.keys(mod).sort();
    const functions = exports.filter((name) => typeof mod[name] === 'function');
    const check = readSegmentConfig(mod);
    if (!check.ok) return { ok: false, error: { ...check.error, at: exportLocation(task.source, check.name) } };
    return { ok: true, exports, functions, config: check.config };
  }

  async function params(task: AnalyzeTask): Promise<{ ok: true; params: Params[]; rejected: RejectedPath[]; incomplete?: string } | { ok: false; error: TaskError }> {
    const mod = await load(task.entry);
    const generate = mod.generateStaticParams as (arg: { params: Params }) => unknown;
    enterPhase('params');
    const value = await generate({ params: {} });
    enterPhase('module');
    const check = checkStaticParams(value, task.route.segments, task.route.pattern);
    if (!check.ok) return { ok: false, error: { code: 'PARAMS_INVALID', message: check.message, hint: check.hint, at: exportLocation(task.source, 'generateStaticParams'), ...(check.missing ? { missingParam: check.missing } : {}) } };
    return { ok: true, params: check.params, rejected: check.rejected, ...(check.incomplete !== undefined ? { incomplete: check.incomplete } : {}) };
  }

  async function render(task: RenderTask): Promise<RenderOutcome> {
    const mod = await load(task.entry);
    const GET = mod.GET as (request: Request, context: { params: unknown }) => unknown;
    const store: RequestStore = { pattern: task.pattern, mode: task.config.dynamic, reasons: [], revalidate: task.config.revalidate, after: [], fetchCache: task.config.fetchCache, tags: new Set(), strict: setup.strict, cachedFetches: setup.cachedFetches, params: task.params };
    const request = createIncomingRequest(`http://localhost:3000${withBasePath(setup.basePath ?? '', task.requestPath)}`, setup.basePath ?? '');
    // A route without dynamic segments gets `{ params: undefined }`, as from next build (14, 15 and 16).
    const context = { params: task.pattern.includes('[') ? syncAndAsync({ ...task.params }) : undefined };

    enterPhase('path');
    return requestStore.run(store, async (): Promise<RenderOutcome> => {
      let response: unknown;
      try {
        response = await GET(request, context);
      } catch (error) {
        if (!isNavigationSignal(error)) return settle(store, { ok: false, error: taskError(error) });
        response = new Response(null, { status: error.status, headers: error.location === undefined ? {} : { location: error.location } });
      }
      if (!isResponse(response)) {
        return settle(store, { ok: false, error: { ...errorText('NO_RESPONSE', task.pattern, describeValue(response)), at: exportLocation(task.source, 'GET') } });
      }
      let body: Uint8Array;
      try {
        body = await readBody(response, setup.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLarge) return settle(store, { ok: false, error: errorText('BODY_TOO_LARGE', formatLimit(error.limit)) });
        const failure = taskError(error);
        return settle(store, { ok: false, error: { ...failure, ...errorText('BODY_FAILED', failure.message) } });
      }
      for (const callback of store.after) await callback();
      const outcome = settle(store, {
        ok: true,
        kind: 'response',
        status: response.status,
        headers: JSON.stringify(headerRecord(response.headers)),
        size: body.byteLength,
        sha256: sha256(body),
        revalidate: store.revalidate,
        written: false,
        ...(store.tags.size > 0 ? { tags: [...store.tags].sort() } : {}),
      });
      if (!outcome.ok || outcome.kind !== 'response' || !isStoredStatus(outcome.status) || !hasFile(outcome.status)) return outcome;
      return writeBody(task.pattern, task.file, body, outcome);
    });
  }

  /**
   * Bodies are written here, synchronously: a worker thread has nothing else to do meanwhile, and
   * many small files are written fastest that way. The bytes never travel to the build thread.
   */
  function writeBody(pattern: string, file: string, body: Uint8Array, outcome: Extract<RenderOutcome, { kind: 'response' }>): RenderOutcome {
    const target = path.join(setup.outputDir, ...file.split('/'));
    // Every file name was checked when it was planned; this guards the invariant.
    if (!target.startsWith(setup.outputDir + path.sep)) {
      return { ok: false, error: { code: 'WRITE_FAILED', message: `Nothing was written for this path of ${pattern}: its file ${file} would be outside the output folder.`, hint: 'remove `..` and `/` from the values generateStaticParams returns for this route' } };
    }
    try {
      const folder = path.dirname(target);
      if (!madeFolders.has(folder)) {
        mkdirSync(folder, { recursive: true });
        madeFolders.add(folder);
      }
      writeFileSync(target, body);
    } catch (error) {
      // Planning rules out every name we know to be unwritable; the file system may know more.
      const says = fileSystemSays(error);
      const failure = errorText('WRITE_FAILED', file, says?.why ?? (error as NodeJS.ErrnoException).code ?? 'an error');
      return { ok: false, error: says ? { ...failure, hint: says.hint } : failure };
    }
    return { ...outcome, written: true };
  }

  return {
    perform: (task: Task): Promise<AnalyzeOutcome | RenderOutcome> => (task.type === 'analyze' ? analyze(task) : render(task)),
  };
}

/** Request-time data wins over whatever the handler did after touching it. */
function settle(store: RequestStore, outcome: RenderOutcome): RenderOutcome {
  if (store.violation) return { ok: false, error: { code: 'DYNAMIC_FORBIDDEN', message: store.violation.message, at: store.violation.at } };
  if (store.reasons.length > 0) return { ok: true, kind: 'dynamic', reasons: store.reasons };
  return outcome;
}
