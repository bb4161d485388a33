// $UpCase (record 10): the volume's table mapping each UTF-16 unit to its upper case, used by filename
// collation: flatcap linux-ntfs ntfs/files/upcase.html; libfsntfs asciidoc §"Upcase table".
import { WinrescueError } from '../../errors.js';

/** One u16 per UTF-16 code unit: 65536 entries, 128 KiB. */
export const UPCASE_ENTRIES = 65536;
export const UPCASE_BYTES = UPCASE_ENTRIES * 2;

export function parseUpcase(b: Uint8Array): Uint16Array {
  if (b.length < UPCASE_BYTES) {
    throw new WinrescueError(
      'ntfs.badAttribute',
      `$UpCase holds ${b.length} bytes, should be ${UPCASE_BYTES}`,
      {
        structure: 'ntfs.upcase',
        record: 10,
        expected: UPCASE_BYTES,
        actual: b.length,
      },
    );
  }
  // On little-endian hosts (all Node targets in practice) the bytes are the table as is.
  if (LITTLE_ENDIAN_HOST) return new Uint16Array(b.slice(0, UPCASE_BYTES).buffer);
  const t = new Uint16Array(UPCASE_ENTRIES);
  for (let i = 0; i < UPCASE_ENTRIES; i++) t[i] = b[i * 2]! | (b[i * 2 + 1]! << 8);
  return t;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** A stand-in for a volume whose $UpCase is unreadable: JavaScript's simple per-unit upper case. */
export function defaultUpcase(): Uint16Array {
  const t = new Uint16Array(UPCASE_ENTRIES);
  for (let i = 0; i < UPCASE_ENTRIES; i++) {
    const u = String.fromCharCode(i).toUpperCase();
    t[i] = u.length === 1 ? u.charCodeAt(0) : i;
  }
  return t;
}
