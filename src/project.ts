/**
 * The project around the app directory: `.env` files and `next.config.*`, read as `next build`
 * reads them for a production build.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChildProcess } from 'node:child_process';

import { installHint, setupError } from './errors.js';
import { libraryFile } from './places.js';
import { withEsbuild } from './esbuild.js';
import type { ConfigAnswer, ConfigRequest } from './config-loader.js';
import { loaderRules, type LoaderRule } from './loaders.js';

/** Next.js's order for `next build`: the first file that sets a key wins (after the environment). */
export const ENV_FILES = ['.env.production.local', '.env.local', '.env.production', '.env'];

export interface NextConfigSummary {
  basePath: string;
  pageExtensions: string[];
  env: Record<string, string>;
  /** The config file, when there is one. */
  file?: string;
  /** Settings we do not apply and that would change what is served, each as a sentence. */
  ignored: string[];
  /** Packages left out of the compiled routes, as Next.js leaves them out of its server bundles (`serverExternalPackages`). */
  serverExternalPackages: string[];
  /** `turbopack.resolveAlias` (`experimental.turbo.resolveAlias` before Next.js 15.3), for the server: import → module. */
  resolveAlias: Record<string, string>;
  /** `turbopack.rules` (`experimental.turbo.rules` before Next.js 15.3): loaders by file name. */
  loaderRules: LoaderRule[];
  /**
   * The setting that turns on Next.js's Cache Components rules (`cacheComponents`, or
   * `experimental.dynamicIO` / `experimental.ppr` in the versions that had them), when one does.
   */
  cacheComponents?: string;
  /** `output: 'export'`: Next.js writes static files only, and fails the build for a route that needs a server. */
  staticExport?: boolean;
  /** `assetPrefix`, when set: the start of an imported image's `src` (else `basePath`, as Next.js defaults it). */
  assetPrefix?: string;
  /** `images.disableStaticImages`: an imported image is not made its data (see images.ts). */
  disableStaticImages?: boolean;
}

export interface Project {
  root: string;
  /** What the project's middleware (`proxy.ts`, or `middleware.ts` before Next.js 16) does that a host serving the output does not: a warning, when there is one. */
  middleware?: string;
  /** Variables from the `.env` files (not those already in the environment). */
  env: Record<string, string>;
  envFiles: string[];
  config: NextConfigSummary;
  /** The version of `next` the project has installed, if any. */
  nextVersion?: string;
}

export const DEFAULT_PAGE_EXTENSIONS = ['tsx', 'ts', 'jsx', 'js'];

/**
 * The project at `root`: its environment files and next.config. What the config prints while it is
 * evaluated (a content pipeline building, say) goes to `onOutput`, a line or a few at a time.
 */
export async function loadProject(root: string, environment: NodeJS.ProcessEnv = process.env, onOutput?: (text: string) => void): Promise<Project> {
  const envFiles = ENV_FILES.map((name) => path.join(root, name)).filter((file) => existsSync(file));
  const env: Record<string, string> = {};
  for (const file of envFiles) {
    for (const [key, value] of Object.entries(parseEnv(readFileSync(file, 'utf8')))) {
      if (!(key in env)) env[key] = value;
    }
  }
  expandEnv(env, environment);
  const config = await loadNextConfig(root, { ...env, ...definedOnly(environment) }, onOutput);
  const middleware = middlewareWarning(root, config.pageExtensions);
  return { root, env, envFiles, config, nextVersion: installedNextVersion(root), ...(middleware ? { middleware } : {}) };
}

/**
 * The project's middleware, if it has one: `proxy` (Next.js 16) or `middleware` (before, and still
 * read by 16), with one of the page extensions, in the project's folder or its `src/`. Under Next.js
 * it runs before each request its matcher selects, a prerendered path's too; a host serving the
 * output from files never runs it. Its matcher is read from the file's text (Next.js requires it to
 * be a literal), its paths only: `has` and `missing` conditions are not weighed.
 */
export function middlewareWarning(root: string, extensions: string[]): string | undefined {
  for (const folder of [root, path.join(root, 'src')]) {
    for (const name of ['proxy', 'middleware']) {
      for (const extension of extensions) {
        const file = path.join(folder, `${name}.${extension}`);
        if (!existsSync(file)) continue;
        const matcher = /\bmatcher\s*:\s*(\[[^\]]*\]|'[^']*'|"[^"]*"|`[^`]*`)/.exec(readFileSync(file, 'utf8'))?.[1];
        const paths = matcher === undefined ? [] : [...matcher.matchAll(/'(\/[^']*)'|"(\/[^"]*)"|`(\/[^`]*)`/g)].map((m) => m[1] ?? m[2] ?? m[3]);
        const where = matcher === undefined ? 'every path' : paths.length > 0 ? `the paths its matcher selects (${paths.join(', ')})` : 'the paths its matcher selects';
        return `${path.relative(root, file).split(path.sep).join('/')}: under Next.js the ${name} runs before requests to ${where}, prerendered ones too; a host serving the output's files never runs it: do on the host what it does for those paths (redirects, headers, cookies, access checks), or keep them dynamic.`;
      }
    }
  }
  return undefined;
}

function installedNextVersion(root: string): string | undefined {
  try {
    const file = createRequire(path.join(root, 'package.json')).resolve('next/package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function definedOnly(environment: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(environment)) if (value !== undefined) out[key] = value;
  return out;
}

/** The dotenv format: `KEY=value`, `export KEY=value`, quotes, `#` comments, multi-line double quotes. */
export function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const line = /^\s*(?:export\s+)?([\w.-]+)\s*=\s*('(?:\\'|[^'])*'|"(?:\\"|[^"])*"|`(?:\\`|[^`])*`|[^#\r\n]*)?\s*(?:#.*)?$/gm;
  for (const match of text.matchAll(line)) {
    const key = match[1];
    let value = (match[2] ?? '').trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === '`') && value.endsWith(quote)) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
      out[key] = quote === "'" ? `\0raw${value}` : value;
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** `$VAR` and `${VAR}` refer to the environment first, then to the files (as dotenv-expand does). */
function expandEnv(env: Record<string, string>, environment: NodeJS.ProcessEnv): void {
  const lookup = (name: string, seen: Set<string>): string => {
    if (environment[name] !== undefined) return environment[name]!;
    if (!(name in env) || seen.has(name)) return '';
    return expand(name, seen);
  };
  const expand = (key: string, seen = new Set<string>()): string => {
    const value = env[key];
    if (value.startsWith('\0raw')) return value.slice(4);
    seen.add(key);
    return value.replace(/(\\)?\$(?:\{([\w.-]+)\}|([\w]+))/g, (whole, escaped, braced, bare) => (escaped ? whole.slice(1) : lookup(braced ?? bare, new Set(seen))));
  };
  const expanded = Object.fromEntries(Object.keys(env).map((key) => [key, expand(key)]));
  Object.assign(env, expanded);
}

const CONFIG_FILES = ['next.config.js', 'next.config.mjs', 'next.config.cjs', 'next.config.ts', 'next.config.mts'];

/** Settings that change what is served, which route-prerender does not apply. */
const IGNORED: Record<string, string> = {
  trailingSlash: '`trailingSlash` is not applied: paths and files are written without a trailing slash',
  i18n: '`i18n` is not applied: paths are not prefixed with a locale',
  headers: '`headers()` is not applied: set those headers on your host',
  redirects: '`redirects()` is not applied: set those redirects on your host',
  rewrites: '`rewrites()` is not applied: set those rewrites on your host',
  skipTrailingSlashRedirect: '`skipTrailingSlashRedirect` is not applied',
};

async function loadNextConfig(root: string, env: Record<string, string>, onOutput?: (text: string) => void): Promise<NextConfigSummary> {
  const defaults: NextConfigSummary = { basePath: '', pageExtensions: DEFAULT_PAGE_EXTENSIONS, env: {}, ignored: [], serverExternalPackages: [], resolveAlias: {}, loaderRules: [] };
  const name = CONFIG_FILES.find((file) => existsSync(path.join(root, file)));
  if (!name) return defaults;
  const file = path.join(root, name);
  const { config: raw, webpackAliases, unsettled } = await evaluateConfig(file, { env, root, onOutput });
  const problem = (what: string) => setupError('CONFIG_INVALID', [file, what], { file });

  const basePath = raw.basePath ?? '';
  if (typeof basePath !== 'string' || (basePath !== '' && (!basePath.startsWith('/') || basePath.endsWith('/')))) {
    throw problem(`\`basePath\` must be a string that starts with / and does not end with /, got ${JSON.stringify(basePath)}.`);
  }
  const pageExtensions = raw.pageExtensions ?? DEFAULT_PAGE_EXTENSIONS;
  if (!Array.isArray(pageExtensions) || pageExtensions.some((e) => typeof e !== 'string' || e === '')) {
    throw problem(`\`pageExtensions\` must be an array of extensions such as ["tsx", "ts"], got ${JSON.stringify(pageExtensions)}.`);
  }
  const configEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries((raw.env ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string') throw problem(`\`env.${key}\` must be a string, got ${JSON.stringify(value)}.`);
    configEnv[key] = value;
  }
  const ignored = Object.keys(IGNORED).filter((key) => raw[key] !== undefined && raw[key] !== false && raw[key] !== null).map((key) => `${path.basename(file)}: ${IGNORED[key]}.`);
  if (unsettled) ignored.push(`${path.basename(file)}: work it started (${unsettled.join(', ')}) was still running 10 s after it loaded; routes were compiled without waiting for it.`);
  const experimental = (raw.experimental ?? {}) as Record<string, unknown>;
  const cacheComponents = raw.cacheComponents === true ? 'cacheComponents' : experimental.dynamicIO === true ? 'experimental.dynamicIO' : experimental.cacheComponents === true ? 'experimental.cacheComponents' : experimental.ppr === true ? 'experimental.ppr' : undefined;
  // Its name before Next.js 15 was experimental.serverComponentsExternalPackages.
  const externals = [raw.serverExternalPackages, experimental.serverComponentsExternalPackages].flatMap((list) => (list === undefined ? [] : [list]));
  for (const list of externals) {
    if (!Array.isArray(list) || list.some((name) => typeof name !== 'string')) throw problem(`\`serverExternalPackages\` must be an array of package names, got ${JSON.stringify(list)}.`);
  }
  // `turbopack` was `experimental.turbo` before Next.js 15.3; the newer name wins.
  const [turbopack, turbo] = [raw.turbopack, experimental.turbo] as Array<Record<string, unknown> | undefined>;
  // Turbopack's aliases win over those webpack() sets (plugins set both alike).
  const resolveAlias = Object.assign({}, webpackAliases, serverAliases(turbo?.resolveAlias), serverAliases(turbopack?.resolveAlias)) as Record<string, string>;
  const rules = loaderRules(turbopack?.rules ?? turbo?.rules);
  const assetPrefix = typeof raw.assetPrefix === 'string' && raw.assetPrefix !== '' ? raw.assetPrefix.replace(/\/$/, '') : undefined;
  const disableStaticImages = (raw.images as { disableStaticImages?: unknown } | undefined)?.disableStaticImages === true;
  return { basePath, pageExtensions: pageExtensions as string[], env: configEnv, file, ignored, serverExternalPackages: externals.flat() as string[], resolveAlias, loaderRules: rules, ...(cacheComponents ? { cacheComponents } : {}), ...(raw.output === 'export' ? { staticExport: true } : {}), ...(assetPrefix ? { assetPrefix } : {}), ...(disableStaticImages ? { disableStaticImages } : {}) };
}

/**
 * The aliases that apply to server code: a string, the first of a list, or the `node` (else
 * `default`) entry of conditions (`{ browser: '…' }` alone does not apply).
 */
function serverAliases(aliases: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof aliases !== 'object' || aliases === null) return out;
  for (const [name, target] of Object.entries(aliases as Record<string, unknown>)) {
    const chosen = Array.isArray(target) ? target[0] : typeof target === 'object' && target !== null ? ((target as Record<string, unknown>).node ?? (target as Record<string, unknown>).default) : target;
    if (typeof chosen === 'string') out[name] = chosen;
  }
  return out;
}

/**
 * Evaluates the config in a worker thread of its own (it is user code), with the project's
 * environment. A `.ts` config is compiled first (its own relative imports bundled with it) into a
 * file beside it, removed right after, so that the packages it imports (`@next/mdx`, `next-intl`,
 * …) resolve from the project as they do for `next build`. Functions (`headers`, `redirects`)
 * come back as the marker `true`.
 *
 * The config sees the process of `next build`: `build` is in `process.argv` (Velite's Next.js set-up,
 * and configs like it, build their content when it is) and `process.cwd()` is the project root.
 * What it prints goes to `onOutput` (never to stdout, which `--json` keeps for the manifest).
 */
async function evaluateConfig(file: string, options: { env: Record<string, string>; root: string; onOutput?: (text: string) => void }): Promise<{ config: Record<string, unknown>; webpackAliases?: Record<string, string>; unsettled?: string[] }> {
  const { env, root, onOutput } = options;
  let url = pathToFileURL(file).href;
  let compiled: string | undefined;
  if (/\.m?ts$/.test(file)) {
    compiled = path.join(path.dirname(file), `.next.config.route-prerender-${process.pid}.mjs`);
    const banner = [
      "import { createRequire as __rpCreateRequire } from 'node:module';",
      `const require = __rpCreateRequire(${JSON.stringify(file)});`,
      `const __filename = ${JSON.stringify(file)};`,
      `const __dirname = ${JSON.stringify(path.dirname(file))};`,
    ].join(' ');
    let text: string;
    try {
      const { outputFiles } = await withEsbuild((api) => api.build({ entryPoints: [file], bundle: true, packages: 'external', format: 'esm', platform: 'node', target: 'node20', write: false, logLevel: 'silent', banner: { js: banner } }));
      text = outputFiles[0].text;
    } catch (error) {
      const first = (error as { errors?: { text: string; location?: { line: number; column: number } }[] }).errors?.[0];
      const where = first?.location ? ` (line ${first.location.line}, column ${first.location.column + 1})` : '';
      throw setupError('CONFIG_INVALID', [file, `does not compile: ${first?.text ?? (error as Error).message}${where}`], { file });
    }
    await writeFile(compiled, text);
    url = pathToFileURL(compiled).href;
  }
  try {
    const reply = await runConfig({ url, root }, { ...env, NODE_ENV: 'production', NEXT_PHASE: 'phase-production-build' }, onOutput);
    if (!reply.ok) throw new Error(reply.message);
    return reply;
  } catch (error) {
    // Named by the user's file, not the compiled copy beside it.
    let message = (error as Error).message;
    if (compiled) message = message.split(pathToFileURL(compiled).href).join(file).split(compiled).join(file);
    const missing = /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1];
    const hint = missing !== undefined && !missing.startsWith('.') && !path.isAbsolute(missing) ? installHint(missing) : 'fix the config file; route-prerender reads basePath, env and pageExtensions from it';
    throw setupError('CONFIG_INVALID', [file, `cannot be loaded: ${message}`], { file, hint });
  } finally {
    if (compiled) await rm(compiled, { force: true });
  }
}

const CONFIG_LOADER = libraryFile('config-loader.js');

/**
 * Runs the config loader (see config-loader.ts) for one answer: in a worker thread when the build
 * runs in the project root, else in a child process started there (0.07 s more on a small machine,
 * paid only then). What the config prints goes to `onOutput`; the loader ends with the answer.
 */
async function runConfig(request: ConfigRequest, env: Record<string, string>, onOutput?: (text: string) => void): Promise<ConfigAnswer> {
  const printed = (chunk: Buffer | string) => onOutput?.(String(chunk).replace(/\n$/, ''));
  if (path.resolve(process.cwd()) === request.root) {
    const worker = new Worker(CONFIG_LOADER, { argv: ['build'], workerData: request, env, execArgv: [], stdout: true, stderr: true });
    const answered = answerOf(worker, printed);
    try {
      return await answered;
    } finally {
      await worker.terminate();
    }
  }
  // Loaded here: most builds run in the project root, and node:child_process costs every start.
  const { fork } = await import('node:child_process');
  const child = fork(CONFIG_LOADER, ['build'], { cwd: request.root, env, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
  const closed = new Promise((resolve) => child.once('close', resolve));
  const answered = answerOf(child, printed);
  child.send(request);
  try {
    return await answered;
  } finally {
    // What it printed before answering is read to the end of its pipes.
    child.kill('SIGKILL');
    await closed;
  }
}

/** The loader's one answer, its output passed on as it comes; ending before it answers is an error. */
function answerOf(loader: Worker | ChildProcess, printed: (chunk: Buffer | string) => void): Promise<ConfigAnswer> {
  loader.stdout?.on('data', printed);
  loader.stderr?.on('data', printed);
  return new Promise<ConfigAnswer>((resolve, reject) => {
    loader.once('message', (answer: unknown) => resolve(answer as ConfigAnswer));
    loader.once('error', reject);
    loader.once('exit', (code: number | null, signal?: string | null) => reject(new Error(`it exited with ${signal ?? `code ${code}`} while loading`)));
  });
}
