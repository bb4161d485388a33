// $STANDARD_INFORMATION (0x10): flatcap linux-ntfs ntfs/attributes/standard_information.html;
// libfsntfs asciidoc §"The standard information attribute"; ntfs-3g layout.h STANDARD_INFORMATION.
import { u32 } from '../../../util/bytes.js';
import { filetime, tooShort, type NtfsTime } from './common.js';

/** NTFS 1.2 values are 48 bytes; 3.x adds owner, security id, quota and USN (72 bytes). */
const V12_SIZE = 48;
const V3_SIZE = 72;

export const FILE_ATTRIBUTE = {
  READONLY: 0x1,
  HIDDEN: 0x2,
  SYSTEM: 0x4,
  DIRECTORY: 0x10,
  ARCHIVE: 0x20,
  DEVICE: 0x40,
  NORMAL: 0x80,
  TEMPORARY: 0x100,
  SPARSE_FILE: 0x200,
  REPARSE_POINT: 0x400,
  COMPRESSED: 0x800,
  OFFLINE: 0x1000,
  NOT_CONTENT_INDEXED: 0x2000,
  ENCRYPTED: 0x4000,
  /** In $FILE_NAME only: the record is a directory (has $I30). */
  DUP_FILE_NAME_INDEX_PRESENT: 0x10000000,
  DUP_VIEW_INDEX_PRESENT: 0x20000000,
} as const;

export interface NtfsTimes {
  readonly created: NtfsTime;
  readonly modified: NtfsTime;
  readonly mftModified: NtfsTime;
  readonly accessed: NtfsTime;
}

export interface StandardInformation {
  readonly times: NtfsTimes;
  readonly fileAttributes: number;
  readonly ownerId: number | null;
  /** Index into $Secure; null on NTFS 1.2 values. */
  readonly securityId: number | null;
}

export function parseTimes(b: Uint8Array, at: number): NtfsTimes {
  return {
    created: filetime(b, at),
    modified: filetime(b, at + 8),
    mftModified: filetime(b, at + 16),
    accessed: filetime(b, at + 24),
  };
}

export function parseStandardInformation(v: Uint8Array, record?: number): StandardInformation {
  if (v.length < V12_SIZE) tooShort('ntfs.standardInformation', V12_SIZE, v.length, record);
  const v3 = v.length >= V3_SIZE;
  return {
    times: parseTimes(v, 0),
    fileAttributes: u32(v, 32),
    ownerId: v3 ? u32(v, 48) : null,
    securityId: v3 ? u32(v, 52) : null,
  };
}

/** Names of the set FILE_ATTRIBUTE_* bits, for stat output. */
export function fileAttributeNames(flags: number): string[] {
  const out: string[] = [];
  for (const [k, bit] of Object.entries(FILE_ATTRIBUTE)) if ((flags & bit) !== 0) out.push(k.toLowerCase());
  return out;
}
