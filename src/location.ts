/** File names and source locations as the manifest and the reports show them. Pure. */
import path from 'node:path';
import type { SourceLocation } from './types.js';

/** `file` relative to `cwd`, with forward slashes (`.` for `cwd` itself). */
export function relativeFile(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return (relative === '' ? '.' : relative).split(path.sep).join('/');
}

/** `file:line:column`, the file relative to `cwd`. */
export function formatLocation(at: SourceLocation, cwd: string): string {
  return `${relativeFile(at.file, cwd)}:${at.line}:${at.column}`;
}
