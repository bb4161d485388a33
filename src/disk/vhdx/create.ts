// Creating an empty VHDX, [MS-VHDX] §2.1-§2.6: header section (identifier, two headers, two region tables), an
// empty 1 MiB log, the metadata region, the BAT, and for a fixed disk every payload block. Layout, each object
// 1 MiB aligned: log at 1 MiB, metadata at 2 MiB, BAT at 3 MiB, payload blocks after the BAT.
import { WinrescueError } from '../../errors.js';
import type { ImageFile } from '../block-device.js';
import { ZERO_GUID, guidFromString } from '../../util/bytes.js';
import {
  BAT_ENTRY_SIZE,
  PayloadState,
  batGeometry,
  bitmapEntryIndex,
  encodeBatEntry,
  payloadEntryIndex,
} from './bat.js';
import {
  HEADER_OFFSETS,
  HEADER_SIZE,
  ITEM_FILE_PARAMETERS,
  ITEM_LOGICAL_SECTOR_SIZE,
  ITEM_PARENT_LOCATOR,
  ITEM_PHYSICAL_SECTOR_SIZE,
  ITEM_VIRTUAL_DISK_ID,
  ITEM_VIRTUAL_DISK_SIZE,
  MAX_BLOCK_SIZE,
  MAX_VIRTUAL_DISK_SIZE,
  METADATA_TABLE_SIZE,
  MIB,
  MIN_BLOCK_SIZE,
  REGION_BAT,
  REGION_METADATA,
  REGION_TABLE_OFFSETS,
  REGION_TABLE_SIZE,
  SECTOR_SIZES,
} from './constants.js';
import { serializeFileIdentifier } from './file-identifier.js';
import { FORMAT_VERSION, LOG_VERSION, newGuid, serializeHeader } from './header.js';
import { serializeFileParameters, serializeVirtualDiskSize } from './metadata-items.js';
import { type MetadataEntry, serializeMetadataTable } from './metadata-table.js';
import { serializeParentLocator } from './parent-locator.js';
import { serializeRegionTable } from './region-table.js';

export interface CreateVhdxOptions {
  virtualSize: number;
  /** Default 32 MiB, what Hyper-V uses for dynamic disks. */
  blockSize?: number;
  logicalSectorSize?: 512 | 4096;
  physicalSectorSize?: 512 | 4096;
  /** Allocate every payload block now (LeaveBlockAllocated); otherwise blocks are allocated on first write. */
  fixed?: boolean;
  /** Make a differencing disk of this parent (§2.6.2.6.3 key/values; paths in Windows form). */
  parent?: { dataWriteGuid: string; relativePath?: string; absoluteWin32Path?: string; volumePath?: string };
  creator?: string;
}

const LOG_OFFSET = MIB;
const LOG_LENGTH = MIB;
const METADATA_OFFSET = 2 * MIB;
const METADATA_LENGTH = MIB;
const BAT_OFFSET = 3 * MIB;

/** Writes a new, empty VHDX into `file` (which should be empty); open it with openVhdx afterwards. */
export async function createVhdx(file: ImageFile, options: CreateVhdxOptions): Promise<void> {
  const blockSize = options.blockSize ?? 32 * MIB;
  const logicalSectorSize = options.logicalSectorSize ?? 512;
  const physicalSectorSize = options.physicalSectorSize ?? 4096;
  const hasParent = options.parent !== undefined;
  const fixed = (options.fixed ?? false) && !hasParent;
  const { virtualSize } = options;
  const refuse = (what: string, actual: unknown): never => {
    throw new WinrescueError('disk.badField', `cannot create VHDX ${file.path}: ${what}`, {
      structure: 'vhdx.create',
      actual,
    });
  };
  if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0) {
    refuse('block size must be a power of two from 1 MiB to 256 MiB', blockSize);
  }
  if (!SECTOR_SIZES.includes(logicalSectorSize) || !SECTOR_SIZES.includes(physicalSectorSize)) {
    refuse('sector sizes must be 512 or 4096', { logicalSectorSize, physicalSectorSize });
  }
  if (
    !Number.isSafeInteger(virtualSize) ||
    virtualSize <= 0 ||
    virtualSize > MAX_VIRTUAL_DISK_SIZE ||
    virtualSize % logicalSectorSize !== 0
  ) {
    refuse(`virtual size must be a multiple of ${logicalSectorSize} up to 64 TiB`, virtualSize);
  }

  const g = batGeometry({ blockSize, logicalSectorSize, virtualDiskSize: virtualSize, hasParent });
  // Room for every sector bitmap entry too, so the same BAT would serve a differencing conversion (§2.5).
  const batEntries = bitmapEntryIndex(Math.floor((g.payloadBlocks - 1) / g.chunkRatio), g.chunkRatio) + 1;
  const batLength = Math.ceil((batEntries * BAT_ENTRY_SIZE) / MIB) * MIB;
  const payloadStart = BAT_OFFSET + batLength;

  const section = new Uint8Array(REGION_TABLE_OFFSETS[1] + REGION_TABLE_SIZE);
  serializeFileIdentifier({ creator: options.creator ?? 'winrescue' }, section);
  const fields = {
    fileWriteGuid: newGuid(),
    dataWriteGuid: newGuid(),
    logGuid: ZERO_GUID,
    logVersion: LOG_VERSION,
    version: FORMAT_VERSION,
    logLength: LOG_LENGTH,
    logOffset: BigInt(LOG_OFFSET),
  };
  for (const slot of [0, 1] as const) {
    serializeHeader(
      { ...fields, sequenceNumber: BigInt(slot + 1) },
      section.subarray(HEADER_OFFSETS[slot], HEADER_OFFSETS[slot] + HEADER_SIZE),
    );
  }
  const regions = {
    entries: [
      { guid: REGION_BAT, fileOffset: BigInt(BAT_OFFSET), length: batLength, required: true },
      { guid: REGION_METADATA, fileOffset: BigInt(METADATA_OFFSET), length: METADATA_LENGTH, required: true },
    ],
  };
  for (const o of REGION_TABLE_OFFSETS)
    serializeRegionTable(regions, section.subarray(o, o + REGION_TABLE_SIZE));

  const meta = new Uint8Array(METADATA_LENGTH);
  const items: MetadataEntry[] = [];
  let next = METADATA_TABLE_SIZE;
  const add = (itemId: string, bytes: Uint8Array, isVirtualDisk: boolean) => {
    meta.set(bytes, next);
    items.push({
      itemId,
      offset: next,
      length: bytes.length,
      isUser: false,
      isVirtualDisk,
      isRequired: true,
    });
    next += bytes.length;
  };
  const fp = new Uint8Array(8);
  serializeFileParameters({ blockSize, leaveBlockAllocated: fixed, hasParent }, fp, 0);
  add(ITEM_FILE_PARAMETERS, fp, false);
  const vs = new Uint8Array(8);
  serializeVirtualDiskSize(virtualSize, vs, 0);
  add(ITEM_VIRTUAL_DISK_SIZE, vs, true);
  add(ITEM_VIRTUAL_DISK_ID, guidFromString(newGuid()), true);
  add(ITEM_LOGICAL_SECTOR_SIZE, u32le(logicalSectorSize), true);
  add(ITEM_PHYSICAL_SECTOR_SIZE, u32le(physicalSectorSize), true);
  if (options.parent) {
    const p = options.parent;
    const kv = new Map<string, string>([
      ['parent_linkage', `{${p.dataWriteGuid.replace(/[{}]/g, '').toLowerCase()}}`],
    ]);
    if (p.relativePath) kv.set('relative_path', p.relativePath);
    if (p.volumePath) kv.set('volume_path', p.volumePath);
    if (p.absoluteWin32Path) kv.set('absolute_win32_path', p.absoluteWin32Path);
    add(ITEM_PARENT_LOCATOR, serializeParentLocator(kv), false);
  }
  serializeMetadataTable(items, meta);

  const bat = new Uint8Array(batLength);
  if (fixed) {
    for (let block = 0; block < g.payloadBlocks; block++) {
      bat.set(
        encodeBatEntry(PayloadState.fullyPresent, (payloadStart + block * blockSize) / MIB),
        payloadEntryIndex(block, g.chunkRatio) * BAT_ENTRY_SIZE,
      );
    }
  }
  await file.write(0, section);
  await file.write(LOG_OFFSET, new Uint8Array(LOG_LENGTH));
  await file.write(METADATA_OFFSET, meta);
  await file.write(BAT_OFFSET, bat);
  if (fixed) await file.truncate(payloadStart + g.payloadBlocks * blockSize);
  await file.flush();
}

function u32le(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v, true);
  return out;
}
