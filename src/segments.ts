/**
 * Folder names → URL segments, following the App Router conventions
 * (https://nextjs.org/docs/app/getting-started/project-structure#routing-files).
 * Pure functions: no file system access.
 */
import type { Segment } from './types.js';

export type FolderMeaning =
  | { kind: 'segment'; segment: Segment }
  | { kind: 'group' } // `(marketing)` and `@slot`: not part of the URL
  | { kind: 'private' } // `_lib`: the folder and everything under it is not routable
  | { kind: 'invalid'; message: string; hint: string };

const PARAM_NAME = /^[^\[\]./\\]+$/;

/** What one folder name means in the URL. */
export function parseFolder(name: string): FolderMeaning {
  if (name.startsWith('_')) return { kind: 'private' };
  if (/^\(.+\)$/.test(name) || name.startsWith('@')) return { kind: 'group' };
  // `%5Fname` is how Next.js spells a URL segment that really starts with an underscore.
  if (/^%5f/i.test(name)) return { kind: 'segment', segment: { type: 'static', value: `_${name.slice(3)}` } };
  if (!name.includes('[') && !name.includes(']')) return { kind: 'segment', segment: { type: 'static', value: name } };

  const optional = /^\[\[\.\.\.(.*)\]\]$/.exec(name);
  const catchall = /^\[\.\.\.(.*)\]$/.exec(name);
  const single = /^\[(.*)\]$/.exec(name);
  const [type, paramName] = optional
    ? (['optional', optional[1]] as const)
    : catchall
      ? (['catchall', catchall[1]] as const)
      : single
        ? (['dynamic', single[1]] as const)
        : ([null, ''] as const);

  if (type === null) {
    return invalid(`\`${name}\` mixes a parameter with other characters`, 'a parameter must be the whole folder name, e.g. `[slug]`');
  }
  if (paramName === '') {
    return invalid(`\`${name}\` has an empty parameter name`, 'name the parameter, e.g. `[slug]`, `[...path]` or `[[...path]]`');
  }
  if (type === 'dynamic' && /^\[.*\]$/.test(paramName)) {
    return invalid(`\`${name}\` is an optional parameter that is not a catch-all`, `optional parameters must be catch-all: use \`[[...${paramName.replace(/[\[\].]/g, '')}]]\``);
  }
  if (!PARAM_NAME.test(paramName)) {
    return invalid(`\`${name}\` is not a valid parameter folder`, 'use one parameter per folder: `[slug]`, `[...path]` or `[[...path]]`');
  }
  return { kind: 'segment', segment: { type, name: paramName } };
}

function invalid(message: string, hint: string): FolderMeaning {
  return { kind: 'invalid', message, hint };
}

export type RouteShape =
  | { kind: 'route'; segments: Segment[]; pattern: string }
  | { kind: 'private' }
  | { kind: 'invalid'; message: string; hint: string };

/** The URL shape of a file from the folders between the app directory and the file. */
export function routeFromFolders(folders: string[]): RouteShape {
  const segments: Segment[] = [];
  const names = new Set<string>();
  for (const folder of folders) {
    const meaning = parseFolder(folder);
    if (meaning.kind === 'private' || meaning.kind === 'invalid') return meaning;
    if (meaning.kind === 'group') continue;
    const segment = meaning.segment;
    const previous = segments[segments.length - 1];
    if (previous && (previous.type === 'catchall' || previous.type === 'optional')) {
      return {
        kind: 'invalid',
        message: `the catch-all \`${formatSegment(previous)}\` is followed by \`${folder}\``,
        hint: 'a catch-all parameter must be the last segment of the route; move the route up or use a single `[param]`',
      };
    }
    if (segment.type !== 'static') {
      if (names.has(segment.name)) {
        return {
          kind: 'invalid',
          message: `the parameter \`${segment.name}\` appears twice`,
          hint: 'give each parameter of a route its own name',
        };
      }
      names.add(segment.name);
    }
    segments.push(segment);
  }
  return { kind: 'route', segments, pattern: patternOf(segments) };
}

export function formatSegment(segment: Segment): string {
  switch (segment.type) {
    case 'static':
      return segment.value;
    case 'dynamic':
      return `[${segment.name}]`;
    case 'catchall':
      return `[...${segment.name}]`;
    case 'optional':
      return `[[...${segment.name}]]`;
  }
}

export function patternOf(segments: Segment[]): string {
  return `/${segments.map(formatSegment).join('/')}`;
}

/** The pattern with parameter names erased: two routes with the same shape serve the same URLs. */
export function shapeOf(segments: Segment[]): string {
  return `/${segments.map((s) => (s.type === 'static' ? s.value : s.type === 'dynamic' ? '[]' : s.type === 'catchall' ? '[...]' : '[[...]]')).join('/')}`;
}

export function isDynamic(segments: Segment[]): boolean {
  return segments.some((s) => s.type !== 'static');
}
