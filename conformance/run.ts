/**
 * `npm run conformance`: builds fixture apps with the real `next build` and with route-prerender,
 * and compares them path by path: classification, status, content-type and body bytes.
 * - default mode against Next.js 14.2 (the last version that prerenders a plain GET without an
 *   opt-in), on fixtures/conformance;
 * - `--strict` against Next.js 16 with `cacheComponents: true`, on fixtures/strict.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prerender } from '../src/index.js';
import { NEXT_EXPORTS } from '../src/next-exports.js';
import { compareBuilds, type Expected, type NextBuild } from './compare.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
interface Run {
  name: string;
  next: string;
  packages: string[];
  fixture: string;
  /** next.config.js written into the copy that next build builds. */
  config: string;
  strict: boolean;
  expected: Expected;
  /**
   * Next.js 15+ runs a GET at build only when its route opts in; route-prerender runs every GET and
   * names those paths (`notOptedIn`): for them, Next.js keeping the path dynamic is expected.
   */
  optIn?: boolean;
}

/** Where we knowingly differ from Next.js 14.2, and why. */
const EXPECTED_14: Expected = {
  '/methods/put-only': 'Next.js 14.2 checks POST twice instead of PUT, so it prerenders a GET beside a PUT; we keep the route dynamic, as for the other methods (docs/nextjs-rules.md §1)',
  '/sitemap.xml': 'Next.js 14.2 leaves out sitemap images (`images`), which Next.js 15 and later write; we write them',
};

const RUNS: Run[] = [
  {
    name: 'default mode',
    next: '14.2.35',
    packages: ['react@18.3.1', 'react-dom@18.3.1', 'typescript@5.9.3', '@types/react@18', '@types/node@20'],
    fixture: 'conformance',
    config: 'module.exports = { typescript: { ignoreBuildErrors: true }, eslint: { ignoreDuringBuilds: true } };\n',
    strict: false,
    expected: EXPECTED_14,
  },
  {
    name: 'default mode, Next.js 15 (GET handlers opt in)',
    next: '15.5.29',
    packages: ['react@19', 'react-dom@19', 'typescript@5.9.3', '@types/react@19', '@types/node@20'],
    fixture: 'conformance',
    config: 'module.exports = { typescript: { ignoreBuildErrors: true }, eslint: { ignoreDuringBuilds: true } };\n',
    strict: false,
    expected: {},
    optIn: true,
  },
  {
    name: '--strict',
    next: '16.4.6',
    packages: ['react@19', 'react-dom@19', 'typescript@5.9.3', '@types/react@19', '@types/node@20'],
    fixture: 'strict',
    config: 'module.exports = { cacheComponents: true, typescript: { ignoreBuildErrors: true } };\n',
    strict: true,
    expected: {},
  },
];

const cacheOf = (run: Run) => path.join(ROOT, '.cache/conformance', `next-${run.next}`);

function install(run: Run): void {
  const cache = cacheOf(run);
  if (existsSync(path.join(cache, 'node_modules/next/package.json'))) return;
  mkdirSync(cache, { recursive: true });
  writeFileSync(path.join(cache, 'package.json'), '{ "name": "conformance-next", "private": true }\n');
  const packages = [`next@${run.next}`, ...run.packages];
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund', ...packages], { cwd: cache, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm install ${packages.join(' ')} failed`);
}

function nextBuild(project: string, run: Run): NextBuild {
  const log = path.join(project, 'next-build.log');
  const result = spawnSync(process.execPath, [path.join(cacheOf(run), 'node_modules/next/dist/bin/next'), 'build'], {
    cwd: project,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  writeFileSync(log, `${result.stdout}\n${result.stderr}`);
  if (result.status !== 0) throw new Error(`next build failed (exit ${result.status}); its output is in ${log}:\n${(result.stdout + result.stderr).slice(-3000)}`);

  const dist = path.join(project, '.next');
  const manifest = JSON.parse(readFileSync(path.join(dist, 'prerender-manifest.json'), 'utf8')) as {
    routes: Record<string, { initialStatus?: number; initialHeaders?: Record<string, string>; srcRoute: string | null }>;
  };
  const appPaths = JSON.parse(readFileSync(path.join(dist, 'app-path-routes-manifest.json'), 'utf8')) as Record<string, string>;
  const routes = [...new Set(Object.entries(appPaths).filter(([page]) => page.endsWith('/route')).map(([, route]) => route))].sort();
  const paths: NextBuild['paths'] = new Map();
  for (const [key, entry] of Object.entries(manifest.routes)) {
    // Pages Next.js adds of its own (/_not-found, /_global-error) are not route handlers.
    if (!routes.includes(entry.srcRoute ?? key)) continue;
    const file = path.join(dist, 'server/app', `${key === '/' ? 'index' : key.slice(1)}.body`);
    const body = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
    paths.set(key, {
      status: entry.initialStatus ?? 200,
      contentType: entry.initialHeaders?.['content-type'],
      sha256: createHash('sha256').update(body).digest('hex'),
      srcRoute: entry.srcRoute ?? key,
    });
  }
  return { paths, routes };
}

/** Names the real next/* modules export that the sandbox does not know (see src/next-exports.ts). */
function missingExports(run: Run): string[] {
  const script = `const m = ${JSON.stringify(Object.keys(NEXT_EXPORTS))}.map((s) => [s, Object.keys(require(s))]); console.log(JSON.stringify(m));`;
  const result = spawnSync(process.execPath, ['-e', script], { cwd: cacheOf(run), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`reading the exports of next@${run.next} failed:\n${result.stderr}`);
  const real = JSON.parse(result.stdout) as [string, string[]][];
  return real.flatMap(([specifier, names]) => names.filter((name) => !NEXT_EXPORTS[specifier].includes(name)).map((name) => `${specifier}#${name}`));
}

async function compare(run: Run): Promise<number> {
  install(run);
  const missing = missingExports(run);
  if (process.env.CONFORMANCE_ONLY && !run.next.startsWith(process.env.CONFORMANCE_ONLY)) return 0;
  console.log(`\nnext@${run.next}: ${missing.length === 0 ? 'every name of next/server, next/headers, next/navigation and next/cache is known to the sandbox' : `names the sandbox does not know: ${missing.join(', ')}`}`);
  // Inside the folder Next.js is installed in: Node finds `next` by walking up, and Turbopack
  // (Next.js 16) compiles only within the folder that holds the install's lockfile.
  const work = mkdtempSync(path.join(cacheOf(run), 'run-'));
  try {
    const project = path.join(work, 'app-project');
    cpSync(path.join(ROOT, 'fixtures', run.fixture), project, { recursive: true });
    writeFileSync(path.join(project, 'next.config.js'), run.config);
    console.log(`\n${run.name}: next build (Next.js ${run.next}) of fixtures/${run.fixture} against prerender${run.strict ? ' --strict' : ''}`);
    const next = nextBuild(project, run);
    // The copy, where the real next is installed: React, next/og and next/* come from it, as in an app.
    const ours = await prerender({ appDir: path.join(project, 'app'), out: path.join(work, 'ours'), cwd: project, keepPartial: true, strict: run.strict });
    const expected: Expected = { ...run.expected };
    if (run.optIn) for (const key of ours.notOptedIn) expected[key] ??= 'the route does not opt in, so Next.js 15+ does not run its GET at build; route-prerender does, and its report names the path (docs/nextjs-rules.md §1)';
    const result = compareBuilds(next, ours.manifest, expected);
    for (const [key, error] of Object.entries(ours.manifest.errors)) console.log(`route-prerender error ${key}: [${error.code}] ${error.message}`);
    const unexpected = result.differences.filter((d) => !d.expected);
    console.log(`${next.routes.length} route handlers, ${next.paths.size} paths prerendered by Next.js, ${Object.keys(ours.manifest.routes).length} by route-prerender`);
    for (const d of result.differences) console.log(`${d.expected ? 'expected' : 'DIFFERS '}  ${d.key}: ${d.what}${d.expected ? `\n           because ${d.expected}` : ''}`);
    console.log(`${result.agree} agree, ${result.differences.length} differ (${result.differences.length - unexpected.length} expected, ${unexpected.length} unexpected)`);
    return unexpected.length + missing.length;
  } finally {
    // CONFORMANCE_KEEP=1 keeps both outputs for a closer look.
    if (process.env.CONFORMANCE_KEEP) console.log(`Kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

let unexpected = 0;
for (const run of RUNS) unexpected += await compare(run);
process.exitCode = unexpected > 0 ? 1 : 0;
