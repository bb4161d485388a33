// Update sequence ("fixup") protection of multi-sector records (FILE, INDX, RSTR, RCRD): flatcap linux-ntfs
// ntfs/concepts/fixup.html; libfsntfs asciidoc §"The update (or fixup) sequence"; ntfs-3g layout.h NTFS_RECORD.
import { WinrescueError, hex, type ErrorCode } from '../../errors.js';
import { setU16 } from '../../util/bytes.js';
import { le16 } from './le.js';

/** The stride is 512 bytes whatever the sector size (ntfs-3g NTFS_BLOCK_SIZE). */
export const FIXUP_STRIDE = 512;
const USA_OFFSET_FIELD = 4;
const USA_COUNT_FIELD = 6;

export interface FixupWhere {
  /** "MFT record 2602", "index block 3 of record 5", for messages. */
  label: string;
  structure: string;
  /** Absolute device offset of the record. */
  base: number;
  record?: number;
  /** Code for a mismatching sequence word (default ntfs.tornRecord). */
  tornCode?: ErrorCode;
}

function badHeader(
  where: FixupWhere,
  message: string,
  field: number,
  expected: unknown,
  actual: unknown,
): never {
  throw new WinrescueError('ntfs.badRecord', `${where.label} at ${hex(where.base)}: ${message}`, {
    offset: where.base + field,
    structure: where.structure,
    record: where.record,
    expected,
    actual,
  });
}

/** Offset and word count of the update sequence array, validated against the record size. */
export function usaBounds(b: Uint8Array, where: FixupWhere): { usaOffset: number; usaCount: number } {
  const usaOffset = le16(b, USA_OFFSET_FIELD);
  const usaCount = le16(b, USA_COUNT_FIELD);
  const strides = b.length / FIXUP_STRIDE;
  if (!Number.isInteger(strides) || usaCount !== strides + 1) {
    badHeader(
      where,
      `update sequence count should be ${strides + 1}, is ${usaCount}`,
      USA_COUNT_FIELD,
      strides + 1,
      usaCount,
    );
  }
  if (usaOffset % 2 !== 0 || usaOffset < 8 || usaOffset + usaCount * 2 > FIXUP_STRIDE - 2) {
    badHeader(
      where,
      `update sequence array offset ${usaOffset} is impossible`,
      USA_OFFSET_FIELD,
      '8..510, even',
      usaOffset,
    );
  }
  return { usaOffset, usaCount };
}

/**
 * Verifies that every stride ends with the update sequence number, then puts the saved words back (in place).
 * A mismatch means a torn write: the record was only partly written.
 */
export function applyFixupsOnRead(b: Uint8Array, where: FixupWhere): void {
  const { usaOffset, usaCount } = usaBounds(b, where);
  const usn = le16(b, usaOffset);
  for (let i = 1; i < usaCount; i++) {
    const end = i * FIXUP_STRIDE - 2;
    const actual = le16(b, end);
    if (actual !== usn) {
      throw new WinrescueError(
        where.tornCode ?? 'ntfs.tornRecord',
        `${where.label} at ${hex(where.base)}: update sequence should be ${hex4(usn)}, is ${hex4(actual)} (at ${hex(where.base + end)})`,
        { offset: where.base + end, structure: where.structure, record: where.record, expected: usn, actual },
      );
    }
    b[end] = b[usaOffset + i * 2]!;
    b[end + 1] = b[usaOffset + i * 2 + 1]!;
  }
}

/**
 * The writer's half: picks the next update sequence number (never 0, which Windows avoids, nor 0xFFFF),
 * saves the last word of each stride into the array and stamps the number in its place (in place).
 */
export function applyFixupsOnWrite(b: Uint8Array, where: FixupWhere): number {
  const { usaOffset, usaCount } = usaBounds(b, where);
  let usn = (le16(b, usaOffset) + 1) & 0xffff;
  if (usn === 0 || usn === 0xffff) usn = 1;
  setU16(b, usaOffset, usn);
  for (let i = 1; i < usaCount; i++) {
    const end = i * FIXUP_STRIDE - 2;
    setU16(b, usaOffset + i * 2, le16(b, end));
    setU16(b, end, usn);
  }
  return usn;
}

export function hex4(n: number): string {
  return '0x' + n.toString(16).padStart(4, '0');
}
