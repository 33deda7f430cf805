/**
 * The worker thread's task runner (loaded by worker.ts): installs the guards and the
 * instrumentation, then runs the tasks it is sent one at a time and sends results back in batches.
 * All instrumentation — the request store, the patched `fetch` and `console`, the `next/*`
 * stand-ins — lives in worker threads only.
 */
import path from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { checkGlobals, installGuards, keepGlobal, settleTimers, snapshotGlobals, stopChildren, taskContext, trackChildren } from './guards.js';
import { BEAT, type ResultMessage, type TaskMessage, type WorkerNotice, type WorkerSetup } from './protocol.js';
import { installNextEnvironment } from './runtime/environment.js';
import { instrumentFetch } from './runtime/fetch.js';
import { setBundleDir } from './runtime/locate.js';
import { installStrictWatch } from './runtime/strict.js';
import { beginInputs, endInputs, installInputWatch } from './runtime/inputs.js';
import { describeError } from './describe.js';
import { STAND_IN_KEY } from '../next-exports.js';
import * as nextCache from './runtime/next-cache.js';
import * as nextHeaders from './runtime/next-headers.js';
import * as nextNavigation from './runtime/next-navigation.js';
import { ImageResponse as MissingImageResponse } from './runtime/next-og-missing.js';
import * as nextServer from './runtime/next-server.js';
import { createTasks, EscapedError, taskError } from './tasks.js';
import { collectGarbage, GarbagePacer } from '../memory.js';
import type { SetupMessage } from './thread.js';

type Incoming = { tasks: TaskMessage[] } | { ping: number; stop?: boolean };
const port = parentPort!;
// Messages are taken from the start: a worker started early (thread.ts) gets its setup as the first
// one, and the tasks behind it wait until the worker is set up.
const early: Incoming[] = [];
let receive: (message: Incoming | SetupMessage) => void = (message) => early.push(message as Incoming);
port.on('message', (message: Incoming | SetupMessage) => receive(message));
const setup = (workerData as { early?: true }).early ? await setupMessage() : (workerData as WorkerSetup);
/** A worker whose heap is this large after loading a route and generating its params is replaced. */
const HEAVY_HEAP_MB = setup.heavyHeapMb ?? 192;
/** A heap this large after an analyze task is collected at once (a million params sent are garbage). */
const GROWN_HEAP_MB = Math.min(64, HEAVY_HEAP_MB);

function heapMb(): number {
  return getHeapStatistics().total_heap_size / 2 ** 20;
}

/** The setup a worker started early is sent, with the environment route code sees. */
function setupMessage(): Promise<WorkerSetup> {
  return new Promise((resolve) => {
    receive = (message) => {
      if (!('setup' in message)) return void early.push(message);
      for (const name of Object.keys(process.env)) delete process.env[name];
      Object.assign(process.env, message.env);
      resolve(message.setup);
    };
  });
}
setBundleDir(setup.bundleDir);

// process.cwd() is the project root in route code, as under `next build`. A relative path given
// to `fs` still resolves from the process's folder (a thread cannot have its own): the prerender
// command runs builds in the project root, so that both agree there.
const processFolder = process.cwd.bind(process);
process.cwd = () => setup.projectRoot;

interface Running {
  id: number;
  logs: string[];
  crash: (error: unknown) => void;
}
let running: Running | undefined;

installGuards({
  log(text) {
    if (running) running.logs.push(text);
    else port.postMessage({ log: text } satisfies WorkerNotice);
  },
  escaped(error, owner) {
    if (running && (owner === undefined || owner === running.id)) running.crash(new EscapedError(error));
    else if (owner !== undefined) port.postMessage({ late: { id: owner, error: taskError(new EscapedError(error), true) } } satisfies WorkerNotice);
    else port.postMessage({ log: `Uncaught error outside any route: ${describeError(error)}` } satisfies WorkerNotice);
  },
  exiting(api) {
    port.postMessage({ exiting: api } satisfies WorkerNotice);
  },
});
globalThis.fetch = instrumentFetch(globalThis.fetch);
installNextEnvironment(setup.projectRoot);
// The instrumented next/* modules, read by the generated `next/*` modules of every route (bundle.ts);
// what they do not provide comes from the app's own next, else from these fallbacks.
Object.defineProperty(globalThis, Symbol.for(STAND_IN_KEY), {
  value: {
    'next/server': nextServer,
    'next/headers': nextHeaders,
    'next/navigation': nextNavigation,
    'next/cache': nextCache,
    fallbacks: { 'next/server': { ImageResponse: MissingImageResponse, URLPattern: (globalThis as { URLPattern?: unknown }).URLPattern } },
  },
});
installStrictWatch();
installInputWatch(setup.projectRoot, setup.bundleDir, setup.outputDir, processFolder);

let lastTask: TaskMessage['task'] | undefined;
// Worded only when a route starts a child process.
trackChildren(
  () => (lastTask ? `${lastTask.type === 'render' ? lastTask.requestPath : lastTask.route.pattern} (${path.relative(setup.projectRoot, lastTask.source)})` : 'code outside any route'),
  (pid, owner, command, running) => port.postMessage({ child: { pid, owner, command, running } } satisfies WorkerNotice),
);
keepGlobal('fetch');
keepGlobal('setTimeout');
keepGlobal('clearTimeout');
snapshotGlobals();

const tasks = createTasks(setup);
/** Routes already warned about a change, with the name: one warning each. */
const warned = new Set<string>();
const beat = new Float64Array(setup.beat);
const queue: Array<TaskMessage | { ping: number; stop?: boolean }> = [];
let results: ResultMessage[] = [];
let lastFlush = Date.now();
let working = false;
/** The garbage of rendered paths is collected once it is 16 MB (or half the live heap): a worker's heap stays near what it holds. */
const pacer = new GarbagePacer(16 * 2 ** 20);

// Set up: the build thread counts a worker that dies before this as a failure to start.
port.postMessage({ ready: true } satisfies WorkerNotice);

receive = (message) => {
  if ('tasks' in message) for (const task of message.tasks) queue.push(task);
  else if ('ping' in message) queue.push(message);
  if (!working) void work();
};
for (const message of early.splice(0)) receive(message);

/** Runs queued tasks one at a time; results go back in batches. */
async function work(): Promise<void> {
  working = true;
  while (queue.length > 0) {
    const next = queue.shift()!;
    if ('ping' in next) {
      flush();
      await settleTimers();
      // The build is ending: no child process of a route may outlive it.
      if (next.stop) for (const warning of stopChildren()) port.postMessage({ warning } satisfies WorkerNotice);
      port.postMessage({ pong: next.ping } satisfies WorkerNotice);
      continue;
    }
    const started = performance.now();
    const result = await runTask(next);
    if (next.task.type === 'render') {
      result.ms = performance.now() - started;
      pacer.tick();
    }
    results.push(result);
    // A task that grew the heap (generateStaticParams returned many entries) leaves it full of what
    // was sent: flush the results, collect, and if the heap is still far beyond what route code
    // needs, ask to be replaced by a fresh worker.
    if (next.task.type === 'analyze' && heapMb() > GROWN_HEAP_MB) {
      flush();
      collectGarbage();
      const heap = heapMb();
      if (heap > HEAVY_HEAP_MB) port.postMessage({ heavy: Math.round(heap) } satisfies WorkerNotice);
    }
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
  lastTask = task;
  const logs: string[] = [];
  let crash!: (error: unknown) => void;
  const crashed = new Promise<never>((_, reject) => (crash = reject));
  running = { id, logs, crash };
  beat[BEAT.since] = Date.now();
  beat[BEAT.running] = id;
  let outcome: ResultMessage['outcome'];
  beginInputs();
  try {
    outcome = await Promise.race([taskContext.run(id, () => tasks.perform(task)), crashed]);
  } catch (error) {
    outcome = { ok: false, error: taskError(error) };
  }
  const read = endInputs();
  beat[BEAT.running] = 0;
  beat[BEAT.finished] = id;
  running = undefined;
  // Shared state is checked when the route's run of tasks ends (the next task is another route's,
  // or there is none yet), not after each of its paths: what a route changes is put back before
  // another route runs, and a route that changes it is named all the same.
  const following = queue[0];
  const runGoesOn = task.type === 'render' && following !== undefined && 'task' in following && following.task.source === task.source;
  const changed = runGoesOn ? [] : checkGlobals().filter((name) => !warned.has(`${task.source}|${name}`));
  if (changed.length > 0) {
    for (const name of changed) warned.add(`${task.source}|${name}`);
    const route = task.type === 'render' ? task.pattern : task.route.pattern;
    port.postMessage({ warning: `${route} (${path.relative(setup.projectRoot, task.source)}) changed ${changed.join(', ')}; output that depends on it depends on the order routes run in.` } satisfies WorkerNotice);
  }
  const inputs = read.module || read.params || read.path ? { inputs: read } : {};
  return { id, outcome, logs, ...inputs };
}
