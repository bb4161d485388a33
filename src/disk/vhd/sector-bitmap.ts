// VHD sector bitmap, Microsoft "Virtual Hard Disk Image Format Specification" v1.0 (2006), "Block Allocation Table
// and Data Blocks" → Sector bitmap; libyal libvhdi §5.1. One bit per 512-byte sector of the block, the most
// significant bit of byte 0 being sector 0. Set: the sector's data is in this file. Clear: zeros (dynamic) or the
// parent's data (differencing).

export function bitIsSet(bitmap: Uint8Array, sector: number): boolean {
  return (bitmap[sector >>> 3]! & (0x80 >>> (sector & 7))) !== 0;
}

/** Sets the bits of sectors [first, first+count). */
export function setBits(bitmap: Uint8Array, first: number, count: number): void {
  for (let s = first; s < first + count; s++) bitmap[s >>> 3]! |= 0x80 >>> (s & 7);
}

/** Whether every sector in [first, first+count) is set: lets a read of a full block skip the run scan. */
export function allSet(bitmap: Uint8Array, first: number, count: number): boolean {
  let s = first;
  const end = first + count;
  while (s < end && (s & 7) !== 0) if (!bitIsSet(bitmap, s++)) return false;
  while (s + 8 <= end) {
    if (bitmap[s >>> 3] !== 0xff) return false;
    s += 8;
  }
  while (s < end) if (!bitIsSet(bitmap, s++)) return false;
  return true;
}

export interface SectorRun {
  readonly first: number;
  readonly count: number;
  readonly present: boolean;
}

/** The sectors [first, first+count) as maximal runs of equal bits, in order. */
export function sectorRuns(bitmap: Uint8Array, first: number, count: number): SectorRun[] {
  const runs: SectorRun[] = [];
  let start = first;
  let present = bitIsSet(bitmap, first);
  for (let s = first + 1; s < first + count; s++) {
    const bit = bitIsSet(bitmap, s);
    if (bit !== present) {
      runs.push({ first: start, count: s - start, present });
      start = s;
      present = bit;
    }
  }
  runs.push({ first: start, count: first + count - start, present });
  return runs;
}
