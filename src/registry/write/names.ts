// Key and value names as the writer stores and orders them. Spec: msuhanov regf spec, "Index leaf" (sort order),
// "Fast leaf" (name hint), "Hash leaf" note (name hash), "Key node"/"Key value" flags (KEY_COMP_NAME, VALUE_COMP_NAME).
import { WinrescueError } from '../../errors.js';
import { upcaseName, upcaseUnit } from '../upcase.js';

export { upcaseName, upcaseUnit };

/** Windows limits key names to 255 characters (RegCreateKeyEx, "Registry element size limits"). */
export const MAX_KEY_NAME = 255;
/** Value names are limited to 16,383 characters ("Registry element size limits"). */
export const MAX_VALUE_NAME = 16383;
/** Names whose every UTF-16 code unit is below this fit one byte per character ("extended ASCII"). */
const LATIN1_LIMIT = 0x100;

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
