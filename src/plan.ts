/**
 * Stage 3: decide, for each compiled route, whether its handler runs and for which concrete paths.
 * Routes whose module alone makes them dynamic (a POST export, `force-dynamic`, no
 * `generateStaticParams` for a dynamic segment) end here with their reasons.
 */
import pMap from 'p-map';
import { exportLocation } from './config.js';
import { expandPaths, withBasePath } from './params.js';
import type { Sandbox } from './sandbox/pool.js';
import type { TaskError } from './sandbox/protocol.js';
import type { DynamicResult, ErrorResult, Params, PathResult, Reason, RouteFile, SegmentConfig } from './types.js';

/** One handler call to make. */
export interface PlannedPath {
  path: string;
  params: Params;
  route: RouteFile;
  entry: string;
  config: SegmentConfig;
  /** Output of loading the module and generating params, shown with the route's first path. */
  logs: string[];
}

/** Shared by the many paths that printed nothing. */
export const NO_LOGS: string[] = Object.freeze([]) as unknown as string[];

export interface Plan {
  /** Results decided without running a handler, in route order. */
  settled: PathResult[];
  /** Handler calls to make, in route order then generation order. */
  paths: PlannedPath[];
}

/** Inspects every module and expands its params, `concurrency` routes at a time. */
export async function planRoutes(entries: Map<RouteFile, string>, sandbox: Sandbox, concurrency: number, basePath = ''): Promise<Plan> {
  const perRoute = await pMap([...entries], async ([route, entry]) => planRoute(route, entry, sandbox, basePath), { concurrency });
  const plan: Plan = { settled: [], paths: [] };
  for (const route of perRoute) {
    for (const result of route.settled) plan.settled.push(result);
    for (const path of route.paths) plan.paths.push(path);
  }
  return plan;
}

async function planRoute(route: RouteFile, entry: string, sandbox: Sandbox, basePath: string): Promise<Plan> {
  const settled = (result: PathResult): Plan => ({ settled: [result], paths: [] });
  // One task: load the module, apply the module-level rules, and generate the params.
  const { outcome, logs } = await sandbox.run({ type: 'analyze', entry, source: route.file, route });
  if (!outcome.ok) return settled(errorResult(route, route.pattern, outcome.error, logs));
  if ('reasons' in outcome) return settled(dynamicResult(route, route.pattern, outcome.reasons, logs));
  if (outcome.params.length === 0) {
    return settled(dynamicResult(route, route.pattern, [{
      kind: 'generateStaticParams() = []',
      message: 'generateStaticParams returned an empty array, so no path of this route was prerendered (Next.js is silent here)',
      at: exportLocation(route.file, 'generateStaticParams'),
    }], logs));
  }
  const expansion = expandPaths(route.segments, outcome.params);
  const generatorAt = expansion.clashes.length > 0 ? exportLocation(route.file, 'generateStaticParams') : undefined;
  const clashes = expansion.clashes.map(({ path, params, first }) => errorResult(route, withBasePath(basePath, path), {
    message: `generateStaticParams returned ${JSON.stringify(first)} and ${JSON.stringify(params)}, which give the same path ${path}.`,
    hint: 'a `#` or `?` in a value is written as %23 or %3F; keep values distinct after that encoding',
    at: generatorAt,
  }));
  const paths = expansion.paths.map(({ path, params }, index) => ({
    path: withBasePath(basePath, path),
    params,
    route,
    entry,
    config: outcome.config,
    logs: index === 0 ? logs : NO_LOGS,
  }));
  return { settled: clashes, paths: clashes.length > 0 ? paths.filter((p) => !clashes.some((c) => c.path === p.path)) : paths };
}

export function errorResult(route: RouteFile, path: string, error: TaskError, logs: string[] = []): ErrorResult {
  return { type: 'error', path, route, message: error.message, at: error.at, hint: error.hint, logs };
}

export function dynamicResult(route: RouteFile, path: string, reasons: Reason[], logs: string[] = []): DynamicResult {
  return { type: 'dynamic', path, route, reasons, logs };
}
