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
import { exitCodeFor, unwantedDynamic } from './policy.js';
import type { PrerenderResult } from './prerender.js';
import { formatReport, type Summary } from './report.js';

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
  const policy = { failOn: settings.failOn, allowDynamic: settings.allowDynamic, baseline: context.baseline };
  const exitCode = exitCodeFor(result.manifest, policy);
  const verdict = exitCode === 3 ? `\nFailing: ${unwantedDynamic(result.manifest, policy).join(', ')} ${settings.failOn === 'new-dynamic' ? 'became' : 'is'} dynamic (--fail-on ${settings.failOn}).` : '';
  const note = notOptedInNote(result.notOptedIn);
  const report = settings.format === 'markdown'
    ? formatMarkdown(result.manifest, summary, comparison, { notes: [...result.rules, ...(note ? [note] : [])] }).trimEnd() + verdict
    : [...result.rules, '', formatReport(result.results, summary, { cwd, color: settings.color, logs: !settings.quiet, filePrefix: hostLayout(context.host).prefix }), ...(note ? ['', note] : []), ...(comparison ? ['', ...formatComparison(comparison)] : [])].join('\n') + verdict;
  return {
    warnings: result.warnings.map((warning) => `Warning: ${warning}`),
    report,
    annotations: context.github ? githubAnnotations(result.manifest, { allowDynamic: settings.allowDynamic, cwd, workspace: context.github.workspace }) : [],
    ...(context.github?.stepSummary ? { stepSummary: formatMarkdown(result.manifest, summary, comparison, { limit: SUMMARY_LIMIT, notes: result.rules }) } : {}),
    exitCode,
  };
}
