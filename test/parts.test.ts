/** Pure parts, called as functions: scheduling, the watchdog's rule, body reading, flags, manifests. */
import { spawnSync } from 'node:child_process';
import { constants, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ERRORS, errorText, missingModuleHint, type RouteErrorCode } from '../src/errors.js';
import { errorResult, failuresOnServer } from '../src/results.js';
import { closest, colorWanted, helpText, parseFlags, readBuildFlags } from '../src/flags.js';
import { buildManifest, checkManifest, manifestChunks, manifestEntry, readManifest, serializeManifest, StaticRecords, type ManifestRoute, type StaticRecord } from '../src/manifest.js';
import { formatCount } from '../src/numbers.js';
import { inPlanOrder } from '../src/prerender.js';
import { collectGarbage, GarbagePacer } from '../src/memory.js';
import { KeySet } from '../src/key-set.js';
import { BodyTooLarge, headerRecord, readBody } from '../src/sandbox/body.js';
import { describeError, describeValue } from '../src/sandbox/describe.js';
import { globPattern, loaderRules, REGEXP_KEY } from '../src/loaders.js';
import { BEAT } from '../src/sandbox/protocol.js';
import { batchSize, HEAVY_TASK_MS, MAX_BATCH, moreWorkers, TIMED_TASKS, typicalTaskMs, WARM_TASKS, WORTH_A_WORKER_MS } from '../src/sandbox/scheduler.js';
import { checkWorker } from '../src/sandbox/watchdog.js';
import { opensForReading } from '../src/sandbox/runtime/inputs.js';
import type { PathResult, RouteFile } from '../src/types.js';
import { ROOT, tempDir } from './helpers.js';

const scheduler = suite('scheduler and watchdog');

scheduler('batches are large while much waits and shrink to one near the end', () => {
  assert.is(batchSize(100_000, 2), MAX_BATCH);
  assert.is(batchSize(80, 2), 10);
  assert.is(batchSize(3, 2), 1);
  assert.is(batchSize(0, 2), 1);
  assert.is(batchSize(10, 0), 3, 'no live worker yet counts as one');
});

scheduler('another worker starts when the measured work left would outlast starting it', () => {
  const state = { live: 1, ready: 1, max: 2, pending: 100, busyMs: 50, done: 10 }; // 5 ms a task: 500 ms left
  assert.ok(moreWorkers(state));
  assert.not.ok(moreWorkers({ ...state, pending: 20 }), '100 ms left: done before a new worker could help');
  assert.not.ok(moreWorkers({ ...state, live: 2 }), 'at the limit');
  assert.not.ok(moreWorkers({ ...state, pending: 1 }), 'no more tasks than workers');
  assert.not.ok(moreWorkers({ ...state, done: 0 }), 'nothing done yet, and not long busy');
  assert.ok(moreWorkers({ ...state, done: 0, busyMs: WORTH_A_WORKER_MS }), 'nothing done after that long: the work is long');
  assert.not.ok(moreWorkers({ ...state, done: 0, ready: 0, busyMs: 10_000 }), 'the only worker is still starting (or looking at the previous build): nothing was slow yet');
  assert.ok(moreWorkers({ live: 0, ready: 0, max: 2, pending: 1, busyMs: 0, done: 0 }), 'no worker at all: one starts');
});

scheduler('a typical task time leaves out the slow first paths, and waits for enough of them', () => {
  const ring = (values: number[]) => {
    const times = new Float64Array(TIMED_TASKS);
    values.forEach((ms, i) => (times[i % TIMED_TASKS] = ms));
    return [times, values.length] as const;
  };
  // A markdown route's first 64 paths, as measured: its module loading, then code warming up.
  const warming = [73, 5.1, 2.9, 2.9, 2, 1.9, 6.8, 2.4, 2.4, 2.1, 2, 1.8, 1.5, 1.6, 5.1, 2.9, 1.4, 2.1, 1.5, 1.4, 1.4, 2.2, 1.4, 4.3, 4.1, 1.3, 2.8, 1.5, 1.1, 1.1, 1.1];
  const warmer = [1.4, 5.6, 1.2, 1, 1.2, 3.7, 4.9, 1.2, 3, 1.2, 1.9, 1.2, 3.2, 3, 1.3, 2.6, 1.4, 1.4, 1.3, 1.2, 1.2, 1.5, 2, 1.5, 1.2, 1.2, 1.2, 1.1, 1.3, 1.2, 1.1, 1.9, 1];
  const slower = (times: number[]) => times.map((ms) => ms * 2);
  assert.is(typicalTaskMs(...ring(warming.slice(0, 10))), undefined, 'ten quick ones: too few to tell');
  assert.is(typicalTaskMs(...ring(warming)), undefined, 'the first 31: still warming up');
  assert.is(typicalTaskMs(...ring(slower(warming))), undefined, 'on a machine twice as slow too');
  for (const times of [[...warming, ...warmer], slower([...warming, ...warmer])]) {
    const typical = typicalTaskMs(...ring(times))!;
    assert.ok(typical < HEAVY_TASK_MS, `light after ${WARM_TASKS} (${typical} ms)`);
  }
  assert.is(typicalTaskMs(...ring([300, 60, 55, 50, 52])), 52, 'five of ten times HEAVY_TASK_MS: heavy, at once');
  assert.is(typicalTaskMs(...ring([...warming, ...warmer, ...Array(40).fill(0.6)])), 0.6, 'the ring keeps the last ones');
});

scheduler('past the light workers, another starts only for heavy tasks', () => {
  const quick = { live: 1, ready: 1, max: 2, light: 1, typicalMs: 0.1, pending: 9000, busyMs: 100, done: 1000 }; // 900 ms left
  assert.not.ok(moreWorkers(quick), 'quick tasks: the build thread keeps its core');
  assert.ok(moreWorkers({ ...quick, light: 2 }), 'the same tasks when every core may take a worker');
  assert.not.ok(moreWorkers({ ...quick, busyMs: 80, done: 1 }), 'one slow task done (a module loading) does not make the tasks heavy');
  assert.not.ok(moreWorkers({ ...quick, typicalMs: undefined }), 'too few timed to tell');
  const heavy = { ...quick, typicalMs: HEAVY_TASK_MS, pending: 300, busyMs: HEAVY_TASK_MS * 20, done: 20 };
  assert.ok(moreWorkers(heavy), 'tasks of HEAVY_TASK_MS each');
  assert.not.ok(moreWorkers({ ...heavy, pending: 60 }), 'heavy, but done before a new worker could help');
  assert.not.ok(moreWorkers({ ...quick, typicalMs: undefined, done: 0, busyMs: 10_000 }), 'a long first task (generateStaticParams) does not say the paths are heavy');
  assert.ok(moreWorkers({ ...quick, light: 2, typicalMs: undefined, done: 0, busyMs: WORTH_A_WORKER_MS }), 'it does start a light worker');
  assert.ok(moreWorkers({ ...quick, live: 0, ready: 0, light: 0 }), 'the first worker always starts');
  // 10,000 quick paths, then 31 of 50 ms done and 69 left: the average says 17 ms of work is left.
  const after = { live: 1, ready: 1, max: 2, light: 1, typicalMs: 50, pending: 69, busyMs: 2550, done: 10_031 };
  assert.ok(moreWorkers(after), 'heavy paths after quick ones: the work left is counted at their time');
  assert.ok(moreWorkers({ ...after, light: 2 }), 'for a light worker too');
});

scheduler('the watchdog times out a task past the limit, and replaces a worker stuck between tasks', () => {
  const beat = (running: number, since: number, finished = 0) => {
    const slots = [0, 0, 0];
    slots[BEAT.running] = running;
    slots[BEAT.since] = since;
    slots[BEAT.finished] = finished;
    return slots;
  };
  assert.equal(checkWorker(beat(7, 1000), 1000, 3, 1500, 1000), { action: 'none' });
  assert.equal(checkWorker(beat(7, 1000), 1000, 3, 2001, 1000), { action: 'time-out', id: 7 });
  assert.equal(checkWorker(beat(0, 0, 6), 1000, 3, 2001, 1000), { action: 'stuck', after: 6 });
  assert.equal(checkWorker(beat(0, 0, 6), 1000, 0, 9999, 1000), { action: 'none' }, 'an idle worker with nothing to do is fine');
});

scheduler.run();

const body = suite('response bodies');

body('reads a streamed body whole, and stops past the limit', async () => {
  const stream = (parts: string[]) => new Response(new ReadableStream({ start(c) { for (const p of parts) c.enqueue(new TextEncoder().encode(p)); c.close(); } }));
  assert.is(new TextDecoder().decode(await readBody(stream(['ab', 'cd', 'e']), 10)), 'abcde');
  assert.is((await readBody(new Response(null), 10)).byteLength, 0);
  try {
    await readBody(stream(['abcdef', 'ghijkl']), 8);
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, BodyTooLarge);
    assert.match((error as Error).message, '8 bytes (--max-body)');
  }
});

body('headers are lower-cased and several set-cookie headers stay apart', () => {
  const headers = new Headers([['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
  assert.equal(headerRecord(headers), { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
});

body('what was thrown reads as English, and long values are cut', () => {
  assert.is(describeError(new TypeError('x')), 'TypeError: x');
  assert.is(describeError({ a: 1 }), 'a plain object was thrown instead of an Error');
  assert.is(describeError('boom'), 'a string "boom" was thrown instead of an Error');
  assert.is(describeValue(new Map()), 'an object (Map)');
  assert.is(describeValue(Object.create(null)), 'an object with no prototype');
  assert.match(describeError('x'.repeat(5000)), '(4800 more characters)');
});

body.run();

const errors = suite('error catalogue');

errors('every entry has a title and a message; route errors and set-up errors are told apart', () => {
  for (const [code, data] of Object.entries(ERRORS)) {
    assert.ok(/^[A-Z_]+$/.test(code), code);
    assert.ok(data.title.length > 5, code);
    assert.ok(data.scope === 'route' || data.scope === 'setup', code);
  }
  assert.equal(errorText('TIMED_OUT', 2, 3, 'GET handler'), { code: 'TIMED_OUT', message: 'The route timed out after 2 s (3 attempts).', hint: 'make the GET handler finish sooner, or raise the limit with --timeout' });
  assert.is(errorText('INTERNAL', 'x broke').message, 'x broke. This is a bug in route-prerender; please report it with the route file that triggered it.');
});

errors('a module that is not there: a Prisma client to generate, a package to install', () => {
  assert.match(missingModuleHint("Cannot find module '.prisma/client/default'\nRequire stack:\n- /p/node_modules/@prisma/client/default.js")!, 'npx prisma generate');
  assert.match(missingModuleHint("Cannot find package 'zod' imported from /p/x.js")!, 'npm install zod');
  assert.match(missingModuleHint("Cannot find module '@scope/pkg/sub'")!, 'npm install @scope/pkg');
  assert.is(missingModuleHint("Cannot find module './local'"), undefined);
  assert.is(missingModuleHint('boom'), undefined);
});

errors.run();

const flags = suite('flags');

flags('the help fits 80 columns and gives every option a default', () => {
  const help = helpText();
  for (const line of help.split('\n')) assert.ok(line.length <= 80, `too wide: ${line}`);
  assert.match(help, '-o, --out <dir>');
  assert.match(help.replace(/\s+/g, ' '), 'netlify, cloudflare, vercel, s3', 'hosts come from the list of hosts');
});

flags('an unknown flag names the nearest one; a value is checked once, naming the flag', () => {
  const usage = (argv: string[]) => {
    try {
      const { values, positionals } = parseFlags(argv);
      readBuildFlags(values, positionals, {}, false);
      return undefined;
    } catch (error) {
      return (error as { code: string; message: string });
    }
  };
  assert.is(usage(['--outdir', 'x'])!.code, 'USAGE');
  assert.is(usage(['--outdir', 'x'])!.message, 'unknown option --outdir (did you mean --out?)');
  assert.is(usage(['--zzzzzz'])!.message, 'unknown option --zzzzzz');
  assert.match(usage(['--timeout', 'soon'])!.message, '--timeout');
  assert.is(usage(['--out'])!.message, '--out needs a value: --out <dir>');
  assert.is(usage(['--retries', '-1'])!.code, 'USAGE');
  assert.is(usage(['--max-body', '0'])!.message, 'Expected --max-body to be a number of MB above 0, got `0`.');
  assert.is(usage(['--host', 'ftp'])!.message, 'Expected --host to be one of none, netlify, cloudflare, vercel, s3, got `ftp`.');
  assert.is(usage(['a', 'b'])!.message, 'Expected one app directory, got 2: a b.');
  assert.is(usage(['app', '-o', 'x', '--timeout', '1.5']), undefined);
  assert.is(closest('concurency', ['concurrency', 'out']), 'concurrency');
});

flags('colour: --no-color and NO_COLOR win, then --color and FORCE_COLOR, else the terminal', () => {
  assert.is(colorWanted({}, {}, true), true);
  assert.is(colorWanted({}, {}, false), false);
  assert.is(colorWanted({}, { FORCE_COLOR: '1' }, false), true);
  assert.is(colorWanted({}, { FORCE_COLOR: '0' }, true), false);
  assert.is(colorWanted({}, { NO_COLOR: '1', FORCE_COLOR: '1' }, true), false);
  assert.is(colorWanted({ color: true }, {}, false), true);
  assert.is(colorWanted({ 'no-color': true, color: true }, {}, true), false);
});

flags("a GET that Next.js 15+ would not run has 10 s unless a timeout is given; notRunTimeout sets it", async () => {
  const { resolveOptions: resolve } = await import('../src/options.js');
  const resolveOptions = (options: Record<string, unknown>) => resolve({ appDir: path.join(ROOT, 'fixtures/blog/app'), ...options });
  assert.is(resolveOptions({}).notRunLimitMs, 10_000);
  assert.is(resolveOptions({ timeout: 30 }).notRunLimitMs, undefined, '--timeout is the limit of every GET');
  assert.is(resolveOptions({ timeout: 30, notRunTimeout: 2 }).notRunLimitMs, 2_000);
  assert.is(resolveOptions({ timeout: 5, notRunTimeout: 20 }).notRunLimitMs, undefined, 'never longer than the build limit');
  assert.throws(() => resolveOptions({ notRunTimeout: 0 }), /notRunTimeout/);
});

flags('by default the last core goes to a worker only for heavy paths; a concurrency given is every worker\'s', async () => {
  const { resolveOptions: resolve } = await import('../src/options.js');
  const { availableParallelism } = await import('node:os');
  const resolveOptions = (options: Record<string, unknown>) => resolve({ appDir: path.join(ROOT, 'fixtures/blog/app'), ...options });
  const cores = availableParallelism();
  assert.equal([resolveOptions({}).concurrency, resolveOptions({}).lightWorkers], [cores, Math.max(1, cores - 1)]);
  assert.equal([resolveOptions({ concurrency: 2 }).concurrency, resolveOptions({ concurrency: 2 }).lightWorkers], [2, 2]);
  assert.is(resolveOptions({ concurrency: 1 }).lightWorkers, 1);
});

flags.run();

const counts = suite('counts for a person');

counts('formatCount separates thousands as toLocaleString does', () => {
  for (const n of [0, 7, 999, 1000, 9999, 10_000, 123_456, 1_000_000, 1_234_567_890, -1234, 12.5]) assert.is(formatCount(n), n.toLocaleString('en-US'), String(n));
});

counts.run();

const manifests = suite('manifest format');

/** A value's JSON shape with every object's keys in sorted order (arrays keep theirs). */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]));
}
const route = (pattern: string, file = `/w/app${pattern}/route.ts`): RouteFile => ({ file, pattern, srcRoute: pattern, segments: [] });

manifests('the serializer sorts every key itself, whatever order the entries were made in', () => {
  const a = route('/a');
  const results: PathResult[] = [
    { type: 'static', path: '/z', route: a, logs: [], status: 200, headers: { 'z-last': '1', 'a-first': '2' }, file: 'z', size: 1, sha256: 's', revalidate: false },
    { type: 'static', path: '/b', route: a, logs: [], status: 200, headers: {}, file: 'b', size: 1, sha256: 's', revalidate: false },
  ];
  const text = serializeManifest(buildManifest(results, '/w'));
  assert.ok(text.indexOf('"/b"') < text.indexOf('"/z"'));
  assert.ok(text.indexOf('"a-first"') < text.indexOf('"z-last"'));
  assert.ok(text.indexOf('"file"') < text.indexOf('"srcRoute"'));
});

manifests('the manifest is two-space JSON with every key sorted and a final newline, in pieces of any size', () => {
  const a = route('/a');
  const results: PathResult[] = [];
  for (let i = 0; i < 7; i++) {
    results.push({ type: 'static', path: `/s${i}`, route: a, logs: [], status: 200, headers: { 'content-type': 'text/plain', 'x-n': String(i) }, file: `s${i}`, size: i, sha256: 'h', revalidate: i % 2 === 0 ? false : 60, ...(i === 3 ? { tags: ['t1', 't2'], frozen: [{ what: 'fetch GET https://x.test/', at: 'app/a/route.ts:1' }] } : {}) });
  }
  results.push({ type: 'dynamic', path: '/d', route: a, logs: [], reasons: [{ kind: 'headers()', message: 'reads the request headers' }, { kind: 'cookies()', message: 'reads cookies' }] });
  results.push({ type: 'error', path: '/e', route: a, logs: [], code: 'HANDLER_THREW', message: 'boom', hint: 'fix it' });
  const manifest = buildManifest(results, '/w');
  const expected = `${JSON.stringify(sortedKeys(manifest), null, 2)}\n`;
  assert.is(serializeManifest(manifest), expected);
  for (const size of [1, 2, 3, 250]) assert.is([...manifestChunks(manifest, size)].join(''), expected, `pieces of ${size}`);
});

manifests("a build's static record is its manifest entry: the fields it was made with, the same text as a plain entry", () => {
  const a = route('/a');
  const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const fields = { file: 'r', headers: { 'content-type': 'text/plain' }, revalidate: 60 as number | false, sha256, size: 3, source: 'app/a/route.ts', srcRoute: '/a', status: 200 };
  const frozen = [{ what: 'fetch GET https://x.test/', at: 'app/a/route.ts:1' }];
  // Columns grow past their first size; files other than the path's own, a hash that is not hex
  // and headers out of order are kept as they are (sorted, for the entry).
  const records = new StaticRecords(2, 'static/');
  const cases = [{}, { tags: ['t'] }, { frozen }, { frozen, tags: ['t1', 't2'] }, { frozen: [] }, { file: null }, { file: 'static/r' }, { file: 'static/r/index.html', revalidate: false as const }, { sha256: 'h' }, { headers: { 'x-b': '1', 'content-type': 'text/plain' } }, { size: 5_000_000_000, status: 404 }];
  const made: Array<[StaticRecord, ManifestRoute]> = [];
  for (const [i, extra] of cases.entries()) {
    // Each its own hash, so that a column that loses its rows as it grows shows.
    const own = { ...fields, sha256: sha256.slice(0, -2) + String(i).padStart(2, '0'), ...extra };
    const record = records.add('/r', a, own, ['a log']);
    const plain = manifestEntry(own);
    made.push([record, plain]);
    assert.is(JSON.stringify(record, null, 2), JSON.stringify(sortedKeys(plain), null, 2), JSON.stringify(extra));
    for (const key of ['file', 'revalidate', 'sha256', 'size', 'source', 'srcRoute', 'status', 'tags'] as const) assert.equal(record[key], plain[key], `${key} of ${JSON.stringify(extra)}`);
    assert.equal(record.frozen, plain.frozen?.map(({ what, at }) => ({ at, what })));
    assert.equal([record.type, record.path, record.route, record.logs, record.entry], ['static', '/r', a, ['a log'], record]);
    // A path's empty list of frozen reads is left out (as manifestEntry leaves it out).
    const asResult: PathResult = { type: 'static', path: '/r', route: a, logs: [], ...own, ...('frozen' in extra && extra.frozen?.length === 0 ? { frozen: undefined } : {}) };
    assert.is(serializeManifest(buildManifest([record], '/w')), serializeManifest(buildManifest([asResult], '/w')));
  }
  assert.equal(records.add('/q', a, fields).logs, []);
  for (const [record, plain] of made) assert.is(JSON.stringify(record), JSON.stringify(sortedKeys(plain)), 'after the columns grew');
});

manifests('a failed GET that Next.js 15+ would not run stays on a server; failures of loading, of the tool, or of opted-in routes stay errors', () => {
  const plain = route('/plain');
  const opted = route('/opted');
  const failure = (code: RouteErrorCode, on = plain): PathResult => errorResult(on, on.pattern, { ...errorText(code, ...((code === 'TIMED_OUT' ? [5, 1, 'GET handler'] : ['x', 'y']) as [never, never])), at: { file: on.file, line: 2, column: 3 } });
  const turned = ['HANDLER_THREW', 'ESCAPED_ERROR', 'NO_RESPONSE', 'BODY_FAILED', 'BODY_TOO_LARGE', 'TIMED_OUT', 'OUT_OF_MEMORY', 'WORKER_EXITED'] as const;
  const kept = ['MODULE_THREW', 'COMPILE_FAILED', 'WRITE_FAILED', 'PATH_CONFLICT', 'WORKER_CRASHED', 'WORKER_START_FAILED', 'DYNAMIC_FORBIDDEN'] as const;
  const results = [...turned, ...kept].map((code) => failure(code));
  const after = failuresOnServer([...results, failure('HANDLER_THREW', opted)], new Set([plain]));
  assert.equal(after.map((r) => r.type), [...turned.map(() => 'dynamic'), ...kept.map(() => 'error'), 'error']);
  const [first] = after as Array<Extract<PathResult, { type: 'dynamic' }>>;
  assert.equal(first.reasons.map((r) => [r.kind, r.at]), [['failed at build', { file: plain.file, line: 2, column: 3 }]]);
  assert.match(first.reasons[0].message, /^x\. Next\.js 15 and later do not run this GET at build/);
  assert.is(failuresOnServer(results, new Set()), results, 'Next.js 14 rules, strict or Cache Components: nothing changes');
});

manifests('readManifest names what is wrong', () => {
  const dir = tempDir('manifest');
  const write = (value: unknown) => {
    const file = path.join(dir, `${Math.random()}.json`);
    writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    return file;
  };
  const fail = (file: string) => {
    try {
      readManifest(file);
      return undefined;
    } catch (error) {
      return error as { code: string; message: string };
    }
  };
  assert.is(fail(path.join(dir, 'none.json'))!.message, `Cannot read the manifest ${path.join(dir, 'none.json')}: the file does not exist.`);
  assert.is(fail(write('{'))!.code, 'MANIFEST_INVALID');
  assert.match(fail(write({ version: 2 }))!.message, '"version" is 2, not 1');
  assert.match(fail(write({ version: 1, routes: {}, dynamic: {} }))!.message, 'its "errors" is missing');
  assert.is(checkManifest({ version: 1, routes: { '/a': { srcRoute: '/a', source: 's', file: 'a', status: 200, headers: {}, size: 1, revalidate: false } }, dynamic: {}, errors: {} }), 'routes["/a"].sha256 is missing');
  const good = { version: 1, routes: {}, dynamic: {}, errors: {} };
  assert.equal(readManifest(write(good)), good);
});

manifests('results come out in plan order: routes by pattern, then stage, then each stage in its own order', () => {
  const b = route('/b');
  const a = route('/a');
  const r = (key: string, routeFile: RouteFile): PathResult => ({ type: 'dynamic', path: key, route: routeFile, logs: [], reasons: [] });
  const ordered = inPlanOrder([[r('/b', b)], [r('/a/2', a), r('/a/1', a)], [r('/a/0', a), r('/b/9', b)]], [b, a]);
  assert.equal(ordered.map((x) => x.path), ['/a/2', '/a/1', '/a/0', '/b', '/b/9']);
});

manifests('the report shows a bodiless 304 as a status, not a redirect, and cuts a very long path', async () => {
  const { formatReport } = await import('../src/report.js');
  const r = route('/p/[...x]');
  const long = `/p/${'a/'.repeat(5000)}z`;
  const results: PathResult[] = [
    { type: 'static', path: '/p/cached', route: r, logs: [], status: 304, headers: {}, file: null, size: 0, sha256: 's', revalidate: false },
    { type: 'dynamic', path: long, route: r, logs: [], reasons: [] },
  ];
  const lines = formatReport(results, { routes: 1, durationMs: 0, output: '' }, { cwd: '/w', color: false, logs: false }).split('\n');
  assert.is(lines[1], '  ○ /p/cached  304');
  const dynamicLine = lines.find((line) => line.includes('ƒ'))!;
  assert.ok(dynamicLine.length < 200, `${dynamicLine.length} characters`);
  assert.match(dynamicLine, `(${long.length} characters)`);
});

manifests('the markdown report fits a pull-request comment: errors and dynamic routes first, the rest counted', async () => {
  const { formatMarkdown, MARKDOWN_MARKER } = await import('../src/ci.js');
  const a = route('/p/[id]');
  const results: PathResult[] = [
    ...Array.from({ length: 20_000 }, (_, i): PathResult => ({ type: 'static', path: `/p/${i}`, route: a, logs: [], status: 200, headers: { 'content-type': 'application/json' }, file: `p/${i}`, size: 10, sha256: 's', revalidate: false })),
    { type: 'dynamic', path: '/d', route: a, logs: [], reasons: [{ kind: 'headers()', message: 'reads the request headers' }] },
    { type: 'error', path: '/e', route: a, logs: [], code: 'HANDLER_THREW', message: 'boom' },
  ];
  const text = formatMarkdown(buildManifest(results, '/w'), { routes: 1, durationMs: 0, output: '' });
  assert.ok(text.length <= 60_000, `${text.length} characters`);
  assert.ok(text.startsWith(`${MARKDOWN_MARKER}\n### route-prerender: 20000 static, 1 dynamic, 1 error`));
  assert.match(text, '| `/e` | boom |');
  assert.match(text, '| `/d` | `headers()`');
  assert.match(text, /\*Left out to fit: \d+ static paths\. The manifest lists every path\.\*/);
  assert.match(text, '</details>');
});

manifests.run();

const memoryParts = suite('memory between stages');

memoryParts('collectGarbage frees what a stage left behind, without gc exposed to route code', () => {
  let garbage: unknown[] | undefined = Array.from({ length: 300_000 }, (_, i) => ({ i, text: `entry ${i}` }));
  const before = process.memoryUsage().heapUsed;
  garbage = undefined;
  collectGarbage();
  const after = process.memoryUsage().heapUsed;
  assert.ok(after < before - 10 * 2 ** 20, `heap ${Math.round(before / 2 ** 20)} MB → ${Math.round(after / 2 ** 20)} MB`);
  assert.is(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'gc stays out of the global scope');
  void garbage;
});

memoryParts('GarbagePacer collects every so many tasks once the heap grew past its allowance since the last collection', () => {
  let used = 10;
  const collections: number[] = [];
  const pacer = new GarbagePacer(16, 4, () => used, () => {
    collections.push(used);
    used = 12; // what is live
  });
  const ticks = (n: number) => Array.from({ length: n }, () => pacer.tick());
  used = 30; // grown 20 past the 10 it started with, but only the fourth task looks
  assert.equal(ticks(4), [false, false, false, true]);
  assert.equal(collections, [30]);
  used = 27; // under 12 + 16
  assert.equal(ticks(4), [false, false, false, false]);
  used = 28;
  assert.equal(ticks(4), [false, false, false, true]);
  assert.equal(collections, [30, 28]);
});

memoryParts('GarbagePacer lets a heap that keeps what it is given grow by half between collections', () => {
  let used = 0;
  const collections: number[] = [];
  const pacer = new GarbagePacer(16, 1, () => used, () => collections.push(used));
  // Every task keeps 10 more. Collected at 20 (over 0 + 16), 40 (over 20 + 16), 60 (at 40 + 20),
  // 90 (at 60 + 30); with 16 alone it would be every other task.
  for (let task = 0; task < 12; task++) {
    used += 10;
    pacer.tick();
  }
  assert.equal(collections, [20, 40, 60, 90]);
  // The build thread's pacer lets it grow by a fifth: collected at 20, 40, 60, 80, 100, 120.
  const fifth: number[] = [];
  used = 0;
  const tight = new GarbagePacer(16, 1, () => used, () => fifth.push(used), 0.2);
  for (let task = 0; task < 12; task++) {
    used += 10;
    tight.tick();
  }
  assert.equal(fifth, [20, 40, 60, 80, 100, 120]);
});

memoryParts('a held young generation stays held when a worker starts (Node.js 20 sets V8\'s flags again then)', () => {
  // In a process of its own: the hold is process-wide.
  const script = `
    import v8 from 'node:v8';
    import { holdYoungGeneration } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'out/src/memory.js')).href)};
    import { startEarly } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'out/src/sandbox/thread.js')).href)};
    const youngMb = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size / 2 ** 20;
    holdYoungGeneration();
    startEarly(undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const kept = [];
    for (let i = 0; i < 2000000; i++) kept.push({ i, text: 'entry ' + i });
    console.log(JSON.stringify({ young: youngMb(), kept: kept.length }));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(child.status, 0, child.stderr);
  // Held, it stays at a few MB; let grow, V8 takes it to 32 MB for two million records.
  const { young } = JSON.parse(child.stdout) as { young: number };
  assert.ok(young <= 8, `young generation ${young} MB`);
});

memoryParts('KeySet: items by key without holding the keys, the first of a key kept, past its first size', () => {
  // Made from a capacity of 2: it grows, and keys of one bucket probe past each other.
  const keys = Array.from({ length: 5000 }, (_, i) => `/p/${i % 3000}`);
  const asked: number[] = [];
  const set = new KeySet(2, (i) => (asked.push(i), keys[i]));
  const held = keys.map((key, i) => set.add(i, key));
  assert.equal(held.slice(0, 3000), Array(3000).fill(-1), 'the first 3,000 keys are new');
  assert.equal(held.slice(3000), Array.from({ length: 2000 }, (_, i) => i), 'each later one names the first of its key');
  assert.ok(asked.every((i) => i < 3000), 'only items in the set are asked for their key');
  assert.is(set.add(5000, '/p/2999'), 2999);
  assert.is(set.add(5001, '/new'), -1);
  // The key is made when not given.
  assert.is(new KeySet(1, (i) => ['a', 'a'][i]).add(0), -1);
});

memoryParts.run();

const reads = suite('what counts as a read');

reads('a file opened to be read is an input; one opened to be written only, or emptied first, is not', () => {
  const { O_APPEND, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } = constants;
  for (const flags of [undefined, 'r', 'rs+', 'r+', 'a+', O_RDONLY, O_RDWR, O_RDWR | O_CREAT]) assert.ok(opensForReading(flags), `${String(flags)} reads`);
  for (const flags of ['w', 'wx', 'w+', 'a', 'ax', O_WRONLY | O_CREAT | O_TRUNC, O_WRONLY | O_APPEND, O_RDWR | O_TRUNC]) assert.not.ok(opensForReading(flags), `${String(flags)} does not`);
});

reads.run();

const loaders = suite('config loader rules');

loaders('turbopack.rules in each of its forms, and Turbopack globs', () => {
  assert.equal(loaderRules({
    '*.md': ['a-loader', { loader: 'b-loader', options: { x: 1 } }],
    '*.mdx': { loaders: [{ loader: 'mdx-loader' }], as: '*.js' },
    '*.svg': [{ loaders: ['svgr'], as: '*.js', condition: 'browser' }, 'loose-loader', { loaders: ['svg-server'], condition: { not: { path: /icons/ } } }],
    '*.json': { loaders: ['meta'], condition: { all: ['production', { query: { [REGEXP_KEY]: { source: '[?&]collection=', flags: 'i' } }, content: { [REGEXP_KEY]: { source: '(', flags: '' } } }] } },
    '*.css': { as: '*.css' },
    '*.txt': 'not a rule',
  }), [
    { glob: '*.md', loaders: [{ loader: 'a-loader' }, { loader: 'b-loader', options: { x: 1 } }] },
    { glob: '*.mdx', loaders: [{ loader: 'mdx-loader', options: undefined }], as: '*.js' },
    { glob: '*.svg', loaders: [{ loader: 'svgr' }], as: '*.js', condition: 'browser' },
    { glob: '*.svg', loaders: [{ loader: 'loose-loader' }] },
    { glob: '*.svg', loaders: [{ loader: 'svg-server' }], condition: { not: { path: /icons/ } } },
    // A RegExp sent by the config's thread comes back a RegExp; one this Node.js cannot compile matches nothing.
    { glob: '*.json', loaders: [{ loader: 'meta' }], condition: { all: ['production', { query: /[?&]collection=/i, content: /(?!)/ }] } },
  ]);
  // The config's thread sends RegExps under the same key (it loads nothing of the library).
  const loaderSource = readFileSync(new URL('../src/config-loader.js', import.meta.url), 'utf8');
  assert.is(/const REGEXP_KEY = ['"]([^'"]+)['"]/.exec(loaderSource)?.[1], REGEXP_KEY);
  const both = globPattern('*.{md,mdx}');
  assert.ok(both.test('post.md') && both.test('post.mdx'));
  assert.not.ok(both.test('post.mdxx') || both.test('dir/post.md'));
  assert.ok(globPattern('content/**/*.json').test('content/blog/a/meta.json') && globPattern('content/**/*.json').test('content/meta.json'));
  assert.not.ok(globPattern('content/**/*.json').test('other/meta.json'));
});

loaders("an image's size from its header (the formats Next.js's image loader takes), and its data with Next.js's own code", async () => {
  const { imageData, imageSize } = await import('../src/images.js');
  // AVIF keeps its size in an `ispe` box.
  const ispe = Buffer.alloc(20);
  ispe.write('ispe', 4);
  ispe.writeUInt32BE(640, 12);
  ispe.writeUInt32BE(480, 16);
  assert.equal(imageSize(Buffer.concat([Buffer.from('\0\0\0\x1cftypavif'), ispe]), 'avif'), { width: 640, height: 480 });
  const svg = (tag: string) => imageSize(Buffer.from(`<?xml version="1.0"?>\n${tag}</svg>`), 'svg');
  assert.equal(svg('<svg width="20px" height="10">'), { width: 20, height: 10 });
  assert.equal(svg('<svg width="20" viewBox="0 0 40 10">'), { width: 20, height: 5 });
  assert.equal(svg('<svg viewBox="0,0,30,15" height="30">'), { width: 60, height: 30 });
  assert.equal(svg('<svg width="100%">'), {}, 'no size to read: the import fails, as under Next.js');
  assert.equal(imageSize(Buffer.from('not a png at all, really'), 'png'), {});
  // With the app's Next.js, its functions make the name, the size and the placeholder (8 pixels on the longer side).
  const calls: string[] = [];
  const next = {
    interpolateName: (_context: unknown, name: string) => name.replace('[name].[hash:8].[ext]', 'wide.12345678.png'),
    getImageSize: async () => ({ width: 2251, height: 1275 }),
    optimizeImage: async (options: { width: number; height: number }) => {
      calls.push(`${options.width}x${options.height}`);
      return Buffer.from('webp');
    },
    isAnimated: () => false,
  };
  const data = await imageData(Buffer.from('png'), '/p/wide.png', '/p', 'https://cdn.example', next);
  assert.equal(data, { src: 'https://cdn.example/_next/static/media/wide.12345678.png', height: 1275, width: 2251, blurDataURL: 'data:image/webp;base64,d2VicA==', blurWidth: 8, blurHeight: 5 });
  assert.equal(calls, ['8x5']);
  const tall = await imageData(Buffer.from('gif'), '/p/tall.gif', '/p', '', { ...next, getImageSize: async () => ({ width: 10, height: 300 }) });
  assert.equal([tall.blurWidth, tall.blurHeight, tall.blurDataURL], [0, 0, undefined], 'no placeholder for a GIF');
});

loaders.run();
