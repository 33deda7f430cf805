/**
 * The manifest: what a CDN deploy and CI read. Pure: built from the results alone, deterministic
 * (sorted keys, no timestamps), paths relative to the working directory with forward slashes.
 */
import path from 'node:path';
import { unwantedDynamic, type Policy } from './compare.js';
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
}

export function buildManifest(results: PathResult[], cwd: string): Manifest {
  const manifest: Manifest = { version: MANIFEST_VERSION, routes: {}, dynamic: {}, errors: {} };
  for (const result of results) {
    const base = { srcRoute: result.route.pattern, source: relativeFile(result.route.file, cwd) };
    switch (result.type) {
      case 'static':
        manifest.routes[result.path] = {
          ...base,
          file: result.file,
          status: result.status,
          headers: result.headers,
          revalidate: result.revalidate,
          size: result.size,
          sha256: result.sha256,
        };
        break;
      case 'dynamic':
        manifest.dynamic[result.path] = {
          ...base,
          reasons: result.reasons.map((reason) => ({ kind: reason.kind, message: reason.message, ...(reason.at ? { at: formatLocation(reason.at, cwd) } : {}) })),
        };
        break;
      case 'error':
        // A path keeps its first error (two conflicting routes share one URL and one message).
        manifest.errors[result.path] ??= {
          ...base,
          message: result.message,
          ...(result.at ? { at: formatLocation(result.at, cwd) } : {}),
          ...(result.hint ? { hint: result.hint } : {}),
        };
        break;
    }
  }
  return sortKeys(manifest) as Manifest;
}

export function relativeFile(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return (relative === '' ? '.' : relative).split(path.sep).join('/');
}

export function formatLocation(at: SourceLocation, cwd: string): string {
  return `${relativeFile(at.file, cwd)}:${at.line}:${at.column}`;
}

/** JSON with every object's keys sorted, arrays in order, two-space indent, final newline. */
export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(sortKeys(manifest), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
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
