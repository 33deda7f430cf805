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
 * Collects when a heap has grown `allowance` bytes past what the last collection left. V8 lets a
 * worker's old generation fill with the garbage of thousands of tasks before it collects (60 MB
 * where 8 MB is live, 100,000 paths in); a check every `every` tasks keeps it near its live size.
 */
export class GarbagePacer {
  #tasks = 0;
  #limit: number;

  constructor(
    private readonly allowance: number,
    private readonly every = 64,
    private readonly used = () => v8.getHeapStatistics().used_heap_size,
    private readonly collect = collectGarbage,
  ) {
    this.#limit = used() + allowance;
  }

  /** Counts a finished task; true when it collected. */
  tick(): boolean {
    if (++this.#tasks < this.every) return false;
    this.#tasks = 0;
    if (this.used() < this.#limit) return false;
    this.collect();
    this.#limit = this.used() + this.allowance;
    return true;
  }
}
