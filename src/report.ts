/**
 * Stage 6: the report for people. Pure: results in, lines out; colour is a switch so that tests
 * assert plain text. Results are listed in plan order (routes sorted, paths as generated).
 */
import kleur from 'kleur';
import { fileOfPath } from './files.js';
import { formatLocation, relativeFile } from './location.js';
import type { PathResult, RouteFile, StaticResult } from './types.js';
import { formatCount } from './numbers.js';

export interface ReportOptions {
  cwd: string;
  color: boolean;
  /** Show what route code printed (off with --quiet). */
  logs: boolean;
  /** Folder of the bodies inside the output (`static/` for Vercel), left out of file notes. */
  filePrefix?: string;
}

export interface Summary {
  routes: number;
  durationMs: number;
  /** Where the output went, or why it was not written. */
  output: string;
}

type Paint = (text: string) => string;
interface Palette {
  green: Paint;
  yellow: Paint;
  red: Paint;
  dim: Paint;
  bold: Paint;
  cyan: Paint;
}

const plain: Palette = { green: String, yellow: String, red: String, dim: String, bold: String, cyan: String };
const colored: Palette = {
  green: (t) => kleur.green(t),
  yellow: (t) => kleur.yellow(t),
  red: (t) => kleur.red(t),
  dim: (t) => kleur.dim(t),
  bold: (t) => kleur.bold(t),
  cyan: (t) => kleur.cyan(t),
};

export function formatReport(results: PathResult[], summary: Summary, options: ReportOptions): string {
  const c = options.color ? colored : plain;
  const lines: string[] = [];
  const statics = results.filter((r): r is StaticResult => r.type === 'static');
  const dynamics = results.filter((r) => r.type === 'dynamic');
  const errors = results.filter((r) => r.type === 'error');
  const logLines = (result: PathResult) => (options.logs ? result.logs.flatMap((log) => log.split('\n')).map((line) => `      ${c.dim(`│ ${line}`)}`) : []);

  if (statics.length > 0) {
    lines.push(c.bold('Static'));
    const shown = collapse(statics);
    const width = shown.reduce((max, r) => Math.max(max, 'more' in r ? 0 : shorten(r.path).length), 0);
    for (const result of shown) {
      if ('more' in result) {
        lines.push(`  ${c.dim(`… and ${formatCount(result.more)} more paths of ${result.pattern} (${formatBytes(result.bytes)})`)}`);
        continue;
      }
      const pad = shorten(result.path).padEnd(width);
      if (result.status >= 300 && result.status < 400 && typeof result.headers.location === 'string') {
        lines.push(`  ${c.cyan('↪')} ${pad}  ${c.dim(`${result.status} → ${String(result.headers.location ?? '')}`)}`);
      } else if (result.file === null) {
        lines.push(`  ${c.dim('○')} ${pad}  ${c.dim(String(result.status))}`);
      } else {
        const type = typeof result.headers['content-type'] === 'string' ? result.headers['content-type'] : '';
        const file = result.file.slice(options.filePrefix?.length ?? 0);
        const note = file === fileOfPath(result.path) ? '' : `  → ${file}`;
        lines.push(`  ${c.green('○')} ${pad}  ${formatBytes(result.size).padStart(8)}  ${c.dim(type)}${c.dim(note)}`);
      }
      lines.push(...logLines(result));
    }
  }
  if (dynamics.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push(c.bold('Dynamic'));
    for (const result of dynamics) {
      lines.push(`  ${c.yellow('ƒ')} ${shorten(result.path)}  ${c.dim(relativeFile(result.route.file, options.cwd))}`);
      for (const reason of result.reasons) {
        // Messages start with the API as written; the report shows it once.
        const message = reason.message.startsWith(`${reason.kind} `) ? reason.message.slice(reason.kind.length + 1) : reason.message;
        lines.push(`      ${c.yellow(reason.kind)}${reason.at ? ` at ${formatLocation(reason.at, options.cwd)}` : ''}${c.dim(` — ${message}`)}`);
      }
      lines.push(...logLines(result));
    }
  }
  if (errors.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push(c.bold('Errors'));
    for (const result of errors) {
      lines.push(`  ${c.red('✗')} ${shorten(result.path)}  ${result.at ? formatLocation(result.at, options.cwd) : relativeFile(result.route.file, options.cwd)}`);
      lines.push(`      ${c.red(result.message)}`);
      if (result.frame) for (const line of result.frame.split('\n')) lines.push(`      ${c.dim(line)}`);
      if (result.hint) lines.push(`      ${c.dim(`hint: ${result.hint}`)}`);
      lines.push(...logLines(result));
    }
  }
  if (lines.length > 0) lines.push('');
  const bytes = statics.reduce((sum, r) => sum + (r.file === null ? 0 : r.size), 0);
  const parts = [
    c.green(`${statics.length} static`) + c.dim(` (${formatBytes(bytes)})`),
    c.yellow(`${dynamics.length} dynamic`),
    (errors.length > 0 ? c.red : String)(`${errors.length} ${errors.length === 1 ? 'error' : 'errors'}`),
  ];
  lines.push(`${parts.join(', ')} from ${summary.routes} ${summary.routes === 1 ? 'route' : 'routes'} in ${(summary.durationMs / 1000).toFixed(2)} s. ${summary.output}`);
  return lines.join('\n');
}

/** A route's written paths beyond the first few, as one line (like `next build`'s "+N more paths"). */
const SHOWN_PER_ROUTE = 3;
const COLLAPSE_FROM = 6;

type Collapsed = { more: number; bytes: number; pattern: string };

function collapse(statics: StaticResult[]): Array<StaticResult | Collapsed> {
  const perRoute = new Map<RouteFile, number>();
  for (const result of statics) if (isPlain(result)) perRoute.set(result.route, (perRoute.get(result.route) ?? 0) + 1);
  const out: Array<StaticResult | Collapsed> = [];
  const seen = new Map<RouteFile, number>();
  const folded = new Map<RouteFile, Collapsed>();
  for (const result of statics) {
    if (!isPlain(result) || (perRoute.get(result.route) ?? 0) < COLLAPSE_FROM) {
      out.push(result);
      continue;
    }
    const index = seen.get(result.route) ?? 0;
    seen.set(result.route, index + 1);
    if (index < SHOWN_PER_ROUTE) {
      out.push(result);
      continue;
    }
    let line = folded.get(result.route);
    if (!line) {
      line = { more: 0, bytes: 0, pattern: result.route.pattern };
      folded.set(result.route, line);
      out.push(line);
    }
    line.more++;
    line.bytes += result.size;
  }
  return out;
}

/** A written 2xx path that printed nothing: safe to fold into a count. */
function isPlain(result: StaticResult): boolean {
  return result.file !== null && result.logs.length === 0;
}

const LONGEST_PATH = 120;

/** A path as the report shows it: a very long one (a 10,000-segment catch-all) is cut. */
export function shorten(urlPath: string): string {
  return urlPath.length <= LONGEST_PATH ? urlPath : `${urlPath.slice(0, LONGEST_PATH - 20)}… (${urlPath.length} characters)`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
