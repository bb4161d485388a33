// $VOLUME_INFORMATION (0x70) and $VOLUME_NAME (0x60) of $Volume (record 3): flatcap linux-ntfs
// ntfs/attributes/volume_information.html and volume_name.html; ntfs-3g layout.h VOLUME_INFORMATION.
import { u16, u8, utf16le } from '../../../util/bytes.js';
import { tooShort } from './common.js';

const VALUE_SIZE = 12;

export const VOLUME_FLAG = {
  IS_DIRTY: 0x0001,
  RESIZE_LOG_FILE: 0x0002,
  UPGRADE_ON_MOUNT: 0x0004,
  MOUNTED_ON_NT4: 0x0008,
  DELETE_USN_UNDERWAY: 0x0010,
  REPAIR_OBJECT_ID: 0x0020,
  CHKDSK_UNDERWAY: 0x4000,
  MODIFIED_BY_CHKDSK: 0x8000,
} as const;

export interface VolumeInformation {
  readonly major: number;
  readonly minor: number;
  readonly flags: number;
  readonly dirty: boolean;
}

export function parseVolumeInformation(v: Uint8Array): VolumeInformation {
  if (v.length < VALUE_SIZE) tooShort('ntfs.volumeInformation', VALUE_SIZE, v.length, 3);
  const flags = u16(v, 10);
  return { major: u8(v, 8), minor: u8(v, 9), flags, dirty: (flags & VOLUME_FLAG.IS_DIRTY) !== 0 };
}

export function parseVolumeName(v: Uint8Array): string {
  return utf16le(v, 0, v.length & ~1);
}
