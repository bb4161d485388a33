// GUID Partition Table: header and partition entry array. Source: UEFI Specification 2.10, §5.3 "GUID Partition
// Table (GPT) Disk Layout" (Table 5-5 header, Table 5-6 entry). Pure parsers; choosing between the primary and the
// backup copy is in gpt-read.ts.
import { WinrescueError, hex } from '../errors.js';
import { crc32 } from '../util/crc.js';
import { ascii, checkRange, guidToString, isZero, slice, toSafeNumber, u32, u64 } from '../util/bytes.js';

export const GPT_SIGNATURE = 'EFI PART';
/** The primary header always sits at LBA 1, right after the protective MBR. */
export const PRIMARY_HEADER_LBA = 1;
/** Revision 1.0 (0x00010000); the major half must be 1, later minor revisions only add meaning to reserved bytes. */
export const REVISION_MAJOR = 1;
/** Bytes covered by the header CRC at minimum: the fields of Table 5-5. */
export const MIN_HEADER_SIZE = 92;
/** The spec requires 128 × 2^n; anything smaller cannot hold the defined fields. */
export const MIN_ENTRY_SIZE = 128;
/**
 * Largest entry array we will read. Every real table is 16 KiB (128 × 128); a corrupt count × size could ask for
 * gigabytes, so beyond this the header is treated as damaged.
 */
export const MAX_ENTRY_ARRAY_BYTES = 1 << 20;
/** Partition name: 36 UTF-16LE code units. */
export const ENTRY_NAME_OFFSET = 56;
export const ENTRY_NAME_BYTES = 72;

// Header fields (Table 5-5).
const H_SIGNATURE = 0;
const H_REVISION = 8;
const H_HEADER_SIZE = 12;
const H_HEADER_CRC = 16; // CRC-32 of headerSize bytes with this field zeroed
const H_MY_LBA = 24;
const H_ALTERNATE_LBA = 32;
const H_FIRST_USABLE = 40;
const H_LAST_USABLE = 48;
const H_DISK_GUID = 56;
const H_ENTRY_LBA = 72;
const H_ENTRY_COUNT = 80;
const H_ENTRY_SIZE = 84;
const H_ENTRY_ARRAY_CRC = 88; // CRC-32 of entryCount × entrySize bytes

// Entry fields (Table 5-6).
const P_TYPE_GUID = 0;
const P_UNIQUE_GUID = 16;
const P_FIRST_LBA = 32;
const P_LAST_LBA = 40; // inclusive
const P_ATTRIBUTES = 48;

export interface GptHeader {
  readonly revision: number;
  readonly headerSize: number;
  readonly headerCrc: number;
  readonly myLba: number;
  readonly alternateLba: number;
  readonly firstUsableLba: number;
  readonly lastUsableLba: number;
  readonly diskGuid: string;
  readonly entryLba: number;
  readonly entryCount: number;
  readonly entrySize: number;
  readonly entryArrayCrc: number;
}

export interface GptEntry {
  /** 0-based position in the entry array; sfdisk numbers partitions slot + 1. */
  readonly slot: number;
  readonly typeGuid: string;
  readonly uniqueGuid: string;
  /** Kept as read: the reader checks them against the disk and reports impossible ones per entry. */
  readonly firstLba: bigint;
  readonly lastLba: bigint;
  readonly attributes: bigint;
  readonly name: string;
}

/** Every header fault message starts with this, so a reader can restate the fault for its own copy. */
export const headerFaultPrefix = (base: number): string => `GPT header at ${hex(base)}: `;

const badGpt = (
  base: number,
  fault: string,
  at: number,
  expected?: unknown,
  actual?: unknown,
): WinrescueError =>
  new WinrescueError('partition.badGpt', headerFaultPrefix(base) + fault, {
    offset: at,
    structure: 'gpt.header',
    expected,
    actual,
  });

/** True when `sector` starts with "EFI PART": a header is there, whole or damaged. */
export function hasGptSignature(sector: Uint8Array): boolean {
  return sector.length >= 8 && ascii(sector, H_SIGNATURE, 8) === GPT_SIGNATURE;
}

/**
 * Parses and validates the header in `sector` (one logical block read at device offset `base`). Throws
 * `partition.badGpt` for a missing signature, a CRC mismatch or a field no valid header can hold.
 */
export function parseGptHeader(sector: Uint8Array, base: number): GptHeader {
  const where = { structure: 'gpt.header', base, code: 'partition.badGpt' as const };
  checkRange(sector.length, 0, MIN_HEADER_SIZE, where);
  if (!hasGptSignature(sector)) {
    throw badGpt(
      base,
      `header missing (no "${GPT_SIGNATURE}" signature)`,
      base,
      GPT_SIGNATURE,
      ascii(sector, 0, 8),
    );
  }
  const headerSize = u32(sector, H_HEADER_SIZE);
  if (headerSize < MIN_HEADER_SIZE || headerSize > sector.length) {
    throw badGpt(
      base,
      `header size ${headerSize} is outside ${MIN_HEADER_SIZE}..${sector.length}`,
      base + H_HEADER_SIZE,
      `${MIN_HEADER_SIZE}..${sector.length}`,
      headerSize,
    );
  }
  const headerCrc = u32(sector, H_HEADER_CRC);
  const covered = slice(sector, 0, headerSize, where).slice();
  covered.fill(0, H_HEADER_CRC, H_HEADER_CRC + 4);
  const computed = crc32(covered);
  if (computed !== headerCrc) {
    throw badGpt(
      base,
      `header CRC mismatch (stored ${hex(headerCrc)}, computed ${hex(computed)})`,
      base + H_HEADER_CRC,
      computed,
      headerCrc,
    );
  }
  const revision = u32(sector, H_REVISION);
  if (revision >>> 16 !== REVISION_MAJOR) {
    throw badGpt(
      base,
      `header revision ${hex(revision)} is not 1.x`,
      base + H_REVISION,
      0x00010000,
      revision,
    );
  }
  const lba = (o: number) => toSafeNumber(u64(sector, o), { ...where, offset: base + o });
  const entryCount = u32(sector, H_ENTRY_COUNT);
  const entrySize = u32(sector, H_ENTRY_SIZE);
  // 128 × 2^n: a power of two no smaller than 128.
  if (entrySize < MIN_ENTRY_SIZE || (entrySize & (entrySize - 1)) !== 0) {
    throw badGpt(
      base,
      `header entry size ${entrySize} is not 128 × 2^n`,
      base + H_ENTRY_SIZE,
      '128 × 2^n',
      entrySize,
    );
  }
  if (entryCount * entrySize > MAX_ENTRY_ARRAY_BYTES) {
    throw badGpt(
      base,
      `header entry array of ${entryCount} × ${entrySize} bytes is larger than ${MAX_ENTRY_ARRAY_BYTES}`,
      base + H_ENTRY_COUNT,
      `<= ${MAX_ENTRY_ARRAY_BYTES}`,
      entryCount * entrySize,
    );
  }
  const header: GptHeader = {
    revision,
    headerSize,
    headerCrc,
    myLba: lba(H_MY_LBA),
    alternateLba: lba(H_ALTERNATE_LBA),
    firstUsableLba: lba(H_FIRST_USABLE),
    lastUsableLba: lba(H_LAST_USABLE),
    diskGuid: guidToString(sector, H_DISK_GUID),
    entryLba: lba(H_ENTRY_LBA),
    entryCount,
    entrySize,
    entryArrayCrc: u32(sector, H_ENTRY_ARRAY_CRC),
  };
  if (header.firstUsableLba > header.lastUsableLba + 1) {
    throw badGpt(
      base,
      `header first usable LBA ${header.firstUsableLba} is after last usable LBA ${header.lastUsableLba}`,
      base + H_FIRST_USABLE,
      `<= ${header.lastUsableLba + 1}`,
      header.firstUsableLba,
    );
  }
  return header;
}

/** Bytes of the entry array the header describes (and its CRC covers). */
export const entryArrayBytes = (h: GptHeader): number => h.entryCount * h.entrySize;

/** Throws `partition.badGpt` unless the CRC-32 of `array` equals the header's entry array CRC. */
export function checkEntryArrayCrc(h: GptHeader, array: Uint8Array, base: number): void {
  checkRange(array.length, 0, entryArrayBytes(h), {
    structure: 'gpt.entries',
    base,
    code: 'partition.badGpt',
  });
  const computed = crc32(array.subarray(0, entryArrayBytes(h)));
  if (computed !== h.entryArrayCrc) {
    throw new WinrescueError(
      'partition.badGpt',
      `GPT entry array at ${hex(base)}: entry array CRC mismatch (header says ${hex(h.entryArrayCrc)}, computed ${hex(computed)})`,
      { offset: base, structure: 'gpt.entries', expected: h.entryArrayCrc, actual: computed },
    );
  }
}

/** The used entries (type GUID not all zero) of an array already checked by checkEntryArrayCrc. */
export function parseGptEntries(h: GptHeader, array: Uint8Array, base: number): GptEntry[] {
  const out: GptEntry[] = [];
  for (let slot = 0; slot < h.entryCount; slot++) {
    const e = slice(array, slot * h.entrySize, MIN_ENTRY_SIZE, {
      structure: 'gpt.entry',
      base,
      code: 'partition.badGpt',
    });
    if (isZero(e.subarray(P_TYPE_GUID, P_TYPE_GUID + 16))) continue;
    out.push({
      slot,
      typeGuid: guidToString(e, P_TYPE_GUID),
      uniqueGuid: guidToString(e, P_UNIQUE_GUID),
      firstLba: u64(e, P_FIRST_LBA),
      lastLba: u64(e, P_LAST_LBA),
      attributes: u64(e, P_ATTRIBUTES),
      name: entryName(e),
    });
  }
  return out;
}

/** UTF-16LE, up to the first NUL code unit (the field is NUL-padded, not NUL-terminated when full). */
function entryName(e: Uint8Array): string {
  let end = ENTRY_NAME_OFFSET;
  while (end < ENTRY_NAME_OFFSET + ENTRY_NAME_BYTES && (e[end] !== 0 || e[end + 1] !== 0)) end += 2;
  return new TextDecoder('utf-16le').decode(e.subarray(ENTRY_NAME_OFFSET, end));
}
