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

/** One rule: the glob it came from, its loaders (in the config's order), what the output is, and when it applies. */
export interface LoaderRule {
  glob: string;
  loaders: Array<{ loader: string; options?: unknown }>;
  as?: string;
  condition?: RuleCondition;
}

/**
 * When a rule applies, as Turbopack reads `condition` (Next.js 16): a built-in name (this build is
 * the server's production build on Node.js: `production` and `node` hold, `browser`, `development`
 * and `edge-light` do not, `foreign` holds for files in node_modules), `all`, `any`, `not`, or the
 * file's `path` (a glob or a pattern, from the project root), `content` or import `query`
 * (fumadocs-mdx gives `*.json` its loader only for imports with a `?collection=` query). A
 * condition this build cannot hold (`contentType`, of data URLs) fails.
 */
export type RuleCondition = string | { all: RuleCondition[] } | { any: RuleCondition[] } | { not: RuleCondition } | { path?: string | RegExp; content?: RegExp; query?: string | RegExp; contentType?: string | RegExp };

/** How a next.config evaluated in another thread sends a RegExp (JSON has none): see config-loader.ts. */
export const REGEXP_KEY = '__routePrerenderRegExp';

/** The rules of a config's `turbopack.rules` value; those that are not a loader list (a condition object alone) are left out. */
export function loaderRules(rules: unknown): LoaderRule[] {
  if (typeof rules !== 'object' || rules === null) return [];
  const out: LoaderRule[] = [];
  for (const [glob, value] of Object.entries(rules as Record<string, unknown>)) {
    const add = (item: unknown) => {
      const list = (item as { loaders?: unknown } | null)?.loaders;
      const loaders = Array.isArray(list) ? loaderList(list) : [];
      if (loaders.length === 0) return;
      const { as, condition } = item as { as?: unknown; condition?: unknown };
      const when = readCondition(condition);
      out.push({ glob, loaders, ...(typeof as === 'string' ? { as } : {}), ...(when !== undefined ? { condition: when } : {}) });
    };
    if (Array.isArray(value) && value.some(isRuleObject)) {
      // Rule objects, each with its condition (the first that holds applies); loaders listed
      // among them make one rule without a condition, where the first of them stands.
      let loose = false;
      for (const item of value) {
        if (isRuleObject(item)) add(item);
        else if (!loose) {
          loose = true;
          add({ loaders: value.filter((other) => !isRuleObject(other)) });
        }
      }
    } else add(Array.isArray(value) ? { loaders: value } : value);
  }
  return out;
}

function isRuleObject(item: unknown): boolean {
  return typeof item === 'object' && item !== null && !Array.isArray(item) && 'loaders' in item;
}

function loaderList(list: unknown[]): LoaderRule['loaders'] {
  return list.flatMap((item): LoaderRule['loaders'] => (typeof item === 'string' ? [{ loader: item }] : typeof item === 'object' && item !== null && typeof (item as { loader?: unknown }).loader === 'string' ? [{ loader: (item as { loader: string }).loader, options: (item as { options?: unknown }).options }] : []));
}

/** A rule's `condition` as the config gave it (its RegExps sent as `REGEXP_KEY` objects, or as they are); undefined when it has none. */
function readCondition(value: unknown): RuleCondition | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value !== 'object') return 'unknown';
  const record = value as Record<string, unknown>;
  if (Array.isArray(record.all)) return { all: record.all.map((c) => readCondition(c) ?? 'unknown') };
  if (Array.isArray(record.any)) return { any: record.any.map((c) => readCondition(c) ?? 'unknown') };
  if ('not' in record) return { not: readCondition(record.not) ?? 'unknown' };
  const out: { path?: string | RegExp; content?: RegExp; query?: string | RegExp; contentType?: string | RegExp } = {};
  for (const key of ['path', 'content', 'query', 'contentType'] as const) {
    const part = pattern(record[key]);
    if (part !== undefined) (out as Record<string, string | RegExp>)[key] = part;
  }
  return out;
}

function pattern(value: unknown): string | RegExp | undefined {
  if (typeof value === 'string' || value instanceof RegExp) return value;
  const sent = (value as Record<string, unknown> | undefined)?.[REGEXP_KEY] as { source?: unknown; flags?: unknown } | undefined;
  if (sent && typeof sent.source === 'string') {
    try {
      return new RegExp(sent.source, typeof sent.flags === 'string' ? sent.flags : '');
    } catch {
      return /(?!)/; // a pattern this Node.js cannot compile matches nothing
    }
  }
  // A pattern lost on the way (an older loader of the config sent it as `{}`) matches nothing.
  return value === undefined ? undefined : /(?!)/;
}

/** The file a condition is asked about. */
interface Subject {
  /** From the project root, with forward slashes. */
  relative: string;
  query: string;
  foreign: boolean;
  content: () => Promise<string>;
}

/** Whether `condition` holds for a file of this build (see RuleCondition). */
async function holds(condition: RuleCondition, file: Subject): Promise<boolean> {
  if (typeof condition === 'string') return condition === 'production' || condition === 'node' || (condition === 'foreign' && file.foreign);
  if ('all' in condition) {
    for (const part of condition.all) if (!(await holds(part, file))) return false;
    return true;
  }
  if ('any' in condition) {
    for (const part of condition.any) if (await holds(part, file)) return true;
    return false;
  }
  if ('not' in condition) return !(await holds(condition.not, file));
  if (condition.contentType !== undefined) return false;
  if (condition.path !== undefined && !(typeof condition.path === 'string' ? globMatches(condition.path, file.relative) : tests(condition.path, file.relative))) return false;
  if (condition.query !== undefined && !(typeof condition.query === 'string' ? condition.query === file.query : tests(condition.query, file.query))) return false;
  if (condition.content !== undefined && !tests(condition.content, await file.content())) return false;
  return true;
}

/** `pattern.test(text)` from the start, also for a pattern with the `g` or `y` flag (whose test moves on). */
function tests(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(text);
}

/** A glob against a file's name, or its path from the project root when the glob has a slash. */
function globMatches(glob: string, relative: string): boolean {
  return globPattern(glob).test(glob.includes('/') ? relative : relative.slice(relative.lastIndexOf('/') + 1));
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
        const query = args.suffix ?? '';
        let read: Promise<string> | undefined;
        const file: Subject = { relative, query, foreign: false, content: () => (read ??= readFile(args.path, 'utf8')) };
        let match: (typeof patterns)[number] | undefined;
        for (const candidate of patterns) {
          if (!candidate.pattern.test(candidate.byPath ? relative : path.basename(args.path))) continue;
          if (candidate.rule.condition !== undefined && !(await holds(candidate.rule.condition, file))) continue;
          match = candidate;
          break;
        }
        if (!match) return undefined;
        let content = await file.content();
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
