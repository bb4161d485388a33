// Opening a VHDX file, [MS-VHDX] §2.2-§2.6 in the order the specification requires: file identifier, current
// header, log replay (§2.3.3: before any other read), region table, metadata, BAT; then the parent of a
// differencing file.
import { WinrescueError, hex } from '../../errors.js';
import type { ImageFile } from '../block-device.js';
import { ZERO_GUID, toSafeNumber } from '../../util/bytes.js';
import { BAT_ENTRY_SIZE, type ReservedRange, batGeometry, scanBat } from './bat.js';
import {
  HEADER_OFFSETS,
  HEADER_SECTION_SIZE,
  HEADER_SIZE,
  MAX_CACHED_BAT_BYTES,
  MAX_LOG_LENGTH,
  OBJECT_ALIGNMENT,
  REGION_BAT,
  REGION_METADATA,
  REGION_TABLE_OFFSETS,
  REGION_TABLE_SIZE,
} from './constants.js';
import { FILE_IDENTIFIER_PARSE_SIZE, parseFileIdentifier } from './file-identifier.js';
import { updateHeaders } from './header-update.js';
import {
  FORMAT_VERSION,
  LOG_VERSION,
  type VhdxHeader,
  chooseCurrentHeader,
  isZeroGuid,
  newGuid,
} from './header.js';
import { ReplayedImageFile, applyLogWrites, findActiveSequence, sequenceWrites } from './log-replay.js';
import { parseKnownItems } from './metadata-items.js';
import { parseMetadataTable } from './metadata-table.js';
import { type OpenParent, type ParentDevice, openParentOf } from './parent.js';
import { type RegionEntry, chooseRegionTable } from './region-table.js';
import { VhdxDevice } from './vhdx-device.js';

export interface OpenVhdxOptions {
  readOnly: boolean;
  /** Opens a differencing file's parent; without it a differencing file fails with `disk.parentMissing`. */
  openParent?: OpenParent;
}

/** Bad BAT entries listed one by one in the warnings before the rest are only counted. */
const MAX_LISTED_BAT_PROBLEMS = 5;

/**
 * Opens the virtual disk inside a VHDX file. On failure the file stays open and belongs to the caller; on success
 * the device owns it (and the parent) and closes both.
 */
export async function openVhdx(file: ImageFile, options: OpenVhdxOptions): Promise<VhdxDevice> {
  const name = baseName(file.path);
  const warnings: string[] = [];
  const readOnly = options.readOnly || file.readOnly;
  if (file.size === 0)
    throw new WinrescueError('disk.empty', `${file.path} is empty (0 bytes)`, { path: file.path, actual: 0 });

  const start = await file.read(0, Math.min(file.size, REGION_TABLE_OFFSETS[1] + REGION_TABLE_SIZE));
  // A file too short for the identifier still gets the signature check (its missing bytes read as zeros).
  const identifier = parseFileIdentifier(
    start.length >= FILE_IDENTIFIER_PARSE_SIZE ? start : padTo(start, FILE_IDENTIFIER_PARSE_SIZE),
    name,
  );
  if (file.size < HEADER_SECTION_SIZE) {
    throw new WinrescueError(
      'disk.truncated',
      `VHDX ${name}: the file is ${file.size} bytes, shorter than the 1 MiB header section every VHDX starts with`,
      {
        offset: file.size,
        structure: 'vhdx.headerSection',
        expected: HEADER_SECTION_SIZE,
        actual: file.size,
        path: file.path,
      },
    );
  }
  const current = chooseCurrentHeader(
    [
      start.subarray(HEADER_OFFSETS[0], HEADER_OFFSETS[0] + HEADER_SIZE),
      start.subarray(HEADER_OFFSETS[1], HEADER_OFFSETS[1] + HEADER_SIZE),
    ],
    name,
  );
  if (current.warning) warnings.push(current.warning);
  let header = current.header;
  const headerAt = HEADER_OFFSETS[header.slot];
  if (header.version !== FORMAT_VERSION) {
    throw new WinrescueError(
      'disk.unsupported',
      `VHDX ${name}: header at ${hex(headerAt)} has format version ${header.version}; only version 1 is defined`,
      {
        offset: headerAt,
        structure: 'vhdx.header',
        expected: FORMAT_VERSION,
        actual: header.version,
      },
    );
  }

  // §2.3.3: replay the log before anything else is read.
  const log = logRange(header, file.size, name, warnings);
  let view: ImageFile = file;
  let fileWriteGuidChanged = false;
  if (!isZeroGuid(header.logGuid)) {
    if (header.logVersion !== LOG_VERSION) {
      throw new WinrescueError(
        'disk.logPending',
        `VHDX ${name}: the log must be replayed but uses log version ${header.logVersion}, which we cannot read; open the disk once in Hyper-V (or Mount-VHD) to replay it`,
        { offset: headerAt, structure: 'vhdx.header', expected: LOG_VERSION, actual: header.logVersion },
      );
    }
    const logBytes = await file.read(log!.start, log!.end - log!.start);
    const seq = findActiveSequence(logBytes, header.logGuid);
    if (!seq) {
      warnings.push(
        `VHDX ${name}: the header names log ${header.logGuid} but the log holds no valid sequence; nothing to replay${readOnly ? '' : ' (the log will be marked empty on the first write)'}`,
      );
    } else {
      if (file.size < seq.head.flushedFileOffset) {
        throw new WinrescueError(
          'disk.truncated',
          `VHDX ${name}: the log says the file was at least ${hex(seq.head.flushedFileOffset)} bytes, it is ${hex(file.size)}: the file was truncated`,
          {
            offset: file.size,
            structure: 'vhdx.log',
            expected: seq.head.flushedFileOffset,
            actual: file.size,
            path: file.path,
          },
        );
      }
      const writes = sequenceWrites(seq, name);
      const what = `${seq.entries.length} log entr${seq.entries.length === 1 ? 'y' : 'ies'} (sequence ${seq.entries[0]!.sequenceNumber}-${seq.head.sequenceNumber}, ${writes.length} writes)`;
      if (readOnly) {
        view = new ReplayedImageFile(file, writes, seq.head.lastFileOffset);
        warnings.push(`VHDX ${name}: replayed ${what} in memory; the file itself is unchanged`);
      } else {
        header = await updateHeaders(file, header, { ...fieldsOf(header), fileWriteGuid: newGuid() });
        await applyLogWrites(file, writes, seq.head.lastFileOffset);
        await file.flush();
        header = await updateHeaders(file, header, { ...fieldsOf(header), logGuid: ZERO_GUID });
        fileWriteGuidChanged = true;
        warnings.push(`VHDX ${name}: replayed ${what} into the file`);
      }
    }
  }

  const tables = view === file ? start : await view.read(0, REGION_TABLE_OFFSETS[1] + REGION_TABLE_SIZE);
  const chosen = chooseRegionTable(
    [
      tables.subarray(REGION_TABLE_OFFSETS[0], REGION_TABLE_OFFSETS[0] + REGION_TABLE_SIZE),
      tables.subarray(REGION_TABLE_OFFSETS[1], REGION_TABLE_OFFSETS[1] + REGION_TABLE_SIZE),
    ],
    name,
  );
  if (chosen.warning) warnings.push(chosen.warning);
  const placed = placeRegions(chosen.table.entries, view.size, log, name);
  const batRegion = placed.get(REGION_BAT)!;
  const metaRegion = placed.get(REGION_METADATA)!;

  const metaBytes = await view.read(metaRegion.start, metaRegion.end - metaRegion.start);
  const metaEntries = parseMetadataTable(metaBytes, metaRegion.start, name);
  const metadata = parseKnownItems(metaBytes, metaEntries, metaRegion.start, name);
  const geometry = batGeometry(metadata);
  const batBytes = geometry.entryCount * BAT_ENTRY_SIZE;
  if (batBytes > batRegion.end - batRegion.start) {
    throw new WinrescueError(
      'disk.badField',
      `VHDX ${name}: the BAT region at ${hex(batRegion.start)} holds ${(batRegion.end - batRegion.start) / BAT_ENTRY_SIZE} entries, the disk needs ${geometry.entryCount}`,
      {
        offset: batRegion.start,
        structure: 'vhdx.bat',
        expected: batBytes,
        actual: batRegion.end - batRegion.start,
      },
    );
  }
  if (batBytes > MAX_CACHED_BAT_BYTES) {
    throw new WinrescueError(
      'disk.unsupported',
      `VHDX ${name}: a BAT of ${batBytes} bytes is more than we hold in memory (${MAX_CACHED_BAT_BYTES})`,
      {
        offset: batRegion.start,
        structure: 'vhdx.bat',
        actual: batBytes,
      },
    );
  }
  const bat = await view.read(batRegion.start, batBytes);
  const reserved: ReservedRange[] = [
    { what: 'BAT region', ...batRegion },
    { what: 'metadata region', ...metaRegion },
    ...(log ? [{ what: 'log', ...log }] : []),
  ];
  const batProblems = scanBat(bat, geometry, view.size, reserved, name);
  [...batProblems.values()].slice(0, MAX_LISTED_BAT_PROBLEMS).forEach((p) => warnings.push(p));
  if (batProblems.size > MAX_LISTED_BAT_PROBLEMS) {
    warnings.push(
      `VHDX ${name}: ${batProblems.size - MAX_LISTED_BAT_PROBLEMS} more bad BAT entries; reading their blocks fails`,
    );
  }

  let parent: ParentDevice | undefined;
  if (metadata.hasParent) {
    if (!readOnly) {
      throw new WinrescueError(
        'disk.unsupported',
        `VHDX ${name} is a differencing disk; we open those read-only only`,
        {
          structure: 'vhdx.metadata',
          path: file.path,
        },
      );
    }
    parent = await openParentOf(
      file.path,
      metadata.parentLocator!,
      metadata.logicalSectorSize,
      name,
      options.openParent,
    );
    if (parent.size !== metadata.virtualDiskSize) {
      warnings.push(
        `VHDX ${name}: the parent is ${parent.size} bytes, the child ${metadata.virtualDiskSize}`,
      );
    }
  }
  return new VhdxDevice({
    file: view,
    name,
    readOnly,
    header,
    metadata,
    geometry,
    batOffset: batRegion.start,
    bat,
    batProblems,
    parent,
    creator: identifier.creator,
    warnings,
    fileWriteGuidChanged,
  });
}

function fieldsOf(h: VhdxHeader): Omit<VhdxHeader, 'slot' | 'sequenceNumber'> {
  const { slot: _slot, sequenceNumber: _seq, ...fields } = h;
  return fields;
}

/** The log's file range (§2.2.2 LogOffset/LogLength). Required valid only when the log is in use. */
function logRange(
  h: VhdxHeader,
  fileSize: number,
  name: string,
  warnings: string[],
): { start: number; end: number } | undefined {
  const inUse = !isZeroGuid(h.logGuid);
  const at = HEADER_OFFSETS[h.slot];
  const start = h.logOffset <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(h.logOffset) : -1;
  const problem =
    start < HEADER_SECTION_SIZE || start % OBJECT_ALIGNMENT !== 0
      ? `log offset ${h.logOffset} is not a 1 MiB multiple past the header section`
      : h.logLength % OBJECT_ALIGNMENT !== 0 || (inUse && h.logLength === 0)
        ? `log length ${h.logLength} is not a multiple of 1 MiB`
        : inUse && h.logLength > MAX_LOG_LENGTH
          ? `log length ${h.logLength} exceeds our limit of ${MAX_LOG_LENGTH}`
          : undefined;
  if (problem) {
    if (inUse) {
      throw new WinrescueError(
        'disk.badField',
        `VHDX ${name}: header at ${hex(at)}: ${problem}, and the log must be replayed`,
        {
          offset: at,
          structure: 'vhdx.header',
          actual: { logOffset: h.logOffset, logLength: h.logLength },
        },
      );
    }
    warnings.push(
      `VHDX ${name}: header at ${hex(at)}: ${problem} (the log is empty, so this does not matter for reading)`,
    );
    return undefined;
  }
  if (h.logLength === 0) return undefined;
  const end = start + h.logLength;
  if (inUse && end > fileSize) {
    throw new WinrescueError(
      'disk.truncated',
      `VHDX ${name}: the log at ${hex(start)}-${hex(end)} lies past the end of the file (${hex(fileSize)} bytes)`,
      {
        offset: start,
        structure: 'vhdx.log',
        expected: end,
        actual: fileSize,
      },
    );
  }
  return { start, end };
}

/** §2.2.3.2: known regions found, unknown required regions refused, everything 1 MiB aligned, inside, disjoint. */
function placeRegions(
  entries: readonly RegionEntry[],
  fileSize: number,
  log: { start: number; end: number } | undefined,
  name: string,
): Map<string, { start: number; end: number }> {
  const placed = new Map<string, { start: number; end: number }>();
  const taken: { what: string; start: number; end: number }[] = log ? [{ what: 'the log', ...log }] : [];
  const at = REGION_TABLE_OFFSETS[0];
  for (const e of entries) {
    const known = e.guid === REGION_BAT ? 'BAT' : e.guid === REGION_METADATA ? 'metadata' : undefined;
    if (!known) {
      if (e.required) {
        throw new WinrescueError(
          'disk.unsupported',
          `VHDX ${name}: region ${e.guid} is marked required but is not one we know; refusing to open the file`,
          {
            offset: at,
            structure: 'vhdx.regionTable',
            actual: e.guid,
          },
        );
      }
      continue;
    }
    const bad = (why: string, code: 'disk.badField' | 'disk.truncated' = 'disk.badField'): never => {
      throw new WinrescueError(
        code,
        `VHDX ${name}: ${known} region at ${hex(e.fileOffset)} (${e.length} bytes) ${why}`,
        {
          offset: at,
          structure: 'vhdx.regionTable',
          actual: { fileOffset: e.fileOffset, length: e.length },
        },
      );
    };
    if (placed.has(e.guid)) bad('is listed twice');
    const start = toSafeNumber(e.fileOffset, { structure: 'vhdx.regionTable', offset: at });
    if (start < HEADER_SECTION_SIZE || start % OBJECT_ALIGNMENT !== 0)
      bad('is not a 1 MiB multiple past the header section');
    if (e.length === 0 || e.length % OBJECT_ALIGNMENT !== 0) bad('is not a non-zero multiple of 1 MiB long');
    const end = start + e.length;
    if (end > fileSize) bad(`ends past the end of the file (${hex(fileSize)} bytes)`, 'disk.truncated');
    for (const t of taken)
      if (start < t.end && t.start < end) bad(`overlaps ${t.what} (${hex(t.start)}-${hex(t.end)})`);
    taken.push({ what: `the ${known} region`, start, end });
    placed.set(e.guid, { start, end });
  }
  for (const [guid, what] of [
    [REGION_BAT, 'BAT'],
    [REGION_METADATA, 'metadata'],
  ] as const) {
    if (!placed.has(guid)) {
      throw new WinrescueError('disk.badField', `VHDX ${name}: the region table lists no ${what} region`, {
        offset: at,
        structure: 'vhdx.regionTable',
        expected: guid,
      });
    }
  }
  return placed;
}

function padTo(b: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}
