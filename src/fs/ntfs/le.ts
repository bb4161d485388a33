// Little-endian readers for the hot parsing paths (records, attributes, index entries): plain byte
// arithmetic instead of a DataView per field. Callers have bounds-checked the range first (checkRange).

export function le16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

export function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}

/** Unsigned 64-bit as a number when below 2^53, else -1 (callers treat -1 as out of range). */
export function le64(b: Uint8Array, o: number): number {
  const hi = le32(b, o + 4);
  if (hi >= 0x200000) return -1;
  return hi * 0x100000000 + le32(b, o);
}

/** Signed 64-bit as a number when |v| < 2^53, else NaN. */
export function les64(b: Uint8Array, o: number): number {
  const hi = le32(b, o + 4);
  const lo = le32(b, o);
  if (hi >= 0x80000000) {
    const neg = (0xffffffff - hi) * 0x100000000 + (0x100000000 - lo);
    return neg > Number.MAX_SAFE_INTEGER ? NaN : -neg;
  }
  return hi >= 0x200000 ? NaN : hi * 0x100000000 + lo;
}

export function le8(b: Uint8Array, o: number): number {
  return b[o]!;
}

/**
 * UTF-16LE as stored (unpaired surrogates kept as they are, as NTFS allows them). Short strings, which file
 * names are, decode faster this way than through TextDecoder.
 */
export function utf16(b: Uint8Array, o: number, byteLength: number): string {
  const n = byteLength >> 1;
  if (n > 256) return decoder.decode(b.subarray(o, o + n * 2));
  const units = new Array<number>(n);
  for (let i = 0; i < n; i++) units[i] = b[o + 2 * i]! | (b[o + 2 * i + 1]! << 8);
  return String.fromCharCode.apply(null, units);
}

const decoder = new TextDecoder('utf-16le');
