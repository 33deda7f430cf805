/**
 * next.config's `output: 'export'`: Next.js writes static files only, and its build fails for a
 * route that would need a server (docs/nextjs-rules.md §1). Applied to a build's results. Pure.
 */
import { errorText } from './errors.js';
import { errorResult } from './results.js';
import type { ReasonKind } from './reasons.js';
import type { PathResult, RouteFile } from './types.js';

/**
 * Reasons for which Next.js leaves a route out of the export without failing: there is no GET to
 * write, or the GET answered an error status.
 */
const LEFT_OUT: ReadonlySet<ReasonKind> = new Set<ReasonKind>(['no GET', 'response.status']);

/**
 * The results of a build under `output: 'export'` (`config` names the file that sets it): a path
 * that is dynamic, or (Next.js 15 and later) static from a route that does not opt in to
 * prerendering, becomes a `NOT_EXPORTABLE` error, as it fails `next build`.
 */
export function applyStaticExport(results: PathResult[], options: { config: string; notOptedIn: Set<RouteFile> }): PathResult[] {
  return results.map((result) => {
    if (result.type === 'dynamic') {
      const blocking = result.reasons.filter((reason) => !LEFT_OUT.has(reason.kind));
      if (blocking.length === 0) return result;
      const why = blocking.map((reason) => reason.message).join('; ');
      return errorResult(result.route, result.path, { ...errorText('NOT_EXPORTABLE', options.config, why), at: blocking[0].at }, result.logs);
    }
    if (result.type === 'static' && options.notOptedIn.has(result.route)) {
      const why = "it does not opt in to prerendering, which Next.js 15 and later require of a GET (dynamic = 'force-static', revalidate or generateStaticParams)";
      const hint = `add \`export const dynamic = 'force-static'\` to the route, or remove output: 'export' from ${options.config}`;
      return errorResult(result.route, result.path, { ...errorText('NOT_EXPORTABLE', options.config, why), hint, at: { file: result.route.file, line: 1, column: 1 } }, result.logs);
    }
    return result;
  });
}
