/**
 * Stage 3: decide, for each compiled route, whether its handler runs and for which concrete paths.
 * Routes whose module alone makes them dynamic (a POST export, `force-dynamic`, no
 * `generateStaticParams` for a dynamic segment) end here with their reasons.
 */
import { readFile } from 'node:fs/promises';
import pMap from 'p-map';
import { findExport } from './config.js';
import { expandPaths } from './params.js';
import type { Sandbox } from './sandbox/pool.js';
import type { TaskError } from './sandbox/protocol.js';
import { isDynamic } from './segments.js';
import type { DynamicResult, ErrorResult, Params, PathResult, Reason, RouteFile, SegmentConfig, SourceLocation } from './types.js';

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

/** What a route's module says before any handler runs. */
export interface ModuleInfo {
  exports: string[];
  functions: string[];
  config: SegmentConfig;
}

export type Decision =
  | { run: true; needsParams: boolean }
  | { run: false; reasons: Reason[] }
  | { run: false; error: TaskError };

/** Shared by the many paths that printed nothing. */
export const NO_LOGS: string[] = Object.freeze([]) as unknown as string[];

/** Methods whose presence keeps the whole route on a server, GET included (as in Next.js). */
const NON_STATIC_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * The module-level rules of NEXTJS-SEMANTICS.md §2. Every rule that applies is reported, so a user
 * sees at once all that keeps the route dynamic. `source` is the route file's text, to point at the
 * line of each export.
 */
export function decideRoute(route: RouteFile, info: ModuleInfo, source: string): Decision {
  const at = (name: string) => {
    const found = findExport(source, name);
    return found ? { file: route.file, ...found } : undefined;
  };
  if (info.exports.includes('GET') && !info.functions.includes('GET')) {
    return { run: false, error: { message: 'The route exports GET, but it is not a function.', hint: 'export an async function: `export async function GET(request) { … }`', at: at('GET') } };
  }
  if (info.exports.includes('generateStaticParams') && !info.functions.includes('generateStaticParams')) {
    return { run: false, error: { message: 'The route exports generateStaticParams, but it is not a function.', hint: 'export a function that returns an array of params objects', at: at('generateStaticParams') } };
  }

  const reasons: Reason[] = [];
  if (!info.functions.includes('GET')) {
    reasons.push({ kind: 'no GET', message: 'the route exports no GET handler, so there is nothing to prerender', at: { file: route.file, line: 1, column: 1 } });
  }
  for (const method of NON_STATIC_METHODS) {
    if (info.functions.includes(method)) {
      reasons.push({ kind: method, message: `${method} is exported too, which keeps the whole route on a server (GET included), as in Next.js`, at: at(method) });
    }
  }
  const { config } = info;
  if (config.dynamic === 'force-dynamic') {
    reasons.push({ kind: "dynamic = 'force-dynamic'", message: "dynamic = 'force-dynamic' renders the route on every request", at: at('dynamic') });
  }
  if (config.revalidate === 0 && config.dynamic !== 'force-static') {
    reasons.push({ kind: 'revalidate = 0', message: 'revalidate = 0 asks for a fresh response on every request', at: at('revalidate') });
  }
  if (config.runtime === 'edge') {
    reasons.push({ kind: "runtime = 'edge'", message: "runtime = 'edge' puts the route on the edge runtime, which Next.js does not prerender", at: at('runtime') });
  }
  const needsParams = isDynamic(route.segments);
  if (reasons.length === 0 && needsParams && !info.functions.includes('generateStaticParams')) {
    reasons.push({
      kind: 'no generateStaticParams',
      message: `${route.pattern} has dynamic segments and no generateStaticParams, so its paths are only known at request time`,
      at: { file: route.file, line: 1, column: 1 },
    });
  }
  return reasons.length > 0 ? { run: false, reasons } : { run: true, needsParams };
}

export interface Plan {
  /** Results decided without running a handler, in route order. */
  settled: PathResult[];
  /** Handler calls to make, in route order then generation order. */
  paths: PlannedPath[];
}

/** Inspects every module and expands its params, `concurrency` routes at a time. */
export async function planRoutes(entries: Map<RouteFile, string>, sandbox: Sandbox, concurrency: number): Promise<Plan> {
  const perRoute = await pMap([...entries], async ([route, entry]) => planRoute(route, entry, sandbox), { concurrency });
  const plan: Plan = { settled: [], paths: [] };
  for (const route of perRoute) {
    for (const result of route.settled) plan.settled.push(result);
    for (const path of route.paths) plan.paths.push(path);
  }
  return plan;
}

async function planRoute(route: RouteFile, entry: string, sandbox: Sandbox): Promise<Plan> {
  const settled = (result: PathResult): Plan => ({ settled: [result], paths: [] });
  const inspected = await sandbox.run({ type: 'inspect', entry, source: route.file });
  if (!inspected.outcome.ok) return settled(errorResult(route, route.pattern, inspected.outcome.error, inspected.logs));
  const info = inspected.outcome;
  const decision = decideRoute(route, info, await readFile(route.file, 'utf8'));
  if ('error' in decision) return settled(errorResult(route, route.pattern, decision.error, inspected.logs));
  if (!decision.run) return settled(dynamicResult(route, route.pattern, decision.reasons, inspected.logs));

  let list: Params[] = [{}];
  const logs = [...inspected.logs];
  if (decision.needsParams) {
    const generated = await sandbox.run({ type: 'params', entry, source: route.file, segments: route.segments, pattern: route.pattern });
    logs.push(...generated.logs);
    if (!generated.outcome.ok) {
      const error = generated.outcome.error;
      return settled(errorResult(route, route.pattern, { ...error, message: error.message.startsWith('generateStaticParams') ? error.message : `generateStaticParams failed: ${error.message}` }, logs));
    }
    list = generated.outcome.params;
    if (list.length === 0) {
      return settled(dynamicResult(route, route.pattern, [{
        kind: 'generateStaticParams() = []',
        message: 'generateStaticParams returned an empty array, so no path of this route was prerendered (Next.js is silent here)',
        at: await exportAt(route, 'generateStaticParams'),
      }], logs));
    }
  }
  const expansion = expandPaths(route.segments, list);
  const generatorAt = expansion.clashes.length > 0 ? await exportAt(route, 'generateStaticParams') : undefined;
  const clashes = expansion.clashes.map(({ path, params, first }) => errorResult(route, path, {
    message: `generateStaticParams returned ${JSON.stringify(first)} and ${JSON.stringify(params)}, which give the same path ${path}.`,
    hint: 'a `#` or `?` in a value is written as %23 or %3F; keep values distinct after that encoding',
    at: generatorAt,
  }));
  const paths = expansion.paths.map(({ path, params }, index) => ({
    path,
    params,
    route,
    entry,
    config: info.config,
    logs: index === 0 ? logs : NO_LOGS,
  }));
  return { settled: clashes, paths: paths.filter((p) => !clashes.some((c) => c.path === p.path)) };
}

async function exportAt(route: RouteFile, name: string): Promise<SourceLocation> {
  return { file: route.file, ...(findExport(await readFile(route.file, 'utf8'), name) ?? { line: 1, column: 1 }) };
}

export function errorResult(route: RouteFile, path: string, error: TaskError, logs: string[] = []): ErrorResult {
  return { type: 'error', path, route, message: error.message, at: error.at, hint: error.hint, logs };
}

export function dynamicResult(route: RouteFile, path: string, reasons: Reason[], logs: string[] = []): DynamicResult {
  return { type: 'dynamic', path, route, reasons, logs };
}
