// `check`: the read-only NTFS consistency check of a disk's Windows volume (or the one --partition names):
// every problem with its kind, record and path (DESIGN.md `check --json`). Opening failures (no NTFS volume,
// both boot sectors gone, record 0 and its mirror gone) are thrown: the input is unreadable.
import { checkNtfs, type CheckReport, type CheckOptions } from '../fs/ntfs/check/index.js';
import { openVolume, type OpenVolumeOptions } from './open-volume.js';

export interface CheckResult extends CheckReport {
  partition: number | null;
  /** What opening the disk and volume worked around (also reported as problems where they are damage). */
  warnings: string[];
}

export async function check(
  diskPath: string,
  options: OpenVolumeOptions & CheckOptions = {},
): Promise<CheckResult> {
  const { onPhase, ...open } = options;
  const opened = await openVolume(diskPath, { ...open, readOnly: true });
  try {
    const report = await checkNtfs(opened.volume, onPhase ? { onPhase } : {});
    return { partition: opened.partition, warnings: opened.warnings, ...report };
  } finally {
    await opened.close();
  }
}
