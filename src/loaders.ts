/**
 * The loader rules of next.config (`turbopack.rules`, `experimental.turbo.rules` before Next.js
 * 15.3), applied as Next.js applies them: a file whose name matches a rule's glob is passed through
 * its webpack loaders, last first, and compiled as the rule's `as` says. Plugins declare their
 * loaders there (fumadocs-mdx's reads an `.mdx` file's frontmatter into its collection); without
 * them such a file compiles to something else, and the route's bytes would differ from next build's.
 *
 * Loaders run in the build thread, as in Next.js's build, through the part of webpack's loader API
 * that Turbopack implements: `this.getOptions()`, `this.async()`, `this.callback`, the resource's
 * path and query, and `this.addDependency()` (a file a loader reads is an input of the routes that
 * import the file it loaded).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as esbuild from 'esbuild';
import { installHint } from './errors.js';

/** One rule: the glob it came from, its loaders (in the config's order) and what the output is. */
export interface LoaderRule {
  glob: string;
  loaders: Array<{ loader: string; options?: unknown }>;
  as?: string;
}

/** The rules of a config's `turbopack.rules` value; those that are not a loader list (a condition object alone) are left out. */
export function loaderRules(rules: unknown): LoaderRule[] {
  if (typeof rules !== 'object' || rules === null) return [];
  const out: LoaderRule[] = [];
  for (const [glob, value] of Object.entries(rules as Record<string, unknown>)) {
    // A rule is a list of loaders, an object with `loaders` (and `as`), or a list of such objects (the first applies).
    const rule = Array.isArray(value) && value.length > 0 && typeof value[0] === 'object' && value[0] !== null && 'loaders' in (value[0] as object) ? value[0] : value;
    const list = Array.isArray(rule) ? rule : (rule as { loaders?: unknown } | null)?.loaders;
    if (!Array.isArray(list)) continue;
    const loaders = list.flatMap((item): LoaderRule['loaders'] => (typeof item === 'string' ? [{ loader: item }] : typeof item === 'object' && item !== null && typeof (item as { loader?: unknown }).loader === 'string' ? [{ loader: (item as { loader: string }).loader, options: (item as { options?: unknown }).options }] : []));
    if (loaders.length === 0) continue;
    const as = Array.isArray(rule) ? undefined : (rule as { as?: unknown }).as;
    out.push({ glob, loaders, ...(typeof as === 'string' ? { as } : {}) });
  }
  return out;
}

/** A Turbopack glob as a pattern: `*`, `**`, `?` and `{a,b}`, against the file name (or the path from the project root when it has a slash). */
export function globPattern(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` is any number of folders, none included.
      if (glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i++;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end === -1) out += '\\{';
      else {
        out += `(?:${glob.slice(i + 1, end).split(',').map((part) => escapeLiteral(part).replace(/\*/g, '[^/]*')).join('|')})`;
        i = end;
      }
    } else out += escapeLiteral(c);
  }
  return new RegExp(`^${out}$`);
}

/** Characters of a glob taken as they are, escaped for a pattern (`*` and `?` are the glob's own). */
function escapeLiteral(text: string): string {
  return text.replace(/[.+^$()|[\]\\]/g, '\\$&');
}

/** What esbuild compiles a rule's output as: from `as` (`*.js`, `*.json`…), else from the file's own extension. */
function outputLoader(as: string | undefined, file: string): esbuild.Loader {
  const extension = (as ?? file).replace(/^.*\./, '');
  const known: Record<string, esbuild.Loader> = { js: 'jsx', mjs: 'jsx', cjs: 'jsx', jsx: 'jsx', ts: 'tsx', tsx: 'tsx', mts: 'ts', cts: 'ts', json: 'json', css: 'css', txt: 'text' };
  return known[extension] ?? 'jsx';
}

type LoaderFunction = ((this: unknown, content: string, map?: unknown) => unknown) & { raw?: boolean };

/**
 * The esbuild plugin for `rules`. Files a loader depended on are added to `dependencies`, by the
 * file it loaded.
 */
export function loaderRulesPlugin(rules: LoaderRule[], projectRoot: string, dependencies: Map<string, Set<string>>): esbuild.Plugin {
  const patterns = rules.map((rule) => ({ rule, pattern: globPattern(rule.glob), byPath: rule.glob.includes('/') }));
  const require = createRequire(path.join(projectRoot, 'package.json'));
  const loaded = new Map<string, LoaderFunction>();
  const loaderFunction = (name: string): LoaderFunction => {
    let fn = loaded.get(name);
    if (!fn) {
      let module: LoaderFunction | { default?: LoaderFunction };
      try {
        module = require(name) as LoaderFunction | { default?: LoaderFunction };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || name.startsWith('.')) throw error;
        throw new Error(`${name} is not installed: ${installHint(name)}`);
      }
      fn = typeof module === 'function' ? module : module.default;
      if (typeof fn !== 'function') throw new Error(`the loader ${name} exports no function`);
      loaded.set(name, fn);
    }
    return fn;
  };
  return {
    name: 'route-prerender-loader-rules',
    setup(build) {
      if (patterns.length === 0) return;
      build.onLoad({ filter: /.*/ }, async (args) => {
        if (args.namespace !== 'file' || args.path.split(path.sep).includes('node_modules')) return undefined;
        const relative = path.relative(projectRoot, args.path).split(path.sep).join('/');
        const match = patterns.find(({ pattern, byPath }) => pattern.test(byPath ? relative : path.basename(args.path)));
        if (!match) return undefined;
        const query = args.suffix ?? '';
        let content = await readFile(args.path, 'utf8');
        const depended = new Set<string>();
        try {
          for (const { loader, options } of [...match.rule.loaders].reverse()) {
            content = await runLoader(loaderFunction(loader), content, { resourcePath: args.path, resourceQuery: query, rootContext: projectRoot, options, depended });
          }
        } catch (error) {
          return { errors: [{ text: `${match.rule.loaders.map((l) => l.loader).join(', ')} (the loader next.config gives ${match.rule.glob} files) failed: ${(error as Error).message ?? String(error)}` }] };
        }
        if (depended.size > 0) dependencies.set(args.path, depended);
        return { contents: content, loader: outputLoader(match.rule.as, args.path), resolveDir: path.dirname(args.path) };
      });
    },
  };
}

/** Runs one webpack loader on `content`, with the part of the loader context Turbopack gives. */
function runLoader(fn: LoaderFunction, content: string, resource: { resourcePath: string; resourceQuery: string; rootContext: string; options: unknown; depended: Set<string> }): Promise<string> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let isAsync = false;
    const callback = (error?: Error | null, result?: string | Buffer) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve(typeof result === 'string' ? result : String(result ?? ''));
    };
    const { resourcePath, resourceQuery, rootContext, options, depended } = resource;
    const context = {
      resourcePath,
      resourceQuery,
      resource: `${resourcePath}${resourceQuery}`,
      rootContext,
      context: path.dirname(resourcePath),
      mode: 'production',
      target: 'node',
      sourceMap: false,
      query: options ?? {},
      getOptions: () => options ?? {},
      async: () => {
        isAsync = true;
        return callback;
      },
      callback: (error?: Error | null, result?: string | Buffer) => {
        isAsync = true;
        callback(error, result);
      },
      cacheable: () => undefined,
      addDependency: (file: string) => depended.add(file),
      dependency: (file: string) => depended.add(file),
      addContextDependency: () => undefined,
      addMissingDependency: () => undefined,
      emitWarning: () => undefined,
      emitError: () => undefined,
      getLogger: () => ({ info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, log: () => undefined }),
    };
    try {
      const returned = fn.call(context, content);
      if (!isAsync) Promise.resolve(returned).then((value) => callback(null, value as string | Buffer | undefined), reject);
    } catch (error) {
      callback(error as Error);
    }
  });
}
