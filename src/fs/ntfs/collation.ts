// Index collation rules: flatcap linux-ntfs ntfs/concepts/collation.html; ntfs-3g collate.c (rules only):
// COLLATION_FILENAME compares names unit by unit after mapping through $UpCase, then by length;
// COLLATION_ULONG compares little-endian u32 keys.
import { u32 } from '../../util/bytes.js';

/** <0, 0, >0 as `a` sorts before, with, after `b`, case-insensitively through `upcase`. */
export function compareFileNames(a: ArrayLike<number>, b: ArrayLike<number>, upcase: Uint16Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = upcase[a[i]!]!;
    const y = upcase[b[i]!]!;
    if (x !== y) return x - y;
  }
  return a.length - b.length;
}

export function equalUnits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function compareUlong(a: Uint8Array, b: Uint8Array): number {
  return u32(a, 0) - u32(b, 0);
}

export function toUnits(s: string): Uint16Array {
  const u = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  return u;
}
