/**
 * esbuild, loaded when a build needs it (`--help` and `preview` start without it), and its service
 * process, shared by every build of this process: each use holds it, and the last one to let go
 * stops it. A service left running keeps Node.js alive; one stopped while another build of the
 * library compiles would fail that build.
 */
import type * as esbuild from 'esbuild';

let users = 0;

export async function withEsbuild<T>(work: (api: typeof esbuild) => Promise<T>): Promise<T> {
  users++;
  try {
    return await work(await import('esbuild'));
  } finally {
    if (--users === 0) await (await import('esbuild')).stop();
  }
}
