// BCD element values: registry type and bytes ↔ typed value, per element format. Spec: REFERENCE.md §2.4
// ("How each format is stored"): ReactOS bcd.c BiConvertRegistryDataToElement, DiscUtils Element.cs.
// Booleans are exactly 1 byte (bootmgr rejects other lengths), integers 8 bytes LE (readers accept ≤ 8),
// objects REG_SZ GUIDs, object lists REG_MULTI_SZ, integer lists n × 8 bytes, devices REG_BINARY.
// A value that does not have its format's shape is kept raw (hex) with the reason, never dropped or rewritten.
import { WinrescueError, isWinrescueError } from '../errors.js';
import { setU64 } from '../util/bytes.js';
import { REG_BINARY, REG_MULTI_SZ, REG_SZ, typeName } from '../registry/value-data.js';
import { decodeDevice, formatDevice, type BcdDevice } from './device.js';
import { INTEGER_ENUMS, splitElementCode, type ElementFormat } from './element-types.js';
import { aliasOf, normalizeGuid } from './object-types.js';

const BOOLEAN_SIZE = 1;
const INTEGER_SIZE = 8;

export type BcdValue =
  | { readonly format: 'boolean'; readonly value: boolean }
  | { readonly format: 'integer'; readonly value: bigint }
  | { readonly format: 'string'; readonly value: string }
  | { readonly format: 'object'; readonly value: string }
  | { readonly format: 'objectList'; readonly value: readonly string[] }
  | { readonly format: 'integerList'; readonly value: readonly bigint[] }
  | { readonly format: 'device'; readonly value: BcdDevice }
  | { readonly format: 'raw'; readonly value: string; readonly reason: string };

const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function utf16(data: Uint8Array): string {
  // An odd trailing byte cannot be part of a UTF-16 string; ReactOS also reads only whole characters.
  return new TextDecoder('utf-16le').decode(data.subarray(0, data.length & ~1));
}

function le64(data: Uint8Array): bigint {
  let v = 0n;
  for (let i = Math.min(data.length, INTEGER_SIZE) - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[i]!);
  return v;
}

const raw = (data: Uint8Array, reason: string): BcdValue => ({ format: 'raw', value: hexOf(data), reason });

/** Decodes element `code`'s stored value. Never throws for odd data: it comes back raw with the reason. */
export function decodeElementValue(code: number, regType: number, data: Uint8Array): BcdValue {
  const format = splitElementCode(code).format;
  if (format === undefined) return raw(data, `format nibble ${(code >>> 24) & 0xf} is not a known format`);
  const want = registryTypeOf(format);
  if (regType !== want)
    return raw(data, `${format} element stored as ${typeName(regType)}, expected ${typeName(want)}`);
  switch (format) {
    case 'boolean':
      return data.length === BOOLEAN_SIZE
        ? { format, value: data[0] !== 0 }
        : raw(data, `boolean of ${data.length} bytes, expected ${BOOLEAN_SIZE}`);
    case 'integer':
      return data.length >= 1 && data.length <= INTEGER_SIZE
        ? { format, value: le64(data) }
        : raw(data, `integer of ${data.length} bytes, expected 1..${INTEGER_SIZE}`);
    case 'integerList': {
      if (data.length % INTEGER_SIZE !== 0)
        return raw(data, `integer list of ${data.length} bytes, not a multiple of ${INTEGER_SIZE}`);
      const out: bigint[] = [];
      for (let i = 0; i < data.length; i += INTEGER_SIZE) out.push(le64(data.subarray(i, i + INTEGER_SIZE)));
      return { format, value: out };
    }
    case 'string': {
      const s = utf16(data);
      const nul = s.indexOf('\0');
      return { format, value: nul >= 0 ? s.slice(0, nul) : s };
    }
    case 'object': {
      const s = utf16(data).replace(/\0.*$/s, '');
      const g = normalizeGuid(s);
      return g === null ? raw(data, `object element holds "${s}", not a GUID`) : { format, value: g };
    }
    case 'objectList': {
      const items = utf16(data)
        .split('\0')
        .filter((x) => x !== '');
      const guids = items.map(normalizeGuid);
      const badIndex = guids.indexOf(null);
      return badIndex >= 0
        ? raw(data, `object list item "${items[badIndex]}" is not a GUID`)
        : { format, value: guids as string[] };
    }
    case 'device':
      try {
        return { format, value: decodeDevice(data) };
      } catch (e) {
        if (isWinrescueError(e)) return raw(data, e.message);
        throw e;
      }
  }
}

/** The registry type an element of this format is stored as. */
export function registryTypeOf(format: ElementFormat): number {
  switch (format) {
    case 'string':
    case 'object':
      return REG_SZ;
    case 'objectList':
      return REG_MULTI_SZ;
    default:
      return REG_BINARY;
  }
}

function sz(s: string, lists = false): Uint8Array {
  const text = lists ? s : s + '\0';
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    out[i * 2] = text.charCodeAt(i) & 0xff;
    out[i * 2 + 1] = text.charCodeAt(i) >>> 8;
  }
  return out;
}

function guidOrThrow(s: string): string {
  const g = normalizeGuid(s);
  if (g === null) throw new WinrescueError('bcd.badStore', `not an object identifier: ${s}`, { actual: s });
  return g;
}

/**
 * Encodes a value the way bcdedit stores it: { type, data } for the element's `Element` value. A raw value is
 * written back as its bytes with REG_BINARY only when the caller passes its original type.
 */
export function encodeElementValue(v: BcdValue, rawType = REG_BINARY): { type: number; data: Uint8Array } {
  switch (v.format) {
    case 'boolean':
      return { type: REG_BINARY, data: Uint8Array.of(v.value ? 1 : 0) };
    case 'integer': {
      const data = new Uint8Array(INTEGER_SIZE);
      setU64(data, 0, BigInt.asUintN(64, v.value));
      return { type: REG_BINARY, data };
    }
    case 'integerList': {
      const data = new Uint8Array(INTEGER_SIZE * v.value.length);
      v.value.forEach((x, i) => setU64(data, i * INTEGER_SIZE, BigInt.asUintN(64, x)));
      return { type: REG_BINARY, data };
    }
    case 'string':
      return { type: REG_SZ, data: sz(v.value) };
    case 'object':
      return { type: REG_SZ, data: sz(guidOrThrow(v.value)) };
    case 'objectList':
      // Each GUID NUL-terminated, then the list's closing NUL.
      return {
        type: REG_MULTI_SZ,
        data: sz(v.value.map((g) => guidOrThrow(g) + '\0').join('') + '\0', true),
      };
    case 'device':
      throw new WinrescueError(
        'bcd.badStore',
        'device values are encoded with encodePartitionDevice/encodeBootDevice',
        { structure: 'bcd.device' },
      );
    case 'raw': {
      const hex = v.value;
      const data = new Uint8Array(hex.length / 2);
      for (let i = 0; i < data.length; i++) data[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
      return { type: rawType, data };
    }
  }
}

/** An object identifier as bcdedit prints it: its alias when it has one. */
export function showObject(guid: string): string {
  return aliasOf(guid) ?? guid;
}

/** The value as `bcdedit /enum` prints it (one line; lists joined by newline-free spaces are split by the caller). */
export function formatElementValue(v: BcdValue, name?: string): string[] {
  switch (v.format) {
    case 'boolean':
      return [v.value ? 'Yes' : 'No'];
    case 'integer': {
      const names = name === undefined ? undefined : INTEGER_ENUMS.get(name);
      const n = v.value;
      return [names !== undefined && n < BigInt(names.length) ? names[Number(n)]! : n.toString()];
    }
    case 'integerList':
      return v.value.length === 0 ? [''] : v.value.map((x) => `0x${x.toString(16)}`);
    case 'string':
      return [v.value];
    case 'object':
      return [showObject(v.value)];
    case 'objectList':
      return v.value.length === 0 ? [''] : v.value.map(showObject);
    case 'device':
      return [formatDevice(v.value)];
    case 'raw':
      return [`(raw ${v.value}: ${v.reason})`];
  }
}

/** The value for JSON: bigints as numbers when exact, else decimal strings. */
export function jsonValue(v: BcdValue): unknown {
  const n = (x: bigint) => (x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString());
  switch (v.format) {
    case 'integer':
      return n(v.value);
    case 'integerList':
      return v.value.map(n);
    default:
      return v.value;
  }
}
