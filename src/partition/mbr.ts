// The MBR / EBR sector. Sources: UEFI 2.10 §5.2.1 "Legacy Master Boot Record" (Tables 5-1 and 5-2) for the
// layout; Andries Brouwer, "Partition types" and "Extended partition" notes (win.tue.nl/~aeb/partitions) for
// extended-partition chaining. CHS fields are ignored: every tool since the 1990s trusts the LBA fields.
import { checkRange, u8, u16, u32 } from '../util/bytes.js';

/** The MBR is the first 512 bytes of LBA 0 whatever the logical sector size (a 4Kn disk pads the rest). */
export const MBR_SIZE = 512;
/** Optional 32-bit Windows disk signature (what BCD device elements name an MBR disk by). */
export const DISK_SIGNATURE_OFFSET = 440;
export const ENTRY_TABLE_OFFSET = 446;
export const ENTRY_SIZE = 16;
export const ENTRY_COUNT = 4;
/** 0x55 0xAA: without it firmware and Windows treat the sector as holding no partition table. */
export const BOOT_SIGNATURE_OFFSET = 510;
export const BOOT_SIGNATURE = 0xaa55;

// Entry fields, relative to the entry (UEFI Table 5-2).
const E_STATUS = 0; // 0x80 = active (boot) partition, 0x00 = inactive; anything else is invalid
const E_TYPE = 4; // OS type id
const E_FIRST_LBA = 8; // u32 starting LBA (in an EBR: relative, see ebr-chain.ts)
const E_SECTORS = 12; // u32 size in logical sectors

export const STATUS_ACTIVE = 0x80;
export const STATUS_INACTIVE = 0x00;
export const TYPE_EMPTY = 0x00;
/** A single entry of this type covering the disk says "a GPT follows" (UEFI §5.2.3). */
export const TYPE_GPT_PROTECTIVE = 0xee;
/** DOS extended (CHS), Windows extended (LBA), Linux extended: all hold a chain of EBRs. */
export const EXTENDED_TYPES: ReadonlySet<number> = new Set([0x05, 0x0f, 0x85]);

export interface MbrEntry {
  /** 0..3: position in the table. */
  readonly slot: number;
  readonly status: number;
  readonly type: number;
  readonly firstLba: number;
  readonly sectors: number;
}

export interface MbrSector {
  readonly hasBootSignature: boolean;
  readonly diskSignature: number;
  /** Always four, empty ones included, so slot numbers stay meaningful. */
  readonly entries: readonly MbrEntry[];
}

export const isExtendedType = (type: number): boolean => EXTENDED_TYPES.has(type);

/** An entry that describes something: a type and at least one sector (libfdisk ignores size-0 entries too). */
export const isUsedEntry = (e: MbrEntry): boolean => e.type !== TYPE_EMPTY && e.sectors !== 0;

/** Parses the first 512 bytes of `bytes`, an MBR or EBR found at device offset `base`. */
export function parseMbrSector(bytes: Uint8Array, base = 0, structure = 'mbr'): MbrSector {
  checkRange(bytes.length, 0, MBR_SIZE, { structure, base, code: 'partition.badMbr' });
  const entries: MbrEntry[] = [];
  for (let slot = 0; slot < ENTRY_COUNT; slot++) {
    const o = ENTRY_TABLE_OFFSET + slot * ENTRY_SIZE;
    entries.push({
      slot,
      status: u8(bytes, o + E_STATUS),
      type: u8(bytes, o + E_TYPE),
      firstLba: u32(bytes, o + E_FIRST_LBA),
      sectors: u32(bytes, o + E_SECTORS),
    });
  }
  return {
    hasBootSignature: u16(bytes, BOOT_SIGNATURE_OFFSET) === BOOT_SIGNATURE,
    diskSignature: u32(bytes, DISK_SIGNATURE_OFFSET),
    entries,
  };
}

/**
 * The entries whose status byte is neither 0x00 nor 0x80. The Linux kernel and Windows both take such a sector
 * for something other than a partition table (a boot sector, a wiped disk with stray bytes).
 */
export function badStatusEntries(mbr: MbrSector): MbrEntry[] {
  return mbr.entries.filter((e) => e.status !== STATUS_ACTIVE && e.status !== STATUS_INACTIVE);
}

/** True when any entry is 0xEE: the disk is GPT (a hybrid MBR has other entries beside it). */
export function isProtectiveMbr(mbr: MbrSector): boolean {
  return mbr.hasBootSignature && mbr.entries.some((e) => e.type === TYPE_GPT_PROTECTIVE);
}
