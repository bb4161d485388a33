// VHDX file type identifier, [MS-VHDX] §2.2.1: "vhdxfile" at offset 0, then a UTF-16 creator string (512 bytes)
// kept for diagnostics only. Written once at creation, never again.
import { WinrescueError } from '../../errors.js';
import { ascii, checkRange, encodeUtf16le, utf16le } from '../../util/bytes.js';

export const FILE_SIGNATURE = 'vhdxfile';
const O_CREATOR = 8;
const CREATOR_SIZE = 512;
/** Bytes needed to parse the identifier. */
export const FILE_IDENTIFIER_PARSE_SIZE = O_CREATOR + CREATOR_SIZE;

export interface FileIdentifier {
  readonly creator: string;
}

/** True when `bytes` starts with the VHDX signature (content detection; nothing else is checked). */
export function hasFileSignature(bytes: Uint8Array): boolean {
  return bytes.length >= FILE_SIGNATURE.length && ascii(bytes, 0, FILE_SIGNATURE.length) === FILE_SIGNATURE;
}

export function parseFileIdentifier(bytes: Uint8Array, name: string): FileIdentifier {
  checkRange(bytes.length, 0, FILE_IDENTIFIER_PARSE_SIZE, {
    structure: 'vhdx.fileIdentifier',
    code: 'disk.truncated',
  });
  if (!hasFileSignature(bytes)) {
    throw new WinrescueError(
      'disk.badSignature',
      `VHDX ${name}: file type identifier at 0x0 should read "${FILE_SIGNATURE}", reads "${printable(ascii(bytes, 0, 8))}"`,
      { offset: 0, structure: 'vhdx.fileIdentifier', expected: FILE_SIGNATURE, actual: ascii(bytes, 0, 8) },
    );
  }
  const raw = utf16le(bytes, O_CREATOR, CREATOR_SIZE);
  const nul = raw.indexOf('\0');
  return { creator: nul < 0 ? raw : raw.slice(0, nul) };
}

export function serializeFileIdentifier(id: FileIdentifier, out: Uint8Array): void {
  checkRange(out.length, 0, FILE_IDENTIFIER_PARSE_SIZE, { structure: 'vhdx.fileIdentifier' });
  out.fill(0, 0, FILE_IDENTIFIER_PARSE_SIZE);
  for (let i = 0; i < FILE_SIGNATURE.length; i++) out[i] = FILE_SIGNATURE.charCodeAt(i);
  // Keep room for the terminating NUL the field may carry.
  const creator = encodeUtf16le(id.creator.slice(0, CREATOR_SIZE / 2 - 1));
  out.set(creator, O_CREATOR);
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '.');
}
