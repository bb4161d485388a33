// The Authenticode image hash, after Microsoft's "Windows Authenticode Portable Executable Signature Format"
// §"Calculating the PE Image Hash": everything from the file start except the CheckSum field, the certificate table
// directory entry, and the certificate table itself (which tools append last, 8-byte aligned).
import { createHash } from 'node:crypto';
import { WinrescueError } from '../errors.js';
import { checkRange } from '../util/bytes.js';
import { DIRECTORY_SECURITY, parsePe } from './headers.js';

export type DigestAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'md5';
/** Signing tools pad an unsigned image to this boundary before appending the table; the padding is hashed. */
const CERT_TABLE_ALIGNMENT = 8;
const DIRECTORY_ENTRY_SIZE = 8;

/** Where the certificate table is (file offset and size), or null when the image has none. */
export function certificateTableRange(bytes: Uint8Array): { offset: number; size: number } | null {
  const h = parsePe(bytes);
  const d = h.directories[DIRECTORY_SECURITY];
  if (!d || d.size === 0 || d.rva === 0) return null;
  checkRange(bytes.length, d.rva, d.size, { structure: 'pe.certificateTable', code: 'pe.badImage' });
  return { offset: d.rva, size: d.size };
}

/** Authenticode digest of the image as `algorithm`. Throws `pe.badImage` when headers or the table are bad. */
export function authenticodeDigest(bytes: Uint8Array, algorithm: DigestAlgorithm): Uint8Array {
  const h = parsePe(bytes);
  const dirEntry = h.directoriesOffset + DIRECTORY_SECURITY * DIRECTORY_ENTRY_SIZE;
  if (h.directories.length <= DIRECTORY_SECURITY) {
    throw new WinrescueError('pe.badImage', 'no certificate table directory entry', {
      structure: 'pe.headers',
      offset: h.directoriesOffset,
    });
  }
  const table = certificateTableRange(bytes);
  const end = table ? table.offset : bytes.length;
  if (end < dirEntry + DIRECTORY_ENTRY_SIZE) {
    throw new WinrescueError('pe.badImage', 'certificate table overlaps the headers', {
      structure: 'pe.certificateTable',
      offset: end,
    });
  }
  const hash = createHash(algorithm);
  hash.update(bytes.subarray(0, h.checksumOffset));
  hash.update(bytes.subarray(h.checksumOffset + 4, dirEntry));
  hash.update(bytes.subarray(dirEntry + DIRECTORY_ENTRY_SIZE, end));
  const pad = table ? 0 : (CERT_TABLE_ALIGNMENT - (end % CERT_TABLE_ALIGNMENT)) % CERT_TABLE_ALIGNMENT;
  if (pad) hash.update(new Uint8Array(pad));
  return new Uint8Array(hash.digest());
}
