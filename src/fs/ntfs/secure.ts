// $Secure (record 9): security descriptors shared by id. $SII indexes $SDS entries by security id
// (collation ULONG); each $SDS entry is {hash, id, offset u64, length u32} then the descriptor.
// flatcap linux-ntfs ntfs/files/secure.html; libfsntfs asciidoc §"Security descriptor stream";
// ntfs-3g layout.h SII_INDEX_KEY, SECURITY_DESCRIPTOR_HEADER.
import { WinrescueError } from '../../errors.js';
import { u32, u64 } from '../../util/bytes.js';
import { compareUlong } from './collation.js';
import { parseSecurityDescriptor, type SecurityDescriptor } from './attributes/security-descriptor.js';
import type { AttributeStream } from './data-stream.js';
import type { IndexTree } from './index-tree.js';

export const SECURE_RECORD = 9;
const SDS_HEADER = 20;
/** A descriptor larger than this is corrupt (real ones are a few hundred bytes; the $SDS block is 256 KiB). */
const MAX_SD_BYTES = 256 * 1024;

export interface SdsHeader {
  readonly hash: number;
  readonly securityId: number;
  readonly offset: number;
  readonly length: number;
}

export function parseSdsHeader(b: Uint8Array): SdsHeader {
  if (b.length < SDS_HEADER) {
    throw new WinrescueError(
      'ntfs.badIndex',
      `$SII entry data of ${b.length} bytes is shorter than ${SDS_HEADER}`,
      {
        structure: 'ntfs.secure',
        record: SECURE_RECORD,
        actual: b.length,
      },
    );
  }
  const off = u64(b, 8);
  return {
    hash: u32(b, 0),
    securityId: u32(b, 4),
    offset: off > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(off),
    length: u32(b, 16),
  };
}

/** The descriptor with `securityId`, via $SII then $SDS; null if the id is not in $SII. */
export async function lookupSecurityDescriptor(
  sii: IndexTree,
  sds: AttributeStream,
  securityId: number,
): Promise<SecurityDescriptor | null> {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, securityId, true);
  const entry = await sii.find((e) => (e.key.length < 4 ? -1 : compareUlong(key, e.key)));
  if (!entry) return null;
  const h = parseSdsHeader(entry.data);
  const bad = (message: string, actual: unknown): never => {
    throw new WinrescueError('ntfs.badIndex', `$Secure: security id ${securityId}: ${message}`, {
      structure: 'ntfs.secure',
      record: SECURE_RECORD,
      actual,
    });
  };
  if (h.securityId !== securityId)
    bad(`$SII entry points to the $SDS entry of id ${h.securityId}`, h.securityId);
  if (h.offset < 0 || h.length < SDS_HEADER || h.length > MAX_SD_BYTES || h.offset + h.length > sds.size) {
    bad(`$SDS entry ${h.offset}+${h.length} lies outside the ${sds.size}-byte stream`, h.offset);
  }
  const bytes = await sds.read(h.offset, h.length);
  const stored = parseSdsHeader(bytes);
  if (stored.securityId !== securityId || stored.offset !== h.offset)
    bad(`$SDS entry at ${h.offset} is for id ${stored.securityId}`, stored.securityId);
  return parseSecurityDescriptor(bytes.subarray(SDS_HEADER));
}
