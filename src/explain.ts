/**
 * `prerender explain <path>`: for one URL path of a finished build, whether it is static or dynamic
 * and why, and what it read to make its bytes, from the manifest and the build cache beside the
 * output folder. Marks the inputs that changed since (what an incremental build would run it again for).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Digests, frozenUses, inputLabel, readCache, variationLabel } from './cache.js';
import { setupError } from './errors.js';
import { findManifest, MANIFEST_NAME, readManifest, type Manifest, type ManifestRoute } from './manifest.js';
import { keyOfRequest } from './params.js';
import { parseFolder } from './segments.js';
import type { RecordedInputs } from './sandbox/protocol.js';
import { formatBytes } from './report.js';

export interface ExplainOptions {
  /** The URL path, as in the manifest (`/posts/hello`). */
  path: string;
  /** The output folder. Default `dist`. */
  out?: string;
  /** The build's manifest, when it was written elsewhere with `--manifest`. Default: in or beside `out`. */
  manifest?: string;
  cwd?: string;
}

export interface Explanation {
  path: string;
  verdict: 'static' | 'dynamic' | 'error';
  /** The route file, relative to the working directory. */
  source: string;
  srcRoute: string;
  /** The verdict in words, with the reasons or the error. */
  lines: string[];
  /** What the handler read, what generateStaticParams read, what loading modules read. */
  reads: Array<{ phase: 'handler' | 'generateStaticParams' | 'modules'; what: string; at?: string; changed: boolean }>;
  /** False when the output has no build cache (built by an older version, or the cache was removed). */
  recorded: boolean;
  /** Set when no handler ran for this URL at build: it is served by a route dynamic as a whole, or generateStaticParams did not return it. */
  notRun?: true;
}

export function explainPath(options: ExplainOptions): Explanation {
  const cwd = options.cwd ?? process.cwd();
  const out = path.resolve(cwd, options.out ?? 'dist');
  const manifestFile = options.manifest === undefined ? findManifest(out) : path.resolve(cwd, options.manifest);
  if (!manifestFile || !existsSync(manifestFile)) throw setupError('USAGE', [`${options.manifest ?? `${options.out ?? 'dist'} has no ${MANIFEST_NAME}`}${options.manifest ? ' does not exist' : ''}: build it first, or pass its folder with --out (and its manifest with --manifest when it was written elsewhere).`]);
  const manifest = readManifest(manifestFile);
  const found = findKey(manifest, options.path);
  const cache = readCache(out);
  const digests = cache ? new Digests(path.resolve(cwd, cache.project ?? '.'), process.env) : undefined;
  const changed = (id: string) => Boolean(cache && digests && id.startsWith('env:') === false && cache.digests[id] !== undefined && cache.digests[id] !== digests.of(id));
  /** What the path's handler (when `key` ran), its route's generateStaticParams and loading modules read. */
  const addReads = (explanation: Explanation, key: string | undefined) => {
    if (!cache) return;
    const add = (phase: Explanation['reads'][number]['phase'], inputs: RecordedInputs | undefined) => {
      for (const read of describeReads(inputs)) explanation.reads.push({ phase, ...read, changed: read.id !== undefined && changed(read.id) });
    };
    if (key !== undefined) add('handler', cache.paths[key]?.inputs);
    add('generateStaticParams', cache.routes[explanation.source]?.inputs);
    add('modules', cache.global);
  };

  if ('unlisted' in found) {
    // A path of a route whose generateStaticParams did not return it: what that route read decides which paths exist.
    const { url, entry } = found;
    const explanation: Explanation = { path: url, verdict: 'dynamic', source: entry.source, srcRoute: entry.srcRoute, lines: [], reads: [], recorded: cache !== undefined, notRun: true };
    explanation.lines.push(
      `${url} was not prerendered: generateStaticParams of ${entry.source} did not return it (${entry.srcRoute} has ${found.unlisted} other ${found.unlisted === 1 ? 'path' : 'paths'} in this build).`,
      `Next.js renders it on request (dynamicParams = true, the default), or answers 404 (dynamicParams = false).`,
    );
    addReads(explanation, undefined);
    return explanation;
  }
  const { key } = found;
  const entry = manifest.routes[key] ?? manifest.dynamic[key] ?? manifest.errors[key];
  const explanation: Explanation = { path: found.url ?? key, verdict: 'static', source: entry.source, srcRoute: entry.srcRoute, lines: [], reads: [], recorded: cache !== undefined, ...(found.url ? { notRun: true as const } : {}) };
  const route = manifest.routes[key];
  const dynamic = manifest.dynamic[key];
  const error = manifest.errors[key];
  // A URL served by a route that is dynamic (or failed) as a whole is explained by that route.
  if (found.url) explanation.lines.push(`${found.url} has no file in this build: the route ${key} serves it.`);
  if (route) {
    const type = route.headers['content-type'];
    explanation.lines.push(`${key} is static: ${route.source} answered ${route.status}${route.file === null ? '' : ` (${formatBytes(route.size)}${type ? `, ${String(type)}` : ''}), written to ${route.file}`}.`);
    if (route.revalidate !== false) explanation.lines.push(`It revalidates every ${route.revalidate} s.`);
    for (const use of route.frozen ?? []) explanation.lines.push(`Frozen at build time: it reads ${use.what}${use.at ? ` (${use.at})` : ''} without revalidate; set \`revalidate\`, or rebuild to refresh.`);
  } else if (dynamic) {
    explanation.verdict = 'dynamic';
    explanation.lines.push(`${key} is dynamic (${dynamic.source}): it must be served by Next.js, because`);
    for (const reason of dynamic.reasons) explanation.lines.push(`  ${reason.kind}${reason.at ? ` at ${reason.at}` : ''}: ${reason.message}`);
  } else {
    explanation.verdict = 'error';
    explanation.lines.push(`${key} failed (${error.source}, ${error.code}): ${error.message}${error.at ? ` at ${error.at}` : ''}`);
    if (error.hint) explanation.lines.push(`  hint: ${error.hint}`);
  }
  addReads(explanation, key);
  return explanation;
}

/**
 * What the user typed, in the manifest: a key (exact, then with or without a trailing slash, then
 * percent-decoded); else the route that would serve that URL (Next.js's order: static segments
 * before `[param]`, before `[...rest]`, before `[[...rest]]`): a route dynamic or failed as a whole
 * (its pattern is its key, `url` the URL typed), or one with prerendered paths (`unlisted`: how many).
 */
function findKey(manifest: Manifest, given: string): { key: string; url?: string } | { url: string; entry: ManifestRoute; unlisted: number } {
  const wanted = given.startsWith('/') ? given : `/${given}`;
  const decoded = keyOfRequest(wanted);
  const keys = [wanted, wanted.replace(/\/+$/, '') || '/', `${wanted}/`, ...(decoded === undefined ? [] : [decoded])];
  const has = (key: string) => key in manifest.routes || key in manifest.dynamic || key in manifest.errors;
  for (const candidate of keys) if (has(candidate)) return { key: candidate };
  if (decoded !== undefined) {
    const routes = new Map<string, { entry: ManifestRoute; count: number }>();
    for (const key in manifest.routes) {
      const entry = manifest.routes[key];
      const seen = routes.get(entry.srcRoute);
      if (seen) seen.count++;
      else routes.set(entry.srcRoute, { entry, count: 1 });
    }
    const patterns = [...Object.keys(manifest.dynamic), ...Object.keys(manifest.errors), ...routes.keys()].filter((key) => key.includes('['));
    const best = bestMatch(patterns, decoded);
    if (best !== undefined) {
      const prerendered = routes.get(best);
      return prerendered && !has(best) ? { url: decoded, entry: prerendered.entry, unlisted: prerendered.count } : { key: best, url: decoded };
    }
  }
  const all = [...Object.keys(manifest.routes), ...Object.keys(manifest.dynamic), ...Object.keys(manifest.errors)];
  const ofRoute = Object.entries(manifest.routes).filter(([, r]) => r.srcRoute === wanted).map(([k]) => k);
  const near = ofRoute.length > 0 ? ofRoute : all.filter((k) => k.startsWith(wanted.split('/').slice(0, 2).join('/')));
  const hint = near.length > 0 ? ` Paths like it: ${near.slice(0, 5).join(', ')}${near.length > 5 ? ', …' : ''}.` : '';
  throw setupError('USAGE', [`${wanted} is not a path of this build (${all.length} paths).${hint}`]);
}

/**
 * The pattern that serves `url` as Next.js picks among routes: segment by segment, a static one
 * before `[param]`, before `[...rest]`, before `[[...rest]]`. Undefined when none matches.
 */
export function bestMatch(patterns: string[], url: string): string | undefined {
  const parts = url.split('/').slice(1).filter((part) => part !== '');
  let best: { pattern: string; rank: number[] } | undefined;
  for (const pattern of patterns) {
    const rank = matchRank(pattern, parts);
    if (rank && (!best || compareRanks(rank, best.rank) > 0)) best = { pattern, rank };
  }
  return best?.pattern;
}

/** How specific each segment of `pattern` is where it matches `parts` (3 static … 0 optional catch-all), or undefined. */
function matchRank(pattern: string, parts: string[]): number[] | undefined {
  const folders = pattern.split('/').slice(1).filter((folder) => folder !== '');
  const rank: number[] = [];
  for (let i = 0; i < folders.length; i++) {
    const meaning = parseFolder(folders[i]);
    if (meaning.kind !== 'segment') return undefined;
    const { segment } = meaning;
    if (segment.type === 'catchall' || segment.type === 'optional') {
      const rest = parts.length - i;
      if (i !== folders.length - 1 || rest < (segment.type === 'catchall' ? 1 : 0)) return undefined;
      rank.push(segment.type === 'catchall' ? 1 : 0);
      return rank;
    }
    if (i >= parts.length) return undefined;
    if (segment.type === 'static' && segment.value !== parts[i]) return undefined;
    rank.push(segment.type === 'static' ? 3 : 2);
  }
  return folders.length === parts.length ? rank : undefined;
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function describeReads(inputs: RecordedInputs | undefined): Array<{ what: string; at?: string; id?: string }> {
  if (!inputs) return [];
  const reads: Array<{ what: string; at?: string; id?: string }> = [];
  for (const file of inputs.files ?? []) reads.push({ what: inputLabel(file.id), at: file.at, id: file.id });
  for (const env of inputs.env ?? []) reads.push({ what: inputLabel(`env:${env.name}`), at: env.at, id: `env:${env.name}` });
  const frozen = new Set(frozenUses(inputs).map((use) => use.what));
  for (const f of inputs.fetches ?? []) reads.push({ what: `fetch ${f.method} ${f.url}${f.cache ? ` (cache: '${f.cache}')` : ''}${f.revalidate !== undefined ? ` (revalidate: ${f.revalidate})` : ''}${frozen.has(`fetch ${f.method} ${f.url}`) ? ', no revalidate' : ''}`, at: f.at });
  for (const s of inputs.sockets ?? []) reads.push({ what: `socket ${s.target}`, at: s.at });
  for (const v of inputs.variation ?? []) reads.push({ what: variationLabel(v.kind), at: v.at });
  return reads;
}

export function formatExplanation(e: Explanation): string {
  const lines = [...e.lines];
  if (!e.recorded) {
    lines.push('', 'This output has no build cache beside it (built by an older version, or the cache was removed): what the path read is not known. Build again to record it.');
    return lines.join('\n');
  }
  const titles: Record<Explanation['reads'][number]['phase'], string> = {
    handler: 'Its handler read:',
    generateStaticParams: `generateStaticParams of ${e.source} read (it decides which paths exist):`,
    modules: 'Loading modules read (every path depends on this):',
  };
  for (const phase of ['handler', 'generateStaticParams', 'modules'] as const) {
    const reads = e.reads.filter((r) => r.phase === phase);
    if (phase === 'handler' && reads.length === 0 && !e.notRun) {
      lines.push('', e.verdict === 'static' ? 'Its handler read no file, variable or network: its bytes depend on its code and params alone.' : 'Its handler read no file, variable or network before it stopped.');
      continue;
    }
    if (reads.length === 0) continue;
    lines.push('', titles[phase]);
    const width = Math.min(60, Math.max(...reads.map((r) => r.what.length)));
    for (const read of reads) lines.push(`  ${read.what.padEnd(width)}${read.at ? `  ${read.at}` : ''}${read.changed ? '  (changed since the build)' : ''}`);
  }
  lines.push('', `Its code: ${e.source} and every module it imports, by content. An incremental build runs it again when any of these change.`);
  return lines.join('\n');
}
