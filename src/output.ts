/**
 * What a finished build tells people and CI: the report (text or markdown), the comparison with a
 * baseline, GitHub annotations and step summary, and the exit code. A pure function of the result
 * and the settings; the CLI only prints what it returns.
 */
import { formatComparison, formatMarkdown, githubAnnotations, SUMMARY_LIMIT } from './ci.js';
import { compareManifests } from './compare.js';
import type { ReportSettings } from './flags.js';
import { hostLayout, type HostName } from './hosts.js';
import { relativeFile } from './location.js';
import type { Manifest } from './manifest.js';
import { exitCodeFor, unwantedDynamic, unwantedFrozen, type Policy } from './policy.js';
import type { IncrementalSummary } from './cache.js';
import type { PrerenderResult } from './prerender.js';
import { formatReport, type Summary } from './report.js';
import { formatCount } from './numbers.js';

export interface OutputContext {
  cwd: string;
  host: HostName;
  /** The manifest of `--baseline`, read and validated. */
  baseline?: Manifest;
  /** Set when running in GitHub Actions. */
  github?: { workspace?: string; stepSummary?: boolean };
}

export interface BuildOutput {
  /** Warnings, one line each, printed before the report. */
  warnings: string[];
  /** The report, text or markdown. */
  report: string;
  /** GitHub workflow commands: for stderr, never mixed into the report. */
  annotations: string[];
  /** Markdown for `$GITHUB_STEP_SUMMARY`. */
  stepSummary?: string;
  exitCode: 0 | 1 | 3;
}

const NOTE_PATHS = 5;

/** Why the policy fails the build, one line per rule that counted something. */
function failingLines(manifest: Manifest, policy: Policy): string[] {
  const lines: string[] = [];
  const dynamic = unwantedDynamic(manifest, policy);
  if (dynamic.length > 0) lines.push(`Failing: ${fold(dynamic)} ${policy.failOn === 'new-dynamic' ? 'became' : 'is'} dynamic (--fail-on ${policy.failOn}).`);
  const frozen = unwantedFrozen(manifest, policy);
  if (frozen.length > 0) lines.push(`Failing: ${fold(frozen)} ${frozen.length === 1 ? 'is' : 'are'} frozen at build time (--fail-on frozen; allow one with --allow-frozen).`);
  return lines;
}

function fold(paths: string[]): string {
  return paths.slice(0, NOTE_PATHS).join(', ') + (paths.length > NOTE_PATHS ? `, and ${paths.length - NOTE_PATHS} more` : '');
}

/** What a frozen read is, for a sentence: the URL of a GET, else the method and URL, or the socket. */
function describeUse(what: string): string {
  if (what.startsWith('fetch GET ')) return what.slice('fetch GET '.length);
  if (what.startsWith('fetch ')) return what.slice('fetch '.length);
  return `a socket to ${what.replace(/^socket /, '')}`;
}

/**
 * One sentence per route whose static paths read the network at build time without revalidate: the
 * bytes are a snapshot until the next build.
 */
export function frozenNotes(manifest: Manifest): string[] {
  const byRoute = new Map<string, { paths: string[]; uses: Map<string, string | undefined> }>();
  for (const key in manifest.routes) {
    const entry = manifest.routes[key];
    if (!entry.frozen) continue;
    let route = byRoute.get(entry.srcRoute);
    if (!route) byRoute.set(entry.srcRoute, (route = { paths: [], uses: new Map() }));
    route.paths.push(key);
    for (const use of entry.frozen) if (!route.uses.has(use.what)) route.uses.set(use.what, use.at);
  }
  return [...byRoute].map(([srcRoute, { paths, uses }]) => {
    const [[what, at]] = uses;
    const more = uses.size > 1 ? ` and ${uses.size - 1} more` : '';
    const which = paths.length === 1 ? paths[0] : `${srcRoute} (${paths.length} paths)`;
    return `Frozen: ${which} is static, but reads ${describeUse(what)}${at ? ` (${at})` : ''}${more} at build time; set \`revalidate\`, or rebuild to refresh.`;
  });
}

/** How many paths an incremental build ran again, why (one line per cause), and how many it reused. */
export function incrementalLines(summary: IncrementalSummary, limit = 10): string[] {
  const one = summary.analysesReused === 1;
  const planned = summary.analysesReused > 0 ? `; ${formatCount(summary.analysesReused)} ${one ? 'route' : 'routes'} planned from the previous build (nothing ${one ? 'its' : 'their'} generateStaticParams or module read changed)` : '';
  const lines = [`Incremental: ${formatCount(summary.rebuilt)} ${summary.rebuilt === 1 ? 'path' : 'paths'} rebuilt, ${formatCount(summary.reused)} reused${planned}.`];
  for (const { cause, count, examples } of summary.causes.slice(0, limit)) {
    lines.push(count === 1 ? `  ${examples[0]}: ${cause}` : `  ${cause} (${formatCount(count)} paths): ${examples.join(', ')}${count > examples.length ? ', …' : ''}`);
  }
  if (summary.causes.length > limit) {
    const rest = summary.causes.slice(limit).reduce((sum, c) => sum + c.count, 0);
    lines.push(`  and ${formatCount(rest)} more ${rest === 1 ? 'path' : 'paths'} for ${summary.causes.length - limit} other causes`);
  }
  return [lines.join('\n')];
}

/** Static paths that next build of Next.js 15+ would serve from a server instead, folded. */
export function notOptedInNote(paths: string[]): string | undefined {
  if (paths.length === 0) return undefined;
  const shown = paths.slice(0, NOTE_PATHS).join(', ') + (paths.length > NOTE_PATHS ? `, and ${paths.length - NOTE_PATHS} more` : '');
  return `Note: next build of this Next.js version would not prerender ${paths.length === 1 ? 'one' : paths.length} of these static paths (${shown}): since Next.js 15, a GET handler runs at build only when its route opts in with \`dynamic = 'force-static'\`, \`revalidate\` or \`generateStaticParams\`. Served from these files, they stay as built.`;
}

export function presentBuild(result: PrerenderResult, settings: ReportSettings, context: OutputContext): BuildOutput {
  const { cwd } = context;
  const where = relativeFile(result.outDir, cwd);
  const output = result.written
    ? `Wrote ${where}/.`
    : `Left ${where}/ untouched because a route failed${result.partialDir ? `; the partial output is in ${relativeFile(result.partialDir, cwd)}/` : ' (pass --keep-partial to inspect the partial output)'}.`;
  const summary: Summary = { routes: result.routes, durationMs: result.durationMs, output };
  const comparison = context.baseline ? compareManifests(context.baseline, result.manifest) : undefined;
  const policy = { failOn: settings.failOn, allowDynamic: settings.allowDynamic, baseline: context.baseline, failOnFrozen: settings.failOnFrozen, allowFrozen: settings.allowFrozen };
  const exitCode = exitCodeFor(result.manifest, policy);
  const verdict = exitCode === 3 ? failingLines(result.manifest, policy).map((line) => `\n${line}`).join('') : '';
  const note = notOptedInNote(result.notOptedIn);
  const notes = [...frozenNotes(result.manifest), ...(note ? [note] : []), ...(result.incremental ? incrementalLines(result.incremental) : [])];
  const report = settings.format === 'markdown'
    ? formatMarkdown(result.manifest, summary, comparison, { notes: [...result.rules, ...notes] }).trimEnd() + verdict
    : [...result.rules, '', formatReport(result.results, summary, { cwd, color: settings.color, logs: !settings.quiet, filePrefix: hostLayout(context.host).prefix }), ...notes.flatMap((line) => ['', line]), ...(comparison ? ['', ...formatComparison(comparison)] : [])].join('\n') + verdict;
  return {
    warnings: result.warnings.map((warning) => `Warning: ${warning}`),
    report,
    annotations: context.github ? githubAnnotations(result.manifest, { allowDynamic: settings.allowDynamic, allowFrozen: settings.allowFrozen, cwd, workspace: context.github.workspace }) : [],
    ...(context.github?.stepSummary ? { stepSummary: formatMarkdown(result.manifest, summary, comparison, { limit: SUMMARY_LIMIT, notes: result.rules }) } : {}),
    exitCode,
  };
}
