// What must hold before the writer changes a byte of an NTFS volume (DESIGN.md "Safety model"; REFERENCE.md §5):
// not BitLocker (-FVE-FS- OEM id), a clean $LogFile (Windows replays a dirty one over our changes), no
// hibernated Windows (hiberfil.sys "hibr"/"HIBR": resuming restores the old in-memory view of the volume), and the
// $Volume dirty flag clear (chkdsk is pending; ntfs-3g refuses such volumes too). Each has a named force option.
import { WinrescueError } from '../../../errors.js';
import type { BlockDevice } from '../../../disk/block-device.js';
import { isBitLocker } from '../boot-sector.js';
import type { NtfsInfo } from '../info.js';

export interface NtfsWriteForce {
  /**
   * Write although $LogFile is not clean. Forcing discards the transactions Windows would have replayed at the
   * next mount: metadata changes of the last session may be lost or half-applied (chkdsk repairs the volume).
   */
  readonly dirtyLog?: boolean;
  /**
   * Write although Windows is hibernated or fast-started. Forcing means the hibernated session must never be
   * resumed: resuming would write back its cached view of the volume over ours. Delete hiberfil.sys (or boot
   * with a fresh start) after forcing.
   */
  readonly hibernated?: boolean;
  /** Write although the $Volume dirty flag asks for chkdsk; Windows still runs chkdsk at the next boot. */
  readonly dirtyVolume?: boolean;
}

const BOOT_SECTOR_PROBE = 512;

/** Refuses BitLocker before the volume is even opened (no force: the data is ciphertext without the key). */
export async function refuseBitLocker(device: BlockDevice): Promise<void> {
  const sector = await device.read(0, Math.min(BOOT_SECTOR_PROBE, device.size));
  if (isBitLocker(sector)) {
    throw new WinrescueError(
      'ntfs.refused',
      `${device.description}: the volume is BitLocker-encrypted (-FVE-FS-); unlock it (with its recovery key) before writing`,
      { structure: 'ntfs.bootSector', offset: 3, actual: '-FVE-FS-' },
    );
  }
}

/** Throws `ntfs.refused` for the first unsafe condition that is not forced. */
export function refuseUnsafe(info: NtfsInfo, force: NtfsWriteForce, description: string): void {
  const log = info.logfile.state;
  if (log !== 'clean' && log !== 'empty' && !force.dirtyLog) {
    throw new WinrescueError(
      'ntfs.refused',
      `${description}: $LogFile is ${log} (Windows did not shut down cleanly and would replay it over our changes); boot Windows once and shut it down, or force with dirtyLog (--force-dirty-log) to discard the log`,
      { structure: 'ntfs.logfile', record: 2, expected: 'clean', actual: log },
    );
  }
  if (info.hibernation.hibernated && !force.hibernated) {
    throw new WinrescueError(
      'ntfs.refused',
      `${description}: Windows is hibernated (hiberfil.sys starts with "${info.hibernation.signature}"); resuming would undo our changes. Shut Windows down fully, or force with hibernated (--force-hibernated) and never resume that session`,
      { structure: 'ntfs.hiberfil', expected: 'not hibernated', actual: info.hibernation.signature },
    );
  }
  if (info.dirty && !force.dirtyVolume) {
    throw new WinrescueError(
      'ntfs.refused',
      `${description}: the volume's dirty flag is set (chkdsk pending); run chkdsk, or force with dirtyVolume (--force-dirty-volume)`,
      { structure: 'ntfs.volume', record: 3, expected: 'clean', actual: 'dirty' },
    );
  }
}
