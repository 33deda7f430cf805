/**
 * Sharding: each CI runner builds a deterministic part of the paths, and `merge` puts the parts
 * together into exactly the output one machine would have written.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setupError } from './errors.js';
import { createManifest, type Manifest } from './manifest.js';

import type { ShardSpec } from './option-values.js';

export { parseShard, type ShardSpec } from './option-values.js';

/**
 * The paths of shard `index`: every `count`-th of all paths sorted by key, so that shards differ in
 * size by at most one path and do not depend on the order routes or params were found in.
 */
export function shardPaths(all: string[], spec: ShardSpec): Set<string> {
  const sorted = [...all].sort();
  const mine = new Set<string>();
  for (let i = spec.index - 1; i < sorted.length; i += spec.count) mine.add(sorted[i]);
  return mine;
}

export async function fingerprint(inputs: string[], options: Record<string, unknown>): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(options));
  for (const file of inputs) {
    hash.update(`\0${file}\0`);
    hash.update(await readFile(file));
  }
  return hash.digest('hex');
}

export function hashPaths(paths: string[]): string {
  const hash = createHash('sha256');
  for (const p of [...paths].sort()) hash.update(`${p}\0`);
  return hash.digest('hex');
}

/**
 * One manifest from the shards' manifests. Refuses shards of different builds, a missing or
 * repeated shard, and static paths written by two shards.
 */
export function mergeManifests(parts: { dir: string; manifest: Manifest }[]): { manifest: Manifest; host: string; sources: Map<string, string> } {
  const refuse = (message: string, hint: string) => setupError('SHARD_MISMATCH', [message], { hint });
  if (parts.length === 0) throw refuse('Nothing to merge.', 'pass the output folders of every shard: prerender merge dist-1 dist-2 … --out dist');
  const infos = parts.map(({ dir, manifest }) => {
    if (!manifest.shard) throw refuse(`${dir} is not the output of a sharded build (its manifest has no "shard").`, 'build each part with --shard <i>/<n>');
    return manifest.shard;
  });
  const [first] = infos;
  parts.forEach(({ dir }, i) => {
    const info = infos[i];
    if (info.fingerprint !== first.fingerprint || info.host !== first.host) {
      throw refuse(`${dir} was built from another version of the app than ${parts[0].dir} (their sources or options differ).`, 'build every shard from the same commit with the same options');
    }
    if (info.paths !== first.paths) {
      throw refuse(`${dir} planned other paths than ${parts[0].dir}: generateStaticParams returned different data.`, 'build the shards from the same data, or at the same time');
    }
    if (info.count !== first.count) throw refuse(`${dir} is shard ${info.index}/${info.count}, but ${parts[0].dir} is of ${first.count}.`, 'merge the shards of one build');
  });
  const seen = new Map<number, string>();
  parts.forEach(({ dir }, i) => {
    const other = seen.get(infos[i].index);
    if (other) throw refuse(`${dir} and ${other} are both shard ${infos[i].index}/${first.count}: their paths overlap.`, 'pass each shard once');
    seen.set(infos[i].index, dir);
  });
  const missing = Array.from({ length: first.count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length > 0) throw refuse(`Shard ${missing.join(', ')} of ${first.count} is missing.`, 'pass the output folder of every shard');

  const routes: Manifest['routes'] = {};
  const dynamic: Manifest['dynamic'] = {};
  const errors: Manifest['errors'] = {};
  const sources = new Map<string, string>();
  for (const { dir, manifest } of parts) {
    for (const [key, entry] of Object.entries(manifest.routes)) {
      if (key in routes) throw refuse(`${key} was prerendered by two shards (${sources.get(key)} and ${dir}).`, 'pass each shard once');
      routes[key] = entry;
      sources.set(key, dir);
    }
    // Route-level results (a dynamic or broken route) are in every shard: they must agree.
    for (const [key, entry] of Object.entries(manifest.dynamic)) dynamic[key] ??= entry;
    for (const [key, entry] of Object.entries(manifest.errors)) errors[key] ??= entry;
  }
  return { manifest: createManifest({ routes, dynamic, errors }), host: first.host, sources };
}
