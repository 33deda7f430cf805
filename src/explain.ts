/**
 * `prerender explain <path>`: for one URL path of a finished build, whether it is static or dynamic
 * and why, and what it read to make its bytes, from the manifest and the build cache beside the
 * output folder. Marks the inputs that changed since (what an incremental build would run it again for).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Digests, frozenUses, inputLabel, readCache } from './cache.js';
import { setupError } from './errors.js';
import { findManifest, MANIFEST_NAME, readManifest, type Manifest } from './manifest.js';
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
}

export function explainPath(options: ExplainOptions): Explanation {
  const cwd = options.cwd ?? process.cwd();
  const out = path.resolve(cwd, options.out ?? 'dist');
  const manifestFile = options.manifest === undefined ? findManifest(out) : path.resolve(cwd, options.manifest);
  if (!manifestFile || !existsSync(manifestFile)) throw setupError('USAGE', [`${options.manifest ?? `${options.out ?? 'dist'} has no ${MANIFEST_NAME}`}${options.manifest ? ' does not exist' : ''}: build it first, or pass its folder with --out (and its manifest with --manifest when it was written elsewhere).`]);
  const manifest = readManifest(manifestFile);
  const key = findKey(manifest, options.path);
  const cache = readCache(out);
  const digests = cache ? new Digests(path.resolve(cwd, cache.project ?? '.'), process.env) : undefined;
  const changed = (id: string) => Boolean(cache && digests && id.startsWith('env:') === false && cache.digests[id] !== undefined && cache.digests[id] !== digests.of(id));

  const entry = manifest.routes[key] ?? manifest.dynamic[key] ?? manifest.errors[key];
  const explanation: Explanation = { path: key, verdict: 'static', source: entry.source, srcRoute: entry.srcRoute, lines: [], reads: [], recorded: cache !== undefined };
  const route = manifest.routes[key];
  const dynamic = manifest.dynamic[key];
  const error = manifest.errors[key];
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
  if (cache) {
    const add = (phase: Explanation['reads'][number]['phase'], inputs: RecordedInputs | undefined) => {
      for (const read of describeReads(inputs)) explanation.reads.push({ phase, ...read, changed: read.id !== undefined && changed(read.id) });
    };
    add('handler', cache.paths[key]?.inputs);
    add('generateStaticParams', cache.routes[entry.source]?.inputs);
    add('modules', cache.global);
  }
  return explanation;
}

/** The manifest key for what the user typed: exact, then with or without a trailing slash. */
function findKey(manifest: Manifest, given: string): string {
  const wanted = given.startsWith('/') ? given : `/${given}`;
  const keys = [wanted, wanted.replace(/\/+$/, '') || '/', `${wanted}/`];
  for (const candidate of keys) if (candidate in manifest.routes || candidate in manifest.dynamic || candidate in manifest.errors) return candidate;
  const all = [...Object.keys(manifest.routes), ...Object.keys(manifest.dynamic), ...Object.keys(manifest.errors)];
  const ofRoute = Object.entries(manifest.routes).filter(([, r]) => r.srcRoute === wanted).map(([k]) => k);
  const near = ofRoute.length > 0 ? ofRoute : all.filter((k) => k.startsWith(wanted.split('/').slice(0, 2).join('/')));
  const hint = near.length > 0 ? ` Paths like it: ${near.slice(0, 5).join(', ')}${near.length > 5 ? ', …' : ''}.` : '';
  throw setupError('USAGE', [`${wanted} is not a path of this build (${all.length} paths).${hint}`]);
}

function describeReads(inputs: RecordedInputs | undefined): Array<{ what: string; at?: string; id?: string }> {
  if (!inputs) return [];
  const reads: Array<{ what: string; at?: string; id?: string }> = [];
  for (const file of inputs.files ?? []) reads.push({ what: inputLabel(file.id), at: file.at, id: file.id });
  for (const env of inputs.env ?? []) reads.push({ what: inputLabel(`env:${env.name}`), at: env.at, id: `env:${env.name}` });
  const frozen = new Set(frozenUses(inputs).map((use) => use.what));
  for (const f of inputs.fetches ?? []) reads.push({ what: `fetch ${f.method} ${f.url}${f.cache ? ` (cache: '${f.cache}')` : ''}${f.revalidate !== undefined ? ` (revalidate: ${f.revalidate})` : ''}${frozen.has(`fetch ${f.method} ${f.url}`) ? ', no revalidate' : ''}`, at: f.at });
  for (const s of inputs.sockets ?? []) reads.push({ what: `socket ${s.target}`, at: s.at });
  for (const v of inputs.variation ?? []) reads.push({ what: `${v.kind}, which differs on every build`, at: v.at });
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
    if (phase === 'handler' && reads.length === 0) {
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
