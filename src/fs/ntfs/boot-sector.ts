// NTFS boot sector ($Boot, MFT record 7): libfsntfs "New Technologies File System (NTFS).asciidoc" §3
// "Volume header"; flatcap linux-ntfs ntfs/files/boot.html; ntfs-3g layout.h NTFS_BOOT_SECTOR.
import { WinrescueError, hex } from '../../errors.js';
import { ascii, i64, u16, u64, u8 } from '../../util/bytes.js';

export const BOOT_SECTOR_SIZE = 512;
const OEM_NTFS = 'NTFS    ';
/** BitLocker replaces the OEM id of the volume it encrypts (the boot sector stays readable). */
export const OEM_BITLOCKER = '-FVE-FS-';
const BOOT_SIGNATURE = 0xaa55;
const MIN_SECTOR = 256;
const MAX_SECTOR = 4096;
/** Largest cluster NTFS allows (Windows 10 1709+ formats up to 2 MiB). */
export const MAX_CLUSTER_SIZE = 2 * 1024 * 1024;
/** Record sizes Windows uses are 1 KiB and 4 KiB; accept the power-of-two range around them. */
const MIN_RECORD_SIZE = 256;
const MAX_RECORD_SIZE = 65536;
/** Values 0xF4..0xFF of sectors-per-cluster mean 2^(256-n) sectors (clusters of 128 KiB and more). */
const SPC_SHIFT_THRESHOLD = 0xf4;

export interface BootSector {
  readonly oemId: string;
  readonly bytesPerSector: number;
  readonly sectorsPerCluster: number;
  readonly clusterSize: number;
  /** Sectors in the volume; the backup boot sector sits at this sector number (the last one, past the end). */
  readonly totalSectors: number;
  readonly totalClusters: number;
  readonly mftLcn: number;
  readonly mftMirrLcn: number;
  readonly mftRecordSize: number;
  readonly indexRecordSize: number;
  readonly serial: bigint;
  /** Serial as fsstat prints it: 16 upper-case hex digits. */
  readonly serialHex: string;
}

function fail(base: number, message: string, field: number, expected: unknown, actual: unknown): never {
  throw new WinrescueError('ntfs.badBootSector', `NTFS boot sector at ${hex(base)}: ${message}`, {
    offset: base + field,
    structure: 'ntfs.bootSector',
    expected,
    actual,
  });
}

/** The i8 "clusters per record" encoding: positive = clusters, negative n = 2^-n bytes. */
function recordSize(code: number, clusterSize: number): number {
  const signed = code > 127 ? code - 256 : code;
  if (signed > 0) return signed * clusterSize;
  if (signed < -31) return -1;
  return 2 ** -signed;
}

export function isBitLocker(sector: Uint8Array): boolean {
  return sector.length >= 11 && ascii(sector, 3, 8) === OEM_BITLOCKER;
}

/** Parses and validates a boot sector. `base` is its absolute offset, for messages. */
export function parseBootSector(b: Uint8Array, base = 0): BootSector {
  if (b.length < BOOT_SECTOR_SIZE) fail(base, 'shorter than 512 bytes', 0, BOOT_SECTOR_SIZE, b.length);
  const oemId = ascii(b, 3, 8);
  if (oemId === OEM_BITLOCKER) {
    throw new WinrescueError('ntfs.bitlocker', `volume at ${hex(base)} is BitLocker-encrypted (-FVE-FS-)`, {
      offset: base + 3,
      structure: 'ntfs.bootSector',
      expected: OEM_NTFS,
      actual: oemId,
    });
  }
  if (oemId !== OEM_NTFS)
    fail(base, `OEM id should be "NTFS    ", is ${JSON.stringify(oemId)}`, 3, OEM_NTFS, oemId);
  if (u16(b, 510) !== BOOT_SIGNATURE)
    fail(base, 'missing 0x55AA signature', 510, hex(BOOT_SIGNATURE), hex(u16(b, 510)));
  const bytesPerSector = u16(b, 11);
  if (
    bytesPerSector < MIN_SECTOR ||
    bytesPerSector > MAX_SECTOR ||
    (bytesPerSector & (bytesPerSector - 1)) !== 0
  ) {
    fail(
      base,
      `bytes per sector ${bytesPerSector} is not a power of two in 256..4096`,
      11,
      '256..4096',
      bytesPerSector,
    );
  }
  const spcCode = u8(b, 13);
  const sectorsPerCluster = spcCode >= SPC_SHIFT_THRESHOLD ? 2 ** (256 - spcCode) : spcCode;
  if (sectorsPerCluster === 0 || (sectorsPerCluster & (sectorsPerCluster - 1)) !== 0) {
    fail(base, `sectors per cluster code ${spcCode} is not a power of two`, 13, 'power of two', spcCode);
  }
  const clusterSize = bytesPerSector * sectorsPerCluster;
  if (clusterSize > MAX_CLUSTER_SIZE)
    fail(base, `cluster size ${clusterSize} exceeds 2 MiB`, 13, MAX_CLUSTER_SIZE, clusterSize);
  const total = i64(b, 40);
  if (total <= 0n || total > BigInt(Number.MAX_SAFE_INTEGER))
    fail(base, `total sectors ${total} is impossible`, 40, '> 0', total);
  const totalSectors = Number(total);
  const totalClusters = Math.floor(totalSectors / sectorsPerCluster);
  const lcnOf = (field: number, what: string): number => {
    const v = i64(b, field);
    if (v < 0n || v >= BigInt(totalClusters))
      fail(
        base,
        `${what} LCN ${v} lies outside the ${totalClusters} clusters`,
        field,
        `< ${totalClusters}`,
        v,
      );
    return Number(v);
  };
  const mftLcn = lcnOf(48, '$MFT');
  const mftMirrLcn = lcnOf(56, '$MFTMirr');
  const mftRecordSize = recordSize(u8(b, 64), clusterSize);
  if (
    mftRecordSize < MIN_RECORD_SIZE ||
    mftRecordSize > MAX_RECORD_SIZE ||
    (mftRecordSize & (mftRecordSize - 1)) !== 0
  ) {
    fail(
      base,
      `MFT record size ${mftRecordSize} (code ${hex(u8(b, 64))}) is impossible`,
      64,
      '256..65536',
      mftRecordSize,
    );
  }
  const indexRecordSize = recordSize(u8(b, 68), clusterSize);
  if (
    indexRecordSize < MIN_RECORD_SIZE ||
    indexRecordSize > MAX_CLUSTER_SIZE ||
    (indexRecordSize & (indexRecordSize - 1)) !== 0
  ) {
    fail(
      base,
      `index record size ${indexRecordSize} (code ${hex(u8(b, 68))}) is impossible`,
      68,
      '256..2 MiB',
      indexRecordSize,
    );
  }
  const serial = u64(b, 72);
  return {
    oemId,
    bytesPerSector,
    sectorsPerCluster,
    clusterSize,
    totalSectors,
    totalClusters,
    mftLcn,
    mftMirrLcn,
    mftRecordSize,
    indexRecordSize,
    serial,
    serialHex: serial.toString(16).toUpperCase().padStart(16, '0'),
  };
}
