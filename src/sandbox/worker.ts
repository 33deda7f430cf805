/**
 * Worker thread entry. A worker started early for an incremental build (thread.ts) first looks at
 * the files the previous build read (see `lookAgain`), and only then loads the task runner
 * (runner.ts): the runner's modules take about as long to load as the look takes, and the build
 * thread waits for the look, not for the runner. Messages sent meanwhile wait in the port until the
 * runner listens.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lookAgain } from '../cache.js';

const look = (workerData as { look?: { out: string; cwd: string } }).look;
if (look) parentPort!.postMessage({ looked: lookQuietly(look.out, look.cwd) ?? null });

/** The look, or none when it fails: the build thread then takes every digest itself. */
function lookQuietly(out: string, cwd: string) {
  try {
    return lookAgain(out, cwd);
  } catch {
    return undefined;
  }
}

await import('./runner.js');
