// Which filesystem a volume holds, from its boot sector. Sources: Microsoft "FAT32 File System Specification"
// v1.03 §3 (BPB fields, FAT type by cluster count) and §6 (root directory, ATTR_VOLUME_ID); Microsoft "exFAT
// File System Specification" §3.1 (FileSystemName "EXFAT   " at 3); Microsoft "BitLocker drive encryption"
// (volume header signature "-FVE-FS-" at 3); NTFS boot sector per linux-ntfs "Boot Sector" ("NTFS    " at 3).
// NTFS labels live in $Volume and come from the NTFS reader; exFAT labels are not read (see partitions.md).
import type { BlockDevice } from '../disk/block-device.js';
import { ascii, u8, u16, u32 } from '../util/bytes.js';

export type Filesystem = 'ntfs' | 'fat12' | 'fat16' | 'fat32' | 'exfat' | 'bitlocker' | 'unknown';

export interface FilesystemInfo {
  readonly filesystem: Filesystem;
  readonly label?: string;
}

/** Every boot sector we recognise fits in the first 512 bytes, whatever the logical sector size. */
export const BOOT_SECTOR_SIZE = 512;
const OEM_OFFSET = 3;
const OEM_NTFS = 'NTFS    ';
const OEM_BITLOCKER = '-FVE-FS-';
const OEM_EXFAT = 'EXFAT   ';

// BPB fields (FAT spec §3.1, §3.2, §3.3).
const BPB_BYTES_PER_SECTOR = 11;
const BPB_SECTORS_PER_CLUSTER = 13;
const BPB_RESERVED_SECTORS = 14;
const BPB_NUM_FATS = 16;
const BPB_ROOT_ENTRIES = 17;
const BPB_TOTAL_SECTORS_16 = 19;
const BPB_MEDIA = 21;
const BPB_FAT_SIZE_16 = 22;
const BPB_TOTAL_SECTORS_32 = 32;
const BPB_FAT_SIZE_32 = 36;
const BPB_ROOT_CLUSTER = 44;
const BS16_BOOT_SIG = 38; // 0x29: volume id, label and type string follow
const BS16_LABEL = 43;
const BS32_BOOT_SIG = 66;
const BS32_LABEL = 71;
const BS32_FS_TYPE = 82;
const EXTENDED_BOOT_SIGNATURE = 0x29;
const LABEL_LENGTH = 11;
/** What format tools write when the user gave no label; Windows shows no label for it. */
const NO_NAME = 'NO NAME';

/** FAT spec §3.5: the FAT type is decided by the cluster count alone, with these exact limits. */
export const FAT12_MAX_CLUSTERS = 4084;
export const FAT16_MAX_CLUSTERS = 65524;

const DIR_ENTRY_SIZE = 32;
const DIR_ATTR = 11;
const ATTR_VOLUME_ID = 0x08;
const ATTR_DIRECTORY = 0x10;
/** Long-file-name entries set read-only|hidden|system|volume-id (FAT spec §7). */
const ATTR_LONG_NAME_MASK = 0x3f;
const ATTR_LONG_NAME = 0x0f;
const ENTRY_FREE = 0xe5;
/** A name starting with byte 0xE5 is stored as 0x05 (0xE5 marks a free entry). */
const ENTRY_KANJI_E5 = 0x05;
/** The label entry is normally the first root entry; scanning more than this is wasted reads on a damaged disk. */
export const MAX_ROOT_DIR_BYTES = 1 << 20;
const FAT32_CLUSTER_MASK = 0x0fffffff;
const FAT32_FIRST_DATA_CLUSTER = 2;

export interface FatGeometry {
  readonly type: 'fat12' | 'fat16' | 'fat32';
  readonly bytesPerSector: number;
  readonly sectorsPerCluster: number;
  readonly reservedSectors: number;
  readonly numFats: number;
  readonly rootEntries: number;
  readonly totalSectors: number;
  readonly fatSectors: number;
  readonly clusterCount: number;
  /** FAT32 only: first cluster of the root directory. */
  readonly rootCluster: number;
  /** From the BPB's extended boot record, when present and not "NO NAME". */
  readonly bpbLabel?: string;
}

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/**
 * The FAT BPB of `sector`, or null when it is not a FAT boot sector. Strict enough that random or zeroed bytes
 * are not taken for FAT: jump instruction, power-of-two geometry, a valid media byte, non-zero sizes, a data
 * area that exists, and for FAT32 the "FAT32   " type string.
 */
export function parseFatBpb(sector: Uint8Array): FatGeometry | null {
  if (sector.length < BOOT_SECTOR_SIZE) return null;
  const jumpOk = (sector[0] === 0xeb && sector[2] === 0x90) || sector[0] === 0xe9;
  if (!jumpOk) return null;
  const bytesPerSector = u16(sector, BPB_BYTES_PER_SECTOR);
  const sectorsPerCluster = u8(sector, BPB_SECTORS_PER_CLUSTER);
  const reservedSectors = u16(sector, BPB_RESERVED_SECTORS);
  const numFats = u8(sector, BPB_NUM_FATS);
  const rootEntries = u16(sector, BPB_ROOT_ENTRIES);
  const media = u8(sector, BPB_MEDIA);
  const fat16Size = u16(sector, BPB_FAT_SIZE_16);
  const totalSectors = u16(sector, BPB_TOTAL_SECTORS_16) || u32(sector, BPB_TOTAL_SECTORS_32);
  if (!isPowerOfTwo(bytesPerSector) || bytesPerSector < 512 || bytesPerSector > 4096) return null;
  if (!isPowerOfTwo(sectorsPerCluster)) return null; // u8, so at most 128
  if (reservedSectors === 0 || numFats === 0 || totalSectors === 0) return null;
  if (media !== 0xf0 && media < 0xf8) return null;
  const isFat32 = fat16Size === 0;
  if (isFat32 && (ascii(sector, BS32_FS_TYPE, 8) !== 'FAT32   ' || rootEntries !== 0)) return null;
  const fatSectors = isFat32 ? u32(sector, BPB_FAT_SIZE_32) : fat16Size;
  if (fatSectors === 0) return null;
  const rootDirSectors = Math.ceil((rootEntries * DIR_ENTRY_SIZE) / bytesPerSector);
  const dataSectors = totalSectors - (reservedSectors + numFats * fatSectors + rootDirSectors);
  if (dataSectors <= 0) return null;
  const clusterCount = Math.floor(dataSectors / sectorsPerCluster);
  if (clusterCount === 0) return null;
  const type = isFat32 ? 'fat32' : clusterCount <= FAT12_MAX_CLUSTERS ? 'fat12' : 'fat16';
  const sigAt = isFat32 ? BS32_BOOT_SIG : BS16_BOOT_SIG;
  const labelAt = isFat32 ? BS32_LABEL : BS16_LABEL;
  const bpbLabel =
    u8(sector, sigAt) === EXTENDED_BOOT_SIGNATURE
      ? labelText(sector.subarray(labelAt, labelAt + LABEL_LENGTH))
      : undefined;
  const base = {
    type,
    bytesPerSector,
    sectorsPerCluster,
    reservedSectors,
    numFats,
    rootEntries,
    totalSectors,
    fatSectors,
    clusterCount,
    rootCluster: isFat32 ? u32(sector, BPB_ROOT_CLUSTER) : 0,
  } as const;
  return bpbLabel === undefined ? base : { ...base, bpbLabel };
}

/** 11 label bytes → text, trailing spaces dropped; undefined for blank or "NO NAME". Bytes ≥ 0x80 as Latin-1. */
function labelText(raw: Uint8Array): string | undefined {
  const bytes = Uint8Array.from(raw);
  if (bytes[0] === ENTRY_KANJI_E5) bytes[0] = ENTRY_FREE;
  const text = String.fromCharCode(...bytes)
    .replace(/\0+$/, '')
    .trimEnd();
  return text === '' || text === NO_NAME ? undefined : text;
}

/** The filesystem named by a boot sector alone (no label for FAT: that needs the root directory). */
export function sniffBootSector(sector: Uint8Array): Filesystem {
  if (sector.length < BOOT_SECTOR_SIZE) return 'unknown';
  const oem = ascii(sector, OEM_OFFSET, 8);
  if (oem === OEM_BITLOCKER) return 'bitlocker';
  if (oem === OEM_NTFS) return 'ntfs';
  if (oem === OEM_EXFAT) return 'exfat';
  return parseFatBpb(sector)?.type ?? 'unknown';
}

/** The filesystem on `dev` (a partition window or a bare volume) and, for FAT, its label. */
export async function detectFilesystem(dev: BlockDevice): Promise<FilesystemInfo> {
  if (dev.size < BOOT_SECTOR_SIZE) return { filesystem: 'unknown' };
  const sector = await dev.read(0, BOOT_SECTOR_SIZE);
  const filesystem = sniffBootSector(sector);
  const fat = filesystem.startsWith('fat') ? parseFatBpb(sector) : null;
  if (fat === null) return { filesystem };
  const label = (await rootDirectoryLabel(dev, fat)) ?? fat.bpbLabel;
  return label === undefined ? { filesystem } : { filesystem, label };
}

/**
 * The label Windows shows: the ATTR_VOLUME_ID entry of the root directory. undefined when there is none, or when
 * the root directory cannot be read (outside the device, broken chain): the BPB copy is the fallback.
 */
export async function rootDirectoryLabel(dev: BlockDevice, fat: FatGeometry): Promise<string | undefined> {
  const bps = fat.bytesPerSector;
  const fatsEnd = (fat.reservedSectors + fat.numFats * fat.fatSectors) * bps;
  if (fat.type !== 'fat32') {
    const length = Math.min(fat.rootEntries * DIR_ENTRY_SIZE, MAX_ROOT_DIR_BYTES);
    if (length === 0 || fatsEnd + length > dev.size) return undefined;
    return scanLabel(await dev.read(fatsEnd, length)).label;
  }
  const clusterBytes = fat.sectorsPerCluster * bps;
  const lastCluster = fat.clusterCount + FAT32_FIRST_DATA_CLUSTER - 1;
  const seen = new Set<number>();
  let cluster = fat.rootCluster;
  while (
    cluster >= FAT32_FIRST_DATA_CLUSTER &&
    cluster <= lastCluster &&
    !seen.has(cluster) &&
    seen.size * clusterBytes < MAX_ROOT_DIR_BYTES
  ) {
    seen.add(cluster);
    const at = fatsEnd + (cluster - FAT32_FIRST_DATA_CLUSTER) * clusterBytes;
    if (at + clusterBytes > dev.size) return undefined;
    const found = scanLabel(await dev.read(at, clusterBytes));
    if (found.label !== undefined || found.ended) return found.label;
    const fatEntryAt = fat.reservedSectors * bps + cluster * 4;
    if (fatEntryAt + 4 > dev.size) return undefined;
    cluster = u32(await dev.read(fatEntryAt, 4), 0) & FAT32_CLUSTER_MASK;
  }
  return undefined;
}

/** The first volume-id entry in `dir`, and whether the end-of-directory marker was reached. */
function scanLabel(dir: Uint8Array): { label?: string; ended: boolean } {
  for (let o = 0; o + DIR_ENTRY_SIZE <= dir.length; o += DIR_ENTRY_SIZE) {
    const first = dir[o]!;
    if (first === 0) return { ended: true };
    if (first === ENTRY_FREE) continue;
    const attr = dir[o + DIR_ATTR]!;
    if ((attr & ATTR_LONG_NAME_MASK) === ATTR_LONG_NAME) continue;
    if ((attr & (ATTR_VOLUME_ID | ATTR_DIRECTORY)) === ATTR_VOLUME_ID) {
      const label = labelText(dir.subarray(o, o + LABEL_LENGTH));
      return label === undefined ? { ended: true } : { label, ended: true };
    }
  }
  return { ended: false };
}
