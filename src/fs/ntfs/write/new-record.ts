// A new MFT record and the attribute values a new file or directory starts with: flatcap linux-ntfs
// concepts/file_record.html (header), attributes/standard_information.html (72-byte NTFS 3.x value),
// attributes/file_name.html, attributes/index_root.html and concepts/index_header.html (an empty $I30 root).
import { WinrescueError } from '../../../errors.js';
import { setU16, setU32, setU64 } from '../../../util/bytes.js';
import { ATTR } from '../attribute.js';
import { COLLATION, INDEX_ROOT_HEADER } from '../attributes/index-root.js';
import { FILE_ATTRIBUTE } from '../attributes/standard-information.js';
import { MFT_RECORD_IN_USE, MFT_RECORD_IS_DIRECTORY } from '../mft-record.js';
import { ENTRY_LAST } from './index-edit.js';
import { align8, rebuildRecord, residentAttribute } from './record-builder.js';

/** NTFS 3.1 header: the update sequence array starts at 48, after the record's own number at 44. */
const USA_OFFSET = 48;
const RECORD_NUMBER_FIELD = 44;
/** $STANDARD_INFORMATION of NTFS 3.x: 72 bytes, security id at 52. */
export const SI_LENGTH = 72;
const SI_FILE_ATTRIBUTES = 32;
const SI_SECURITY_ID = 52;
/** $FILE_NAME: name at 66. */
const FN_NAME = 66;
export const NAMESPACE_WIN32 = 1;
/** Longest NTFS name in UTF-16 units. */
export const MAX_NAME_UNITS = 255;
/** Characters Win32 names cannot hold (besides the control characters below 0x20). */
const WIN32_FORBIDDEN = '"*/:<>?\\|';
const FIRST_PRINTABLE = 0x20;
/** The end entry of an empty index node: 16 bytes, flag LAST. */
const END_ENTRY_LENGTH = 16;

export function checkWin32Name(name: string, path: string): void {
  if (
    name === '' ||
    name === '.' ||
    name === '..' ||
    name.length > MAX_NAME_UNITS ||
    [...name].some((c) => c.charCodeAt(0) < FIRST_PRINTABLE || WIN32_FORBIDDEN.includes(c))
  ) {
    throw new WinrescueError('ntfs.unsupported', `${path}: "${name}" is not a valid Windows file name`, {
      path,
      actual: name,
    });
  }
}

/** An empty, in-use record `n` with sequence `sequence` (no attributes yet). */
export function emptyRecord(
  recordSize: number,
  n: number,
  sequence: number,
  isDirectory: boolean,
): Uint8Array {
  const b = new Uint8Array(recordSize);
  b.set([0x46, 0x49, 0x4c, 0x45]); // "FILE"
  const usaCount = recordSize / 512 + 1;
  setU16(b, 4, USA_OFFSET);
  setU16(b, 6, usaCount);
  setU16(b, 16, sequence);
  setU16(b, 18, 1); // link count
  const first = align8(USA_OFFSET + usaCount * 2);
  setU16(b, 20, first);
  setU16(b, 22, MFT_RECORD_IN_USE | (isDirectory ? MFT_RECORD_IS_DIRECTORY : 0));
  setU32(b, 24, first + 8);
  setU32(b, 28, recordSize);
  setU16(b, 40, 0); // next attribute id
  setU32(b, RECORD_NUMBER_FIELD, n);
  setU16(b, USA_OFFSET, 1);
  return rebuildRecord(b, [], n);
}

export function standardInformation(time: bigint, fileAttributes: number, securityId: number): Uint8Array {
  const v = new Uint8Array(SI_LENGTH);
  for (let i = 0; i < 4; i++) setU64(v, i * 8, time);
  setU32(v, SI_FILE_ATTRIBUTES, fileAttributes);
  setU32(v, SI_SECURITY_ID, securityId);
  return v;
}

export interface FileNameFields {
  parentRecord: number;
  parentSequence: number;
  time: bigint;
  allocatedSize: number;
  dataSize: number;
  fileAttributes: number;
  name: string;
  namespace: number;
}

export function fileNameValue(f: FileNameFields): Uint8Array {
  const v = new Uint8Array(FN_NAME + f.name.length * 2);
  setU32(v, 0, f.parentRecord % 0x100000000);
  setU16(v, 4, Math.floor(f.parentRecord / 0x100000000));
  setU16(v, 6, f.parentSequence);
  for (let i = 0; i < 4; i++) setU64(v, 8 + i * 8, f.time);
  setU64(v, 40, f.allocatedSize);
  setU64(v, 48, f.dataSize);
  setU32(v, 56, f.fileAttributes);
  v[64] = f.name.length;
  v[65] = f.namespace;
  for (let i = 0; i < f.name.length; i++) setU16(v, FN_NAME + i * 2, f.name.charCodeAt(i));
  return v;
}

/** The value of an empty $I30 $INDEX_ROOT (one end entry, no children). */
export function emptyIndexRoot(indexBlockSize: number, clusterSize: number): Uint8Array {
  const v = new Uint8Array(INDEX_ROOT_HEADER + 16 + END_ENTRY_LENGTH);
  setU32(v, 0, ATTR.FILE_NAME);
  setU32(v, 4, COLLATION.FILENAME);
  setU32(v, 8, indexBlockSize);
  v[12] = indexBlockSize >= clusterSize ? indexBlockSize / clusterSize : indexBlockSize / 512;
  const h = INDEX_ROOT_HEADER;
  setU32(v, h, 16);
  setU32(v, h + 4, 16 + END_ENTRY_LENGTH);
  setU32(v, h + 8, 16 + END_ENTRY_LENGTH);
  setU16(v, h + 16 + 8, END_ENTRY_LENGTH);
  setU32(v, h + 16 + 12, ENTRY_LAST);
  return v;
}

export const FILE_ATTRIBUTES_NEW_FILE = FILE_ATTRIBUTE.ARCHIVE;
/** Directories carry this in $FILE_NAME (and index entries): "has an $I30 index". */
export const FILE_NAME_DIRECTORY = FILE_ATTRIBUTE.DUP_FILE_NAME_INDEX_PRESENT;

/**
 * Attributes of a new record: $STANDARD_INFORMATION, $FILE_NAME, then empty $DATA or an empty $I30 root, and a
 * resident $SECURITY_DESCRIPTOR (attribute id 3; the record sorts it before $DATA) when one is given.
 */
export function newRecordAttributes(
  fn: Uint8Array,
  si: Uint8Array,
  isDirectory: boolean,
  indexBlockSize: number,
  clusterSize: number,
  securityDescriptor: Uint8Array | null = null,
): Uint8Array[] {
  const attrs = [
    residentAttribute(ATTR.STANDARD_INFORMATION, '', 0, si),
    residentAttribute(ATTR.FILE_NAME, '', 1, fn, true),
    isDirectory
      ? residentAttribute(ATTR.INDEX_ROOT, '$I30', 2, emptyIndexRoot(indexBlockSize, clusterSize))
      : residentAttribute(ATTR.DATA, '', 2, new Uint8Array(0)),
  ];
  if (securityDescriptor) attrs.push(residentAttribute(ATTR.SECURITY_DESCRIPTOR, '', 3, securityDescriptor));
  return attrs;
}
