/**
 * esbuild, loaded when a build needs it (`--help` and `preview` start without it), and its service
 * process, shared by every build of this process. An idle service does not keep Node.js alive, so
 * it is kept for the next build of the process (starting it again costs about 40 ms); a build of
 * many paths lets it go once its routes are compiled (`releaseEsbuild`), so that its memory is not
 * part of that build's peak. It is never stopped while a build compiles: stopping it under another
 * build hangs that build.
 */
import { createRequire } from 'node:module';
import type * as esbuild from 'esbuild';

let users = 0;
let loaded = false;

/**
 * esbuild's API, a CommonJS package, required rather than imported: through `import()` Node.js
 * also scans its 100 KB for named exports, and loading it took 62–77 ms instead of 21–27 ms, on
 * the way of every build that compiles.
 */
function esbuildApi(): typeof esbuild {
  return createRequire(import.meta.url)('esbuild') as typeof esbuild;
}

export async function withEsbuild<T>(work: (api: typeof esbuild) => Promise<T>): Promise<T> {
  users++;
  try {
    const api = esbuildApi();
    loaded = true;
    return await work(api);
  } finally {
    users--;
  }
}

/** Stops the service unless a build is compiling (a later build starts it again). */
export async function releaseEsbuild(): Promise<void> {
  if (loaded && users === 0) await esbuildApi().stop();
}
