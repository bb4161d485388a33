// Reading an MBR disk's partitions: the four primary entries, then the chain of EBRs inside the first extended
// partition. Source: Andries Brouwer, "Extended partitions" (win.tue.nl/~aeb/partitions/partition_types-2.html).
// Each EBR holds a data entry (start relative to that EBR) and a link entry (start relative to the extended
// partition's own start) to the next EBR; like libfdisk we take the first non-extended used entry as data and the
// first extended entry as link, whatever their slots.
import { hex } from '../errors.js';
import type { BlockDevice } from '../disk/block-device.js';
import type { Findings } from './findings.js';
import {
  ENTRY_COUNT,
  ENTRY_SIZE,
  ENTRY_TABLE_OFFSET,
  MBR_SIZE,
  type MbrEntry,
  type MbrSector,
  STATUS_ACTIVE,
  badStatusEntries,
  isExtendedType,
  isUsedEntry,
  parseMbrSector,
} from './mbr.js';

/**
 * No real disk has more logical partitions than this (Linux caps a disk at 256 minors); a chain longer than this
 * is garbage, and without the cap a hostile chain could make us read billions of sectors.
 */
export const MAX_LOGICAL_PARTITIONS = 256;
/** sfdisk and Windows number logical partitions from 5, after the four primary slots. */
export const FIRST_LOGICAL_INDEX = ENTRY_COUNT + 1;

export interface MbrPartitionRecord {
  readonly index: number;
  /** Absolute, in logical sectors. */
  readonly firstLba: number;
  readonly sectors: number;
  readonly type: number;
  readonly bootable: boolean;
  /** The extended container itself (listed, as sfdisk does, but holding EBRs rather than a volume). */
  readonly extended: boolean;
  /** Device offset of the 16-byte entry that describes it. */
  readonly entryOffset: number;
}

const entryOffset = (sectorOffset: number, e: MbrEntry): number =>
  sectorOffset + ENTRY_TABLE_OFFSET + e.slot * ENTRY_SIZE;

/** Primary partitions of `mbr`, then the logical ones found by walking the EBR chain on `dev`. */
export async function readMbrPartitions(
  dev: BlockDevice,
  mbr: MbrSector,
  lbaSize: number,
  findings: Findings,
): Promise<MbrPartitionRecord[]> {
  const out: MbrPartitionRecord[] = [];
  for (const bad of badStatusEntries(mbr)) {
    findings.report(
      'partition.badMbr',
      `MBR entry ${bad.slot + 1} at ${hex(entryOffset(0, bad))}: status should be 0x00 or 0x80, is ${hex(bad.status)}`,
      { offset: entryOffset(0, bad), structure: 'mbr.entry', expected: '0x00 or 0x80', actual: bad.status },
    );
  }
  let extended: MbrEntry | undefined;
  for (const e of mbr.entries) {
    if (!isUsedEntry(e)) continue;
    if (e.firstLba === 0) {
      findings.report('partition.badMbr', `MBR entry ${e.slot + 1} starts at LBA 0, on the MBR itself`, {
        offset: entryOffset(0, e),
        structure: 'mbr.entry',
        actual: 0,
      });
    }
    const isExt = isExtendedType(e.type);
    if (isExt) {
      if (extended === undefined) extended = e;
      else
        findings.report(
          'partition.badMbr',
          `MBR entry ${e.slot + 1}: a second extended partition; only the first (entry ${extended.slot + 1}) is followed`,
          { offset: entryOffset(0, e), structure: 'mbr.entry' },
        );
    }
    out.push({
      index: e.slot + 1,
      firstLba: e.firstLba,
      sectors: e.sectors,
      type: e.type,
      bootable: e.status === STATUS_ACTIVE,
      extended: isExt,
      entryOffset: entryOffset(0, e),
    });
  }
  if (extended !== undefined) out.push(...(await walkEbrChain(dev, extended, lbaSize, findings)));
  return out;
}

async function walkEbrChain(
  dev: BlockDevice,
  extended: MbrEntry,
  lbaSize: number,
  findings: Findings,
): Promise<MbrPartitionRecord[]> {
  const out: MbrPartitionRecord[] = [];
  const extStart = extended.firstLba;
  const extEnd = extStart + extended.sectors;
  const visited = new Set<number>();
  let index = FIRST_LOGICAL_INDEX;
  let ebrLba = extStart;
  for (;;) {
    const at = ebrLba * lbaSize;
    if (visited.has(ebrLba)) {
      findings.report(
        'partition.badMbr',
        `EBR chain loops: the EBR at ${hex(at)} (LBA ${ebrLba}) was already read; logical partitions after it are ignored`,
        { offset: at, structure: 'mbr.ebr', actual: ebrLba },
      );
      break;
    }
    if (visited.size >= MAX_LOGICAL_PARTITIONS) {
      findings.report(
        'partition.badMbr',
        `EBR chain longer than ${MAX_LOGICAL_PARTITIONS} links at ${hex(at)}: the rest is ignored`,
        { offset: at, structure: 'mbr.ebr', expected: `<= ${MAX_LOGICAL_PARTITIONS}` },
      );
      break;
    }
    visited.add(ebrLba);
    if (at + MBR_SIZE > dev.size) {
      findings.report(
        'partition.outOfDisk',
        `EBR at LBA ${ebrLba} (${hex(at)}) lies beyond the end of the disk (${dev.size} bytes); logical partitions from there on are ignored`,
        { offset: at, structure: 'mbr.ebr', expected: `< ${dev.size}`, actual: at },
      );
      break;
    }
    if (ebrLba < extStart || ebrLba >= extEnd) {
      findings.report(
        'partition.badMbr',
        `EBR at LBA ${ebrLba} lies outside its extended partition (LBA ${extStart}..${extEnd - 1})`,
        { offset: at, structure: 'mbr.ebr' },
      );
    }
    const ebr = parseMbrSector(await dev.read(at, MBR_SIZE), at, 'mbr.ebr');
    if (!ebr.hasBootSignature) {
      // The kernel stops here; libfdisk (sfdisk) reads on. Reading on loses nothing: every entry is still checked.
      findings.report(
        'partition.badMbr',
        `EBR at LBA ${ebrLba} (${hex(at)}) has no 0xaa55 signature; its entries are read anyway`,
        { offset: at + 510, structure: 'mbr.ebr', expected: 0xaa55 },
      );
    }
    let data: MbrEntry | undefined;
    let link: MbrEntry | undefined;
    for (const e of ebr.entries) {
      if (e.type === 0) continue;
      if (isExtendedType(e.type)) link ??= e;
      else data ??= e;
    }
    if (data !== undefined && data.sectors !== 0) {
      const firstLba = ebrLba + data.firstLba;
      if (data.firstLba === 0) {
        findings.report(
          'partition.badMbr',
          `logical partition ${index} starts on its own EBR (LBA ${ebrLba})`,
          { offset: entryOffset(at, data), structure: 'mbr.ebr' },
        );
      }
      if (firstLba + data.sectors > extEnd) {
        findings.report(
          'partition.badMbr',
          `logical partition ${index} (LBA ${firstLba}+${data.sectors}) extends past its extended partition (ends at LBA ${extEnd})`,
          { offset: entryOffset(at, data), structure: 'mbr.ebr' },
        );
      }
      out.push({
        index: index++,
        firstLba,
        sectors: data.sectors,
        type: data.type,
        bootable: data.status === STATUS_ACTIVE,
        extended: false,
        entryOffset: entryOffset(at, data),
      });
    }
    if (link === undefined || link.sectors === 0) break;
    ebrLba = extStart + link.firstLba;
  }
  return out;
}
