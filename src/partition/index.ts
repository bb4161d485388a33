// Partition tables: which scheme a disk uses (MBR, GPT, or none: a bare volume) and its partitions, each as a
// window device. Formats and corruption handling: docs/formats/partitions.md.
import { WinrescueError, hex } from '../errors.js';
import type { BlockDevice } from '../disk/block-device.js';
import { WindowDevice } from '../disk/window-device.js';
import { isZero } from '../util/bytes.js';
import { Findings, type PartitionProblem } from './findings.js';
import { readMbrPartitions } from './ebr-chain.js';
import { readGpt, type GptTable } from './gpt-read.js';
import { hasGptSignature, PRIMARY_HEADER_LBA } from './gpt.js';
import { MBR_SIZE, TYPE_GPT_PROTECTIVE, isProtectiveMbr, isUsedEntry, parseMbrSector } from './mbr.js';
import { detectFilesystem as detectOnDevice, sniffBootSector, type FilesystemInfo } from './detect-fs.js';
import { GPT_TYPE, gptTypeName, mbrTypeName, mbrTypeString } from './types.js';

export type { Filesystem, FilesystemInfo } from './detect-fs.js';
export type { PartitionProblem } from './findings.js';
export { GPT_TYPE } from './types.js';
export { parseMbrSector, isProtectiveMbr } from './mbr.js';
export { parseGptHeader, parseGptEntries } from './gpt.js';
export { sniffBootSector, parseFatBpb } from './detect-fs.js';

export interface Partition {
  /** 1-based, as sfdisk numbers them: MBR primaries by slot (1-4), logicals 5, 6, ...; GPT by entry slot. */
  readonly index: number;
  /** Bytes from the start of the disk. */
  readonly start: number;
  /** Bytes; clipped to the disk's end when the table says more (then `truncated` and `declaredSize` are set). */
  readonly size: number;
  /** MBR: '0x07'; GPT: the lowercase type GUID. */
  readonly type: string;
  readonly typeName: string;
  /** GPT unique partition GUID. */
  readonly guid?: string;
  /** GPT partition name, when not empty. */
  readonly name?: string;
  /** MBR active flag. */
  readonly bootable?: boolean;
  /** GPT attribute bits as '0x' + 16 hex digits, when any is set. */
  readonly attributes?: string;
  /** The MBR extended container: it holds EBRs, not a volume. */
  readonly extended?: boolean;
  /** The table says the partition runs past the end of the disk; `size` is what the disk holds. */
  readonly truncated?: boolean;
  readonly declaredSize?: number;
  /** A window over exactly [start, start + size). */
  readonly device: BlockDevice;
}

export interface PartitionTable {
  readonly scheme: 'mbr' | 'gpt' | 'none';
  /** The MBR's 32-bit disk signature (how a BCD names an MBR disk). */
  readonly diskSignature?: number;
  /** GPT disk GUID, lowercase. */
  readonly diskGuid?: string;
  /** Logical block size the table is expressed in. */
  readonly sectorSize: number;
  /** GPT only: which copy the partitions were read from. */
  readonly gptSource?: 'primary' | 'backup';
  readonly partitions: readonly Partition[];
  /** What was damaged or odd and how it was worked around, one sentence each. */
  readonly warnings: readonly string[];
  /** The same findings with their error codes and offsets, for `check` and `diagnose`. */
  readonly problems: readonly PartitionProblem[];
}

export interface ReadPartitionsOptions {
  /** Throw the first problem as a WinrescueError instead of working around it (default false). */
  readonly strict?: boolean;
}

/** Block sizes a GPT may use: the device's own first; 4096 also on a 512 device, since a 4Kn VHDX may report 512. */
const GPT_BLOCK_SIZES = [512, 4096];

/** Reads the partition table of `dev`. Damage is worked around and reported in `warnings` unless `strict`. */
export async function readPartitions(
  dev: BlockDevice,
  options: ReadPartitionsOptions = {},
): Promise<PartitionTable> {
  const findings = new Findings(options.strict ?? false);
  const none = (): PartitionTable => ({
    scheme: 'none',
    sectorSize: dev.sectorSize,
    partitions: [],
    warnings: findings.warnings,
    problems: findings.problems,
  });
  if (dev.size < MBR_SIZE) {
    findings.note('partition.badMbr', `disk of ${dev.size} bytes is too small to hold a partition table`);
    return none();
  }
  const sector0 = await dev.read(0, MBR_SIZE);
  // A bare volume: its boot sector ends in 0x55AA too, so this test must come before the MBR one.
  if (sniffBootSector(sector0) !== 'unknown') return none();
  const mbr = parseMbrSector(sector0);

  if (isProtectiveMbr(mbr)) {
    if (mbr.entries.some((e) => isUsedEntry(e) && e.type !== TYPE_GPT_PROTECTIVE)) {
      findings.report(
        'partition.badGpt',
        'hybrid MBR: the protective MBR also lists other partitions; the GPT is used',
        { offset: 446, structure: 'mbr' },
      );
    }
    // The 0xEE entry covers LBA 1 to the disk's last LBA when the GPT was written: where the backup then went.
    const pmbr = mbr.entries.find((e) => e.type === TYPE_GPT_PROTECTIVE)!;
    const gpt = await probeGpt(dev, findings, [pmbr.firstLba + pmbr.sectors - 1]);
    if (gpt === null) {
      throw new WinrescueError(
        'partition.badGpt',
        `the protective MBR says a GPT follows, but there is no GPT header at LBA ${PRIMARY_HEADER_LBA} or at the last LBA`,
        { offset: dev.sectorSize, structure: 'gpt.header', expected: 'EFI PART' },
      );
    }
    return gptTable(dev, gpt, findings);
  }

  if (!mbr.hasBootSignature) {
    const gpt = await probeGpt(dev, findings);
    if (gpt !== null) {
      findings.report(
        'partition.badMbr',
        'sector 0 holds no protective MBR (no 0xaa55 signature), but a GPT follows: the GPT is used',
        { offset: 510, structure: 'mbr', expected: 0xaa55 },
      );
      return gptTable(dev, gpt, findings);
    }
    findings.note(
      'partition.badMbr',
      isZero(sector0)
        ? 'no partition table: sector 0 is blank'
        : 'no partition table: sector 0 has neither an MBR signature nor a known boot sector',
    );
    return none();
  }

  if (dev.size >= 2 * dev.sectorSize && hasGptSignature(await dev.read(dev.sectorSize, 8))) {
    findings.report(
      'partition.badGpt',
      `GPT header at LBA ${PRIMARY_HEADER_LBA} ignored: the MBR has no protective 0xEE entry, so the MBR is used`,
      { offset: dev.sectorSize, structure: 'gpt.header' },
    );
  }
  const lbaSize = dev.sectorSize;
  const records = await readMbrPartitions(dev, mbr, lbaSize, findings);
  const partitions = finish(
    dev,
    records.map((r) => ({
      index: r.index,
      firstLba: BigInt(r.firstLba),
      sectors: BigInt(r.sectors),
      lbaSize,
      entryOffset: r.entryOffset,
      fields: {
        type: mbrTypeString(r.type),
        typeName: mbrTypeName(r.type),
        bootable: r.bootable,
        ...(r.extended ? { extended: true } : {}),
      },
    })),
    findings,
  );
  return {
    scheme: 'mbr',
    diskSignature: mbr.diskSignature,
    sectorSize: lbaSize,
    partitions,
    warnings: findings.warnings,
    problems: findings.problems,
  };
}

async function probeGpt(
  dev: BlockDevice,
  findings: Findings,
  backupHints: readonly number[] = [],
): Promise<GptTable | null> {
  const sizes = [dev.sectorSize, ...GPT_BLOCK_SIZES.filter((s) => s !== dev.sectorSize)];
  for (const lbaSize of sizes) {
    const gpt = await readGpt(dev, lbaSize, findings, backupHints);
    if (gpt !== null) {
      if (lbaSize !== dev.sectorSize) {
        findings.note(
          'partition.badGpt',
          `GPT found with ${lbaSize}-byte blocks on a device that reports ${dev.sectorSize}-byte sectors`,
        );
      }
      return gpt;
    }
  }
  return null;
}

function gptTable(dev: BlockDevice, gpt: GptTable, findings: Findings): PartitionTable {
  const h = gpt.header;
  const usable = (first: bigint, last: bigint) =>
    first >= BigInt(h.firstUsableLba) && last <= BigInt(h.lastUsableLba);
  const pending: Pending[] = [];
  for (const e of gpt.entries) {
    const entryOffset = h.entryLba * gpt.lbaSize + e.slot * h.entrySize;
    if (e.firstLba > e.lastLba) {
      findings.report(
        'partition.badGpt',
        `GPT entry ${e.slot + 1}: first LBA ${e.firstLba} is after last LBA ${e.lastLba}; entry ignored`,
        { offset: entryOffset, structure: 'gpt.entry', actual: e.firstLba },
      );
      continue;
    }
    if (!usable(e.firstLba, e.lastLba)) {
      findings.report(
        'partition.badGpt',
        `GPT entry ${e.slot + 1}: LBA ${e.firstLba}..${e.lastLba} lies outside the usable area ${h.firstUsableLba}..${h.lastUsableLba}`,
        { offset: entryOffset, structure: 'gpt.entry' },
      );
    }
    pending.push({
      index: e.slot + 1,
      firstLba: e.firstLba,
      sectors: e.lastLba - e.firstLba + 1n,
      lbaSize: gpt.lbaSize,
      entryOffset,
      fields: {
        type: e.typeGuid,
        typeName: gptTypeName(e.typeGuid),
        guid: e.uniqueGuid,
        ...(e.name === '' ? {} : { name: e.name }),
        ...(e.attributes === 0n ? {} : { attributes: '0x' + e.attributes.toString(16).padStart(16, '0') }),
      },
    });
  }
  return {
    scheme: 'gpt',
    diskGuid: h.diskGuid,
    sectorSize: gpt.lbaSize,
    gptSource: gpt.source,
    partitions: finish(dev, pending, findings),
    warnings: findings.warnings,
    problems: findings.problems,
  };
}

interface Pending {
  index: number;
  firstLba: bigint;
  sectors: bigint;
  lbaSize: number;
  entryOffset: number;
  fields: Omit<Partition, 'index' | 'start' | 'size' | 'device'>;
}

/** Byte ranges, checked against the disk's end (clipped, or dropped when wholly beyond) and each other. */
function finish(dev: BlockDevice, pending: Pending[], findings: Findings): Partition[] {
  const out: Partition[] = [];
  const diskEnd = BigInt(dev.size);
  for (const p of pending) {
    const start = p.firstLba * BigInt(p.lbaSize);
    const end = start + p.sectors * BigInt(p.lbaSize);
    if (start >= diskEnd) {
      findings.report(
        'partition.outOfDisk',
        `partition ${p.index} starts at ${hex(start)}, beyond the end of the disk (${dev.size} bytes); it is left out`,
        { offset: p.entryOffset, structure: 'partition', expected: `< ${dev.size}`, actual: start },
      );
      continue;
    }
    const startN = Number(start);
    const declared = Number(end - start);
    const truncated = end > diskEnd;
    if (truncated) {
      findings.report(
        'partition.outOfDisk',
        `partition ${p.index} (${hex(start)}, ${end - start} bytes) runs ${end - diskEnd} bytes past the end of the disk; it is clipped to ${diskEnd - start} bytes`,
        { offset: p.entryOffset, structure: 'partition', expected: `<= ${dev.size}`, actual: end },
      );
    }
    const size = truncated ? dev.size - startN : declared;
    out.push({
      index: p.index,
      start: startN,
      size,
      ...p.fields,
      ...(truncated ? { truncated: true, declaredSize: declared } : {}),
      device: new WindowDevice(dev, startN, size, `${dev.description} partition ${p.index}`),
    });
  }
  reportOverlaps(out, findings);
  return out;
}

function reportOverlaps(parts: readonly Partition[], findings: Findings): void {
  const volumes = parts.filter((p) => p.extended !== true).sort((a, b) => a.start - b.start);
  for (let i = 0; i < volumes.length; i++) {
    for (let j = i + 1; j < volumes.length; j++) {
      const a = volumes[i]!;
      const b = volumes[j]!;
      if (b.start >= a.start + a.size) break;
      findings.report(
        'partition.overlap',
        `partitions ${a.index} and ${b.index} overlap (${hex(b.start)}..${hex(Math.min(a.start + a.size, b.start + b.size))})`,
        { offset: b.start, structure: 'partition', actual: [a.index, b.index] },
      );
    }
  }
}

/** Partition `index` (as listed, 1-based), or `partition.notFound` naming the ones that exist. */
export function getPartition(table: PartitionTable, index: number): Partition {
  const found = table.partitions.find((p) => p.index === index);
  if (found === undefined) {
    const have = table.partitions.map((p) => p.index).join(', ') || 'none';
    throw new WinrescueError(
      'partition.notFound',
      `no partition ${index} on this disk (partitions: ${have})`,
      {
        expected: have,
        actual: index,
      },
    );
  }
  return found;
}

/** 2 for a GPT disk with an EFI System partition (UEFI boot), 1 for MBR (BIOS boot), otherwise null. */
export function generation(table: PartitionTable): 1 | 2 | null {
  if (table.scheme === 'mbr') return 1;
  if (table.scheme === 'gpt' && table.partitions.some((p) => p.type === GPT_TYPE.efiSystem)) return 2;
  return null;
}

/** The filesystem in a partition (or on any device, e.g. a bare volume) and its FAT label. */
export function detectFilesystem(target: Partition | BlockDevice): Promise<FilesystemInfo> {
  return detectOnDevice('device' in target && 'index' in target ? target.device : target);
}
