// What a listing needs from an MFT record, read without building attribute objects: flags, sequence, base
// reference, the $DATA streams' names and sizes, the named indexes. Same layout sources as mft-record.ts and
// attribute.ts (flatcap linux-ntfs concepts/file_record.html, attribute_header.html). Records with an
// attribute list are only flagged: their attributes live in other records and need the full resolver.
import { WinrescueError, hex } from '../../errors.js';
import {
  ATTR,
  ATTR_END,
  ATTR_FLAG_COMPRESSED_MASK,
  ATTR_FLAG_ENCRYPTED,
  ATTR_FLAG_SPARSE,
} from './attribute.js';
import { le16, le32, le64, utf16 } from './le.js';
import { checkRecordHeader, MFT_RECORD_IN_USE, MFT_RECORD_IS_DIRECTORY } from './mft-record.js';
import type { StreamInfo } from './stat.js';

export interface RecordSummary {
  readonly record: number;
  readonly offset: number;
  readonly sequence: number;
  readonly inUse: boolean;
  readonly isDirectory: boolean;
  readonly baseRecord: number;
  readonly hasAttributeList: boolean;
  readonly streams: StreamInfo[];
  /** Named $INDEX_ROOTs other than $I30, with their value sizes. */
  readonly indexes: { name: string; rootSize: number }[];
  /** $I30 root value size, or -1 when the record has no $I30 (not a directory). */
  readonly i30RootSize: number;
}

function bad(n: number, base: number, at: number, message: string): never {
  throw new WinrescueError(
    'ntfs.badAttribute',
    `MFT record ${n} at ${hex(base)}: attribute at +${at}: ${message}`,
    {
      offset: base + at,
      structure: 'ntfs.attribute',
      record: n,
    },
  );
}

/** Summarizes a record read from disk (fixups undone in place). Throws typed errors like parseMftRecord. */
export function summarizeMftRecord(
  raw: Uint8Array,
  n: number,
  base: number,
  fixupsUndone = false,
): RecordSummary {
  const h = checkRecordHeader(raw, n, base, fixupsUndone);
  const streams: StreamInfo[] = [];
  const indexes: { name: string; rootSize: number }[] = [];
  let i30RootSize = -1;
  let hasAttributeList = false;
  const used = h.bytesUsed;
  let off = h.firstAttribute;
  for (let count = 0; ; count++) {
    if (off + 4 > used || count > 512)
      bad(n, base, off, 'attributes run past the used size without an end marker');
    const type = le32(raw, off);
    if (type === ATTR_END) break;
    if (off + 16 > used) bad(n, base, off, 'header crosses the used size');
    const length = le32(raw, off + 4);
    if (length < 16 || length % 8 !== 0 || off + length > used)
      bad(n, base, off, `length ${length} is impossible`);
    if (type === ATTR.ATTRIBUTE_LIST) hasAttributeList = true;
    if (type === ATTR.DATA || type === ATTR.INDEX_ROOT) {
      const nonResident = raw[off + 8]!;
      const nameLength = raw[off + 9]!;
      const nameOffset = le16(raw, off + 10);
      if (nameOffset + nameLength * 2 > length) bad(n, base, off, 'name lies outside the attribute');
      const name = nameLength ? utf16(raw, off + nameOffset, nameLength * 2) : '';
      const flags = le16(raw, off + 12);
      let size: number;
      let allocated: number;
      let first = true;
      let compressed = false;
      if (nonResident === 0) {
        if (length < 24) bad(n, base, off, 'resident header is cut short');
        size = le32(raw, off + 16);
        if (le16(raw, off + 20) + size > length) bad(n, base, off, 'value lies outside the attribute');
        allocated = size;
      } else {
        if (length < 64) bad(n, base, off, 'non-resident header is cut short');
        first = le64(raw, off + 16) === 0;
        allocated = le64(raw, off + 40);
        size = le64(raw, off + 48);
        if (allocated < 0 || size < 0) bad(n, base, off, 'size out of range');
        const unit = le16(raw, off + 34);
        compressed = unit > 0 && (flags & ATTR_FLAG_COMPRESSED_MASK) !== 0;
        if (unit > 0 && first && length >= 72) allocated = Math.max(0, le64(raw, off + 64));
      }
      if (type === ATTR.DATA && first) {
        streams.push({
          name,
          size,
          allocatedSize: allocated,
          resident: nonResident === 0,
          compressed,
          sparse: (flags & ATTR_FLAG_SPARSE) !== 0,
          encrypted: (flags & ATTR_FLAG_ENCRYPTED) !== 0,
        });
      } else if (type === ATTR.INDEX_ROOT) {
        if (name === '$I30') i30RootSize = size;
        else indexes.push({ name, rootSize: size });
      }
    }
    off += length;
  }
  return {
    record: n,
    offset: base,
    sequence: h.sequence,
    inUse: (h.flags & MFT_RECORD_IN_USE) !== 0,
    isDirectory: (h.flags & MFT_RECORD_IS_DIRECTORY) !== 0,
    baseRecord: le32(raw, 32) + le16(raw, 36) * 0x100000000,
    hasAttributeList,
    streams,
    indexes,
    i30RootSize,
  };
}

/** The scan's reusable result: the common case (at most an unnamed $DATA, no named index) without allocation. */
export interface ScanSlot {
  sequence: number;
  flags: number;
  baseRecord: number;
  /** Attribute list, named or several $DATA, named index: ask summarizeMftRecord(raw, n, base, true). */
  needsFull: boolean;
  i30RootSize: number;
  hasData: boolean;
  size: number;
  allocated: number;
  resident: boolean;
  compressed: boolean;
  sparse: boolean;
  encrypted: boolean;
}

export function newScanSlot(): ScanSlot {
  return {
    sequence: 0,
    flags: 0,
    baseRecord: 0,
    needsFull: false,
    i30RootSize: -1,
    hasData: false,
    size: 0,
    allocated: 0,
    resident: false,
    compressed: false,
    sparse: false,
    encrypted: false,
  };
}

/** "$I30" in UTF-16LE. */
const I30 = [0x24, 0, 0x49, 0, 0x33, 0, 0x30, 0];

/**
 * Fills `slot` from a record (fixups undone in place), with the same checks as summarizeMftRecord but no
 * allocation: a whole-volume scan meets 200,000 records and most are one name and one unnamed $DATA.
 */
export function scanMftRecord(raw: Uint8Array, n: number, base: number, slot: ScanSlot): void {
  const h = checkRecordHeader(raw, n, base);
  slot.sequence = h.sequence;
  slot.flags = h.flags;
  slot.baseRecord = le32(raw, 32) + le16(raw, 36) * 0x100000000;
  slot.needsFull = false;
  slot.i30RootSize = -1;
  slot.hasData = false;
  const used = h.bytesUsed;
  let off = h.firstAttribute;
  for (let count = 0; ; count++) {
    if (off + 4 > used || count > 512)
      bad(n, base, off, 'attributes run past the used size without an end marker');
    const type = le32(raw, off);
    if (type === ATTR_END) break;
    if (off + 16 > used) bad(n, base, off, 'header crosses the used size');
    const length = le32(raw, off + 4);
    if (length < 16 || length % 8 !== 0 || off + length > used)
      bad(n, base, off, `length ${length} is impossible`);
    if (type === ATTR.ATTRIBUTE_LIST) slot.needsFull = true;
    if (type === ATTR.DATA || type === ATTR.INDEX_ROOT) {
      const nonResident = raw[off + 8]!;
      const nameLength = raw[off + 9]!;
      const nameOffset = le16(raw, off + 10);
      if (nameOffset + nameLength * 2 > length) bad(n, base, off, 'name lies outside the attribute');
      let size: number;
      let allocated: number;
      let first = true;
      let unit = 0;
      if (nonResident === 0) {
        if (length < 24) bad(n, base, off, 'resident header is cut short');
        size = le32(raw, off + 16);
        if (le16(raw, off + 20) + size > length) bad(n, base, off, 'value lies outside the attribute');
        allocated = size;
      } else {
        if (length < 64) bad(n, base, off, 'non-resident header is cut short');
        first = le64(raw, off + 16) === 0;
        allocated = le64(raw, off + 40);
        size = le64(raw, off + 48);
        if (allocated < 0 || size < 0) bad(n, base, off, 'size out of range');
        unit = le16(raw, off + 34);
        if (unit > 0 && first && length >= 72) allocated = Math.max(0, le64(raw, off + 64));
      }
      if (type === ATTR.INDEX_ROOT) {
        let isI30 = nameLength === 4;
        for (let i = 0; isI30 && i < 8; i++) isI30 = raw[off + nameOffset + i] === I30[i];
        if (isI30) slot.i30RootSize = size;
        else slot.needsFull = true;
      } else if (first) {
        if (nameLength > 0 || slot.hasData) slot.needsFull = true;
        const flags = le16(raw, off + 12);
        slot.hasData = true;
        slot.size = size;
        slot.allocated = allocated;
        slot.resident = nonResident === 0;
        slot.compressed = unit > 0 && (flags & ATTR_FLAG_COMPRESSED_MASK) !== 0;
        slot.sparse = (flags & ATTR_FLAG_SPARSE) !== 0;
        slot.encrypted = (flags & ATTR_FLAG_ENCRYPTED) !== 0;
      }
    }
    off += length;
  }
}
