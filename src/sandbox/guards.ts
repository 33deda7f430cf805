/**
 * What the worker changes about its own process so that route code cannot harm the build: output
 * is captured per task, errors that escape a handler are attributed to the task that scheduled
 * them, `process.exit()` and friends stop this worker only, and short timers are tracked so that
 * the build can wait for them. Installed once, by the worker entry; nothing here runs on import.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { format } from 'node:util';
import { recordEnv, recordingInputs } from './runtime/inputs.js';
import { replaceFunction } from './runtime/patch.js';
import { strictUse } from './runtime/strict.js';

export interface GuardHooks {
  /** Output of route code (of the running task, or of none). */
  log(text: string): void;
  /** An error escaped the code of task `owner` (undefined: no task scheduled it). */
  escaped(error: unknown, owner: number | undefined): void;
  /** Route code is ending the worker through `api`. */
  exiting(api: string): void;
}

const require = createRequire(import.meta.url);

/** Which task scheduled the code that is running now: timers and promises keep it. */
export const taskContext = new AsyncLocalStorage<number>();

/** Timers up to this long, set by a task, are waited for before a build decides no error is to come. */
export const SHORT_TIMER_MS = 1000;
const pendingTimers = new Set<unknown>();
const realSetTimeout = globalThis.setTimeout;

export function installGuards(hooks: GuardHooks): void {
  // What route code prints belongs to the path being built, not to the middle of the report.
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    console[method] = (...args: unknown[]) => hooks.log(format(...args));
  }

  // An error that escapes a handler (a timer, an event, an unawaited promise) fails the path whose
  // code scheduled it, even when it fires after that path's response was returned.
  process.on('uncaughtException', (error) => hooks.escaped(error, taskContext.getStore()));
  process.on('unhandledRejection', (error) => hooks.escaped(error, taskContext.getStore()));

  // Route code cannot end the build: exiting, aborting or signalling this process stops this worker
  // only, and the build thread is told which API did it.
  const exitWorker = process.exit.bind(process);
  const realKill = process.kill.bind(process);
  process.exit = ((code?: number | string | null) => {
    hooks.exiting(`process.exit(${code ?? ''})`);
    return exitWorker(Number(code ?? 0) || 0);
  }) as typeof process.exit;
  process.abort = (() => {
    hooks.exiting('process.abort()');
    return exitWorker(134);
  }) as typeof process.abort;
  process.kill = ((pid: number, signal?: string | number) => {
    if (pid === process.pid || pid === 0 || pid === -process.pid || pid === process.ppid) {
      hooks.exiting(`process.kill(${pid === process.pid ? 'process.pid' : pid}${signal === undefined ? '' : `, ${JSON.stringify(signal)}`})`);
      return exitWorker(1);
    }
    return realKill(pid, signal);
  }) as typeof process.kill;

  // Short timers that route code schedules are tracked (see settleTimers).
  const realClearTimeout = globalThis.clearTimeout;
  const schedule = realSetTimeout as (...parts: unknown[]) => ReturnType<typeof setTimeout>;
  // `promisify(setTimeout)` keeps working: its promisified form is Node's, counted the same way.
  replaceFunction(
    globalThis,
    'setTimeout',
    () => (callback: unknown, delay?: unknown, ...args: unknown[]) => {
      strictUse('setTimeout');
      if (taskContext.getStore() === undefined || typeof callback !== 'function' || (Number(delay) || 0) > SHORT_TIMER_MS) {
        return schedule(callback, delay, ...args);
      }
      const timer = schedule((...rest: unknown[]) => {
        pendingTimers.delete(timer);
        (callback as (...args: unknown[]) => void)(...rest);
      }, delay, ...args);
      pendingTimers.add(timer);
      return timer;
    },
    (promised) => function (this: unknown, ...args: unknown[]) {
      strictUse('setTimeout');
      return promised.apply(this, args);
    },
  );
  globalThis.clearTimeout = ((timer?: Parameters<typeof clearTimeout>[0]) => {
    pendingTimers.delete(timer);
    realClearTimeout(timer);
  }) as typeof clearTimeout;
}

/** Resolves once the short timers of finished tasks have fired (at most SHORT_TIMER_MS later). */
export async function settleTimers(): Promise<void> {
  const deadline = Date.now() + SHORT_TIMER_MS;
  while (pendingTimers.size > 0 && Date.now() < deadline) await new Promise((resolve) => realSetTimeout(resolve, 2));
  // Let rejections from the last callbacks be reported.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => realSetTimeout(resolve, 0));
}

/** What the build relies on and route code must not replace for the routes after it. */
const instrumentation = new Map<string, unknown>();

/** Marks a global (`fetch`) as the sandbox's own: restored after any task that replaces it. */
export function keepGlobal(name: string): void {
  const value = (globalThis as Record<string, unknown>)[name];
  instrumentation.set(name, value);
  // Enumerable, so that a wrapper copying the function's properties carries it (see checkGlobals).
  if (typeof value === 'function') Object.defineProperty(value, KEPT, { value: name, enumerable: true });
}

const KEPT = Symbol('route-prerender kept global');

const PROTOTYPES: Array<[string, object]> = [
  ['Object', Object.prototype], ['Array', Array.prototype], ['String', String.prototype], ['Number', Number.prototype],
  ['Function', Function.prototype], ['Promise', Promise.prototype], ['Date', Date.prototype], ['RegExp', RegExp.prototype],
  ['Response', Response.prototype], ['Request', Request.prototype], ['Headers', Headers.prototype], ['URL', URL.prototype],
];
// Enumerable names only: what assignment adds (`globalThis.x = 1`, `Array.prototype.y = f`) is
// enumerable, the built-ins are not, so each check reads a few names, not hundreds.
let globalNames = new Set<string>();
let prototypeSizes: number[] = [];
const envWrites = new Set<string>();

/**
 * Takes the state that later tasks are checked against, and watches writes to `process.env`.
 * Call once, after every guard and stand-in is installed.
 */
export function snapshotGlobals(): void {
  globalNames = new Set(Object.keys(globalThis));
  prototypeSizes = PROTOTYPES.map(([, prototype]) => Object.keys(prototype).length);
  const env = process.env;
  process.env = new Proxy(env, {
    get(target, name, receiver) {
      if (typeof name === 'string' && recordingInputs()) recordEnv(name);
      return Reflect.get(target, name, receiver);
    },
    // `'NAME' in process.env` reads whether it is set.
    has(target, name) {
      if (typeof name === 'string' && recordingInputs()) recordEnv(name);
      return Reflect.has(target, name);
    },
    set(target, name, value) {
      if (typeof name === 'string') envWrites.add(`process.env.${name}`);
      return Reflect.set(target, name, value);
    },
    deleteProperty(target, name) {
      if (typeof name === 'string') envWrites.add(`process.env.${name}`);
      return Reflect.deleteProperty(target, name);
    },
  });
}

/**
 * Globals a package defines while a module loads, named as packages name their internals (a
 * leading `__`: zod 4's `__zod_globalConfig`, core-js's `__core-js_shared__`), are not reported:
 * every route importing the package shares them under `next build` too. Call once a module has
 * loaded. Any other new global, prototype method or `process.env` write is still named, whenever
 * it is made.
 */
export function acceptLoadedGlobals(): void {
  const names = Object.keys(globalThis);
  if (names.length === globalNames.size) return;
  for (const name of names) if (name.startsWith('__')) globalNames.add(name);
}

/**
 * After a task: what it changed of the shared state (new globals, a replaced `fetch`, a prototype,
 * `process.env`), each as a name. Replaced instrumentation is put back, so that a route cannot
 * change the rules for the routes after it; the other changes stay, and are reported.
 */
export function checkGlobals(): string[] {
  const changed: string[] = [...envWrites];
  envWrites.clear();
  const scope = globalThis as Record<string, unknown>;
  for (const [name, value] of instrumentation) {
    const replacement = scope[name];
    if (replacement === value) continue;
    scope[name] = value;
    // A wrapper that copied our function's properties calls it: React's fetch dedupe in Next.js
    // 13.4 to 14 (`Object.assign(cachedFetch, fetch)`), which every route importing that React
    // installs. It is put back without a word; any other replacement is reported.
    if (typeof replacement !== 'function' || (replacement as unknown as Record<symbol, unknown>)[KEPT] !== name) changed.push(`globalThis.${name} (put back)`);
  }
  const names = Object.keys(globalThis);
  if (names.length !== globalNames.size) {
    for (const name of names) if (!globalNames.has(name)) changed.push(`globalThis.${name}`);
    globalNames = new Set(names);
  }
  PROTOTYPES.forEach(([label, prototype], i) => {
    const size = Object.keys(prototype).length;
    if (size !== prototypeSizes[i]) {
      changed.push(`${label}.prototype`);
      prototypeSizes[i] = size;
    }
  });
  return changed;
}

/** Child processes started by route code, with the route that started them. */
const children = new Set<{ child: import('node:child_process').ChildProcess; owner: string }>();

/**
 * Records every child process route code starts (`spawn`, `exec`, `execFile`, `fork`), so that
 * none outlives the build. `owner` names the route running when it was started.
 */
export function trackChildren(owner: () => string, told: (pid: number, owner: string, command: string, running: boolean) => void = () => undefined): void {
  const track = (child: import('node:child_process').ChildProcess | undefined) => {
    if (!child?.spawnargs) return;
    const entry = { child, owner: owner() };
    children.add(entry);
    const command = child.spawnargs.join(' ').slice(0, 80);
    // The build thread is told too: if this worker is terminated (a time-out), it stops the child.
    if (child.pid !== undefined) told(child.pid, entry.owner, command, true);
    child.once('exit', () => {
      children.delete(entry);
      if (child.pid !== undefined) told(child.pid, entry.owner, command, false);
    });
  };
  for (const name of ['spawn', 'exec', 'execFile', 'fork']) {
    replaceFunction(
      require('node:child_process') as object,
      name,
      (real) => function (this: unknown, ...args: unknown[]) {
        const child = real.apply(this, args) as import('node:child_process').ChildProcess;
        track(child);
        return child;
      },
      // `promisify(exec)`: a promise that holds its child.
      (custom) => function (this: unknown, ...args: unknown[]) {
        const promise = custom.apply(this, args) as Promise<unknown> & { child?: import('node:child_process').ChildProcess };
        track(promise.child);
        return promise;
      },
    );
  }
  syncBuiltinESMExports();
}

/** Stops the child processes still running; returns what each was, for the report. */
export function stopChildren(): string[] {
  const stopped: string[] = [];
  for (const { child, owner } of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGKILL');
    stopped.push(`${owner} left a child process running (pid ${child.pid}: ${child.spawnargs.join(' ').slice(0, 80)}); it was stopped when the build ended`);
  }
  children.clear();
  return stopped;
}
