// Key and value names as the writer stores and orders them. Spec: msuhanov regf spec, "Index leaf" (sort order),
// "Fast leaf" (name hint), "Hash leaf" note (name hash), "Key node"/"Key value" flags (KEY_COMP_NAME, VALUE_COMP_NAME).
import { WinrescueError } from '../../errors.js';

/** Windows limits key names to 255 characters (RegCreateKeyEx, "Registry element size limits"). */
export const MAX_KEY_NAME = 255;
/** Value names are limited to 16,383 characters ("Registry element size limits"). */
export const MAX_VALUE_NAME = 16383;
/** Names whose every UTF-16 code unit is below this fit one byte per character ("extended ASCII"). */
const LATIN1_LIMIT = 0x100;

/**
 * Where the kernel's upcase table differs from JS's one-unit toUpperCase, as [first unit, count, step, delta]: the
 * units first, first+step, ... upcase to unit+delta. Taken from the $UpCase table Windows wrote on the Windows-made
 * NTFS volume in testdata (write-names.test.ts compares all 65,536 units with it): mostly characters Windows leaves
 * alone (µ, ı, ſ, final ς, letters added to Unicode after its table), and Greek vowels with iota subscript, which
 * Windows maps to their titlecase forms.
 */
// prettier-ignore
const KERNEL_UPCASE_EXCEPTIONS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0xb5, 1, 1, 0], [0x131, 1, 1, 0], [0x17f, 1, 1, 0], [0x19b, 1, 1, 0], [0x1c5, 1, 1, 0], [0x1c8, 1, 1, 0],
  [0x1cb, 1, 1, 0], [0x1f2, 1, 1, 0], [0x23f, 2, 1, 0], [0x252, 1, 1, 0], [0x25c, 1, 1, 0], [0x261, 1, 1, 0],
  [0x264, 3, 1, 0], [0x26a, 2, 2, 0], [0x282, 1, 1, 0], [0x287, 1, 1, 0], [0x29d, 2, 1, 0], [0x345, 1, 1, 0],
  [0x3c2, 1, 1, 0], [0x3d0, 2, 1, 0], [0x3d5, 2, 1, 0], [0x3f0, 2, 1, 0], [0x3f3, 2, 2, 0], [0x525, 6, 2, 0],
  [0x10d0, 43, 1, 0], [0x10fd, 3, 1, 0], [0x13f8, 6, 1, 0], [0x1c80, 9, 1, 0], [0x1c8a, 1, 1, 0],
  [0x1d8e, 1, 1, 0], [0x1e9b, 1, 1, 0], [0x1f80, 8, 1, 8], [0x1f90, 8, 1, 8], [0x1fa0, 8, 1, 8],
  [0x1fb3, 1, 1, 9], [0x1fbe, 1, 1, 0], [0x1fc3, 1, 1, 9], [0x1ff3, 1, 1, 9], [0x2c5f, 1, 1, 0],
  [0x2cec, 2, 2, 0], [0x2cf3, 1, 1, 0], [0x2d27, 1, 1, 0], [0x2d2d, 1, 1, 0], [0xa661, 1, 1, 0],
  [0xa699, 2, 2, 0], [0xa791, 2, 2, 0], [0xa794, 1, 1, 0], [0xa797, 10, 2, 0], [0xa7b5, 8, 2, 0],
  [0xa7c8, 2, 2, 0], [0xa7cd, 8, 2, 0], [0xa7f6, 1, 1, 0], [0xab53, 1, 1, 0], [0xab70, 80, 1, 0],
];

const kernelExceptions = new Map<number, number>();
for (const [first, count, step, delta] of KERNEL_UPCASE_EXCEPTIONS) {
  for (let i = 0; i < count; i++) kernelExceptions.set(first + i * step, first + i * step + delta);
}

/**
 * Uppercase of one UTF-16 code unit, the way the kernel compares names: one unit in, one unit out
 * (RtlUpcaseUnicodeChar's table). JS's uppercase where that is one unit and the table agrees; the
 * table's value where it does not; the unit itself where the uppercase is longer (ß → SS).
 */
export function upcaseUnit(c: number): number {
  if (c < 0x80) return c >= 0x61 && c <= 0x7a ? c - 0x20 : c;
  const exception = kernelExceptions.get(c);
  if (exception !== undefined) return exception;
  const up = String.fromCharCode(c).toUpperCase();
  return up.length === 1 ? up.charCodeAt(0) : c;
}

/** The name uppercased unit by unit: the key that subkey lists are sorted and hashed by. */
export function upcaseName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(name)) return name.toUpperCase();
  let out = '';
  for (let i = 0; i < name.length; i++) out += String.fromCharCode(upcaseUnit(name.charCodeAt(i)));
  return out;
}

/** Ordinal comparison of two already-uppercased names by UTF-16 code unit (JS string order is exactly that). */
export function compareUpcased(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** lh hash: H = 37·H + upcase(unit) over the UTF-16 code units, modulo 2^32. */
export function nameHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 37) + upcaseUnit(name.charCodeAt(i))) >>> 0;
  return h;
}

/**
 * lf hint: the first four characters as stored (case kept), one byte each, unused bytes zero; when a character
 * does not fit one byte the hint cannot be made and its first byte is zero.
 */
export function lfHint(name: string): number {
  const b = [0, 0, 0, 0];
  for (let i = 0; i < Math.min(4, name.length); i++) {
    const c = name.charCodeAt(i);
    if (c >= LATIN1_LIMIT) return 0;
    b[i] = c;
  }
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

/** A name ready to store: bytes, and whether it is the one-byte ("compressed") form. */
export interface EncodedName {
  readonly bytes: Uint8Array;
  readonly compressed: boolean;
}

/** Latin-1 (one byte per character) when every character fits, UTF-16LE otherwise — as Windows does. */
export function encodeName(name: string): EncodedName {
  let fits = true;
  for (let i = 0; i < name.length && fits; i++) fits = name.charCodeAt(i) < LATIN1_LIMIT;
  if (fits) {
    const bytes = new Uint8Array(name.length);
    for (let i = 0; i < name.length; i++) bytes[i] = name.charCodeAt(i);
    return { bytes, compressed: true };
  }
  const bytes = new Uint8Array(name.length * 2);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    bytes[i * 2] = c & 0xff;
    bytes[i * 2 + 1] = c >>> 8;
  }
  return { bytes, compressed: false };
}

/** Key path components: `\A\B`, `A\B` and `A\B\` all give [A, B]; an empty inner component is regf.badPath. */
export function splitKeyPath(path: string): string[] {
  let p = path;
  if (p.startsWith('\\')) p = p.slice(1);
  if (p.endsWith('\\')) p = p.slice(0, -1);
  if (p === '') return [];
  const parts = p.split('\\');
  for (const part of parts) {
    if (part === '') {
      throw new WinrescueError('regf.badPath', `registry key path '${path}' has an empty component`, {
        path,
        structure: 'regf.nk',
      });
    }
    if (part.length > MAX_KEY_NAME) {
      throw new WinrescueError(
        'regf.nameTooLong',
        `registry key name '${part.slice(0, 40)}…' is ${part.length} characters, at most ${MAX_KEY_NAME} allowed`,
        { path, structure: 'regf.nk', expected: `<= ${MAX_KEY_NAME}`, actual: part.length },
      );
    }
  }
  return parts;
}

export function checkValueName(name: string, keyPath: string): void {
  if (name.length > MAX_VALUE_NAME) {
    throw new WinrescueError(
      'regf.nameTooLong',
      `registry value name '${name.slice(0, 40)}…' is ${name.length} characters, at most ${MAX_VALUE_NAME} allowed`,
      { path: keyPath, structure: 'regf.vk', expected: `<= ${MAX_VALUE_NAME}`, actual: name.length },
    );
  }
}
