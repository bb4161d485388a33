// Registry value types and their data encodings. Spec: Microsoft "Registry value types" (winnt.h REG_*);
// msuhanov regf spec, "Key value" (data types).
import { WinrescueError } from '../errors.js';

export const REG_NONE = 0;
export const REG_SZ = 1;
export const REG_EXPAND_SZ = 2;
export const REG_BINARY = 3;
export const REG_DWORD = 4;
export const REG_DWORD_BIG_ENDIAN = 5;
export const REG_LINK = 6;
export const REG_MULTI_SZ = 7;
export const REG_RESOURCE_LIST = 8;
export const REG_FULL_RESOURCE_DESCRIPTOR = 9;
export const REG_RESOURCE_REQUIREMENTS_LIST = 10;
export const REG_QWORD = 11;

const TYPE_NAMES: readonly string[] = [
  'REG_NONE',
  'REG_SZ',
  'REG_EXPAND_SZ',
  'REG_BINARY',
  'REG_DWORD',
  'REG_DWORD_BIG_ENDIAN',
  'REG_LINK',
  'REG_MULTI_SZ',
  'REG_RESOURCE_LIST',
  'REG_FULL_RESOURCE_DESCRIPTOR',
  'REG_RESOURCE_REQUIREMENTS_LIST',
  'REG_QWORD',
];

/** `REG_DWORD`, or `0x20000` style for types Windows does not name (BCD and drivers use private ones). */
export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `0x${(type >>> 0).toString(16)}`;
}

/** Accepts `REG_DWORD`, `dword`, `4`, `0x4` (any case); unknown numeric types are allowed, names are not. */
export function parseTypeName(text: string): number {
  const t = text.trim().toUpperCase();
  const byName = TYPE_NAMES.indexOf(t.startsWith('REG_') ? t : `REG_${t}`);
  if (byName >= 0) return byName;
  if (/^(0X[0-9A-F]{1,8}|\d{1,10})$/.test(t)) {
    const n = Number(t.startsWith('0X') ? parseInt(t.slice(2), 16) : t);
    if (n <= 0xffffffff) return n;
  }
  throw new WinrescueError(
    'regf.badValue',
    `unknown value type '${text}': use ${TYPE_NAMES.join(', ')} or a number`,
    { expected: 'a REG_* type name or a number', actual: text },
  );
}

const isString = (type: number): boolean => type === REG_SZ || type === REG_EXPAND_SZ || type === REG_LINK;

function utf16(text: string, terminate: boolean): Uint8Array {
  const out = new Uint8Array((text.length + (terminate ? 1 : 0)) * 2);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[i * 2] = c & 0xff;
    out[i * 2 + 1] = c >> 8;
  }
  return out;
}

function readUtf16(data: Uint8Array): string {
  // An odd trailing byte is not half a character Windows would show; drop it like regedit does.
  const even = data.subarray(0, data.length & ~1);
  return new TextDecoder('utf-16le').decode(even);
}

function parseInteger(text: string, bits: 32 | 64): bigint {
  const t = text.trim();
  const ok = /^(0x[0-9a-f]+|\d+)$/i.test(t);
  const n = ok ? BigInt(t) : -1n;
  if (n < 0n || n >= 1n << BigInt(bits)) {
    throw new WinrescueError(
      'regf.badValue',
      `'${text}' is not a ${bits}-bit unsigned number (decimal or 0x hex)`,
      { expected: `0 .. 2^${bits}-1`, actual: text },
    );
  }
  return n;
}

function parseHex(text: string): Uint8Array {
  const t = text.replace(/^hex:/i, '').replace(/[\s,:]/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(t)) {
    throw new WinrescueError('regf.badValue', `binary data must be hex bytes like 01,a0,ff or 01a0ff`, {
      expected: 'hex bytes',
      actual: text,
    });
  }
  return Uint8Array.from(t.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/**
 * Data bytes for `reg set`: strings as UTF-16LE with their terminator (as Windows stores them), MULTI_SZ from
 * one argument per item, numbers in decimal or 0x hex, everything else (binary, resource lists, unknown types)
 * as hex bytes.
 */
export function encodeValue(type: number, args: readonly string[]): Uint8Array {
  if (type === REG_MULTI_SZ) {
    const items = args.filter((a) => a !== '');
    return utf16(items.map((s) => `${s}\0`).join('') + '\0', false);
  }
  const text = args.join(' ');
  if (isString(type)) return utf16(text, type !== REG_LINK);
  if (type === REG_DWORD || type === REG_DWORD_BIG_ENDIAN) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, Number(parseInteger(text, 32)), type === REG_DWORD);
    return b;
  }
  if (type === REG_QWORD) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, parseInteger(text, 64), true);
    return b;
  }
  return parseHex(text);
}

export type DecodedValue = string | number | string[];

/** The value as a person reads it; data that does not fit its type's natural shape stays hex. */
export function decodeValue(type: number, data: Uint8Array): { value: DecodedValue; hex: boolean } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (isString(type)) {
    const s = readUtf16(data);
    const nul = s.indexOf('\0');
    return { value: nul >= 0 ? s.slice(0, nul) : s, hex: false };
  }
  if (type === REG_MULTI_SZ) {
    const items = readUtf16(data).split('\0');
    while (items.length > 0 && items[items.length - 1] === '') items.pop();
    return { value: items, hex: false };
  }
  if ((type === REG_DWORD || type === REG_DWORD_BIG_ENDIAN) && data.length === 4) {
    return { value: view.getUint32(0, type === REG_DWORD), hex: false };
  }
  if (type === REG_QWORD && data.length === 8) {
    // QWORDs pass 2^53; a decimal string keeps them exact in JSON.
    return { value: view.getBigUint64(0, true).toString(), hex: false };
  }
  return { value: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex'), hex: true };
}

/** One-line text form, as `reg query` prints it: numbers in 0x hex, MULTI_SZ items joined by `\0`. */
export function formatValue(type: number, data: Uint8Array): string {
  const { value, hex } = decodeValue(type, data);
  if (Array.isArray(value)) return value.join('\\0');
  if (typeof value === 'number') return `0x${value.toString(16)}`;
  if (type === REG_QWORD && !hex) return `0x${BigInt(value).toString(16)}`;
  return value;
}
