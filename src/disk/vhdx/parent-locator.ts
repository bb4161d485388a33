// VHDX parent locator, [MS-VHDX] §2.6.2.6: a 20-byte header {locator type GUID, reserved u16, key-value count u16}
// then 12-byte entries {key offset u32, value offset u32, key length u16, value length u16}; keys and values are
// UTF-16LE without NUL. §2.6.2.6.3 defines the VHDX locator and its keys (parent_linkage, parent_linkage2,
// relative_path, volume_path, absolute_win32_path).
import { WinrescueError, hex } from '../../errors.js';
import {
  checkRange,
  encodeUtf16le,
  guidFromString,
  guidToString,
  setU16,
  setU32,
  u16,
  u32,
  utf16le,
} from '../../util/bytes.js';
import { LOCATOR_TYPE_VHDX } from './constants.js';

const HEADER_BYTES = 20;
const O_KEY_VALUE_COUNT = 18;
const ENTRY_BYTES = 12;

export interface ParentLocator {
  readonly locatorType: string;
  /** Keys as stored (case-sensitive, §2.6.2.6.2). */
  readonly entries: ReadonlyMap<string, string>;
}

/** `at` is the item's absolute file offset, for messages. */
export function parseParentLocator(item: Uint8Array, at: number, name: string): ParentLocator {
  const where = { structure: 'vhdx.parentLocator', base: at };
  checkRange(item.length, 0, HEADER_BYTES, where);
  const locatorType = guidToString(item, 0);
  if (locatorType !== LOCATOR_TYPE_VHDX) {
    throw new WinrescueError(
      'disk.unsupported',
      `VHDX ${name}: parent locator at ${hex(at)} has type ${locatorType}; only the VHDX locator (${LOCATOR_TYPE_VHDX}) is supported`,
      { offset: at, structure: 'vhdx.parentLocator', expected: LOCATOR_TYPE_VHDX, actual: locatorType },
    );
  }
  const count = u16(item, O_KEY_VALUE_COUNT);
  checkRange(item.length, HEADER_BYTES, count * ENTRY_BYTES, where);
  const entries = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const o = HEADER_BYTES + i * ENTRY_BYTES;
    const keyOffset = u32(item, o);
    const valueOffset = u32(item, o + 4);
    const keyLength = u16(item, o + 8);
    const valueLength = u16(item, o + 10);
    checkRange(item.length, keyOffset, keyLength, where);
    checkRange(item.length, valueOffset, valueLength, where);
    if (keyLength === 0 || keyLength % 2 !== 0 || valueLength % 2 !== 0) {
      throw new WinrescueError(
        'disk.badField',
        `VHDX ${name}: parent locator entry ${i} at ${hex(at + o)} has odd or empty lengths`,
        {
          offset: at + o,
          structure: 'vhdx.parentLocator',
          record: i,
          actual: { keyLength, valueLength },
        },
      );
    }
    entries.set(utf16le(item, keyOffset, keyLength), utf16le(item, valueOffset, valueLength));
  }
  return { locatorType, entries };
}

/** Lays out a VHDX parent locator item: header, entries, then the strings. */
export function serializeParentLocator(entries: ReadonlyMap<string, string>): Uint8Array {
  const strings: Uint8Array[] = [];
  for (const [k, v] of entries) strings.push(encodeUtf16le(k), encodeUtf16le(v));
  const tableEnd = HEADER_BYTES + entries.size * ENTRY_BYTES;
  const out = new Uint8Array(tableEnd + strings.reduce((n, s) => n + s.length, 0));
  out.set(guidFromString(LOCATOR_TYPE_VHDX), 0);
  setU16(out, O_KEY_VALUE_COUNT, entries.size);
  let pos = tableEnd;
  for (let i = 0; i < strings.length; i += 2) {
    const key = strings[i]!;
    const value = strings[i + 1]!;
    const o = HEADER_BYTES + (i / 2) * ENTRY_BYTES;
    setU32(out, o, pos);
    out.set(key, pos);
    pos += key.length;
    setU32(out, o + 4, pos);
    out.set(value, pos);
    pos += value.length;
    setU16(out, o + 8, key.length);
    setU16(out, o + 10, value.length);
  }
  return out;
}

/** A parent_linkage value "{83ed0ec3-...}" as our plain lowercase GUID form, or undefined if not a GUID. */
export function normalizeLinkage(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i.exec(value.trim());
  return m ? m[1]!.toLowerCase() : undefined;
}
