import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prerender, type PrerenderOptions, type PrerenderResult } from '../src/index.js';

/** The repository root (tests run from out/test). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function fixture(name: string): string {
  return path.join(ROOT, 'fixtures', name);
}

const made: string[] = [];
// Test folders go when the test process ends, whatever the outcome.
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new folder in the system's temp folder, removed when the tests end. */
export function tempDir(label = 'test'): string {
  const dir = mkdtempSync(path.join(tmpdir(), `rp-${label}-`));
  made.push(dir);
  return dir;
}

/** Writes a project of the test's own: each file (a path relative to `dir`, with forward slashes) with its text, its folders made. */
export function writeFiles(dir: string, files: Record<string, string | Uint8Array>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
}

/** Builds the `app` folder of a project written with `writeFiles` into its `dist`, as run from that project. */
export function buildProject(dir: string, options: Partial<PrerenderOptions> = {}): Promise<PrerenderResult> {
  return prerender({ appDir: path.join(dir, 'app'), out: path.join(dir, 'dist'), cwd: dir, ...options });
}

const builds = new Map<string, Promise<PrerenderResult>>();

/**
 * Builds a fixture app once per test process into a fresh temporary folder, keeping partial output
 * when a route errors so that its files can still be inspected.
 */
export function build(name: string, options: Partial<PrerenderOptions> = {}): Promise<PrerenderResult> {
  const key = `${name}|${JSON.stringify(options)}`;
  let result = builds.get(key);
  if (!result) {
    result = prerender({ appDir: fixture(name), out: path.join(tempDir(name), 'dist'), cwd: ROOT, keepPartial: true, concurrency: 2, ...options });
    builds.set(key, result);
  }
  return result;
}

/** The bytes written for a path, from the output folder (or the kept partial output). */
export function body(result: PrerenderResult, urlPath: string): Buffer {
  const entry = result.manifest.routes[urlPath];
  if (!entry) throw new Error(`${urlPath} is not a static route; static: ${Object.keys(result.manifest.routes).join(', ')}`);
  if (entry.file === null) throw new Error(`${urlPath} has no file`);
  return readFileSync(path.join(result.partialDir ?? result.outDir, entry.file));
}

export function text(result: PrerenderResult, urlPath: string): string {
  return body(result, urlPath).toString('utf8');
}

/** Every file under a folder, relative path → sha256 of its bytes. */
export function tree(dir: string, prefix = ''): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) Object.assign(files, tree(full, `${prefix}${name}/`));
    else files[`${prefix}${name}`] = createHash('sha256').update(readFileSync(full)).digest('hex');
  }
  return files;
}
