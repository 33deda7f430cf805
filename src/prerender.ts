/**
 * The pipeline: discover → bundle → plan → execute → write → report. Per-build state travels in
 * local values passed from stage to stage; nothing is kept at module level.
 */
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { bundleRoutes, type Bundle } from './bundle.js';
import { discoverRoutes, resolveAppDir } from './discover.js';
import { loadProject } from './project.js';
import { withBasePath } from './params.js';
import { executePaths } from './execute.js';
import { assignFiles } from './files.js';
import { hostFiles, hostLayout } from './hosts.js';
import { buildManifest, MANIFEST_VERSION, manifestChunks, relativeFile, type Manifest } from './manifest.js';
import { fingerprint, hashPaths, shardPaths, type ShardInfo } from './shard.js';
import { resolveOptions, type PrerenderOptions, type ResolvedOptions } from './options.js';
import { errorResult, planRoutes, type PlannedPath } from './plan.js';
import { Sandbox } from './sandbox/pool.js';
import type { PathResult, RouteFile } from './types.js';
import { checkOutDir, createStaging, OWNER_MARKER, writeFileAtomic } from './write.js';
import { existsSync, statSync } from 'node:fs';

export interface PrerenderResult {
  manifest: Manifest;
  /** Every path's result, in plan order. */
  results: PathResult[];
  /** Number of route files found. */
  routes: number;
  outDir: string;
  manifestPath: string;
  /** False when a route errored: the previous output was left as it was. */
  written: boolean;
  /** With `keepPartial`, where the unfinished output of a failed build was left. */
  partialDir?: string;
  durationMs: number;
  /** Settings of next.config that were not applied and would change what is served. */
  warnings: string[];
  /** Milliseconds spent in each stage. */
  timings: { discover: number; bundle: number; plan: number; execute: number; write: number };
}

export async function prerender(input: PrerenderOptions): Promise<PrerenderResult> {
  const started = performance.now();
  let mark = started;
  const lap = () => {
    const now = performance.now();
    const spent = now - mark;
    mark = now;
    return Math.round(spent);
  };
  const timings = { discover: 0, bundle: 0, plan: 0, execute: 0, write: 0 };
  const options = resolveOptions(input);
  const appDir = resolveAppDir(options.appDir);
  const projectRoot = findProjectRoot(appDir);
  const project = await loadProject(projectRoot);
  const { basePath } = project.config;
  const discovery = await discoverRoutes(appDir, options.cwd, project.config.pageExtensions);
  timings.discover = lap();
  checkOutDir(options.out, { appDir: discovery.appDir, projectRoot, cwd: options.cwd, force: options.force });

  const results: PathResult[] = discovery.invalid.map(({ route, problem }) => errorResult(route, route.pattern, problem));
  const bundleDir = await mkdtemp(path.join(tmpdir(), 'route-prerender-'));
  const staging = await createStaging(options.out);
  // The workers start while esbuild compiles; they load route modules only when given tasks.
  const sandbox = new Sandbox({
    outputDir: staging.dir,
    bundleDir,
    projectRoot,
    size: options.concurrency,
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    maxMemoryMb: options.maxMemoryMb,
    maxBodyBytes: options.maxBodyBytes,
    // Environment first, then .env files; next.config's env is inlined by Next.js, so it wins.
    env: { ...project.env, ...process.env, ...project.config.env },
    basePath,
    strict: options.strict,
    onStrayOutput: (text) => options.logger.warn?.(text),
  });
  sandbox.start();
  let bundle: Bundle;
  try {
    bundle = await bundleRoutes(discovery.routes, projectRoot, bundleDir, options.strict);
  } catch (error) {
    await sandbox.close();
    await staging.discard(false);
    await rm(bundleDir, { recursive: true, force: true });
    throw error;
  }
  for (const [route, problem] of bundle.failures) results.push(errorResult(route, route.pattern, problem));
  timings.bundle = lap();

  let committed = false;
  try {
    const plan = await planRoutes(bundle.entries, sandbox, options.concurrency, basePath);
    for (const result of plan.settled) results.push(result);

    timings.plan = lap();
    const manifestInOut = relativeInside(options.out, options.manifest);
    const paths = plan.paths;
    plan.paths = [];
    const allPaths = options.shard ? hashPaths(paths.map((p) => p.path)) : '';
    // In a function of its own, so that the planned paths and file names can be collected
    // before the manifest is built.
    await assignAndExecute(paths, sandbox, options, manifestInOut, results);
    timings.execute = lap();
    // Keys of routes that never ran are their patterns; with a basePath they are URLs under it too.
    if (basePath) for (const result of results) if (result.path !== basePath && !result.path.startsWith(`${basePath}/`)) result.path = withBasePath(basePath, result.path);
    const ordered = orderResults(results, discovery.routes.concat(discovery.invalid.map((i) => i.route), [...bundle.failures.keys()]));
    let manifest = buildManifest(ordered, options.cwd);
    if (options.shard) {
      const print = await fingerprint(bundle.inputs, { host: options.host, strict: options.strict, version: MANIFEST_VERSION });
      const shard: ShardInfo = { count: options.shard.count, fingerprint: print, host: options.host, index: options.shard.index, paths: allPaths };
      manifest = { dynamic: manifest.dynamic, errors: manifest.errors, routes: manifest.routes, shard, version: manifest.version } as Manifest;
    }
    const failed = Object.keys(manifest.errors).length > 0;
    let partialDir: string | undefined;
    if (failed) {
      partialDir = await staging.discard(options.keepPartial);
    } else {
      for (const { file, content } of hostFiles(manifest, options.host)) await staging.writeBody(file, Buffer.from(content));
      if (manifestInOut !== undefined) await staging.writeChunks(manifestInOut, manifestChunks(manifest));
      else await staging.writeBody(OWNER_MARKER, Buffer.from('This folder was written by route-prerender.\n'));
      await staging.commit();
      committed = true;
      if (manifestInOut === undefined) await writeFileAtomic(options.manifest, manifestChunks(manifest));
    }
    timings.write = lap();
    return {
      warnings: project.config.ignored,
      timings,
      manifest,
      results: ordered,
      routes: discovery.routes.length + discovery.invalid.length,
      outDir: options.out,
      manifestPath: options.manifest,
      written: !failed,
      partialDir,
      durationMs: performance.now() - started,
    };
  } finally {
    await sandbox.close();
    await bundle.cleanup();
    if (!committed && existsSync(staging.dir) && !options.keepPartial) await staging.discard(false);
  }
}

/** Gives each path its file, reports conflicts, and runs the rest. Results are added to `results`. */
async function assignAndExecute(paths: PlannedPath[], sandbox: Sandbox, options: ResolvedOptions, manifestInOut: string | undefined, results: PathResult[]): Promise<void> {
  let routeOf: Map<string, RouteFile> | undefined;
  const describe = (urlPath: string) => {
    routeOf ??= new Map(paths.map((p) => [p.path, p.route]));
    return `${urlPath} (${relativeFile(routeOf.get(urlPath)!.file, options.cwd)})`;
  };
  const layout = hostLayout(options.host);
  const reserved = [manifestInOut ?? OWNER_MARKER, ...layout.reserved];
  const assigned = assignFiles(paths.map((p) => p.path), reserved, describe, layout.rootFile);
  const { conflicts } = assigned;
  const files = layout.prefix ? new Map([...assigned.files].map(([urlPath, file]) => [urlPath, layout.prefix + file])) : assigned.files;
  // A shard runs its part of the paths, with the files they have in the whole build.
  const mine = options.shard ? shardPaths(paths.map((p) => p.path), options.shard) : undefined;
  for (const planned of paths) {
    if (mine && !mine.has(planned.path)) continue;
    const conflict = conflicts.get(planned.path);
    if (conflict) results.push(errorResult(planned.route, planned.path, { message: `The path ${planned.path} cannot be written: ${conflict}.`, hint: 'rename one of the routes or params so that each path has its own file' }));
  }
  const runnable = conflicts.size > 0 || mine ? paths.filter((p) => !conflicts.has(p.path) && (!mine || mine.has(p.path))) : paths;
  const onProgress = options.logger.progress?.bind(options.logger);
  // A loop, not push(...): a spread of 100k+ results exceeds the argument limit.
  for (const result of await executePaths(runnable, sandbox, { files, onProgress })) results.push(result);
}

/** The nearest folder at or above the app directory with a package.json (else the app's parent). */
export function findProjectRoot(appDir: string): string {
  for (let dir = appDir; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && statSync(path.join(dir, 'package.json')).isFile()) return dir;
    if (path.dirname(dir) === dir) return path.dirname(appDir);
  }
}

function relativeInside(folder: string, file: string): string | undefined {
  const relative = path.relative(folder, file);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  return relative.split(path.sep).join('/');
}

/** Plan order: routes by pattern, then each route's results in the order they were planned. */
function orderResults(results: PathResult[], routes: RouteFile[]): PathResult[] {
  const rank = new Map([...routes].sort((a, b) => (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : a.file < b.file ? -1 : 1)).map((route, index) => [route, index]));
  return results
    .map((result, index) => ({ result, index }))
    .sort((a, b) => (rank.get(a.result.route)! - rank.get(b.result.route)!) || a.index - b.index)
    .map(({ result }) => result);
}
