// Finding a usable boot sector: the primary at sector 0, else the backup NTFS keeps in the volume's last sector
// (flatcap linux-ntfs ntfs/files/boot.html). Without a readable primary the volume size is unknown, so the backup
// is searched for from the end of the device: a bare volume image may be larger than the volume it holds.
import { WinrescueError, hex, isWinrescueError } from '../../errors.js';
import type { BlockDevice } from '../../disk/block-device.js';
import { BOOT_SECTOR_SIZE, parseBootSector, type BootSector } from './boot-sector.js';

/** How far back from the device's end the backup is searched for (images padded by up to this much). */
export const MAX_BACKUP_SEARCH = 64 * 1024 * 1024;
const SEARCH_CHUNK = 1024 * 1024;
const SEARCH_STEP = 512;

export type BackupState = 'same' | 'differs' | 'damaged' | 'beyond-device';

/** A boot sector at `at` that is valid and says the volume ends exactly there (so it is a backup). */
function backupAt(sector: Uint8Array, at: number): BootSector | null {
  try {
    const b = parseBootSector(sector, at);
    return b.totalSectors * b.bytesPerSector === at ? b : null;
  } catch {
    return null;
  }
}

async function findBackup(device: BlockDevice): Promise<{ boot: BootSector; at: number } | null> {
  const lowest = Math.max(SEARCH_STEP, device.size - MAX_BACKUP_SEARCH);
  let end = Math.floor(device.size / SEARCH_STEP) * SEARCH_STEP;
  while (end > lowest) {
    const start = Math.max(lowest, end - SEARCH_CHUNK);
    const chunk = await device.read(start, end - start);
    for (let at = end - SEARCH_STEP; at >= start; at -= SEARCH_STEP) {
      const rel = at - start;
      // Cheap filter before parsing: "NTFS" at 3 and 0x55AA at 510.
      if (
        chunk[rel + 3] !== 0x4e ||
        chunk[rel + 4] !== 0x54 ||
        chunk[rel + 510] !== 0x55 ||
        chunk[rel + 511] !== 0xaa
      )
        continue;
      const boot = backupAt(chunk.subarray(rel, rel + BOOT_SECTOR_SIZE), at);
      if (boot) return { boot, at };
    }
    end = start;
  }
  return null;
}

export async function readBootSector(device: BlockDevice, warnings: string[]): Promise<BootSector> {
  if (device.size < BOOT_SECTOR_SIZE) {
    throw new WinrescueError(
      'disk.truncated',
      `${device.description} holds ${device.size} bytes, less than a boot sector`,
      {
        actual: device.size,
        expected: BOOT_SECTOR_SIZE,
      },
    );
  }
  const primary = await device.read(0, BOOT_SECTOR_SIZE);
  try {
    return parseBootSector(primary, 0);
  } catch (e) {
    if (!isWinrescueError(e) || e.code !== 'ntfs.badBootSector') throw e;
    const found = await findBackup(device);
    if (!found) throw e;
    warnings.push(`primary boot sector is damaged (${e.message}); using the backup at ${hex(found.at)}`);
    return found.boot;
  }
}

/** Whether the backup boot sector (the volume's last sector) matches the primary's fields. */
export async function checkBackupBootSector(device: BlockDevice, primary: BootSector): Promise<BackupState> {
  const at = primary.totalSectors * primary.bytesPerSector;
  if (at + BOOT_SECTOR_SIZE > device.size) return 'beyond-device';
  const backup = backupAt(await device.read(at, BOOT_SECTOR_SIZE), at);
  if (!backup) return 'damaged';
  const same =
    backup.clusterSize === primary.clusterSize &&
    backup.totalSectors === primary.totalSectors &&
    backup.mftLcn === primary.mftLcn &&
    backup.mftMirrLcn === primary.mftMirrLcn &&
    backup.mftRecordSize === primary.mftRecordSize &&
    backup.serial === primary.serial;
  return same ? 'same' : 'differs';
}
