/**
 * The module-level rules: what a route's exports and segment config say before any handler runs.
 * Pure; used in the worker threads, where the module is loaded.
 */
import { findExport } from './config.js';
import type { TaskError } from './sandbox/protocol.js';
import { isDynamic } from './segments.js';
import type { Reason, RouteFile, SegmentConfig } from './types.js';

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

