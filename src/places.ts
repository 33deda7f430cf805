/**
 * Where the library's own files are: the folder of its compiled modules (`out/src/`), from which the
 * worker, the sandbox runtime and the config loader are found by URL. The CLI runs from a bundle
 * whose chunks are written to that same folder (see `npm run build`), so this module's URL names it
 * whether it runs from its own file or from a chunk. `cli.ts` must not import it: the bundle's
 * entry is `out/cli.js`, one folder up.
 */
export const LIBRARY_URL = new URL('./', import.meta.url);

/** A file of the library, by its path relative to `out/src/`. */
export function libraryFile(name: string): URL {
  return new URL(name, LIBRARY_URL);
}
