// $REPARSE_POINT (0xC0): flatcap linux-ntfs ntfs/attributes/reparse_point.html; libfsntfs asciidoc §"The
// reparse point attribute"; Microsoft [MS-FSCC] 2.1.2 reparse data buffers; WOF external info per Microsoft
// Learn (wofapi.h WOF_EXTERNAL_INFO, FILE_PROVIDER_EXTERNAL_INFO_V1).
import { u16, u32, utf16le, guidToString } from '../../../util/bytes.js';
import { tooShort } from './common.js';

const HEADER = 8;
/** Tags without the Microsoft bit carry a 16-byte GUID before their data. */
const MICROSOFT_TAG_BIT = 0x80000000;
const GUID_SIZE = 16;

export const REPARSE_TAG = {
  MOUNT_POINT: 0xa0000003,
  SYMLINK: 0xa000000c,
  DEDUP: 0x80000013,
  WOF: 0x80000017,
  WCI: 0x80000018,
  APPEXECLINK: 0x8000001b,
  CLOUD: 0x9000001a,
} as const;

/** WOF provider ids (wofapi.h). */
export const WOF_PROVIDER = { WIM: 1, FILE: 2 } as const;
/** FILE_PROVIDER_COMPRESSION_* values (wofapi.h). */
export const WOF_ALGORITHMS = ['XPRESS4K', 'LZX', 'XPRESS8K', 'XPRESS16K'] as const;
/** The named $DATA stream that holds a WOF file's compressed data. */
export const WOF_STREAM = 'WofCompressedData';

export interface ReparsePoint {
  readonly tag: number;
  /** 'mount-point', 'symlink', 'wof', ... or the tag in hex. */
  readonly kind: string;
  readonly guid: string | null;
  readonly data: Uint8Array;
  /** Mount points and symlinks. */
  readonly substituteName?: string;
  readonly printName?: string;
  /** WOF: provider ('wim' | 'file') and, for the file provider, the algorithm. */
  readonly wof?: { provider: 'wim' | 'file' | number; algorithm?: string };
}

const KIND: Record<number, string> = {
  [REPARSE_TAG.MOUNT_POINT]: 'mount-point',
  [REPARSE_TAG.SYMLINK]: 'symlink',
  [REPARSE_TAG.DEDUP]: 'dedup',
  [REPARSE_TAG.WOF]: 'wof',
  [REPARSE_TAG.WCI]: 'wci',
  [REPARSE_TAG.APPEXECLINK]: 'app-exec-link',
  [REPARSE_TAG.CLOUD]: 'cloud',
};

function names(data: Uint8Array, pathStart: number): { substituteName?: string; printName?: string } {
  if (data.length < pathStart) return {};
  const read = (off: number, len: number): string | undefined =>
    pathStart + off + len <= data.length ? utf16le(data, pathStart + off, len) : undefined;
  return { substituteName: read(u16(data, 0), u16(data, 2)), printName: read(u16(data, 4), u16(data, 6)) };
}

export function parseReparsePoint(v: Uint8Array, record?: number): ReparsePoint {
  if (v.length < HEADER) tooShort('ntfs.reparsePoint', HEADER, v.length, record);
  const tag = u32(v, 0);
  const dataLength = u16(v, 4);
  const microsoft = (tag & MICROSOFT_TAG_BIT) !== 0;
  const dataStart = HEADER + (microsoft ? 0 : GUID_SIZE);
  if (dataStart + dataLength > v.length)
    tooShort('ntfs.reparsePoint', dataStart + dataLength, v.length, record);
  const data = v.subarray(dataStart, dataStart + dataLength);
  const rp: ReparsePoint = {
    tag,
    kind: KIND[tag] ?? '0x' + tag.toString(16).padStart(8, '0'),
    guid: microsoft ? null : guidToString(v, HEADER),
    data,
  };
  // MS-FSCC 2.1.2.5: mount point = 4 u16 (offsets/lengths) then the path buffer; symlink adds a u32 flags.
  if (tag === REPARSE_TAG.MOUNT_POINT) return { ...rp, ...names(data, 8) };
  if (tag === REPARSE_TAG.SYMLINK) return { ...rp, ...names(data, 12) };
  if (tag === REPARSE_TAG.WOF && data.length >= 8) {
    const provider = u32(data, 4);
    if (provider === WOF_PROVIDER.FILE && data.length >= 16) {
      const alg = u32(data, 12);
      return { ...rp, wof: { provider: 'file', algorithm: WOF_ALGORITHMS[alg] ?? `algorithm ${alg}` } };
    }
    return { ...rp, wof: { provider: provider === WOF_PROVIDER.WIM ? 'wim' : provider } };
  }
  return rp;
}
