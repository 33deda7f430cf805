/**
 * Stage 5: the output folder. Bodies are written into a staging folder beside `--out`; the staging
 * folder replaces `--out` in one rename when the build has no errors. A failed build leaves the
 * previous output exactly as it was.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { setupError } from './errors.js';
import { MANIFEST_NAME } from './manifest.js';

/** Left in an output folder whose manifest lives elsewhere, so later runs know the folder is ours. */
export const OWNER_MARKER = '.route-prerender';

export interface OutDirContext {
  appDir?: string;
  projectRoot?: string;
  cwd: string;
  force: boolean;
}

/** Refuses an output folder whose replacement would destroy something that is not ours. */
export function checkOutDir(outDir: string, context: OutDirContext): void {
  const out = path.resolve(outDir);
  const contains = (parent: string, child: string) => {
    const rel = path.relative(parent, child);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  const unsafe = (what: string) => setupError('OUT_DIR_UNSAFE', [out, what], { file: out });
  if (out === path.parse(out).root) throw unsafe('the root of the file system');
  if (out === homedir()) throw unsafe('your home folder');
  if (context.projectRoot && contains(out, context.projectRoot)) throw unsafe('the project folder or one that contains it');
  if (contains(out, context.cwd)) throw unsafe('the current folder or one that contains it');
  if (context.appDir && contains(out, context.appDir)) throw unsafe('the app directory or one that contains it');

  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) {
    if (context.force) return;
    throw setupError('OUT_DIR_NOT_OURS', [out, true], { file: out });
  }
  const entries = readdirSync(out);
  if (entries.length === 0 || context.force) return;
  if (entries.includes(MANIFEST_NAME) || entries.includes(OWNER_MARKER)) return;
  throw setupError('OUT_DIR_NOT_OURS', [out, false], { file: out });
}

export interface Staging {
  dir: string;
  writeBody(file: string, body: Uint8Array): Promise<void>;
  /** Writes a file from pieces of text, without joining them first. */
  writeChunks(file: string, chunks: Iterable<string>): Promise<void>;
  /** Swaps the staging folder in as `outDir`. */
  commit(): Promise<void>;
  /** Removes the staging folder, or keeps it for inspection. */
  discard(keep: boolean): Promise<string | undefined>;
}

export async function createStaging(outDir: string): Promise<Staging> {
  const out = path.resolve(outDir);
  const parent = path.dirname(out);
  await mkdir(parent, { recursive: true });
  const suffix = `${process.pid}-${Date.now().toString(36)}`;
  const dir = path.join(parent, `.prerender-staging-${path.basename(out)}-${suffix}`);
  await mkdir(dir);
  const made = new Set<string>();
  return {
    dir,
    async writeBody(file, body) {
      const target = path.join(dir, ...file.split('/'));
      // Every output file name was checked when it was planned; this guards the invariant.
      if (!target.startsWith(dir + path.sep)) throw new Error(`refusing to write ${file} outside the output folder`);
      const folder = path.dirname(target);
      if (!made.has(folder)) {
        await mkdir(folder, { recursive: true });
        made.add(folder);
      }
      await writeFile(target, body);
    },
    async writeChunks(file, chunks) {
      await writeChunksTo(path.join(dir, ...file.split('/')), chunks);
    },
    async commit() {
      if (existsSync(out)) {
        const old = path.join(parent, `.prerender-old-${path.basename(out)}-${suffix}`);
        await rename(out, old);
        await rename(dir, out);
        await rm(old, { recursive: true, force: true });
      } else {
        await rename(dir, out);
      }
    },
    async discard(keep) {
      if (keep) return dir;
      await rm(dir, { recursive: true, force: true });
      return undefined;
    },
  };
}

/** Writes a file whole or not at all (a temporary file, then a rename). */
export async function writeFileAtomic(file: string, chunks: Iterable<string>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeChunksTo(temporary, chunks);
  await rename(temporary, file);
}

async function writeChunksTo(file: string, chunks: Iterable<string>): Promise<void> {
  const handle = await open(file, 'w');
  try {
    for (const chunk of chunks) await handle.write(chunk);
  } finally {
    await handle.close();
  }
}
