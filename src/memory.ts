/**
 * Garbage collection where V8 would otherwise let a heap grow: between the stages of a large build
 * in the build thread, and every so many tasks in a worker.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection. `gc` is taken from a new context, so that route code (which runs in
 * the thread's own context) never sees it.
 */
export function collectGarbage(): void {
  try {
    v8.setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    // not available: V8 collects when it decides to
  }
}

/**
 * Collects when a heap has grown `allowance` bytes, or `share` of its live size (half unless told)
 * if that is more, past what the last collection left. V8 lets a worker's old generation fill with
 * the garbage of thousands of tasks before it collects (60 MB where 8 MB is live, 100,000 paths in);
 * a check every `every` tasks keeps it near its live size. The share keeps a heap that holds more
 * with every task from paying a full collection of a large heap every few tasks: collections grow
 * apart as the heap grows.
 */
export class GarbagePacer {
  #tasks = 0;
  #limit: number;

  constructor(
    private readonly allowance: number,
    private readonly every = 64,
    private readonly used = () => v8.getHeapStatistics().used_heap_size,
    private readonly collect = collectGarbage,
    private readonly share = 0.5,
  ) {
    this.#limit = this.#next(used());
  }

  /** Counts a finished task; true when it collected. */
  tick(): boolean {
    if (++this.#tasks < this.every) return false;
    this.#tasks = 0;
    if (this.used() < this.#limit) return false;
    this.collect();
    this.#limit = this.#next(this.used());
    return true;
  }

  #next(live: number): number {
    return live + Math.max(this.allowance, live * this.share);
  }
}

/** Whether this process holds its young generations (see `holdYoungGeneration`): a property of the process, not of a build. */
let held = false;

/**
 * Keeps the young generation of every heap in this process at the size it has now. V8 doubles it,
 * up to 16 MB a semi-space, as the build thread makes and holds many records (an incremental build
 * parsing the previous cache and manifest, results piling up), and each new page costs a page fault
 * (about 14 µs on the VM this was measured on). Called by the `prerender` command, which owns its
 * process: for an incremental build once the tool is loaded (24,400 page faults instead of 29,800
 * for the 10,000-post blog, CPU 1.51 s instead of 1.62 s), for other builds when planning starts,
 * before the params of a large build arrive (one-route-100k peaked at 195–209 MB instead of
 * 218–234 MB); loading the tool and starting a worker are faster in a young generation that may
 * grow (held from the start, a one-path build took 0.02 s longer). Never for the library's callers:
 * the setting is process-wide. On Node.js 20 a worker starting sets V8's flags again, the growth
 * factor with them: `holdAgain` is called as each worker comes online.
 */
export function holdYoungGeneration(): void {
  held = true;
  holdAgain();
}

/** Sets the hold again, when the process holds its young generations (after a worker starts). */
export function holdAgain(): void {
  if (!held) return;
  try {
    v8.setFlagsFromString('--semi-space-growth-factor=1');
  } catch {
    // not settable: V8 grows it as it decides
  }
}
