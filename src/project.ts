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

import { installHint, setupError } from './errors.js';
import { withEsbuild } from './esbuild.js';

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
  /**
   * The setting that turns on Next.js's Cache Components rules (`cacheComponents`, or
   * `experimental.dynamicIO` / `experimental.ppr` in the versions that had them), when one does.
   */
  cacheComponents?: string;
  /** `output: 'export'`: Next.js writes static files only, and fails the build for a route that needs a server. */
  staticExport?: boolean;
}

export interface Project {
  root: string;
  /** Variables from the `.env` files (not those already in the environment). */
  env: Record<string, string>;
  envFiles: string[];
  config: NextConfigSummary;
  /** The version of `next` the project has installed, if any. */
  nextVersion?: string;
}

export const DEFAULT_PAGE_EXTENSIONS = ['tsx', 'ts', 'jsx', 'js'];

export async function loadProject(root: string, environment: NodeJS.ProcessEnv = process.env): Promise<Project> {
  const envFiles = ENV_FILES.map((name) => path.join(root, name)).filter((file) => existsSync(file));
  const env: Record<string, string> = {};
  for (const file of envFiles) {
    for (const [key, value] of Object.entries(parseEnv(readFileSync(file, 'utf8')))) {
      if (!(key in env)) env[key] = value;
    }
  }
  expandEnv(env, environment);
  const config = await loadNextConfig(root, { ...env, ...definedOnly(environment) });
  return { root, env, envFiles, config, nextVersion: installedNextVersion(root) };
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
  assetPrefix: '`assetPrefix` is not applied',
  skipTrailingSlashRedirect: '`skipTrailingSlashRedirect` is not applied',
};

async function loadNextConfig(root: string, env: Record<string, string>): Promise<NextConfigSummary> {
  const defaults: NextConfigSummary = { basePath: '', pageExtensions: DEFAULT_PAGE_EXTENSIONS, env: {}, ignored: [] };
  const name = CONFIG_FILES.find((file) => existsSync(path.join(root, file)));
  if (!name) return defaults;
  const file = path.join(root, name);
  const raw = await evaluateConfig(file, env);
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
  const experimental = (raw.experimental ?? {}) as Record<string, unknown>;
  const cacheComponents = raw.cacheComponents === true ? 'cacheComponents' : experimental.dynamicIO === true ? 'experimental.dynamicIO' : experimental.cacheComponents === true ? 'experimental.cacheComponents' : experimental.ppr === true ? 'experimental.ppr' : undefined;
  return { basePath, pageExtensions: pageExtensions as string[], env: configEnv, file, ignored, ...(cacheComponents ? { cacheComponents } : {}), ...(raw.output === 'export' ? { staticExport: true } : {}) };
}

/**
 * Evaluates the config in a worker thread of its own (it is user code), with the project's
 * environment. A `.ts` config is compiled first (its own relative imports bundled with it) into a
 * file beside it, removed right after, so that the packages it imports (`@next/mdx`, `next-intl`,
 * …) resolve from the project as they do for `next build`. Functions (`headers`, `redirects`)
 * come back as the marker `true`.
 */
async function evaluateConfig(file: string, env: Record<string, string>): Promise<Record<string, unknown>> {
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
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      try {
        let config = await import(workerData.url);
        config = config.default ?? config;
        if (typeof config === 'function') config = await config('phase-production-build', { defaultConfig: {} });
        const plain = {};
        for (const [key, value] of Object.entries(config ?? {})) plain[key] = typeof value === 'function' ? true : value;
        parentPort.postMessage({ ok: true, config: JSON.parse(JSON.stringify(plain)) });
      } catch (error) {
        parentPort.postMessage({ ok: false, message: String(error && error.message || error) });
      }
    })();`;
  try {
    const worker = new Worker(source, { eval: true, workerData: { url }, env: { ...env, NODE_ENV: 'production', NEXT_PHASE: 'phase-production-build' }, execArgv: [] });
    const reply = await new Promise<{ ok: boolean; config?: Record<string, unknown>; message?: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`it exited with code ${code} while loading`)));
    });
    await worker.terminate();
    if (!reply.ok) throw new Error(reply.message);
    return reply.config ?? {};
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
