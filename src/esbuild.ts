/**
 * esbuild, loaded when a build needs it (`--help` and `preview` start without it), and its service
 * process, shared by every build of this process. An idle service does not keep Node.js alive, so
 * it is kept for the next build of the process (starting it again costs about 40 ms); a build of
 * many paths lets it go once its routes are compiled (`releaseEsbuild`), so that its memory is not
 * part of that build's peak. It is never stopped while a build compiles: stopping it under another
 * build hangs that build.
 */
import type * as esbuild from 'esbuild';

let users = 0;
let loaded = false;

export async function withEsbuild<T>(work: (api: typeof esbuild) => Promise<T>): Promise<T> {
  users++;
  try {
    const api = await import('esbuild');
    loaded = true;
    return await work(api);
  } finally {
    users--;
  }
}

/** Stops the service unless a build is compiling (a later build starts it again). */
export async function releaseEsbuild(): Promise<void> {
  if (loaded && users === 0) await (await import('esbuild')).stop();
}
