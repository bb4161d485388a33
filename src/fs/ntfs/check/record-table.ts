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

/** FNV-1a over 32-bit words, two seeds: a 53-bit key with no realistic collision among a volume's names. */
export function nameKey(owner: number, parent: number, units: ArrayLike<number>): number {
  let a = 0x811c9dc5;
  let b = 0x5bd1e995;
  const words = [owner | 0, Math.floor(owner / 0x100000000), parent | 0, Math.floor(parent / 0x100000000)];
  for (let i = 0; i < words.length + units.length + 1; i++) {
    const v =
      i < words.length
        ? words[i]!
        : i - words.length < units.length
          ? units[i - words.length]!
          : units.length;
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 11) * 0x100000000 + (b >>> 0);
}

/** Every $FILE_NAME of the in-use records: who owns it, its parent, and how many index entries named it. */
export class NameTable {
  private readonly index = new Map<number, number>();
  owner: Float64Array<ArrayBuffer> = new Float64Array(1024);
  parent: Float64Array<ArrayBuffer> = new Float64Array(1024);
  parentSequence = new Uint16Array(1024);
  hits = new Uint8Array(1024);
  size = 0;

  add(owner: number, name: RecordName): void {
    const key = nameKey(owner, name.parent, name.units);
    if (this.index.has(key)) return;
    if (this.size === this.owner.length) this.grow();
    const i = this.size++;
    this.index.set(key, i);
    this.owner[i] = owner;
    this.parent[i] = name.parent;
    this.parentSequence[i] = name.parentSequence;
  }

  find(owner: number, parent: number, units: ArrayLike<number>): number {
    return this.index.get(nameKey(owner, parent, units)) ?? -1;
  }

  private grow(): void {
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
