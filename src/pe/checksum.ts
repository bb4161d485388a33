// The image checksum of OptionalHeader.CheckSum, after the PE Format specification §"Optional Header Windows-Specific
// Fields" (CheckSum: "the algorithm is incorporated into IMAGHELP.DLL") as CheckSumMappedFile computes it: a 16-bit
// folded sum of all little-endian words with the field itself taken as zero, plus the file length.
import { parsePe } from './headers.js';

/** Recomputed checksum of `bytes` (a PE image); throws `pe.badImage` when the headers cannot be found. */
export function peChecksum(bytes: Uint8Array): number {
  return checksumSkipping(bytes, parsePe(bytes).checksumOffset);
}

export function checksumSkipping(bytes: Uint8Array, skip: number): number {
  let sum = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i += 2) {
    if (i === skip || i === skip + 2) continue;
    sum += bytes[i]! | ((i + 1 < n ? bytes[i + 1]! : 0) << 8);
    // Folding every step keeps the sum far from 2^53 whatever the size.
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum + n) >>> 0;
}
