// VHDX metadata table, [MS-VHDX] §2.6.1: the first 64 KiB of the metadata region. A 32-byte header ("metadata",
// entry count <= 2047) then 32-byte entries {item GUID, offset and length within the region, IsUser,
// IsVirtualDisk, IsRequired}. Items lie at offset >= 64 KiB, inside the region, at most 1 MiB each.
import { WinrescueError, hex } from '../../errors.js';
import {
  ascii,
  checkRange,
  guidFromString,
  guidToString,
  setU16,
  setU32,
  u16,
  u32,
} from '../../util/bytes.js';
import { MAX_METADATA_ITEM_SIZE, MAX_TABLE_ENTRIES, METADATA_TABLE_SIZE } from './constants.js';

export const METADATA_SIGNATURE = 'metadata';
const O_ENTRY_COUNT = 10;
const HEADER_BYTES = 32;
const ENTRY_BYTES = 32;
const E_ITEM_ID = 0;
const E_OFFSET = 16;
const E_LENGTH = 20;
const E_FLAGS = 24;
const FLAG_IS_USER = 1 << 0;
const FLAG_IS_VIRTUAL_DISK = 1 << 1;
const FLAG_IS_REQUIRED = 1 << 2;

export interface MetadataEntry {
  readonly itemId: string;
  /** Relative to the start of the metadata region. */
  readonly offset: number;
  readonly length: number;
  readonly isUser: boolean;
  readonly isVirtualDisk: boolean;
  readonly isRequired: boolean;
}

/**
 * Parses the table from the metadata region's bytes (`region` holds at least the whole region, so items can be
 * bounds-checked against it). `regionOffset` is the region's file offset, for messages.
 */
export function parseMetadataTable(region: Uint8Array, regionOffset: number, name: string): MetadataEntry[] {
  const where = { structure: 'vhdx.metadata', base: regionOffset };
  checkRange(region.length, 0, METADATA_TABLE_SIZE, { ...where, code: 'disk.truncated' });
  const signature = ascii(region, 0, 8);
  if (signature !== METADATA_SIGNATURE) {
    throw new WinrescueError(
      'disk.badSignature',
      `VHDX ${name}: metadata table at ${hex(regionOffset)}: signature should be "metadata", is ${JSON.stringify(signature)}`,
      { offset: regionOffset, structure: 'vhdx.metadata', expected: METADATA_SIGNATURE, actual: signature },
    );
  }
  const count = u16(region, O_ENTRY_COUNT);
  if (count > MAX_TABLE_ENTRIES) {
    throw new WinrescueError(
      'disk.badField',
      `VHDX ${name}: metadata table at ${hex(regionOffset)} claims ${count} entries, at most ${MAX_TABLE_ENTRIES} allowed`,
      {
        offset: regionOffset + O_ENTRY_COUNT,
        structure: 'vhdx.metadata',
        expected: `<= ${MAX_TABLE_ENTRIES}`,
        actual: count,
      },
    );
  }
  const entries: MetadataEntry[] = [];
  for (let i = 0; i < count; i++) {
    const o = HEADER_BYTES + i * ENTRY_BYTES;
    const flags = u32(region, o + E_FLAGS);
    const entry: MetadataEntry = {
      itemId: guidToString(region, o + E_ITEM_ID),
      offset: u32(region, o + E_OFFSET),
      length: u32(region, o + E_LENGTH),
      isUser: (flags & FLAG_IS_USER) !== 0,
      isVirtualDisk: (flags & FLAG_IS_VIRTUAL_DISK) !== 0,
      isRequired: (flags & FLAG_IS_REQUIRED) !== 0,
    };
    const fail = (what: string, expected: unknown, actual: unknown): never => {
      throw new WinrescueError(
        'disk.badField',
        `VHDX ${name}: metadata entry ${i} (item ${entry.itemId}) at ${hex(regionOffset + o)}: ${what}`,
        { offset: regionOffset + o, structure: 'vhdx.metadata', record: i, expected, actual },
      );
    };
    if (entry.length > MAX_METADATA_ITEM_SIZE)
      fail(`length ${entry.length} exceeds 1 MiB`, `<= ${MAX_METADATA_ITEM_SIZE}`, entry.length);
    if (entry.length === 0) {
      if (entry.offset !== 0)
        fail(`empty item with offset ${hex(entry.offset)} (must be 0)`, 0, entry.offset);
    } else {
      if (entry.offset < METADATA_TABLE_SIZE)
        fail(`offset ${hex(entry.offset)} lies inside the table`, `>= ${METADATA_TABLE_SIZE}`, entry.offset);
      if (entry.offset + entry.length > region.length) {
        fail(
          `item ${hex(entry.offset)}+${entry.length} lies outside the ${region.length}-byte region`,
          `<= ${region.length}`,
          entry.offset + entry.length,
        );
      }
    }
    for (const prev of entries) {
      if (prev.itemId === entry.itemId && prev.isUser === entry.isUser)
        fail('item listed twice', 'unique', entry.itemId);
      if (
        prev.length > 0 &&
        entry.length > 0 &&
        entry.offset < prev.offset + prev.length &&
        prev.offset < entry.offset + entry.length
      ) {
        fail(`overlaps item ${prev.itemId}`, 'no overlap', `${hex(entry.offset)}+${entry.length}`);
      }
    }
    entries.push(entry);
  }
  return entries;
}

/** Writes a table header and entries into the first 64 KiB of `out` (a metadata region buffer). */
export function serializeMetadataTable(entries: readonly MetadataEntry[], out: Uint8Array): void {
  checkRange(out.length, 0, METADATA_TABLE_SIZE, { structure: 'vhdx.metadata' });
  out.fill(0, 0, METADATA_TABLE_SIZE);
  for (let i = 0; i < 8; i++) out[i] = METADATA_SIGNATURE.charCodeAt(i);
  setU16(out, O_ENTRY_COUNT, entries.length);
  entries.forEach((e, i) => {
    const o = HEADER_BYTES + i * ENTRY_BYTES;
    out.set(guidFromString(e.itemId), o + E_ITEM_ID);
    setU32(out, o + E_OFFSET, e.offset);
    setU32(out, o + E_LENGTH, e.length);
    setU32(
      out,
      o + E_FLAGS,
      (e.isUser ? FLAG_IS_USER : 0) |
        (e.isVirtualDisk ? FLAG_IS_VIRTUAL_DISK : 0) |
        (e.isRequired ? FLAG_IS_REQUIRED : 0),
    );
  });
}
