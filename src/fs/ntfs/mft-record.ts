// MFT file records ("FILE"): flatcap linux-ntfs ntfs/concepts/file_record.html and file_reference.html;
// libfsntfs asciidoc §"The MFT entry"; ntfs-3g layout.h MFT_RECORD.
import { WinrescueError, hex } from '../../errors.js';
import { ascii, u64 } from '../../util/bytes.js';
import { le16, le32 } from './le.js';
import { applyFixupsOnRead } from './fixup.js';
import { ATTR_END, parseAttribute, type Attribute } from './attribute.js';

export const SIGNATURE_FILE = 'FILE';
/** chkdsk marks records it found torn as BAAD: treat as damaged. */
export const SIGNATURE_BAAD = 'BAAD';

export const MFT_RECORD_IN_USE = 0x0001;
export const MFT_RECORD_IS_DIRECTORY = 0x0002;
export const MFT_RECORD_IN_EXTEND = 0x0004;
export const MFT_RECORD_IS_VIEW_INDEX = 0x0008;

// A file reference is a 48-bit record number and, in its high 16 bits, the record's sequence number.
/** NTFS 3.1 records store their own number at 44 when the update sequence array starts at 48 or later. */
const RECORD_NUMBER_FIELD = 44;
const HEADER_WITH_NUMBER = 48;
/** An attribute sequence longer than this many entries in one record is corrupt (a record holds < 1 KiB / 24). */
const MAX_ATTRIBUTES_PER_RECORD = 512;

export interface FileReference {
  readonly record: number;
  readonly sequence: number;
}

export function parseFileReference(b: Uint8Array, at: number): FileReference {
  return { record: le32(b, at) + le16(b, at + 4) * 0x100000000, sequence: le16(b, at + 6) };
}

export interface MftRecord {
  readonly recordNumber: number;
  /** Absolute device offset of the record. */
  readonly offset: number;
  readonly signature: string;
  readonly lsn: bigint;
  readonly sequence: number;
  readonly linkCount: number;
  readonly flags: number;
  readonly inUse: boolean;
  readonly isDirectory: boolean;
  readonly bytesUsed: number;
  readonly bytesAllocated: number;
  /** Zero record for a base record; else the base record this extension belongs to. */
  readonly baseReference: FileReference;
  readonly nextAttributeId: number;
  /** The number the record says it has (NTFS 3.1), else null. */
  readonly storedNumber: number | null;
  readonly attributes: readonly Attribute[];
  /** The record bytes with fixups undone. */
  readonly bytes: Uint8Array;
}

function bad(
  n: number,
  base: number,
  message: string,
  field: number,
  expected?: unknown,
  actual?: unknown,
): never {
  throw new WinrescueError('ntfs.badRecord', `MFT record ${n} at ${hex(base)}: ${message}`, {
    offset: base + field,
    structure: 'ntfs.mftRecord',
    record: n,
    expected,
    actual,
  });
}

/**
 * Parses an MFT record read from disk (fixups still applied on disk; `raw` is modified in place).
 * `base` is the record's absolute offset and `recordNumber` the number we read it as.
 */
export interface RecordHeader {
  readonly usaOffset: number;
  readonly sequence: number;
  readonly linkCount: number;
  readonly firstAttribute: number;
  readonly flags: number;
  readonly bytesUsed: number;
  readonly bytesAllocated: number;
}

const FILE_MAGIC = [0x46, 0x49, 0x4c, 0x45];

/**
 * Checks the signature, undoes the fixups (in place) and validates the header fields every reader relies on.
 * Shared by the full parser and the listing summary.
 */
export function checkRecordHeader(
  raw: Uint8Array,
  recordNumber: number,
  base: number,
  fixupsUndone = false,
): RecordHeader {
  if (
    raw[0] !== FILE_MAGIC[0] ||
    raw[1] !== FILE_MAGIC[1] ||
    raw[2] !== FILE_MAGIC[2] ||
    raw[3] !== FILE_MAGIC[3]
  ) {
    const signature = ascii(raw, 0, 4);
    if (signature === SIGNATURE_BAAD)
      bad(recordNumber, base, 'marked BAAD by chkdsk (torn write)', 0, SIGNATURE_FILE, signature);
    bad(
      recordNumber,
      base,
      `signature should be "FILE", is ${JSON.stringify(signature)}`,
      0,
      SIGNATURE_FILE,
      signature,
    );
  }
  if (!fixupsUndone)
    applyFixupsOnRead(raw, {
      label: `MFT record ${recordNumber}`,
      structure: 'ntfs.mftRecord',
      base,
      record: recordNumber,
    });
  const usaOffset = le16(raw, 4);
  const firstAttribute = le16(raw, 20);
  const bytesUsed = le32(raw, 24);
  const bytesAllocated = le32(raw, 28);
  if (bytesAllocated !== raw.length) {
    bad(
      recordNumber,
      base,
      `allocated size should be ${raw.length}, is ${bytesAllocated}`,
      28,
      raw.length,
      bytesAllocated,
    );
  }
  if (bytesUsed > raw.length || bytesUsed < firstAttribute + 4) {
    bad(
      recordNumber,
      base,
      `used size ${bytesUsed} is impossible`,
      24,
      `${firstAttribute + 4}..${raw.length}`,
      bytesUsed,
    );
  }
  if (firstAttribute % 8 !== 0 || firstAttribute < usaOffset) {
    bad(
      recordNumber,
      base,
      `first attribute offset ${firstAttribute} is impossible`,
      20,
      '8-aligned, after the header',
      firstAttribute,
    );
  }
  return {
    usaOffset,
    sequence: le16(raw, 16),
    linkCount: le16(raw, 18),
    firstAttribute,
    flags: le16(raw, 22),
    bytesUsed,
    bytesAllocated,
  };
}

export function parseMftRecord(
  raw: Uint8Array,
  recordNumber: number,
  base: number,
  totalClusters: number,
): MftRecord {
  const { usaOffset, sequence, linkCount, firstAttribute, flags, bytesUsed, bytesAllocated } =
    checkRecordHeader(raw, recordNumber, base);
  const signature = SIGNATURE_FILE;
  const storedNumber = usaOffset >= HEADER_WITH_NUMBER ? le32(raw, RECORD_NUMBER_FIELD) : null;
  const where = { base, record: recordNumber, totalClusters };
  const attributes: Attribute[] = [];
  let off = firstAttribute;
  for (;;) {
    if (off + 4 > bytesUsed)
      bad(
        recordNumber,
        base,
        `attributes run past the used size ${bytesUsed} without an end marker`,
        off,
        ATTR_END,
      );
    if (le32(raw, off) === ATTR_END) break;
    if (attributes.length >= MAX_ATTRIBUTES_PER_RECORD) bad(recordNumber, base, 'too many attributes', off);
    const a = parseAttribute(raw, off, bytesUsed, where);
    attributes.push(a);
    off += a.length;
  }
  return {
    recordNumber,
    offset: base,
    signature,
    lsn: u64(raw, 8),
    sequence,
    linkCount,
    flags,
    inUse: (flags & MFT_RECORD_IN_USE) !== 0,
    isDirectory: (flags & MFT_RECORD_IS_DIRECTORY) !== 0,
    bytesUsed,
    bytesAllocated,
    baseReference: parseFileReference(raw, 32),
    nextAttributeId: le16(raw, 40),
    storedNumber,
    attributes,
    bytes: raw,
  };
}
