// Which NTFS volume a read command works on (DESIGN.md, "The CLI contract"): `--partition N`, else the
// volume holding the Windows SYSTEM hive, else the only NTFS volume; a bare NTFS volume image is one volume.
import { openDisk, type OpenedDisk } from '../disk/open-disk.js';
import type { BlockDevice } from '../disk/block-device.js';
import { readPartitions, getPartition, detectFilesystem } from '../partition/index.js';
import { WinrescueError, isWinrescueError } from '../errors.js';
import { openNtfs, type NtfsVolume } from '../fs/ntfs/index.js';

/** The file every Windows install has; how a Windows volume is recognised (DESIGN.md). */
const SYSTEM_HIVE_PATH = '/Windows/System32/config/SYSTEM';

export interface OpenVolumeOptions {
  /** 1-based, as `inspect` lists it. */
  partition?: number;
  readOnly?: boolean;
  /** Open writable through the undo journal (DISK.winrescue-undo unless `path`). */
  journal?: { path?: string };
}

export interface OpenedVolume {
  disk: OpenedDisk;
  /** The volume's device (a window on the disk for a partition): what a writer writes through. */
  device: BlockDevice;
  volume: NtfsVolume;
  /** The partition used; null for a bare volume image. */
  partition: number | null;
  /** Worked-around damage (partition table, container, NTFS open), one sentence each. */
  warnings: string[];
  close(): Promise<void>;
}

export async function openVolume(diskPath: string, options: OpenVolumeOptions = {}): Promise<OpenedVolume> {
  const disk = await openDisk(
    diskPath,
    options.journal ? { journal: options.journal } : { readOnly: options.readOnly ?? true },
  );
  try {
    const { device, partition, warnings } = await chooseVolume(disk, options.partition);
    const volume = partition.volume ?? (await openNtfs(device));
    return {
      disk,
      device,
      volume,
      partition: partition.index,
      warnings: [...warnings, ...volume.warnings],
      close: () => disk.device.close(),
    };
  } catch (e) {
    await disk.device.close();
    throw e;
  }
}

interface Choice {
  device: BlockDevice;
  partition: { index: number | null; volume?: NtfsVolume };
  warnings: string[];
}

async function chooseVolume(disk: OpenedDisk, wanted: number | undefined): Promise<Choice> {
  const table = await readPartitions(disk.device);
  const warnings = [...disk.warnings, ...table.warnings];
  if (table.scheme === 'none') {
    if (wanted !== undefined && wanted !== 1) {
      throw new WinrescueError(
        'partition.notFound',
        `${disk.path} has no partition table: no partition ${wanted}`,
        {
          actual: wanted,
        },
      );
    }
    const fs = await detectFilesystem(disk.device);
    if (fs.filesystem !== 'ntfs') {
      throw new WinrescueError(
        'partition.notFound',
        `${disk.path} has no partition table and is not an NTFS volume (found: ${fs.filesystem})`,
        { expected: 'ntfs', actual: fs.filesystem },
      );
    }
    return { device: disk.device, partition: { index: null }, warnings };
  }
  if (wanted !== undefined) {
    const p = getPartition(table, wanted);
    const fs = await detectFilesystem(p);
    if (fs.filesystem !== 'ntfs') {
      throw new WinrescueError(
        'partition.notFound',
        `partition ${wanted} is not an NTFS volume (found: ${fs.filesystem}); ls, cat and stat read NTFS only`,
        { expected: 'ntfs', actual: fs.filesystem },
      );
    }
    return { device: p.device, partition: { index: p.index }, warnings };
  }
  const ntfs: { index: number; device: BlockDevice; volume: NtfsVolume }[] = [];
  for (const p of table.partitions) {
    if ((await detectFilesystem(p)).filesystem !== 'ntfs') continue;
    let volume: NtfsVolume;
    try {
      volume = await openNtfs(p.device);
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      warnings.push(`partition ${p.index}: NTFS unreadable: ${e.message}`);
      continue;
    }
    if (await holdsWindows(volume, warnings, `partition ${p.index}`))
      return { device: p.device, partition: { index: p.index, volume }, warnings };
    ntfs.push({ index: p.index, device: p.device, volume });
  }
  if (ntfs.length === 1) {
    const only = ntfs[0]!;
    return { device: only.device, partition: { index: only.index, volume: only.volume }, warnings };
  }
  if (ntfs.length === 0) {
    throw new WinrescueError('partition.notFound', `${disk.path}: no readable NTFS volume on this disk`, {
      expected: 'an NTFS partition',
    });
  }
  throw new WinrescueError(
    'windows.notFound',
    `${disk.path}: ${ntfs.length} NTFS volumes (partitions ${ntfs.map((x) => x.index).join(', ')}) and none holds Windows: choose one with --partition N`,
    { actual: ntfs.map((x) => x.index) },
  );
}

/** Whether the volume holds a Windows install; a damaged path on the way is noted in `warnings`, not thrown. */
export async function holdsWindows(
  volume: NtfsVolume,
  warnings?: string[],
  what = 'volume',
): Promise<boolean> {
  try {
    await volume.lookup(SYSTEM_HIVE_PATH);
    return true;
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    if (e.code !== 'ntfs.notFound') warnings?.push(`${what}: ${e.message}`);
    return false;
  }
}
