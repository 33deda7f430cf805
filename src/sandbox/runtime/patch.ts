/**
 * Replacing a function of a Node.js module (`fs.readFile`, `child_process.exec`) with a watched
 * one, the way the instrumentation does it everywhere. Worker threads only.
 */
import { promisify } from 'node:util';

type Fn = (...args: unknown[]) => unknown;

/**
 * Replaces the function `object[name]` by `wrap(real)`. What `util.promisify` relies on is kept: a
 * function with its own promisified form (`exec`'s resolves to `{ stdout, stderr }`, `fs.exists`'s
 * to a boolean) gives the replacement that form too, wrapped by `wrapCustom` (default: `wrap`).
 */
export function replaceFunction(object: object, name: string, wrap: (real: Fn) => Fn, wrapCustom: (real: Fn) => Fn = wrap): void {
  const target = object as Record<string, unknown>;
  const real = target[name];
  if (typeof real !== 'function') return;
  const replacement = wrap(real as Fn);
  const custom = (real as unknown as Record<symbol, unknown>)[promisify.custom];
  if (typeof custom === 'function') Object.defineProperty(replacement, promisify.custom, { value: wrapCustom(custom as Fn), configurable: true });
  target[name] = replacement;
}
