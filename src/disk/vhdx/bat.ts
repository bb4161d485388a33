// VHDX block allocation table, [MS-VHDX] §2.4 (payload and sector bitmap blocks, chunk ratio) and §2.5 (BAT,
// entry states). One 64-bit entry per block: State in bits 0-2, 17 reserved bits, FileOffsetMB in bits 20-63.
// Payload entries are interleaved with sector bitmap entries: each chunk's `chunkRatio` payload entries are
// followed by the entry of the sector bitmap block that covers them.
import { WinrescueError, hex } from '../../errors.js';
import { u32 } from '../../util/bytes.js';
import { HEADER_SECTION_SIZE, MIB, SECTORS_PER_BITMAP_BLOCK, SECTOR_BITMAP_BLOCK_SIZE } from './constants.js';

export const BAT_ENTRY_SIZE = 8;

/** §2.5.1.1 payload block states (4 and 5 are reserved). */
export const PayloadState = {
  notPresent: 0,
  undefined: 1,
  zero: 2,
  unmapped: 3,
  fullyPresent: 6,
  partiallyPresent: 7,
} as const;

/** §2.5.1.2 sector bitmap block states (1-5 and 7 are reserved). */
export const BitmapState = { notPresent: 0, present: 6 } as const;

const STATE_MASK = 0x7;
/** FileOffsetMB starts at bit 20: the low word's top 12 bits, then the whole high word. */
const OFFSET_SHIFT_LOW = 20;
const LOW_WORD_OFFSET_UNITS = 2 ** 12;

export interface BatEntry {
  readonly state: number;
  /** FileOffsetMB: the block's file offset in MiB. */
  readonly offsetMB: number;
}

export interface BatGeometry {
  readonly blockSize: number;
  readonly logicalSectorSize: number;
  readonly virtualDiskSize: number;
  readonly hasParent: boolean;
  /** Payload blocks per sector bitmap block (§2.4). */
  readonly chunkRatio: number;
  readonly payloadBlocks: number;
  /** Entries we read: up to the last payload entry, or up to the last sector bitmap entry for a child. */
  readonly entryCount: number;
}

export function batGeometry(p: {
  blockSize: number;
  logicalSectorSize: number;
  virtualDiskSize: number;
  hasParent: boolean;
}): BatGeometry {
  const chunkRatio = (SECTORS_PER_BITMAP_BLOCK * p.logicalSectorSize) / p.blockSize;
  const payloadBlocks = Math.ceil(p.virtualDiskSize / p.blockSize);
  const lastBlock = payloadBlocks - 1;
  const entryCount = p.hasParent
    ? bitmapEntryIndex(Math.floor(lastBlock / chunkRatio), chunkRatio) + 1
    : payloadEntryIndex(lastBlock, chunkRatio) + 1;
  return { ...p, chunkRatio, payloadBlocks, entryCount };
}

export function payloadEntryIndex(block: number, chunkRatio: number): number {
  return block + Math.floor(block / chunkRatio);
}

export function bitmapEntryIndex(chunk: number, chunkRatio: number): number {
  return chunk * (chunkRatio + 1) + chunkRatio;
}

export function decodeBatEntry(bat: Uint8Array, index: number): BatEntry {
  const o = index * BAT_ENTRY_SIZE;
  const low = u32(bat, o);
  const high = u32(bat, o + 4);
  return { state: low & STATE_MASK, offsetMB: high * LOW_WORD_OFFSET_UNITS + (low >>> OFFSET_SHIFT_LOW) };
}

/** The 8 bytes of an entry with reserved bits zero. */
export function encodeBatEntry(state: number, offsetMB: number): Uint8Array {
  const out = new Uint8Array(BAT_ENTRY_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint32(
    0,
    (((offsetMB % LOW_WORD_OFFSET_UNITS) << OFFSET_SHIFT_LOW) | (state & STATE_MASK)) >>> 0,
    true,
  );
  dv.setUint32(4, Math.floor(offsetMB / LOW_WORD_OFFSET_UNITS), true);
  return out;
}

/** File ranges a block must not overlap (§2.2.3.2): log, BAT and metadata regions. */
export interface ReservedRange {
  readonly what: string;
  readonly start: number;
  readonly end: number;
}

/**
 * Checks every entry against the file and the rest of the layout (§2.5.1): states defined for this disk type,
 * offsets past the header section and inside the file, no block shared by two entries, no block over the log or a
 * region. Returns a message per faulty entry; those entries fail when accessed, the others stay readable.
 */
export function scanBat(
  bat: Uint8Array,
  g: BatGeometry,
  fileSize: number,
  reserved: readonly ReservedRange[],
  name: string,
): Map<number, string> {
  const problems = new Map<number, string>();
  const claims: { index: number; start: number; end: number }[] = [];
  const claim = (index: number, offsetMB: number, bytes: number, kind: string): void => {
    const start = offsetMB * MIB;
    const end = start + bytes;
    const say = (why: string) => problems.set(index, `VHDX ${name}: BAT entry ${index} (${kind}) ${why}`);
    if (start < HEADER_SECTION_SIZE) return void say(`points at ${hex(start)}, inside the header section`);
    if (end > fileSize)
      return void say(`points at ${hex(start)}, past the end of the file (${hex(fileSize)} bytes)`);
    for (const r of reserved) {
      if (start < r.end && r.start < end)
        return void say(`points at ${hex(start)}, over the ${r.what} (${hex(r.start)}-${hex(r.end)})`);
    }
    claims.push({ index, start, end });
  };
  for (let block = 0; block < g.payloadBlocks; block++) {
    const index = payloadEntryIndex(block, g.chunkRatio);
    const e = decodeBatEntry(bat, index);
    const used = Math.min(g.blockSize, g.virtualDiskSize - block * g.blockSize);
    switch (e.state) {
      case PayloadState.notPresent:
      case PayloadState.undefined:
      case PayloadState.zero:
      case PayloadState.unmapped:
        break;
      case PayloadState.partiallyPresent:
        if (!g.hasParent) {
          problems.set(
            index,
            `VHDX ${name}: BAT entry ${index} is PARTIALLY_PRESENT, a state only a differencing VHDX may use`,
          );
          break;
        }
        claim(index, e.offsetMB, used, `block ${block}`);
        break;
      case PayloadState.fullyPresent:
        claim(index, e.offsetMB, used, `block ${block}`);
        break;
      default:
        problems.set(index, `VHDX ${name}: BAT entry ${index} has the reserved payload state ${e.state}`);
    }
  }
  if (g.hasParent) {
    for (let chunk = 0; chunk * g.chunkRatio < g.payloadBlocks; chunk++) {
      const index = bitmapEntryIndex(chunk, g.chunkRatio);
      const e = decodeBatEntry(bat, index);
      if (e.state === BitmapState.present)
        claim(index, e.offsetMB, SECTOR_BITMAP_BLOCK_SIZE, `sector bitmap ${chunk}`);
      else if (e.state !== BitmapState.notPresent) {
        problems.set(
          index,
          `VHDX ${name}: BAT entry ${index} has the reserved sector bitmap state ${e.state}`,
        );
      }
    }
  }
  // Two entries sharing file space would cross-link blocks: sort by start and compare neighbours.
  claims.sort((a, b) => a.start - b.start);
  let last: { index: number; end: number } | undefined;
  for (const c of claims) {
    if (last && c.start < last.end) {
      problems.set(
        c.index,
        `VHDX ${name}: BAT entry ${c.index} points at ${hex(c.start)}, which BAT entry ${last.index} also uses`,
      );
      continue;
    }
    last = c;
  }
  return problems;
}

/** The typed error for an access to a faulty entry found by scanBat. */
export function batEntryError(message: string, batOffset: number, index: number): WinrescueError {
  return new WinrescueError('disk.badField', message, {
    offset: batOffset + index * BAT_ENTRY_SIZE,
    structure: 'vhdx.bat',
    record: index,
  });
}
