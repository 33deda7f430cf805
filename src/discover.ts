/**
 * Stage 1: find the route files under the app directory and the URL each one serves.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { errorText, setupError } from './errors.js';
import { relativeFile } from './location.js';
import { withBasePath } from './params.js';
import { isMetadataName, metadataFile } from './metadata.js';
import { DEFAULT_PAGE_EXTENSIONS } from './project.js';
import { formatSegment, parseFolder, patternOf, routeFromFolders, shapeOf } from './segments.js';
import type { RouteFile, RouteProblem, Segment } from './types.js';

// Next.js recognises route files with the `pageExtensions` of next.config (by default tsx, ts,
// jsx, js; `route.mjs` is not a route there either).
const named = (name: string, extensions: string[]) => {
  const names = new Set(extensions.map((extension) => `${name}.${extension}`));
  return (file: string) => names.has(file.slice(file.lastIndexOf('/') + 1));
};

/** Whether a file's name is a metadata file's (`sitemap.ts`, `icon.png`, …): its name before the first dot is one. */
const metadataNamed = (file: string) => {
  const name = file.slice(file.lastIndexOf('/') + 1);
  const dot = name.indexOf('.');
  return dot > 0 && isMetadataName(name.slice(0, dot));
};

/**
 * Every file under the app directory, relative to it with `/` between folders, as `next build`
 * collects them: folders whose names begin with a dot are walked (`app/.well-known/security.txt/
 * route.ts` serves `/.well-known/security.txt`; `_private` folders are left out by the folder rules
 * after), symbolic links followed (a link to a folder that holds it is not entered again),
 * unreadable folders and broken links skipped; `node_modules` folders are left out. One walk
 * serves the route files, the pages and the metadata files: a glob library cost about 25 ms of
 * every build to load and to run three times (10,000-post blog: 15 ms loading, 10 ms walking).
 */
export function appFiles(appDir: string): string[] {
  const files: string[] = [];
  const walk = (dir: string, prefix: string, above: Set<string>) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const name = entry.name;
      const full = path.join(dir, name);
      let folder = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        try {
          folder = statSync(full).isDirectory();
        } catch {
          continue; // a broken link
        }
      }
      if (!folder) {
        if (entry.isFile() || entry.isSymbolicLink()) files.push(prefix + name);
        continue;
      }
      if (name === 'node_modules') continue;
      let real: string;
      try {
        real = realpathSync(full);
      } catch {
        continue;
      }
      if (above.has(real)) continue;
      above.add(real);
      walk(full, `${prefix}${name}/`, above);
      above.delete(real);
    }
  };
  let root = appDir;
  try {
    root = realpathSync(appDir);
  } catch {
    // resolveAppDir found it: it is there
  }
  walk(appDir, '', new Set([root]));
  return files;
}

export interface InvalidRoute {
  route: RouteFile;
  problem: RouteProblem;
}

export interface Discovery {
  appDir: string;
  /** Routes that can be loaded, sorted by pattern. */
  routes: RouteFile[];
  /** Route files that cannot be served as they are (bad folder names, URL conflicts). */
  invalid: InvalidRoute[];
}

/**
 * The folder holding the routes. A project root is accepted too: its `app/` or `src/app/` is used,
 * as Next.js looks for both.
 */
/**
 * The app directory of the project in `folder` (`app/`, else `src/app/`), as `next build` finds it
 * when given no directory.
 */
export function findAppDir(folder: string): string {
  for (const candidate of ['app', 'src/app']) {
    const dir = path.join(folder, candidate);
    if (existsSync(dir) && statSync(dir).isDirectory()) return dir;
  }
  throw setupError('APP_DIR_MISSING', [path.join(folder, 'app')], { file: folder, hint: `no app/ or src/app/ folder in ${folder}: run prerender in your Next.js project, or pass the app directory, e.g. \`prerender ./app\`` });
}

export function resolveAppDir(input: string): string {
  const dir = path.resolve(input);
  if (!existsSync(dir)) {
    throw setupError('APP_DIR_MISSING', [dir], { file: dir });
  }
  if (!statSync(dir).isDirectory()) {
    throw setupError('APP_DIR_NOT_A_DIRECTORY', [dir], { file: dir });
  }
  if (existsSync(path.join(dir, 'package.json'))) {
    for (const candidate of ['app', 'src/app']) {
      const inner = path.join(dir, candidate);
      if (existsSync(inner) && statSync(inner).isDirectory()) return inner;
    }
  }
  return dir;
}

/** `cwd` is the base of the file names shown in messages. */
export interface DiscoverOptions {
  /** The base of the file names shown in messages. */
  cwd?: string;
  /** next.config's `pageExtensions`. */
  extensions?: string[];
  /** next.config's `basePath`: every route's `srcRoute` is under it. */
  basePath?: string;
}

export async function discoverRoutes(appDirInput: string, { cwd = process.cwd(), extensions = DEFAULT_PAGE_EXTENSIONS, basePath = '' }: DiscoverOptions = {}): Promise<Discovery> {
  const routeFile = (file: string, pattern: string, segments: Segment[], metadata?: RouteFile['metadata']): RouteFile =>
    ({ file, pattern, srcRoute: withBasePath(basePath, pattern), segments, ...(metadata ? { metadata } : {}) });
  const appDir = resolveAppDir(appDirInput);
  const files = appFiles(appDir);
  const routeFiles = files.filter(named('route', extensions));
  const pageFiles = files.filter(named('page', [...extensions, 'md', 'mdx']));
  const metadataFiles = files.filter(metadataNamed);
  if (routeFiles.length === 0 && metadataFiles.length === 0) {
    throw setupError('NO_ROUTES', [appDir], {
      file: appDir,
      hint: `Route handlers live in files named ${extensions.map((e) => `route.${e}`).join(', ')} (see https://nextjs.org/docs/app/api-reference/file-conventions/route).`,
    });
  }

  const invalid: InvalidRoute[] = [];
  const routes: RouteFile[] = [];
  for (const relative of routeFiles.sort()) {
    const file = path.join(appDir, relative);
    const shape = routeFromFolders(foldersOf(relative));
    if (shape.kind === 'private') continue;
    if (shape.kind === 'invalid') {
      const pattern = `/${foldersOf(relative).filter((f) => parseFolder(f).kind !== 'group').join('/')}`;
      invalid.push({ route: routeFile(file, pattern, []), problem: { ...errorText('FOLDER_INVALID', shape.message), hint: shape.hint } });
      continue;
    }
    routes.push(routeFile(file, shape.pattern, shape.segments));
  }

  for (const { file, segments, metadata } of discoverMetadata(appDir, metadataFiles)) routes.push(routeFile(file, patternOf(segments), segments, metadata));

  const pages: RouteFile[] = [];
  for (const relative of pageFiles.sort()) {
    const shape = routeFromFolders(foldersOf(relative));
    if (shape.kind === 'route') pages.push(routeFile(path.join(appDir, relative), shape.pattern, shape.segments));
  }

  const conflicts = findConflicts(routes, pages, (file) => relativeFile(file, cwd));
  const valid = routes.filter((route) => !conflicts.has(route));
  for (const [route, problem] of conflicts) invalid.push({ route, problem });

  return {
    appDir,
    routes: valid.sort((a, b) => compare(a.pattern, b.pattern)),
    invalid: invalid.sort((a, b) => compare(a.route.pattern, b.route.pattern) || compare(a.route.file, b.route.file)),
  };
}

/** Metadata files (sitemap.ts, robots.txt, favicon.ico, …) as routes at the URL Next.js gives them. */
function discoverMetadata(appDir: string, files: string[]): Pick<RouteFile, 'file' | 'segments' | 'metadata'>[] {
  const routes: Pick<RouteFile, 'file' | 'segments' | 'metadata'>[] = [];
  for (const relative of files.sort()) {
    const folders = foldersOf(relative);
    const shape = routeFromFolders(folders);
    if (shape.kind !== 'route') continue;
    const file = path.join(appDir, relative);
    const name = path.basename(relative);
    const meta = metadataFile(name, folders.length === 0, () => readFileSync(file, 'utf8'));
    if (!meta) continue;
    const segments: Segment[] = [...shape.segments, ...meta.urlSegments.map((part): Segment => (part.startsWith('[') ? { type: 'dynamic', name: part.slice(1, -1) } : { type: 'static', value: part }))];
    routes.push({ file, segments, metadata: meta });
  }
  return routes;
}

function foldersOf(relative: string): string[] {
  return relative.split('/').slice(0, -1);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * URL conflicts, each naming both files: a route and a page at one URL; two routes at one URL
 * (through different groups, or with parameters that differ only in name); two different parameter
 * names or kinds at the same position; an optional catch-all beside a route at its bare URL.
 */
export function findConflicts(routes: RouteFile[], pages: RouteFile[], display: (file: string) => string = (file) => file): Map<RouteFile, RouteProblem> {
  const conflicts = new Map<RouteFile, RouteProblem>();
  const flag = (route: RouteFile, other: RouteFile, message: string, hint: string) => {
    if (!conflicts.has(route)) conflicts.set(route, { ...errorText('ROUTE_CONFLICT', message, display(route.file), display(other.file)), hint });
  };

  const pageByShape = new Map(pages.map((page) => [shapeOf(page.segments), page]));
  const routeByShape = new Map<string, RouteFile>();
  const paramAt = new Map<string, { route: RouteFile; label: string }>();

  for (const route of routes) {
    const shape = shapeOf(route.segments);
    const page = pageByShape.get(shape);
    if (page) {
      flag(route, page, `A route and a page resolve to the same URL ${route.pattern}`, 'keep one of them: a URL is served either by a page or by a route handler');
    }
    const twin = routeByShape.get(shape);
    if (twin) {
      const message = `Two route files resolve to the same URL ${route.pattern}`;
      const hint = 'route groups `(name)` do not change the URL; remove or move one of the files';
      flag(twin, route, message, hint);
      flag(route, twin, message, hint);
    } else {
      routeByShape.set(shape, route);
    }

    // `/a/[[...x]]` also serves `/a`.
    const last = route.segments[route.segments.length - 1];
    if (last?.type === 'optional') {
      const bare = routeByShape.get(shapeOf(route.segments.slice(0, -1)));
      if (bare) {
        const message = `The optional catch-all ${route.pattern} also serves ${bare.pattern}`;
        const hint = 'use a required catch-all `[...x]` or remove the other route';
        flag(route, bare, message, hint);
        flag(bare, route, message, hint);
      }
    }

    route.segments.forEach((segment, index) => {
      if (segment.type === 'static') return;
      const key = shapeOf(route.segments.slice(0, index)) + '|' + (segment.type === 'dynamic' ? '[]' : 'catchall');
      const label = formatSegment(segment);
      const seen = paramAt.get(key);
      if (!seen) paramAt.set(key, { route, label });
      else if (seen.label !== label) {
        const message = `Different parameters \`${seen.label}\` and \`${label}\` at the same position`;
        const hint = 'Next.js needs one parameter name (and kind) per position; rename one of the folders';
        flag(route, seen.route, message, hint);
        flag(seen.route, route, message, hint);
      }
    });
  }
  return conflicts;
}
