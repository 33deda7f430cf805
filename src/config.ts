/**
 * Route segment config (`export const dynamic = …`), validated as Next.js does at build time
 * (docs/nextjs-rules.md §3), and where a route file's exports stand. Pure but for
 * `exportLocation`, which reads the file.
 */
import { readFileSync } from 'node:fs';
import { errorText } from './errors.js';
import type { SegmentConfig } from './types.js';

const DYNAMIC = ['auto', 'force-dynamic', 'error', 'force-static'] as const;
const FETCH_CACHE = ['auto', 'default-cache', 'only-cache', 'force-cache', 'force-no-store', 'default-no-store', 'only-no-store'] as const;
const RUNTIME = ['nodejs', 'edge', 'experimental-edge'] as const;

export type ConfigCheck = { ok: true; config: SegmentConfig } | { ok: false; name: string; error: { code: 'SEGMENT_CONFIG_INVALID'; message: string; hint?: string } };

export function readSegmentConfig(exports: Record<string, unknown>): ConfigCheck {
  const { dynamic = 'auto', revalidate = false, dynamicParams = true, runtime = 'nodejs', fetchCache } = exports;
  if (!DYNAMIC.includes(dynamic as never)) return invalid('dynamic', dynamic, `one of ${list(DYNAMIC)}`);
  if (!(revalidate === false || (typeof revalidate === 'number' && revalidate >= 0 && (Number.isInteger(revalidate) || revalidate === Infinity)))) {
    return invalid('revalidate', revalidate, 'false or a whole number of seconds >= 0');
  }
  if (typeof dynamicParams !== 'boolean') return invalid('dynamicParams', dynamicParams, 'true or false');
  if (!RUNTIME.includes(runtime as never)) return invalid('runtime', runtime, `one of ${list(RUNTIME.slice(0, 2))}`);
  if (fetchCache !== undefined && !FETCH_CACHE.includes(fetchCache as never)) return invalid('fetchCache', fetchCache, `one of ${list(FETCH_CACHE)}`);
  return {
    ok: true,
    config: {
      dynamic: dynamic as SegmentConfig['dynamic'],
      revalidate: revalidate === Infinity ? false : (revalidate as number | false),
      dynamicParams,
      runtime: runtime === 'nodejs' ? 'nodejs' : 'edge',
      ...(fetchCache === undefined ? {} : { fetchCache: fetchCache as string }),
    },
  };
}

function invalid(name: string, value: unknown, expected: string): ConfigCheck {
  const shown = typeof value === 'string' ? `'${value}'` : typeof value === 'function' ? 'a function' : String(value);
  return { ok: false, name, error: errorText('SEGMENT_CONFIG_INVALID', name, shown, expected) };
}

function list(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(', ');
}

/** Where `export … name` stands in a source file (1-based), for reasons about the module's exports. */
export function findExport(source: string, name: string): { line: number; column: number } | undefined {
  if (!source.includes(name)) return undefined;
  let patterns = EXPORT_PATTERNS.get(name);
  if (!patterns) {
    patterns = [
      new RegExp(`export\\s+(?:async\\s+)?(?:function\\*?|const|let|var|class)\\s+(${name})\\b`),
      new RegExp(`export\\s*\\{[^}]*?\\bas\\s+(${name})\\b`),
      new RegExp(`export\\s*\\{[^}]*?\\b(${name})\\b`),
      // `export const { GET, POST } = handlers` (auth libraries, proxies).
      new RegExp(`export\\s+(?:const|let|var)\\s*\\{[^}]*?\\b(${name})\\b[^}]*\\}\\s*=`),
    ];
    EXPORT_PATTERNS.set(name, patterns);
  }
  for (const pattern of patterns) {
    const match = pattern.exec(source);
    if (!match) continue;
    const offset = match.index + match[0].lastIndexOf(match[1]);
    const before = source.slice(0, offset);
    const line = before.split('\n').length;
    return { line, column: offset - before.lastIndexOf('\n') };
  }
  return undefined;
}

/** The patterns of `findExport`, made once per name (a build looks for seven names in every route file). */
const EXPORT_PATTERNS = new Map<string, RegExp[]>();

/**
 * Where `export … name` stands in a route file, or its first line when it cannot be found (a
 * re-export); undefined when the file cannot be read.
 */
export function exportLocation(file: string, name: string): { file: string; line: number; column: number } | undefined {
  try {
    return { file, ...(findExport(readFileSync(file, 'utf8'), name) ?? { line: 1, column: 1 }) };
  } catch {
    return undefined;
  }
}
