/**
 * The pipeline: discover → bundle → plan → assign → execute → write. Each stage returns its own
 * results; per-build state travels in one small context; nothing is kept at module level.
 */
import path from 'node:path';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { assignPaths } from './assign.js';
import { bundleRoutes, bundleSettings, restoreBundle } from './bundle.js';
import { discoverRoutes, resolveAppDir } from './discover.js';
import { executePaths } from './execute.js';
import { hostFiles, hostLayout } from './hosts.js';
import { buildManifest, manifestChunks, MANIFEST_VERSION, type Manifest, type ManifestText } from './manifest.js';
import { cacheChunks, cachePath, carryOver, changedInputs, codeDigest, Digests, hash, hashing, headOffering, inputId, manifestStamp, modulesPath, parseCache, planReuse, readCacheBytes, readModulesRecord, reusableAnalyses, RebuildCauses, Recorder, unchangedBundle, writeModulesRecord, type BuildCache, type CacheText, type Head, type IncrementalSummary } from './cache.js';
import { helpLook } from './look.js';
import { resolveOptions, type PrerenderOptions, type ResolvedOptions } from './options.js';
import { planRoutes, type AssignedPath } from './plan.js';
import { loadProject, type Project } from './project.js';
import { decideFromSource, unreadableConfig } from './decide.js';
import { dynamicResult, errorResult, failuresOnServer } from './results.js';
import { KeptRecord, manifestEntry } from './manifest.js';
import { BUILD_ENV, Sandbox } from './sandbox/pool.js';
import { claimLook, startEarly, type Look } from './sandbox/thread.js';
import { fingerprint } from './shard.js';
import type { PathResult, RouteFile, StaticResult } from './types.js';
import { relativeFile } from './location.js';
import { checkOutDir, cleanLeftovers, createStaging, listFiles, lockOutDir, outputError, ownerMarker, saveModules, writeFileAtomic, type Staging } from './write.js';
import { setupError } from './errors.js';
import { libraryFile } from './places.js';
import { formatCount } from './numbers.js';
import { collectGarbage, GarbagePacer } from './memory.js';
import { applyStaticExport } from './static-export.js';
import { releaseEsbuild } from './esbuild.js';

export interface PrerenderResult {
  /**
   * The manifest written. A static path's entry is its result record (one object a path): its own
   * fields are the entry's, and `JSON.stringify` writes it as the manifest file has it.
   */
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
  /** Settings of next.config, and the middleware, that were not applied and would change what is served. */
  warnings: string[];
  /** Milliseconds spent in each stage. */
  timings: Timings;
  /** Which rules the build used and where they came from, one sentence each (the report's first lines). */
  rules: string[];
  /** With `incremental`: how many paths ran again and why, and how many kept their previous bytes. */
  incremental?: IncrementalSummary;
  /** Where the build cache of this output was written (what each path read; see `explain`). */
  cachePath?: string;
  /**
   * Static paths that `next build` of Next.js 15 or later (without Cache Components) would not
   * prerender, because their route does not opt in; empty for other versions.
   */
  notOptedIn: string[];
}

export interface Timings {
  discover: number;
  bundle: number;
  plan: number;
  execute: number;
  write: number;
}

/** What every stage of one build may read. */
interface BuildContext {
  /** The environment route code sees. */
  env: Record<string, string | undefined>;
  options: ResolvedOptions;
  project: Project;
  /** Where the compiled route modules go (removed at the end). */
  bundleDir: string;
  staging: Staging;
  sandbox: Sandbox;
}

export async function prerender(input: PrerenderOptions): Promise<PrerenderResult> {
  const clock = stopwatch();
  const given = resolveOptions(input);
  // The first worker starts now (unless the CLI started it already), while the project is read.
  startEarly(given.maxMemoryMb, given.incremental ? { out: given.out, cwd: given.cwd } : undefined);
  const looked = given.incremental ? claimLook(given.out) : undefined;
  const appDir = resolveAppDir(given.appDir);
  const project = await loadProject(findProjectRoot(appDir), process.env, (text) => given.logger.warn?.(text));
  // next.config's cacheComponents turns on the Cache Components rules, as for `next build`.
  const options: ResolvedOptions = { ...given, strict: given.strict || project.config.cacheComponents !== undefined };
  const discovery = await discoverRoutes(appDir, { cwd: options.cwd, extensions: project.config.pageExtensions, basePath: project.config.basePath });
  const timings: Timings = { discover: clock.lap(), bundle: 0, plan: 0, execute: 0, write: 0 };
  checkOutDir(options.out, { appDir: discovery.appDir, projectRoot: project.root, cwd: options.cwd, force: options.force });

  // One build at a time per --out; then what killed builds left beside it is cleaned up (and an
  // output a kill caught in the middle of its swap is put back).
  const unlock = await lockOutDir(options.out).catch((error: unknown) => {
    throw outputError(error, path.dirname(options.out));
  });
  let context: BuildContext;
  try {
    const recovered = await cleanLeftovers(options.out);
    if (recovered) options.logger.warn?.(`Recovered ${relativeFile(options.out, options.cwd)}/ from a build that was stopped while it replaced it.`);
    context = await openBuild(options, project);
  } catch (error) {
    await unlock();
    throw error;
  }
  const { sandbox, staging, env } = context;
  const interrupted = interruption(input.signal);
  const step = <T>(work: Promise<T>): Promise<T> => (interrupted ? Promise.race([work, interrupted]) : work);
  let committed = false;
  /** sha256 of the manifest's text, once written. */
  let written: string | undefined;
  /** The previous output's removal, once the new one is in its place. */
  let removal: Promise<void> | undefined;
  let partialDir: string | undefined;
  let cleanupBundle = () => rm(context.bundleDir, { recursive: true, force: true });
  try {
    const invalid = discovery.invalid.map(({ route, problem }) => errorResult(route, route.srcRoute, problem));
    const major = nextMajor(project);
    const { settled: byConfig, toBuild } = triageRoutes(discovery.routes, major >= 15);
    // What each path reads is recorded on every build, for the next incremental one and `explain`.
    const digests = new Digests(project.root, { ...env, ...BUILD_ENV });
    const settings = buildSettings(options, project, digests);
    // An incremental build takes the previous build's compiled modules when nothing they came from
    // changed (and trusts the digests of files unchanged since it, as it does those of the cache).
    const compile = { strict: options.strict, externals: project.config.serverExternalPackages, aliases: project.config.resolveAlias, rules: project.config.loaderRules, images: project.config.disableStaticImages ? (false as const) : { assetPrefix: project.config.assetPrefix ?? project.config.basePath }, ...(Number.isNaN(major) ? {} : { nextMajor: major }) };
    const compiledWith = hash(`${settings}\n${bundleSettings(toBuild, project.root, compile)}`);
    const modules = options.incremental ? readModulesRecord(options.out) : undefined;
    digests.trust(modules);
    const unchanged = unchangedBundle(modules, compiledWith, digests, project.root);
    const restored = unchanged && (await restoreBundle(modulesPath(options.out), context.bundleDir, toBuild, unchanged));
    if (!restored) options.logger.phase?.(`Compiling ${count(toBuild.length, 'route file')}`, 'compile');
    const bundle = restored || (await step(bundleRoutes(toBuild, project.root, context.bundleDir, compile)));
    cleanupBundle = bundle.cleanup;
    const broken = [...bundle.failures].map(([route, problem]) => errorResult(route, route.srcRoute, problem));
    timings.bundle = clock.lap();
    const recorder = new Recorder();

    // An incremental build takes the analysis of each route where nothing it read changed from the
    // previous build's cache; that cache is read first when it offers any.
    const cacheBytes = options.incremental ? readCacheBytes(options.out) : undefined;
    const cacheText = cacheBytes?.toString();
    const offered = cacheText === undefined ? undefined : headOffering(cacheText, settings);
    const early = offered ? previousCache(cacheText!, cacheBytes!, offered) : undefined;
    digests.trust(early?.cache);
    const codes = new Map([...bundle.graphs].map(([route, files]) => [route, codeDigest(files, digests, project.root)]));
    // A native addon is reached through a server-external package: what one loads while modules load matters to the routes that import one.
    const importers = new Set(bundle.importers);
    const externalRoutes = new Set([...bundle.graphs].filter(([, files]) => files.some((file) => importers.has(file))).map(([route]) => route));
    const importsExternals = (route: RouteFile) => externalRoutes.has(route);
    const analyses = reusableAnalyses(early?.cache, { settings, digests, cwd: options.cwd, codes, importsExternals });
    // The modules of routes planned that way are loaded now all the same, as planning would have, to be ready for their paths.
    const loading = [...analyses.keys()].map((route) => sandbox.run({ type: 'analyze', entry: bundle.entries.get(route)!, source: route.file, route, loadOnly: true }).then(({ inputs }) => recorder.task(route, undefined, inputs)));
    options.logger.phase?.(`Planning ${count(bundle.entries.size - analyses.size, 'route module')} (segment config, generateStaticParams)`, 'plan');
    const planning = step(planRoutes(bundle.entries, sandbox, options.concurrency, { basePath: project.config.basePath, previous: analyses, skipIncomplete: major >= 15, onAnalysis: (route, analysis) => recorder.analyzed(route, analysis) }));
    planning.catch(() => undefined); // awaited below
    // While the workers plan, the previous build is read and what its paths read is looked at again.
    const { cache: previous, manifest: before, texts, changed, unchanged: unchangedInput, rewrite }: Previous = options.incremental ? await readPrevious(options, settings, digests, early ?? (cacheText === undefined ? undefined : { text: cacheText, bytes: cacheBytes! }), looked) : {};
    const plan = await planning;
    timings.plan = clock.lap();
    // Next.js 15 and later (without Cache Components) run a GET at build only when its route opts in.
    const notOptedIn = major >= 15 && !options.strict ? new Set(plan.routes.filter((p) => !p.optedIn).map((p) => p.route)) : new Set<RouteFile>();

    const manifestInOut = relativeInside(options.out, options.manifest);
    const planned = plan.routes.reduce((sum, p) => sum + p.paths.length, 0);
    // esbuild's service waits for the next build of this process, unless this one has many paths to
    // run: then it goes before the files are assigned, with its memory.
    if (planned >= RELEASE_ESBUILD_PATHS) await releaseEsbuild();
    // Expanding a million params leaves much garbage (what was received, the check for duplicates):
    // collected before the files are assigned, not beside them.
    if (planned >= LARGE_BUILD) collectGarbage();
    const assignment = assignPaths(plan.routes, { host: options.host, reserved: manifestInOut ? [manifestInOut] : [], cwd: options.cwd, shard: options.shard });
    plan.routes = [];
    // Assigning a million paths their files leaves much garbage behind (the tables of names):
    // collected now, not after the results have piled on top of it.
    const large = assignment.paths.length >= LARGE_BUILD;
    if (large) collectGarbage();
    const causes = options.incremental ? new RebuildCauses() : undefined;
    if (causes) {
      causes.compiled = !restored;
      causes.analysesReused = analyses.size;
    }
    const incremental = causes && reusePrevious(options, { previous, manifest: before, changed, unchanged: unchangedInput, settings, digests, codes, importsExternals, recorder, causes, stagingDir: staging.dir });
    // Each result lets go of its path's record (old by now) for a new one: V8 lets the old generation
    // grow by half its live size before it collects (1,000,000 paths: 360 → 605 MB of RSS over the
    // execution); collected whenever it grew by a fifth (48 MB at least), it stays near 360.
    const garbage = large ? new GarbagePacer(48 * 2 ** 20, 8192, undefined, undefined, 0.2) : undefined;
    options.logger.phase?.(`Prerendering ${count(assignment.paths.length, 'path')}`, 'execute');
    const executed = await step(executePaths(assignment.paths, sandbox, {
      cwd: options.cwd,
      filePrefix: hostLayout(options.host).prefix,
      ...(garbage ? { onResult: () => void garbage.tick() } : {}),
      onProgress: options.logger.progress?.bind(options.logger),
      reuse: incremental?.reuse,
      onInputs: (assigned, inputs) => recorder.task(assigned.plan.route, assigned.key, inputs),
      frozen: (assigned) => recorder.frozen(assigned.plan.route, assigned.key),
      // A GET that next build would not run has a shorter limit (notRunTimeout): a handler waiting
      // for a database out of reach would otherwise hold the build for a minute, to end on a
      // server all the same (see failuresOnServer).
      ...(options.notRunLimitMs !== undefined && notOptedIn.size > 0 ? { limit: (assigned: AssignedPath) => (notOptedIn.has(assigned.plan.route) ? options.notRunLimitMs : undefined) } : {}),
    }));
    assignment.paths = [];
    await Promise.all(loading);
    if (large) collectGarbage();
    // Route code has run: the workers end here, and what routes left running with them. Their
    // threads are freed while the results are put in order; nothing is written until they are gone.
    const { ended } = await sandbox.end();
    timings.execute = clock.lap();

    const allRoutes = [...discovery.routes, ...discovery.invalid.map((i) => i.route)];
    const ordered = inPlanOrder([invalid, byConfig, broken, plan.settled, assignment.errors, executed], allRoutes);
    // Under output: 'export', what would need a server fails the build, as it fails next build;
    // otherwise a GET that next build would not run, and that failed here, stays on a server.
    const results = project.config.staticExport ? applyStaticExport(ordered, { config: relativeFile(project.config.file!, options.cwd), notOptedIn }) : failuresOnServer(ordered, notOptedIn);
    let manifest = buildManifest(results, options.cwd);
    // The manifest's record of a million keys grew through smaller tables: they go before the text is made.
    if (large) collectGarbage();
    if (options.shard) {
      // The files of routes settled from their source alone count too: they were never compiled.
      const inputs = [...new Set([...bundle.inputs, ...byConfig.map((r) => r.route.file)])].sort();
      const print = await fingerprint(inputs, { host: options.host, strict: options.strict, version: MANIFEST_VERSION });
      manifest = { ...manifest, shard: { count: options.shard.count, fingerprint: print, host: options.host, index: options.shard.index, paths: assignment.allPaths! } };
    }
    const failed = Object.keys(manifest.errors).length > 0;
    const staticPaths = Object.keys(manifest.routes).length;
    await ended;
    if (input.signal?.aborted) await interrupted;
    options.logger.phase?.(failed ? 'Leaving the previous output as it was' : 'Writing the manifest and swapping in the output', 'write');
    if (failed) {
      partialDir = await staging.discard(options.keepPartial);
    } else {
      try {
        for (const { file, content } of await hostFiles(manifest, options.host, options.origin)) await staging.writeBody(file, Buffer.from(content));
        const text = hashing(manifestChunks(manifest, undefined, texts?.manifest));
        if (manifestInOut !== undefined) await staging.writeChunks(manifestInOut, text.chunks);
        // A manifest kept elsewhere is written first: if that fails, nothing has changed yet.
        if (manifestInOut === undefined) await writeFileAtomic(options.manifest, text.chunks).catch((error: unknown) => Promise.reject(outputError(error, path.dirname(options.manifest))));
        written = text.digest();
        // The old cache describes the old output: it goes before the swap, the new one comes after.
        await rm(cachePath(options.out), { force: true });
        // From here on an interruption waits: the swap is two renames, and both must happen.
        // The previous output is removed while the cache is written (by another process where it
        // can be, see removeTreeAside). An incremental build that reused files updates the output
        // in place instead: a file moved in for each path that ran, one removed for each path that went.
        if (incremental?.keep) await staging.apply(incremental.keep, incremental.present, manifestInOut);
        else removal = (await staging.commit({ later: true, aside: staticPaths >= REMOVE_ASIDE_FILES })).removed;
        committed = true;
        if (manifestInOut === undefined) await writeFile(ownerMarker(options.out), `${path.basename(options.out)}/ was written by route-prerender; its manifest is ${options.manifest}.\n`);
      } catch (error) {
        throw outputError(error, options.out);
      }
    }
    if (committed) {
      // The compiled modules are kept for the next build (those taken from the previous one are there already).
      if (!restored && bundle.failures.size === 0 && (await saveModules(bundle.dir, modulesPath(options.out)))) {
        try {
          writeModulesRecord(options.out, { key: compiledWith, inputs: bundle.inputs, graphs: toBuild.map((route) => bundle.graphs.get(route) ?? []), importers: bundle.importers, root: project.root, digests });
        } catch {
          // without its record the folder is not used: the next build compiles
        }
      }
      const cache = recorder.finish({ settings, project: project.root, codes, digests, cwd: options.cwd, staticPaths, keys: keptKeys(manifest), manifest: written, manifestStamp: manifestStamp(options.manifest), ...(rewrite && texts?.cache ? { previous: { read: texts.cache, rewrite } } : {}) });
      await writeFileAtomic(cachePath(options.out), cacheChunks(cache, texts?.cache)).catch((error: unknown) => {
        options.logger.warn?.(`The build cache could not be written (${(error as Error).message}); the next --incremental build runs every path.`);
      });
    }
    await removal;
    removal = undefined;
    timings.write = clock.lap();
    return {
      ...(causes ? { incremental: causes.summary() } : {}),
      ...(committed ? { cachePath: cachePath(options.out) } : {}),
      warnings: [...project.config.ignored, ...(project.middleware ? [project.middleware] : []), ...plan.warnings, ...[...sandbox.warnings].sort()],
      timings,
      manifest,
      results,
      routes: allRoutes.length,
      outDir: options.out,
      manifestPath: options.manifest,
      written: !failed,
      partialDir,
      durationMs: clock.total(),
      rules: describeRules(project, given.strict, options.cwd),
      notOptedIn: notOptedIn.size > 0 ? results.filter((r) => r.type === 'static' && notOptedIn.has(r.route)).map((r) => r.path) : [],
    };
  } finally {
    // A build that failed after the swap still finishes removing the previous output (it never rejects).
    await removal;
    await sandbox.close();
    await cleanupBundle();
    if (!committed && partialDir === undefined && existsSync(staging.dir)) await staging.discard(false);
    await unlock();
  }
}

/**
 * Routes whose source alone says they stay on a server are settled here, before anything is
 * compiled; the others go on to the bundler.
 */
function triageRoutes(routes: RouteFile[], literalConfig: boolean): { settled: PathResult[]; toBuild: RouteFile[] } {
  const settled: PathResult[] = [];
  const toBuild: RouteFile[] = [];
  for (const route of routes) {
    const source = route.metadata ? '' : readSource(route.file);
    // Next.js 15 and later fail the build for segment config they cannot read from the source.
    const unreadable = literalConfig ? unreadableConfig(source) : undefined;
    if (unreadable) {
      const { name, value, why, line, column } = unreadable;
      const message = `Next.js 15 and later cannot read \`${name} = ${value}\` from the source (${why}), and next build fails for it.`;
      settled.push(errorResult(route, route.srcRoute, { code: 'SEGMENT_CONFIG_INVALID', message, hint: `write the value itself: a number, a string or true/false (\`export const ${name} = …\`)`, at: { file: route.file, line, column } }));
      continue;
    }
    const reasons = route.metadata ? undefined : decideFromSource(route, source);
    if (reasons) settled.push(dynamicResult(route, route.srcRoute, reasons));
    else toBuild.push(route);
  }
  return { settled, toBuild };
}

function readSource(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** A promise that rejects with INTERRUPTED when `signal` aborts (Ctrl-C in the CLI). */
function interruption(signal: AbortSignal | undefined): Promise<never> | undefined {
  if (!signal) return undefined;
  const interrupted = new Promise<never>((_, reject) => {
    const stop = () => reject(setupError('INTERRUPTED', [String(signal.reason ?? 'aborted')]));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  interrupted.catch(() => undefined); // raced, or awaited when needed
  return interrupted;
}

/** The bundle folder, the staging folder and the sandbox; the workers boot while esbuild compiles. */
async function openBuild(options: ResolvedOptions, project: Project): Promise<BuildContext> {
  // Environment first, then .env files; next.config's env is inlined by Next.js, so it wins.
  const env = { ...project.env, ...process.env, ...project.config.env };
  let bundleDir: string;
  try {
    bundleDir = await mkdtemp(path.join(tmpdir(), 'route-prerender-'));
  } catch (error) {
    throw outputError(error, tmpdir());
  }
  let staging: Staging;
  try {
    staging = await createStaging(options.out);
  } catch (error) {
    await rm(bundleDir, { recursive: true, force: true });
    throw outputError(error, path.dirname(options.out));
  }
  const sandbox = new Sandbox({
    outputDir: staging.dir,
    bundleDir,
    projectRoot: project.root,
    size: options.concurrency,
    light: options.lightWorkers,
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    maxMemoryMb: options.maxMemoryMb,
    maxBodyBytes: options.maxBodyBytes,
    env,
    basePath: project.config.basePath,
    strict: options.strict,
    cachedFetches: nextMajor(project) >= 15,
    onStrayOutput: (text) => options.logger.warn?.(text),
  });
  // Workers load route modules only when given tasks.
  sandbox.start();
  return { options, project, bundleDir, staging, sandbox, env };
}

/**
 * An incremental build's choice for each path: the previous bytes when nothing the path depends on
 * changed, else a run, with the cause counted for the report. Reused files stay where they are in
 * the output (`keep`, for an update in place); one whose name changed is linked into the staging
 * folder. Without a previous build to reuse, `keep` is undefined and the output is swapped whole.
 */
function reusePrevious(options: ResolvedOptions, build: { previous: BuildCache | undefined; manifest: Manifest | undefined; changed?: boolean; unchanged?: (id: string) => boolean; settings: string; digests: Digests; codes: Map<RouteFile, string>; importsExternals: (route: RouteFile) => boolean; recorder: Recorder; causes: RebuildCauses; stagingDir: string }): { reuse: (assigned: AssignedPath) => StaticResult | undefined; present: string[]; keep?: Set<string> } {
  const { causes, recorder } = build;
  const plan = planReuse({ cache: build.previous, manifest: build.manifest, changed: build.changed }, { settings: build.settings, digests: build.digests, cwd: options.cwd, importsExternals: build.importsExternals, ...(build.unchanged ? { unchanged: build.unchanged } : {}) });
  if (plan.none) options.logger.warn?.(`Incremental: every path runs, because ${plan.none}.`);
  const made = new Set<string>();
  // What the output holds now (files, and empty folders as `name/`): read once, for these decisions and the update.
  const present = plan.none || !existsSync(options.out) ? [] : listFiles(options.out, true);
  const existing = new Set(present);
  const keep = plan.none ? undefined : new Set<string>();
  const reuse = (assigned: AssignedPath): StaticResult | undefined => {
    const { key, plan: { route } } = assigned;
    const decision = plan.check(key, route, build.codes.get(route));
    if ('cause' in decision) {
      causes.add(decision.cause, key);
      return undefined;
    }
    const { entry } = decision;
    if (entry.file !== null) {
      // The file stays where it is, or, when its name changed, is linked into the staging folder.
      const there = existing.has(entry.file) && (entry.file !== assigned.file ? carryOver(path.join(options.out, entry.file), path.join(build.stagingDir, assigned.file), made) : true);
      if (!there) {
        causes.add('its previous output file is missing', key);
        return undefined;
      }
    }
    if (entry.file === assigned.file) keep!.add(entry.file);
    causes.reused++;
    recorder.reused(key, decision.record);
    const file = entry.file === null ? null : assigned.file;
    return new KeptRecord(key, route, file === entry.file ? entry : manifestEntry({ ...entry, file }));
  };
  return { reuse, present, ...(keep ? { keep } : {}) };
}

/**
 * The previous build's cache and manifest, and the digest of every input the cache recorded taken
 * now (when its settings are this build's), a slice at a time: done while the workers plan, it
 * leaves the reuse decisions only lookups. A manifest changed since the cache was written (`changed`)
 * is not read.
 */
async function readPrevious(options: ResolvedOptions, settings: string, digests: Digests, text: CacheText | { text: string; bytes: Buffer } | undefined, looked?: Look): Promise<Previous> {
  await new Promise(setImmediate); // the planning tasks go out first
  // Digests of files unchanged since the previous build are trusted (those of a cache parsed early are already).
  const unparsed = text !== undefined && !('cache' in text);
  const read = unparsed ? previousCache(text.text, text.bytes) : text;
  if (unparsed) digests.trust(read?.cache);
  const cache = read?.cache;
  // The manifest is taken only when it is the one written with the cache (its text unchanged).
  let manifest: Manifest | undefined;
  // Their texts serve the records the new ones keep, when they are not too large to hold.
  const texts: Previous['texts'] = { ...(read && read.text.length <= KEPT_TEXT_CHARS ? { cache: read } : {}) };
  try {
    const bytes = existsSync(options.manifest) ? readFileSync(options.manifest) : undefined;
    // Its stamp unchanged since it was written, it is not hashed again (37 MB at 100,000 paths). The
    // stamp is taken after the bytes are read: a write between the two moves it, and they are hashed.
    const stamped = cache?.manifest !== undefined && cache.manifestStamp !== undefined && manifestStamp(options.manifest) === cache.manifestStamp;
    if (bytes !== undefined && !stamped && cache?.manifest !== hash(bytes)) return { cache, changed: true };
    const text = bytes?.toString('utf8');
    manifest = text === undefined ? undefined : (JSON.parse(text) as Manifest);
    if (manifest && text!.length <= KEPT_TEXT_CHARS) texts.manifest = { manifest, text: text!, bytes: bytes! };
  } catch {
    return { cache }; // unreadable: nothing is reused
  }
  if (manifest && cache?.settings === settings) {
    // The worker started early took the stamps of the files again; those unchanged keep their digests.
    const found = looked && (await helpLook(looked, cache, options.cwd));
    if (found && found.builtAt === cache.builtAt && found.root === path.resolve(options.cwd, cache.project)) {
      digests.adoptUnchanged(cache, found.changed);
      // Only the files whose stamps changed, and the inputs that are not files, are taken again.
      const quick = changedInputs(cache, digests, found.changed);
      if (quick) return { cache, manifest, texts, unchanged: (id) => !quick.changed.has(id), rewrite: quick.rewrite };
    }
    // The ids whose digest did not change: a path's reads are then looked up once each.
    const same = new Set<string>();
    const ids = Object.keys(cache.digests);
    for (let start = 0; start < ids.length; start += 2000) {
      await new Promise(setImmediate);
      for (let i = start; i < Math.min(start + 2000, ids.length); i++) if (digests.of(ids[i]) === cache.digests[ids[i]]) same.add(ids[i]);
    }
    return { cache, manifest, texts, unchanged: (id) => same.has(id) };
  }
  return { cache, manifest, texts };
}

/** What an incremental build reads of the previous one (see `readPrevious`). */
interface Previous {
  cache?: BuildCache;
  manifest?: Manifest;
  /** The manifest is not the one written with the cache. */
  changed?: boolean;
  texts?: { manifest?: ManifestText; cache?: CacheText };
  /** Whether an input of the cache has the digest it had (see `planReuse`). */
  unchanged?: (id: string) => boolean;
  /** The inputs whose digest or stamp changed, when the cache's tables are kept as text (see `changedInputs`). */
  rewrite?: Set<string>;
}

/** The largest previous manifest or cache whose text is held for the records it keeps (each about 170,000 paths). */
const KEPT_TEXT_CHARS = 64 * 1024 * 1024;

/**
 * The previous cache from its text: its path records read only as far as the build needs them when
 * the text is held for the records kept (see `parseCache`), else parsed whole.
 */
function previousCache(text: string, bytes: Uint8Array, head?: Head): CacheText | undefined {
  const lazy = text.length <= KEPT_TEXT_CHARS;
  return parseCache(text, { lazy, ...(lazy ? { bytes, ...(head ? { head } : {}) } : {}) });
}

/** The keys of the static and the dynamic paths in order, from the two sections (each in order). */
function* keptKeys(manifest: Manifest): Generator<string> {
  const dynamic = Object.keys(manifest.dynamic);
  let next = 0;
  for (const key in manifest.routes) {
    while (next < dynamic.length && dynamic[next] < key) yield dynamic[next++];
    yield key;
  }
  while (next < dynamic.length) yield dynamic[next++];
}

/** What changes every path at once: a change here makes an incremental build run everything. */
function buildSettings(options: ResolvedOptions, project: Project, digests: Digests): string {
  const files = [project.config.file, ...LOCK_FILES.map((name) => path.join(lockFolder(project.root), name))].filter((file): file is string => file !== undefined);
  return hash(JSON.stringify({
    tool: toolVersion(),
    node: process.versions.node.split('.')[0],
    next: project.nextVersion ?? null,
    host: options.host,
    strict: options.strict,
    basePath: project.config.basePath,
    files: files.map((file) => [path.relative(project.root, file), digests.of(inputId('file', project.root, file))]),
  }));
}

const LOCK_FILES = ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lockb', 'bun.lock'];

/**
 * Where the project's lock file is: the project root, or in a monorepo the workspace root above it
 * (the nearest folder with one); the project root when there is none.
 */
function lockFolder(root: string): string {
  for (let dir = root; ; dir = path.dirname(dir)) {
    if (LOCK_FILES.some((name) => existsSync(path.join(dir, name)))) return dir;
    if (path.dirname(dir) === dir) return root;
  }
}

/** This package's version, read when a build first needs it (not when the library is imported). */
let version: string | undefined;
function toolVersion(): string {
  return (version ??= (JSON.parse(readFileSync(libraryFile('../../package.json'), 'utf8')) as { version: string }).version);
}

/** From this many paths on, esbuild's service is stopped before the paths run (see esbuild.ts). */
const RELEASE_ESBUILD_PATHS = 1000;

/** From this many static paths on, the previous output is removed by a process of its own (see `removeTreeAside`). */
const REMOVE_ASIDE_FILES = 1000;

/** From this many paths on, the build thread collects garbage between stages. */
const LARGE_BUILD = 100_000;

function count(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function nextMajor(project: Project): number {
  return Number(project.nextVersion?.split('.')[0] ?? NaN);
}

/** The rules this build follows and where each came from, for the report's first lines. */
export function describeRules(project: Project, strictFlag: boolean, cwd: string): string[] {
  const next = project.nextVersion ? `Next.js ${project.nextVersion} (installed)` : 'Next.js not installed';
  const configFile = project.config.file ? relativeFile(project.config.file, cwd) : 'next.config';
  const setting = project.config.cacheComponents;
  const rules = setting
    ? `the Cache Components rules, from ${setting} in ${configFile}${strictFlag ? ' (and --strict)' : ''}`
    : strictFlag
      ? 'the Cache Components rules of Next.js 16, from --strict'
      : 'every GET runs, static unless it touches request-time data (the rules of Next.js 14)';
  const exported = project.config.staticExport ? `; output: 'export' in ${configFile}, so every route must be static` : '';
  const lines = [`Rules: ${next}; ${rules}${exported}.`];
  if (project.envFiles.length > 0) lines.push(`Environment: ${project.envFiles.map((file) => relativeFile(file, cwd)).join(', ')}.`);
  return lines;
}

/**
 * The project folder a build of `appDir` (relative to `cwd`; by default the app found in `cwd`)
 * runs in, as `next build` runs in the project; undefined when there is no such app folder (the
 * build then says why).
 */
export function projectFolder(appDir: string | undefined, cwd: string): string | undefined {
  try {
    return findProjectRoot(resolveAppDir(resolveOptions({ appDir, cwd }).appDir));
  } catch {
    return undefined;
  }
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

/**
 * Plan order: routes by pattern (then file), and within a route the stages' results in the order
 * given, each stage's in its own order. The stages' arrays are read, not copied or re-sorted.
 */
export function inPlanOrder(stages: PathResult[][], routes: RouteFile[]): PathResult[] {
  const sorted = [...routes].sort((a, b) => (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const byRoute = new Map<RouteFile, PathResult[][]>(sorted.map((route) => [route, []]));
  for (const stage of stages) {
    let current: RouteFile | undefined;
    let run: PathResult[] = [];
    for (const result of stage) {
      // Results of one route stand together within a stage: one array per run.
      if (result.route !== current) {
        current = result.route;
        run = [];
        byRoute.get(current)!.push(run);
      }
      run.push(result);
    }
  }
  const ordered: PathResult[] = [];
  for (const runs of byRoute.values()) for (const run of runs) for (const result of run) ordered.push(result);
  return ordered;
}

function stopwatch() {
  const started = performance.now();
  let mark = started;
  return {
    lap(): number {
      const now = performance.now();
      const spent = now - mark;
      mark = now;
      return Math.round(spent);
    },
    total: () => performance.now() - started,
  };
}
