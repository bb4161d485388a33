// `inspect`: what a disk is — container format, size, partition scheme, partitions, Windows installs, generation.
import { openDisk, type DiskFormat } from '../disk/open-disk.js';
import type { BlockDevice } from '../disk/block-device.js';
import { readPartitions, detectFilesystem, generation } from '../partition/index.js';
import { isWinrescueError } from '../errors.js';
import { openNtfs } from '../fs/ntfs/index.js';
import { holdsWindows } from './open-volume.js';

export interface InspectPartition {
  index: number;
  start: number;
  size: number;
  type: string;
  typeName: string;
  filesystem: string;
  label: string;
  name?: string;
  guid?: string;
  bootable?: boolean;
}

export interface InspectResult {
  path: string;
  format: DiskFormat | 'ntfs-volume';
  virtualSize: number;
  sectorSize: number;
  partitionScheme: 'mbr' | 'gpt' | 'none';
  generation: 1 | 2 | null;
  diskSignature?: string;
  diskGuid?: string;
  partitions: InspectPartition[];
  windows: { partition: number | null; systemRoot: string }[];
  warnings: string[];
}

export async function inspect(path: string): Promise<InspectResult> {
  const disk = await openDisk(path, { readOnly: true });
  try {
    const dev = disk.device;
    const table = await readPartitions(dev);
    const warnings = [...disk.warnings, ...table.warnings];
    const result: InspectResult = {
      // The opened path: for a SAS URL, the redacted one.
      path: disk.path,
      format: disk.format,
      virtualSize: dev.size,
      sectorSize: dev.sectorSize,
      partitionScheme: table.scheme,
      generation: generation(table),
      partitions: [],
      windows: [],
      warnings,
    };
    if (table.diskSignature !== undefined)
      result.diskSignature = '0x' + table.diskSignature.toString(16).padStart(8, '0');
    if (table.diskGuid !== undefined) result.diskGuid = table.diskGuid;

    if (table.scheme === 'none') {
      const fs = await detectFilesystem(dev);
      if (fs.filesystem === 'ntfs') {
        if (disk.format === 'raw') result.format = 'ntfs-volume';
        const probe = await probeNtfs(dev, warnings, 'the volume');
        if (probe.windows) result.windows.push({ partition: null, systemRoot: '\\Windows' });
      }
      return result;
    }
    for (const p of table.partitions) {
      const fs = await detectFilesystem(p.device);
      const entry: InspectPartition = {
        index: p.index,
        start: p.start,
        size: p.size,
        type: p.type,
        typeName: p.typeName,
        filesystem: fs.filesystem,
        label: fs.label ?? '',
      };
      if (p.name !== undefined) entry.name = p.name;
      if (p.guid !== undefined) entry.guid = p.guid;
      if (p.bootable !== undefined) entry.bootable = p.bootable;
      if (fs.filesystem === 'ntfs') {
        const probe = await probeNtfs(p.device, warnings, `partition ${p.index}`);
        if (probe.label !== undefined) entry.label = probe.label;
        if (probe.windows) result.windows.push({ partition: p.index, systemRoot: '\\Windows' });
      }
      result.partitions.push(entry);
    }
    return result;
  } finally {
    await disk.device.close();
  }
}

/** Label and Windows presence of an NTFS volume; damage becomes a warning, since inspect must still list the rest. */
async function probeNtfs(
  dev: BlockDevice,
  warnings: string[],
  what: string,
): Promise<{ label?: string; windows: boolean }> {
  try {
    const vol = await openNtfs(dev);
    warnings.push(...vol.warnings.map((w: string) => `${what}: ${w}`));
    const windows = await holdsWindows(vol, warnings, what);
    const info = await vol.info();
    warnings.push(...info.warnings.filter((w) => !vol.warnings.includes(w)).map((w) => `${what}: ${w}`));
    return info.label === undefined || info.label === null ? { windows } : { label: info.label, windows };
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    warnings.push(`${what}: NTFS unreadable: ${e.message}`);
    return { windows: false };
  }
}
