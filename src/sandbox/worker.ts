/**
 * Worker thread entry. A worker started early for an incremental build (thread.ts) first looks at
 * the files the previous build read (see `lookAgain`; the build thread takes files from the look
 * too when it reaches it unfinished, see `helpLook`), and only then loads the task runner
 * (runner.ts): the runner's modules take about as long to load as the look takes, and the build
 * thread waits for the look, not for the runner. Messages sent meanwhile wait in the port until the
 * runner listens.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { lookDone, lookPlan, shareLook, sharedLookResult, takeLookFiles } from '../look.js';

const look = (workerData as { look?: { out: string; cwd: string; port: MessagePort } }).look;
if (look) lookQuietly(look.out, look.cwd, look.port);

/**
 * The look, told to the build thread on a port of its own (which the build thread reads when it
 * gets to the look, busy or not): first where it is (shared memory, from which the build thread
 * takes files too when it reaches the look unfinished), then its answer when this thread did the
 * last file (else the build thread makes it). None when it fails: the build thread then takes
 * every digest itself.
 */
function lookQuietly(out: string, cwd: string, port: MessagePort): void {
  try {
    const plan = lookPlan(out, cwd);
    if (!plan) return void port.postMessage({ looked: null });
    const shared = shareLook(plan);
    port.postMessage({ lookShared: shared });
    takeLookFiles(shared, plan.files);
    if (lookDone(shared)) port.postMessage({ looked: sharedLookResult(shared, plan.files) });
  } catch {
    port.postMessage({ looked: null });
  }
}

await import('./runner.js');
