// Old-format log body: the DIRT dirty vector and the dirty pages after it.
// Spec: msuhanov regf spec, "Old format" → "Dirty vector" and "Dirty pages" (and their notes).
import { hex } from '../../errors.js';
import { checkRange } from '../../util/bytes.js';
import { badLog, LOG_BASE_BLOCK_SIZE, type LogBaseBlock } from './log-base-block.js';

/** One bit per 512-byte page of the hive bins data, whatever the disk's sector size. */
export const DIRT_PAGE_SIZE = 512;
const SIGNATURE = [0x44, 0x49, 0x52, 0x54]; // 'DIRT'
const SIGNATURE_SIZE = 4;

export interface DirtyPage {
  /** Relative to the start of the hive bins data (file offset = 4096 + offset). */
  readonly offset: number;
  /** Where the page's 512 bytes start in the log file. */
  readonly dataOffset: number;
}

export interface DirtyVector {
  /** Sector size of the log (clustering factor × 512): the vector and the pages start on sector boundaries. */
  readonly sectorSize: number;
  readonly bitmapBits: number;
  /** Dirty pages in bitmap order (ascending offsets). */
  readonly pages: readonly DirtyPage[];
}

const roundUp = (x: number, to: number): number => Math.ceil(x / to) * to;

/**
 * Parses the dirty vector of an old-format log whose base block is `base`; every dirty page must be present
 * (a short log is `regf.badLog`: without per-page checksums, half a log cannot be applied safely).
 */
export function parseDirtyVector(log: Uint8Array, base: LogBaseBlock): DirtyVector {
  const structure = 'regf.dirtyVector';
  const where = { structure, code: 'regf.badLog' as const };
  const sectorSize = Math.max(1, base.clusteringFactor) * LOG_BASE_BLOCK_SIZE;
  const start = sectorSize;
  checkRange(log.length, start, SIGNATURE_SIZE, where);
  if (!SIGNATURE.every((c, i) => log[start + i] === c))
    throw badLog(`dirty vector at ${hex(start)}: signature 'DIRT' expected`, start, structure);
  const bitmapBits = base.hiveBinsDataSize / DIRT_PAGE_SIZE;
  const bitmapBytes = Math.ceil(bitmapBits / 8);
  const bitmap = start + SIGNATURE_SIZE;
  checkRange(log.length, bitmap, bitmapBytes, where);
  const pagesStart = roundUp(bitmap + bitmapBytes, sectorSize);
  const pages: DirtyPage[] = [];
  for (let bit = 0; bit < bitmapBits; bit++) {
    // Bits are packed least-significant first (the bt instruction's order).
    if ((log[bitmap + (bit >>> 3)]! >>> (bit & 7)) & 1) {
      pages.push({ offset: bit * DIRT_PAGE_SIZE, dataOffset: pagesStart + pages.length * DIRT_PAGE_SIZE });
    }
  }
  const end = pagesStart + pages.length * DIRT_PAGE_SIZE;
  if (end > log.length)
    throw badLog(
      `dirty pages at ${hex(pagesStart)}: ${pages.length} pages need ${hex(end)} bytes, the log has ${hex(log.length)}`,
      pagesStart,
      structure,
      log.length,
    );
  return { sectorSize, bitmapBits, pages };
}
