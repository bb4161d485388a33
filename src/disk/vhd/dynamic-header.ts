// VHD dynamic disk header, Microsoft "Virtual Hard Disk Image Format Specification" v1.0 (2006), "Dynamic Disk
// Header Format"; cross-checked with libyal libvhdi "Virtual Hard Disk (VHD) image format", §3. Big-endian. Found at
// the footer's data offset in dynamic and differencing images; the parent fields matter only for differencing.
import { WinrescueError, hex } from '../../errors.js';
import { ascii, checkRange, u32be, u64be } from '../../util/bytes.js';
import { vhdChecksum } from './checksum.js';
import { uuidBigEndian } from './footer.js';
import {
  type ParentLocatorEntry,
  PARENT_LOCATOR_ENTRY_SIZE,
  decodeParentLocatorEntry,
} from './parent-locator.js';

export const DYNAMIC_HEADER_SIZE = 1024;
export const DYNAMIC_HEADER_COOKIE = 'cxsparse';
export const DYNAMIC_HEADER_VERSION = 0x0001_0000;
/** The BAT addresses 512-byte sectors, and bitmaps count 512-byte sectors, whatever the guest's sector size. */
export const VHD_SECTOR_SIZE = 512;
/** Smallest block: one sector (the spec only asks for a power of two). */
export const MIN_BLOCK_SIZE = VHD_SECTOR_SIZE;
/**
 * Largest block we accept: the spec's default is 2 MiB and Virtual PC used 512 KiB; a bigger value is far more
 * likely damage than a real image, and we read whole blocks into memory.
 */
export const MAX_BLOCK_SIZE = 256 * 1024 * 1024;
export const PARENT_LOCATOR_COUNT = 8;
/** The parent name field: 256 UTF-16 big-endian code units. */
const PARENT_NAME_SIZE = 512;

const O_COOKIE = 0;
const O_DATA_OFFSET = 8;
export const HEADER_TABLE_OFFSET_FIELD = 16;
const O_TABLE_OFFSET = HEADER_TABLE_OFFSET_FIELD;
const O_VERSION = 24;
export const HEADER_MAX_TABLE_ENTRIES_FIELD = 28;
const O_MAX_TABLE_ENTRIES = HEADER_MAX_TABLE_ENTRIES_FIELD;
const O_BLOCK_SIZE = 32;
export const HEADER_CHECKSUM_OFFSET = 36;
const O_PARENT_UNIQUE_ID = 40;
const O_PARENT_TIME_STAMP = 56;
const O_PARENT_NAME = 64;
const O_PARENT_LOCATORS = 576;

export interface VhdDynamicHeader {
  readonly cookie: string;
  /** Unused by the spec (0xFFFFFFFFFFFFFFFF). */
  readonly dataOffset: bigint;
  /** Absolute file offset of the block allocation table. */
  readonly tableOffset: bigint;
  readonly headerVersion: number;
  readonly maxTableEntries: number;
  /** Data bytes per block, bitmap not included. */
  readonly blockSize: number;
  readonly checksum: number;
  readonly computedChecksum: number;
  readonly parentUniqueId: string;
  /** Seconds since 2000-01-01 UTC: the parent's modification time when the child was made. */
  readonly parentTimeStamp: number;
  /** UTF-16 big-endian in the file; often a bare file name, sometimes a full Windows path. */
  readonly parentUnicodeName: string;
  readonly parentLocators: readonly ParentLocatorEntry[];
  readonly raw: Uint8Array;
}

export function decodeDynamicHeader(bytes: Uint8Array, base: number): VhdDynamicHeader {
  checkRange(bytes.length, 0, DYNAMIC_HEADER_SIZE, {
    structure: 'vhd.dynamicHeader',
    base,
    code: 'disk.truncated',
  });
  const b = bytes.subarray(0, DYNAMIC_HEADER_SIZE);
  const locators: ParentLocatorEntry[] = [];
  for (let i = 0; i < PARENT_LOCATOR_COUNT; i++) {
    const o = O_PARENT_LOCATORS + i * PARENT_LOCATOR_ENTRY_SIZE;
    locators.push(decodeParentLocatorEntry(b.subarray(o, o + PARENT_LOCATOR_ENTRY_SIZE), i, base + o));
  }
  return {
    cookie: ascii(b, O_COOKIE, 8),
    dataOffset: u64be(b, O_DATA_OFFSET),
    tableOffset: u64be(b, O_TABLE_OFFSET),
    headerVersion: u32be(b, O_VERSION),
    maxTableEntries: u32be(b, O_MAX_TABLE_ENTRIES),
    blockSize: u32be(b, O_BLOCK_SIZE),
    checksum: u32be(b, HEADER_CHECKSUM_OFFSET),
    computedChecksum: vhdChecksum(b, HEADER_CHECKSUM_OFFSET),
    parentUniqueId: uuidBigEndian(b, O_PARENT_UNIQUE_ID),
    parentTimeStamp: u32be(b, O_PARENT_TIME_STAMP),
    parentUnicodeName: utf16beString(b.subarray(O_PARENT_NAME, O_PARENT_NAME + PARENT_NAME_SIZE)),
    parentLocators: locators,
    raw: b.slice(),
  };
}

/** Cookie, checksum, version and block size; the table's place in the file is checked by the opener. */
export function validateDynamicHeader(h: VhdDynamicHeader, what: string, base: number): void {
  const at = `${what}: dynamic disk header at ${hex(base)}`;
  const where = { structure: 'vhd.dynamicHeader' };
  if (h.cookie !== DYNAMIC_HEADER_COOKIE) {
    throw new WinrescueError(
      'disk.badSignature',
      `${at}: cookie should be "${DYNAMIC_HEADER_COOKIE}", is ${JSON.stringify(h.cookie)}`,
      {
        ...where,
        offset: base + O_COOKIE,
        expected: DYNAMIC_HEADER_COOKIE,
        actual: h.cookie,
      },
    );
  }
  if (h.checksum !== h.computedChecksum) {
    throw new WinrescueError(
      'disk.badChecksum',
      `${at}: checksum should be ${hex(h.computedChecksum)}, is ${hex(h.checksum)}`,
      {
        ...where,
        offset: base + HEADER_CHECKSUM_OFFSET,
        expected: h.computedChecksum,
        actual: h.checksum,
      },
    );
  }
  if (h.headerVersion >>> 16 !== DYNAMIC_HEADER_VERSION >>> 16) {
    throw new WinrescueError('disk.unsupported', `${at}: header version ${hex(h.headerVersion)} is not 1.x`, {
      ...where,
      offset: base + O_VERSION,
      expected: DYNAMIC_HEADER_VERSION,
      actual: h.headerVersion,
    });
  }
  const bs = h.blockSize;
  if (bs < MIN_BLOCK_SIZE || (bs & (bs - 1)) !== 0) {
    throw new WinrescueError(
      'disk.badField',
      `${at}: block size ${bs} is not a power of two of at least ${MIN_BLOCK_SIZE}`,
      {
        ...where,
        offset: base + O_BLOCK_SIZE,
        expected: 'power of two >= 512',
        actual: bs,
      },
    );
  }
  if (bs > MAX_BLOCK_SIZE) {
    throw new WinrescueError(
      'disk.unsupported',
      `${at}: block size ${bs} is larger than the ${MAX_BLOCK_SIZE} bytes we accept`,
      {
        ...where,
        offset: base + O_BLOCK_SIZE,
        expected: `<= ${MAX_BLOCK_SIZE}`,
        actual: bs,
      },
    );
  }
}

export function parseDynamicHeader(bytes: Uint8Array, what: string, base: number): VhdDynamicHeader {
  const h = decodeDynamicHeader(bytes, base);
  validateDynamicHeader(h, what, base);
  return h;
}

/** Bytes of the sector bitmap in front of each block: one bit per sector, padded to whole sectors. */
export function bitmapSizeFor(blockSize: number): number {
  const bytes = Math.ceil(blockSize / VHD_SECTOR_SIZE / 8);
  return Math.ceil(bytes / VHD_SECTOR_SIZE) * VHD_SECTOR_SIZE;
}

function utf16beString(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) {
    const c = (b[i]! << 8) | b[i + 1]!;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}
