/**
 * Evaluates a next.config file in the process `next build` gives it: `build` in `process.argv`
 * (Velite's Next.js set-up, and configs like it, build their content when it is), `NODE_ENV` and
 * `NEXT_PHASE` of a production build, and the project root as the working directory. Run as a
 * worker thread, or as a child process when the build runs from another folder (a thread cannot
 * change its working directory, and a config's relative paths are resolved from it). It answers
 * once, with the config as plain data (functions such as `headers` become the marker `true`), after
 * what the config printed has gone out, so that the build receives that output first.
 *
 * This module loads nothing of the library: it is user code's host, started for one answer. A test
 * checks that its REGEXP_KEY is loaders.ts's.
 */
import { parentPort, workerData } from 'node:worker_threads';

/** The key a RegExp of the config is sent under (the same as loaders.ts's REGEXP_KEY, which this module does not load). */
const REGEXP_KEY = '__routePrerenderRegExp';

/** What the loader is given: the config's URL and the project root. */
export interface ConfigRequest {
  url: string;
  root: string;
}

export type ConfigAnswer = { ok: true; config: Record<string, unknown>; webpackAliases?: Record<string, string>; unsettled?: string[] } | { ok: false; message: string };

const flushed = () => new Promise<void>((resolve) => process.stdout.write('', () => process.stderr.write('', () => resolve())));

/**
 * Waits until nothing the config started is still working: a plugin may start its content
 * generator without awaiting it (fumadocs-mdx's createMDX writes `.source` that way), and under
 * `next build` it finishes while the build goes on. What stays open for good (timers, file
 * watchers, servers) is not waited for; files being read or written, child processes and
 * connections are, up to `MAX_SETTLE_MS`; what is still working then is named in the answer.
 */
async function settled(): Promise<string[]> {
  const deadline = Date.now() + MAX_SETTLE_MS;
  for (let quiet = 0; quiet < 2; ) {
    if (Date.now() >= deadline) return working();
    quiet = working().length > 0 ? 0 : quiet + 1;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return [];
}

/** The kinds of resources open beyond the lasting ones and those open before the config ran (the loader's own). */
function working(): string[] {
  const out: string[] = [];
  for (const [name, count] of counts(process.getActiveResourcesInfo())) if (!LASTING.has(name) && count > (initial.get(name) ?? 0)) out.push(name);
  return out;
}

function counts(names: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of names) out.set(name, (out.get(name) ?? 0) + 1);
  return out;
}

/** What was open when the request came, before the config ran. */
let initial = new Map<string, number>();

const MAX_SETTLE_MS = 10_000;

/** Resources that keep an event loop alive without being work that finishes. */
const LASTING = new Set(['Timeout', 'Immediate', 'FSEventWrap', 'StatWatcher', 'TCPServerWrap', 'PipeServerWrap', 'TTYWrap', 'SignalWrap', 'MessagePort', 'UDPWrap']);

async function load({ url, root }: ConfigRequest): Promise<ConfigAnswer> {
  try {
    const module = (await import(url)) as { default?: unknown };
    let config: unknown = module.default ?? module;
    if (typeof config === 'function') config = await (config as (phase: string, context: unknown) => unknown)('phase-production-build', { defaultConfig: {} });
    const plain: Record<string, unknown> = {};
    for (const [key, value] of Object.entries((config ?? {}) as Record<string, unknown>)) plain[key] = typeof value === 'function' ? true : value;
    const webpack = (config as { webpack?: unknown } | undefined)?.webpack;
    const webpackAliases = typeof webpack === 'function' ? await aliasesOf(webpack as WebpackFunction, root, plain) : undefined;
    // As plain data, but for the RegExps of loader rule conditions, sent as objects (loaders.ts reads them back).
    const data = JSON.parse(JSON.stringify(plain, (_key, value: unknown) => (value instanceof RegExp ? { [REGEXP_KEY]: { source: value.source, flags: value.flags } } : value))) as Record<string, unknown>;
    return { ok: true, config: data, ...(webpackAliases ? { webpackAliases } : {}) };
  } catch (error) {
    return { ok: false, message: String((error as Error | undefined)?.message ?? error) };
  }
}

type WebpackFunction = (config: Record<string, unknown>, options: Record<string, unknown>) => unknown;

/**
 * The module aliases a config's `webpack()` function sets for the server build (next-intl's plugin
 * points `next-intl/config` at the app's request config that way before Next.js 16). It is called
 * with a stand-in of webpack's configuration and options (plugins it constructs are never run);
 * aliases to a path or package count, from the aliases it added. Undefined when it throws.
 */
async function aliasesOf(webpack: WebpackFunction, root: string, config: Record<string, unknown>): Promise<Record<string, string> | undefined> {
  const alias: Record<string, unknown> = {};
  const stub: Record<string, unknown> = {
    context: root, mode: 'production', name: 'server', target: 'node', entry: {}, output: {}, plugins: [], externals: [], optimization: {}, experiments: {}, node: {}, performance: {},
    resolve: { alias, extensions: [], modules: [], fallback: {}, plugins: [], conditionNames: [], mainFields: [] },
    resolveLoader: { alias: {}, modules: [] },
    module: { rules: [], parser: {}, generator: {} },
  };
  // Anything taken from the webpack module (`new webpack.DefinePlugin(…)`) is an inert class.
  const inert = new Proxy({}, { get: () => class {} });
  try {
    // Next.js calls it synchronously; a promise that never settles must not hold the build.
    const called = Promise.resolve(webpack(stub, { buildId: 'route-prerender', dev: false, isServer: true, nextRuntime: 'nodejs', dir: root, config, defaultLoaders: { babel: {} }, webpack: inert }));
    let timer: NodeJS.Timeout | undefined;
    const returned = (await Promise.race([called, new Promise((resolve) => (timer = setTimeout(resolve, 2000, stub)))])) as typeof stub | undefined;
    clearTimeout(timer);
    const found = ((returned?.resolve as { alias?: unknown } | undefined)?.alias ?? alias) as Record<string, unknown>;
    const out: Record<string, string> = {};
    for (const [name, target] of Object.entries(found)) if (typeof target === 'string') out[name.replace(/\$$/, '')] = target;
    return out;
  } catch {
    return undefined;
  }
}

/** The answer to `request`, once what the config started has settled and what it printed has gone out. */
async function respond(request: ConfigRequest): Promise<ConfigAnswer> {
  initial = counts(process.getActiveResourcesInfo());
  const answer = await load(request);
  const unsettled = await settled();
  await flushed();
  return answer.ok && unsettled.length > 0 ? { ...answer, unsettled } : answer;
}

if (parentPort) {
  const request = workerData as ConfigRequest;
  process.cwd = () => request.root;
  parentPort.postMessage(await respond(request));
} else if (process.send) {
  process.once('message', (request: ConfigRequest) => {
    // The output streams (pipes, made on first use) stay open as long as the process: made now,
    // they are part of what was open before the config ran.
    void process.stdout;
    void process.stderr;
    void respond(request).then((answer) => process.send!(answer));
  });
}
