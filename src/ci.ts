/**
 * Reports for CI: a markdown summary for pull-request comments and the GitHub step summary, and
 * GitHub workflow annotations on the exact lines that touched request data. Pure.
 */
import path from 'node:path';
import type { Comparison } from './compare.js';
import { relativeFile } from './location.js';
import { allowMatcher } from './policy.js';
import { countManifest, type Manifest } from './manifest.js';
import { formatBytes, shorten, type Summary } from './report.js';

/** The first line of every markdown report: a workflow finds its earlier comment by it, to update it. */
export const MARKDOWN_MARKER = '<!-- route-prerender report -->';

/** Below GitHub's 65,536 characters for a pull-request comment. */
export const COMMENT_LIMIT = 60_000;
/** Below GitHub's 1 MiB for a step summary. */
export const SUMMARY_LIMIT = 1_000_000;

/**
 * The report as markdown, at most `limit` characters: errors first, then dynamic routes, then the
 * static paths, and what does not fit is counted, not cut mid-table.
 */
export function formatMarkdown(manifest: Manifest, summary: Summary, comparison?: Comparison, { limit = COMMENT_LIMIT, notes = [] }: { limit?: number; notes?: string[] } = {}): string {
  const statics = Object.entries(manifest.routes);
  const dynamics = Object.entries(manifest.dynamic);
  const errors = Object.entries(manifest.errors);
  const counts = countManifest(manifest);
  let size = 0;
  const lines: string[] = [];
  // Room for the closing lines of a section and the note on what was left out.
  const reserve = 400;
  /** Adds rows while they fit; returns how many did not. */
  const rows = (items: string[]): number => {
    for (const [i, row] of items.entries()) {
      if (size + row.length + 1 > limit - reserve) return items.length - i;
      lines.push(row);
      size += row.length + 1;
    }
    return 0;
  };
  const left: string[] = [];
  rows([
    MARKDOWN_MARKER,
    `### route-prerender: ${counts.static} static, ${counts.dynamic} dynamic, ${counts.errors} ${counts.errors === 1 ? 'error' : 'errors'}`,
    '',
    `${summary.routes} ${summary.routes === 1 ? 'route' : 'routes'}, ${formatBytes(counts.bytes)} written, ${(summary.durationMs / 1000).toFixed(2)} s. ${summary.output}`,
    ...notes.flatMap((note) => ['', `> ${note}`]),
  ]);
  if (comparison) rows(['', ...markdownComparison(comparison)]);
  if (errors.length > 0) {
    rows(['', '#### Errors', '', '| Path | Error | Location |', '|---|---|---|']);
    const cut = rows(errors.map(([path, e]) => `| ${code(shorten(path))} | ${cell(e.message)}${e.hint ? `<br>${cell(`hint: ${e.hint}`)}` : ''} | ${code(e.at ?? e.source)} |`));
    if (cut > 0) left.push(`${cut} ${cut === 1 ? 'error' : 'errors'}`);
  }
  if (dynamics.length > 0) {
    rows(['', '#### Dynamic', '', '| Path | Reason | Location |', '|---|---|---|']);
    const cut = rows(dynamics.flatMap(([path, d]) => d.reasons.map((reason) => `| ${code(shorten(path))} | ${code(reason.kind)}: ${cell(reason.message)} | ${code(reason.at ?? d.source)} |`)));
    if (cut > 0) left.push(`${cut} dynamic ${cut === 1 ? 'reason' : 'reasons'}`);
  }
  if (statics.length > 0) {
    rows(['', `<details><summary>Static (${statics.length})</summary>`, '', '| Path | Status | Size | Content type |', '|---|---|---|---|']);
    const cut = rows(statics.map(([path, r]) => `| ${code(shorten(path))} | ${r.status} | ${r.file === null ? '' : formatBytes(r.size)} | ${cell(String(r.headers['content-type'] ?? ''))} |`));
    if (cut > 0) left.push(`${cut} static ${cut === 1 ? 'path' : 'paths'}`);
    lines.push('', '</details>');
  }
  if (left.length > 0) lines.push('', `*Left out to fit: ${left.join(', ')}. The manifest lists every path.*`);
  return `${lines.join('\n')}\n`;
}

function markdownComparison(c: Comparison): string[] {
  const lines = ['#### Changes since the baseline', ''];
  const list = (title: string, items: string[]) => {
    if (items.length > 0) lines.push(`**${title}** (${items.length}): ${items.map(code).join(', ')}`, '');
  };
  for (const d of c.becameDynamic) lines.push(`- :warning: ${code(d.path)} was static and is now dynamic: ${d.reasons.map((r) => `${code(r.kind)}${r.at ? ` at ${code(r.at)}` : ''}`).join(', ')}`);
  if (c.becameDynamic.length > 0) lines.push('');
  list('Now static', c.becameStatic.map((s) => s.path));
  list('New', c.added);
  list('Removed', c.removed);
  list('Changed bytes', c.changed);
  if (lines.length === 2) lines.push('No changes.', '');
  return lines.slice(0, -1);
}

/** A line of text report per change, for the terminal. */
export function formatComparison(c: Comparison): string[] {
  const lines = ['Changes since the baseline'];
  for (const d of c.becameDynamic) lines.push(`  ! ${d.path} was static, now dynamic: ${d.reasons.map((r) => `${r.kind}${r.at ? ` at ${r.at}` : ''}`).join(', ')}`);
  for (const s of c.becameStatic) lines.push(`  + ${s.path} was dynamic, now static`);
  for (const path of c.added) lines.push(`  + ${path} is new`);
  for (const path of c.removed) lines.push(`  - ${path} is gone`);
  for (const path of c.changed) lines.push(`  ~ ${path} has other bytes`);
  if (lines.length === 1) lines.push('  no changes');
  return lines;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

/**
 * `::warning` for each dynamic reason, `::error` for each error, on the file, line and column.
 * Allowed dynamic routes are left out.
 */
export function githubAnnotations(manifest: Manifest, options: { allowDynamic?: string[]; allowFrozen?: string[]; cwd?: string; workspace?: string } = {}): string[] {
  const allowed = allowMatcher(options.allowDynamic ?? []);
  const allowedFrozen = allowMatcher(options.allowFrozen ?? []);
  // GitHub places an annotation by its path from the workspace root; the manifest's are from cwd.
  const { cwd, workspace } = options;
  const place = (at: string) => (cwd && workspace ? relativeFile(path.resolve(cwd, at), workspace) : at);
  const command = (kind: 'warning' | 'error', at: string, title: string, message: string) => workflowCommand(kind, place(at), title, message);
  const lines: string[] = [];
  for (const [path, d] of Object.entries(manifest.dynamic)) {
    if (allowed(path, d.srcRoute)) continue;
    for (const reason of d.reasons) lines.push(command('warning', reason.at ?? d.source, `${path} is dynamic`, `${reason.kind}: ${reason.message}`));
  }
  // One annotation per route frozen at build time, on the read.
  const frozenRoutes = new Set<string>();
  for (const [path, r] of Object.entries(manifest.routes)) {
    if (!r.frozen || frozenRoutes.has(r.srcRoute) || allowedFrozen(path, r.srcRoute)) continue;
    frozenRoutes.add(r.srcRoute);
    const [use] = r.frozen;
    lines.push(command('warning', use.at ?? r.source, `${r.srcRoute} is frozen at build time`, `static, but reads ${use.what} at build time; set revalidate, or rebuild to refresh`));
  }
  for (const [path, e] of Object.entries(manifest.errors)) {
    lines.push(command('error', e.at ?? e.source, `${path} failed to prerender`, e.hint ? `${e.message} (hint: ${e.hint})` : e.message));
  }
  return lines;
}

function workflowCommand(kind: 'warning' | 'error', at: string, title: string, message: string): string {
  const match = /^(.*?):(\d+)(?::(\d+))?$/.exec(at);
  const place = match ? `file=${property(match[1])},line=${match[2]}${match[3] ? `,col=${match[3]}` : ''}` : `file=${property(at)}`;
  return `::${kind} ${place},title=${property(title)}::${data(message)}`;
}

// Escaping of workflow commands: data escapes %, CR and LF; properties also : and ,.
function data(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function property(text: string): string {
  return data(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
