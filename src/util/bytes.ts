// Little-endian field access over Uint8Array with one bounds check for every on-disk offset or length.
import { WinrescueError, hex, type ErrorCode } from '../errors.js';

/** A DataView over exactly the bytes of `b` (never past a subarray's end). */
export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

// The hot readers assemble bytes directly (a DataView per call dominated hive walks); anything out of range or
// not an integer index goes through DataView, which throws the same RangeError it always did.
const inBounds = (b: Uint8Array, o: number, n: number): boolean =>
  o >= 0 && o + n <= b.length && (o | 0) === o;

export const u8 = (b: Uint8Array, o: number): number => (inBounds(b, o, 1) ? b[o]! : view(b).getUint8(o));
export const u16 = (b: Uint8Array, o: number): number =>
  inBounds(b, o, 2) ? b[o]! | (b[o + 1]! << 8) : view(b).getUint16(o, true);
export const u32 = (b: Uint8Array, o: number): number =>
  inBounds(b, o, 4)
    ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000
    : view(b).getUint32(o, true);
export const i32 = (b: Uint8Array, o: number): number =>
  inBounds(b, o, 4)
    ? b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)
    : view(b).getInt32(o, true);
export const u64 = (b: Uint8Array, o: number): bigint => view(b).getBigUint64(o, true);
export const i64 = (b: Uint8Array, o: number): bigint => view(b).getBigInt64(o, true);
export const u16be = (b: Uint8Array, o: number): number => view(b).getUint16(o, false);
export const u32be = (b: Uint8Array, o: number): number => view(b).getUint32(o, false);
export const u64be = (b: Uint8Array, o: number): bigint => view(b).getBigUint64(o, false);

export const setU16 = (b: Uint8Array, o: number, v: number): void => view(b).setUint16(o, v, true);
export const setU32 = (b: Uint8Array, o: number, v: number): void => view(b).setUint32(o, v >>> 0, true);
export const setU64 = (b: Uint8Array, o: number, v: bigint | number): void =>
  view(b).setBigUint64(o, BigInt(v), true);
export const setU16be = (b: Uint8Array, o: number, v: number): void => view(b).setUint16(o, v, false);
export const setU32be = (b: Uint8Array, o: number, v: number): void => view(b).setUint32(o, v >>> 0, false);
export const setU64be = (b: Uint8Array, o: number, v: bigint | number): void =>
  view(b).setBigUint64(o, BigInt(v), false);

export interface Where {
  structure: string;
  /** Absolute device offset of `b[0]`, for error messages; 0 when unknown. */
  base?: number;
  code?: ErrorCode;
}

/**
 * The bounds helper: throws a typed error unless [offset, offset+length) lies inside a buffer of `size` bytes.
 * Every offset or length that comes from disk passes through here before it indexes anything.
 */
export function checkRange(size: number, offset: number, length: number, where: Where): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  ) {
    const base = where.base ?? 0;
    throw new WinrescueError(
      where.code ?? 'disk.badField',
      `${where.structure} at ${hex(base + Math.max(0, Number(offset) || 0))}: range ${offset}+${length} lies outside its ${size} bytes`,
      {
        offset: base + Math.max(0, Number(offset) || 0),
        structure: where.structure,
        expected: `<= ${size}`,
        actual: offset + length,
      },
    );
  }
}

/** A subarray that is guaranteed to be in bounds (see checkRange). */
export function slice(b: Uint8Array, offset: number, length: number, where: Where): Uint8Array {
  checkRange(b.length, offset, length, where);
  return b.subarray(offset, offset + length);
}

/** A 64-bit on-disk value as a number, or a typed error if it does not fit exactly. */
export function toSafeNumber(v: bigint, where: Where & { offset?: number }): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new WinrescueError(
      where.code ?? 'disk.badField',
      `${where.structure}: value ${v} is out of range`,
      {
        structure: where.structure,
        offset: where.offset ?? where.base,
        expected: `0..${Number.MAX_SAFE_INTEGER}`,
        actual: v,
      },
    );
  }
  return Number(v);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isZero(b: Uint8Array): boolean {
  // Word-wise over the 4-aligned middle: this runs over whole disks (zero detection), byte-wise is far slower.
  const head = Math.min(b.length, (4 - (b.byteOffset % 4)) % 4);
  for (let i = 0; i < head; i++) if (b[i] !== 0) return false;
  const words = Math.floor((b.length - head) / 4);
  if (words > 0) {
    const w = new Uint32Array(b.buffer, b.byteOffset + head, words);
    for (let i = 0; i < words; i++) if (w[i] !== 0) return false;
  }
  for (let i = head + words * 4; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

export function ascii(b: Uint8Array, offset: number, length: number): string {
  let s = '';
  for (let i = offset; i < offset + length && i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

const utf16 = new TextDecoder('utf-16le');
export function utf16le(b: Uint8Array, offset: number, byteLength: number): string {
  return utf16.decode(b.subarray(offset, offset + byteLength));
}

export function encodeUtf16le(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) setU16(out, i * 2, s.charCodeAt(i));
  return out;
}

/** Mixed-endian GUID as Windows stores it (first three fields little-endian), lowercase, no braces. */
export function guidToString(b: Uint8Array, o: number): string {
  const h = (x: number, w: number) => x.toString(16).padStart(w, '0');
  const tail = Array.from(b.subarray(o + 8, o + 16), (x) => h(x, 2)).join('');
  return `${h(u32(b, o), 8)}-${h(u16(b, o + 4), 4)}-${h(u16(b, o + 6), 4)}-${tail.slice(0, 4)}-${tail.slice(4)}`;
}

export function guidFromString(s: string): Uint8Array {
  const m = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i.exec(s);
  if (!m) throw new WinrescueError('cli.usage', `not a GUID: ${s}`, { actual: s });
  const out = new Uint8Array(16);
  setU32(out, 0, parseInt(m[1]!, 16));
  setU16(out, 4, parseInt(m[2]!, 16));
  setU16(out, 6, parseInt(m[3]!, 16));
  const tail = m[4]! + m[5]!;
  for (let i = 0; i < 8; i++) out[8 + i] = parseInt(tail.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';
