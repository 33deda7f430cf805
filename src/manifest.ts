/**
 * The manifest: what a CDN deploy and CI read. Pure: built from the results alone, deterministic
 * (sorted keys, no timestamps), paths relative to the working directory with forward slashes.
 */
import path from 'node:path';
import { unwantedDynamic, type Policy } from './compare.js';
import type { ShardInfo } from './shard.js';
import type { Headers, PathResult, SourceLocation } from './types.js';

export const MANIFEST_VERSION = 1;

export interface ManifestRoute {
  srcRoute: string;
  source: string;
  file: string | null;
  status: number;
  headers: Headers;
  revalidate: number | false;
  size: number;
  sha256: string;
  /** Cache tags of the path's fetches, when any. */
  tags?: string[];
}

export interface ManifestReason {
  kind: string;
  message: string;
  at?: string;
}

export interface ManifestDynamic {
  srcRoute: string;
  source: string;
  reasons: ManifestReason[];
}

export interface ManifestError {
  srcRoute: string;
  source: string;
  message: string;
  at?: string;
  hint?: string;
}

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  routes: Record<string, ManifestRoute>;
  dynamic: Record<string, ManifestDynamic>;
  errors: Record<string, ManifestError>;
  /** Only in the output of `--shard`: which part of which build this is. */
  shard?: ShardInfo;
}

export function buildManifest(results: PathResult[], cwd: string): Manifest {
  const routes: Record<string, ManifestRoute> = {};
  const dynamic: Record<string, ManifestDynamic> = {};
  const errors: Record<string, ManifestError> = {};
  const sources = new Map<string, string>();
  // Header records are shared between paths (see execute.ts), and so are their sorted copies.
  const sorted = new Map<Headers, Headers>();
  const sortedHeaders = (headers: Headers) => {
    let copy = sorted.get(headers);
    if (!copy) sorted.set(headers, (copy = sortedRecord(headers)));
    return copy;
  };
  const sourceOf = (file: string) => {
    let source = sources.get(file);
    if (source === undefined) sources.set(file, (source = relativeFile(file, cwd)));
    return source;
  };
  // Objects are written with their keys in sorted order, so serializing needs no second copy.
  for (const result of results) {
    const srcRoute = result.route.pattern;
    const source = sourceOf(result.route.file);
    switch (result.type) {
      case 'static':
        routes[result.path] = {
          file: result.file,
          headers: sortedHeaders(result.headers),
          revalidate: result.revalidate,
          sha256: result.sha256,
          size: result.size,
          source,
          srcRoute,
          status: result.status,
          ...(result.tags ? { tags: result.tags } : {}),
        };
        break;
      case 'dynamic':
        dynamic[result.path] = {
          reasons: result.reasons.map((reason) => (reason.at ? { at: formatLocation(reason.at, cwd), kind: reason.kind, message: reason.message } : { kind: reason.kind, message: reason.message })),
          source,
          srcRoute,
        };
        break;
      case 'error':
        // A path keeps its first error (two conflicting routes share one URL and one message).
        errors[result.path] ??= {
          ...(result.at ? { at: formatLocation(result.at, cwd) } : {}),
          ...(result.hint ? { hint: result.hint } : {}),
          message: result.message,
          source,
          srcRoute,
        };
        break;
    }
  }
  return { dynamic: sortedRecord(dynamic), errors: sortedRecord(errors), routes: sortedRecord(routes), version: MANIFEST_VERSION } as Manifest;
}

/** The record with its keys in sorted order. */
export function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  const sorted: Record<string, T> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key];
  return sorted;
}

export function relativeFile(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return (relative === '' ? '.' : relative).split(path.sep).join('/');
}

export function formatLocation(at: SourceLocation, cwd: string): string {
  return `${relativeFile(at.file, cwd)}:${at.line}:${at.column}`;
}

/**
 * Two-space JSON with a final newline. The keys of a manifest from `buildManifest` are already in
 * sorted order at every level, so the text is deterministic without a sorted copy.
 */
export function serializeManifest(manifest: Manifest): string {
  return [...manifestChunks(manifest)].join('');
}

/**
 * The same text as `serializeManifest`, in pieces of about `entries` entries, so that the manifest
 * of 100k paths is written without one string of tens of megabytes.
 */
export function* manifestChunks(manifest: Manifest, entries = 2000): Generator<string> {
  yield '{\n';
  const keys = Object.keys(manifest) as (keyof Manifest)[];
  for (const [i, key] of keys.entries()) {
    const value = manifest[key];
    const comma = i < keys.length - 1 ? ',' : '';
    const isSection = key === 'routes' || key === 'dynamic' || key === 'errors';
    if (!isSection || Object.keys(value as object).length === 0) {
      yield `  ${JSON.stringify(key)}: ${indent(JSON.stringify(value, null, 2), 2)}${comma}\n`;
      continue;
    }
    yield `  ${JSON.stringify(key)}: {\n`;
    const record = value as Record<string, unknown>;
    const names = Object.keys(record);
    let chunk: string[] = [];
    for (const [j, name] of names.entries()) {
      chunk.push(`    ${JSON.stringify(name)}: ${indent(JSON.stringify(record[name], null, 2), 4)}${j < names.length - 1 ? ',' : ''}\n`);
      if (chunk.length >= entries) {
        yield chunk.join('');
        chunk = [];
      }
    }
    yield `${chunk.join('')}  }${comma}\n`;
  }
  yield '}\n';
}

function indent(json: string, spaces: number): string {
  return json.replace(/\n/g, `\n${' '.repeat(spaces)}`);
}

export interface Counts {
  static: number;
  dynamic: number;
  errors: number;
  bytes: number;
}

export function countManifest(manifest: Manifest): Counts {
  const routes = Object.values(manifest.routes);
  return {
    static: routes.length,
    dynamic: Object.keys(manifest.dynamic).length,
    errors: Object.keys(manifest.errors).length,
    bytes: routes.reduce((sum, r) => sum + (r.file === null ? 0 : r.size), 0),
  };
}

/**
 * The exit code contract: 0 done (dynamic routes are not failures); 1 at least one route errored;
 * 3 when the policy (`--fail-on-dynamic`, `--fail-on new-dynamic`) counts a dynamic route against
 * the build and none errored. (2, bad usage or set-up, is decided before a manifest exists.)
 */
export function exitCodeFor(manifest: Manifest, policy: Policy & { failOnDynamic?: boolean } = {}): 0 | 1 | 3 {
  if (Object.keys(manifest.errors).length > 0) return 1;
  const failOn = policy.failOn ?? (policy.failOnDynamic ? 'dynamic' : undefined);
  if (unwantedDynamic(manifest, { ...policy, failOn }).length > 0) return 3;
  return 0;
}
