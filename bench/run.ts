/**
 * `npm run bench [-- --quick | --huge]`: builds generated apps with route-prerender and with the floor (the
 * compiled route modules imported directly, generateStaticParams and GET called for every path in
 * one thread without instrumentation, each body written to its file), in the same run, and prints
 * ratios. Wall time, CPU time (the process and its children) and peak RSS (summed over the process
 * tree, sampled every 20 ms) are measured from outside the measured process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(ROOT, 'out/cli.js');
const quick = process.argv.includes('--quick');
// --huge adds the 1,000,000-path scenario (minutes, and gigabytes of small files).
const huge = process.argv.includes('--huge');
// BENCH_DIR puts the generated apps and outputs elsewhere (e.g. /dev/shm, to leave the disk out).
const work = path.join(process.env.BENCH_DIR ?? tmpdir(), `route-prerender-bench-${process.pid}`);

interface Measure {
  wall: number;
  cpu: number;
  rss: number;
}

/** Runs a command under `sh`, which reports the CPU time of everything it waited for. */
async function measure(command: string[], cwd: string): Promise<Measure> {
  // Flush the previous run's writes and deletions, so that they do not slow this one down.
  spawnSync('sync');
  const quoted = command.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const started = performance.now();
  const child = spawn('sh', ['-c', `${quoted} > /dev/null 2>&1; code=$?; cat /proc/$$/stat; exit $code`], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  let stat = '';
  child.stdout.on('data', (chunk) => (stat += chunk));
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, treeRss(child.pid!))), 20);
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  clearInterval(sampler);
  const wall = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${command.join(' ')} exited with ${code}`);
  // Fields after the command name: cutime and cstime are the 14th and 15th (clock ticks).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[13]) + Number(fields[14])) / 100;
  return { wall, cpu, rss: peak / 1024 };
}

/** Resident memory of a process and all its descendants, in kB (only the tree is read). */
function treeRss(root: number): number {
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    try {
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      for (const task of readdirSync(`/proc/${pid}/task`)) {
        const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
        if (children) stack.push(...children.split(' ').map(Number));
      }
    } catch {
      // the process ended while we looked
    }
  }
  return total;
}

const POST_ROUTE = (count: number) => `export function generateStaticParams() {
  return Array.from({ length: ${count} }, (_, i) => ({ slug: 'post-' + i }));
}

export async function GET(_request: Request, { params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const n = Number(slug.slice(5));
  return Response.json({ slug, title: 'Post number ' + n, date: '2026-01-01', tags: ['bench', 'static'], summary: 'A post generated for the benchmark. '.repeat(5), n });
}
`;

const RSS_ROUTE = `export function GET() {
  const items = Array.from({ length: 50 }, (_, i) => '<item><title>Post ' + i + '</title></item>').join('');
  return new Response('<?xml version="1.0"?><rss version="2.0"><channel>' + items + '</channel></rss>', { headers: { 'content-type': 'application/rss+xml' } });
}
`;

function writeApp(name: string, files: Record<string, string>): string {
  const dir = path.join(work, name);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  writeFileSync(path.join(dir, 'package.json'), `{ "name": "${name}", "private": true }\n`);
  return dir;
}

function oneRoute(count: number): string {
  return writeApp(`one-route-${count}`, { 'app/posts/[slug]/route.ts': POST_ROUTE(count), 'app/rss.xml/route.ts': RSS_ROUTE });
}

/** Real handler work: each post read from disk and rendered with a real markdown library. */
function markdownBlog(count: number): string {
  const files: Record<string, string> = {
    'app/posts/[slug]/route.ts': `import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { marked } from 'marked';

export function generateStaticParams() {
  return Array.from({ length: ${count} }, (_, i) => ({ slug: 'post-' + i }));
}

export async function GET(_request: Request, { params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const source = await readFile(path.join(process.cwd(), 'content', slug + '.md'), 'utf8');
  return new Response(await marked.parse(source), { headers: { 'content-type': 'text/html; charset=utf-8' } });
}
`,
  };
  for (let i = 0; i < count; i++) {
    files[`content/post-${i}.md`] = `# Post ${i}\n\n${'Some *emphasis*, a [link](https://example.com/' + i + '), and `code`. '.repeat(12)}\n\n- one\n- two\n- three\n\n\`\`\`js\nconsole.log(${i});\n\`\`\`\n`;
  }
  const dir = writeApp(`markdown-${count}`, files);
  // The app's own dependency, as a real blog has it installed.
  mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  cpSync(path.join(ROOT, 'node_modules/marked'), path.join(dir, 'node_modules/marked'), { recursive: true });
  return dir;
}

function manyRoutes(): string {
  // A 200 KB module shared by every route.
  const table = Array.from({ length: 2500 }, (_, i) => `  { id: ${i}, name: 'entry-${i}', weight: ${(i * 7919) % 1000}, label: 'label-${i}-${'x'.repeat(20)}' },`).join('\n');
  const files: Record<string, string> = {
    'lib/helper.ts': `export const TABLE = [\n${table}\n];\nexport function describe(id: string) {\n  const entry = TABLE[Number(id) % TABLE.length];\n  return { ...entry, id };\n}\n`,
  };
  for (let r = 0; r < 300; r++) {
    files[`app/section-${r}/[id]/route.ts`] = `import { describe } from '../../../lib/helper';

export function generateStaticParams() {
  return Array.from({ length: 20 }, (_, i) => ({ id: String(i) }));
}

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return Response.json({ section: ${r}, ...describe(id) });
}
`;
  }
  return writeApp('many-routes', files);
}

/** The floor: compiled modules, imported directly, every path in one thread, bodies to files. */
async function writeFloor(app: string): Promise<string> {
  const routes = listRoutes(path.join(app, 'app'));
  const compiled = path.join(app, '.floor');
  await esbuild.build({
    entryPoints: routes.map((r, i) => ({ in: path.join(app, 'app', r), out: `route-${i}` })),
    bundle: true, platform: 'node', format: 'esm', target: 'node20', splitting: true, outdir: compiled, logLevel: 'silent',
  });
  const script = path.join(compiled, 'floor.mjs');
  const list = routes.map((r, i) => ({ module: `./route-${i}.js`, folders: path.dirname(r).split('/') }));
  // Synchronous writes: in one thread they are the fastest way to put many small files on disk.
  writeFileSync(script, `import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const out = process.argv[2];
const routes = ${JSON.stringify(list)};
const made = new Set();
for (const route of routes) {
  const mod = await import(route.module);
  const name = route.folders.find((f) => f.startsWith('['))?.slice(1, -1);
  const list = name ? await mod.generateStaticParams({ params: {} }) : [{}];
  for (const params of list) {
    const urlPath = '/' + route.folders.map((f) => (f.startsWith('[') ? params[name] : f)).join('/');
    const response = await mod.GET(new Request('http://localhost:3000' + urlPath), { params: Promise.resolve(params) });
    const body = new Uint8Array(await response.arrayBuffer());
    const file = path.join(out, urlPath);
    const folder = path.dirname(file);
    if (!made.has(folder)) { mkdirSync(folder, { recursive: true }); made.add(folder); }
    writeFileSync(file, body);
  }
}
`);
  return script;
}

function listRoutes(appDir: string, prefix = ''): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(path.join(appDir, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...listRoutes(appDir, relative));
    else if (entry.name === 'route.ts') found.push(relative);
  }
  return found.sort();
}

async function best(runs: number, run: () => Promise<Measure>): Promise<Measure> {
  let chosen: Measure | undefined;
  for (let i = 0; i < runs; i++) {
    const m = await run();
    if (!chosen || m.wall < chosen.wall) chosen = m;
  }
  return chosen!;
}

interface Row {
  name: string;
  paths: number;
  tool: Measure;
  floor: Measure;
  /** Wall-time ratio to the floor that the scenario must stay under. */
  target: number;
}

/** A target of the cost issue, with what was measured. */
interface Target {
  what: string;
  measured: string;
  met: boolean;
}

async function scenario(name: string, app: string, paths: number, target: number, runs: number): Promise<Row> {
  const floorScript = await writeFloor(app);
  const out = path.join(work, `${name}-out`);
  const floor = await best(runs, () => {
    rmSync(out, { recursive: true, force: true });
    // In the app's folder: route code reads files relative to the project, as under the tool.
    return measure([process.execPath, floorScript, out], app);
  });
  const tool = await best(runs, () => {
    rmSync(out, { recursive: true, force: true });
    return measure([process.execPath, CLI, path.join(app, 'app'), '--out', out, '--quiet'], app);
  });
  return { name, paths, tool, floor, target };
}

const f = (n: number, digits = 2) => n.toFixed(digits);

/**
 * A full build of the markdown blog, then `--incremental` builds, each after editing one post: both
 * best of `runs`. Returns the two measures and the report's line saying what ran.
 */
async function incrementalScenario(app: string, runs: number): Promise<{ full: Measure; incremental: Measure; said: string }> {
  const out = path.join(work, 'incremental-out');
  const build = (...extra: string[]) => measure([process.execPath, CLI, path.join(app, 'app'), '--out', out, '--quiet', ...extra], app);
  const full = await best(runs, () => {
    rmSync(out, { recursive: true, force: true });
    rmSync(path.join(work, '.prerender-cache-incremental-out.json'), { force: true });
    return build();
  });
  let edited = 0;
  const edit = () => appendFileSync(path.join(app, 'content', `post-${edited++}.md`), '\nEdited for the benchmark.\n');
  const incremental = await best(runs, () => {
    edit();
    return build('--incremental');
  });
  edit();
  const report = spawnSync(process.execPath, [CLI, path.join(app, 'app'), '--out', out, '--quiet', '--incremental'], { cwd: app, encoding: 'utf8' }).stdout;
  const lines = report.split('\n');
  const start = lines.findIndex((line) => line.startsWith('Incremental:'));
  const said = start === -1 ? 'no incremental summary' : [lines[start], ...lines.slice(start + 1).filter((line, i, rest) => line.startsWith('  ') && rest.slice(0, i).every((l) => l.startsWith('  ')))].join(' ').replace(/\s+/g, ' ');
  return { full, incremental, said };
}

async function main(): Promise<void> {
  mkdirSync(work, { recursive: true });
  const rows: Row[] = [];
  try {
    const runs = quick ? 1 : 2;
    const app10k = oneRoute(10_000);
    rows.push(await scenario('one-route-10k', app10k, 10_001, 1.5, runs));
    rows.push(await scenario('many-routes', manyRoutes(), 6_000, 2, runs));
    // The default (one worker for these quick paths on two cores, see `moreWorkers`) against a
    // second worker forced with --concurrency 2: alternately and best of three, because the wall
    // time difference on two shared cores is smaller than one run's noise.
    const forcedOut = path.join(work, 'forced-out');
    const runOnce = (concurrency: string[]) => {
      rmSync(forcedOut, { recursive: true, force: true });
      return measure([process.execPath, CLI, path.join(app10k, 'app'), '--out', forcedOut, '--quiet', ...concurrency], app10k);
    };
    let byDefault: Measure | undefined;
    let forced: Measure | undefined;
    for (let i = 0; i < 3; i++) {
      const chosen = await runOnce([]);
      const two = await runOnce(['--concurrency', '2']);
      if (!byDefault || chosen.wall < byDefault.wall) byDefault = chosen;
      if (!forced || two.wall < forced.wall) forced = two;
    }
    rows.push(await scenario('markdown-3k', markdownBlog(3_000), 3_000, 1.5, runs));
    const blog10k = markdownBlog(10_000);
    const incremental = await incrementalScenario(blog10k, runs);
    const big = quick ? undefined : await scenario('one-route-100k', oneRoute(100_000), 100_001, 1.5, 1);
    if (big) rows.push(big);
    const million = huge ? await scenario('one-route-1m', oneRoute(1_000_000), 1_000_001, 1.5, 1) : undefined;
    if (million) rows.push(million);

    // Start-up: a one-route build, and --help.
    const tiny = writeApp('one-path', { 'app/rss.xml/route.ts': RSS_ROUTE });
    const tinyRow = await scenario('one-path', tiny, 1, 2, 3);
    const help = await best(3, () => measure([process.execPath, CLI, '--help'], work));

    const lines = [
      `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; files in ${path.dirname(work)}`,
      '',
      '| scenario | paths | wall (s) | CPU (s) | peak RSS (MB) | floor wall (s) | floor CPU (s) | floor RSS (MB) | wall ratio | CPU ratio | RSS ratio | wall target | met |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
      ...[...rows, tinyRow].map((r) => {
        const ratio = r.tool.wall / r.floor.wall;
        return `| ${r.name} | ${r.paths} | ${f(r.tool.wall)} | ${f(r.tool.cpu)} | ${f(r.tool.rss, 0)} | ${f(r.floor.wall)} | ${f(r.floor.cpu)} | ${f(r.floor.rss, 0)} | ${f(ratio)}× | ${f(r.tool.cpu / r.floor.cpu)}× | ${f(r.tool.rss / r.floor.rss)}× | ${r.target}× | ${ratio <= r.target ? 'yes' : 'no'} |`;
      }),
      '',
    ];
    const targets: Target[] = [];
    const ratioTarget = (what: string, measured: number, limit: number) => targets.push({ what: `${what} <= ${limit}× the floor`, measured: `${f(measured)}×`, met: measured <= limit });
    ratioTarget('CPU time, one-route-10k,', rows[0].tool.cpu / rows[0].floor.cpu, 1.25);
    if (big) ratioTarget('peak RSS, one-route-100k,', big.tool.rss / big.floor.rss, 1.25);
    if (million) ratioTarget('peak RSS, one-route-1m,', million.tool.rss / million.floor.rss, 1.1);
    targets.push({ what: 'one-path build <= 0.35 s', measured: `${f(tinyRow.tool.wall)} s (floor ${f(tinyRow.floor.wall)} s)`, met: tinyRow.tool.wall <= 0.35 });
    const share = incremental.incremental.wall / incremental.full.wall;
    targets.push({ what: '--incremental after editing one post of a 10,000-post markdown blog <= 10% of the full build', measured: `${f(incremental.incremental.wall)} s against ${f(incremental.full.wall)} s (${f(share * 100, 1)}%; CPU ${f(incremental.incremental.cpu)} s against ${f(incremental.full.cpu)} s; ${incremental.said})`, met: share <= 0.1 });
    targets.push({ what: '--help <= 0.15 s', measured: `${f(help.wall)} s`, met: help.wall <= 0.15 });
    lines.push(`one-route-10k with the default workers against a second one forced (--concurrency 2): wall ${f(byDefault!.wall)} s against ${f(forced!.wall)} s, CPU ${f(byDefault!.cpu)} s against ${f(forced!.cpu)} s (${f(byDefault!.cpu / forced!.cpu)}×)`);
    const ten = rows[0];
    if (big) {
      const growth = big.tool.wall / big.paths / (ten.tool.wall / ten.paths);
      lines.push(`Per-path time at 100k vs 10k: ${f(growth)}× (target <= 1.2: ${growth <= 1.2 ? 'yes' : 'no'})`);
      lines.push(`Peak RSS at 100k: ${f(big.tool.rss, 0)} MB (target < 300: ${big.tool.rss < 300 ? 'yes' : 'no'})`);
    } else {
      lines.push('one-route-100k skipped (--quick)');
    }
    if (!million) lines.push('one-route-1m skipped (run with --huge)');
    lines.push('', 'Targets of the cost issue:', ...targets.map((t) => `- ${t.what}: ${t.measured} — ${t.met ? 'met' : 'not met'}`));
    console.log(lines.join('\n'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
