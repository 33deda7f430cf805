/**
 * `'use cache'` functions, for `--strict`: their bodies run in a cache scope, where
 * non-deterministic or uncached work does not count (as in Next.js 16 with cacheComponents).
 * A source transform that adds no lines, so that every reported location stays right. Pure.
 */

/** The specifier the transform imports the scope from; the bundler points it at the sandbox. */
export const CACHE_SCOPE_MODULE = 'route-prerender:cache-scope';

/**
 * Wraps the body of each function that starts with the `'use cache'` directive:
 * `{ 'use cache'; BODY }` → `{ 'use cache'; return __rpCacheScope(async () => { BODY }); }`.
 * Returns undefined when the source has no such directive.
 */
export function transformUseCache(source: string, file = ''): string | undefined {
  if (!/['"]use cache['"]/.test(source)) return undefined;
  const bodies = findCacheBodies(source);
  if (bodies.length === 0) return undefined;
  const edits: { at: number; text: string }[] = [];
  for (const { open, close, arrow } of bodies) {
    edits.push({ at: open + 1, text: ' return __rpCacheScope(async () => {' });
    // A function (not an arrow) has its `arguments`: same function, same arguments, same value,
    // as Next.js's cache gives within a build.
    edits.push({ at: close, text: arrow ? '});' : `}, ${JSON.stringify(`${file}:${open}`)}, arguments);` });
  }
  let out = source;
  for (const edit of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, edit.at) + edit.text + out.slice(edit.at);
  return `import { __rpCacheScope } from ${JSON.stringify(CACHE_SCOPE_MODULE)}; ${out}`;
}

const REGEX_AFTER = new Set(['(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^', '']);
const REGEX_KEYWORDS = /(?:^|[^\w$])(return|typeof|case|do|else|in|of|new|delete|void|throw|await|yield)$/;

/** A directive is a statement of its own: `;`, `}` or a line break follows it (not `:` in `{ 'use cache': 1 }`). */
function endsStatement(source: string, end: number): boolean {
  const rest = /^([ \t]*)(\r?\n)?\s*(.)/.exec(source.slice(end));
  if (!rest) return true;
  const next = rest[3];
  return next === ';' || next === '}' || (rest[2] !== undefined && !/[.(\[+\-*/%,?:=<>&|]/.test(next));
}

/** The blocks (by the offsets of their braces) whose first statement is the 'use cache' directive. */
export function findCacheBodies(source: string): { open: number; close: number; arrow: boolean }[] {
  const found: { open: number; close: number; arrow: boolean }[] = [];
  const braces: { open: number; cache: boolean; template: boolean; arrow?: boolean }[] = [];
  let previous = ''; // the last significant character outside strings and comments
  let lastOpen = -1; // the last `{` with nothing significant after it yet
  let i = 0;
  const length = source.length;
  const skipString = (quote: string) => {
    let j = i + 1;
    while (j < length && source[j] !== quote) j += source[j] === '\\' ? 2 : 1;
    return j + 1;
  };
  while (i < length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      i = end === -1 ? length : end;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end === -1 ? length : end + 2;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = skipString(c);
      const text = source.slice(i + 1, end - 1);
      if (text === 'use cache' && lastOpen !== -1 && braces.length > 0 && braces[braces.length - 1].open === lastOpen && endsStatement(source, end)) {
        braces[braces.length - 1].cache = true;
      }
      i = end;
      previous = 'a';
      lastOpen = -1;
      continue;
    }
    if (c === '`') {
      // A template literal: skip to its end, stepping into `${ … }` as code.
      let j = i + 1;
      while (j < length && source[j] !== '`') {
        if (source[j] === '\\') j += 2;
        else if (source[j] === '$' && source[j + 1] === '{') {
          braces.push({ open: j + 1, cache: false, template: true });
          i = j + 2;
          break;
        } else j++;
      }
      if (j >= length || source[j] === '`') {
        i = j + 1;
        previous = 'a';
        lastOpen = -1;
      } else {
        previous = '{';
        lastOpen = -1;
      }
      continue;
    }
    if (c === '/' && (REGEX_AFTER.has(previous) || REGEX_KEYWORDS.test(source.slice(Math.max(0, i - 8), i).trimEnd()))) {
      let j = i + 1;
      let inClass = false;
      while (j < length && (inClass || source[j] !== '/') && source[j] !== '\n') {
        if (source[j] === '\\') j++;
        else if (source[j] === '[') inClass = true;
        else if (source[j] === ']') inClass = false;
        j++;
      }
      i = j + 1;
      while (i < length && /[a-z]/i.test(source[i])) i++;
      previous = 'a';
      lastOpen = -1;
      continue;
    }
    if (c === '{') {
      braces.push({ open: i, cache: false, template: false, arrow: previous === '>' });
      lastOpen = i;
      previous = '{';
      i++;
      continue;
    }
    if (c === '}') {
      const block = braces.pop();
      if (block?.template) {
        // Back into the template literal that `${` left.
        let j = i + 1;
        while (j < length && source[j] !== '`') {
          if (source[j] === '\\') j += 2;
          else if (source[j] === '$' && source[j + 1] === '{') {
            braces.push({ open: j + 1, cache: false, template: true });
            break;
          } else j++;
        }
        if (j < length && source[j] === '`') {
          i = j + 1;
          previous = 'a';
        } else {
          i = j + 2;
          previous = '{';
        }
        lastOpen = -1;
        continue;
      }
      if (block?.cache) found.push({ open: block.open, close: i, arrow: block.arrow === true });
      previous = '}';
      lastOpen = -1;
      i++;
      continue;
    }
    if (c === ';' && lastOpen !== -1) {
      i++;
      continue;
    }
    previous = /[\w$]/.test(c) ? 'a' : c;
    lastOpen = -1;
    i++;
  }
  return found;
}
