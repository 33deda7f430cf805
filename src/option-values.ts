/**
 * The values of options that the CLI's flags and the library's options both check: host names and
 * shard specs. Nothing heavy is imported here, because `--help` loads it.
 */
import { setupError } from './errors.js';

export const HOSTS = ['none', 'netlify', 'cloudflare', 'vercel', 's3'] as const;
export type HostName = (typeof HOSTS)[number];

export interface ShardSpec {
  /** 1-based. */
  index: number;
  count: number;
}

export function parseShard(text: string): ShardSpec {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index < 1 || index > count) {
    throw setupError('USAGE', [`Expected --shard to be <i>/<n> with 1 <= i <= n, e.g. 2/4, got \`${text}\`.`]);
  }
  return { index, count };
}
