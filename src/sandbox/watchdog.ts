/** The watchdog's rule, apart from its timer. Pure. */
import { BEAT } from './protocol.js';

export type Verdict =
  /** Working within the limit, or idle. */
  | { action: 'none' }
  /** Task `id` has run past the limit. */
  | { action: 'time-out'; id: number }
  /** Between tasks but not answering: code left running by a finished path (a loop) holds it. */
  | { action: 'stuck'; after: number };

/**
 * `beat` is what the worker publishes in shared memory (see protocol.ts); `lastProgress` is when it
 * last answered or was given work; `pending` is how many of its tasks are not answered yet.
 */
export function checkWorker(beat: ArrayLike<number>, lastProgress: number, pending: number, now: number, timeoutMs: number): Verdict {
  if (pending === 0) return { action: 'none' };
  const running = beat[BEAT.running];
  if (running !== 0 && now - beat[BEAT.since] > timeoutMs) return { action: 'time-out', id: running };
  if (running === 0 && now - lastProgress > timeoutMs) return { action: 'stuck', after: beat[BEAT.finished] };
  return { action: 'none' };
}

/** How often the watchdog looks: often enough for short limits, rarely for long ones. */
export function watchInterval(timeoutMs: number): number {
  return Math.max(10, Math.min(250, timeoutMs / 4));
}
