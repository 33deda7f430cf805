/**
 * Writing a record of many entries (the manifest's routes, the build cache's paths) again after a
 * build that kept most of them: an entry kept as it was is copied from the previous text, and kept
 * entries that follow each other there are one slice of it. Pure.
 *
 * The layout both writers use: one entry after another in key order, each followed by `,\n` but
 * the last (followed by `\n`), no entry holding a raw newline where the next one could seem to
 * start (JSON strings escape theirs).
 *
 * With the previous file's bytes (when its text is ASCII, so that a character is a byte), a run of
 * kept entries is a view of those bytes: nothing is copied or encoded again.
 */
import { isAscii } from 'node:buffer';

/** Where an entry is in a text, without the comma after it. */
interface Span {
  from: number;
  to: number;
}

/**
 * The entries of a previous text, walked in key order beside the keys of a record being written
 * (in the same order). The i-th entry of the text is the i-th key of the record parsed from it:
 * keys of URL paths and input ids, never integers, keep their order in an object. `next` says where
 * the entry after the one at `at` starts (-1 when the text is not laid out as expected: the walk
 * stops, and the remaining entries are written again).
 */
export class KeptEntries {
  readonly #keys: string[];
  #index = 0;
  /** Where the entry at `#index` starts (-1 once the walk stopped). */
  #at: number;
  /** The text's bytes, kept only when they are ASCII: a character is then a byte, and the offsets of the text are theirs. */
  readonly bytes?: Uint8Array;

  /** `from` is where the first entry starts, `end` where the last one ends; `bytes`, those the text was decoded from. */
  constructor(
    readonly text: string,
    private readonly record: Record<string, unknown>,
    from: number,
    private readonly end: number,
    private readonly next: (text: string, at: number) => number,
    bytes?: Uint8Array,
  ) {
    if (bytes && isAscii(bytes)) this.bytes = bytes;
    this.#keys = Object.keys(record);
    this.#at = from >= 0 && from <= end ? from : -1;
  }

  /** Where `value` is, when it is the previous record's own value for `name`. */
  find(name: string, value: unknown): Span | undefined {
    while (this.#at !== -1 && this.#index < this.#keys.length && this.#keys[this.#index] < name) this.#skip();
    if (this.#at === -1 || this.#keys[this.#index] !== name || this.record[name] !== value) return undefined;
    const from = this.#at;
    this.#skip();
    if (this.#at === -1) return undefined;
    return { from, to: this.#index < this.#keys.length ? this.#at - 2 : this.end };
  }

  #skip(): void {
    this.#index++;
    const next = this.#index < this.#keys.length ? this.next(this.text, this.#at) : this.end;
    this.#at = next > this.#at && next <= this.end ? next : -1;
  }
}

/**
 * The lines of `names`' entries, in pieces of about `size` entries (each piece small enough for
 * V8 to collect young): each kept one (found in `kept`) copied, and each run of the others as
 * `fresh` writes it (the entries joined by `,\n`, without a comma or newline after the last). A
 * run of kept entries is a view of the previous bytes where `kept` has them.
 */
export function* entryLines(names: string[], fresh: (names: string[]) => string, kept?: { entries: KeptEntries; value: (name: string) => unknown }, size = 250): Generator<string | Uint8Array> {
  let chunk: Array<string | Uint8Array> = [];
  let run: Span | undefined;
  let pending: string[] = [];
  const last = names.length - 1;
  // Writes what is open (a run of kept entries, or of new ones) before the entry at `next`.
  const close = (next: number) => {
    const tail = next <= last ? ',\n' : '\n';
    const bytes = kept?.entries.bytes;
    if (run && bytes) chunk.push(bytes.subarray(run.from, run.to), tail);
    else if (run) chunk.push(`${kept!.entries.text.slice(run.from, run.to)}${tail}`);
    else if (pending.length > 0) chunk.push(`${fresh(pending)}${tail}`);
    run = undefined;
    pending = [];
  };
  let count = 0;
  for (let j = 0; j <= last; j++) {
    const span = kept?.entries.find(names[j], kept.value(names[j]));
    if (span && run && span.from === run.to + 2) run.to = span.to;
    else if (!span && !run) pending.push(names[j]);
    else {
      close(j);
      if (span) run = span;
      else pending.push(names[j]);
    }
    if (++count >= size) {
      close(j + 1);
      yield* pieces(chunk);
      chunk = [];
      count = 0;
    }
  }
  close(last + 1);
  yield* pieces(chunk);
}

/** A chunk's texts joined between its views of bytes. */
function* pieces(chunk: Array<string | Uint8Array>): Generator<string | Uint8Array> {
  let texts: string[] = [];
  for (const piece of chunk) {
    if (typeof piece === 'string') texts.push(piece);
    else {
      if (texts.length > 0) yield texts.join('');
      texts = [];
      yield piece;
    }
  }
  if (texts.length > 0) yield texts.join('');
}
