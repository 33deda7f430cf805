/**
 * The one door to the sandbox: a pool of worker threads that run route code. Nothing else in the
 * build thread knows how isolation works. Each worker runs one task at a time, so whatever route code
 * prints or throws is attributed to the task it belongs to. A task that does not settle in time, or
 * whose worker dies (`process.exit()`, out of memory), ends as an error and its worker is replaced.
 */
import { Worker } from 'node:worker_threads';
import type { Outcome, ResultMessage, Task, TaskError, WorkerNotice, WorkerSetup } from './protocol.js';

export interface SandboxOptions extends WorkerSetup {
  /** Number of worker threads. */
  size: number;
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
}

interface Job {
  id: number;
  task: Task;
  resolve: (result: TaskResult<Task>) => void;
  timer?: NodeJS.Timeout;
  /** What the worker wrote to stdout/stderr directly while this job ran. */
  output: string[];
  attempts: number;
}

interface Slot {
  worker: Worker;
  job?: Job;
  dead?: boolean;
  /** The API route code used to end the worker (`process.exit(7)`), told just before it ends. */
  exiting?: string;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

export class Sandbox {
  readonly #options: SandboxOptions;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  /** Tasks by id, to attribute errors that arrive after a task's result. */
  readonly #tasks = new Map<number, Task>();
  readonly #late = new Map<Task, TaskError>();
  readonly #pings = new Map<number, () => void>();
  #nextId = 1;
  #closed = false;

  constructor(options: SandboxOptions) {
    this.#options = options;
  }

  run<T extends Task>(task: T): Promise<TaskResult<T>> {
    if (this.#closed) throw new Error('The sandbox is closed');
    return new Promise((resolve) => {
      const id = this.#nextId++;
      this.#tasks.set(id, task);
      this.#queue.push({ id, task, resolve: resolve as Job['resolve'], output: [], attempts: 0 });
      this.#pump();
    });
  }

  /**
   * An error thrown by the task's code after its result was returned (a timer, a late rejection),
   * if one arrived. Call `drain()` first to receive those already thrown.
   */
  lateError(task: Task): TaskError | undefined {
    return this.#late.get(task);
  }

  /** Waits until every worker has delivered what it sent so far. */
  async drain(): Promise<void> {
    await Promise.all(this.#slots.filter((slot) => !slot.dead).map((slot) => new Promise<void>((resolve) => {
      const ping = this.#nextId++;
      this.#pings.set(ping, resolve);
      slot.worker.once('exit', () => resolve());
      slot.worker.postMessage({ ping });
    })));
  }

  async close(): Promise<void> {
    this.#closed = true;
    const slots = this.#slots.splice(0);
    for (const slot of slots) slot.dead = true;
    this.#tasks.clear();
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #pump(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      let slot = this.#slots.find((s) => !s.job && !s.dead);
      if (!slot) {
        if (this.#slots.length >= this.#options.size) return;
        slot = this.#spawn();
      }
      this.#assign(slot, this.#queue.shift()!);
    }
  }

  #assign(slot: Slot, job: Job): void {
    slot.job = job;
    job.attempts++;
    const seconds = this.#options.timeoutMs / 1000;
    job.timer = setTimeout(() => {
      if (job.attempts <= (this.#options.retries ?? 0)) {
        // Try again in a fresh worker; the stuck one is terminated.
        slot.job = undefined;
        this.#queue.unshift(job);
        this.#fail(slot, '');
        return;
      }
      const what = job.task.type === 'params' ? 'generateStaticParams call' : job.task.type === 'render' ? 'GET handler' : 'module';
      const tries = job.attempts > 1 ? ` (${job.attempts} attempts)` : '';
      this.#fail(slot, `timed out after ${seconds} s${tries}`, `make the ${what} finish sooner, or raise the limit with --timeout`);
    }, this.#options.timeoutMs);
    slot.worker.postMessage({ id: job.id, task: job.task });
  }

  #spawn(): Slot {
    const { bundleDir, projectRoot, maxBodyBytes, maxMemoryMb } = this.#options;
    const worker = new Worker(WORKER_URL, {
      workerData: { bundleDir, projectRoot, maxBodyBytes } satisfies WorkerSetup,
      stdout: true,
      stderr: true,
      // As under `next build`.
      env: { ...process.env, NODE_ENV: 'production', NEXT_PHASE: 'phase-production-build' },
      ...(maxMemoryMb ? { resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb } } : {}),
    });
    const slot: Slot = { worker };
    this.#slots.push(slot);
    const stray = (chunk: Buffer | string) => {
      const text = String(chunk).replace(/\n$/, '');
      if (slot.job) slot.job.output.push(text);
      else this.#options.onStrayOutput?.(text);
    };
    worker.stdout.on('data', stray);
    worker.stderr.on('data', stray);
    worker.on('message', (message: ResultMessage | WorkerNotice) => {
      if ('log' in message) return this.#options.onStrayOutput?.(message.log);
      if ('exiting' in message) {
        slot.exiting = message.exiting;
        return;
      }
      if ('late' in message) {
        const task = this.#tasks.get(message.late.id);
        if (task && !this.#late.has(task)) this.#late.set(task, message.late.error);
        return;
      }
      if ('pong' in message) {
        this.#pings.get(message.pong)?.();
        this.#pings.delete(message.pong);
        return;
      }
      const job = slot.job;
      if (!job || job.id !== message.id) return;
      clearTimeout(job.timer);
      slot.job = undefined;
      job.resolve({ outcome: message.outcome, logs: [...job.output, ...message.logs] });
      this.#pump();
    });
    worker.on('error', (error) => {
      const outOfMemory = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.#fail(
        slot,
        outOfMemory ? `ran out of memory (limit ${maxMemoryMb} MB)` : `crashed its worker: ${error.message}`,
        outOfMemory ? 'reduce what the route holds in memory, or raise the limit with --max-memory' : 'this may be a bug in route-prerender; please report it with the route file',
      );
    });
    worker.on('exit', (code) => {
      const api = slot.exiting ?? `process.exit(${code})`;
      this.#fail(slot, `called ${api}, which stopped its worker`, `route code must not end the process; return a Response (or throw) instead`);
    });
    return slot;
  }

  /** Ends the slot's job (if any) as an error, and retires the worker. */
  #fail(slot: Slot, message: string, hint?: string): void {
    if (slot.dead) return;
    slot.dead = true;
    const index = this.#slots.indexOf(slot);
    if (index !== -1) this.#slots.splice(index, 1);
    void slot.worker.terminate();
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      clearTimeout(job.timer);
      job.resolve({ outcome: { ok: false, error: { message: `The route ${message}.`, hint } } as Outcome<Task>, logs: job.output });
    }
    this.#pump();
  }
}
