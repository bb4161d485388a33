// LZNT1 decompression of NTFS compression units: [MS-XCA] 2.5 "LZNT1 Algorithm Details"; flatcap linux-ntfs
// ntfs/concepts/compression.html; ntfs-3g compress.c (behaviour of short chunks only).
import { WinrescueError, hex } from '../../errors.js';

/** Every chunk decompresses to at most 4 KiB; a chunk that yields less is followed by zeros up to 4 KiB. */
export const LZNT1_CHUNK = 4096;
const CHUNK_SIZE_MASK = 0x0fff;
const CHUNK_COMPRESSED = 0x8000;
/** Back-references copy at least 3 bytes. */
const MIN_MATCH = 3;

export interface Lznt1Where {
  label: string;
  /** Absolute offset of the compressed bytes, when they are contiguous; else 0. */
  base: number;
  record?: number;
}

function bad(where: Lznt1Where, at: number, message: string): never {
  throw new WinrescueError(
    'ntfs.badCompression',
    `${where.label}: LZNT1 data at +${at}${where.base ? ` (${hex(where.base + at)})` : ''}: ${message}`,
    {
      offset: where.base ? where.base + at : undefined,
      structure: 'ntfs.lznt1',
      record: where.record,
    },
  );
}

/**
 * Decompresses `src` (one compression unit's chunks) into `out`, which is pre-zeroed and sized to the unit.
 * Returns the number of bytes of `out` covered by chunks (the rest stays zero).
 */
export function decompressLznt1(src: Uint8Array, out: Uint8Array, where: Lznt1Where): number {
  let inPos = 0;
  let outPos = 0;
  while (inPos + 2 <= src.length && outPos < out.length) {
    const header = src[inPos]! | (src[inPos + 1]! << 8);
    if (header === 0) break;
    const size = (header & CHUNK_SIZE_MASK) + 1;
    const dataStart = inPos + 2;
    const dataEnd = dataStart + size;
    if (dataEnd > src.length)
      bad(where, inPos, `chunk of ${size} bytes runs past the ${src.length} bytes of the unit`);
    const chunkStart = outPos;
    const chunkEnd = Math.min(chunkStart + LZNT1_CHUNK, out.length);
    if ((header & CHUNK_COMPRESSED) === 0) {
      const n = Math.min(size, chunkEnd - chunkStart);
      out.set(src.subarray(dataStart, dataStart + n), chunkStart);
    } else {
      let p = dataStart;
      let o = chunkStart;
      while (p < dataEnd && o < chunkEnd) {
        const flags = src[p++]!;
        for (let bit = 0; bit < 8 && p < dataEnd && o < chunkEnd; bit++) {
          if ((flags & (1 << bit)) === 0) {
            out[o++] = src[p++]!;
            continue;
          }
          if (p + 2 > dataEnd) bad(where, p, 'back-reference cut off by the end of its chunk');
          const token = src[p]! | (src[p + 1]! << 8);
          p += 2;
          // The split between displacement and length moves with the position in the chunk (MS-XCA 2.5.1.1).
          const pos = o - chunkStart;
          let lengthBits = 12;
          for (let q = pos - 1; q >= 0x10; q >>= 1) lengthBits--;
          const length = (token & ((1 << lengthBits) - 1)) + MIN_MATCH;
          const displacement = (token >>> lengthBits) + 1;
          if (displacement > pos)
            bad(
              where,
              p - 2,
              `back-reference ${displacement} bytes before the start of its chunk (at ${pos})`,
            );
          const end = Math.min(o + length, chunkEnd);
          for (; o < end; o++) out[o] = out[o - displacement]!;
        }
      }
    }
    outPos = chunkEnd;
    inPos = dataEnd;
  }
  return outPos;
}
