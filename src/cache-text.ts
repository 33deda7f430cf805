/**
 * The build cache's digests and stamps as the text they were read from. An incremental build of
 * 10,000 paths asks for a few of their 20,000 entries (the files that changed), and writes the
 * others again as they were: parsing them all, holding them as objects, and writing them out of
 * those again was a fifth of its time. Pure.
 *
 * A table is one member of the cache's text, `{"id":"value",…}`, its entries in the order the cache
 * wrote them. Neither ids nor values hold a backslash there (a table whose text has one is parsed
 * instead), so an entry is found by its quoted id, and ends at the next quote after its value starts.
 */

/** Lookups a table answers from its text; past them it is parsed, and answers from the object. */
const LOOKUPS_BEFORE_PARSE = 32;

export class TextTable {
  #parsed?: Record<string, string>;
  #lookups = 0;
  /** The entries' text alone (a slice of the cache's text, not a copy): a search never runs past them. */
  readonly #entries: string;

  /**
   * `from`: where the first entry starts (after `{`); `to`: where the last ends (at `}`). Undefined
   * when the text there is not a table of this shape (then the cache is parsed whole).
   */
  static of(text: string, from: number, to: number): TextTable | undefined {
    if (from > to || text.charCodeAt(from - 1) !== 123 || text.charCodeAt(to) !== 125) return undefined;
    const entries = text.slice(from, to);
    if (entries.includes('\\') || entries.includes('\n') || (entries.length > 0 && (entries.charCodeAt(0) !== 34 || entries.charCodeAt(entries.length - 1) !== 34))) return undefined;
    return new TextTable(from, entries);
  }

  /** `from`: where the entries start in the text (and in the bytes it was decoded from). */
  private constructor(
    private readonly from: number,
    entries: string,
  ) {
    this.#entries = entries;
  }

  /** The value of `id`, when the table has it. */
  get(id: string): string | undefined {
    if (this.#parsed || ++this.#lookups > LOOKUPS_BEFORE_PARSE) return this.all()[id];
    const at = this.#find(id);
    return at === undefined ? undefined : this.#entries.slice(at.value, at.end);
  }

  /** The whole table as an object, parsed once (an unreadable one is empty: every input then counts as changed). */
  all(): Record<string, string> {
    if (!this.#parsed) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(`{${this.#entries}}`);
      } catch {
        parsed = undefined;
      }
      this.#parsed = typeof parsed === 'object' && parsed !== null && Object.values(parsed).every((value) => typeof value === 'string') ? (parsed as Record<string, string>) : {};
    }
    return this.#parsed;
  }

  /** Each entry's id and value, in order, but those whose id starts with `skip` (read from the text: no object is made for the others). */
  *entries(skip?: string): Generator<[id: string, value: string]> {
    const text = this.#entries;
    for (let at = 0; at < text.length; ) {
      const colon = text.indexOf('":"', at + 1);
      const end = colon === -1 ? -1 : text.indexOf('"', colon + 3);
      if (end === -1) return;
      if (skip === undefined || !text.startsWith(skip, at + 1)) yield [text.slice(at + 1, colon), text.slice(colon + 3, end)];
      at = end + 2; // past the closing quote and the comma
    }
  }

  /** The number of entries (of those whose id starts with `prefix`). */
  count(prefix = ''): number {
    const text = this.#entries;
    let count = 0;
    for (let at = text.length > 0 ? 0 : -1; at !== -1; at = text.indexOf(',"', at + 1)) {
      // Inside an entry, `,"` is only ever a separator: ids and values hold no quote.
      if (text.startsWith(prefix, at === 0 ? 1 : at + 2)) count++;
    }
    return count;
  }

  /** Where `id`'s entry is in the entries' text: its start, its value's start and end (before the closing quote). */
  #find(id: string): { start: number; value: number; end: number } | undefined {
    const needle = `${JSON.stringify(id)}:"`;
    const text = this.#entries;
    for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
      if (at === 0 || text.charCodeAt(at - 1) === 44) {
        const value = at + needle.length;
        return { start: at, value, end: text.indexOf('"', value) };
      }
    }
    return undefined;
  }

  /**
   * The table written again without the entries of `cut` and with `added` after the others, as the
   * text between its braces: runs of entries kept are slices of the text (views of `bytes`, the
   * bytes it was decoded from, when they are ASCII: a character is then a byte).
   */
  *spliced(cut: Iterable<string>, added: Record<string, string>, bytes?: Uint8Array): Generator<string | Uint8Array> {
    const spans: Array<{ start: number; end: number }> = [];
    for (const id of cut) {
      const at = this.#find(id);
      if (at) spans.push({ start: at.start, end: at.end + 1 });
    }
    spans.sort((a, b) => a.start - b.start);
    const text = this.#entries;
    let written = false;
    const run = (from: number, to: number) => (bytes ? bytes.subarray(this.from + from, this.from + to) : text.slice(from, to));
    let from = 0;
    for (const span of [...spans, { start: text.length + 1, end: text.length + 1 }]) {
      // The run before this entry, without the comma that ends it.
      const to = span.start - 1;
      if (to > from) {
        if (written) yield ',';
        yield run(from, to);
        written = true;
      }
      from = span.end + 1; // past the comma after the entry
    }
    const fresh = JSON.stringify(added).slice(1, -1);
    if (fresh) yield written ? `,${fresh}` : fresh;
  }
}
