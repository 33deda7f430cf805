/**
 * Where each path's body goes in the output folder. Pure: decided from the whole list of planned
 * paths before anything runs, so a file's place never depends on which handler finished first.
 *
 * The rule for a path that must be both a file and a folder (`/api/posts` beside `/api/posts/1`):
 * its body goes to `api/posts/index`, and the manifest's `file` says so. A root route `/` goes to
 * `index`, as `next build`'s static export does (or to the host's own index file, see hosts.ts).
 */

export interface FileAssignment {
  /** Path → file relative to the output folder, with forward slashes. */
  files: Map<string, string>;
  /** Path → why it cannot have a file (it would overwrite another path's file). */
  conflicts: Map<string, string>;
}

export const INDEX_FILE = 'index';

/**
 * The file of a URL path: the path with `%23` and `%3F` decoded, because a static host decodes the
 * request (`/p/a%23b`) and looks for the file `p/a#b`. (`next build`'s export writes `p/a%23b`,
 * which hosts serve at `/p/a%2523b` instead.)
 */
export function fileOfPath(urlPath: string): string {
  const file = urlPath.slice(1);
  return file.includes('%') ? file.replace(/%23/g, '#').replace(/%3F/g, '?') : file;
}

/**
 * `reserved` are files the tool itself writes into the output folder (the manifest). `describe`
 * names the owner of a path in conflict messages (its route file).
 */
export function assignFiles(paths: string[], reserved: string[] = [], describe: (path: string) => string = (p) => p, rootFile = INDEX_FILE): FileAssignment {
  // Made twice rather than held in a map: a million paths would hold a million more strings.
  const natural = (p: string) => (p === '/' ? rootFile : fileOfPath(p));
  const folders = new Set<string>();
  // Paths in order share their folders with the one before: each folder is folded once in a row.
  let previous = '';
  for (const p of paths) {
    const file = natural(p);
    const last = file.lastIndexOf('/');
    if (last === -1 || (last === previous.length && file.startsWith(previous))) continue;
    for (let slash = file.indexOf('/'); slash !== -1; slash = file.indexOf('/', slash + 1)) folders.add(fold(file.slice(0, slash)));
    previous = file.slice(0, last);
  }

  const files = new Map<string, string>();
  const conflicts = new Map<string, string>();
  // Folded (case, Unicode normalization), so that two files cannot overwrite each other on a
  // case- or normalization-insensitive host (macOS, Windows) either.
  const owners = new Map<string, string>(reserved.map((file) => [fold(file), file]));
  for (const p of paths) {
    const base = natural(p);
    const foldedBase = fold(base);
    const folder = folders.has(foldedBase);
    const file = folder ? `${base}/${INDEX_FILE}` : base;
    const folded = folder ? fold(file) : foldedBase;
    const owner = owners.get(folded);
    if (owner !== undefined) {
      const ownerFile = files.get(owner) ?? owner;
      const caseOnly = ownerFile !== file ? ' (they differ only in case or Unicode form, and share one file on macOS and Windows)' : '';
      conflicts.set(p, `its file ${file} would overwrite ${owner.startsWith('/') ? `the file of ${describe(owner)}` : owner}${caseOnly}`);
      continue;
    }
    owners.set(folded, p);
    files.set(p, file);
  }
  return { files, conflicts };
}

function fold(file: string): string {
  // ASCII is its own normal form: the test costs a third of what `normalize` does on it.
  return (NON_ASCII.test(file) ? file.normalize('NFC') : file).toLowerCase();
}

const NON_ASCII = /[^\x00-\x7f]/;
