// VHD checksum, Microsoft "Virtual Hard Disk Image Format Specification" v1.0 (2006), "Hard Disk Footer Format" →
// Checksum: the one's complement of the byte sum of the structure, its own 4-byte field counted as zero. The
// dynamic disk header ("Dynamic Disk Header Format" → Checksum) uses the same rule.

/** Width of the checksum field: a big-endian u32. */
export const CHECKSUM_FIELD_SIZE = 4;

/** One's complement of the sum of all bytes of `bytes`, skipping the 4 bytes at `checksumOffset`. */
export function vhdChecksum(bytes: Uint8Array, checksumOffset: number): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (i >= checksumOffset && i < checksumOffset + CHECKSUM_FIELD_SIZE) continue;
    sum = (sum + bytes[i]!) >>> 0;
  }
  return ~sum >>> 0;
}
