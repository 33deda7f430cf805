/**
 * The one door to the sandbox: a pool of worker threads that run route code. Nothing else in the
 * build thread knows how isolation works.
 *
 * Tasks go to workers in batches and results come back in batches, so a worker always has its next
 * task at hand and the build thread is not woken once per path. Each worker runs one task at a
 * time and publishes, in shared memory, which task it is running and since when: a watchdog reads
 * it to stop a task at the time limit (its worker is replaced, the tasks queued behind it go to
 * another worker), and a worker that dies (`process.exit()`, out of memory) is known to have died
 * in that task.
 */
import { readFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { errorText } from '../errors.js';
import { BEAT, type Outcome, type ResultMessage, type Task, type TaskError, type TaskInputs, type TaskMessage, type WorkerNotice, type WorkerSetup } from './protocol.js';
import { batchSize, lookahead, moreWorkers, TIMED_TASKS, typicalTaskMs, WORTH_A_WORKER_MS } from './scheduler.js';
import { startWorker, takeEarly, workerLimits } from './thread.js';
import { checkWorker, watchInterval } from './watchdog.js';

/** Set on top of route code's environment, as under `next build`. */
export const BUILD_ENV = { NODE_ENV: 'production', NEXT_PHASE: 'phase-production-build' } as const;

export interface SandboxOptions extends Omit<WorkerSetup, 'beat'> {
  /** The environment of route code (NODE_ENV and NEXT_PHASE are set on top, as under next build). */
  env?: Record<string, string | undefined>;
  /** Number of worker threads. */
  size: number;
  /** How many of them start for light tasks; the rest only for heavy ones (see `moreWorkers`). All when absent. */
  light?: number;
  /** Per-task time limit. */
  timeoutMs: number;
  /** How many more times a task that timed out is tried, each in a fresh worker. */
  retries?: number;
  /** Heap limit of each worker, in MB. */
  maxMemoryMb?: number;
  /** Output that route code wrote outside any task (module scope of a later import, late timers). */
  onStrayOutput?: (text: string) => void;
}

export interface TaskResult<T extends Task> {
  outcome: Outcome<T>;
  logs: string[];
  /** The task's id, for `lateError`. */
  id: number;
  /** What the task's code read (files, environment, network, clock), when it read anything. */
  inputs?: TaskInputs;
}

interface Job {
  id: number;
  task: Task;
  resolve: (result: TaskResult<Task>) => void;
  /** What the worker wrote to stdout/stderr directly while this job ran. */
  output: string[];
  attempts: number;
}

interface Slot {
  worker: Worker;
  /** Jobs sent to this worker and not answered yet, in the order it runs them. */
  jobs: Map<number, Job>;
  /** Shared with the worker: [running task id or 0, when it started (ms), last finished id]. */
  beat: Float64Array;
  /** When the worker last answered or was given work. */
  lastProgress: number;
  dead?: boolean;
  /** The API route code used to end the worker (`process.exit(7)`), told just before it ends. */
  exiting?: string;
  /** The worker finished setting up. */
  ready?: boolean;
  /** A memory reading of the worker is under way. */
  measuring?: boolean;
  /** Child processes route code started in this worker and that are still running, by pid. */
  children: Map<number, { owner: string; command: string }>;
}


/** A task's time limit of its own, shorter than the build's (a render's `limitMs`), if it has one. */
function ownLimit(task: Task): number | undefined {
  return task.type === 'render' ? task.limitMs : undefined;
}

export class Sandbox {
  readonly #options: SandboxOptions;
  /** What routes did that the report should mention, once each. */
  readonly warnings = new Set<string>();
  /** Workers being terminated (replaced during the build), until what they left is stopped. */
  readonly #ending = new Set<Promise<void>>();
  /** How many worker threads were started (replacements included). */
  started = 0;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  /** Errors that arrived after their task's result, by task id. */
  readonly #late = new Map<number, TaskError>();
  readonly #pings = new Map<number, () => void>();
  /** Where `runAll` tasks come from: made on demand, as workers free up. */
  #source?: { next: number; count: number; make: (index: number) => Task; onResult: (index: number, result: TaskResult<Task>) => void; left: number; done: () => void };
  #watchdog?: NodeJS.Timeout;
  #nextId = 1;
  #closed = false;
  /** Workers in a row that died before they were set up; past a few, the sandbox gives up. */
  #failedStarts = 0;
  #startFailure?: TaskError;

  constructor(options: SandboxOptions) {
    this.#options = options;
  }

  /**
   * Starts one worker now, so that it boots while the build does other work; the others start when
   * the measured work says they would finish it sooner (see `#grow`).
   */
  start(): void {
    if (this.#slots.length === 0) this.#spawn();
  }

  /**
   * Runs one task. Tasks given in one go are sent together (the workers are fed once the caller's
   * code has run); with `now`, this one goes to a worker at once, even while the caller's loop goes on.
   */
  run<T extends Task>(task: T, now = false): Promise<TaskResult<T>> {
    if (this.#closed) throw new Error('The sandbox is closed');
    return new Promise((resolve) => {
      if (this.#startFailure) return resolve({ outcome: { ok: false, error: this.#startFailure } as Outcome<T>, logs: [], id: this.#nextId++ });
      this.#queue.push({ id: this.#nextId++, task, resolve: resolve as Job['resolve'], output: [], attempts: 0 });
      if (now) this.#pump();
      else queueMicrotask(() => this.#pump());
    });
  }

  /**
   * Runs `count` tasks, made by `make(index)` only when a worker is about to need them, and calls
   * `onResult(index, result)` as each finishes, so that 100k paths never become 100k pending tasks.
   */
  runAll<T extends Task>(count: number, make: (index: number) => T, onResult: (index: number, result: TaskResult<T>) => void): Promise<void> {
    if (this.#closed) throw new Error('The sandbox is closed');
    if (this.#source) throw new Error('runAll is already running');
    if (count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#source = {
        next: 0,
        count,
        make,
        onResult: onResult as (index: number, result: TaskResult<Task>) => void,
        left: count,
        done: () => {
          this.#source = undefined;
          resolve();
        },
      };
      this.#pump();
    });
  }

  /** Moves tasks from the `runAll` source into the queue, enough to fill every worker. */
  #pull(): void {
    const source = this.#source;
    if (!source) return;
    const want = lookahead(this.#options.size);
    while (source.next < source.count && this.#queue.length < want) {
      const index = source.next++;
      this.#queue.push({
        id: this.#nextId++,
        task: source.make(index),
        resolve: (result) => {
          source.onResult(index, result);
          if (--source.left === 0) source.done();
        },
        output: [],
        attempts: 0,
      });
    }
  }

  /**
   * An error thrown by the task's code after its result was returned (a timer, a late rejection),
   * if one arrived. Call `drain()` first to receive those already thrown.
   */
  lateError(id: number): TaskError | undefined {
    return this.#late.get(id);
  }

  /**
   * Waits until every worker has delivered what it sent so far (and its short timers fired). With
   * `stop`, each also stops the child processes route code left running (reported in `warnings`).
   */
  async drain(stop = false): Promise<void> {
    // A worker still in a task (stuck, or stopped by Ctrl-C) cannot answer before it ends.
    const answering = stop ? this.#live().filter((slot) => slot.ready && slot.beat[BEAT.running] === 0) : this.#live();
    await Promise.all(answering.map((slot) => new Promise<void>((resolve) => {
      const ping = this.#nextId++;
      this.#pings.set(ping, resolve);
      slot.worker.once('exit', () => resolve());
      slot.worker.postMessage({ ping, stop });
    })));
  }

  /** Ends every worker, after each has stopped what its routes left running (at most 2 s). */
  async close(): Promise<void> {
    await (await this.end()).ended;
  }

  /**
   * Ends every worker as `close` does, but returns once no route code runs any more (each worker
   * stopped what its routes left running, and was told to stop): `ended` settles once the threads
   * are gone (a worker's heap takes 10-20 ms to free) and the child processes they left are stopped.
   * A build does other work meanwhile.
   */
  async end(): Promise<{ ended: Promise<void> }> {
    if (!this.#closed && this.#live().some((slot) => slot.ready)) {
      await Promise.race([this.drain(true), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    }
    this.#closed = true;
    clearInterval(this.#watchdog);
    clearTimeout(this.#growLater);
    const slots = this.#slots.splice(0);
    for (const slot of slots) slot.dead = true;
    const terminated = Promise.all(slots.map((slot) => slot.worker.terminate()));
    const ended = terminated.then(async () => {
      for (const slot of slots) this.#stopChildren(slot);
      // Workers replaced during the build are gone too, with what they left running.
      await Promise.all(this.#ending);
    });
    ended.catch(() => undefined); // awaited by the caller
    return { ended };
  }

  /**
   * Stops the child processes a terminated worker left (a worker ending normally stops its own):
   * only those still children of this process, so that a reused pid is never signalled.
   */
  #stopChildren(slot: Slot): void {
    for (const [pid, { owner, command }] of slot.children) {
      if (!isOurChild(pid)) continue;
      try {
        process.kill(pid, 'SIGKILL');
        this.warnings.add(`${owner} left a child process running (pid ${pid}: ${command}); it was stopped with its worker`);
      } catch {
        // it ended meanwhile
      }
    }
    slot.children.clear();
  }

  #live(): Slot[] {
    return this.#slots.filter((slot) => !slot.dead);
  }

  /**
   * Starts more workers, up to `size`, while the measured work says another would finish it sooner
   * (see `moreWorkers`): a build of a few quick paths never pays for a second isolate.
   */
  #grow(): void {
    const now = Date.now();
    for (;;) {
      const live = this.#live();
      const pending = this.#queue.length + live.reduce((n, s) => n + s.jobs.size, 0) + this.#unmade();
      if (pending === 0) {
        this.#busySince = undefined;
        this.#doneSince = 0;
        return;
      }
      // The work begins when a worker can take it (see `moreWorkers`).
      const ready = live.filter((slot) => slot.ready).length;
      if (ready > 0) this.#busySince ??= now;
      const { size, light = size } = this.#options;
      const typicalMs = live.length < size ? typicalTaskMs(this.#taskTimes, this.#timed) : undefined;
      const state = { live: live.length, ready, max: size, light, typicalMs, pending, busyMs: this.#busySince === undefined ? 0 : now - this.#busySince, done: this.#doneSince };
      if (this.#slots.length >= size || !moreWorkers(state)) {
        // Nothing done yet: look again once the work has lasted long enough to be worth a worker
        // (a worker that becomes ready looks again too).
        if (ready > 0 && state.done === 0 && state.live < state.max && pending > state.live && !this.#growLater) {
          this.#growLater = setTimeout(() => {
            this.#growLater = undefined;
            if (!this.#closed) this.#pump();
          }, Math.max(1, WORTH_A_WORKER_MS - state.busyMs));
          this.#growLater.unref();
        }
        return;
      }
      this.#spawn();
    }
  }

  /** Tasks of the `runAll` source not made yet. */
  #unmade(): number {
    return this.#source ? this.#source.count - this.#source.next : 0;
  }

  /** Since when there has been work without a break, and how many tasks were done since. */
  #busySince?: number;
  #doneSince = 0;
  /** How long the last render tasks took their workers (ms), a ring, and how many were timed. */
  #taskTimes = new Float64Array(TIMED_TASKS);
  #timed = 0;
  #growLater?: NodeJS.Timeout;

  /** Keeps every worker two batches deep while there is work. */
  #pump(): void {
    if (this.#startFailure) return this.#failAll(this.#startFailure);
    this.#pull();
    if (this.#closed) return;
    this.#grow();
    if (this.#queue.length === 0) return;
    // The least busy worker first.
    const live = this.#live().sort((a, b) => a.jobs.size - b.jobs.size);
    // Smaller batches near the end, so that no worker is left holding the last long queue.
    const waiting = this.#queue.length + this.#unmade();
    const batch = batchSize(waiting, live.length);
    for (const slot of live) {
      if (this.#queue.length === 0) break;
      if (slot.jobs.size > batch) continue;
      this.#pull();
      const jobs = this.#queue.splice(0, batch);
      for (const job of jobs) {
        job.attempts++;
        slot.jobs.set(job.id, job);
      }
      slot.lastProgress = Date.now();
      slot.worker.postMessage({ tasks: jobs.map(({ id, task }): TaskMessage => ({ id, task })) });
    }
    this.#watch();
  }

  #spawn(): Slot {
    this.started++;
    const { bundleDir, projectRoot, maxBodyBytes, outputDir, maxMemoryMb, basePath, strict, cachedFetches, heavyHeapMb } = this.#options;
    const shared = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT * 3);
    const setup: WorkerSetup = { bundleDir, projectRoot, maxBodyBytes, outputDir, basePath, strict, cachedFetches, heavyHeapMb, beat: shared };
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries({ ...(this.#options.env ?? process.env), ...BUILD_ENV })) if (value !== undefined) env[name] = value;
    // The worker the process started early, if it waits with these limits; else a new one.
    const worker = takeEarly(maxMemoryMb, { setup, env }) ?? startWorker({ workerData: setup, stdout: true, stderr: true, env, resourceLimits: workerLimits(maxMemoryMb) });
    const slot: Slot = { worker, jobs: new Map(), beat: new Float64Array(shared), lastProgress: Date.now(), children: new Map() };
    this.#slots.push(slot);
    const stray = (chunk: Buffer | string) => {
      const text = String(chunk).replace(/\n$/, '');
      const running = slot.jobs.get(slot.beat[BEAT.running]);
      if (running) running.output.push(text);
      else this.#options.onStrayOutput?.(text);
    };
    worker.stdout.on('data', stray);
    worker.stderr.on('data', stray);
    worker.on('message', (message: { results: ResultMessage[] } | WorkerNotice) => {
      if ('results' in message) {
        slot.lastProgress = Date.now();
        for (const { id, outcome, logs, inputs, ms } of message.results) {
          const job = slot.jobs.get(id);
          if (!job) continue;
          slot.jobs.delete(id);
          this.#doneSince++;
          if (ms !== undefined) this.#taskTimes[this.#timed++ % this.#taskTimes.length] = ms;
          job.resolve({ outcome, logs: job.output.length > 0 ? [...job.output, ...logs] : logs, id, ...(inputs ? { inputs } : {}) });
        }
        this.#pump();
        return;
      }
      if ('ready' in message) {
        slot.ready = true;
        this.#failedStarts = 0;
        if (!this.#closed) this.#grow();
        return;
      }
      if ('child' in message) {
        const { pid, owner, command, running } = message.child;
        if (running) slot.children.set(pid, { owner, command });
        else slot.children.delete(pid);
        return;
      }
      if ('heavy' in message) {
        // Its results are in; what it was sent after them goes to another worker.
        this.#retire(slot);
        return;
      }
      if ('log' in message) return this.#options.onStrayOutput?.(message.log);
      if ('warning' in message) {
        this.warnings.add(message.warning);
        return;
      }
      if ('exiting' in message) {
        slot.exiting = message.exiting;
        return;
      }
      if ('late' in message) {
        if (!this.#late.has(message.late.id)) this.#late.set(message.late.id, message.late.error);
        return;
      }
      if (!('pong' in message)) return; // the early worker's look at a previous build (thread.ts)
      this.#pings.get(message.pong)?.();
      this.#pings.delete(message.pong);
    });
    worker.on('error', (error) => {
      const outOfMemory = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.#retire(slot, outOfMemory ? errorText('OUT_OF_MEMORY', maxMemoryMb ?? 0) : errorText('WORKER_CRASHED', error.message));
    });
    worker.on('exit', (code) => {
      this.#retire(slot, errorText('WORKER_EXITED', slot.exiting ?? `process.exit(${code})`));
    });
    return slot;
  }

  /** Checks the running task of each worker against the time limit. */
  #watch(): void {
    if (this.#watchdog) return;
    const { timeoutMs } = this.#options;
    this.#watchdog = setInterval(() => {
      const now = Date.now();
      let busy = false;
      for (const slot of this.#live()) {
        busy ||= slot.jobs.size > 0;
        const running = slot.jobs.get(slot.beat[BEAT.running]);
        const verdict = checkWorker(slot.beat, slot.lastProgress, slot.jobs.size, now, (running && ownLimit(running.task)) ?? timeoutMs);
        if (verdict.action === 'time-out') this.#timeOut(slot, verdict.id);
        else if (verdict.action === 'stuck') {
          this.#options.onStrayOutput?.(`A worker stopped answering after it built the path of task ${verdict.after}: code left running by a route (a timer or a loop) holds it; it was replaced.`);
          this.#retire(slot);
        } else if (slot.beat[BEAT.running] !== 0) this.#checkMemory(slot);
      }
      if (!busy && this.#queue.length === 0) {
        clearInterval(this.#watchdog);
        this.#watchdog = undefined;
      }
    }, watchInterval(timeoutMs));
    this.#watchdog.unref();
  }

  /**
   * `--max-memory` counts Buffers and other memory outside the JavaScript heap too, where Node.js
   * can tell a worker's (22.16 and later; V8 itself enforces the heap part everywhere).
   */
  #checkMemory(slot: Slot): void {
    const limit = this.#options.maxMemoryMb;
    const worker = slot.worker as Worker & { getHeapStatistics?: () => Promise<{ external_memory?: number; used_heap_size: number }> };
    if (!limit || typeof worker.getHeapStatistics !== 'function' || slot.measuring) return;
    slot.measuring = true;
    worker.getHeapStatistics().then((stats) => {
      slot.measuring = false;
      if (slot.dead || (stats.external_memory ?? 0) + stats.used_heap_size <= limit * 1024 * 1024) return;
      this.#retire(slot, errorText('OUT_OF_MEMORY', limit));
    }, () => {
      slot.measuring = false;
    });
  }

  #timeOut(slot: Slot, id: number): void {
    const job = slot.jobs.get(id);
    if (!job) return;
    if (job.attempts <= (this.#options.retries ?? 0)) {
      // Try again in a fresh worker; the stuck one is terminated.
      slot.jobs.delete(id);
      this.#queue.unshift(job);
      this.#retire(slot);
      return;
    }
    const what = job.task.type === 'render' ? 'GET handler' : 'module (and its generateStaticParams)';
    const own = ownLimit(job.task);
    const error = errorText('TIMED_OUT', (own ?? this.#options.timeoutMs) / 1000, job.attempts, what);
    // A limit of its own is said, with how to change it.
    this.#retire(slot, own ? { ...error, message: `${error.message.replace(/\.$/, '')} (the limit of a GET that Next.js 15 and later would not run at build; --timeout sets it).` } : error);
  }

  /**
   * Retires a worker. The task it was running (if any) ends with `error`; the tasks queued behind
   * it go back to the front of the queue for another worker.
   */
  #retire(slot: Slot, error?: TaskError): void {
    if (slot.dead) return;
    slot.dead = true;
    if (!slot.ready && !this.#closed && ++this.#failedStarts >= 3) {
      // Workers that cannot even start would be replaced forever: end every task instead.
      this.#startFailure = errorText('WORKER_START_FAILED', error?.message ?? 'it stopped');
    }
    const index = this.#slots.indexOf(slot);
    if (index !== -1) this.#slots.splice(index, 1);
    const ended = slot.worker.terminate().then(() => this.#stopChildren(slot));
    this.#ending.add(ended);
    void ended.finally(() => this.#ending.delete(ended));
    const running = slot.beat[BEAT.running];
    const requeue: Job[] = [];
    for (const job of slot.jobs.values()) {
      if (job.id === running && error) {
        job.resolve({ outcome: { ok: false, error } as Outcome<Task>, logs: job.output, id: job.id });
      } else {
        if (job.id !== running) job.attempts--; // it never started
        requeue.push(job);
      }
    }
    if (error && !slot.jobs.has(running)) this.#options.onStrayOutput?.(`Code left running by a route after its path was built: ${error.message}`);
    slot.jobs.clear();
    this.#queue.unshift(...requeue);
    if (this.#startFailure) this.#failAll(this.#startFailure);
    this.#pump();
  }

  /** Ends every waiting task (and what a runAll source has left) with `error`. */
  #failAll(error: TaskError): void {
    const outcome = { ok: false, error } as Outcome<Task>;
    for (const job of this.#queue.splice(0)) job.resolve({ outcome, logs: job.output, id: job.id });
    const source = this.#source;
    while (source && source.next < source.count) {
      const index = source.next++;
      source.onResult(index, { outcome, logs: [], id: this.#nextId++ });
      if (--source.left === 0) source.done();
    }
  }
}

/** Whether `pid` is a running child of this process (Linux: its parent in /proc; elsewhere, that it exists). */
function isOurChild(pid: number): boolean {
  try {
    const [state, parent] = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)!.split(' ');
    // A zombie has already ended: its worker stopped it, or it exited.
    return state !== 'Z' && Number(parent) === process.pid;
  } catch {
    if (process.platform === 'linux') return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}
