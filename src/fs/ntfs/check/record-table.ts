// Per-record state the check keeps between its passes, in typed arrays (a few bytes a record: 200,000 records
// cost ~3 MB), and the table of every $FILE_NAME by (record, parent, name) that index entries are matched to.
import type { RecordName } from './record-check.js';

export const STATE_UNREAD = 0;
export const STATE_EMPTY = 1;
export const STATE_FREE = 2;
export const STATE_DAMAGED = 3;
export const STATE_IN_USE = 4;

export const BIT_EXTENSION = 1;
export const BIT_I30 = 2;
export const BIT_ATTRIBUTE_LIST = 4;
/** The directory's index (or the record itself) could not be read whole: its children's names are unknown. */
export const BIT_INCOMPLETE = 8;
/** An extension record of this file is damaged or missing: counts of names and links are unknown. */
export const BIT_PARTIAL = 16;

const STATES = ['unread', 'empty', 'free', 'damaged', 'in use'] as const;

export class RecordTable {
  readonly state: Uint8Array;
  readonly bits: Uint8Array;
  readonly sequence: Uint16Array;
  readonly linkCount: Uint16Array;
  readonly baseRecord: Float64Array;
  readonly nameCount: Uint16Array;
  readonly nonDosNames: Uint16Array;
  /** Index entries that matched one of the record's names. */
  readonly indexed: Uint16Array;

  constructor(readonly count: number) {
    this.state = new Uint8Array(count);
    this.bits = new Uint8Array(count);
    this.sequence = new Uint16Array(count);
    this.linkCount = new Uint16Array(count);
    this.baseRecord = new Float64Array(count);
    this.nameCount = new Uint16Array(count);
    this.nonDosNames = new Uint16Array(count);
    this.indexed = new Uint16Array(count);
  }

  inUseBase(n: number): boolean {
    return (
      n >= 0 && n < this.count && this.state[n] === STATE_IN_USE && (this.bits[n]! & BIT_EXTENSION) === 0
    );
  }

  isDirectory(n: number): boolean {
    return this.inUseBase(n) && (this.bits[n]! & BIT_I30) !== 0;
  }

  describe(n: number): string {
    if (n < 0 || n >= this.count) return `past the end of $MFT (${this.count} records)`;
    const s = STATES[this.state[n]!] ?? 'unknown';
    return (this.bits[n]! & BIT_EXTENSION) !== 0 && this.state[n] === STATE_IN_USE
      ? `an extension record of record ${this.baseRecord[n]}`
      : s;
  }

  flag(n: number, bit: number): void {
    if (n >= 0 && n < this.count) this.bits[n]! |= bit;
  }

  has(n: number, bit: number): boolean {
    return n >= 0 && n < this.count && (this.bits[n]! & bit) !== 0;
  }
}

/** Where a $FILE_NAME value (and an $I30 key, which is one) keeps its name: length @64, units from @66. */
const NAME_LENGTH = 64;
const NAME_UNITS = 66;

/**
 * FNV-1a-like over (owner, parent, name units), two seeds: a 53-bit key (never 0) with no realistic collision
 * among a volume's names. `v` is a $FILE_NAME value or an $I30 key; the name is read in place.
 */
export function nameKey(owner: number, parent: number, v: Uint8Array): number {
  let a = 0x811c9dc5;
  let b = 0x5bd1e995;
  const words = [owner | 0, Math.floor(owner / 0x100000000), parent | 0, Math.floor(parent / 0x100000000)];
  for (const w of words) {
    a = Math.imul(a ^ w, 0x01000193);
    b = Math.imul(b ^ w, 0x5bd1e995) ^ (b >>> 15);
  }
  const n = v[NAME_LENGTH]!;
  for (let i = 0; i < n; i++) {
    const u = v[NAME_UNITS + 2 * i]! | (v[NAME_UNITS + 2 * i + 1]! << 8);
    a = Math.imul(a ^ u, 0x01000193);
    b = Math.imul(b ^ u, 0x5bd1e995) ^ (b >>> 15);
  }
  a = Math.imul(a ^ n, 0x01000193);
  return (a >>> 11) * 0x100000000 + (b >>> 0) + 1;
}

/**
 * Every $FILE_NAME of the in-use records: who owns it, its parent, and how many index entries named it, found
 * by key through an open-addressing table in typed arrays (a Map of 200,000 numbers costs several times more).
 */
export class NameTable {
  private keys = new Float64Array(1 << 12);
  private slots = new Int32Array(1 << 12);
  owner: Float64Array<ArrayBuffer> = new Float64Array(1024);
  parent: Float64Array<ArrayBuffer> = new Float64Array(1024);
  parentSequence = new Uint16Array(1024);
  hits = new Uint8Array(1024);
  size = 0;

  private slotOf(key: number): number {
    const mask = this.keys.length - 1;
    let i = ((key % 0x100000000) >>> 0) & mask;
    while (this.keys[i] !== 0 && this.keys[i] !== key) i = (i + 1) & mask;
    return i;
  }

  add(owner: number, name: RecordName): void {
    const key = nameKey(owner, name.parent, name.value);
    let slot = this.slotOf(key);
    if (this.keys[slot] === key) return;
    if (this.size === this.owner.length) this.growArrays();
    if ((this.size + 1) * 2 > this.keys.length) {
      this.rehash();
      slot = this.slotOf(key);
    }
    const i = this.size++;
    this.keys[slot] = key;
    this.slots[slot] = i;
    this.owner[i] = owner;
    this.parent[i] = name.parent;
    this.parentSequence[i] = name.parentSequence;
  }

  /** Index of the name `key` (an $I30 key) gives for `owner` in directory `parent`, or -1. */
  find(owner: number, parent: number, key: Uint8Array): number {
    const k = nameKey(owner, parent, key);
    const slot = this.slotOf(k);
    return this.keys[slot] === k ? this.slots[slot]! : -1;
  }

  private rehash(): void {
    const oldKeys = this.keys;
    const oldSlots = this.slots;
    this.keys = new Float64Array(oldKeys.length * 2);
    this.slots = new Int32Array(oldKeys.length * 2);
    for (let j = 0; j < oldKeys.length; j++) {
      const k = oldKeys[j]!;
      if (k === 0) continue;
      const s = this.slotOf(k);
      this.keys[s] = k;
      this.slots[s] = oldSlots[j]!;
    }
  }

  private growArrays(): void {
    const n = this.owner.length * 2;
    const f = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.owner = f(this.owner);
    this.parent = f(this.parent);
    const s = new Uint16Array(n);
    s.set(this.parentSequence);
    this.parentSequence = s;
    const h = new Uint8Array(n);
    h.set(this.hits);
    this.hits = h;
  }
}
