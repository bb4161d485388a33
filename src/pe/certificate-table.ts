// The attribute certificate table: PE Format specification §"The Attribute Certificate Table (Image Only)" —
// WIN_CERTIFICATE entries { dwLength u32, wRevision u16, wCertificateType u16, bCertificate[] }, each 8-byte aligned.
import { WinrescueError } from '../errors.js';
import { checkRange, u16, u32 } from '../util/bytes.js';
import { certificateTableRange } from './authenticode-digest.js';

const ENTRY_HEADER = 8;
const ALIGNMENT = 8;
export const WIN_CERT_TYPE_PKCS_SIGNED_DATA = 0x0002;

export interface WinCertificate {
  readonly offset: number;
  readonly revision: number;
  readonly type: number;
  readonly data: Uint8Array;
}

export function readCertificateTable(bytes: Uint8Array): WinCertificate[] {
  const range = certificateTableRange(bytes);
  if (!range) return [];
  const out: WinCertificate[] = [];
  const end = range.offset + range.size;
  let at = range.offset;
  while (at + ENTRY_HEADER <= end) {
    const length = u32(bytes, at);
    if (length < ENTRY_HEADER || at + length > end) {
      throw new WinrescueError('pe.badSignature', `WIN_CERTIFICATE at ${at} has length ${length}`, {
        structure: 'pe.certificateTable',
        offset: at,
        expected: `${ENTRY_HEADER}..${end - at}`,
        actual: length,
      });
    }
    checkRange(bytes.length, at, length, { structure: 'pe.certificateTable', code: 'pe.badSignature' });
    out.push({
      offset: at,
      revision: u16(bytes, at + 4),
      type: u16(bytes, at + 6),
      data: bytes.subarray(at + ENTRY_HEADER, at + length),
    });
    at += Math.ceil(length / ALIGNMENT) * ALIGNMENT;
  }
  return out;
}
