/**
 * A source map's lookups, decoded only as far as they are asked for. A worker maps the frames of a
 * route's compiled module to find where a read happened; `node:module`'s SourceMap decodes every
 * mapping of the module into an array of its own first (a route that bundles a markdown library:
 * 15,000 of them, 26 ms of a fresh worker's time before the first path could be located). Here the
 * mappings are decoded into flat arrays, line by line, up to the line looked up. Same answers as
 * `SourceMap#findEntry`: the last mapping at or before the position, on its line or an earlier one.
 */

export interface MapEntry {
  /** As the map names it (relative to the map, as `sources` has it). */
  originalSource?: string;
  /** Zero-based. */
  originalLine?: number;
  originalColumn?: number;
}

interface Payload {
  sources: string[];
  mappings: string;
}

const BASE64 = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) BASE64[c.charCodeAt(0)] = i;

const SEMICOLON = 59;
const COMMA = 44;

export class LazySourceMap {
  readonly #sources: string[];
  readonly #mappings: string;
  /** Decoded segments, four numbers each: generated column, source index (-1: none), original line and column. */
  #segments = new Int32Array(4 * 1024);
  #count = 0;
  /** Where each decoded line's segments start in `#segments` (by segment), and one past the last line's end. */
  #lines: number[] = [0];
  /** Where decoding goes on in the mappings text, and the running values there. */
  #at = 0;
  #source = 0;
  #line = 0;
  #column = 0;

  constructor(payload: Payload) {
    if (!payload || typeof payload.mappings !== 'string' || !Array.isArray(payload.sources)) throw new TypeError('not a source map');
    this.#sources = payload.sources;
    this.#mappings = payload.mappings;
  }

  /** The mapping at or before zero-based `line` and `column` of the generated code; {} when there is none. */
  findEntry(line: number, column: number): MapEntry {
    this.#decodeThrough(line);
    // The line's last segment at or before the column, else the last segment of an earlier line.
    const last = Math.min(line, this.#lines.length - 2);
    for (let l = last; l >= 0; l--) {
      let found = -1;
      for (let s = this.#lines[l]; s < this.#lines[l + 1]; s++) {
        if (l === line && this.#segments[4 * s] > column) break;
        found = s;
      }
      if (found !== -1) {
        const source = this.#segments[4 * found + 1];
        if (source === -1) return { originalSource: undefined };
        return { originalSource: this.#sources[source], originalLine: this.#segments[4 * found + 2], originalColumn: this.#segments[4 * found + 3] };
      }
    }
    return {};
  }

  /** Decodes the mappings through the given line (zero-based), or to their end. */
  #decodeThrough(line: number): void {
    const text = this.#mappings;
    while (this.#lines.length - 1 <= line && this.#at <= text.length) {
      let generated = 0;
      // One line: segments separated by commas, up to a semicolon or the end.
      while (this.#at < text.length && text.charCodeAt(this.#at) !== SEMICOLON) {
        const code = text.charCodeAt(this.#at);
        if (code === COMMA) {
          this.#at++;
          continue;
        }
        generated += this.#vlq();
        let source = -1;
        if (this.#more()) {
          this.#source += this.#vlq();
          this.#line += this.#vlq();
          this.#column += this.#vlq();
          source = this.#source;
          if (this.#more()) this.#vlq(); // the name
        }
        this.#push(generated, source);
      }
      this.#at++; // past the semicolon (or the end)
      this.#lines.push(this.#count);
    }
  }

  /** Whether the segment has another field. */
  #more(): boolean {
    const code = this.#mappings.charCodeAt(this.#at);
    return this.#at < this.#mappings.length && code !== COMMA && code !== SEMICOLON;
  }

  #push(generated: number, source: number): void {
    if (4 * (this.#count + 1) > this.#segments.length) {
      const grown = new Int32Array(this.#segments.length * 2);
      grown.set(this.#segments);
      this.#segments = grown;
    }
    const at = 4 * this.#count++;
    this.#segments[at] = generated;
    this.#segments[at + 1] = source;
    this.#segments[at + 2] = this.#line;
    this.#segments[at + 3] = this.#column;
  }

  /**
   * One base64 VLQ number, with integer operations as `node:module`'s decoder has them (a source
   * map's numbers fit in 31 bits). This runs once per segment in a fresh worker, before V8
   * optimises it, where `2 ** shift` and division took longer (the map of a route that bundles
   * `marked`, 10,878 segments: 19 against 13 ms, medians of 10 fresh processes).
   */
  #vlq(): number {
    const text = this.#mappings;
    let value = 0;
    let shift = 0;
    for (;;) {
      const digit = BASE64[text.charCodeAt(this.#at++)] ?? -1;
      if (digit === -1) throw new TypeError('not a source map');
      value |= (digit & 31) << shift;
      if ((digit & 32) === 0) break;
      shift += 5;
    }
    return value & 1 ? -(value >>> 1) : value >>> 1;
  }
}
