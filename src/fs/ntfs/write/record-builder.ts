// Building MFT records and attribute records (the writer's half of mft-record.ts and attribute.ts):
// flatcap linux-ntfs ntfs/concepts/file_record.html and attribute_header.html; ntfs-3g layout.h MFT_RECORD,
// ATTR_RECORD. Pure: bytes in, bytes out; the caller applies fixups and writes.
import { WinrescueError } from '../../../errors.js';
import { setU16, setU32, setU64 } from '../../../util/bytes.js';
import { le16, le32 } from '../le.js';
import { encodeRunlist, type DataRun } from '../runlist.js';

/** Attribute records are 8-byte aligned (ntfs-3g ATTR_RECORD). */
const ALIGN = 8;
/** Resident header: type..value offset and the indexed flag (24 bytes). */
const RESIDENT_HEADER = 24;
/** Non-resident header without the compressed-size field (64 bytes). */
const NONRESIDENT_HEADER = 64;
/** 0xFFFFFFFF plus 4 bytes of padding close the attribute sequence. */
const END_MARKER_BYTES = 8;
const ATTR_END = 0xffffffff;
export const RECORD_FIRST_ATTRIBUTE_FIELD = 20;
export const RECORD_BYTES_USED_FIELD = 24;
export const RECORD_NEXT_ATTRIBUTE_ID_FIELD = 40;
/** Resident values of indexed attributes ($FILE_NAME) carry this flag at offset 22. */
const RESIDENT_FLAG_INDEXED = 1;

export const align8 = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

function nameUnits(name: string): Uint8Array {
  const b = new Uint8Array(name.length * 2);
  for (let i = 0; i < name.length; i++) setU16(b, i * 2, name.charCodeAt(i));
  return b;
}

export function residentAttribute(
  type: number,
  name: string,
  id: number,
  value: Uint8Array,
  indexed = false,
): Uint8Array {
  const nameBytes = nameUnits(name);
  const valueOffset = align8(RESIDENT_HEADER + nameBytes.length);
  const b = new Uint8Array(align8(valueOffset + value.length));
  setU32(b, 0, type);
  setU32(b, 4, b.length);
  b[8] = 0;
  b[9] = name.length;
  setU16(b, 10, RESIDENT_HEADER);
  setU16(b, 14, id);
  setU32(b, 16, value.length);
  setU16(b, 20, valueOffset);
  b[22] = indexed ? RESIDENT_FLAG_INDEXED : 0;
  b.set(nameBytes, RESIDENT_HEADER);
  b.set(value, valueOffset);
  return b;
}

export interface NonResidentSizes {
  readonly dataSize: number;
  readonly initializedSize: number;
}

/** A whole (start VCN 0, uncompressed, not sparse) non-resident attribute over `runs`. */
export function nonResidentAttribute(
  type: number,
  name: string,
  id: number,
  runs: readonly DataRun[],
  clusterSize: number,
  sizes: NonResidentSizes,
): Uint8Array {
  const nameBytes = nameUnits(name);
  const runlistOffset = align8(NONRESIDENT_HEADER + nameBytes.length);
  const mapping = encodeRunlist(runs);
  const clusters = runs.reduce((n, r) => n + r.length, 0);
  const b = new Uint8Array(align8(runlistOffset + mapping.length));
  setU32(b, 0, type);
  setU32(b, 4, b.length);
  b[8] = 1;
  b[9] = name.length;
  setU16(b, 10, NONRESIDENT_HEADER);
  setU16(b, 14, id);
  setU64(b, 16, 0);
  // An empty attribute has last VCN -1.
  setU64(b, 24, BigInt(clusters - 1));
  setU16(b, 32, runlistOffset);
  setU64(b, 40, clusters * clusterSize);
  setU64(b, 48, sizes.dataSize);
  setU64(b, 56, sizes.initializedSize);
  b.set(nameBytes, NONRESIDENT_HEADER);
  b.set(mapping, runlistOffset);
  return b;
}

/** The attribute record bytes of `record` at `offset` (length from its header). */
export function attributeBytes(record: Uint8Array, offset: number): Uint8Array {
  return record.slice(offset, offset + le32(record, offset + 4));
}

/**
 * Rebuilds a record (fixups undone) with `attributes` (whole attribute records, any order: sorted here by
 * type, then name, as NTFS requires) after the unchanged header. Throws `ntfs.full` when they do not fit.
 */
export function rebuildRecord(
  old: Uint8Array,
  attributes: readonly Uint8Array[],
  record: number,
): Uint8Array {
  const first = le16(old, RECORD_FIRST_ATTRIBUTE_FIELD);
  const sorted = [...attributes].sort((a, b) => le32(a, 0) - le32(b, 0) || nameCompare(a, b));
  const used = first + sorted.reduce((n, a) => n + a.length, 0) + END_MARKER_BYTES;
  if (used > old.length) {
    throw new WinrescueError(
      'ntfs.full',
      `MFT record ${record}: the attributes need ${used} bytes, the record holds ${old.length}`,
      { structure: 'ntfs.mftRecord', record, expected: `<= ${old.length}`, actual: used },
    );
  }
  const b = new Uint8Array(old.length);
  b.set(old.subarray(0, first));
  let at = first;
  for (const a of sorted) {
    b.set(a, at);
    at += a.length;
  }
  setU32(b, at, ATTR_END);
  setU32(b, RECORD_BYTES_USED_FIELD, used);
  return b;
}

/** Bytes a record would use with these attributes (header included). */
export function recordBytesNeeded(old: Uint8Array, attributes: readonly Uint8Array[]): number {
  return (
    le16(old, RECORD_FIRST_ATTRIBUTE_FIELD) + attributes.reduce((n, a) => n + a.length, 0) + END_MARKER_BYTES
  );
}

function nameCompare(a: Uint8Array, b: Uint8Array): number {
  const name = (x: Uint8Array): string => {
    const n = x[9]!;
    const off = le16(x, 10);
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(le16(x, off + i * 2));
    return s;
  };
  const x = name(a);
  const y = name(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Takes the next attribute id from the record header (and advances it). */
export function takeAttributeId(record: Uint8Array): number {
  const id = le16(record, RECORD_NEXT_ATTRIBUTE_ID_FIELD);
  setU16(record, RECORD_NEXT_ATTRIBUTE_ID_FIELD, (id + 1) & 0xffff);
  return id;
}
