/**
 * Stage 3: decide, for each compiled route, whether its handler runs and for which concrete paths.
 * Routes whose module alone makes them dynamic (a POST export, `force-dynamic`, no
 * `generateStaticParams` for a dynamic segment) end here with their reasons.
 */
import pMap from 'p-map';
import { exportLocation } from './config.js';
import { bug, errorText } from './errors.js';
import { expandPaths, withBasePath } from './params.js';
import { reasonSentence } from './reasons.js';
import { dynamicResult, errorResult, NO_LOGS } from './results.js';
import type { Sandbox } from './sandbox/pool.js';
import type { Analysis } from './cache.js';
import type { Params, PathResult, RouteFile, SegmentConfig } from './types.js';

/** A route whose handler runs, with the paths it runs for. */
export interface RoutePlan {
  route: RouteFile;
  entry: string;
  config: SegmentConfig;
  /** Output of loading the module and generating params, shown with the route's first path. */
  logs: string[];
  /** Concrete paths in generation order: the manifest key (under basePath) and the params, each its record from here to its result. */
  paths: AssignedPath[];
  /** The module opts in to build-time rendering as Next.js 15+ requires (metadata routes need not). */
  optedIn: boolean;
  /** Set by `assignPaths`: the path that shows `logs`, and the files of the build. */
  first?: AssignedPath;
  files?: OutputFiles;
}

/**
 * One handler call to make: the one record of a path from its expansion (see `planRoute`) to its
 * result, its key, params and route's plan only (what its route's paths share is on the plan).
 */
export class AssignedPath {
  /** Shared by every path of the route; `assignPaths` places the path in it. */
  plan: RoutePlan = UNPLACED;

  constructor(
    /** The manifest key (URL path under basePath). */
    readonly key: string,
    public params: Params,
  ) {}

  /** The route's load and params output, on its first path only. */
  get logs(): string[] {
    return this.plan.first === this ? this.plan.logs : NO_LOGS;
  }

  /** Where a 2xx body goes, relative to the output folder (made when asked: most are the path itself). */
  get file(): string {
    const files = this.plan.files ?? unassigned(this.key);
    return files.prefix + files.fileOf(this.key);
  }
}

const UNPLACED = Object.freeze({}) as RoutePlan;

function unassigned(key: string): never {
  throw bug(`the file of ${key} was asked before its path was assigned`);
}

/** The files of a build's paths: the host's prefix, and each path's file (see files.ts). */
export interface OutputFiles {
  prefix: string;
  fileOf(path: string): string;
}

export interface Plan {
  /** Results decided without running a handler, in route order. */
  settled: PathResult[];
  /** Routes whose handler runs, in route order. */
  routes: RoutePlan[];
  /** What the report should say about a route's plan, though nothing failed (see `planRoute`). */
  warnings: string[];
}

export interface PlanOptions {
  basePath?: string;
  /** Each route's analysis, as run (or taken from `previous`). */
  onAnalysis?: (route: RouteFile, analysis: Analysis) => void;
  /** Analyses of the previous build to take instead of running them (see `reusableAnalyses`). */
  previous?: Map<RouteFile, Analysis>;
  /**
   * Next.js 15 and later: a route whose generateStaticParams leaves a param out of an entry has no
   * path prerendered (it is served on request), where Next.js 14 fails the build.
   */
  skipIncomplete?: boolean;
}

/** Inspects every module and expands its params, `concurrency` routes at a time. */
export async function planRoutes(entries: Map<RouteFile, string>, sandbox: Sandbox, concurrency: number, options: PlanOptions = {}): Promise<Plan> {
  const perRoute = await pMap([...entries], async ([route, entry]) => planRoute(route, entry, sandbox, options), { concurrency });
  const plan: Plan = { settled: [], routes: [], warnings: [] };
  for (const { settled, route, warning } of perRoute) {
    for (const result of settled) plan.settled.push(result);
    if (route) plan.routes.push(route);
    if (warning) plan.warnings.push(warning);
  }
  return plan;
}

async function planRoute(route: RouteFile, entry: string, sandbox: Sandbox, { basePath = '', onAnalysis, previous, skipIncomplete }: PlanOptions): Promise<{ settled: PathResult[]; route?: RoutePlan; warning?: string }> {
  // One task: load the module, apply the module-level rules, and generate the params.
  const analysis: Analysis = previous?.get(route) ?? (await sandbox.run({ type: 'analyze', entry, source: route.file, route }));
  onAnalysis?.(route, analysis);
  const { outcome, logs } = analysis;
  if (!outcome.ok && skipIncomplete && outcome.error.missingParam !== undefined) {
    const kind = 'generateStaticParams() incomplete';
    const message = `generateStaticParams leaves \`${outcome.error.missingParam}\` out of an entry, so Next.js 15 and later prerender no path of ${route.srcRoute} (Next.js 14 fails the build): ${outcome.error.message}`;
    return { settled: [dynamicResult(route, route.srcRoute, [{ kind, message, at: outcome.error.at }], logs)] };
  }
  if (!outcome.ok) return { settled: [errorResult(route, route.srcRoute, outcome.error, logs)] };
  if ('reasons' in outcome) return { settled: [dynamicResult(route, route.srcRoute, outcome.reasons, logs)] };
  // An entry that leaves out an optional catch-all's key (`{}` under [[...path]]) gives no path:
  // Next.js 14 skips it; 15 and later prerender no path of the route, or with dynamicParams = false
  // fail the build. The bare path is `{ path: [] }`.
  if (outcome.incomplete !== undefined && (skipIncomplete || (outcome.params.length === 0 && !outcome.rejected?.length))) {
    const name = outcome.incomplete;
    const at = exportLocation(route.file, 'generateStaticParams');
    const fix = `\`{ ${name}: [] }\` is the bare path; every entry needs a \`${name}\``;
    if (skipIncomplete && outcome.config.dynamicParams === false) {
      const message = `generateStaticParams leaves \`${name}\` out of an entry while ${route.srcRoute} exports dynamicParams = false: Next.js 15 and later fail the build for that ("the param \"${name}\" is missing from the generated route params").`;
      return { settled: [errorResult(route, route.srcRoute, { code: 'PARAMS_INVALID', message, hint: fix, at }, logs)] };
    }
    const kind = 'generateStaticParams() incomplete';
    const message = skipIncomplete
      ? `generateStaticParams leaves \`${name}\` out of an entry, so Next.js 15 and later prerender no path of ${route.srcRoute}; ${fix}`
      : `generateStaticParams leaves \`${name}\` out of every entry, and Next.js prerenders no path for such an entry; ${fix}`;
    return { settled: [dynamicResult(route, route.srcRoute, [{ kind, message, at }], logs)] };
  }
  const rejected = (outcome.rejected ?? []).map((r) => errorResult(route, withBasePath(basePath, r.path), { code: 'PARAMS_INVALID', message: r.message, hint: r.hint, at: exportLocation(route.file, 'generateStaticParams') }));
  if (outcome.params.length === 0 && rejected.length > 0) return { settled: rejected };
  if (outcome.params.length === 0) {
    const kind = 'generateStaticParams() = []';
    return { settled: [dynamicResult(route, route.srcRoute, [{ kind, message: reasonSentence(kind), at: exportLocation(route.file, 'generateStaticParams') }], logs)] };
  }
  const expansion = expandPaths(route.segments, outcome.params, basePath, (key, params) => new AssignedPath(key, params));
  const generatorAt = expansion.clashes.length > 0 ? exportLocation(route.file, 'generateStaticParams') : undefined;
  const clashes = expansion.clashes.map(({ key, params, first }) => errorResult(route, key, {
    ...errorText('PARAMS_CLASH', JSON.stringify(first), JSON.stringify(params), key),
    at: generatorAt,
  }));
  const clashing = new Set(clashes.map((c) => c.path));
  // The expansion's own records are the plan's and then the paths' (see AssignedPath): no second object per path.
  const paths = clashing.size > 0 ? expansion.paths.filter(({ key }) => !clashing.has(key)) : expansion.paths;
  // Under the rules of Next.js 14 the other entries are built, as there; the report says what was left out.
  const warning = outcome.incomplete === undefined ? undefined : `${route.srcRoute}: generateStaticParams leaves \`${outcome.incomplete}\` out of an entry, which gives no path, as in Next.js 14 (\`{ ${outcome.incomplete}: [] }\` is the bare path); Next.js 15 and later prerender no path of this route.`;
  return { settled: [...rejected, ...clashes], route: { route, entry, config: outcome.config, logs, paths, optedIn: outcome.optedIn || route.metadata !== undefined }, ...(warning ? { warning } : {}) };
}
