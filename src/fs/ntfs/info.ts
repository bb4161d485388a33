// Volume facts for `inspect`/`diagnose`: geometry from the boot sector, version, flags and label from $Volume
// (record 3), the $LogFile state (record 2), hibernation (\hiberfil.sys signature). Read on request only.
import { isWinrescueError } from '../../errors.js';
import { ATTR } from './attribute.js';
import { findAttribute } from './file-record.js';
import { parseVolumeInformation, parseVolumeName } from './attributes/volume-information.js';
import { FIRST_PAGE_PROBE, logfileStatus, restartPageSize, type LogfileStatus } from './logfile-state.js';
import { LOGFILE_RECORD, VOLUME_RECORD } from './mft-map.js';
import type { NtfsVolume } from './volume.js';
import { ascii } from '../../util/bytes.js';
import { checkBackupBootSector, type BackupState } from './boot-read.js';

/** First four bytes of hiberfil.sys when Windows is hibernated or fast-started (lower case: being resumed). */
export const HIBERNATION_SIGNATURES = ['hibr', 'HIBR', 'wake', 'WAKE'] as const;
const HIBERFIL = '/hiberfil.sys';

export interface NtfsInfo {
  readonly clusterSize: number;
  readonly bytesPerSector: number;
  readonly mftRecordSize: number;
  readonly indexRecordSize: number;
  readonly totalSectors: number;
  readonly totalClusters: number;
  /** Volume size in bytes (sectors x sector size). */
  readonly size: number;
  readonly serial: string;
  readonly mftLcn: number;
  readonly mftMirrLcn: number;
  readonly mftRecords: number;
  /** The backup boot sector in the volume's last sector: same as the primary, differing, damaged, or missing. */
  readonly backupBootSector: BackupState;
  /** "3.1" */
  readonly version: string | null;
  readonly label: string | null;
  readonly volumeFlags: number;
  readonly dirty: boolean;
  readonly logfile: LogfileStatus;
  readonly hibernation: { present: boolean; signature: string | null; hibernated: boolean };
  /** Always false for an opened volume (a BitLocker volume fails to open with ntfs.bitlocker). */
  readonly bitlocker: false;
  readonly warnings: readonly string[];
}

export async function volumeInfo(vol: NtfsVolume): Promise<NtfsInfo> {
  const warnings = [...vol.warnings];
  let version: string | null = null;
  let label: string | null = null;
  let volumeFlags = 0;
  try {
    const f = await vol.file(VOLUME_RECORD);
    const vi = findAttribute(f, ATTR.VOLUME_INFORMATION);
    if (vi?.value) {
      const v = parseVolumeInformation(vi.value);
      version = `${v.major}.${v.minor}`;
      volumeFlags = v.flags;
    }
    const vn = findAttribute(f, ATTR.VOLUME_NAME);
    label = vn?.value ? parseVolumeName(vn.value) : '';
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    warnings.push(`$Volume unreadable: ${e.message}`);
  }
  let logfile: LogfileStatus;
  try {
    const s = await vol.openStream(LOGFILE_RECORD);
    const first = await s.read(0, FIRST_PAGE_PROBE);
    const pageSize = restartPageSize(first) ?? FIRST_PAGE_PROBE;
    const page0 = pageSize === FIRST_PAGE_PROBE ? first : await s.read(0, pageSize);
    const page1 = s.size >= 2 * pageSize ? await s.read(pageSize, pageSize) : null;
    logfile = logfileStatus(page0, page1, vol.recordOffset(LOGFILE_RECORD));
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    logfile = {
      state: 'unreadable',
      page: null,
      currentLsn: null,
      clientRestartLsn: null,
      oldestLsn: null,
      chkdsk: false,
      problems: [e.message],
    };
  }
  let hibernation: NtfsInfo['hibernation'] = { present: false, signature: null, hibernated: false };
  try {
    const ref = await vol.lookup(HIBERFIL);
    const head = await (await vol.openStream(ref.record)).read(0, 4);
    const signature = head.length === 4 ? ascii(head, 0, 4) : null;
    hibernation = {
      present: true,
      signature,
      hibernated: signature !== null && (HIBERNATION_SIGNATURES as readonly string[]).includes(signature),
    };
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    if (e.code !== 'ntfs.notFound') warnings.push(`hiberfil.sys unreadable: ${e.message}`);
  }
  const b = vol.boot;
  let backupBootSector: BackupState;
  try {
    backupBootSector = await checkBackupBootSector(vol.device, b);
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    backupBootSector = 'damaged';
  }
  if (backupBootSector !== 'same')
    warnings.push(`backup boot sector at ${b.totalSectors * b.bytesPerSector}: ${backupBootSector}`);
  return {
    backupBootSector,
    clusterSize: b.clusterSize,
    bytesPerSector: b.bytesPerSector,
    mftRecordSize: b.mftRecordSize,
    indexRecordSize: b.indexRecordSize,
    totalSectors: b.totalSectors,
    totalClusters: b.totalClusters,
    size: b.totalSectors * b.bytesPerSector,
    serial: b.serialHex,
    mftLcn: b.mftLcn,
    mftMirrLcn: b.mftMirrLcn,
    mftRecords: vol.mftRecordCount,
    version,
    label,
    volumeFlags,
    dirty: (volumeFlags & 1) !== 0,
    logfile,
    hibernation,
    bitlocker: false,
    warnings,
  };
}
