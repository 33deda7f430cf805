/**
 * Starting a worker thread: its flags and limits, and one thread started early. A worker takes
 * 0.08–0.1 s to start, most of it Node.js's own start-up in a thread, so the CLI starts one before
 * it loads the library (and a build as soon as it has its options); the first build of the process
 * with the same limits takes it and sends it its setup. For an incremental build, that worker
 * first looks at the previous build's files again (see `lookAgain`). That one waiting thread, and
 * its look until a build claims it, are the module's only state, on purpose: they belong to the
 * process, not to a build. This module loads nothing else of the library (types aside) but the
 * memory rules a starting worker must keep.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type WorkerOptions } from 'node:worker_threads';
import type { WorkerSetup } from './protocol.js';
import type { LookedAgain, SharedLook } from '../look.js';
import { workerExecArgv } from './scheduler.js';
import { libraryFile } from '../places.js';
import { holdAgain } from '../memory.js';

const WORKER_URL = libraryFile('sandbox/worker.js');

/**
 * The young generation of each worker's heap, in MB. V8's default lets a worker that renders
 * thousands of paths keep tens of MB of short-lived garbage committed; at 8 MB the peak memory of a
 * 100,000-path build drops by 25–50 MB (two workers), and neither JSON nor `marked` routes take
 * more CPU (measured side by side on one-route-10k, one-route-100k and markdown-3k).
 */
const WORKER_YOUNG_GENERATION_MB = 8;

/** The memory limits of a worker: `maxMemoryMb`, when given, for its heap. */
export function workerLimits(maxMemoryMb: number | undefined): WorkerOptions['resourceLimits'] {
  return { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB, ...(maxMemoryMb ? { maxOldGenerationSizeMb: maxMemoryMb } : {}) };
}

/** A worker's heap limit unless the build sets one (`--max-memory`). */
export const DEFAULT_MAX_MEMORY_MB = 2048;

/** The flags Node accepted for a worker, once known. */
let accepted: string[] | undefined;

/**
 * A worker with the build's Node flags, less the code of `node -e`. An explicit list is
 * validated by Node, which refuses V8 and process-wide flags (`--max-old-space-size`): those
 * it names are left out, as Node itself does when a worker inherits the flags.
 */
export function startWorker(options: WorkerOptions): Worker {
  let flags: string[] = accepted ?? workerExecArgv(process.execArgv);
  for (;;) {
    try {
      const worker = new Worker(WORKER_URL, { ...options, execArgv: flags });
      accepted = flags;
      // Node.js 20 sets V8's flags again as the thread starts (see holdYoungGeneration).
      worker.once('online', holdAgain);
      return worker;
    } catch (error) {
      const named = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_INVALID_EXEC_ARGV' ? /flags: (.*)$/.exec((error as Error).message)?.[1] : undefined;
      if (!named) throw error;
      const refused = new Set(named.split(', '));
      const kept: string[] = flags.filter((flag) => !refused.has(flag));
      if (kept.length === flags.length) throw error;
      flags = kept;
    }
  }
}

/** What a worker started early is sent first: what it would otherwise have been started with. */
export interface SetupMessage {
  setup: WorkerSetup;
  env: Record<string, string>;
}

/** The worker started early, until a build takes it. */
let waiting: { worker: Worker; maxMemoryMb: number | undefined; gone: () => void } | undefined;

/**
 * What the worker started early for an incremental build into `out` finds of its previous build's
 * files (see `lookAgain`): its answer, and where the look is while it goes on (see `helpLook`).
 */
export interface Look {
  found: Promise<LookedAgain | undefined>;
  shared: () => SharedLook | undefined;
}

let looked: (Look & { out: string }) | undefined;

/** What the early worker says of its look: where it is as it begins, then its answer (null when it failed). */
type LookMessage = { lookShared: SharedLook } | { looked: LookedAgain | null };

/**
 * The early worker's look at the previous build into `out`, for the build starting now: every build
 * claims at its start, so a look is only ever used by the first build after it was made (one made
 * for another output is dropped).
 */
export function claimLook(out: string): Look | undefined {
  const claimed = looked;
  looked = undefined;
  return claimed?.out === out ? claimed : undefined;
}

/**
 * Starts a worker now for a build whose workers have `maxMemoryMb`, unless one waits already. It
 * does not keep the process alive, and one that stops before a build takes it is forgotten; a
 * build that fails before it needs a worker leaves it waiting for the next.
 */
export function startEarly(maxMemoryMb: number | undefined, look?: { out: string; cwd: string }): void {
  if (waiting) return;
  // The look's messages have a port of their own, which the build thread reads when it needs to
  // know where the look is, even while it is too busy for events.
  const channel = look ? new MessageChannel() : undefined;
  let worker: Worker;
  try {
    worker = startWorker({ workerData: { early: true, ...(look ? { look: { ...look, port: channel!.port2 } } : {}) }, transferList: channel ? [channel.port2] : [], stdout: true, stderr: true, resourceLimits: workerLimits(maxMemoryMb) });
  } catch {
    channel?.port1.close();
    return; // the build starts its own
  }
  if (channel) {
    // An incremental build: first the worker looks at the files its previous build read again.
    const port = channel.port1;
    let shared: SharedLook | undefined;
    let ended = false;
    let answer!: (message: LookMessage) => void;
    const found = new Promise<LookedAgain | undefined>((resolve) => {
      const end = (value: LookedAgain | undefined) => {
        if (ended) return;
        ended = true;
        shared = undefined;
        port.close();
        resolve(value);
      };
      answer = (message) => {
        if ('lookShared' in message) shared = message.lookShared;
        if ('looked' in message) end(message.looked ?? undefined);
      };
      port.on('message', answer);
      port.unref();
      worker.once('exit', () => end(undefined));
      worker.once('error', () => end(undefined));
    });
    // Messages not yet delivered as events are read here: the build thread asks in the middle of its own work.
    const where = () => {
      while (!shared && !ended) {
        const message = receiveMessageOnPort(port);
        if (!message) break;
        answer(message.message as LookMessage);
      }
      return shared;
    };
    looked = { out: look!.out, found, shared: where };
  }
  const gone = () => {
    if (waiting?.worker === worker) waiting = undefined;
  };
  worker.once('exit', gone);
  worker.once('error', gone);
  worker.unref();
  waiting = { worker, maxMemoryMb, gone };
}

/** The worker started early, sent its setup, when it has these limits (then it is this build's). */
export function takeEarly(maxMemoryMb: number | undefined, message: SetupMessage): Worker | undefined {
  const early = waiting;
  if (!early || early.maxMemoryMb !== maxMemoryMb) return undefined;
  waiting = undefined;
  early.worker.off('exit', early.gone);
  early.worker.off('error', early.gone);
  early.worker.ref();
  early.worker.postMessage(message);
  return early.worker;
}
