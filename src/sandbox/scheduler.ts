/** How tasks are handed to workers. Pure. */

/** The most tasks one message to a worker carries. */
export const MAX_BATCH = 64;

/**
 * The size of the next batch for a worker: large while much work waits (fewer messages), smaller
 * near the end, so that no worker is left holding the last long queue while others idle.
 */
export function batchSize(waiting: number, workers: number): number {
  return Math.max(1, Math.min(MAX_BATCH, Math.ceil(waiting / (Math.max(1, workers) * 4))));
}

/**
 * Work a worker must have ahead of it, in ms, for another worker to be worth starting: a new one
 * takes about 100 ms to start and then loads the route modules again, on a machine whose cores the
 * running ones already use.
 */
export const WORTH_A_WORKER_MS = 250;

/** How many of the last render tasks' times `typicalTaskMs` weighs. */
export const TIMED_TASKS = 31;

/**
 * Render tasks timed before their times say how long a task takes: a route's first paths are slow
 * (its module loading, code not yet compiled: a markdown page took 73 ms with its module, then
 * 2–5 ms for some 30 paths, 1–1.5 ms up to the hundredth and 0.5–0.8 ms after), and on a machine
 * twice as slow the first 31 read as heavy.
 */
export const WARM_TASKS = 64;

/**
 * How long a render task takes a worker, from the times of the last ones (`times`, a ring of
 * `TIMED_TASKS`; `timed` were ever put in it): their lower quartile, once `WARM_TASKS` were timed;
 * sooner only when at least 5 say tasks take ten times `HEAVY_TASK_MS` (no warming up is that
 * slow for that long).
 */
export function typicalTaskMs(times: Float64Array, timed: number): number | undefined {
  const count = Math.min(timed, times.length);
  if (count < 5) return undefined;
  const quartile = times.subarray(0, count).slice().sort()[count >> 2];
  return timed >= WARM_TASKS || quartile >= 10 * HEAVY_TASK_MS ? quartile : undefined;
}

/**
 * A render task that takes a worker this long (ms, see `typicalTaskMs`) is heavy: its own work
 * dwarfs what the build thread, the collector and the kernel do beside it for each path, so a
 * worker on the core those share pays back. Measured on two cores: JSON paths of 0.1 ms took 14–60%
 * more CPU with a second worker for at most 9% less wall time, markdown pages of about 1 ms 30% more
 * for 6–12% less, handlers computing 2 ms each 12% more for 30% less (docs/performance.md). Three
 * times markdown's, because the same machine ran twice as slow from one hour to the next.
 */
export const HEAVY_TASK_MS = 3;

/**
 * Whether to start one more worker, from measured work: the tasks left (queued, running, not yet
 * made), and how long the workers there are took for those done since the work began (`busyMs`
 * counts from when one of them was ready: `ready` of the `live` ones are). Until one is done, the
 * work is known to be long only once it has lasted `WORTH_A_WORKER_MS`; a worker still starting
 * (or, started early, looking at the previous build's files) has not been slow at it, and another
 * would only start beside it. Past `light` workers, one more starts only for heavy tasks (`typicalMs`,
 * see `HEAVY_TASK_MS`): the last core is the build thread's, Node.js's and the kernel's. The work
 * left is counted at the recent tasks' time when that is longer than the average since the start.
 */
export function moreWorkers(state: { live: number; ready: number; max: number; light?: number; typicalMs?: number; pending: number; busyMs: number; done: number }): boolean {
  const { live, ready, max, light = max, typicalMs, pending, busyMs, done } = state;
  if (live === 0) return pending > 0;
  if (live >= max || pending <= live) return false;
  // Only render tasks timed say they are heavy (a long generateStaticParams does not).
  if (live >= light && !(typicalMs !== undefined && typicalMs >= HEAVY_TASK_MS)) return false;
  if (done === 0) return ready > 0 && busyMs >= WORTH_A_WORKER_MS;
  // The recent tasks' time too: heavy paths after many quick ones (a route's images after its
  // JSON) leave the average since the work began far below what is left.
  const perTask = Math.max((busyMs * live) / done, typicalMs ?? 0);
  return (pending * perTask) / live >= WORTH_A_WORKER_MS;
}

/** How many tasks to make ahead of the workers: two full batches each. */
export function lookahead(workers: number): number {
  return workers * MAX_BATCH * 2;
}

/**
 * Node flags for the workers: the build's own, without the code of `node -e` / `node -p`, which a
 * worker would otherwise run again (and, calling `prerender()`, start workers of its own).
 */
export function workerExecArgv(execArgv: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i];
    if (/^(-e|--eval|-p|--print|-pe|-ep)$/.test(flag)) {
      i++; // its code
      continue;
    }
    if (/^(--eval|--print)=/.test(flag) || /^--input-type(=|$)/.test(flag)) {
      if (flag === '--input-type') i++;
      continue;
    }
    kept.push(flag);
  }
  return kept;
}
