/**
 * `npm run conformance`: builds fixtures/conformance with the real `next build` (Next.js 14.2, the
 * last version that prerenders a plain GET without an opt-in) and with route-prerender, and
 * compares them path by path: classification, status, content-type and body bytes.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prerender } from '../src/index.js';
import { compareBuilds, type Expected, type NextBuild } from './compare.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NEXT_VERSION = '14.2.35';
const CACHE = path.join(ROOT, '.cache/conformance', `next-${NEXT_VERSION}`);
const PACKAGES = [`next@${NEXT_VERSION}`, 'react@18.3.1', 'react-dom@18.3.1', 'typescript@5.9.3', '@types/react@18', '@types/node@20'];

/** Where we knowingly differ from Next.js 14.2, and why. */
const EXPECTED: Expected = {
  '/methods/put-only': 'Next.js 14.2 checks POST twice instead of PUT, so it prerenders a GET beside a PUT; we keep the route dynamic, as for the other methods (NEXTJS-SEMANTICS.md §1)',
  '/sitemap.xml': 'Next.js 14.2 leaves out sitemap images (`images`), which Next.js 15 and later write; we write them',
};

function install(): void {
  if (existsSync(path.join(CACHE, 'node_modules/next/package.json'))) return;
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(path.join(CACHE, 'package.json'), '{ "name": "conformance-next", "private": true }\n');
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund', ...PACKAGES], { cwd: CACHE, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm install ${PACKAGES.join(' ')} failed`);
}

function nextBuild(project: string): NextBuild {
  const log = path.join(project, 'next-build.log');
  const result = spawnSync(process.execPath, [path.join(CACHE, 'node_modules/next/dist/bin/next'), 'build'], {
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
  const paths: NextBuild['paths'] = new Map();
  for (const [key, entry] of Object.entries(manifest.routes)) {
    const file = path.join(dist, 'server/app', `${key === '/' ? 'index' : key.slice(1)}.body`);
    const body = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
    paths.set(key, {
      status: entry.initialStatus ?? 200,
      contentType: entry.initialHeaders?.['content-type'],
      sha256: createHash('sha256').update(body).digest('hex'),
      srcRoute: entry.srcRoute ?? key,
    });
  }
  const appPaths = JSON.parse(readFileSync(path.join(dist, 'app-path-routes-manifest.json'), 'utf8')) as Record<string, string>;
  const routes = Object.entries(appPaths).filter(([page]) => page.endsWith('/route')).map(([, route]) => route);
  return { paths, routes: [...new Set(routes)].sort() };
}

async function main(): Promise<void> {
  install();
  const work = mkdtempSync(path.join(tmpdir(), 'route-prerender-conformance-'));
  try {
    const project = path.join(work, 'app-project');
    cpSync(path.join(ROOT, 'fixtures/conformance'), project, { recursive: true });
    symlinkSync(path.join(CACHE, 'node_modules'), path.join(project, 'node_modules'), 'dir');
    console.log(`next build (Next.js ${NEXT_VERSION}) of fixtures/conformance …`);
    const next = nextBuild(project);
    const ours = await prerender({ appDir: path.join(ROOT, 'fixtures/conformance/app'), out: path.join(work, 'ours'), cwd: ROOT, keepPartial: true });
    const result = compareBuilds(next, ours.manifest, EXPECTED);
    const unexpected = result.differences.filter((d) => !d.expected);
    console.log(`${next.routes.length} route handlers, ${next.paths.size} paths prerendered by Next.js, ${Object.keys(ours.manifest.routes).length} by route-prerender`);
    for (const d of result.differences) console.log(`${d.expected ? 'expected' : 'DIFFERS '}  ${d.key}: ${d.what}${d.expected ? `\n           because ${d.expected}` : ''}`);
    console.log(`${result.agree} agree, ${result.differences.length} differ (${result.differences.length - unexpected.length} expected, ${unexpected.length} unexpected)`);
    process.exitCode = unexpected.length > 0 ? 1 : 0;
  } finally {
    // CONFORMANCE_KEEP=1 keeps both outputs for a closer look.
    if (process.env.CONFORMANCE_KEEP) console.log(`Kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

await main();
