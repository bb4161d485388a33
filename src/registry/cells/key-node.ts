// Key node (nk). Spec: msuhanov regf spec, "Key node"; libregf REGF "Named key".
import { ascii, u16, u32, utf16le } from '../../util/bytes.js';
import { type Cell, cellError, cellField, expectSignature } from './cell.js';

/** Name stored one byte per character (Latin-1), not UTF-16. */
export const KEY_COMP_NAME = 0x0020;
export const KEY_HIVE_ENTRY = 0x0004;
/** Fixed part of nk up to the name. */
const NK_FIXED = 76;

export interface KeyNode {
  readonly cell: Cell;
  readonly flags: number;
  readonly lastWritten: bigint;
  readonly parent: number;
  readonly subkeyCount: number;
  readonly subkeyList: number;
  readonly volatileSubkeyCount: number;
  readonly valueCount: number;
  readonly valueList: number;
  readonly security: number;
  readonly classOffset: number;
  readonly classLength: number;
  readonly name: string;
}

export function parseKeyNode(cell: Cell): KeyNode {
  expectSignature(cell, 'nk', 'nk');
  const f = cellField(cell, 0, NK_FIXED, 'nk header');
  const flags = u16(f, 2);
  const nameLen = u16(f, 72);
  const nameBytes = cellField(cell, NK_FIXED, nameLen, 'nk name');
  const name = flags & KEY_COMP_NAME ? ascii(nameBytes, 0, nameLen) : utf16le(nameBytes, 0, nameLen);
  if (nameLen === 0 && !(flags & KEY_HIVE_ENTRY)) throw cellError(cell.abs, 'nk has an empty name');
  const view = new DataView(f.buffer, f.byteOffset, f.byteLength);
  return {
    cell,
    flags,
    lastWritten: view.getBigUint64(4, true),
    parent: u32(f, 16),
    subkeyCount: u32(f, 20),
    volatileSubkeyCount: u32(f, 24),
    subkeyList: u32(f, 28),
    valueCount: u32(f, 36),
    valueList: u32(f, 40),
    security: u32(f, 44),
    classOffset: u32(f, 48),
    classLength: u16(f, 74),
    name,
  };
}
