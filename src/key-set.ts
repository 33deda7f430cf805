/**
 * A set of items by their string key, held as item indices in a typed table: the keys are not
 * held, but made again (`keyOf`) when two hash alike. For a million paths it is 8 MB, where a `Set`
 * of the strings grows through 40. Pure.
 */
export class KeySet {
  #table: Int32Array;
  #count = 0;

  /** `capacity`: how many items it makes room for at once (more grow the table). */
  constructor(
    capacity: number,
    private readonly keyOf: (index: number) => string,
  ) {
    this.#table = new Int32Array(tableSize(capacity));
  }

  /**
   * Adds item `index` (its key is `key`) unless an item with the same key is in: then returns that
   * item's index, else -1.
   */
  add(index: number, key = this.keyOf(index)): number {
    const mask = this.#table.length - 1;
    for (let slot = hash(key) & mask; ; slot = (slot + 1) & mask) {
      const held = this.#table[slot] - 1;
      if (held === -1) {
        this.#table[slot] = index + 1;
        if (++this.#count * 2 > this.#table.length) this.#grow();
        return -1;
      }
      if (this.keyOf(held) === key) return held;
    }
  }

  #grow(): void {
    const old = this.#table;
    this.#table = new Int32Array(old.length * 2);
    const mask = this.#table.length - 1;
    for (const entry of old) {
      if (entry === 0) continue;
      let slot = hash(this.keyOf(entry - 1)) & mask;
      while (this.#table[slot] !== 0) slot = (slot + 1) & mask;
      this.#table[slot] = entry;
    }
  }
}

/** A power of two, at least twice `capacity`: the table stays at most half full. */
function tableSize(capacity: number): number {
  let size = 16;
  while (size < capacity * 2) size *= 2;
  return size;
}

/** FNV-1a over the UTF-16 code units. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
