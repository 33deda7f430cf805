/**
 * `prerender merge <dir>... --out dist`: the shards' outputs as one output folder and manifest,
 * byte for byte what a one-machine build writes.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { cacheChunks, cachePath, hashing, mergeCaches, readCache } from './cache.js';
import path from 'node:path';
import pMap from 'p-map';
import { setupError } from './errors.js';
import { checkOrigin } from './options.js';
import { hostFiles, type HostName } from './hosts.js';
import { defaultManifestPath, findManifest, MANIFEST_NAME, manifestChunks, readManifest, type Manifest } from './manifest.js';
import { mergeManifests } from './shard.js';
import { checkOutDir, createStaging, writeFileAtomic } from './write.js';

export interface MergeOptions {
  /** The shards' output folders. */
  dirs: string[];
  out?: string;
  force?: boolean;
  cwd?: string;
  /** As for a build's `origin`: where the host files forward what the output does not have. */
  origin?: string;
}

export async function mergeShards(options: MergeOptions): Promise<{ manifest: Manifest; outDir: string }> {
  const cwd = options.cwd ?? process.cwd();
  const out = path.resolve(cwd, options.out ?? 'dist');
  const parts = options.dirs.map((given) => {
    const dir = path.resolve(cwd, given);
    const file = findManifest(dir);
    if (file === undefined) {
      throw setupError('SHARD_MISMATCH', [`${given} has no ${MANIFEST_NAME}.`], { file: dir, hint: 'pass the --out folder of each shard; a shard whose routes failed writes no output' });
    }
    return { dir: given, root: dir, manifest: readManifest(file) };
  });
  const { manifest, host, sources } = mergeManifests(parts);
  for (const part of parts) {
    if (path.resolve(part.root) === out) throw setupError('OUT_DIR_UNSAFE', [out, 'one of the shards being merged'], { hint: 'merge into a new folder' });
  }
  checkOutDir(out, { cwd, force: options.force === true });

  const roots = new Map(parts.map((p) => [p.dir, p.root]));
  const staging = await createStaging(out);
  try {
    const made = new Set<string>();
    await pMap(Object.entries(manifest.routes), async ([key, entry]) => {
      if (entry.file === null) return;
      const target = path.join(staging.dir, ...entry.file.split('/'));
      const folder = path.dirname(target);
      if (!made.has(folder)) {
        await mkdir(folder, { recursive: true });
        made.add(folder);
      }
      await copyFile(path.join(roots.get(sources.get(key)!)!, ...entry.file.split('/')), target);
    }, { concurrency: 16 });
    for (const { file, content } of await hostFiles(manifest, host as HostName, options.origin === undefined ? undefined : checkOrigin(options.origin))) await staging.writeBody(file, Buffer.from(content));
    const manifestFile = defaultManifestPath(out, host);
    const written = hashing(manifestChunks(manifest));
    if (path.dirname(manifestFile) === out) await staging.writeChunks(MANIFEST_NAME, written.chunks);
    else await writeFileAtomic(manifestFile, written.chunks);
    // What each path read, for `prerender explain` on the merged output (each shard recorded its own).
    const cache = mergeCaches(parts.map((part) => readCache(part.root)), Object.keys(manifest.routes).length, written.digest());
    await rm(cachePath(out), { force: true });
    await staging.commit();
    if (cache) await writeFileAtomic(cachePath(out), cacheChunks(cache));
  } catch (error) {
    await staging.discard(false);
    throw error;
  }
  return { manifest, outDir: out };
}
