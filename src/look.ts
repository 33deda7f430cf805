/**
 * The early worker's look at the files the previous build into an output read: their stamps (size,
 * time, inode) taken again, from the cache's text alone, while the build thread loads the library
 * and reads the rest; the files whose stamps moved have their digests taken again (see `Digests`).
 * Its files sit in shared memory, so that the build thread, when it reaches the look unfinished,
 * takes files from it too instead of waiting.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { CACHE_VERSION, cacheHead, cachePath, DIGESTS_OPENING, fileStamp, folderPrefix, inputFile, PATHS_OPENING, sameAsStamped, stampEntries, STAMPS_OPENING, type BuildCache } from './cache.js';
import { TextTable } from './cache-text.js';

/** What a worker found of the files an output's previous build read (see `lookAgain`). */
export interface LookedAgain {
  /** The cache these stamps came from: its end time and project folder. */
  builtAt: number;
  root: string;
  /** File inputs whose stamp is not the one recorded, or too recent to be trusted (see `Digests`): their digests are taken again. */
  changed: string[];
}

/**
 * The stamps of the files the previous build into `out` read, taken again: done by the worker a
 * build starts early, from the cache's text alone (its stamps are one member of its first line),
 * while the build thread loads the library and reads the rest. Undefined without a usable cache.
 */
export function lookAgain(out: string, cwd: string): LookedAgain | undefined {
  const plan = lookPlan(out, cwd);
  if (!plan) return undefined;
  const shared = shareLook(plan);
  takeLookFiles(shared, plan.files);
  return sharedLookResult(shared, plan.files);
}

/** A file input of a cache to look at again: its id, its file, and the stamp recorded. */
export type LookFile = [id: string, file: string, stamp: string];

/**
 * A look whose files two threads take one at a time (the worker that began it, and the build thread
 * when it reaches the look unfinished rather than wait for it): the next file to take and how many
 * are done (`control`), and which files moved, over shared memory.
 */
export interface SharedLook {
  control: Int32Array;
  moved: Uint8Array;
  count: number;
  builtAt: number;
  root: string;
}

/** A look's shared memory, for the files of `plan`. */
export function shareLook(plan: { builtAt: number; root: string; files: LookFile[] }): SharedLook {
  return { control: new Int32Array(new SharedArrayBuffer(8)), moved: new Uint8Array(new SharedArrayBuffer(Math.max(1, plan.files.length))), count: plan.files.length, builtAt: plan.builtAt, root: plan.root };
}

/** Takes the look's files one at a time until none is left (another thread may take some too). */
export function takeLookFiles(shared: SharedLook, files: LookFile[]): void {
  for (;;) {
    const i = Atomics.add(shared.control, 0, 1);
    if (i >= files.length) return;
    let stats: ReturnType<typeof statSync> | undefined;
    try {
      stats = statSync(files[i][1], { throwIfNoEntry: false });
    } catch {
      stats = undefined; // not a file any more (a folder on its path became a file, or it may not be read)
    }
    if (!stats || !sameAsStamped(fileStamp(stats), stats.mtimeMs, files[i][2], shared.builtAt)) shared.moved[i] = 1;
    Atomics.add(shared.control, 1, 1);
  }
}

/** Whether every file of the look is done (by whichever thread took it). */
export function lookDone(shared: SharedLook): boolean {
  return Atomics.load(shared.control, 1) >= shared.count;
}

/** The look's answer, once every file is done: the files that moved, in the order of the stamps. */
export function sharedLookResult(shared: SharedLook, files: LookFile[]): LookedAgain {
  const changed: string[] = [];
  for (let i = 0; i < files.length; i++) if (shared.moved[i] === 1) changed.push(files[i][0]);
  return { builtAt: shared.builtAt, root: shared.root, changed };
}

/**
 * The look's answer for the build thread, which takes files from it when it is unfinished (the
 * worker began it and told where it is: `shared`) instead of waiting: the cache it read lists the
 * same files in the same order. Otherwise, the worker's answer.
 */
export function helpLook(look: { found: Promise<LookedAgain | undefined>; shared: () => SharedLook | undefined }, cache: BuildCache, cwd: string, patienceMs = LOOK_PATIENCE_MS): Promise<LookedAgain | undefined> {
  const shared = look.shared();
  const root = path.resolve(cwd, cache.project);
  // Every file taken already (the worker's answer is on its way): nothing to help with.
  if (!shared || shared.builtAt !== cache.builtAt || shared.root !== root || Atomics.load(shared.control, 0) >= shared.count) return look.found;
  const files = lookFiles(stampEntries(cache), root);
  if (files.length !== shared.count) return look.found;
  takeLookFiles(shared, files);
  // The worker finishes the file it holds (a stat); one that stops in the middle of one (its thread
  // ended, a file system that hangs) leaves the answer to it, and the build thread to its events.
  let seen = Atomics.load(shared.control, 1);
  let since = Date.now();
  while (seen < shared.count) {
    Atomics.wait(shared.control, 1, seen, 5);
    const now = Atomics.load(shared.control, 1);
    if (now !== seen) [seen, since] = [now, Date.now()];
    else if (Date.now() - since > patienceMs) return look.found;
  }
  return Promise.resolve(sharedLookResult(shared, files));
}

/** How long the build thread waits for the worker's file in hand before it waits for the worker's answer instead. */
const LOOK_PATIENCE_MS = 2000;

/** The file inputs among a cache's stamps, each with its file in `root`. */
function lookFiles(stamps: Iterable<[string, string]>, root: string): LookFile[] {
  const prefix = folderPrefix(root);
  const files: LookFile[] = [];
  for (const [id, stamp] of stamps) if (id.startsWith('file:')) files.push([id, inputFile(prefix, id.slice(5)), stamp]);
  return files;
}

/** What a look compares: each file input of the cache beside `out`, and when that build ended. */
export function lookPlan(out: string, cwd: string): { builtAt: number; root: string; files: LookFile[] } | undefined {
  // Only as far as the stamps: the paths' records after them are a third of a large cache.
  const bytes = readUntil(cachePath(out), `}${PATHS_OPENING}`);
  if (!bytes) return undefined;
  const digestsAt = bytes.indexOf(DIGESTS_OPENING);
  const stampsAt = bytes.indexOf(STAMPS_OPENING, digestsAt);
  const pathsAt = bytes.indexOf(`}${PATHS_OPENING}`, stampsAt);
  if (digestsAt === -1 || stampsAt === -1 || pathsAt === -1) return undefined;
  const head = cacheHead(bytes.toString('utf8', 0, digestsAt + DIGESTS_OPENING.length));
  if (head?.version !== CACHE_VERSION || typeof head.builtAt !== 'number' || typeof head.project !== 'string') return undefined;
  // The stamps walked as text (see cache-text.ts), or parsed when they hold an escaped character.
  const text = bytes.toString('utf8', stampsAt, pathsAt + 1);
  const table = TextTable.of(text, STAMPS_OPENING.length, text.length - 1);
  let stamps: Iterable<[string, string]>;
  try {
    stamps = table ? table.entries() : Object.entries(JSON.parse(text.slice(STAMPS_OPENING.length - 1)) as Record<string, string>);
  } catch {
    return undefined;
  }
  const root = path.resolve(cwd, head.project);
  return { builtAt: head.builtAt, root, files: lookFiles(stamps, root) };
}

/** The start of a file, through the first `marker` (all of it when there is none); undefined when it cannot be read. */
export function readUntil(file: string, marker: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    // Pages of the buffer that are never read into are never touched.
    const bytes = Buffer.allocUnsafe(fstatSync(fd).size);
    let length = 0;
    while (length < bytes.length) {
      const read = readSync(fd, bytes, length, Math.min(256 * 1024, bytes.length - length), null);
      if (read === 0) break;
      length += read;
      // The marker may begin in the part read before.
      if (bytes.subarray(Math.max(0, length - read - marker.length), length).includes(marker)) break;
    }
    return bytes.subarray(0, length);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
