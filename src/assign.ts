/**
 * Stage 4a: every planned path gets its output file, decided from the whole list before anything
 * runs (see files.ts), and a shard keeps its part. Paths whose file would overwrite another's end
 * here as errors.
 */
import { errorText } from './errors.js';
import { assignFiles } from './files.js';
import { hostLayout, type HostName } from './hosts.js';
import { relativeFile } from './location.js';
import { shorten } from './report.js';
import type { RoutePlan } from './plan.js';
import { errorResult, NO_LOGS } from './results.js';
import { hashPaths, shardPaths, type ShardSpec } from './shard.js';
import type { ErrorResult, Params } from './types.js';

/** One handler call to make: the one record of a path from here to its result. */
export class AssignedPath {
  readonly #files: OutputFiles;

  constructor(
    /** The manifest key (URL path under basePath). */
    readonly key: string,
    public params: Params,
    /** Shared by every path of the route. */
    readonly plan: RoutePlan,
    /** The route's load and params output, on its first path only. */
    readonly logs: string[],
    files: OutputFiles,
  ) {
    this.#files = files;
  }

  /** Where a 2xx body goes, relative to the output folder (made when asked: most are the path itself). */
  get file(): string {
    return this.#files.prefix + this.#files.fileOf(this.key);
  }
}

/** The files of a build's paths: the host's prefix, and each path's file (see files.ts). */
interface OutputFiles {
  prefix: string;
  fileOf(path: string): string;
}

export interface AssignOptions {
  host: HostName;
  /** Files the tool itself writes into the output folder (the manifest, when it is kept there). */
  reserved: string[];
  /** Base of the file names in conflict messages. */
  cwd: string;
  shard?: ShardSpec;
}

export interface Assignment {
  /** The paths to run (a shard's part only), in plan order. */
  paths: AssignedPath[];
  /** Paths that cannot be written, in plan order. */
  errors: ErrorResult[];
  /** With a shard: the hash of every path of the whole build, which every shard must agree on. */
  allPaths?: string;
}

/** Takes each plan's list of paths: the plans' `paths` are empty afterwards (each is an AssignedPath now). */
export function assignPaths(routes: RoutePlan[], options: AssignOptions): Assignment {
  const keys: string[] = [];
  for (const plan of routes) for (const { key } of plan.paths) keys.push(key);
  const layout = hostLayout(options.host);
  // Which route a key is of, only needed (and only made) to word a conflict.
  let planOf: Map<string, RoutePlan> | undefined;
  const describe = (key: string) => {
    planOf ??= new Map(routes.flatMap((plan) => plan.paths.map(({ key: k }) => [k, plan] as const)));
    return `${shorten(key)} (${relativeFile(planOf.get(key)!.route.file, options.cwd)})`;
  };
  const { fileOf, conflicts } = assignFiles(keys, [...options.reserved, ...layout.reserved], describe, layout.rootFile);
  const files: OutputFiles = { prefix: layout.prefix, fileOf };
  // A shard runs its part of the paths, with the files they have in the whole build.
  const mine = options.shard ? shardPaths(keys, options.shard) : undefined;
  const assignment: Assignment = { paths: [], errors: [], ...(options.shard ? { allPaths: hashPaths(keys) } : {}) };
  for (const plan of routes) {
    plan.paths.forEach(({ key, params }, index) => {
      if (mine && !mine.has(key)) return;
      const logs = index === 0 ? plan.logs : NO_LOGS;
      const conflict = conflicts.get(key);
      if (conflict) assignment.errors.push(errorResult(plan.route, key, errorText('PATH_CONFLICT', shorten(key), conflict), logs));
      else assignment.paths.push(new AssignedPath(key, params, plan, logs, files));
    });
  }
  // Each path is now its AssignedPath: the plan's own list of them is no longer needed.
  for (const plan of routes) plan.paths = [];
  return assignment;
}
