/** The shape of the source tree: no module imports itself back, however far round. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './helpers.js';

const architecture = suite('architecture');

/** Every .ts file under `dir`, with the relative modules it imports (type-only imports included). */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const file = path.join(folder, name);
      if (statSync(file).isDirectory()) visit(file);
      else if (name.endsWith('.ts')) {
        const source = readFileSync(file, 'utf8');
        const targets = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s+'(\.{1,2}\/[^']+)'/g)].map((m) => path.resolve(path.dirname(file), m[1].replace(/\.js$/, '.ts')));
        graph.set(file, targets);
      }
    }
  };
  visit(dir);
  return graph;
}

export function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const walk = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = walk(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = walk(node);
    if (cycle) return cycle;
  }
  return undefined;
}

architecture('the cycle finder finds a cycle when there is one', () => {
  assert.equal(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), ['a', 'b', 'c', 'a']);
  assert.is(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', []]])), undefined);
});

architecture('no import circle in src/ (type-only imports count too)', () => {
  const src = path.join(ROOT, 'src');
  const graph = importGraph(src);
  assert.ok(graph.size > 20 && graph.get(path.join(src, 'prerender.ts'))!.length > 8, 'the graph was read');
  const cycle = findCycle(graph);
  assert.is(cycle?.map((file) => path.relative(src, file)).join(' → '), undefined);
});

architecture('the CLI finds library files from a chunk of its bundle: places.ts is never part of the entry, out/cli.js', () => {
  // The bundle's entry holds the modules cli.ts imports statically (and theirs); one URL relative to
  // it would name a file of out/, not out/src/. Modules imported with import() are chunks in out/src/.
  const graph = importGraph(path.join(ROOT, 'src'));
  const cli = path.join(ROOT, 'cli.ts');
  const source = readFileSync(cli, 'utf8');
  const reached = new Set<string>();
  const visit = (file: string) => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const next of graph.get(file) ?? []) visit(next);
  };
  for (const m of source.matchAll(/(?:^|\n)import\b[^'";]*?from\s+'(\.\/src\/[^']+)'/g)) visit(path.resolve(ROOT, m[1].replace(/\.js$/, '.ts')));
  assert.ok(reached.has(path.join(ROOT, 'src', 'errors.ts')), 'the static imports were followed');
  assert.not.ok(reached.has(path.join(ROOT, 'src', 'places.ts')), [...reached].map((file) => path.relative(ROOT, file)).join(', '));
  for (const file of reached) assert.not.match(readFileSync(file, 'utf8'), /\bimport\.meta\.url\b/, `${path.relative(ROOT, file)} is in the entry and uses import.meta.url`);
  // The bundle was built: the entry imports its chunks from out/src/.
  assert.match(readFileSync(path.join(ROOT, 'out', 'cli.js'), 'utf8'), /from "\.\/src\/cli-[A-Z0-9]+\.js"/);
});

architecture('the worker runs from a bundle whose entries include every sandbox module a route bundle imports', () => {
  // A route bundle imports a few sandbox modules by file (the 'use cache' scope, the metadata
  // helpers): each must be an entry of the worker's bundle, or its state would be a second copy of
  // what the worker's runner uses.
  const script = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { build: string } }).scripts.build;
  const workerBuild = script.split('&&').find((step) => step.includes('out/src/sandbox/worker.js'));
  assert.ok(workerBuild, script);
  const entries = new Set(workerBuild.trim().split(/\s+/).filter((word) => word.startsWith('out/src/')));
  const imported = [...readFileSync(path.join(ROOT, 'src', 'bundle.ts'), 'utf8').matchAll(/path\.join\(RUNTIME_DIR, '([^']+)'\)/g)].map((m) => `out/src/sandbox/runtime/${m[1]}`);
  assert.ok(imported.length >= 3, 'the runtime files route bundles import were found');
  for (const file of [...imported, 'out/src/sandbox/runner.js']) assert.ok(entries.has(file), `${file} is not an entry of the worker's bundle`);
  // The bundle was built: the worker's entry imports its chunks from out/src/ (where places.ts would look, were it reached).
  assert.match(readFileSync(path.join(ROOT, 'out', 'src', 'sandbox', 'worker.js'), 'utf8'), /from "\.\.\/worker-[A-Z0-9]+\.js"/);
});

architecture.run();
