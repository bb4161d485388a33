// VHDX region table, [MS-VHDX] §2.2.3: "regi" header (signature, CRC-32C over the whole 64 KiB with the checksum
// zeroed, entry count <= 2047) then 32-byte entries {GUID, file offset, length, required}. Two identical copies at
// 192 KiB and 256 KiB.
import { WinrescueError, hex } from '../../errors.js';
import {
  ascii,
  checkRange,
  guidFromString,
  guidToString,
  setU32,
  setU64,
  u32,
  u64,
} from '../../util/bytes.js';
import { crc32c } from '../../util/crc.js';
import { MAX_TABLE_ENTRIES, REGION_TABLE_OFFSETS, REGION_TABLE_SIZE } from './constants.js';

export const REGION_TABLE_SIGNATURE = 'regi';
const O_CHECKSUM = 4;
const O_ENTRY_COUNT = 8;
const HEADER_BYTES = 16;
const ENTRY_BYTES = 32;
const E_GUID = 0;
const E_FILE_OFFSET = 16;
const E_LENGTH = 24;
const E_REQUIRED = 28;
/** §2.2.3.2 Required: bit 0; the other bits are reserved. */
const REQUIRED_BIT = 1;

export interface RegionEntry {
  readonly guid: string;
  readonly fileOffset: bigint;
  readonly length: number;
  readonly required: boolean;
}

export interface RegionTable {
  readonly entries: readonly RegionEntry[];
}

export type RegionTableCheck =
  | { readonly ok: true; readonly table: RegionTable }
  | {
      readonly ok: false;
      readonly code: 'disk.badSignature' | 'disk.badChecksum' | 'disk.badField';
      readonly message: string;
    };

export function regionTableChecksum(bytes: Uint8Array): number {
  const copy = bytes.slice(0, REGION_TABLE_SIZE);
  setU32(copy, O_CHECKSUM, 0);
  return crc32c(copy);
}

/** Checks one 64 KiB copy without throwing for damaged content: the other copy may be good. */
export function checkRegionTable(bytes: Uint8Array, copy: 0 | 1): RegionTableCheck {
  checkRange(bytes.length, 0, REGION_TABLE_SIZE, { structure: 'vhdx.regionTable', code: 'disk.truncated' });
  const at = `region table ${copy + 1} at ${hex(REGION_TABLE_OFFSETS[copy])}`;
  const signature = ascii(bytes, 0, 4);
  if (signature !== REGION_TABLE_SIGNATURE) {
    return {
      ok: false,
      code: 'disk.badSignature',
      message: `${at}: signature should be "regi", is ${JSON.stringify(signature)}`,
    };
  }
  const stored = u32(bytes, O_CHECKSUM);
  const computed = regionTableChecksum(bytes);
  if (stored !== computed) {
    return {
      ok: false,
      code: 'disk.badChecksum',
      message: `${at}: CRC-32C should be ${hex(computed)}, is ${hex(stored)}`,
    };
  }
  const count = u32(bytes, O_ENTRY_COUNT);
  if (count > MAX_TABLE_ENTRIES) {
    return {
      ok: false,
      code: 'disk.badField',
      message: `${at}: ${count} entries, at most ${MAX_TABLE_ENTRIES} allowed`,
    };
  }
  const entries: RegionEntry[] = [];
  for (let i = 0; i < count; i++) {
    const o = HEADER_BYTES + i * ENTRY_BYTES;
    entries.push({
      guid: guidToString(bytes, o + E_GUID),
      fileOffset: u64(bytes, o + E_FILE_OFFSET),
      length: u32(bytes, o + E_LENGTH),
      required: (u32(bytes, o + E_REQUIRED) & REQUIRED_BIT) !== 0,
    });
  }
  return { ok: true, table: { entries } };
}

export interface ChosenRegionTable {
  readonly table: RegionTable;
  readonly warning?: string;
}

/** The first valid copy; a warning when one copy is damaged; a typed error when both are. */
export function chooseRegionTable(
  copies: readonly [Uint8Array, Uint8Array],
  name: string,
): ChosenRegionTable {
  const a = checkRegionTable(copies[0], 0);
  const b = checkRegionTable(copies[1], 1);
  if (a.ok)
    return b.ok
      ? { table: a.table }
      : { table: a.table, warning: `VHDX ${name}: ${b.message}; using copy 1` };
  if (b.ok) return { table: b.table, warning: `VHDX ${name}: ${a.message}; using copy 2` };
  throw new WinrescueError(a.code, `VHDX ${name}: no valid region table: ${a.message}; ${b.message}`, {
    offset: REGION_TABLE_OFFSETS[0],
    structure: 'vhdx.regionTable',
  });
}

export function serializeRegionTable(table: RegionTable, out: Uint8Array): void {
  checkRange(out.length, 0, REGION_TABLE_SIZE, { structure: 'vhdx.regionTable' });
  if (table.entries.length > MAX_TABLE_ENTRIES) {
    throw new WinrescueError(
      'disk.badField',
      `region table: ${table.entries.length} entries, at most ${MAX_TABLE_ENTRIES}`,
      {
        structure: 'vhdx.regionTable',
      },
    );
  }
  out.fill(0, 0, REGION_TABLE_SIZE);
  for (let i = 0; i < 4; i++) out[i] = REGION_TABLE_SIGNATURE.charCodeAt(i);
  setU32(out, O_ENTRY_COUNT, table.entries.length);
  table.entries.forEach((e, i) => {
    const o = HEADER_BYTES + i * ENTRY_BYTES;
    out.set(guidFromString(e.guid), o + E_GUID);
    setU64(out, o + E_FILE_OFFSET, e.fileOffset);
    setU32(out, o + E_LENGTH, e.length);
    setU32(out, o + E_REQUIRED, e.required ? REQUIRED_BIT : 0);
  });
  setU32(out, O_CHECKSUM, regionTableChecksum(out));
}
