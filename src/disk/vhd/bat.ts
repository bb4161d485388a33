// VHD block allocation table, Microsoft "Virtual Hard Disk Image Format Specification" v1.0 (2006), "Block
// Allocation Table and Data Blocks"; libyal libvhdi "Virtual Hard Disk (VHD) image format", §4. One big-endian u32
// per block: the file sector where the block (sector bitmap, then data) starts, or 0xFFFFFFFF when not allocated.
import { WinrescueError, hex } from '../../errors.js';
import { checkRange, setU32be, u32be } from '../../util/bytes.js';
import { VHD_SECTOR_SIZE } from './dynamic-header.js';

export const BAT_ENTRY_SIZE = 4;
export const UNALLOCATED = 0xffff_ffff;

/** The first `count` entries of a table read from `bytes` (file offset `base`), in host order. */
export function decodeBat(bytes: Uint8Array, count: number, base: number): Uint32Array {
  checkRange(bytes.length, 0, count * BAT_ENTRY_SIZE, { structure: 'vhd.bat', base, code: 'disk.truncated' });
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = u32be(bytes, i * BAT_ENTRY_SIZE);
  return out;
}

export function encodeBatEntries(entries: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(entries.length * BAT_ENTRY_SIZE);
  for (let i = 0; i < entries.length; i++) setU32be(out, i * BAT_ENTRY_SIZE, entries[i]!);
  return out;
}

/** A file range that blocks must stay clear of (footer copy, header, BAT, parent locator data). */
export interface ReservedRange {
  readonly name: string;
  readonly offset: number;
  readonly length: number;
}

export interface BatLayout {
  /** Names the image in messages: "dynamic VHD disk.vhd". */
  readonly what: string;
  /** File offset of the table, for the offsets of errors. */
  readonly tableOffset: number;
  /** Bitmap plus data bytes of each block. */
  readonly blockTotal: number;
  /** Where the footer starts: every block must end at or before it. */
  readonly limit: number;
  /** For messages. */
  readonly fileSize: number;
  readonly reserved: readonly ReservedRange[];
}

/**
 * Every allocated block must lie inside [0, limit), clear of the metadata, and apart from every other block:
 * overlapping blocks would make a write to one change the other. Returns the number of allocated blocks.
 */
export function validateBat(bat: Uint32Array, layout: BatLayout): number {
  const starts: { start: number; index: number }[] = [];
  for (let i = 0; i < bat.length; i++) {
    const entry = bat[i]!;
    if (entry === UNALLOCATED) continue;
    const start = entry * VHD_SECTOR_SIZE;
    const fail = (why: string, actual: unknown = start) =>
      new WinrescueError(
        'disk.badField',
        `${layout.what}: BAT entry ${i} points at sector ${hex(entry)}, ${why}`,
        {
          offset: layout.tableOffset + i * BAT_ENTRY_SIZE,
          structure: 'vhd.bat',
          record: i,
          actual,
        },
      );
    if (start + layout.blockTotal > layout.limit) {
      throw fail(`past the end of the file (${hex(layout.fileSize)} bytes)`);
    }
    for (const r of layout.reserved) {
      if (start < r.offset + r.length && r.offset < start + layout.blockTotal)
        throw fail(`inside the ${r.name} at ${hex(r.offset)}`);
    }
    starts.push({ start, index: i });
  }
  starts.sort((a, b) => a.start - b.start);
  for (let k = 1; k < starts.length; k++) {
    const prev = starts[k - 1]!;
    const cur = starts[k]!;
    if (cur.start < prev.start + layout.blockTotal) {
      throw new WinrescueError(
        'disk.badField',
        `${layout.what}: BAT entries ${prev.index} and ${cur.index} point at overlapping blocks (${hex(prev.start)} and ${hex(cur.start)})`,
        {
          offset: layout.tableOffset + cur.index * BAT_ENTRY_SIZE,
          structure: 'vhd.bat',
          record: cur.index,
          actual: cur.start,
        },
      );
    }
  }
  return starts.length;
}
