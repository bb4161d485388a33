// Record allocation through $MFT's own $BITMAP attribute (flatcap linux-ntfs files/mft.html, attributes/bitmap.html):
// one bit per record, least significant bit first. Records below 24 are reserved for system files (0-15 used,
// 16-23 kept free by Windows), so new files start at 24. A freed record is reused with its sequence number bumped,
// so stale references (sequence mismatch) never reach the new file.
import { WinrescueError } from '../../../errors.js';
import { ATTR } from '../attribute.js';
import { AttributeStream } from '../data-stream.js';
import { findAttribute } from '../file-record.js';
import { le16 } from '../le.js';
import type { DataRun } from '../runlist.js';
import type { NtfsVolume } from '../volume.js';

export const FIRST_USER_RECORD = 24;
/** Sequence numbers wrap to 1: 0 means "any" in some references. */
const MAX_SEQUENCE = 0xffff;
const MFT_RECORD_IN_USE = 1;

export interface MftBitmap {
  bits: Uint8Array;
  /** null when the bitmap is resident in record 0. */
  runs: readonly DataRun[] | null;
  changedLow: number;
  changedHigh: number;
}

export async function loadMftBitmap(vol: NtfsVolume): Promise<MftBitmap> {
  const mft = await vol.file(0);
  const a = findAttribute(mft, ATTR.BITMAP);
  if (!a)
    throw new WinrescueError('ntfs.badAttribute', '$MFT has no $BITMAP', {
      record: 0,
      structure: 'ntfs.mftBitmap',
    });
  if (a.resident) return { bits: a.value!.slice(), runs: null, changedLow: -1, changedHigh: -1 };
  if (a.runlistError) throw a.runlistError;
  const bits = await new AttributeStream(vol.io, a, { label: '$MFT bitmap', record: 0 }).readAll();
  return { bits: bits.slice(), runs: a.runs, changedLow: -1, changedHigh: -1 };
}

export function isRecordUsed(bm: MftBitmap, n: number): boolean {
  return (bm.bits[n >> 3]! & (1 << (n & 7))) !== 0;
}

export function setRecordUsed(bm: MftBitmap, n: number, used: boolean): void {
  const i = n >> 3;
  bm.bits[i] = used ? bm.bits[i]! | (1 << (n & 7)) : bm.bits[i]! & ~(1 << (n & 7));
  if (bm.changedLow < 0 || i < bm.changedLow) bm.changedLow = i;
  if (i > bm.changedHigh) bm.changedHigh = i;
}

/**
 * A free record (bit clear, and not a record that still says it is in use) and the sequence number it takes.
 * `taken` are records already promised in this operation.
 */
export async function pickFreeRecord(
  vol: NtfsVolume,
  bm: MftBitmap,
  taken: ReadonlySet<number> = new Set(),
): Promise<{ record: number; sequence: number }> {
  const limit = Math.min(vol.mftRecordCount, bm.bits.length * 8);
  for (let n = FIRST_USER_RECORD; n < limit; n++) {
    if (isRecordUsed(bm, n) || taken.has(n)) continue;
    const raw = await vol.readMftBytes(n, 1);
    const isFile = raw[0] === 0x46 && raw[1] === 0x49 && raw[2] === 0x4c && raw[3] === 0x45;
    if (isFile && (le16(raw, 22) & MFT_RECORD_IN_USE) !== 0) continue;
    const old = isFile ? le16(raw, 16) : 0;
    const sequence = old >= MAX_SEQUENCE || old === 0 ? 1 : old + 1;
    return { record: n, sequence };
  }
  throw new WinrescueError(
    'ntfs.full',
    `$MFT has no free record (${vol.mftRecordCount} records); extending $MFT is not supported`,
    { structure: 'ntfs.mftBitmap', record: 0, actual: vol.mftRecordCount },
  );
}
