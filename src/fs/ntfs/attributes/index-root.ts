// $INDEX_ROOT (0x90): flatcap linux-ntfs ntfs/attributes/index_root.html and concepts/index_header.html;
// libfsntfs asciidoc §"The index root attribute"; ntfs-3g layout.h INDEX_ROOT.
import { u32, u8 } from '../../../util/bytes.js';
import { tooShort } from './common.js';

/** The root header is 16 bytes, followed by the node header of the root node. */
export const INDEX_ROOT_HEADER = 16;

export const COLLATION = {
  BINARY: 0x00,
  FILENAME: 0x01,
  UNICODE: 0x02,
  ULONG: 0x10,
  SID: 0x11,
  SECURITY_HASH: 0x12,
  ULONGS: 0x13,
} as const;

export interface IndexRoot {
  /** Attribute type indexed: 0x30 for $I30, 0 for view indexes ($SII, $SDH, $O...). */
  readonly indexedType: number;
  readonly collation: number;
  readonly indexBlockSize: number;
  readonly clustersPerIndexBlock: number;
}

export function parseIndexRoot(v: Uint8Array, record?: number): IndexRoot {
  if (v.length < INDEX_ROOT_HEADER + 16) tooShort('ntfs.indexRoot', INDEX_ROOT_HEADER + 16, v.length, record);
  return {
    indexedType: u32(v, 0),
    collation: u32(v, 4),
    indexBlockSize: u32(v, 8),
    clustersPerIndexBlock: u8(v, 12),
  };
}
