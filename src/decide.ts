/**
 * The module-level rules: what a route's exports and segment config say before any handler runs.
 * Pure; used in the worker threads, where the module is loaded.
 */
import { findExport } from './config.js';
import { errorText } from './errors.js';
import { reasonSentence, type ReasonKind } from './reasons.js';
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
const NON_STATIC_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * The module-level rules of docs/nextjs-rules.md §2. Every rule that applies is reported, so a user
 * sees at once all that keeps the route dynamic. `source` is the route file's text, to point at the
 * line of each export.
 */
export function decideRoute(route: RouteFile, info: ModuleInfo, source: string): Decision {
  const at = (name: string) => {
    const found = findExport(source, name);
    return found ? { file: route.file, ...found } : undefined;
  };
  for (const name of ['GET', 'generateStaticParams']) {
    if (info.exports.includes(name) && !info.functions.includes(name)) return { run: false, error: { ...errorText('EXPORT_NOT_FUNCTION', name), at: at(name) } };
  }
  const reason = (kind: ReasonKind, where = at(kind)): Reason => ({ kind, message: reasonSentence(kind), at: where });
  const methods = NON_STATIC_METHODS.filter((method) => info.functions.includes(method));
  if (!info.functions.includes('GET')) {
    // The other methods it exports do not matter: there is no GET to keep on a server.
    const others = methods.length > 0 ? ` (it exports ${methods.join(', ')})` : '';
    return { run: false, reasons: [{ kind: 'no GET', message: `the route exports no GET handler${others}, so there is nothing to prerender`, at: { file: route.file, line: 1, column: 1 } }] };
  }
  const reasons: Reason[] = methods.map((method) => reason(method));
  const { config } = info;
  if (config.dynamic === 'force-dynamic') reasons.push(reason("dynamic = 'force-dynamic'", at('dynamic')));
  if (config.revalidate === 0 && config.dynamic !== 'force-static') reasons.push(reason('revalidate = 0', at('revalidate')));
  if (config.runtime === 'edge') reasons.push(reason("runtime = 'edge'", at('runtime')));
  const needsParams = isDynamic(route.segments);
  if (reasons.length === 0 && needsParams && !info.functions.includes('generateStaticParams')) {
    // An image of generateImageMetadata has none under Next.js 15 and earlier (16 prerenders each).
    const message = route.metadata?.kind === 'image' ? `Next.js 15 and earlier serve the images of generateImageMetadata on request (16 prerenders each)` : `${route.pattern} has dynamic segments and no generateStaticParams, so its paths are only known at request time`;
    reasons.push({ kind: 'no generateStaticParams', message, at: { file: route.file, line: 1, column: 1 } });
  }
  return reasons.length > 0 ? { run: false, reasons } : { run: true, needsParams };
}

/** The segment config Next.js reads from a route's source. */
const SOURCE_CONFIG = ['dynamic', 'dynamicParams', 'revalidate', 'fetchCache', 'runtime', 'preferredRegion', 'maxDuration'];

/**
 * A value Next.js reads from the source: a number, a string, a template without `${}`, a keyword
 * (arrays and objects are left to it), with a comment after it or none.
 */
const LITERAL = /^(?:\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`$]*`|true|false|null|undefined|[[{].*)\s*(?:\/\/.*|\/\*.*\*\/)?$/s;

/**
 * A segment config export whose value is not a literal (`revalidate = 60 * 60`, `= ONE_HOUR`,
 * `= 'force-static' as const`): Next.js 15 and later read segment config from the source and fail
 * the build for one ("Next.js can't recognize the exported `config` field"); 14 uses the value.
 * Only a value written on the export's line is looked at. Pure.
 */
export function unreadableConfig(source: string): { name: string; value: string; why: string; line: number; column: number } | undefined {
  for (const name of SOURCE_CONFIG) {
    if (!source.includes(name)) continue;
    // At the start of a line: an export in a comment (`// export const …`) is not one.
    const match = new RegExp(`^[ \\t]*export\\s+const\\s+(${name})\\s*(?::[^=\\n]+)?=[ \\t]*([^;\\n]*)`, 'm').exec(source);
    const value = match?.[2].trim() ?? '';
    if (!match || value === '' || LITERAL.test(value)) continue;
    const why = /^[A-Za-z_$][\w$]*$/.test(value) ? `Unknown identifier "${value}"` : /\sas\s+const$/.test(value) ? 'Unsupported node type "TsConstAssertion"' : 'a value that is not a literal';
    const offset = match.index + match[0].indexOf(name);
    const before = source.slice(0, offset);
    return { name, value, why, line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
  }
  return undefined;
}

/**
 * The segment config as written in the source, where it is a literal (`export const runtime =
 * 'edge'`): Next.js reads `runtime` the same way, before it compiles anything. Pure.
 */
export function readStaticConfig(source: string): Partial<Pick<SegmentConfig, 'dynamic' | 'revalidate' | 'runtime'>> {
  const config: Partial<Pick<SegmentConfig, 'dynamic' | 'revalidate' | 'runtime'>> = {};
  const literal = (name: string) => new RegExp(`export\\s+const\\s+${name}\\s*(?::[^=]+)?=\\s*(?:(['"\`])([^'"\`\\n]*)\\1|(\\d+|false))\\s*(?:;|\\n|$)`).exec(source);
  const runtime = literal('runtime');
  if (runtime?.[2] === 'edge' || runtime?.[2] === 'experimental-edge') config.runtime = 'edge';
  const dynamic = literal('dynamic');
  if (dynamic?.[2] === 'force-dynamic') config.dynamic = 'force-dynamic';
  const revalidate = literal('revalidate');
  if (revalidate?.[3] === '0') config.revalidate = 0;
  return config;
}

/**
 * A route that its source alone keeps on a server (`runtime = 'edge'`, `force-dynamic`,
 * `revalidate = 0`, a `POST` or other method export): its reasons, decided without compiling or
 * loading the module, so that code that only a server can compile or load (`.wasm?module`, a
 * database client not generated yet) never blocks the build. Undefined when the module must be
 * loaded to decide.
 */
export function decideFromSource(route: RouteFile, source: string): Reason[] | undefined {
  const written = readStaticConfig(source);
  const found = ['GET', 'generateStaticParams', ...NON_STATIC_METHODS].filter((name) => findExport(source, name));
  // A POST (or PUT, …) export keeps the whole route on a server, whatever the module does.
  if (Object.keys(written).length === 0 && !found.some((name) => (NON_STATIC_METHODS as readonly string[]).includes(name))) return undefined;
  const config: SegmentConfig = { dynamic: 'auto', revalidate: false, dynamicParams: true, runtime: 'nodejs', ...written };
  const decision = decideRoute(route, { exports: found, functions: found, config }, source);
  return 'reasons' in decision ? decision.reasons : undefined;
}
