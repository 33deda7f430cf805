/**
 * Stage 2: compile every route module with ONE esbuild build. TypeScript, JSX and tsconfig `paths`
 * are handled by esbuild; imports of `next/server|headers|navigation|cache` — from route code or
 * from any package it imports — resolve to the sandbox's instrumented versions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { copyTree } from './write.js';
import { loaderRulesPlugin, type LoaderRule } from './loaders.js';
import { staticImages } from './images.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as esbuild from 'esbuild';

import pMap from 'p-map';
import { hash } from './cache.js';
import { errorText, installHint, packageName } from './errors.js';
import { libraryFile } from './places.js';
import { withEsbuild } from './esbuild.js';
import { metadataModule } from './metadata.js';
import { NEXT_EXPORTS, STAND_IN_KEY } from './next-exports.js';
import { transformUseCache } from './use-cache.js';
import { EXTERNAL_CJS_NAMESPACE } from './sandbox/protocol.js';
import type { RouteFile, RouteProblem } from './types.js';

const RUNTIME_DIR = fileURLToPath(libraryFile('sandbox/runtime/'));

/**
 * A `next/*` module as route code sees it, generated as CommonJS so that, as under webpack, a name
 * is read when it is used: the sandbox's instrumented value (registered by each worker, see
 * runner.ts), else the app's own `next` (loaded on first use), else a fallback, else `undefined`.
 * Importing a name that this version of Next.js lacks is never a link error.
 */
function nextModule(specifier: string, projectRoot: string, appNext: boolean): string {
  const own = appNext
    ? `function () { return real || (real = require('node:module').createRequire(${JSON.stringify(path.join(projectRoot, 'package.json'))})(${JSON.stringify(specifier)})); }`
    : 'function () { return {}; }';
  return `var registry = globalThis[Symbol.for(${JSON.stringify(STAND_IN_KEY)})];
var standIn = registry[${JSON.stringify(specifier)}];
var fallback = registry.fallbacks[${JSON.stringify(specifier)}] || {};
var real;
var own = ${own};
var target = {};
Object.keys(standIn).forEach(function (name) {
  Object.defineProperty(target, name, { enumerable: true, get: function () { return standIn[name]; } });
});
${JSON.stringify(NEXT_EXPORTS[specifier])}.forEach(function (name) {
  if (name in target) return;
  Object.defineProperty(target, name, { enumerable: true, get: function () { var value = own()[name]; return value === undefined ? fallback[name] : value; } });
});
module.exports = target;
`;
}

/**
 * Stand-ins and generated modules: `next/*` resolve to the sandbox's instrumented versions; a
 * metadata file's route module is generated; `next/og` is the app's own, when it has one.
 */
const standIns = (routes: RouteFile[], projectRoot: string, strict: boolean, nextMajor: number | undefined): esbuild.Plugin => ({
  name: 'route-prerender-next-stand-ins',
  setup(build) {
    const appNextOg = resolveFrom(projectRoot, 'next/og');
    const appNext = resolveFrom(projectRoot, 'next/package.json');
    // React as the app's Next.js resolves it for the server layer: its own compiled copy (React 18
    // apps too), else the app's React (see `reactConditions`).
    const compiledReact = compiledReactDir(projectRoot);
    if (compiledReact) {
      // Its own files require `next/dist/compiled/react` by name: through the same exports map.
      build.onResolve({ filter: /^(next\/dist\/compiled\/)?react(-dom)?(\/.*)?$/ }, (args) => {
        const [, name, subpath = ''] = /^(?:next\/dist\/compiled\/)?(react(?:-dom)?)(\/.*)?$/.exec(args.path)!;
        const file = resolveExports(path.join(compiledReact, name), `.${subpath}`, ['react-server', 'node', 'import', 'require', 'default']);
        return file ? { path: file } : undefined;
      });
    }
    // 'use cache' functions run in a cache scope (see use-cache.ts), with --strict.
    build.onResolve({ filter: /^route-prerender:cache-scope$/ }, () => ({ path: path.join(RUNTIME_DIR, 'strict.js'), external: true }));
    build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      // Route handlers are server code: a client module is a reference there, its code never run.
      if (isClientModule(source)) return clientReferences(build.esbuild, args.path);
      const own = !args.path.split(path.sep).includes('node_modules');
      const transformed = transformSource(source, args.path, strict && own, own ? projectRoot : undefined);
      if (transformed === source) return undefined;
      return { contents: transformed, loader: loaderOf(args.path) };
    });
    // MDX, compiled with the app's own MDX compiler (which @next/mdx and fumadocs bring).
    build.onLoad({ filter: /\.mdx$/ }, async (args) => ({ ...(await compileMdx(args.path, projectRoot)), resolveDir: path.dirname(args.path) }));
    build.onResolve({ filter: /^route-prerender-metadata:\d+$/ }, (args) => ({ path: args.path, namespace: 'route-prerender-metadata' }));
    build.onLoad({ filter: /.*/, namespace: 'route-prerender-metadata' }, (args) => {
      const route = routes[Number(args.path.split(':')[1])];
      return { contents: metadataModule(route.file, route.metadata!, path.join(RUNTIME_DIR, 'metadata.js'), appNextOg !== undefined, nextMajor), resolveDir: path.dirname(route.file), loader: 'js' };
    });
    // The app's own next/og, loaded at run time from its node_modules (it ships WebAssembly).
    build.onResolve({ filter: /^next\/og$/ }, () => ({ path: appNextOg ?? path.join(RUNTIME_DIR, 'next-og-missing.js'), external: true }));
    build.onResolve({ filter: /^next\/(server|headers|navigation|cache)(\.js)?$/ }, (args) => ({ path: args.path.replace(/\.js$/, ''), namespace: 'route-prerender-next' }));
    build.onLoad({ filter: /.*/, namespace: 'route-prerender-next' }, (args) => ({ contents: nextModule(args.path, projectRoot, appNext !== undefined), loader: 'js' }));
    // Route handlers are server code: the guard package always passes.
    build.onResolve({ filter: /^server-only$/ }, () => ({ path: path.join(RUNTIME_DIR, 'empty.js'), external: true }));
    // next/root-params, written for each importer with the names it imports, as Next.js's compiler writes it.
    // Its functions read the request store, so the runtime module is the worker's own, not a copy.
    build.onResolve({ filter: /^next\/root-params(\.js)?$/ }, (args) => ({ path: args.importer, namespace: 'route-prerender-root-params' }));
    build.onLoad({ filter: /.*/, namespace: 'route-prerender-root-params' }, async (args) => ({ contents: rootParamsModule(await readFile(args.path, 'utf8').catch(() => '')), loader: 'js' }));
    build.onResolve({ filter: /^route-prerender:root-params$/ }, () => ({ path: path.join(RUNTIME_DIR, 'root-params.js'), external: true }));
  },
});

/**
 * `next/root-params` for a module that imports from it (its `source`): an async function for each
 * name it imports, reading that param of the path being rendered (see runtime/root-params.ts).
 */
export function rootParamsModule(source: string): string {
  const names = new Set<string>();
  for (const [, list] of source.matchAll(/import\s*(?:type\s+)?\{([^}]*)\}\s*from\s*["']next\/root-params(?:\.js)?["']/g)) {
    for (const part of list.split(',')) {
      // A type imported (`type Name`) has no function.
      const [, typeOnly, name] = /^\s*(type\s+)?([A-Za-z_$][\w$]*)/.exec(part) ?? [];
      if (name && !typeOnly) names.add(name);
    }
  }
  const functions = [...names].map((name) => `export function ${name}() { return rootParam(${JSON.stringify(name)}); }`);
  return ["import { rootParam } from 'route-prerender:root-params';", ...functions].join('\n');
}

/** What, besides the sources, decides how routes compile. */
export interface CompileSettings {
  /** `--strict` (or Cache Components): 'use cache' functions are marked for the sandbox. */
  strict?: boolean;
  /** The config's server-external packages, on top of Next.js's list (see `serverExternalPackages`). */
  externals?: readonly string[];
  /** The config's `turbopack.resolveAlias`: an import of a key resolves to its module instead. */
  aliases?: Readonly<Record<string, string>>;
  /** The config's `turbopack.rules`: loaders for the files whose names match (see loaders.ts). */
  rules?: readonly LoaderRule[];
  /** Imported images become their data (see images.ts), under the config's `assetPrefix`; false with `images.disableStaticImages`. */
  images?: { assetPrefix: string } | false;
  /** The app's Next.js major version (undefined: not installed): what generated metadata modules pass their functions (see `metadataModule`). */
  nextMajor?: number;
}

/** Imported images without a prefix: the default of `CompileSettings.images`. */
const IMAGES_UNPREFIXED = Object.freeze({ assetPrefix: '' });

/**
 * The config's module aliases (`turbopack.resolveAlias`, as plugins such as next-intl's set for
 * `next-intl/config`): an import of exactly a key resolves to its target, a path relative to the
 * project root or a package.
 */
const resolveAliases = (aliases: Readonly<Record<string, string>>, projectRoot: string): esbuild.Plugin => ({
  name: 'route-prerender-resolve-aliases',
  setup(build) {
    if (Object.keys(aliases).length === 0) return;
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === ALIAS_LOOKUP || !Object.hasOwn(aliases, args.path)) return undefined;
      const target = aliases[args.path];
      const relative = target.startsWith('./') || target.startsWith('../');
      const resolved = await build.resolve(target, { kind: args.kind, resolveDir: relative ? projectRoot : args.resolveDir, importer: args.importer, pluginData: ALIAS_LOOKUP });
      return resolved.errors.length > 0 ? { errors: resolved.errors } : { path: resolved.path, external: resolved.external, namespace: resolved.namespace };
    });
  },
});

const ALIAS_LOOKUP = Symbol('alias lookup');

/**
 * Packages that Next.js leaves out of its server bundles (native addons, packages that find files
 * beside their own code, ORMs): the list of the installed Next.js (`next/dist/lib/server-external-packages.json`,
 * `.jsonc` from 16), else that of Next.js 15.2.4, with the config's `serverExternalPackages` (and
 * `experimental.serverComponentsExternalPackages`, its name before 15).
 */
export function serverExternalPackages(projectRoot: string, userExternals: readonly string[]): Set<string> {
  return new Set([...(installedExternals(projectRoot) ?? DEFAULT_SERVER_EXTERNALS), ...userExternals]);
}

function installedExternals(projectRoot: string): string[] | undefined {
  const next = resolveFrom(projectRoot, 'next/package.json');
  if (!next) return undefined;
  for (const name of ['server-external-packages.json', 'server-external-packages.jsonc']) {
    try {
      // The .jsonc form has line comments, never inside the package names.
      const list = JSON.parse(readFileSync(path.join(path.dirname(next), 'dist/lib', name), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as unknown;
      if (Array.isArray(list) && list.every((item) => typeof item === 'string')) return list as string[];
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** The list of Next.js 15.2.4, for an app whose Next.js is not installed. */
const DEFAULT_SERVER_EXTERNALS = Object.freeze([
  '@appsignal/nodejs', '@aws-sdk/client-s3', '@aws-sdk/s3-presigned-post', '@blockfrost/blockfrost-js', '@highlight-run/node', '@huggingface/transformers',
  '@jpg-store/lucid-cardano', '@libsql/client', '@mikro-orm/core', '@mikro-orm/knex', '@node-rs/argon2', '@node-rs/bcrypt', '@prisma/client', '@react-pdf/renderer',
  '@sentry/profiling-node', '@sparticuz/chromium', '@swc/core', '@xenova/transformers', 'argon2', 'autoprefixer', 'aws-crt', 'bcrypt', 'better-sqlite3', 'canvas',
  'chromadb-default-embed', 'cpu-features', 'cypress', 'dd-trace', 'eslint', 'express', 'firebase-admin', 'import-in-the-middle', 'isolated-vm', 'jest', 'jsdom',
  'keyv', 'libsql', 'mdx-bundler', 'mongodb', 'mongoose', 'newrelic', 'next-mdx-remote', 'next-seo', 'node-cron', 'node-pty', 'node-web-audio-api', 'onnxruntime-node',
  'oslo', 'pg', 'playwright', 'playwright-core', 'postcss', 'prettier', 'prisma', 'puppeteer', 'puppeteer-core', 'require-in-the-middle', 'rimraf', 'sharp',
  'shiki', 'sqlite3', 'ts-node', 'ts-morph', 'typescript', 'vscode-oniguruma', 'webpack', 'websocket', 'zeromq',
]);

/**
 * Imports of server-external packages stay imports, of the file the project's node_modules resolves
 * them to (the compiled modules live in a temporary folder, where a bare name would not resolve).
 * A CommonJS file is required, as webpack's externals are: Node.js's `import` of one finds only the
 * named exports it can read in its source, not those of `module.exports = { ...require('…') }`
 * (@prisma/client's), and `import { PrismaClient }` would fail to link.
 */
const serverExternals = (externals: ReadonlySet<string>, importers: Set<string>): esbuild.Plugin => ({
  name: 'route-prerender-server-externals',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === EXTERNAL_LOOKUP || !externals.has(packageName(args.path))) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: EXTERNAL_LOOKUP });
      if (resolved.errors.length > 0 || resolved.external || !path.isAbsolute(resolved.path)) return undefined;
      if (args.importer) importers.add(sourceFile(build.initialOptions.absWorkingDir ?? process.cwd(), args.importer));
      if (args.kind === 'require-call' || args.kind === 'require-resolve') return { path: resolved.path, external: true };
      return isCommonJs(resolved.path) ? { path: resolved.path, namespace: EXTERNAL_CJS_NAMESPACE } : { path: pathToFileURL(resolved.path).href, external: true };
    });
    // The module an import of a CommonJS external gets: it requires the file (esbuild reads the names from what it returns).
    build.onLoad({ filter: /.*/, namespace: EXTERNAL_CJS_NAMESPACE }, (args) => requiredAtRunTime(args.path));
    build.onResolve({ filter: new RegExp(`^${REQUIRED_EXTERNAL}`) }, (args) => ({ path: args.path.slice(REQUIRED_EXTERNAL.length), external: true }));
    // A native addon a compiled package requires (a napi-rs package requires its platform package's
    // `.node` file) is required from where it is at run time, as Turbopack loads one; the routes
    // that reach it count as importing a server-external package (see `importsExternals`).
    build.onLoad({ filter: /\.node$/ }, (args) => {
      importers.add(args.path);
      return requiredAtRunTime(args.path);
    });
  },
});

const REQUIRED_EXTERNAL = 'route-prerender-required:';

/** A module that requires `file` when it runs, from where it is (the specifier resolves as external). */
function requiredAtRunTime(file: string): esbuild.OnLoadResult {
  return { contents: `module.exports = require(${JSON.stringify(`${REQUIRED_EXTERNAL}${file}`)});`, loader: 'js' };
}

/** Whether Node.js loads `file` as CommonJS: `.cjs`, `.node` and `.json`, and `.js` unless its package says `"type": "module"`. */
export function isCommonJs(file: string): boolean {
  const extension = path.extname(file);
  if (extension === '.mjs' || extension === '.mts') return false;
  if (extension !== '.js') return true;
  for (let folder = path.dirname(file); ; folder = path.dirname(folder)) {
    try {
      return (JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as { type?: unknown }).type !== 'module';
    } catch {
      // no package.json here (or not JSON): its parent's decides
    }
    if (path.dirname(folder) === folder) return true;
  }
}

const EXTERNAL_LOOKUP = Symbol('server-external lookup');

/** Whether a module's directives, before any statement, include `'use client'` (a scan, not a pattern that could backtrack). */
export function isClientModule(source: string): boolean {
  let at = 0;
  for (;;) {
    while (at < source.length && /\s/.test(source[at])) at++;
    if (source.startsWith('//', at)) {
      const end = source.indexOf('\n', at);
      if (end === -1) return false;
      at = end + 1;
    } else if (source.startsWith('/*', at)) {
      const end = source.indexOf('*/', at + 2);
      if (end === -1) return false;
      at = end + 2;
    } else if (source[at] === '"' || source[at] === "'") {
      // A directive: a string statement at the top. Others may come before 'use client' ('use strict').
      const quote = source[at];
      const end = source.indexOf(quote, at + 1);
      if (end === -1) return false;
      if (source.slice(at + 1, end) === 'use client') return true;
      at = end + 1;
      while (at < source.length && (source[at] === ' ' || source[at] === '\t')) at++;
      if (source[at] === ';') at++;
    } else {
      return false;
    }
  }
}

/**
 * A `'use client'` module as server code imports it under Next.js: each export a client reference,
 * which throws if called (as Next.js's do), and none of the module's code (nor its imports: a
 * client `next/link` needs React's client build) run. The exports are found by bundling the module
 * alone, its packages left out, so that `export *` from its own files counts.
 */
export async function clientReferences(api: Pick<typeof esbuild, 'build'>, file: string): Promise<esbuild.OnLoadResult> {
  // Files a client module may import that a server build has no loader for (styles, images) are left out.
  const options = { entryPoints: [file], packages: 'external', write: false, metafile: true, format: 'esm', platform: 'node', jsx: 'automatic', resolveExtensions: BUILD_OPTIONS.resolveExtensions, logLevel: 'silent' } satisfies esbuild.BuildOptions;
  const result = await api.build({ ...options, bundle: true, external: ['*.css', '*.scss', '*.sass', '*.svg', '*.png', '*.jpg', '*.jpeg', '*.gif', '*.webp', '*.avif', '*.ico', '*.woff', '*.woff2'] }).catch(() => api.build({ ...options, bundle: false }));
  const output = Object.values(result.metafile!.outputs)[0];
  const cjs = result.metafile!.inputs[Object.keys(result.metafile!.inputs).find((input) => path.resolve(input) === file) ?? '']?.format === 'cjs';
  const lines = [
    'const reference = (name) => {',
    "  const called = function () { throw new Error(`Attempted to call ${name}() from the server but ${name} is on the client. It's not possible to invoke a client function from the server, it can only be rendered as a Component or passed to props of a Client Component.`); };",
    `  return Object.defineProperties(called, { $$typeof: { value: Symbol.for('react.client.reference') }, $$id: { value: ${JSON.stringify(pathToFileURL(file).href)} + '#' + name } });`,
    '};',
  ];
  if (cjs) {
    lines.push("module.exports = new Proxy({}, { get: (target, name) => (typeof name === 'string' && name !== '__esModule' && name !== 'then' ? (target[name] ??= reference(name)) : undefined) });");
    return { contents: lines.join('\n'), loader: 'js' };
  }
  const names = output?.exports ?? [];
  names.forEach((name, i) => lines.push(`const reference${i} = reference(${JSON.stringify(name)});`));
  if (names.length > 0) lines.push(`export { ${names.map((name, i) => `reference${i} as ${JSON.stringify(name)}`).join(', ')} };`);
  return { contents: lines.join('\n'), loader: 'js' };
}

/** The esbuild configuration, frozen; each non-obvious flag says why. */
const BUILD_OPTIONS = Object.freeze({
  bundle: true, // so that packages importing `next/*` get the stand-ins too
  platform: 'node',
  format: 'esm',
  target: 'node20',
  splitting: true, // modules shared by routes (lib/posts.ts) are compiled and evaluated once per worker
  sourcemap: 'linked', // every reported location is mapped back to the user's original file
  sourcesContent: false, // the maps are read for positions only
  keepNames: true, // function names in stack traces stay the user's
  jsx: 'automatic', // Next.js projects set "jsx": "preserve", which Node cannot run
  // Next.js's webpack order: an extensionless import finds `.mjs` too (contentlayer's generated index).
  resolveExtensions: ['.js', '.mjs', '.tsx', '.ts', '.jsx', '.json'],
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'silent', // failures are returned per route, never printed by esbuild
  metafile: true, // its inputs fingerprint the app (see sharding)
  // Bundled CommonJS packages may `require()` Node built-ins, and use `__dirname` and `__filename`
  // (a package that computes a path beside its code when it loads): ESM output has none of them.
  // As in Next.js's server bundles, the last two name the compiled chunk; a module that declares its
  // own keeps it (only free uses are replaced).
  banner: {
    js: [
      "import { createRequire as __rpCreateRequire } from 'node:module'; import { fileURLToPath as __rpFileURLToPath } from 'node:url';",
      'const require = __rpCreateRequire(import.meta.url);',
      "const __rpFilename = __rpFileURLToPath(import.meta.url); const __rpDirname = __rpFileURLToPath(new URL('.', import.meta.url)).replace(/[\\\\/]$/, '');",
    ].join(' '),
  },
  // Next.js inlines these in its server bundles (define-env): code that asks which runtime it runs
  // in (`process.env.NEXT_RUNTIME === 'nodejs'`) gets the answer it gets under next build.
  define: { __dirname: '__rpDirname', __filename: '__rpFilename', 'process.env.NEXT_RUNTIME': '"nodejs"', 'process.browser': 'false' },
} satisfies esbuild.BuildOptions);

export interface Bundle {
  dir: string;
  /** Route → compiled entry module (absolute path). */
  entries: Map<RouteFile, string>;
  /** Routes that did not compile, with esbuild's first error in the user's file. */
  failures: Map<RouteFile, RouteProblem>;
  /** Every source file that went into the build, absolute, sorted. */
  inputs: string[];
  /** Each compiled route's module graph: the source files of its entry and the chunks it imports, absolute, sorted. */
  graphs: Map<RouteFile, string[]>;
  /** The source files that import a server-external package (which is loaded from node_modules, not compiled in), absolute, sorted. */
  importers: string[];
  cleanup(): Promise<void>;
}

/**
 * Compiles into `dir` (a new temporary folder when not given), which `cleanup` removes. With
 * `strict`, 'use cache' functions are marked for the sandbox.
 */
export async function bundleRoutes(routes: RouteFile[], projectRoot: string, dir?: string, settings: CompileSettings = {}): Promise<Bundle> {
  const compile = { strict: settings.strict ?? false, externals: serverExternalPackages(projectRoot, settings.externals ?? []), aliases: settings.aliases ?? {}, rules: settings.rules ?? [], images: settings.images ?? IMAGES_UNPREFIXED, nextMajor: settings.nextMajor };
  dir ??= await mkdtemp(path.join(tmpdir(), 'route-prerender-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const failures = new Map<RouteFile, RouteProblem>();
  let buildable = routes;
  let built: Built = { inputs: [], graphs: new Map(), importers: [] };
  try {
    await withEsbuild(async (api) => {
      try {
        built = await build(api, buildable, routes, dir, projectRoot, true, compile);
      } catch (error) {
        if (!isBuildFailure(error)) throw error;
        // One broken module must not hide the others: find which routes fail on their own, then
        // build the rest together.
        await pMap(routes, async (route) => {
          try {
            await build(api, [route], routes, dir, projectRoot, false, compile);
          } catch (single) {
            if (!isBuildFailure(single)) throw single;
            failures.set(route, problemOf(single, projectRoot));
          }
        }, { concurrency: 4 });
        buildable = routes.filter((route) => !failures.has(route));
        if (buildable.length > 0) built = await build(api, buildable, routes, dir, projectRoot, true, compile);
      }
    });
  } catch (error) {
    await cleanup();
    throw error;
  }
  const entries = new Map(buildable.map((route) => [route, path.join(dir, `${entryName(routes.indexOf(route))}.js`)]));
  return { dir, entries, failures, inputs: built.inputs, graphs: built.graphs, importers: built.importers, cleanup };
}

/**
 * A previous build's compiled modules, copied from `saved` into `dir`, for routes whose sources and
 * settings are unchanged (see `unchangedBundle` in cache.ts): esbuild is not started. Undefined
 * when a file is missing; then the routes are compiled.
 */
export async function restoreBundle(saved: string, dir: string, routes: RouteFile[], built: { inputs: string[]; graphs: string[][]; importers: string[] }): Promise<Bundle | undefined> {
  try {
    await copyTree(saved, dir);
  } catch {
    return undefined;
  }
  const entries = new Map(routes.map((route, index) => [route, path.join(dir, `${entryName(index)}.js`)]));
  if (![...entries.values()].every((entry) => existsSync(entry))) return undefined;
  return {
    dir,
    entries,
    failures: new Map(),
    inputs: built.inputs,
    graphs: new Map(routes.map((route, index) => [route, built.graphs[index]])),
    importers: built.importers,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * What decides how the sources compile besides their contents: the routes, the options, the places,
 * and this tool's own modules that generate or transform code (so that a changed tool compiles
 * again, even under the same version number).
 */
export function bundleSettings(routes: RouteFile[], projectRoot: string, settings: CompileSettings = {}): string {
  const tool = GENERATORS.map((name) => {
    try {
      return hash(readFileSync(libraryFile(name)));
    } catch {
      return 'absent';
    }
  });
  const externals = [...serverExternalPackages(projectRoot, settings.externals ?? [])];
  // A rule's condition may hold RegExps, written as their source.
  const patterns = (_key: string, value: unknown) => (value instanceof RegExp ? String(value) : value);
  return JSON.stringify({ routes, projectRoot, strict: settings.strict ?? false, tmp: tmpdir(), runtime: RUNTIME_DIR, options: BUILD_OPTIONS, tool, externals, aliases: settings.aliases ?? {}, rules: settings.rules ?? [], images: settings.images ?? IMAGES_UNPREFIXED, nextMajor: settings.nextMajor ?? null }, patterns);
}

/** The modules whose code ends up in, or shapes, what esbuild compiles. */
const GENERATORS = ['./bundle.js', './metadata.js', './next-exports.js', './use-cache.js'];

/**
 * A subpath of a package folder through its `exports` map (the first of `conditions` that matches,
 * in the map's order), else the file of that name; undefined when neither exists.
 */
export function resolveExports(folder: string, subpath: string, conditions: string[]): string | undefined {
  let target: unknown;
  try {
    target = (JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as { exports?: Record<string, unknown> }).exports?.[subpath];
  } catch {
    return undefined;
  }
  while (target && typeof target === 'object') target = Object.entries(target).find(([condition]) => conditions.includes(condition))?.[1];
  const candidates = typeof target === 'string' ? [target] : subpath === '.' ? ['index.js'] : [`${subpath}.js`, `${subpath}/index.js`];
  return candidates.map((file) => path.join(folder, file)).find((file) => existsSync(file));
}

/**
 * Conditions for the server layer: `react-server`, as Next.js bundles route handlers, unless the
 * React that route code gets is React 18 from npm, whose `react-server` entry refuses to load.
 */
export function reactConditions(projectRoot: string, usesCompiledReact: boolean): string[] {
  if (usesCompiledReact) return ['react-server'];
  const pkg = resolveFrom(projectRoot, 'react/package.json');
  const major = pkg ? Number((JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version?.split('.')[0]) : NaN;
  return major < 19 ? [] : ['react-server'];
}

/**
 * What a source file needs before esbuild compiles it: `import.meta.url` is the file's own place
 * (a bundle lives in a temp folder, and `new URL('./font.ttf', import.meta.url)` must find the
 * font beside the route), and with `cacheScope`, 'use cache' bodies run in a cache scope. No line
 * is added or removed, so source maps stay right.
 */
export function transformSource(source: string, file: string, cacheScope: boolean, projectRoot?: string): string {
  let out = source.includes('import.meta.url') ? source.replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(file).href)) : source;
  if (cacheScope) out = transformUseCache(out, file) ?? out;
  if (projectRoot && out.includes('import(')) out = relativeDynamicImports(out, file, projectRoot);
  return out;
}

/**
 * A dynamic import of a computed path that starts with a tsconfig path alias
 * (`` import(`@/messages/${locale}.json`) ``, as next-intl apps load their messages), with that
 * start made relative to the file: webpack finds every file it may name through the alias, esbuild
 * only from a relative start.
 */
function relativeDynamicImports(source: string, file: string, projectRoot: string): string {
  return source.replace(/\bimport\(\s*(`|'|")([^`'"$\\]+)(?=\$\{|\1\s*\+)/g, (match, quote: string, start: string) => {
    if (start.startsWith('.') || start.startsWith('/')) return match;
    const target = aliasTarget(projectRoot, start);
    if (target === undefined) return match;
    let relative = path.relative(path.dirname(file), path.resolve(projectRoot, target)).split(path.sep).join('/');
    if (!relative.startsWith('.')) relative = `./${relative}`;
    if (start.endsWith('/') && !relative.endsWith('/')) relative += '/';
    return `import(${quote}${relative}`;
  });
}

function loaderOf(file: string): esbuild.Loader {
  return path.extname(file).replace(/^\.[cm]?/, '') as esbuild.Loader;
}

/** An `.mdx` file as JavaScript, or an error that says what to install. */
export async function compileMdx(file: string, projectRoot: string): Promise<esbuild.OnLoadResult> {
  const compiler = resolveFrom(projectRoot, '@mdx-js/mdx');
  if (!compiler) {
    return { errors: [{ text: `${path.basename(file)} is MDX, and the app has no MDX compiler installed: install @mdx-js/mdx (or @next/mdx, which brings it) to prerender routes that import .mdx files` }] };
  }
  try {
    const { compile } = (await import(pathToFileURL(compiler).href)) as { compile: (source: string, options: Record<string, unknown>) => Promise<{ toString(): string }> };
    const code = await compile(await readFile(file, 'utf8'), { outputFormat: 'program', jsxImportSource: 'react', development: false });
    return { contents: String(code), loader: 'js' };
  } catch (error) {
    const place = (error as { line?: number; column?: number }).line ? { file, line: (error as { line: number }).line, column: ((error as { column?: number }).column ?? 1) - 1, lineText: '' } : undefined;
    return { errors: [{ text: `MDX does not compile: ${(error as Error).message}`, ...(place ? { location: place } : {}) }] };
  }
}

/** The folder of the React that the app's installed Next.js compiles its server layer with. */
function compiledReactDir(projectRoot: string): string | undefined {
  const appNext = resolveFrom(projectRoot, 'next/package.json');
  const compiled = appNext ? path.join(path.dirname(appNext), 'dist/compiled') : undefined;
  return compiled && existsSync(path.join(compiled, 'react/package.json')) ? compiled : undefined;
}

function resolveFrom(root: string, specifier: string): string | undefined {
  try {
    return createRequire(path.join(root, 'package.json')).resolve(specifier);
  } catch {
    return undefined;
  }
}

function entryName(index: number): string {
  return `route-${index}`;
}

interface Built {
  inputs: string[];
  graphs: Map<RouteFile, string[]>;
  importers: string[];
}

async function build(api: typeof esbuild, routes: RouteFile[], all: RouteFile[], outdir: string, projectRoot: string, write: boolean, compile: { strict: boolean; externals: ReadonlySet<string>; aliases: Readonly<Record<string, string>>; rules: readonly LoaderRule[]; images: { assetPrefix: string } | false; nextMajor: number | undefined }): Promise<Built> {
  // Files the config's loaders read, by the file they loaded: inputs of the routes that import it.
  const dependencies = new Map<string, Set<string>>();
  const importers = new Set<string>();
  const result = await api.build({
    ...BUILD_OPTIONS,
    conditions: reactConditions(projectRoot, compiledReactDir(projectRoot) !== undefined),
    absWorkingDir: projectRoot,
    entryPoints: routes.map((route) => ({ in: route.metadata ? `route-prerender-metadata:${all.indexOf(route)}` : route.file, out: entryName(all.indexOf(route)) })),
    outdir,
    write,
    // The config's loader rules come first: a rule for `*.svg` (SVGR) wins over the image data.
    plugins: [loaderRulesPlugin([...compile.rules], projectRoot, dependencies), ...(compile.images ? [staticImages(projectRoot, compile.images.assetPrefix)] : []), standIns(all, projectRoot, compile.strict, compile.nextMajor), resolveAliases(compile.aliases, projectRoot), serverExternals(compile.externals, importers)],
  });
  // Generated modules are not files; the metadata files they embed or import are.
  const inputs = Object.keys(result.metafile?.inputs ?? {}).filter((input) => !GENERATED.test(input)).map((input) => sourceFile(projectRoot, input));
  for (const route of routes) if (route.metadata) inputs.push(route.file);
  const graphs = moduleGraphs(routes, all, result.metafile, projectRoot);
  const withDependencies = (files: string[]) => [...new Set(files.flatMap((file) => [file, ...(dependencies.get(file) ?? [])]))].sort();
  if (dependencies.size > 0) for (const [route, files] of graphs) graphs.set(route, withDependencies(files));
  return { inputs: withDependencies(inputs), graphs, importers: [...importers].sort() };
}

/** A metafile input as the file it is: an import's query (`post.mdx?collection=blog`) is not part of its name. */
function sourceFile(projectRoot: string, input: string): string {
  const file = path.resolve(projectRoot, input);
  const query = file.search(/[?#]/);
  return query === -1 || existsSync(file) ? file : file.slice(0, query);
}

const GENERATED = /^route-prerender-[a-z]+:/;

/** Per route: the source files of its entry module and of every chunk it imports, from esbuild's metafile. */
function moduleGraphs(routes: RouteFile[], all: RouteFile[], metafile: esbuild.Metafile | undefined, projectRoot: string): Map<RouteFile, string[]> {
  const graphs = new Map<RouteFile, string[]>();
  if (!metafile) return graphs;
  const outputs = metafile.outputs;
  const byName = new Map(Object.keys(outputs).map((key) => [path.resolve(projectRoot, key), key]));
  const byBase = new Map<string, string>();
  for (const [file, key] of byName) if (!byBase.has(path.basename(file))) byBase.set(path.basename(file), key);
  const indexes = new Map(all.map((route, index) => [route, index]));
  for (const route of routes) {
    const entry = byBase.get(`${entryName(indexes.get(route)!)}.js`);
    if (entry === undefined) continue;
    const files = new Set<string>(route.metadata ? [route.file] : []);
    const seen = new Set<string>();
    const visit = (key: string) => {
      if (seen.has(key)) return;
      seen.add(key);
      for (const input of Object.keys(outputs[key].inputs)) if (!GENERATED.test(input)) files.add(sourceFile(projectRoot, input));
      for (const imported of outputs[key].imports) {
        const next = imported.external ? undefined : byName.get(path.resolve(projectRoot, imported.path));
        if (next !== undefined) visit(next);
      }
    };
    visit(entry);
    graphs.set(route, [...files].sort());
  }
  return graphs;
}

/** Where the project's tsconfig.json (or jsconfig.json) `paths` send a specifier, if they do. */
function aliasTarget(projectRoot: string, specifier: string): string | undefined {
  for (const name of ['tsconfig.json', 'jsconfig.json']) {
    let config: { compilerOptions?: { paths?: Record<string, string[]> } };
    try {
      // JSON with comments and trailing commas, as TypeScript allows.
      const text = readFileSync(path.join(projectRoot, name), 'utf8').replace(/("(?:\\.|[^"\\])*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_, string: string | undefined) => string ?? '').replace(/,(\s*[}\]])/g, '$1');
      config = JSON.parse(text);
    } catch {
      continue;
    }
    for (const [pattern, targets] of Object.entries(config.compilerOptions?.paths ?? {})) {
      const star = pattern.indexOf('*');
      const matches = star === -1 ? pattern === specifier : specifier.startsWith(pattern.slice(0, star)) && specifier.endsWith(pattern.slice(star + 1));
      if (matches && targets[0]) return star === -1 ? targets[0] : targets[0].replace('*', specifier.slice(star, specifier.length - (pattern.length - star - 1)));
    }
  }
  return undefined;
}

/** The line and a caret under the place (`column` 0-based), as Next.js, Vite and Astro show it. */
export function codeFrame(lineText: string, line: number, column: number, length = 1): string {
  const gutter = String(line);
  const text = lineText.length > 160 ? lineText.slice(0, 160) + '…' : lineText;
  return `${gutter} | ${text}\n${' '.repeat(gutter.length)} | ${' '.repeat(Math.min(column, 160))}${'^'.repeat(Math.max(1, Math.min(length, 160 - Math.min(column, 160))))}`;
}

/** What to do about an import that does not resolve, by the kind of specifier. */
export function unresolvedHint(text: string, importer = '', projectRoot = ''): string | undefined {
  const specifier = /Could not resolve "([^"]+)"/.exec(text)?.[1];
  if (specifier === undefined) return undefined;
  const owner = /(?:^|[\\/])node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(importer)?.[1]?.replace(/\\/g, '/');
  if (owner) return `the package ${owner} imports ${specifier}, which is not there: run the package's own set-up step (such as \`prisma generate\`), or reinstall it`;
  const alias = projectRoot ? aliasTarget(projectRoot, specifier) : undefined;
  if (alias) return `tsconfig.json maps ${specifier} to ${alias}, which does not exist: ${generateStep(projectRoot)}`;
  if (specifier.startsWith('.') || specifier.startsWith('/')) return `fix the import path: no file ${specifier} (with any of the extensions .js, .mjs, .tsx, .ts, .jsx, .json) exists there`;
  if (/^[~#@]\//.test(specifier)) return `${specifier} looks like a path alias: check "paths" in the project's tsconfig.json (or jsconfig.json)`;
  return installHint(specifier);
}

/**
 * Content generators whose output routes import through a path alias, by the config file that
 * shows one is used, with the command that writes their output (`next build` runs them through a
 * webpack plugin, which route-prerender does not run). The first package installed names the command.
 */
const CONTENT_GENERATORS: Array<{ configs: string[]; packages: Array<[name: string, command: string]> }> = [
  { configs: ['contentlayer.config.ts', 'contentlayer.config.js', 'contentlayer.config.mjs'], packages: [['contentlayer2', 'contentlayer2 build'], ['contentlayer', 'contentlayer build']] },
  { configs: ['velite.config.ts', 'velite.config.js', 'velite.config.mjs'], packages: [['velite', 'velite build']] },
  { configs: ['source.config.ts', 'source.config.js', 'source.config.mjs'], packages: [['fumadocs-mdx', 'fumadocs-mdx']] },
];

/** What to run so that a generated folder exists: the project's own generator when one is recognised. */
function generateStep(projectRoot: string): string {
  for (const { configs, packages } of CONTENT_GENERATORS) {
    const config = configs.find((name) => existsSync(path.join(projectRoot, name)));
    if (!config) continue;
    const [, command] = packages.find(([name]) => existsSync(path.join(projectRoot, 'node_modules', name, 'package.json'))) ?? packages[0];
    return `generate it first: run \`npx ${command}\` in the project (it reads ${config}; next build runs it through a plugin, which route-prerender does not run)`;
  }
  return 'generate it first (a generator such as contentlayer writes it during next build)';
}

/** What to do about an imported file that no loader compiles (an image, a font). */
export function loaderHint(text: string): string | undefined {
  const extension = /No loader is configured for "\.([^"]+)" files/.exec(text)?.[1];
  if (extension === undefined) return undefined;
  return `Next.js makes an imported .${extension} file a URL of its own build, which route-prerender does not make: read the file instead, with readFile(new URL('./file.${extension}', import.meta.url)) from node:fs/promises`;
}

function isBuildFailure(error: unknown): error is esbuild.BuildFailure {
  return error instanceof Error && Array.isArray((error as esbuild.BuildFailure).errors);
}

function problemOf(failure: esbuild.BuildFailure, projectRoot: string): RouteProblem {
  const [first] = failure.errors;
  const more = failure.errors.length > 1 ? ` (and ${failure.errors.length - 1} more ${failure.errors.length === 2 ? 'error' : 'errors'})` : '';
  const location = first?.location;
  const text = first?.text ?? failure.message;
  const problem = errorText('COMPILE_FAILED', `${text}${more}`);
  return {
    ...problem,
    hint: unresolvedHint(text, location?.file, projectRoot) ?? loaderHint(text) ?? problem.hint,
    ...(location?.lineText ? { frame: codeFrame(location.lineText, location.line, location.column, location.length) } : {}),
    at: location ? { file: path.resolve(projectRoot, location.file), line: location.line, column: location.column + 1 } : undefined,
  };
}
