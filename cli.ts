#!/usr/bin/env node
/**
 * `prerender <appDir> [options]`: parses arguments, calls the library, prints, sets the exit code.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compareManifests, countManifest, manifestChunks, exitCodeFor, formatBytes, mergeShards, parseShard, type ShardSpec, formatComparison, formatMarkdown, formatReport, githubAnnotations, hostLayout, isPrerenderError, prerender, serializeManifest, unwantedDynamic, type HostName, type Manifest } from './src/index.js';
import { relativeFile } from './src/manifest.js';

const HELP = `Usage: prerender <appDir> [options]
       prerender merge <shard-dir>... --out <dir> [--force] [--json]

Prerenders the static GET route handlers of a Next.js App Router app to plain files,
and reports which routes must stay dynamic and why.

Arguments:
  appDir                  the app directory (./app or ./src/app), or the project folder holding it

Options:
  --out <dir>             output folder, replaced as a whole on success (default: dist)
  --manifest <file>       where to write the manifest (default: <out>/prerender-manifest.json)
  --host <name>           also write this host's configuration: none, netlify, cloudflare,
                          vercel or s3 (default: none)
  --json                  print the manifest to stdout; the report goes to stderr (default: off)
  --format <text|markdown>
                          the report's format; markdown suits a pull-request comment (default: text)
  --baseline <manifest>   compare with a previous run's manifest and list what changed (default: none)
  --fail-on <dynamic|new-dynamic>
                          exit with 3 when any route is dynamic, or only when a route that was
                          static in --baseline is now dynamic (default: never)
  --fail-on-dynamic       the same as --fail-on dynamic (default: off)
  --allow-dynamic <glob>  a path or route pattern meant to stay dynamic (repeatable), e.g. '/api/**'
                          (default: none)
  --strict                also apply the Cache Components rules of Next.js 16: Math.random(),
                          Date.now(), uncached fetch, timers… make a path dynamic (default: off)
  --shard <i>/<n>         build part i of n (balanced by path count) into --out, for
                          \`prerender merge\` (default: the whole build)
  --concurrency <n>       worker threads (default: number of cores)
  --timeout <seconds>     time limit of one handler or generateStaticParams call (default: 60)
  --retries <n>           tries again a path that timed out, n more times (default: 0)
  --max-memory <MB>       heap limit of each worker thread (default: 2048)
  --max-body <MB>         largest response body; a larger one is an error (default: 512)
  --force                 replace an existing --out folder that route-prerender did not write (default: off)
  --keep-partial          when a route errors, keep the unfinished output for inspection (default: off)
  --quiet                 do not show what route code printed, nor progress (default: off)
  --no-color              plain text (also with NO_COLOR set; default: colour on a terminal)
  -h, --help              show this help
  -v, --version           show the version

Exit codes: 0 done, 1 a route errored, 2 bad usage or set-up, 3 dynamic routes with --fail-on-dynamic.`;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'merge') return merge(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        manifest: { type: 'string' },
        json: { type: 'boolean' },
        host: { type: 'string' },
        'fail-on-dynamic': { type: 'boolean' },
        'fail-on': { type: 'string' },
        format: { type: 'string' },
        baseline: { type: 'string' },
        'allow-dynamic': { type: 'string', multiple: true },
        concurrency: { type: 'string' },
        shard: { type: 'string' },
        strict: { type: 'boolean' },
        timeout: { type: 'string' },
        retries: { type: 'string' },
        'max-memory': { type: 'string' },
        'max-body': { type: 'string' },
        force: { type: 'boolean' },
        'keep-partial': { type: 'boolean' },
        quiet: { type: 'boolean' },
        color: { type: 'boolean' },
        'no-color': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    return usageError(`${(error as Error).message}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    return usageError(positionals.length === 0 ? 'Missing the app directory.' : `Expected one app directory, got ${positionals.length}: ${positionals.join(' ')}.`);
  }
  const concurrency = values.concurrency === undefined ? undefined : integerFlag('--concurrency', values.concurrency, 1);
  const timeout = values.timeout === undefined ? undefined : numberFlag('--timeout', values.timeout, 'a number of seconds above 0');
  const retries = values.retries === undefined ? undefined : integerFlag('--retries', values.retries, 0);
  const maxMemory = values['max-memory'] === undefined ? undefined : integerFlag('--max-memory', values['max-memory'], 32);
  const maxBody = values['max-body'] === undefined ? undefined : numberFlag('--max-body', values['max-body'], 'a number of MB above 0');
  if ([concurrency, timeout, retries, maxMemory, maxBody].some(Number.isNaN)) return 2;
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'markdown') return usageError(`Expected --format to be text or markdown, got \`${format}\`.`);
  const failOn = values['fail-on'] ?? (values['fail-on-dynamic'] ? 'dynamic' : undefined);
  if (failOn !== undefined && failOn !== 'dynamic' && failOn !== 'new-dynamic') return usageError(`Expected --fail-on to be dynamic or new-dynamic, got \`${failOn}\`.`);
  if (failOn === 'new-dynamic' && values.baseline === undefined) return usageError('--fail-on new-dynamic compares with a previous run: pass its manifest with --baseline <file>.');
  let baseline: Manifest | undefined;
  if (values.baseline !== undefined) {
    try {
      baseline = JSON.parse(readFileSync(values.baseline, 'utf8')) as Manifest;
      if (baseline?.version !== 1 || typeof baseline.routes !== 'object') throw new Error('it is not a route-prerender manifest (version 1)');
    } catch (error) {
      process.stderr.write(`prerender: Cannot read the baseline ${values.baseline}: ${(error as Error).message}\n  hint: pass the prerender-manifest.json of an earlier run\n`);
      return 2;
    }
  }
  const allowDynamic = values['allow-dynamic'] ?? [];
  let shard: ShardSpec | undefined;
  try {
    shard = values.shard === undefined ? undefined : parseShard(values.shard);
  } catch (error) {
    return usageError((error as Error).message);
  }
  const github = process.env.GITHUB_ACTIONS === 'true';

  const color = !values['no-color'] && !process.env.NO_COLOR && (values.color ?? process.stderr.isTTY === true);
  const quiet = values.quiet === true;
  const cwd = process.cwd();
  try {
    const result = await prerender({
      appDir: positionals[0],
      out: values.out,
      manifest: values.manifest,
      concurrency,
      timeout,
      retries,
      maxMemory,
      maxBody,
      host: values.host as HostName | undefined,
      shard,
      strict: values.strict,
      force: values.force,
      keepPartial: values['keep-partial'],
      cwd,
      logger: {
        warn: quiet ? undefined : (message) => progress.write(`${message}\n`),
        progress: quiet ? undefined : (done, total) => progress.update(`Prerendering ${done}/${total} paths`),
      },
    });
    progress.clear();
    const output = result.written
      ? `Wrote ${relativeFile(result.outDir, cwd)}/.`
      : `Left ${relativeFile(result.outDir, cwd)}/ untouched because a route failed${result.partialDir ? `; the partial output is in ${relativeFile(result.partialDir, cwd)}/` : ' (pass --keep-partial to inspect the partial output)'}.`;
    const summary = { routes: result.routes, durationMs: result.durationMs, output };
    const comparison = baseline ? compareManifests(baseline, result.manifest) : undefined;
    const policy = { failOn, allowDynamic, baseline } as const;
    const code = exitCodeFor(result.manifest, policy);
    const verdict = code === 3 ? `\nFailing: ${unwantedDynamic(result.manifest, policy).join(', ')} ${failOn === 'new-dynamic' ? 'became' : 'is'} dynamic (--fail-on ${failOn}).` : '';
    const report = format === 'markdown'
      ? formatMarkdown(result.manifest, summary, comparison).trimEnd() + verdict
      : [formatReport(result.results, summary, { cwd, color, logs: !quiet, filePrefix: hostLayout((values.host as HostName | undefined) ?? 'none').prefix }), ...(comparison ? ['', ...formatComparison(comparison)] : [])].join('\n') + verdict;
    const out = values.json ? process.stderr : process.stdout;
    for (const warning of result.warnings) out.write(`Warning: ${warning}\n`);
    if (values.json) for (const chunk of manifestChunks(result.manifest)) process.stdout.write(chunk);
    out.write(`${report}\n`);
    if (github) {
      // Workflow commands, read by the runner from the step's output (stderr with --json, so
      // that stdout stays the manifest).
      for (const line of githubAnnotations(result.manifest, { allowDynamic })) out.write(`${line}\n`);
      if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, formatMarkdown(result.manifest, summary, comparison));
    }
    return code;
  } catch (error) {
    progress.clear();
    if (isPrerenderError(error) && error.code !== 'INTERNAL') {
      process.stderr.write(`prerender: ${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
      return 2;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`prerender: unexpected failure. This is a bug in route-prerender, please report it.\n${message}\n`);
    return 1;
  }
}

/** One status line on a terminal, rewritten in place; nothing when stderr is not a terminal. */
const progress = {
  shown: false,
  last: 0,
  update(text: string) {
    if (!process.stderr.isTTY) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    process.stderr.write(`\r\u001b[2K${text}`);
    this.shown = true;
  },
  write(text: string) {
    this.clear();
    process.stderr.write(text);
  },
  clear() {
    if (this.shown) process.stderr.write('\r\u001b[2K');
    this.shown = false;
  },
};

/** `prerender merge <dir>... --out <dir>`: the shards' outputs as one. */
async function merge(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { out: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length === 0) return usageError('Missing the shard folders: prerender merge dist-1 dist-2 … --out dist');
  try {
    const { manifest, outDir } = await mergeShards({ dirs: positionals, out: values.out, force: values.force });
    const counts = countManifest(manifest);
    const line = `Merged ${positionals.length} shards: ${counts.static} static (${formatBytes(counts.bytes)}), ${counts.dynamic} dynamic, ${counts.errors} ${counts.errors === 1 ? 'error' : 'errors'}. Wrote ${relativeFile(outDir, process.cwd())}/.`;
    if (values.json) process.stdout.write(serializeManifest(manifest));
    (values.json ? process.stderr : process.stdout).write(`${line}\n`);
    return exitCodeFor(manifest);
  } catch (error) {
    if (isPrerenderError(error) && error.code !== 'INTERNAL') {
      process.stderr.write(`prerender merge: ${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
      return 2;
    }
    throw error;
  }
}

function usageError(message: string): number {
  process.stderr.write(`prerender: ${message}\nRun \`prerender --help\` for the options.\n`);
  return 2;
}

function integerFlag(name: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min) {
    usageError(`Expected ${name} to be an integer from ${min} and up, got \`${raw}\`.`);
    return Number.NaN;
  }
  return value;
}

function numberFlag(name: string, raw: string, expected: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
    usageError(`Expected ${name} to be ${expected}, got \`${raw}\`.`);
    return Number.NaN;
  }
  return value;
}

process.exitCode = await main(process.argv.slice(2));
