/**
 * The command line, declared once: every flag with its value, default and meaning. From this table
 * come the `parseArgs` configuration, the help text, and the conversion of flag words into the
 * library's options (each value checked once, with a message naming the flag). Pure.
 */
import { parseArgs } from 'node:util';
import { setupError } from './errors.js';
import { HOSTS, parseShard, type HostName, type ShardSpec } from './option-values.js';
import type { FailOn } from './policy.js';

interface Flag {
  name: string;
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown after the flag in the help (`<dir>`). */
  value?: string;
  default: string;
  help: string;
}

export const FLAGS: Flag[] = [
  { name: 'out', short: 'o', type: 'string', value: '<dir>', default: 'dist', help: 'output folder, replaced as a whole on success' },
  { name: 'manifest', type: 'string', value: '<file>', default: '<out>/prerender-manifest.json; beside <out> with --host netlify or cloudflare', help: 'where to write the manifest' },
  { name: 'host', type: 'string', value: '<name>', default: 'none', help: `also write this host's configuration: ${HOSTS.filter((h) => h !== 'none').join(', ')}` },
  { name: 'origin', type: 'string', value: '<url>', default: 'none', help: "with --host, forward dynamic routes and every path not in the output to your Next.js server at this URL" },
  { name: 'json', type: 'boolean', default: 'off', help: 'print the manifest to stdout; the report goes to stderr' },
  { name: 'format', type: 'string', value: '<text|markdown>', default: 'text', help: "the report's format; markdown suits a pull-request comment" },
  { name: 'baseline', type: 'string', value: '<manifest>', default: 'none', help: "compare with a previous run's manifest and list what changed" },
  { name: 'fail-on', type: 'string', multiple: true, value: '<dynamic|new-dynamic|frozen>', default: 'never', help: 'exit with 3 when any route is dynamic, or only when a route that was static in --baseline is now dynamic, or (frozen) when a static path read the network at build time without revalidate; repeatable' },
  { name: 'fail-on-dynamic', type: 'boolean', default: 'off', help: 'the same as --fail-on dynamic' },
  { name: 'allow-dynamic', type: 'string', multiple: true, value: '<glob>', default: 'none', help: "a path or route pattern meant to stay dynamic (repeatable), e.g. '/api/**'" },
  { name: 'allow-frozen', type: 'string', multiple: true, value: '<glob>', default: 'none', help: 'a path or route pattern allowed to keep what it read from the network at build time, with --fail-on frozen (repeatable)' },
  { name: 'incremental', type: 'boolean', default: 'off', help: "run a path's handler only when its code or something it read changed since the last build into --out; the others keep their bytes" },
  { name: 'strict', type: 'boolean', default: 'off', help: 'also apply the Cache Components rules of Next.js 16: Math.random(), Date.now(), uncached fetch, timers… make a path dynamic' },
  { name: 'shard', type: 'string', value: '<i>/<n>', default: 'the whole build', help: 'build part i of n (balanced by path count) into --out, for `prerender merge`' },
  { name: 'concurrency', type: 'string', value: '<n>', default: 'number of cores', help: 'the most worker threads (another starts only when the work measured so far would outlast starting it; by default the last core only for paths of 3 ms and more)' },
  { name: 'timeout', type: 'string', value: '<seconds>', default: '60', help: 'time limit of one handler or generateStaticParams call (without it, a GET that Next.js 15+ would not run at build has 10 s, then stays on a server)' },
  { name: 'retries', type: 'string', value: '<n>', default: '0', help: 'tries again a path that timed out, n more times' },
  { name: 'max-memory', type: 'string', value: '<MB>', default: '2048', help: "memory limit of each worker thread (its heap; with Node.js 22.16+ its Buffers too)" },
  { name: 'max-body', type: 'string', value: '<MB>', default: '512', help: 'largest response body; a larger one is an error' },
  { name: 'force', type: 'boolean', default: 'off', help: 'replace an existing --out folder that route-prerender did not write' },
  { name: 'keep-partial', type: 'boolean', default: 'off', help: 'when a route errors, keep the unfinished output for inspection' },
  { name: 'quiet', type: 'boolean', default: 'off', help: 'show only the report: no route output, no progress' },
  { name: 'color', type: 'boolean', default: 'on a terminal', help: 'colour even when not on a terminal (FORCE_COLOR works too)' },
  { name: 'no-color', type: 'boolean', default: 'off', help: 'plain text (NO_COLOR works too)' },
  { name: 'help', short: 'h', type: 'boolean', default: '', help: 'show this help' },
  { name: 'version', short: 'v', type: 'boolean', default: '', help: 'show the version' },
];

export const MERGE_FLAGS: Flag[] = [
  { name: 'out', short: 'o', type: 'string', value: '<dir>', default: 'dist', help: 'output folder of the merged build' },
  { name: 'force', type: 'boolean', default: 'off', help: 'replace an existing --out folder that route-prerender did not write' },
  { name: 'origin', type: 'string', value: '<url>', default: 'none', help: 'as for a build: forward what the output does not have to this server' },
  { name: 'json', type: 'boolean', default: 'off', help: 'print the merged manifest to stdout' },
  { name: 'help', short: 'h', type: 'boolean', default: '', help: 'show this help' },
];

export const EXPLAIN_FLAGS: Flag[] = [
  { name: 'out', short: 'o', type: 'string', value: '<dir>', default: 'dist', help: 'the output folder of the build' },
  { name: 'manifest', type: 'string', value: '<file>', default: 'in or beside <out>', help: "the build's manifest, when it was written elsewhere" },
  { name: 'json', type: 'boolean', default: 'off', help: 'print the explanation as JSON' },
  { name: 'help', short: 'h', type: 'boolean', default: '', help: 'show this help' },
];

export const PREVIEW_FLAGS: Flag[] = [
  { name: 'port', short: 'p', type: 'string', value: '<n>', default: '4173', help: 'the port to listen on (0 picks a free one)' },
  { name: 'origin', type: 'string', value: '<url>', default: 'none', help: 'forward dynamic routes and every path not in the output to this Next.js server' },
  { name: 'listen', type: 'string', value: '<address>', default: '127.0.0.1', help: 'the address to listen on; 0.0.0.0 opens it to your network' },
  { name: 'help', short: 'h', type: 'boolean', default: '', help: 'show this help' },
];

const WIDTH = 80;

export function helpText(): string {
  const lines = [
    'Usage: prerender [appDir] [options]',
    '       prerender merge <shard-dir>... --out <dir> [--force] [--json]',
    '       prerender preview [dir] [--port <n>] [--origin <url>] [--listen <addr>]',
    '       prerender explain <path> [--out <dir>] [--manifest <file>] [--json]',
    '       prerender help',
    '',
    ...wrap('Prerenders the static GET route handlers of a Next.js App Router app to plain files, and reports which routes must stay dynamic and why.', 0),
    '',
    'Arguments:',
    ...wrap('the app directory (./app or ./src/app), or the project folder holding it (default: the current folder)', 28).map((line, i) => (i === 0 ? `  ${'appDir'.padEnd(26)}${line.trimStart()}` : line)),
    '',
    'Options:',
  ];
  for (const flag of FLAGS) lines.push(...optionLines(flag));
  lines.push('', 'Preview options:');
  for (const flag of PREVIEW_FLAGS.filter((f) => f.name !== 'help')) lines.push(...optionLines(flag));
  lines.push('', 'Explain options:');
  for (const flag of EXPLAIN_FLAGS.filter((f) => f.name !== 'help')) lines.push(...optionLines(flag));
  lines.push('', ...wrap('Exit codes: 0 done, 1 a route errored, 2 bad usage or set-up, 3 dynamic or frozen routes counted by --fail-on, 130 or 143 interrupted.', 0));
  return lines.join('\n');
}

function optionLines(flag: Flag): string[] {
  const name = `${flag.short ? `-${flag.short}, ` : '    '}--${flag.name}${flag.value ? ` ${flag.value}` : ''}`;
  const text = flag.default ? `${flag.help} (default: ${flag.default})` : flag.help;
  const column = 28;
  if (name.length + 2 >= column) return [`  ${name}`, ...wrap(text, column)];
  const [first, ...rest] = wrap(text, column);
  return [`  ${name.padEnd(column - 2)}${first.trimStart()}`, ...rest];
}

/** Words folded to WIDTH columns, every line indented by `indent`. */
function wrap(text: string, indent: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > WIDTH) {
      lines.push(' '.repeat(indent) + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(' '.repeat(indent) + line);
  return lines;
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** parseArgs with the flags of the table, and our own words for an unknown or misused flag. */
export function parseFlags(argv: string[], flags: Flag[] = FLAGS): { values: Values; positionals: string[] } {
  const options = Object.fromEntries(flags.map((f) => [f.name, { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) }]));
  try {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options });
    return { values: values as Values, positionals };
  } catch (error) {
    throw setupError('USAGE', [flagProblem(error as NodeJS.ErrnoException, flags)]);
  }
}

function flagProblem(error: NodeJS.ErrnoException, flags: Flag[]): string {
  const named = /'(-{1,2}[^' ]+)/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && named) {
    const near = closest(named.replace(/^-+/, '').replace(/=.*$/, ''), flags.map((f) => f.name));
    return `unknown option ${named}${near ? ` (did you mean --${near}?)` : ''}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // Node names the flag as `-o, --out <value>` or `--json`.
    const long = /--([a-z-]+)/.exec(error.message)?.[1];
    const flag = flags.find((f) => f.name === long);
    if (flag) return flag.type === 'string' ? `--${flag.name} needs a value: --${flag.name} ${flag.value ?? '<value>'}` : `--${flag.name} takes no value`;
  }
  return error.message.replace(/\. To specify a positional argument.*$/s, '');
}

/** The flag name nearest to `word` (edit distance at most 2, or a prefix), if any. */
export function closest(word: string, names: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = name.startsWith(word) || word.startsWith(name) ? 1 : editDistance(word, name);
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/** What the report should look like and which policy decides the exit code. */
export interface ReportSettings {
  format: 'text' | 'markdown';
  json: boolean;
  quiet: boolean;
  failOn?: FailOn;
  allowDynamic: string[];
  /** `--fail-on frozen`: a static path that read the network without revalidate fails the build. */
  failOnFrozen?: boolean;
  allowFrozen?: string[];
  baseline?: string;
  /** Colour: from --color / --no-color, NO_COLOR and FORCE_COLOR, else whether stderr is a terminal. */
  color: boolean;
}

export interface BuildFlags {
  appDir?: string;
  out?: string;
  manifest?: string;
  host?: HostName;
  origin?: string;
  concurrency?: number;
  timeout?: number;
  retries?: number;
  maxMemory?: number;
  maxBody?: number;
  strict: boolean;
  shard?: ShardSpec;
  force: boolean;
  keepPartial: boolean;
  incremental: boolean;
  report: ReportSettings;
}

/** The build's options from the flags; every value is checked here, once, naming the flag. */
export function readBuildFlags(values: Values, positionals: string[], env: NodeJS.ProcessEnv, isTTY: boolean): BuildFlags {
  if (positionals.length > 1) throw usage(`Expected one app directory, got ${positionals.length}: ${positionals.join(' ')}.`);
  const text = (name: string) => values[name] as string | undefined;
  const format = text('format') ?? 'text';
  if (format !== 'text' && format !== 'markdown') throw usage(`Expected --format to be text or markdown, got \`${format}\`.`);
  const failOns = ((values['fail-on'] as string[] | undefined) ?? []).flatMap((value) => value.split(',')).map((value) => value.trim());
  for (const value of failOns) if (value !== 'dynamic' && value !== 'new-dynamic' && value !== 'frozen') throw usage(`Expected --fail-on to be dynamic, new-dynamic or frozen, got \`${value}\`.`);
  const dynamicRule = failOns.filter((value) => value !== 'frozen');
  if (new Set(dynamicRule).size > 1) throw usage('Expected one of --fail-on dynamic and --fail-on new-dynamic, not both (dynamic already counts every dynamic route).');
  const failOn = (dynamicRule[0] ?? (values['fail-on-dynamic'] ? 'dynamic' : undefined)) as FailOn | undefined;
  if (failOn === 'new-dynamic' && text('baseline') === undefined) throw usage('--fail-on new-dynamic compares with a previous run: pass its manifest with --baseline <file>.');
  const host = text('host');
  if (host !== undefined && !HOSTS.includes(host as HostName)) throw usage(`Expected --host to be one of ${HOSTS.join(', ')}, got \`${host}\`.`);
  const shard = text('shard');
  return {
    appDir: positionals[0],
    out: text('out'),
    manifest: text('manifest'),
    host: host as HostName | undefined,
    origin: text('origin'),
    concurrency: integer(values, 'concurrency', 1),
    timeout: positive(values, 'timeout', 'a number of seconds above 0'),
    retries: integer(values, 'retries', 0),
    maxMemory: integer(values, 'max-memory', 32),
    maxBody: positive(values, 'max-body', 'a number of MB above 0'),
    strict: values.strict === true,
    shard: shard === undefined ? undefined : parseShard(shard),
    force: values.force === true,
    keepPartial: values['keep-partial'] === true,
    incremental: values.incremental === true,
    report: {
      format,
      json: values.json === true,
      quiet: values.quiet === true,
      failOn,
      allowDynamic: (values['allow-dynamic'] as string[] | undefined) ?? [],
      failOnFrozen: failOns.includes('frozen'),
      allowFrozen: (values['allow-frozen'] as string[] | undefined) ?? [],
      baseline: text('baseline'),
      color: colorWanted(values, env, isTTY),
    },
  };
}

/** --no-color and NO_COLOR win; then --color and FORCE_COLOR (not `0`); else a terminal. */
export function colorWanted(values: Values, env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (values['no-color'] || values.color === false || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false;
  if (values.color === true) return true;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY;
}

function integer(values: Values, name: string, min: number): number | undefined {
  const raw = values[name] as string | undefined;
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw usage(`Expected --${name} to be an integer from ${min} and up, got \`${raw}\`.`);
  return Number(raw);
}

function positive(values: Values, name: string, expected: string): number | undefined {
  const raw = values[name] as string | undefined;
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) throw usage(`Expected --${name} to be ${expected}, got \`${raw}\`.`);
  return value;
}

function usage(message: string) {
  return setupError('USAGE', [message]);
}
