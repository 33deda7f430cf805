#!/usr/bin/env node
/**
 * `prerender [appDir] [options]` and `prerender merge`: parses the words, calls the library, prints
 * what it returns, sets the exit code. Every rule lives in the library.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bug, EXIT, isPrerenderError, setupError } from './src/errors.js';
import { EXPLAIN_FLAGS, helpText, MERGE_FLAGS, parseFlags, PREVIEW_FLAGS, readBuildFlags } from './src/flags.js';
import { formatCount } from './src/numbers.js';

// A reader that stops early (`prerender | head`) is not an error of the build.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exitCode ??= 0;
    else throw error;
  });
}

/** The rest of the library, loaded once there is work: `--help` does not wait for it. */
const library = () => import('./src/index.js');

/** What a build needs of it, without the modules of the other commands (preview's server, merge, explain). */
const buildModules = async () => {
  const [{ prerender, projectFolder }, { presentBuild }, { manifestChunks, readManifest }, { holdYoungGeneration }] = await Promise.all([import('./src/prerender.js'), import('./src/output.js'), import('./src/manifest.js'), import('./src/memory.js')]);
  return { prerender, projectFolder, presentBuild, manifestChunks, readManifest, holdYoungGeneration };
};

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'merge') return merge(argv.slice(1));
  if (argv[0] === 'preview') return preview(argv.slice(1));
  if (argv[0] === 'explain') return explain(argv.slice(1));
  if (argv[0] === 'help') return print(helpText());
  const { values, positionals } = parseFlags(argv);
  if (values.help) return print(helpText());
  if (values.version) return print((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version);
  const flags = readBuildFlags(values, positionals, process.env, process.stderr.isTTY === true);
  // The first worker starts while the library loads (it takes longer to start than the library to load).
  const { DEFAULT_MAX_MEMORY_MB, startEarly } = await import('./src/sandbox/thread.js');
  startEarly(flags.maxMemory ?? DEFAULT_MAX_MEMORY_MB, flags.incremental ? { out: path.resolve(flags.out ?? 'dist'), cwd: process.cwd() } : undefined);
  const { manifestChunks, presentBuild, prerender, projectFolder, readManifest, holdYoungGeneration } = await buildModules();
  // The heaps keep the young generation they have (see memory.ts) from here for an incremental
  // build, which begins by parsing the previous build's cache and manifest; for others, from planning.
  if (flags.incremental) holdYoungGeneration();
  const { report: settings } = flags;
  const baseline = settings.baseline === undefined ? undefined : readManifest(settings.baseline);
  const cwd = process.cwd();
  const quiet = settings.quiet;
  // The build runs in the project's folder, as `next build` does: a relative path in route code
  // (`readFile('content/a.md')`, a child process's folder) means the same from wherever this runs.
  // The options' paths stay relative to where it was run.
  const folder = projectFolder(flags.appDir, cwd);
  if (folder !== undefined) process.chdir(folder);
  let result: Awaited<ReturnType<typeof prerender>>;
  try {
    result = await prerender({
      ...flags,
      cwd,
      signal: interrupt.signal,
      logger: {
        ...(quiet ? {} : { warn: (message: string) => progress.write(`${message}\n`), progress: (done: number, total: number) => progress.count(done, total) }),
        phase: (text, stage) => {
          if (stage === 'plan') holdYoungGeneration();
          if (!quiet) progress.phase(text);
        },
      },
    });
  } finally {
    process.chdir(cwd);
  }
  progress.clear();
  const github = process.env.GITHUB_ACTIONS === 'true' ? { workspace: process.env.GITHUB_WORKSPACE, stepSummary: Boolean(process.env.GITHUB_STEP_SUMMARY) } : undefined;
  const output = presentBuild(result, settings, { cwd, host: flags.host ?? 'none', baseline, github });
  // With --json, stdout is the manifest alone.
  const out = settings.json ? process.stderr : process.stdout;
  for (const warning of output.warnings) out.write(`${warning}\n`);
  if (settings.json) for (const chunk of manifestChunks(result.manifest)) process.stdout.write(chunk);
  out.write(`${output.report}\n`);
  // Workflow commands go where GitHub reads them and a redirected report does not.
  for (const line of output.annotations) process.stderr.write(`${line}\n`);
  if (output.stepSummary) appendFileSync(process.env.GITHUB_STEP_SUMMARY!, output.stepSummary);
  return output.exitCode;
}

/** `prerender merge <dir>... --out <dir>`: the shards' outputs as one. */
async function merge(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, MERGE_FLAGS);
  if (values.help) return print(helpText());
  if (positionals.length === 0) throw setupError('USAGE', ['Missing the shard folders: prerender merge dist-1 dist-2 … --out dist']);
  const { countManifest, formatBytes, manifestChunks, mergeShards, relativeFile } = await library();
  const { manifest, outDir } = await mergeShards({ dirs: positionals, out: values.out as string | undefined, force: values.force === true, origin: values.origin as string | undefined });
  const counts = countManifest(manifest);
  const line = `Merged ${positionals.length} shards: ${counts.static} static (${formatBytes(counts.bytes)}), ${counts.dynamic} dynamic, ${counts.errors} ${counts.errors === 1 ? 'error' : 'errors'}. Wrote ${relativeFile(outDir, process.cwd())}/.`;
  if (values.json) for (const chunk of manifestChunks(manifest)) process.stdout.write(chunk);
  (values.json ? process.stderr : process.stdout).write(`${line}\n`);
  return counts.errors > 0 ? EXIT.routeErrors : EXIT.done;
}

/** `prerender explain <path>`: why one path of the last build is what it is, and what it read. */
async function explain(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, EXPLAIN_FLAGS);
  if (values.help) return print(helpText());
  if (positionals.length !== 1) throw setupError('USAGE', ['Expected one URL path: prerender explain /posts/hello --out dist']);
  const { explainPath, formatExplanation } = await library();
  const explanation = explainPath({ path: positionals[0], out: values.out as string | undefined, manifest: values.manifest as string | undefined });
  return print(values.json ? JSON.stringify(explanation, null, 2) : formatExplanation(explanation));
}

/**
 * Ctrl-C and SIGTERM stop the build: the library ends its workers and removes its temporary
 * folders, and the exit code is 128 + the signal's number. A second signal ends at once.
 */
const interrupt = new AbortController();
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
for (const signal of Object.keys(SIGNAL_EXIT)) {
  process.on(signal, () => {
    if (interrupt.signal.aborted) process.exit(SIGNAL_EXIT[signal]);
    interrupt.abort(signal);
  });
}

/** `prerender preview [dir]`: serves the output as the host will, until Ctrl-C. */
async function preview(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, PREVIEW_FLAGS);
  if (values.help) return print(helpText());
  if (positionals.length > 1) throw setupError('USAGE', [`Expected one output folder, got ${positionals.length}: ${positionals.join(' ')}.`]);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw setupError('USAGE', [`Expected --port to be a port number from 0 to 65535, got \`${values.port}\`.`]);
  const { startPreview } = await library();
  const server = await startPreview({ dir: positionals[0], port, origin: values.origin as string | undefined, listen: values.listen as string | undefined });
  const origin = values.origin ? `; every other path goes to ${values.origin as string}` : '';
  process.stdout.write(`Previewing ${positionals[0] ?? 'dist'}/ at ${server.url}${origin}. Ctrl-C stops it.\n`);
  await new Promise<void>((resolve) => interrupt.signal.addEventListener('abort', () => resolve(), { once: true }));
  await server.close();
  return EXIT.done;
}

/**
 * Progress on stderr. On a terminal, one line rewritten in place through every phase; elsewhere (CI
 * logs), a line per phase and a count every few seconds, as `next build` prints its pages.
 */
const progress = {
  shown: false,
  last: 0,
  /** When a count was last printed to a log. */
  logged: 0,
  phase(text: string) {
    if (process.stderr.isTTY) this.update(`${text}…`, true);
    else {
      process.stderr.write(`${text}…\n`);
      this.logged = Date.now();
    }
  },
  count(done: number, total: number) {
    const text = `Prerendering ${formatCount(done)}/${formatCount(total)} paths`;
    if (process.stderr.isTTY) return this.update(text, done === total);
    if (Date.now() - this.logged >= 5000) {
      process.stderr.write(`${text}\n`);
      this.logged = Date.now();
    }
  },
  update(text: string, now = false) {
    if (!process.stderr.isTTY) return;
    const time = Date.now();
    if (!now && time - this.last < 100) return;
    this.last = time;
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

function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return EXIT.done;
}


try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  progress.clear();
  const command = ['merge', 'preview', 'explain'].includes(process.argv[2]) ? `prerender ${process.argv[2]}` : 'prerender';
  if (isPrerenderError(error) && error.code === 'INTERRUPTED') {
    process.stderr.write(`${command}: ${error.message}\n`);
    // Stages still unwinding (a compile, a worker's last task) need not be waited for.
    process.exit(SIGNAL_EXIT[String(interrupt.signal.reason)] ?? 130);
  } else if (isPrerenderError(error) && error.code !== 'INTERNAL') {
    const hint = error.code === 'USAGE' ? `Run \`${command} --help\` for the options.` : error.hint ? `  hint: ${error.hint}` : '';
    process.stderr.write(`${command}: ${error.message}\n${hint ? `${hint}\n` : ''}`);
    process.exitCode = EXIT.setup;
  } else {
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const internal = isPrerenderError(error) ? error : bug('An unexpected failure');
    process.stderr.write(`${command}: ${internal.message}\n${stack}\n`);
    process.exitCode = EXIT.routeErrors;
  }
}
