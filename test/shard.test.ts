/** Sharding a build over several machines, and merging the parts. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mergeShards, prerender, shardPaths } from '../src/index.js';
import { fixture, ROOT, tempDir, tree } from './helpers.js';

async function shards(app: string, count: number, host: 'none' | 'netlify' = 'none', dir = tempDir('shards')): Promise<string[]> {
  const outs: string[] = [];
  for (let index = 1; index <= count; index++) {
    const out = path.join(dir, `part-${index}`);
    const result = await prerender({ appDir: fixture(app), out, cwd: ROOT, host, shard: { index, count } });
    assert.ok(result.written);
    outs.push(out);
  }
  return outs;
}

const shard = suite('shards');

shard('3 shards merged are byte-identical to a one-machine build (files, manifest, host files)', async () => {
  for (const [app, host] of [['shuffle', 'none'], ['blog', 'netlify'], ['catchall', 'none']] as const) {
    const single = path.join(tempDir('single'), 'dist');
    await prerender({ appDir: fixture(app), out: single, cwd: ROOT, host });
    const merged = path.join(tempDir('merged'), 'dist');
    await mergeShards({ dirs: await shards(app, 3, host), out: merged, cwd: ROOT });
    assert.equal(tree(merged), tree(single), app);
  }
});

shard('each shard builds its share, balanced by path count and independent of order', async () => {
  const all = Array.from({ length: 61 }, (_, i) => `/items/${i}`);
  const parts = [1, 2, 3].map((index) => shardPaths(all, { index, count: 3 }));
  assert.equal(parts.map((p) => p.size), [21, 20, 20]);
  assert.is(new Set(parts.flatMap((p) => [...p])).size, 61);
  assert.equal([...shardPaths([...all].reverse(), { index: 2, count: 3 })].sort(), [...parts[1]].sort());
  const outs = await shards('shuffle', 3);
  const sizes = outs.map((out) => Object.keys(tree(out)).filter((f) => f.startsWith('items/')).length);
  assert.equal(sizes, [20, 20, 20]);
});

shard('merge refuses overlapping shards, a missing shard, another app version, and a plain build', async () => {
  const outs = await shards('shuffle', 3);
  const refused = async (dirs: string[]) => {
    try {
      await mergeShards({ dirs, out: path.join(tempDir('refused'), 'dist'), cwd: ROOT });
      return 'merged';
    } catch (error) {
      return (error as Error).message;
    }
  };
  assert.match(await refused([outs[0], outs[0], outs[2]]), 'are both shard 1/3: their paths overlap');
  assert.match(await refused([outs[0], outs[1]]), 'Shard 3 of 3 is missing.');
  const other = await shards('blog', 3);
  assert.match(await refused([outs[0], outs[1], other[2]]), 'was built from another version of the app');
  const plain = path.join(tempDir('plain'), 'dist');
  await prerender({ appDir: fixture('shuffle'), out: plain, cwd: ROOT });
  assert.match(await refused([plain]), 'is not the output of a sharded build');
});

shard('the CLI builds shards and merges them', async () => {
  const dir = tempDir('cli-shards');
  const run = (args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'out/cli.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
  for (const i of [1, 2]) assert.is(run(['fixtures/blog/app', '--out', path.join(dir, `s${i}`), '--shard', `${i}/2`]).status, 0);
  const merged = run(['merge', path.join(dir, 's1'), path.join(dir, 's2'), '--out', path.join(dir, 'dist')]);
  assert.is(merged.status, 0, merged.stderr);
  assert.match(merged.stdout, 'Merged 2 shards: 7 static (875 B), 1 dynamic, 0 errors.');
  const bad = run(['fixtures/blog/app', '--shard', '3/2']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, 'Expected --shard to be <i>/<n> with 1 <= i <= n, e.g. 2/4, got `3/2`.');
  const missing = run(['merge', path.join(dir, 's1'), '--out', path.join(dir, 'dist2')]);
  assert.is(missing.status, 2);
  assert.match(missing.stderr, 'Shard 2 of 2 is missing.');
});

shard.run();
