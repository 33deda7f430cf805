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
import type { AssignedPath, OutputFiles, RoutePlan } from './plan.js';
import { errorResult, NO_LOGS } from './results.js';
import { hashPaths, shardPaths, type ShardSpec } from './shard.js';
import type { ErrorResult } from './types.js';


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
  // Lists of a million paths are made at their size, not grown (each growth leaves a copy behind).
  const total = routes.reduce((sum, plan) => sum + plan.paths.length, 0);
  const keys = new Array<string>(total);
  let at = 0;
  for (const plan of routes) for (const { key } of plan.paths) keys[at++] = key;
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
  const assignment: Assignment = { paths: new Array<AssignedPath>(total), errors: [], ...(options.shard ? { allPaths: hashPaths(keys) } : {}) };
  let count = 0;
  for (const plan of routes) {
    plan.first = plan.paths[0];
    plan.files = files;
    plan.paths.forEach((path, index) => {
      const { key } = path;
      if (mine && !mine.has(key)) return;
      const conflict = conflicts.get(key);
      if (conflict) assignment.errors.push(errorResult(plan.route, key, errorText('PATH_CONFLICT', shorten(key), conflict), index === 0 ? plan.logs : NO_LOGS));
      else {
        path.plan = plan;
        assignment.paths[count++] = path;
      }
    });
  }
  assignment.paths.length = count;
  // Each path is now its AssignedPath: the plan's own list of them is no longer needed.
  for (const plan of routes) plan.paths = [];
  return assignment;
}
