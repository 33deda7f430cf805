/**
 * Where each path's body goes in the output folder. Pure: decided from the whole list of planned
 * paths before anything runs, so a file's place never depends on which handler finished first.
 *
 * The rule for a path that must be both a file and a folder (`/api/posts` beside `/api/posts/1`):
 * its body goes to `api/posts/index`, and the manifest's `file` says so. A root route `/` goes to
 * `index`, as `next build`'s static export does (or to the host's own index file, see hosts.ts).
 */
import { KeySet } from './key-set.js';

export interface FileAssignment {
  /**
   * Path → file relative to the output folder, with forward slashes: the path's natural file
   * (`fileOfPath`, or the root file for `/`) unless `moved` says otherwise.
   */
  fileOf(path: string): string;
  /** The paths whose file is not their natural one: a path that is a folder too (`api/posts/index`). */
  moved: Map<string, string>;
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
  // Made again when needed rather than held: a million paths would hold a million more strings.
  const natural = (p: string) => (p === '/' ? rootFile : fileOfPath(p));
  // Files are compared folded (case, Unicode normalization), so that two cannot overwrite each other
  // on a case- or normalization-insensitive host (macOS, Windows) either, and with a slash in front:
  // for a path whose file is its own name (most), that is the path folded, which for a lower-case
  // ASCII path is the path itself. No string is made for it.
  const ownName = (p: string) => p !== '/' && !p.includes('%');
  const foldedFile = (file: string) => fold(`/${file}`);
  const folders = new Set<string>();
  // Paths in order share their folders with the one before: each folder is folded once in a row.
  let previous = '';
  for (const p of paths) {
    const file = ownName(p) ? p : `/${natural(p)}`;
    const last = file.lastIndexOf('/');
    if (last === 0 || (last === previous.length && file.startsWith(previous))) continue;
    for (let slash = file.indexOf('/', 1); slash !== -1; slash = file.indexOf('/', slash + 1)) folders.add(fold(file.slice(0, slash)));
    previous = file.slice(0, last);
  }

  const moved = new Map<string, string>();
  const fileOf = (p: string) => moved.get(p) ?? natural(p);
  const baseOf = (p: string) => (ownName(p) ? fold(p) : foldedFile(natural(p)));
  // A path that is a folder too has its file inside it, as `index`.
  const isFolder = (p: string) => folders.has(baseOf(p));
  const fileName = (p: string, folder: boolean) => (folder ? `${natural(p)}/${INDEX_FILE}` : natural(p));
  const foldedOf = (p: string, folder: boolean) => (folder ? foldedFile(fileName(p, true)) : baseOf(p));
  const conflicts = new Map<string, string>();
  // Every file taken: the reserved ones (items 0 to r - 1), then the paths' in order.
  const r = reserved.length;
  const taken = new KeySet(r + paths.length, (i) => (i < r ? foldedFile(reserved[i]) : foldedOf(paths[i - r], isFolder(paths[i - r]))));
  reserved.forEach((_, i) => taken.add(i));
  paths.forEach((p, j) => {
    const folder = isFolder(p);
    const held = taken.add(r + j, foldedOf(p, folder));
    if (held === -1) {
      if (folder) moved.set(p, fileName(p, true));
      return;
    }
    const owner = held < r ? reserved[held] : paths[held - r];
    const file = fileName(p, folder);
    const ownerFile = held < r ? owner : fileOf(owner);
    const caseOnly = ownerFile !== file ? ' (they differ only in case or Unicode form, and share one file on macOS and Windows)' : '';
    conflicts.set(p, `its file ${file} would overwrite ${held < r ? owner : `the file of ${describe(owner)}`}${caseOnly}`);
  });
  return { fileOf, moved, conflicts };
}

function fold(file: string): string {
  // ASCII is its own normal form: the test costs a third of what `normalize` does on it.
  return (NON_ASCII.test(file) ? file.normalize('NFC') : file).toLowerCase();
}

const NON_ASCII = /[^\x00-\x7f]/;
