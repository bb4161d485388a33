// Attribute records inside an MFT record: flatcap linux-ntfs ntfs/concepts/attribute_header.html;
// libfsntfs asciidoc §"The attribute"; ntfs-3g layout.h ATTR_RECORD.
import { WinrescueError, hex } from '../../errors.js';
import { checkRange, i64 } from '../../util/bytes.js';
import { le16, le32, le64, le8, les64, utf16 } from './le.js';
import { decodeRunlist, type DataRun } from './runlist.js';

export const ATTR = {
  STANDARD_INFORMATION: 0x10,
  ATTRIBUTE_LIST: 0x20,
  FILE_NAME: 0x30,
  OBJECT_ID: 0x40,
  SECURITY_DESCRIPTOR: 0x50,
  VOLUME_NAME: 0x60,
  VOLUME_INFORMATION: 0x70,
  DATA: 0x80,
  INDEX_ROOT: 0x90,
  INDEX_ALLOCATION: 0xa0,
  BITMAP: 0xb0,
  REPARSE_POINT: 0xc0,
  EA_INFORMATION: 0xd0,
  EA: 0xe0,
  LOGGED_UTILITY_STREAM: 0x100,
} as const;
/** Type code that ends the attribute sequence of a record. */
export const ATTR_END = 0xffffffff;

const TYPE_NAMES: Record<number, string> = {
  0x10: '$STANDARD_INFORMATION',
  0x20: '$ATTRIBUTE_LIST',
  0x30: '$FILE_NAME',
  0x40: '$OBJECT_ID',
  0x50: '$SECURITY_DESCRIPTOR',
  0x60: '$VOLUME_NAME',
  0x70: '$VOLUME_INFORMATION',
  0x80: '$DATA',
  0x90: '$INDEX_ROOT',
  0xa0: '$INDEX_ALLOCATION',
  0xb0: '$BITMAP',
  0xc0: '$REPARSE_POINT',
  0xd0: '$EA_INFORMATION',
  0xe0: '$EA',
  0x100: '$LOGGED_UTILITY_STREAM',
};
export function attributeTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `0x${type.toString(16)}`;
}

export const ATTR_FLAG_COMPRESSED_MASK = 0x00ff;
export const ATTR_FLAG_ENCRYPTED = 0x4000;
export const ATTR_FLAG_SPARSE = 0x8000;

/** Smallest header: resident header is 24 bytes, non-resident 64 (72 when compressed). */
const RESIDENT_HEADER = 24;
const NONRESIDENT_HEADER = 64;
const COMPRESSED_HEADER = 72;

export interface NonResidentInfo {
  readonly startVcn: number;
  readonly lastVcn: number;
  /** log2 of clusters per compression unit; 0 = not compressed. */
  readonly compressionUnit: number;
  /** Sizes are set only in the extent that starts at VCN 0. */
  readonly allocatedSize: number;
  readonly dataSize: number;
  readonly initializedSize: number;
  readonly compressedSize: number | null;
  readonly runs: readonly DataRun[];
  /**
   * Set when the runlist is damaged (then `runs` is empty): the record stays readable (names, other
   * attributes) and reading this attribute's data throws this error.
   */
  readonly runlistError: WinrescueError | null;
}

export interface Attribute {
  readonly type: number;
  /** '' for unnamed. */
  readonly name: string;
  readonly flags: number;
  readonly id: number;
  /** Offset of the attribute within its record. */
  readonly offset: number;
  readonly length: number;
  readonly resident: boolean;
  /** Resident value (a view into the record bytes). */
  readonly value: Uint8Array | null;
  readonly indexed: boolean;
  readonly nonResident: NonResidentInfo | null;
}

export interface AttributeWhere {
  /** Absolute device offset of the record. */
  base: number;
  record: number;
  totalClusters: number;
}

function bad(
  where: AttributeWhere,
  at: number,
  message: string,
  expected?: unknown,
  actual?: unknown,
): never {
  throw new WinrescueError(
    'ntfs.badAttribute',
    `MFT record ${where.record} at ${hex(where.base)}: attribute at +${at}: ${message}`,
    {
      offset: where.base + at,
      structure: 'ntfs.attribute',
      record: where.record,
      expected,
      actual,
    },
  );
}

function safe(b: Uint8Array, at: number, where: AttributeWhere, field: string): number {
  const v = le64(b, at);
  if (v < 0) bad(where, at, `${field} ${i64(b, at)} is out of range`, '>= 0', i64(b, at));
  return v;
}

/** Parses the attribute at `off`, whose record space ends at `end` (bytes used). */
export function parseAttribute(b: Uint8Array, off: number, end: number, where: AttributeWhere): Attribute {
  const w = { structure: 'ntfs.attribute', base: where.base, code: 'ntfs.badAttribute' as const };
  checkRange(end, off, 16, w);
  const type = le32(b, off);
  const length = le32(b, off + 4);
  if (length < 16 || length % 8 !== 0 || off + length > end)
    bad(where, off, `length ${length} is impossible`, `8-aligned, <= ${end - off}`, length);
  const nonResidentFlag = le8(b, off + 8);
  if (nonResidentFlag > 1)
    bad(where, off + 8, `non-resident flag ${nonResidentFlag} is not 0 or 1`, '0 or 1', nonResidentFlag);
  const nameLength = le8(b, off + 9);
  const nameOffset = le16(b, off + 10);
  const flags = le16(b, off + 12);
  const id = le16(b, off + 14);
  let name = '';
  if (nameLength > 0) {
    checkRange(length, nameOffset, nameLength * 2, { ...w, base: where.base + off });
    name = utf16(b, off + nameOffset, nameLength * 2);
  }
  if (nonResidentFlag === 0) {
    if (length < RESIDENT_HEADER)
      bad(
        where,
        off,
        `resident attribute of ${length} bytes is shorter than its header`,
        RESIDENT_HEADER,
        length,
      );
    const valueLength = le32(b, off + 16);
    const valueOffset = le16(b, off + 20);
    checkRange(length, valueOffset, valueLength, { ...w, base: where.base + off });
    return {
      type,
      name,
      flags,
      id,
      offset: off,
      length,
      resident: true,
      value: b.subarray(off + valueOffset, off + valueOffset + valueLength),
      indexed: le8(b, off + 22) !== 0,
      nonResident: null,
    };
  }
  if (length < NONRESIDENT_HEADER)
    bad(
      where,
      off,
      `non-resident attribute of ${length} bytes is shorter than its header`,
      NONRESIDENT_HEADER,
      length,
    );
  const startVcn = safe(b, off + 16, where, 'start VCN');
  const lastVcn = les64(b, off + 24);
  // An empty attribute stores last VCN -1.
  if (!(lastVcn >= -1)) bad(where, off + 24, `last VCN ${i64(b, off + 24)} is out of range`);
  const runlistOffset = le16(b, off + 32);
  const compressionUnit = le16(b, off + 34);
  if (compressionUnit > 16)
    bad(
      where,
      off + 34,
      `compression unit 2^${compressionUnit} clusters is impossible`,
      '<= 16',
      compressionUnit,
    );
  const allocatedSize = safe(b, off + 40, where, 'allocated size');
  const dataSize = safe(b, off + 48, where, 'data size');
  const initializedSize = safe(b, off + 56, where, 'initialized size');
  const hasCompressedSize = compressionUnit > 0 && startVcn === 0 && length >= COMPRESSED_HEADER;
  const compressedSize = hasCompressedSize ? safe(b, off + 64, where, 'compressed size') : null;
  if (runlistOffset < NONRESIDENT_HEADER || runlistOffset > length)
    bad(where, off + 32, `runlist offset ${runlistOffset} is impossible`, `64..${length}`, runlistOffset);
  const label = (): string =>
    `MFT record ${where.record} at ${hex(where.base)}, attribute ${attributeTypeName(type)}${name ? ` "${name}"` : ''}`;
  return {
    type,
    name,
    flags,
    id,
    offset: off,
    length,
    resident: false,
    value: null,
    indexed: false,
    nonResident: new LazyNonResident(
      startVcn,
      lastVcn,
      compressionUnit,
      allocatedSize,
      dataSize,
      initializedSize,
      compressedSize,
      b,
      off + runlistOffset,
      off + length,
      {
        base: where.base + off + runlistOffset,
        label,
        record: where.record,
        totalClusters: where.totalClusters,
      },
    ),
  };
}

/** Runlists are decoded on first use: a listing reads thousands of records and never needs their runs. */
class LazyNonResident implements NonResidentInfo {
  private decoded: { runs: DataRun[]; error: WinrescueError | null } | null = null;

  constructor(
    readonly startVcn: number,
    readonly lastVcn: number,
    readonly compressionUnit: number,
    readonly allocatedSize: number,
    readonly dataSize: number,
    readonly initializedSize: number,
    readonly compressedSize: number | null,
    private readonly b: Uint8Array,
    private readonly start: number,
    private readonly end: number,
    private readonly where: { base: number; label: () => string; record: number; totalClusters: number },
  ) {}

  private decode(): { runs: DataRun[]; error: WinrescueError | null } {
    if (this.decoded) return this.decoded;
    const w = this.where;
    try {
      const runs = decodeRunlist(this.b, this.start, this.end, this.startVcn, { ...w, label: w.label() });
      this.decoded = { runs, error: null };
    } catch (e) {
      if (!(e instanceof WinrescueError)) throw e;
      this.decoded = { runs: [], error: e };
    }
    return this.decoded;
  }

  get runs(): DataRun[] {
    return this.decode().runs;
  }

  get runlistError(): WinrescueError | null {
    return this.decode().error;
  }
}
