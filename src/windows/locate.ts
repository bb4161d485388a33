// Where Windows and its boot store are on a disk. Spec: REFERENCE.md §2.1 (Gen1: BCD at \Boot\BCD on the active
// System Reserved NTFS volume, or on the Windows volume; Gen2: \EFI\Microsoft\Boot\BCD on the EFI System
// partition, GPT type C12A7328-F81F-11D2-BA4B-00A0C93EC93B, FAT32) and §1.3 (an install is a volume holding
// \Windows\System32\config\SYSTEM, as Microsoft's sac-enabler checks for winload beside a BCD).
import type { BlockDevice } from '../disk/block-device.js';
import { isWinrescueError } from '../errors.js';
import { openNtfs, type NtfsVolume } from '../fs/ntfs/index.js';
import { openFat } from '../fs/fat/index.js';
import {
  GPT_TYPE,
  detectFilesystem,
  generation,
  readPartitions,
  type Filesystem,
} from '../partition/index.js';

export const SYSTEM_ROOT = '\\Windows';
export const SYSTEM_HIVE_PATH = '\\Windows\\System32\\config\\SYSTEM';
export const BIOS_BCD_PATH = '\\Boot\\BCD';
export const UEFI_BCD_PATH = '\\EFI\\Microsoft\\Boot\\BCD';

export interface WindowsInstall {
  /** 1-based partition number as `inspect` lists it; null for a bare volume image. */
  readonly partition: number | null;
  /** Byte offset of the volume on the disk. */
  readonly start: number;
  readonly systemRoot: string;
  readonly systemHive: string;
}

export interface SystemPartition {
  readonly partition: number | null;
  readonly start: number;
  readonly filesystem: Filesystem;
  /** 'esp' on a UEFI disk, 'active' for the MBR active volume, 'windows' when the store is on the install. */
  readonly role: 'esp' | 'active' | 'other' | 'windows';
}

export interface BcdLocation extends SystemPartition {
  readonly path: string;
  /** The file was seen on the volume; false when the volume could not be read (then the path is the standard one). */
  readonly verified: boolean;
}

export interface WindowsLocation {
  readonly scheme: 'mbr' | 'gpt' | 'none';
  /** 1 = BIOS (MBR), 2 = UEFI (GPT with an ESP), null otherwise. */
  readonly generation: 1 | 2 | null;
  readonly diskSignature?: number;
  readonly diskGuid?: string;
  readonly installs: readonly WindowsInstall[];
  readonly systemPartition: SystemPartition | null;
  readonly bcd: BcdLocation | null;
  readonly warnings: readonly string[];
}

interface Volume {
  partition: number | null;
  start: number;
  filesystem: Filesystem;
  active: boolean;
  esp: boolean;
  ntfs?: NtfsVolume;
}

async function exists(vol: NtfsVolume, path: string): Promise<boolean> {
  try {
    await vol.lookup(path.replaceAll('\\', '/'));
    return true;
  } catch (e) {
    if (isWinrescueError(e)) return false;
    throw e;
  }
}

async function fatHas(dev: BlockDevice, path: string, warnings: string[]): Promise<boolean> {
  try {
    const fat = await openFat(dev, { readOnly: true });
    const found = (await fat.lookup(path)) !== null;
    if (!found) warnings.push(`the EFI System partition has no ${path}`);
    return found;
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    warnings.push(`the EFI System partition cannot be read as FAT (${e.message})`);
    return false;
  }
}

/** Finds the Windows installs, the system partition and the BCD store on `disk` (read only). */
export async function locateWindows(disk: BlockDevice): Promise<WindowsLocation> {
  const table = await readPartitions(disk);
  const warnings = [...table.warnings];
  const volumes: Volume[] = [];
  if (table.scheme === 'none') {
    volumes.push({
      partition: null,
      start: 0,
      filesystem: (await detectFilesystem(disk)).filesystem,
      active: false,
      esp: false,
    });
  } else {
    for (const p of table.partitions) {
      if (p.extended === true) continue;
      volumes.push({
        partition: p.index,
        start: p.start,
        filesystem: (await detectFilesystem(p)).filesystem,
        active: p.bootable === true,
        esp: p.type === GPT_TYPE.efiSystem,
      });
    }
  }
  const device = (v: Volume) =>
    v.partition === null ? disk : table.partitions.find((p) => p.index === v.partition)!.device;
  const installs: WindowsInstall[] = [];
  const biosStores: Volume[] = [];
  for (const v of volumes) {
    if (v.filesystem !== 'ntfs') continue;
    try {
      v.ntfs = await openNtfs(device(v));
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      warnings.push(
        `partition ${v.partition ?? '(volume)'}: NTFS cannot be opened (${e.message}); not searched`,
      );
      continue;
    }
    if (await exists(v.ntfs, SYSTEM_HIVE_PATH))
      installs.push({
        partition: v.partition,
        start: v.start,
        systemRoot: SYSTEM_ROOT,
        systemHive: SYSTEM_HIVE_PATH,
      });
    if (await exists(v.ntfs, BIOS_BCD_PATH)) biosStores.push(v);
  }
  const gen = generation(table);
  const isInstall = (v: Volume) => installs.some((i) => i.partition === v.partition && i.start === v.start);
  const part = (v: Volume, role: SystemPartition['role']): SystemPartition => ({
    partition: v.partition,
    start: v.start,
    filesystem: v.filesystem,
    role,
  });
  let systemPartition: SystemPartition | null = null;
  let bcd: BcdLocation | null = null;
  const esp = volumes.find((v) => v.esp);
  if (gen === 2 && esp) {
    systemPartition = part(esp, 'esp');
    bcd = {
      ...systemPartition,
      path: UEFI_BCD_PATH,
      verified: await fatHas(device(esp), UEFI_BCD_PATH, warnings),
    };
  } else {
    // BIOS: the active volume's store first (what the MBR boot code loads), then any, then the install's own.
    const pick = biosStores.find((v) => v.active) ?? biosStores.find((v) => !isInstall(v)) ?? biosStores[0];
    if (pick) {
      systemPartition = part(pick, pick.active ? 'active' : isInstall(pick) ? 'windows' : 'other');
      bcd = { ...systemPartition, path: BIOS_BCD_PATH, verified: true };
    } else {
      const active = volumes.find((v) => v.active);
      if (active) systemPartition = part(active, 'active');
      warnings.push(`no ${BIOS_BCD_PATH} on any NTFS volume of this disk`);
    }
  }
  if (installs.length === 0) warnings.push(`no volume holds ${SYSTEM_HIVE_PATH}: no Windows install found`);
  return {
    scheme: table.scheme,
    generation: gen,
    ...(table.diskSignature !== undefined ? { diskSignature: table.diskSignature } : {}),
    ...(table.diskGuid !== undefined ? { diskGuid: table.diskGuid } : {}),
    installs,
    systemPartition,
    bcd,
    warnings,
  };
}
