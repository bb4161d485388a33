// Key value (vk). Spec: msuhanov regf spec, "Key value"; libregf REGF "Value key".
import { u16, u32, ascii, utf16le } from '../../util/bytes.js';
import { type Cell, cellField, expectSignature } from './cell.js';

/** Value name stored one byte per character. */
export const VALUE_COMP_NAME = 0x0001;
/** MSB of the data size: data (≤ 4 bytes) lives in the data-offset field itself. */
export const DATA_INLINE = 0x80000000;
const VK_FIXED = 20;

export interface KeyValue {
  readonly cell: Cell;
  readonly name: string;
  readonly dataSize: number;
  readonly inline: boolean;
  /** Data cell offset, or the raw inline bytes' container when inline. */
  readonly dataOffset: number;
  readonly inlineData: Uint8Array;
  readonly type: number;
  readonly flags: number;
}

export function parseKeyValue(cell: Cell): KeyValue {
  expectSignature(cell, 'vk', 'vk');
  const f = cellField(cell, 0, VK_FIXED, 'vk header');
  const nameLen = u16(f, 2);
  const rawSize = u32(f, 4);
  const flags = u16(f, 16);
  const nameBytes = cellField(cell, VK_FIXED, nameLen, 'vk name');
  const name = flags & VALUE_COMP_NAME ? ascii(nameBytes, 0, nameLen) : utf16le(nameBytes, 0, nameLen);
  const inline = (rawSize & DATA_INLINE) !== 0;
  const dataSize = rawSize & ~DATA_INLINE & 0x7fffffff;
  return {
    cell,
    name,
    dataSize,
    inline,
    dataOffset: u32(f, 8),
    inlineData: f.subarray(8, 8 + Math.min(4, dataSize)),
    type: u32(f, 12),
    flags,
  };
}
