// FAT boot sector and BPB. Source: Microsoft "FAT32 File System Specification" v1.03 (fatgen103) §3.1–3.3
// (BPB fields), §3.5 (the FAT type is decided by the cluster count alone) and §3.6 (FAT32 BPB_ExtFlags mirroring).
import { WinrescueError } from '../../errors.js';
import { u8, u16, u32 } from '../../util/bytes.js';

export type FatType = 'fat12' | 'fat16' | 'fat32';

export interface FatBootSector {
  readonly type: FatType;
  readonly bytesPerSector: number;
  readonly sectorsPerCluster: number;
  readonly clusterSize: number;
  readonly reservedSectors: number;
  readonly numFats: number;
  /** FAT12/16: entries in the fixed root directory; 0 on FAT32. */
  readonly rootEntries: number;
  readonly totalSectors: number;
  /** Sectors of one FAT copy. */
  readonly fatSectors: number;
  /** Data clusters; valid cluster numbers are 2 .. clusterCount + 1. */
  readonly clusterCount: number;
  /** FAT32: first cluster of the root directory; 0 on FAT12/16. */
  readonly rootCluster: number;
  /** FAT32: sector of the FSInfo structure, or 0 when there is none. */
  readonly fsInfoSector: number;
  /** FAT32 BPB_ExtFlags bit 7 clear: every FAT copy is kept identical. Always true on FAT12/16. */
  readonly mirrored: boolean;
  /** When not mirrored: the one FAT copy in use (BPB_ExtFlags bits 0–3). */
  readonly activeFat: number;
  /** Byte offset of FAT copy 0 in the volume. */
  readonly fatOffset: number;
  /** FAT12/16: byte offset and length of the fixed root directory. */
  readonly rootDirOffset: number;
  readonly rootDirBytes: number;
  /** Byte offset of cluster 2. */
  readonly dataOffset: number;
  /** Bytes the geometry says the volume spans. */
  readonly volumeBytes: number;
}

export const BOOT_SECTOR_BYTES = 512;
/** §3.5: the exact cluster-count limits; "off by one" here is what the spec warns about. */
export const FAT12_MAX_CLUSTERS = 4084;
export const FAT16_MAX_CLUSTERS = 65524;
/** FAT32 entries are 28 bits (§4): the top nibble is reserved, so at most this many clusters can be addressed. */
export const FAT32_MAX_CLUSTERS = 0x0ffffff5;
/** 0xAA55 at byte 510 (§3.2, "Signature_word"). */
const SIGNATURE = 0xaa55;
const SIGNATURE_AT = 510;
const DIR_ENTRY_BYTES = 32;
const EXT_FLAGS_NO_MIRROR = 0x80;
const EXT_FLAGS_ACTIVE_MASK = 0x0f;

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

function bad(field: string, expected: unknown, actual: unknown, offset: number): WinrescueError {
  return new WinrescueError('fat.badBootSector', `FAT boot sector: ${field} is ${String(actual)}`, {
    structure: 'fat.bootSector',
    offset,
    expected,
    actual,
  });
}

/** Parses and validates the first 512 bytes of a FAT volume; a `fat.badBootSector` error says which field is wrong. */
export function parseBootSector(sector: Uint8Array): FatBootSector {
  if (sector.length < BOOT_SECTOR_BYTES) throw bad('length', BOOT_SECTOR_BYTES, sector.length, 0);
  if (u16(sector, SIGNATURE_AT) !== SIGNATURE)
    throw bad('signature', '0xaa55', u16(sector, SIGNATURE_AT), 510);
  const bytesPerSector = u16(sector, 11);
  if (!isPowerOfTwo(bytesPerSector) || bytesPerSector < 512 || bytesPerSector > 4096) {
    throw bad('BPB_BytsPerSec', '512, 1024, 2048 or 4096', bytesPerSector, 11);
  }
  const sectorsPerCluster = u8(sector, 13);
  if (!isPowerOfTwo(sectorsPerCluster)) throw bad('BPB_SecPerClus', 'a power of two', sectorsPerCluster, 13);
  const reservedSectors = u16(sector, 14);
  if (reservedSectors === 0) throw bad('BPB_RsvdSecCnt', '> 0', 0, 14);
  const numFats = u8(sector, 16);
  if (numFats === 0) throw bad('BPB_NumFATs', '> 0', 0, 16);
  const rootEntries = u16(sector, 17);
  const total16 = u16(sector, 19);
  const totalSectors = total16 !== 0 ? total16 : u32(sector, 32);
  if (totalSectors === 0) throw bad('BPB_TotSec', '> 0', 0, 19);
  const fat16Size = u16(sector, 22);
  const fatSectors = fat16Size !== 0 ? fat16Size : u32(sector, 36);
  if (fatSectors === 0) throw bad('BPB_FATSz', '> 0', 0, 22);
  const rootDirBytes = rootEntries * DIR_ENTRY_BYTES;
  const rootDirSectors = Math.ceil(rootDirBytes / bytesPerSector);
  const firstDataSector = reservedSectors + numFats * fatSectors + rootDirSectors;
  const dataSectors = totalSectors - firstDataSector;
  if (dataSectors <= 0) throw bad('data area', '> 0 sectors', dataSectors, 19);
  const clusterCount = Math.floor(dataSectors / sectorsPerCluster);
  const type: FatType =
    clusterCount <= FAT12_MAX_CLUSTERS ? 'fat12' : clusterCount <= FAT16_MAX_CLUSTERS ? 'fat16' : 'fat32';
  if (clusterCount === 0 || clusterCount > FAT32_MAX_CLUSTERS) {
    throw bad('cluster count', `1..${FAT32_MAX_CLUSTERS}`, clusterCount, 19);
  }
  const entryBits = type === 'fat12' ? 12 : type === 'fat16' ? 16 : 32;
  const neededFatBytes = Math.ceil(((clusterCount + 2) * entryBits) / 8);
  if (fatSectors * bytesPerSector < neededFatBytes) {
    throw bad('BPB_FATSz', `>= ${Math.ceil(neededFatBytes / bytesPerSector)} sectors`, fatSectors, 22);
  }
  let rootCluster = 0;
  let fsInfoSector = 0;
  let mirrored = true;
  let activeFat = 0;
  if (type === 'fat32') {
    if (rootEntries !== 0) throw bad('BPB_RootEntCnt', 0, rootEntries, 17);
    if (fat16Size !== 0) throw bad('BPB_FATSz16', 0, fat16Size, 22);
    const extFlags = u16(sector, 40);
    mirrored = (extFlags & EXT_FLAGS_NO_MIRROR) === 0;
    activeFat = mirrored ? 0 : extFlags & EXT_FLAGS_ACTIVE_MASK;
    if (activeFat >= numFats) throw bad('BPB_ExtFlags active FAT', `< ${numFats}`, activeFat, 40);
    rootCluster = u32(sector, 44);
    if (rootCluster < 2 || rootCluster > clusterCount + 1) {
      throw bad('BPB_RootClus', `2..${clusterCount + 1}`, rootCluster, 44);
    }
    fsInfoSector = u16(sector, 48);
    // 0 and 0xFFFF both mean "no FSInfo"; anything inside the FATs or past the reserved area cannot be one.
    if (fsInfoSector === 0xffff || fsInfoSector >= reservedSectors) fsInfoSector = 0;
  } else if (rootEntries === 0) {
    throw bad('BPB_RootEntCnt', '> 0 on FAT12/16', 0, 17);
  }
  const fatOffset = reservedSectors * bytesPerSector;
  return {
    type,
    bytesPerSector,
    sectorsPerCluster,
    clusterSize: sectorsPerCluster * bytesPerSector,
    reservedSectors,
    numFats,
    rootEntries,
    totalSectors,
    fatSectors,
    clusterCount,
    rootCluster,
    fsInfoSector,
    mirrored,
    activeFat,
    fatOffset,
    rootDirOffset: fatOffset + numFats * fatSectors * bytesPerSector,
    rootDirBytes: type === 'fat32' ? 0 : rootDirBytes,
    dataOffset: firstDataSector * bytesPerSector,
    volumeBytes: totalSectors * bytesPerSector,
  };
}
