// Dynamic and differencing VHDs, Microsoft "Virtual Hard Disk Image Format Specification" v1.0 (2006), "Dynamic
// Hard Disk Image", "Implementing a Dynamic Disk", "Implementing a Differencing Hard Disk": the disk is cut into
// blocks; the BAT maps each to a place in the file holding a sector bitmap then the data. Reads honour the bitmap;
// writes (dynamic only) allocate blocks at the end of the file, where the footer was.
import { WinrescueError, hex } from '../../errors.js';
import { type BlockDevice, type ImageFile, checkDeviceRange, readOnlyError } from '../block-device.js';
import { BAT_ENTRY_SIZE, UNALLOCATED, encodeBatEntries } from './bat.js';
import { VHD_SECTOR_SIZE, bitmapSizeFor, type VhdDynamicHeader } from './dynamic-header.js';
import type { VhdFooter } from './footer.js';
import { allSet, bitIsSet, sectorRuns, setBits } from './sector-bitmap.js';
import { VhdDevice } from './vhd-device.js';

/**
 * New blocks are placed so that their data starts on a 4 KiB boundary, as Windows lays them out: guest pages
 * then map onto whole host pages. The few bytes skipped are zeroed.
 */
const BLOCK_DATA_ALIGNMENT = 4096;
/** Sector bitmaps kept in memory: 16 MiB holds every bitmap of a 64 TiB disk of 2 MiB blocks at 512 B each. */
const BITMAP_CACHE_BYTES = 16 * 1024 * 1024;
/** Largest sector number a BAT entry can hold (0xFFFFFFFF means unallocated): files stop growing at ~2 TiB. */
const MAX_BAT_SECTOR = 0xffff_fffe;

export interface SparseLayout {
  readonly header: VhdDynamicHeader;
  readonly tableOffset: number;
  /** The first ceil(size / blockSize) entries of the table. */
  readonly bat: Uint32Array;
  /** Where the footer at the end of the file starts. */
  readonly footerOffset: number;
  readonly parent?: BlockDevice;
  readonly parentPath?: string;
}

interface Segment {
  readonly block: number;
  /** Byte offset inside the block's data. */
  readonly inBlock: number;
  readonly length: number;
  /** Offset inside the caller's buffer. */
  readonly at: number;
}

export class VhdSparseDevice extends VhdDevice {
  readonly format: 'vhd-dynamic' | 'vhd-differencing';
  readonly blockSize: number;
  /** Bytes of sector bitmap in front of each block's data. */
  readonly bitmapSize: number;
  readonly tableOffset: number;
  readonly parent: BlockDevice | undefined;
  readonly parentPath: string | undefined;
  private readonly dynamicHeader: VhdDynamicHeader;
  private readonly bat: Uint32Array;
  private currentFooterOffset: number;
  private readonly bitmaps = new Map<number, Uint8Array>();
  private writing: Promise<void> = Promise.resolve();

  constructor(
    file: ImageFile,
    footer: VhdFooter,
    size: number,
    readOnly: boolean,
    warnings: readonly string[],
    layout: SparseLayout,
  ) {
    const differencing = layout.parent !== undefined;
    super(file, footer, size, readOnly, warnings, differencing ? 'differencing' : 'dynamic');
    this.format = differencing ? 'vhd-differencing' : 'vhd-dynamic';
    this.dynamicHeader = layout.header;
    this.blockSize = layout.header.blockSize;
    this.bitmapSize = bitmapSizeFor(this.blockSize);
    this.tableOffset = layout.tableOffset;
    this.bat = layout.bat;
    this.currentFooterOffset = layout.footerOffset;
    this.parent = layout.parent;
    this.parentPath = layout.parentPath;
  }

  override get header(): VhdDynamicHeader {
    return this.dynamicHeader;
  }

  /** Bitmap plus data bytes of one block in the file. */
  get blockTotal(): number {
    return this.bitmapSize + this.blockSize;
  }

  /** Blocks the virtual disk is cut into. */
  get blockCount(): number {
    return this.bat.length;
  }

  get allocatedBlockCount(): number {
    let n = 0;
    for (let i = 0; i < this.bat.length; i++) if (this.bat[i] !== UNALLOCATED) n++;
    return n;
  }

  /** File offset of the footer at the end (moves as blocks are added). */
  get footerOffset(): number {
    return this.currentFooterOffset;
  }

  /** File offset where block `index` starts (its bitmap), or undefined when it is not allocated. */
  blockOffset(index: number): number | undefined {
    const e = this.bat[index];
    return e === undefined || e === UNALLOCATED ? undefined : e * VHD_SECTOR_SIZE;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkDeviceRange(this, offset, length);
    const direct = await this.readWithinPresentSectors(offset, length);
    if (direct !== undefined) return direct;
    const out = new Uint8Array(length);
    for (const s of this.segments(offset, length)) await this.readSegment(s, offset + s.at, out);
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw readOnlyError(this, offset);
    checkDeviceRange(this, offset, data.length);
    // One write at a time: two concurrent writes into the same unallocated block would otherwise both allocate it.
    const run = this.writing.then(() => this.writeNow(offset, data));
    this.writing = run.catch(() => undefined);
    return run;
  }

  private async writeNow(offset: number, data: Uint8Array): Promise<void> {
    const segs = [...this.segments(offset, data.length)];
    const fresh = segs.filter((s) => this.bat[s.block] === UNALLOCATED);
    if (fresh.length > 0) await this.allocate(fresh, data);
    for (const s of segs) if (!fresh.includes(s)) await this.writeAllocated(s, data);
  }

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      await this.parent?.close();
    }
  }

  private *segments(offset: number, length: number): Generator<Segment> {
    let at = 0;
    while (at < length) {
      const pos = offset + at;
      const block = Math.floor(pos / this.blockSize);
      const inBlock = pos - block * this.blockSize;
      const n = Math.min(this.blockSize - inBlock, length - at);
      yield { block, inBlock, length: n, at };
      at += n;
    }
  }

  /** A read inside one block whose sectors are all present is one file read, handed back without a copy. */
  private async readWithinPresentSectors(offset: number, length: number): Promise<Uint8Array | undefined> {
    const block = Math.floor(offset / this.blockSize);
    const inBlock = offset - block * this.blockSize;
    const entry = this.bat[block];
    if (length === 0 || inBlock + length > this.blockSize || entry === undefined || entry === UNALLOCATED)
      return undefined;
    const first = Math.floor(inBlock / VHD_SECTOR_SIZE);
    const count = Math.floor((inBlock + length - 1) / VHD_SECTOR_SIZE) - first + 1;
    if (!allSet(await this.bitmapOf(block), first, count)) return undefined;
    return this.file.read(entry * VHD_SECTOR_SIZE + this.bitmapSize + inBlock, length);
  }

  private async readSegment(s: Segment, diskPos: number, out: Uint8Array): Promise<void> {
    const entry = this.bat[s.block]!;
    if (entry === UNALLOCATED) return this.readAbsent(out, s.at, diskPos, s.length);
    const dataStart = entry * VHD_SECTOR_SIZE + this.bitmapSize;
    const bitmap = await this.bitmapOf(s.block);
    const first = Math.floor(s.inBlock / VHD_SECTOR_SIZE);
    const count = Math.floor((s.inBlock + s.length - 1) / VHD_SECTOR_SIZE) - first + 1;
    if (allSet(bitmap, first, count)) {
      out.set(await this.file.read(dataStart + s.inBlock, s.length), s.at);
      return;
    }
    for (const run of sectorRuns(bitmap, first, count)) {
      const lo = Math.max(run.first * VHD_SECTOR_SIZE, s.inBlock);
      const hi = Math.min((run.first + run.count) * VHD_SECTOR_SIZE, s.inBlock + s.length);
      const at = s.at + (lo - s.inBlock);
      if (run.present) out.set(await this.file.read(dataStart + lo, hi - lo), at);
      else await this.readAbsent(out, at, diskPos + (lo - s.inBlock), hi - lo);
    }
  }

  /** Sectors not in this file: the parent's bytes, or zeros (already in `out`) for a dynamic disk. */
  private async readAbsent(out: Uint8Array, at: number, diskPos: number, length: number): Promise<void> {
    if (this.parent === undefined) return;
    // A parent smaller than the child reads as zeros past its end.
    const end = Math.min(diskPos + length, this.parent.size);
    if (end > diskPos) out.set(await this.parent.read(diskPos, end - diskPos), at);
  }

  private async bitmapOf(block: number): Promise<Uint8Array> {
    const cached = this.bitmaps.get(block);
    if (cached !== undefined) return cached;
    const bitmap = await this.file.read(this.bat[block]! * VHD_SECTOR_SIZE, this.bitmapSize);
    this.remember(block, bitmap);
    return bitmap;
  }

  private remember(block: number, bitmap: Uint8Array): void {
    this.bitmaps.delete(block);
    while (this.bitmaps.size > 0 && (this.bitmaps.size + 1) * this.bitmapSize > BITMAP_CACHE_BYTES) {
      this.bitmaps.delete(this.bitmaps.keys().next().value!);
    }
    this.bitmaps.set(block, bitmap);
  }

  /**
   * Adds the blocks of `fresh` at the end of the file. Order, with a flush after each of the first two steps:
   * (1) the footer at the new end of the file, (2) each block's bitmap and data, over the old footer, (3) the BAT
   * entries. A crash at any point leaves a file whose last 512 bytes are a valid footer and whose BAT points only
   * at complete blocks: at worst some space after the last referenced block is unused.
   */
  private async allocate(fresh: readonly Segment[], data: Uint8Array): Promise<void> {
    const placed: { seg: Segment; start: number }[] = [];
    let cursor = this.currentFooterOffset;
    for (const seg of fresh) {
      const start = alignUp(cursor + this.bitmapSize, BLOCK_DATA_ALIGNMENT) - this.bitmapSize;
      if (start / VHD_SECTOR_SIZE > MAX_BAT_SECTOR) {
        throw new WinrescueError(
          'disk.unsupported',
          `${this.description}: a new block at ${hex(start)} is beyond what a BAT entry can address`,
          {
            offset: start,
            structure: 'vhd.bat',
            expected: `<= ${hex(MAX_BAT_SECTOR * VHD_SECTOR_SIZE)}`,
            actual: start,
          },
        );
      }
      placed.push({ seg, start });
      cursor = start + this.blockTotal;
    }

    const oldFooterOffset = this.currentFooterOffset;
    await this.file.write(cursor, this.footer.raw);
    // From here the file ends with this footer whatever happens next.
    this.currentFooterOffset = cursor;
    await this.file.flush();

    const bitmaps: Uint8Array[] = [];
    let from = oldFooterOffset;
    for (const { seg, start } of placed) {
      const buf = new Uint8Array(start - from + this.blockTotal);
      const blockAt = start - from;
      const bitmap = buf.subarray(blockAt, blockAt + this.bitmapSize);
      const first = Math.floor(seg.inBlock / VHD_SECTOR_SIZE);
      const last = Math.floor((seg.inBlock + seg.length - 1) / VHD_SECTOR_SIZE);
      setBits(bitmap, first, last - first + 1);
      buf.set(data.subarray(seg.at, seg.at + seg.length), blockAt + this.bitmapSize + seg.inBlock);
      await this.file.write(from, buf);
      bitmaps.push(bitmap.slice());
      from = start + this.blockTotal;
    }
    await this.file.flush();

    const blocks = placed.map((p) => p.seg.block);
    const lo = Math.min(...blocks);
    const hi = Math.max(...blocks);
    const entries = this.bat.slice(lo, hi + 1);
    for (const { seg, start } of placed) entries[seg.block - lo] = start / VHD_SECTOR_SIZE;
    await this.file.write(this.tableOffset + lo * BAT_ENTRY_SIZE, encodeBatEntries(entries));
    this.bat.set(entries, lo);
    placed.forEach((p, i) => this.remember(p.seg.block, bitmaps[i]!));
  }

  /**
   * A write into an allocated block: data first, then the bitmap bits, so a crash in between leaves the sectors
   * reading as before. A sector whose bit was clear is written whole, zeros around the new bytes, since that is
   * what it read as.
   */
  private async writeAllocated(s: Segment, data: Uint8Array): Promise<void> {
    const blockStart = this.bat[s.block]! * VHD_SECTOR_SIZE;
    const dataStart = blockStart + this.bitmapSize;
    const chunk = data.subarray(s.at, s.at + s.length);
    const bitmap = await this.bitmapOf(s.block);
    const first = Math.floor(s.inBlock / VHD_SECTOR_SIZE);
    const last = Math.floor((s.inBlock + s.length - 1) / VHD_SECTOR_SIZE);
    const count = last - first + 1;
    if (allSet(bitmap, first, count)) {
      await this.file.write(dataStart + s.inBlock, chunk);
      return;
    }
    const lo = first * VHD_SECTOR_SIZE;
    const buf = new Uint8Array(count * VHD_SECTOR_SIZE);
    if (s.inBlock > lo && bitIsSet(bitmap, first)) {
      buf.set(await this.file.read(dataStart + lo, VHD_SECTOR_SIZE), 0);
    }
    const tail = (last + 1) * VHD_SECTOR_SIZE;
    if (s.inBlock + s.length < tail && bitIsSet(bitmap, last) && (last !== first || s.inBlock === lo)) {
      buf.set(
        await this.file.read(dataStart + last * VHD_SECTOR_SIZE, VHD_SECTOR_SIZE),
        buf.length - VHD_SECTOR_SIZE,
      );
    }
    buf.set(chunk, s.inBlock - lo);
    await this.file.write(dataStart + lo, buf);

    const updated = bitmap.slice();
    setBits(updated, first, count);
    // Whole bitmap sectors, the unit a disk writes atomically.
    const from = Math.floor((first >>> 3) / VHD_SECTOR_SIZE) * VHD_SECTOR_SIZE;
    const to = alignUp((last >>> 3) + 1, VHD_SECTOR_SIZE);
    await this.file.write(blockStart + from, updated.subarray(from, to));
    this.remember(s.block, updated);
  }
}

function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
