// Cell allocator over a growable copy of a hive file. Spec: msuhanov regf spec, "Hive bin", "Cell",
// "Unallocated cell" (free neighbours are coalesced); base block "Hive bins data size".
import { WinrescueError, hex } from '../../errors.js';
import { i32, setU32, u32 } from '../../util/bytes.js';
import { BASE_BLOCK_SIZE, baseBlockChecksum } from '../base-block.js';
import { HBIN_ALIGN, HBIN_HEADER_SIZE, parseHiveBin } from '../hive-bin.js';
import { type Cell, BINS_START, cellError, readCell } from '../cells/cell.js';

/** Cell sizes are multiples of 8; a free cell needs its size field and one more dword, so 8 is the minimum. */
const CELL_ALIGN = 8;
const MIN_CELL = 8;
const SIZE_FIELD = 4;
/** Base block field holding the hive bins data size. */
const BINS_SIZE_FIELD = 40;
const CHECKSUM_FIELD = 508;
/** Windows refuses to load hives of 2 GiB or more; we never grow one past that. */
const MAX_BINS_SIZE = 0x8000_0000 - BASE_BLOCK_SIZE - HBIN_ALIGN;
const HBIN_SIGNATURE = [0x68, 0x62, 0x69, 0x6e];

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/**
 * Owns the hive bytes while they are edited: knows every bin, every free cell (indexed by size for best fit,
 * by start and end for coalescing) and every allocated cell start, all from one scan at open.
 */
export class CellAllocator {
  private buf: Uint8Array;
  private fileLength: number;
  private binsSize: number;
  /** Distinct free sizes, ascending, for the best-fit search. */
  private readonly sizes: number[] = [];
  private readonly bySize = new Map<number, Set<number>>();
  private readonly freeAt = new Map<number, number>();
  private readonly freeEndingAt = new Map<number, number>();
  private readonly allocated = new Set<number>();

  constructor(bytes: Uint8Array) {
    this.binsSize = u32(bytes, BINS_SIZE_FIELD);
    if (BINS_START + this.binsSize > bytes.length) {
      throw new WinrescueError(
        'regf.badBaseBlock',
        `hive base block at 0x28: hive bins data size ${hex(this.binsSize)} runs past the ${bytes.length}-byte file`,
        {
          offset: BINS_SIZE_FIELD,
          structure: 'regf.baseBlock',
          expected: `<= ${bytes.length - BINS_START}`,
          actual: this.binsSize,
        },
      );
    }
    this.buf = bytes.slice();
    this.fileLength = bytes.length;
    this.scan();
  }

  /** The whole file as it stands (valid until the next allocation, which may move the buffer). */
  get bytes(): Uint8Array {
    return this.buf.subarray(0, this.fileLength);
  }

  get hiveBinsDataSize(): number {
    return this.binsSize;
  }

  /** Every bin must be tiled exactly by well-formed cells, or we cannot tell free space from data. */
  private scan(): void {
    const end = BINS_START + this.binsSize;
    for (let abs = BINS_START; abs < end;) {
      const bin = parseHiveBin(this.buf, abs);
      if (abs + bin.size > end) {
        throw new WinrescueError(
          'regf.badBin',
          `hive bin at ${hex(abs)}: size ${hex(bin.size)} runs past the hive bins data`,
          {
            offset: abs,
            structure: 'regf.hbin',
            actual: bin.size,
          },
        );
      }
      for (let c = abs + HBIN_HEADER_SIZE; c < abs + bin.size;) {
        const raw = i32(this.buf, c);
        const size = Math.abs(raw);
        if (raw === 0 || size < MIN_CELL || size % CELL_ALIGN !== 0 || c + size > abs + bin.size) {
          throw cellError(
            c,
            `cell size ${raw} does not tile its hive bin (bin at ${hex(abs)}, ${hex(bin.size)} bytes)`,
            'aligned, inside the bin',
            raw,
          );
        }
        if (raw < 0) this.allocated.add(c - BINS_START);
        else this.indexFree(c - BINS_START, size);
        c += size;
      }
      abs += bin.size;
    }
  }

  isAllocated(rel: number): boolean {
    return this.allocated.has(rel);
  }

  /**
   * The allocated cell at `rel`, bounds-checked by the read side's one cell helper, and only where the scan (or an
   * allocation since) found a cell start: a damaged offset into the middle of another cell is refused here, before
   * anything is written through it.
   */
  cell(rel: number): Cell {
    const cell = readCell(this.buf, rel, BINS_START + this.binsSize);
    if (!this.allocated.has(rel)) throw cellError(cell.abs, 'offset points into the middle of another cell');
    return cell;
  }

  /** Absolute file offset of a cell's payload. */
  payloadAbs(rel: number): number {
    return BINS_START + rel + SIZE_FIELD;
  }

  /** A new allocated cell with at least `payload` zeroed bytes: best fit among free cells, else a new bin. */
  alloc(payload: number): number {
    const need = Math.max(MIN_CELL, alignUp(payload + SIZE_FIELD, CELL_ALIGN));
    let rel = this.bestFit(need);
    if (rel === undefined) {
      this.appendBin(need);
      rel = this.bestFit(need);
      if (rel === undefined)
        throw new WinrescueError('internal', `no free cell of ${need} bytes after growing the hive`);
    }
    const size = this.freeAt.get(rel)!;
    this.unindexFree(rel, size);
    let taken = size;
    if (size - need >= MIN_CELL) {
      // The remainder stays a valid free cell in the same bin.
      this.indexFree(rel + need, size - need);
      setU32(this.buf, BINS_START + rel + need, size - need);
      taken = need;
    }
    setU32(this.buf, BINS_START + rel, -taken);
    this.buf.fill(0, BINS_START + rel + SIZE_FIELD, BINS_START + rel + taken);
    this.allocated.add(rel);
    return rel;
  }

  /**
   * Frees an allocated cell: its payload is zeroed (removed data leaves no remnants for carving tools to
   * mistake for live records, and our output is deterministic), then it merges with free neighbours in its bin.
   */
  free(rel: number): void {
    if (!this.allocated.has(rel)) throw cellError(BINS_START + rel, 'freeing a cell that is not allocated');
    const abs = BINS_START + rel;
    let start = rel;
    let size = -i32(this.buf, abs);
    this.allocated.delete(rel);
    this.buf.fill(0, abs + SIZE_FIELD, abs + size);
    // A cell never starts at a bin boundary (a header sits there), so neighbours found here share our bin.
    const next = this.freeAt.get(rel + size);
    if (next !== undefined) {
      this.unindexFree(rel + size, next);
      this.buf.fill(0, abs + size, abs + size + SIZE_FIELD);
      size += next;
    }
    const prev = this.freeEndingAt.get(rel);
    if (prev !== undefined) {
      const prevSize = this.freeAt.get(prev)!;
      this.unindexFree(prev, prevSize);
      this.buf.fill(0, abs, abs + SIZE_FIELD);
      start = prev;
      size += prevSize;
    }
    setU32(this.buf, BINS_START + start, size);
    this.indexFree(start, size);
  }

  /**
   * A cell with room for `payload` bytes holding the old cell's content: the same cell when it is big enough or
   * can take the free cell right after it, else a new cell (old content copied, old cell freed).
   */
  realloc(rel: number, payload: number): number {
    const abs = BINS_START + rel;
    const cur = -i32(this.buf, abs);
    const need = Math.max(MIN_CELL, alignUp(payload + SIZE_FIELD, CELL_ALIGN));
    if (cur >= need) return rel;
    const next = this.freeAt.get(rel + cur);
    if (next !== undefined && cur + next >= need) {
      this.unindexFree(rel + cur, next);
      let grown = cur + next;
      if (grown - need >= MIN_CELL) {
        this.indexFree(rel + need, grown - need);
        setU32(this.buf, abs + need, grown - need);
        grown = need;
      }
      this.buf.fill(0, abs + cur, abs + grown);
      setU32(this.buf, abs, -grown);
      return rel;
    }
    const moved = this.alloc(payload);
    const from = BINS_START + rel + SIZE_FIELD;
    this.buf.copyWithin(this.payloadAbs(moved), from, from + cur - SIZE_FIELD);
    this.free(rel);
    return moved;
  }

  private bestFit(need: number): number | undefined {
    let lo = 0;
    let hi = this.sizes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sizes[mid]! < need) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.sizes.length) return undefined;
    const set = this.bySize.get(this.sizes[lo]!)!;
    return set.values().next().value;
  }

  private indexFree(rel: number, size: number): void {
    let set = this.bySize.get(size);
    if (!set) {
      set = new Set();
      this.bySize.set(size, set);
      this.sizes.splice(this.lowerBound(size), 0, size);
    }
    set.add(rel);
    this.freeAt.set(rel, size);
    this.freeEndingAt.set(rel + size, rel);
  }

  private unindexFree(rel: number, size: number): void {
    const set = this.bySize.get(size)!;
    set.delete(rel);
    if (set.size === 0) {
      this.bySize.delete(size);
      this.sizes.splice(this.lowerBound(size), 1);
    }
    this.freeAt.delete(rel);
    this.freeEndingAt.delete(rel + size);
  }

  private lowerBound(size: number): number {
    let lo = 0;
    let hi = this.sizes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sizes[mid]! < size) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Appends a bin (a 4 KiB multiple) big enough for a cell of `need` bytes, over any slack after the bins. */
  private appendBin(need: number): void {
    const size = alignUp(need + HBIN_HEADER_SIZE, HBIN_ALIGN);
    const rel = this.binsSize;
    if (rel + size > MAX_BINS_SIZE) {
      throw new WinrescueError(
        'regf.full',
        `hive would grow past ${hex(MAX_BINS_SIZE)} bytes of hive bins (Windows' 2 GiB limit)`,
        {
          structure: 'regf.hbin',
          expected: `<= ${MAX_BINS_SIZE}`,
          actual: rel + size,
        },
      );
    }
    const abs = BINS_START + rel;
    this.ensureCapacity(abs + size);
    this.buf.fill(0, abs, abs + size);
    this.buf.set(HBIN_SIGNATURE, abs);
    setU32(this.buf, abs + 4, rel);
    setU32(this.buf, abs + 8, size);
    setU32(this.buf, abs + HBIN_HEADER_SIZE, size - HBIN_HEADER_SIZE);
    this.indexFree(rel + HBIN_HEADER_SIZE, size - HBIN_HEADER_SIZE);
    this.binsSize += size;
    this.fileLength = Math.max(this.fileLength, BINS_START + this.binsSize);
    setU32(this.buf, BINS_SIZE_FIELD, this.binsSize);
    // Keep the live base block self-consistent so read views of the edit in progress do not look dirty.
    setU32(this.buf, CHECKSUM_FIELD, baseBlockChecksum(this.buf));
  }

  private ensureCapacity(n: number): void {
    if (n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(n, Math.floor(this.buf.length * 1.5)));
    grown.set(this.buf.subarray(0, this.fileLength));
    this.buf = grown;
  }

  /** Free bytes in free cells (for tests and reports). */
  freeBytes(): number {
    let n = 0;
    for (const size of this.freeAt.values()) n += size;
    return n;
  }
}
