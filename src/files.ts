/**
 * Where each path's body goes in the output folder. Pure: decided from the whole list of planned
 * paths before anything runs, so a file's place never depends on which handler finished first.
 *
 * The rule for a path that must be both a file and a folder (`/api/posts` beside `/api/posts/1`):
 * its body goes to `api/posts/index`, and the manifest's `file` says so. A root route `/` goes to
 * `index`, as `next build`'s static export does.
 */

export interface FileAssignment {
  /** Path → file relative to the output folder, with forward slashes. */
  files: Map<string, string>;
  /** Path → why it cannot have a file (it would overwrite another path's file). */
  conflicts: Map<string, string>;
}

export const INDEX_FILE = 'index';

/** `reserved` are files the tool itself writes into the output folder (the manifest). */
export function assignFiles(paths: string[], reserved: string[] = []): FileAssignment {
  const natural = new Map(paths.map((p) => [p, p === '/' ? INDEX_FILE : p.slice(1)]));
  const folders = new Set<string>();
  for (const file of natural.values()) {
    const parts = file.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/').toLowerCase());
  }

  const files = new Map<string, string>();
  const conflicts = new Map<string, string>();
  // Case-folded, so that two files that only differ in case cannot overwrite each other on a
  // case-insensitive host (macOS, Windows) either.
  const owners = new Map<string, string>(reserved.map((file) => [file.toLowerCase(), file]));
  for (const p of paths) {
    const base = natural.get(p)!;
    const file = folders.has(base.toLowerCase()) ? `${base}/${INDEX_FILE}` : base;
    const folded = file.toLowerCase();
    const owner = owners.get(folded);
    if (owner !== undefined) {
      conflicts.set(p, `its file ${file} would overwrite ${owner.startsWith('/') ? `the file of ${owner}` : owner}`);
      continue;
    }
    owners.set(folded, p);
    files.set(p, file);
  }
  return { files, conflicts };
}
