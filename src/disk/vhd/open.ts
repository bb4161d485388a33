// Finding and checking a VHD's structures in a file, Microsoft "Virtual Hard Disk Image Format Specification" v1.0
// (2006): the footer at the end ("Hard Disk Footer Format"), then for sparse images the dynamic disk header at the
// footer's data offset, the BAT at the header's table offset, and the parent through the parent locators
// ("Implementing a Differencing Hard Disk" → "Identification of the Parent Hard Disk Image").
import { WinrescueError, hex, isWinrescueError } from '../../errors.js';
import { checkRange } from '../../util/bytes.js';
import type { BlockDevice, ImageFile } from '../block-device.js';
import { BAT_ENTRY_SIZE, type ReservedRange, decodeBat, validateBat } from './bat.js';
import {
  DYNAMIC_HEADER_SIZE,
  HEADER_MAX_TABLE_ENTRIES_FIELD,
  HEADER_TABLE_OFFSET_FIELD,
  VHD_SECTOR_SIZE,
  bitmapSizeFor,
  parseDynamicHeader,
  type VhdDynamicHeader,
} from './dynamic-header.js';
import {
  DiskType,
  FOOTER_COOKIE,
  FOOTER_CURRENT_SIZE_FIELD,
  FOOTER_DATA_OFFSET_FIELD,
  FOOTER_SIZE,
  type VhdFooter,
  decodeFooter,
  hasFooterCookie,
  parseFooter,
} from './footer.js';
import {
  type LocatorPath,
  decodeLocatorPath,
  isPathLocator,
  locatorDataRange,
  parentCandidates,
} from './parent-locator.js';
import { VhdSparseDevice } from './sparse-device.js';
import { VhdDevice, VhdFixedDevice, baseName } from './vhd-device.js';

/** Footers written before Virtual PC 2004 are 511 bytes (the spec, "Hard Disk Footer Format"). */
const LEGACY_FOOTER_SIZE = 511;
/** Azure accepts only VHDs whose virtual size is a whole number of MiB. */
const AZURE_SIZE_ALIGNMENT = 1024 * 1024;

export interface OpenVhdOptions {
  readOnly: boolean;
  /** Opens a differencing image's parent, whatever its format; required only for differencing images. */
  openParent?: (path: string) => Promise<BlockDevice>;
}

/** True when the file carries a VHD footer cookie at its end, or a footer copy at offset 0 (dynamic images). */
export async function detectVhd(file: ImageFile): Promise<boolean> {
  if (file.size < FOOTER_SIZE - 1) return false;
  const head = await file.read(0, Math.min(FOOTER_SIZE, file.size));
  if (hasFooterCookie(head)) return true;
  if (file.size >= FOOTER_SIZE && hasFooterCookie(await file.read(file.size - FOOTER_SIZE, FOOTER_SIZE)))
    return true;
  return hasFooterCookie(await file.read(file.size - LEGACY_FOOTER_SIZE, LEGACY_FOOTER_SIZE));
}

/** Opens a fixed, dynamic or differencing VHD, checking every structure it will rely on (typed errors). */
export async function openVhd(file: ImageFile, options: OpenVhdOptions): Promise<VhdDevice> {
  const name = baseName(file.path);
  const { footer, footerOffset } = await readFooter(file, `VHD ${name}`);
  const kind =
    footer.diskType === DiskType.fixed
      ? 'fixed'
      : footer.diskType === DiskType.dynamic
        ? 'dynamic'
        : 'differencing';
  const what = `${kind} VHD ${name}`;
  if (footer.currentSize > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new WinrescueError(
      'disk.badField',
      `${what}: current size ${footer.currentSize} is beyond any real disk`,
      {
        offset: footerOffset + FOOTER_CURRENT_SIZE_FIELD,
        structure: 'vhd.footer',
        expected: `<= ${Number.MAX_SAFE_INTEGER}`,
        actual: footer.currentSize,
      },
    );
  }
  const size = Number(footer.currentSize);
  if (size % VHD_SECTOR_SIZE !== 0 || size === 0) {
    throw new WinrescueError(
      'disk.badField',
      `${what}: current size ${size} is not a positive multiple of ${VHD_SECTOR_SIZE}`,
      {
        offset: footerOffset + FOOTER_CURRENT_SIZE_FIELD,
        structure: 'vhd.footer',
        expected: `multiple of ${VHD_SECTOR_SIZE}`,
        actual: size,
      },
    );
  }
  const warnings: string[] = [];
  if (size % AZURE_SIZE_ALIGNMENT !== 0) {
    warnings.push(`${what}: virtual size ${size} is not a multiple of 1 MiB (Azure requires it)`);
  }
  if (footer.savedState)
    warnings.push(`${what}: the footer's saved-state flag is set (a VM was saved with this disk)`);
  const readOnly = options.readOnly || file.readOnly;

  if (footer.diskType === DiskType.fixed) {
    if (footerOffset < size) {
      throw new WinrescueError(
        'disk.truncated',
        `${what}: the file holds ${footerOffset} bytes of data before its footer, the footer says ${size}`,
        {
          offset: footerOffset,
          structure: 'vhd.footer',
          expected: size,
          actual: footerOffset,
        },
      );
    }
    if (footerOffset > size)
      warnings.push(`${what}: ${footerOffset - size} bytes between the data and the footer are ignored`);
    return new VhdFixedDevice(file, footer, size, readOnly, warnings);
  }

  if (footer.diskType === DiskType.differencing && !readOnly) {
    throw new WinrescueError(
      'disk.unsupported',
      `${what}: writing to a differencing VHD is not supported; open it read-only`,
      {
        structure: 'vhd.footer',
        path: file.path,
      },
    );
  }

  // The footer copy at 0 holds the first 512 bytes: the header must come after it.
  const dataOffset = footer.dataOffset;
  if (dataOffset < BigInt(FOOTER_SIZE) || dataOffset + BigInt(DYNAMIC_HEADER_SIZE) > BigInt(footerOffset)) {
    throw new WinrescueError(
      'disk.badField',
      `${what}: footer data offset ${hex(dataOffset)} does not leave room for the 1024-byte dynamic disk header between the footer copy and the footer at ${hex(footerOffset)}`,
      {
        offset: footerOffset + FOOTER_DATA_OFFSET_FIELD,
        structure: 'vhd.footer',
        expected: `${FOOTER_SIZE}..${footerOffset - DYNAMIC_HEADER_SIZE}`,
        actual: dataOffset,
      },
    );
  }
  const headerOffset = Number(dataOffset);
  const header = parseDynamicHeader(await file.read(headerOffset, DYNAMIC_HEADER_SIZE), what, headerOffset);
  const { tableOffset, bat } = await readBat(file, header, headerOffset, footerOffset, size, what);

  const reserved: ReservedRange[] = [
    { name: 'footer copy', offset: 0, length: FOOTER_SIZE },
    { name: 'dynamic disk header', offset: headerOffset, length: DYNAMIC_HEADER_SIZE },
    { name: 'BAT', offset: tableOffset, length: header.maxTableEntries * BAT_ENTRY_SIZE },
  ];
  const locatorPaths: LocatorPath[] = [];
  if (footer.diskType === DiskType.differencing) {
    for (const e of header.parentLocators) {
      if (!isPathLocator(e)) continue;
      const r = locatorDataRange(e, footerOffset, what);
      reserved.push({ name: `parent locator ${e.index} data`, offset: r.offset, length: r.length });
      const p = decodeLocatorPath(e, await file.read(r.offset, r.length));
      if (p !== undefined) locatorPaths.push(p);
    }
  }
  validateBat(bat, {
    what,
    tableOffset,
    blockTotal: bitmapSizeFor(header.blockSize) + header.blockSize,
    limit: footerOffset,
    fileSize: file.size,
    reserved,
  });

  const copy = decodeFooter(await file.read(0, FOOTER_SIZE), 0);
  if (!sameBytes(copy.raw, footer.raw)) {
    warnings.push(
      copy.cookie === footer.cookie && copy.checksum === copy.computedChecksum
        ? `${what}: the footer copy at offset 0 differs from the footer at ${hex(footerOffset)}`
        : `${what}: the footer copy at offset 0 is damaged (the footer at ${hex(footerOffset)} is used)`,
    );
  }

  if (footer.diskType === DiskType.dynamic) {
    return new VhdSparseDevice(file, footer, size, readOnly, warnings, {
      header,
      tableOffset,
      bat,
      footerOffset,
    });
  }
  const { parent, parentPath } = await findParent(file.path, header, locatorPaths, what, options.openParent);
  if (parent.size !== size) {
    warnings.push(`${what}: the parent ${baseName(parentPath)} is ${parent.size} bytes, the child ${size}`);
  }
  const parentFooter = (parent as Partial<{ footer: VhdFooter }>).footer;
  if (parentFooter !== undefined && parentFooter.timeStamp !== header.parentTimeStamp) {
    warnings.push(
      `${what}: the parent's time stamp differs from the one recorded in the child (the parent may have changed since)`,
    );
  }
  return new VhdSparseDevice(file, footer, size, true, warnings, {
    header,
    tableOffset,
    bat,
    footerOffset,
    parent,
    parentPath,
  });
}

/** The footer at the end of the file (512 bytes, or 511 for pre-2004 images), validated. */
async function readFooter(
  file: ImageFile,
  what: string,
): Promise<{ footer: VhdFooter; footerOffset: number }> {
  if (file.size === 0) {
    throw new WinrescueError('disk.empty', `${what} is empty (0 bytes)`, { path: file.path, actual: 0 });
  }
  if (file.size < FOOTER_SIZE) {
    throw new WinrescueError(
      'disk.truncated',
      `${what}: ${file.size} bytes cannot hold the 512-byte footer`,
      {
        path: file.path,
        structure: 'vhd.footer',
        expected: FOOTER_SIZE,
        actual: file.size,
      },
    );
  }
  let footerOffset = file.size - FOOTER_SIZE;
  let bytes = await file.read(footerOffset, FOOTER_SIZE);
  if (!hasFooterCookie(bytes)) {
    const legacy = await file.read(file.size - LEGACY_FOOTER_SIZE, LEGACY_FOOTER_SIZE);
    if (hasFooterCookie(legacy)) {
      footerOffset = file.size - LEGACY_FOOTER_SIZE;
      bytes = new Uint8Array(FOOTER_SIZE);
      bytes.set(legacy);
    } else {
      const copy = decodeFooter(await file.read(0, FOOTER_SIZE), 0);
      const copyValid = copy.cookie === FOOTER_COOKIE && copy.checksum === copy.computedChecksum;
      // If only the cookie differs from a valid copy, the footer is there with a damaged cookie (badSignature
      // below); if more differs, the end of the file is not a footer at all.
      if (copyValid && !sameBytes(bytes.subarray(8), copy.raw.subarray(8))) {
        throw new WinrescueError(
          'disk.truncated',
          `${what}: no footer at the end of the file (${hex(footerOffset)}), though a valid copy is at offset 0: the file is truncated, or an append to it was cut short`,
          { offset: footerOffset, structure: 'vhd.footer', expected: file.size, path: file.path },
        );
      }
    }
  }
  return { footer: parseFooter(bytes, what, footerOffset), footerOffset };
}

async function readBat(
  file: ImageFile,
  header: VhdDynamicHeader,
  headerOffset: number,
  footerOffset: number,
  size: number,
  what: string,
): Promise<{ tableOffset: number; bat: Uint32Array }> {
  const blockCount = Math.ceil(size / header.blockSize);
  if (header.maxTableEntries < blockCount) {
    throw new WinrescueError(
      'disk.badField',
      `${what}: the BAT has ${header.maxTableEntries} entries, the ${size}-byte disk needs ${blockCount} blocks of ${header.blockSize} bytes`,
      {
        offset: headerOffset + HEADER_MAX_TABLE_ENTRIES_FIELD,
        structure: 'vhd.dynamicHeader',
        expected: `>= ${blockCount}`,
        actual: header.maxTableEntries,
      },
    );
  }
  const tableBytes = header.maxTableEntries * BAT_ENTRY_SIZE;
  if (header.tableOffset + BigInt(tableBytes) > BigInt(footerOffset)) {
    throw new WinrescueError(
      'disk.truncated',
      `${what}: the BAT at ${hex(header.tableOffset)} (${tableBytes} bytes) runs past the footer at ${hex(footerOffset)}`,
      {
        offset: headerOffset + HEADER_TABLE_OFFSET_FIELD,
        structure: 'vhd.dynamicHeader',
        expected: `<= ${footerOffset}`,
        actual: header.tableOffset + BigInt(tableBytes),
      },
    );
  }
  // Now known to lie inside the file.
  const tableOffset = Number(header.tableOffset);
  if (tableOffset < headerOffset + DYNAMIC_HEADER_SIZE && headerOffset < tableOffset + tableBytes) {
    throw new WinrescueError(
      'disk.badField',
      `${what}: the BAT at ${hex(tableOffset)} overlaps the dynamic disk header at ${hex(headerOffset)}`,
      {
        offset: headerOffset + HEADER_TABLE_OFFSET_FIELD,
        structure: 'vhd.dynamicHeader',
        actual: tableOffset,
      },
    );
  }
  if (tableOffset < FOOTER_SIZE) {
    throw new WinrescueError(
      'disk.badField',
      `${what}: the BAT at ${hex(tableOffset)} overlaps the footer copy at offset 0`,
      {
        offset: headerOffset + HEADER_TABLE_OFFSET_FIELD,
        structure: 'vhd.dynamicHeader',
        actual: tableOffset,
      },
    );
  }
  const raw = await file.read(tableOffset, blockCount * BAT_ENTRY_SIZE);
  checkRange(raw.length, 0, blockCount * BAT_ENTRY_SIZE, {
    structure: 'vhd.bat',
    base: tableOffset,
    code: 'disk.truncated',
  });
  return { tableOffset, bat: decodeBat(raw, blockCount, tableOffset) };
}

/**
 * Tries each candidate path in turn: not found → next; found with another unique id → remembered, closed, next;
 * found with the child's parent unique id → the parent. Nothing found: disk.parentMissing naming every path tried;
 * only strangers found: disk.parentMismatch.
 */
async function findParent(
  childPath: string,
  header: VhdDynamicHeader,
  locators: readonly LocatorPath[],
  what: string,
  openParent: OpenVhdOptions['openParent'],
): Promise<{ parent: BlockDevice; parentPath: string }> {
  if (openParent === undefined) {
    throw new WinrescueError('disk.unsupported', `${what}: opening its parent needs an openParent callback`, {
      path: childPath,
    });
  }
  const candidates = parentCandidates(childPath, locators, header.parentUnicodeName);
  const missing: string[] = [];
  const strangers: { path: string; id: string }[] = [];
  for (const path of candidates) {
    let parent: BlockDevice;
    try {
      parent = await openParent(path);
    } catch (e) {
      if (isWinrescueError(e) && e.code === 'disk.notFound') {
        missing.push(path);
        continue;
      }
      throw e;
    }
    const id = (parent as Partial<{ vhdUniqueId: string }>).vhdUniqueId;
    if (id === header.parentUniqueId) return { parent, parentPath: path };
    strangers.push({ path, id: id ?? `none (${parent.description} is not a VHD)` });
    await parent.close();
  }
  const named = header.parentUnicodeName === '' ? '' : ` "${header.parentUnicodeName}"`;
  if (strangers.length > 0) {
    const list = strangers.map((s) => `${s.path} has unique id ${s.id}`).join('; ');
    throw new WinrescueError(
      'disk.parentMismatch',
      `${what}: made from parent${named} with unique id ${header.parentUniqueId}, but ${list}`,
      {
        structure: 'vhd.dynamicHeader',
        expected: header.parentUniqueId,
        actual: strangers.map((s) => s.id),
        path: strangers[0]!.path,
      },
    );
  }
  throw new WinrescueError(
    'disk.parentMissing',
    `${what}: parent${named} not found; tried ${missing.length > 0 ? missing.join(', ') : 'nothing (no usable parent locator or name)'}`,
    { structure: 'vhd.dynamicHeader', expected: header.parentUniqueId, actual: missing, path: childPath },
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
