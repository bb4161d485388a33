// Marvin32 keyed hash (64-bit result). Spec: msuhanov regf spec, "New format" / "Log entries" notes 1-3 (which
// bytes are hashed, the seed); algorithm as described by Microsoft SymCrypt lib/marvin32.c (read, not copied).
import { view } from '../../util/bytes.js';

/**
 * Seed Windows uses for both HvLE hashes. The spec lists it as the bytes 82 EF 4D 88 7A 4E 55 C5; the hashes
 * Windows wrote in real logs only verify when those bytes are the 64-bit value read most-significant first
 * (the older spec's decimal 14219357686671994754, i.e. the bytes read little-endian, does not verify).
 */
export const HVLE_MARVIN_SEED = 0x82ef4d887a4e55c5n;

const MASK32 = 0xffffffffn;

const rotl = (x: number, n: number): number => ((x << n) | (x >>> (32 - n))) >>> 0;

/**
 * Marvin32 of `data` with a 64-bit `seed` (low dword seeds the first lane). The result packs the two 32-bit
 * lanes as Windows stores them in a log entry: low lane first, so a little-endian u64 read of the field equals it.
 */
export function marvin32(data: Uint8Array, seed: bigint = HVLE_MARVIN_SEED): bigint {
  let a = Number(seed & MASK32);
  let b = Number((seed >> 32n) & MASK32);
  const dv = view(data);
  const whole = data.length & ~3;
  // The mixing step (four add/xor/rotate rounds with 20, 9, 27, 19) runs once per 32-bit input word.
  const mix = (word: number): void => {
    a = (a + word) >>> 0;
    b = (b ^ a) >>> 0;
    a = rotl(a, 20);
    a = (a + b) >>> 0;
    b = rotl(b, 9);
    b = (b ^ a) >>> 0;
    a = rotl(a, 27);
    a = (a + b) >>> 0;
    b = rotl(b, 19);
  };
  for (let i = 0; i < whole; i += 4) mix(dv.getUint32(i, true));
  // The 0-3 trailing bytes are padded with a single 0x80 byte, then two more rounds (one with a zero word)
  // finish the hash, so inputs differing only in trailing zero bytes hash differently.
  let tail = 0x80;
  for (let i = data.length - 1; i >= whole; i--) tail = ((tail << 8) | data[i]!) >>> 0;
  mix(tail);
  mix(0);
  return (BigInt(b) << 32n) | BigInt(a);
}
