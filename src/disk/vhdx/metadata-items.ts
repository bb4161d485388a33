// VHDX known metadata items, [MS-VHDX] §2.6.2: File Parameters (§2.6.2.1), Virtual Disk Size (§2.6.2.2), Virtual
// Disk ID (§2.6.2.3), Logical and Physical Sector Size (§2.6.2.4, §2.6.2.5) and the Parent Locator (§2.6.2.6, in
// parent-locator.ts). An item we do not know that is marked IsRequired makes the file unloadable (§2.6.1.2).
import { WinrescueError, hex } from '../../errors.js';
import { guidToString, setU32, setU64, slice, toSafeNumber, u32, u64 } from '../../util/bytes.js';
import {
  ITEM_FILE_PARAMETERS,
  ITEM_LOGICAL_SECTOR_SIZE,
  ITEM_PARENT_LOCATOR,
  ITEM_PHYSICAL_SECTOR_SIZE,
  ITEM_VIRTUAL_DISK_ID,
  ITEM_VIRTUAL_DISK_SIZE,
  MAX_BLOCK_SIZE,
  MAX_VIRTUAL_DISK_SIZE,
  MIN_BLOCK_SIZE,
  SECTOR_SIZES,
} from './constants.js';
import type { MetadataEntry } from './metadata-table.js';
import { type ParentLocator, parseParentLocator } from './parent-locator.js';

export const FILE_PARAMETERS_SIZE = 8;
const FP_LEAVE_BLOCK_ALLOCATED = 1 << 0;
const FP_HAS_PARENT = 1 << 1;

export interface FileParameters {
  readonly blockSize: number;
  /** Blocks must stay allocated (a fully provisioned, "fixed" VHDX); ignored when hasParent. */
  readonly leaveBlockAllocated: boolean;
  readonly hasParent: boolean;
}

export interface VhdxMetadata extends FileParameters {
  readonly virtualDiskSize: number;
  readonly virtualDiskId: string | undefined;
  readonly logicalSectorSize: number;
  readonly physicalSectorSize: number;
  readonly parentLocator: ParentLocator | undefined;
}

const KNOWN_ITEMS: ReadonlySet<string> = new Set([
  ITEM_FILE_PARAMETERS,
  ITEM_VIRTUAL_DISK_SIZE,
  ITEM_VIRTUAL_DISK_ID,
  ITEM_LOGICAL_SECTOR_SIZE,
  ITEM_PHYSICAL_SECTOR_SIZE,
  ITEM_PARENT_LOCATOR,
]);

/** Reads the known system items out of the metadata region and validates them against each other. */
export function parseKnownItems(
  region: Uint8Array,
  entries: readonly MetadataEntry[],
  regionOffset: number,
  name: string,
): VhdxMetadata {
  for (const e of entries) {
    if (e.isRequired && (e.isUser || !KNOWN_ITEMS.has(e.itemId))) {
      throw new WinrescueError(
        'disk.unsupported',
        `VHDX ${name}: metadata item ${e.itemId} is marked required but is not one we know; refusing to open the file`,
        { offset: regionOffset + e.offset, structure: 'vhdx.metadata', actual: e.itemId },
      );
    }
  }
  const item = (id: string, size: number | undefined): { bytes: Uint8Array; at: number } | undefined => {
    const e = entries.find((x) => x.itemId === id && !x.isUser);
    if (!e) return undefined;
    const at = regionOffset + e.offset;
    if (size !== undefined && e.length < size) {
      throw new WinrescueError(
        'disk.badField',
        `VHDX ${name}: metadata item ${id} at ${hex(at)} is ${e.length} bytes, needs ${size}`,
        {
          offset: at,
          structure: 'vhdx.metadata',
          expected: size,
          actual: e.length,
        },
      );
    }
    return {
      bytes: slice(region, e.offset, e.length, { structure: 'vhdx.metadata', base: regionOffset }),
      at,
    };
  };
  const required = (id: string, what: string, size: number): { bytes: Uint8Array; at: number } => {
    const found = item(id, size);
    if (!found) {
      throw new WinrescueError(
        'disk.badField',
        `VHDX ${name}: the required metadata item ${what} (${id}) is missing`,
        {
          offset: regionOffset,
          structure: 'vhdx.metadata',
          expected: id,
        },
      );
    }
    return found;
  };
  const bad = (what: string, at: number, expected: unknown, actual: unknown): never => {
    throw new WinrescueError('disk.badField', `VHDX ${name}: ${what} at ${hex(at)}`, {
      offset: at,
      structure: 'vhdx.metadata',
      expected,
      actual,
    });
  };

  const fp = required(ITEM_FILE_PARAMETERS, 'File Parameters', FILE_PARAMETERS_SIZE);
  const params = parseFileParameters(fp.bytes);
  if (
    params.blockSize < MIN_BLOCK_SIZE ||
    params.blockSize > MAX_BLOCK_SIZE ||
    !isPowerOfTwo(params.blockSize)
  ) {
    bad(
      `block size ${params.blockSize} is not a power of two from 1 MiB to 256 MiB`,
      fp.at,
      '1 MiB..256 MiB, power of 2',
      params.blockSize,
    );
  }

  const ls = required(ITEM_LOGICAL_SECTOR_SIZE, 'Logical Sector Size', 4);
  const logicalSectorSize = u32(ls.bytes, 0);
  if (!SECTOR_SIZES.includes(logicalSectorSize))
    bad(`logical sector size ${logicalSectorSize}`, ls.at, '512 or 4096', logicalSectorSize);

  const ps = required(ITEM_PHYSICAL_SECTOR_SIZE, 'Physical Sector Size', 4);
  const physicalSectorSize = u32(ps.bytes, 0);
  if (!SECTOR_SIZES.includes(physicalSectorSize))
    bad(`physical sector size ${physicalSectorSize}`, ps.at, '512 or 4096', physicalSectorSize);

  const vs = required(ITEM_VIRTUAL_DISK_SIZE, 'Virtual Disk Size', 8);
  const rawSize = u64(vs.bytes, 0);
  if (
    rawSize === 0n ||
    rawSize > BigInt(MAX_VIRTUAL_DISK_SIZE) ||
    rawSize % BigInt(logicalSectorSize) !== 0n
  ) {
    bad(
      `virtual disk size ${rawSize} is not a non-zero multiple of ${logicalSectorSize} up to 64 TiB`,
      vs.at,
      `1..${MAX_VIRTUAL_DISK_SIZE}`,
      rawSize,
    );
  }
  const virtualDiskSize = toSafeNumber(rawSize, { structure: 'vhdx.metadata', offset: vs.at });

  const id = item(ITEM_VIRTUAL_DISK_ID, 16);
  const pl = item(ITEM_PARENT_LOCATOR, undefined);
  const parentLocator = pl && params.hasParent ? parseParentLocator(pl.bytes, pl.at, name) : undefined;
  if (params.hasParent && !parentLocator) {
    bad(
      'the file has a parent (HasParent) but no parent locator item',
      fp.at,
      ITEM_PARENT_LOCATOR,
      'missing',
    );
  }
  return {
    ...params,
    virtualDiskSize,
    virtualDiskId: id ? guidToString(id.bytes, 0) : undefined,
    logicalSectorSize,
    physicalSectorSize,
    parentLocator,
  };
}

export function parseFileParameters(bytes: Uint8Array): FileParameters {
  const flags = u32(bytes, 4);
  return {
    blockSize: u32(bytes, 0),
    leaveBlockAllocated: (flags & FP_LEAVE_BLOCK_ALLOCATED) !== 0,
    hasParent: (flags & FP_HAS_PARENT) !== 0,
  };
}

export function serializeFileParameters(p: FileParameters, out: Uint8Array, offset: number): void {
  setU32(out, offset, p.blockSize);
  setU32(
    out,
    offset + 4,
    (p.leaveBlockAllocated ? FP_LEAVE_BLOCK_ALLOCATED : 0) | (p.hasParent ? FP_HAS_PARENT : 0),
  );
}

export function serializeVirtualDiskSize(size: number, out: Uint8Array, offset: number): void {
  setU64(out, offset, size);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}
