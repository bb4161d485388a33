// Reading a GPT from a device: the primary copy (header at LBA 1), the backup copy (header at the last LBA, its
// entry array just before it), and the choice between them. Source: UEFI Specification 2.10 §5.3.2 "GPT Header"
// (validation steps: signature, header CRC, MyLBA, entry array CRC; "if the primary is corrupt, use the backup").
import { WinrescueError, hex } from '../errors.js';
import type { BlockDevice } from '../disk/block-device.js';
import type { Findings } from './findings.js';
import {
  type GptEntry,
  type GptHeader,
  PRIMARY_HEADER_LBA,
  checkEntryArrayCrc,
  entryArrayBytes,
  hasGptSignature,
  headerFaultPrefix,
  parseGptEntries,
  parseGptHeader,
} from './gpt.js';

export interface GptTable {
  /** Logical block size the table was found with (512, or 4096 on a 4Kn disk). */
  readonly lbaSize: number;
  readonly header: GptHeader;
  readonly entries: readonly GptEntry[];
  readonly source: 'primary' | 'backup';
  /** LBA of the header used. */
  readonly headerLba: number;
}

type Copy =
  | { readonly ok: true; readonly lba: number; readonly header: GptHeader; readonly entries: GptEntry[] }
  | {
      readonly ok: false;
      readonly lba: number;
      /** Where the fault is: the header's LBA, or its entry array's. */
      readonly faultLba: number;
      readonly present: boolean;
      readonly error: WinrescueError;
    };

/** Reads and validates one copy: the header at `lba`, then the entry array it points to. */
async function readCopy(dev: BlockDevice, lbaSize: number, lba: number, role: string): Promise<Copy> {
  const at = lba * lbaSize;
  if (lba < PRIMARY_HEADER_LBA || at + lbaSize > dev.size) {
    const error = new WinrescueError(
      'partition.outOfDisk',
      `${headerFaultPrefix(at)}header location LBA ${lba} lies outside the disk`,
      { offset: at, structure: 'gpt.header' },
    );
    return { ok: false, lba, faultLba: lba, present: false, error };
  }
  const sector = await dev.read(at, lbaSize);
  const present = hasGptSignature(sector);
  let faultLba = lba;
  try {
    const header = parseGptHeader(sector, at);
    if (header.myLba !== lba) {
      throw new WinrescueError(
        'partition.badGpt',
        `${headerFaultPrefix(at)}header my-LBA field is ${header.myLba}, should be ${lba} for the ${role} copy`,
        { offset: at + 24, structure: 'gpt.header', expected: lba, actual: header.myLba },
      );
    }
    const arrayAt = header.entryLba * lbaSize;
    const arrayLength = entryArrayBytes(header);
    if (!Number.isSafeInteger(arrayAt) || arrayAt + arrayLength > dev.size || header.entryLba === lba) {
      throw new WinrescueError(
        'partition.badGpt',
        `${headerFaultPrefix(at)}header puts the entry array at LBA ${header.entryLba}, outside the disk or on the header`,
        { offset: at + 72, structure: 'gpt.header', actual: header.entryLba },
      );
    }
    faultLba = header.entryLba;
    const array = await dev.read(arrayAt, arrayLength);
    checkEntryArrayCrc(header, array, arrayAt);
    return { ok: true, lba, header, entries: parseGptEntries(header, array, arrayAt) };
  } catch (e) {
    if (!(e instanceof WinrescueError) || e.code.startsWith('disk.')) throw e;
    return { ok: false, lba, faultLba, present, error: e };
  }
}

/** "header CRC mismatch (...)" from "GPT header at 0x200: header CRC mismatch (...)". */
function fault(c: Copy & { ok: false }, lbaSize: number): string {
  const prefix = headerFaultPrefix(c.lba * lbaSize);
  const m = c.error.message;
  if (m.startsWith(prefix)) return m.slice(prefix.length);
  return m.replace(/^GPT entry array at 0x[0-9a-f]+: /, '');
}

/**
 * The GPT on `dev` read with blocks of `lbaSize` bytes, or null when neither copy has a signature there (no GPT,
 * or a different block size). Both copies damaged: `partition.badGpt`, whatever the findings mode.
 */
export async function readGpt(
  dev: BlockDevice,
  lbaSize: number,
  findings: Findings,
  backupHints: readonly number[] = [],
): Promise<GptTable | null> {
  const lastLba = Math.floor(dev.size / lbaSize) - 1;
  if (lastLba < 2) return null;
  const primary = await readCopy(dev, lbaSize, PRIMARY_HEADER_LBA, 'primary');
  let backup = await readCopy(dev, lbaSize, lastLba, 'backup');
  // A disk enlarged after partitioning (an Azure disk resize) keeps its backup where the old end was: the
  // primary's alternate-LBA field says where, and so does the protective MBR's size when the primary is gone.
  if (!backup.ok && !backup.present) {
    const candidates = new Set([...(primary.ok ? [primary.header.alternateLba] : []), ...backupHints]);
    candidates.delete(lastLba);
    for (const lba of candidates) {
      if (lba <= PRIMARY_HEADER_LBA || lba > lastLba) continue;
      const moved = await readCopy(dev, lbaSize, lba, 'backup');
      if (!moved.ok && !moved.present) continue;
      backup = moved;
      findings.report(
        'partition.badGpt',
        `backup GPT header is at LBA ${moved.lba}, not at the last LBA ${lastLba}: the disk was probably enlarged after partitioning`,
        { offset: moved.lba * lbaSize, structure: 'gpt.header', expected: lastLba, actual: moved.lba },
      );
      break;
    }
  }
  if (!primary.ok && !primary.present && !backup.ok && !backup.present) return null;

  if (primary.ok) {
    if (!backup.ok) {
      findings.report(
        'partition.badGpt',
        `backup GPT ${fault(backup, lbaSize)} at LBA ${backup.faultLba}: the primary is used`,
        { offset: backup.lba * lbaSize, structure: 'gpt.header' },
      );
    } else if (backup.header.entryArrayCrc !== primary.header.entryArrayCrc) {
      findings.report(
        'partition.badGpt',
        `primary and backup GPT entry arrays differ (CRC ${hex(primary.header.entryArrayCrc)} vs ${hex(backup.header.entryArrayCrc)}): the primary is used`,
        { offset: backup.header.entryLba * lbaSize, structure: 'gpt.entries' },
      );
    }
    return table(lbaSize, primary, 'primary');
  }
  if (backup.ok) {
    findings.report(
      'partition.badGpt',
      `primary GPT ${fault(primary, lbaSize)} at LBA ${primary.faultLba}: using the backup at LBA ${backup.lba}`,
      { offset: primary.error.offset ?? lbaSize, structure: 'gpt.header' },
    );
    return table(lbaSize, backup, 'backup');
  }
  throw new WinrescueError(
    'partition.badGpt',
    `both GPT copies are damaged: primary ${fault(primary, lbaSize)} at LBA ${primary.faultLba}; backup ${fault(backup, lbaSize)} at LBA ${backup.faultLba}`,
    { offset: lbaSize, structure: 'gpt.header', cause: primary.error },
  );
}

function table(lbaSize: number, c: Copy & { ok: true }, source: 'primary' | 'backup'): GptTable {
  return { lbaSize, header: c.header, entries: c.entries, source, headerLba: c.lba };
}
