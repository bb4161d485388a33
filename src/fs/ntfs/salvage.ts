// Reading what is left of a damaged FILE record: fixups restored without the torn-write check, then every
// attribute whose header still parses, in order, until the first one that does not. flatcap linux-ntfs
// concepts/file_record.html, concepts/fixup.html, concepts/data_runs.html, attributes/standard_information.html,
// attributes/security_descriptor.html. For evidence (the names a torn record carried), for quarantine (the
// clusters it claimed) and for keeping what is still readable of a broken file (`salvageData`, the `NAME.old`
// of a repair); never for reading a file's content as if it were intact.
import { WinrescueError, isWinrescueError } from '../../errors.js';
import {
  ATTR,
  ATTR_END,
  ATTR_FLAG_COMPRESSED_MASK,
  ATTR_FLAG_ENCRYPTED,
  parseAttribute,
  type Attribute,
} from './attribute.js';
import { parseFileName, type FileName } from './attributes/file-name.js';
import { parseStandardInformation } from './attributes/standard-information.js';
import { AttributeStream } from './data-stream.js';
import type { ResolvedAttribute } from './file-record.js';
import { le16, le32 } from './le.js';
import type { DataRun } from './runlist.js';
import type { NtfsVolume } from './volume.js';

const USA_OFFSET_FIELD = 4;
const USA_COUNT_FIELD = 6;
const FIRST_ATTRIBUTE_FIELD = 20;
const BYTES_IN_USE_FIELD = 24;
const STRIDE = 512;
/** A record of 4 KiB holds far fewer; more means we are walking garbage. */
const MAX_ATTRIBUTES = 512;
/** Non-resident header: runlist offset @32 (flatcap attribute_header.html). */
const RUNLIST_OFFSET_FIELD = 32;
/** A mapping-pair field is at most 8 bytes; 7 and 8 byte values beyond 2^53 are not real volumes. */
const MAX_FIELD_BYTES = 8;
/** Salvaged content is held in memory whole: a boot driver is a few MiB; anything past this is cut off. */
export const MAX_SALVAGED_BYTES = 512 * 1024 * 1024;
/** Device reads while salvaging are split into pieces of this size. */
const READ_PIECE = 16 * 1024 * 1024;

export type SalvagedDataAttribute =
  | { readonly resident: Uint8Array }
  | { readonly runs: readonly DataRun[]; readonly dataSize: number; readonly initializedSize: number };

export interface SalvagedRecord {
  /** Runs of every non-resident attribute whose runlist decodes. */
  readonly runs: readonly DataRun[];
  /** $FILE_NAME values that parse: the names (and parents) the record had. */
  readonly names: readonly FileName[];
  /** From $STANDARD_INFORMATION when it parses; securityId null for the 48-byte NTFS 1.2 value. */
  readonly standardInformation: { fileAttributes: number; securityId: number | null } | null;
  /** A resident $SECURITY_DESCRIPTOR's value (wimlib and NTFS 1.x volumes keep one per file). */
  readonly securityDescriptor: Uint8Array | null;
  /**
   * The unnamed $DATA: the resident value, or the runs of its extent starting at VCN 0 as stored (their LCNs
   * are not checked against the volume, and a runlist that stops decoding keeps the runs before the damage).
   * Only the base record is read: a file with an attribute list has its later extents elsewhere, not followed.
   */
  readonly data: SalvagedDataAttribute | null;
}

/** What salvageData needs beyond the public record: how the data is stored and whether its runlist decoded. */
interface SalvageDetail {
  readonly record: SalvagedRecord;
  readonly dataFlags: number;
  readonly dataCompressionUnit: number;
  readonly dataAttributeId: number;
  readonly runlistDamaged: boolean;
}

const NOTHING: SalvageDetail = {
  record: { runs: [], names: [], standardInformation: null, securityDescriptor: null, data: null },
  dataFlags: 0,
  dataCompressionUnit: 0,
  dataAttributeId: 0,
  runlistDamaged: false,
};

export function salvageRecord(raw: Uint8Array, n: number, totalClusters: number): SalvagedRecord {
  return salvage(raw, n, totalClusters).record;
}

/** Little-endian integer of `n` bytes (two's complement when `signed`), or null beyond 2^53. */
function varInt(b: Uint8Array, at: number, n: number, signed: boolean): number | null {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]!);
  if (signed && n > 0 && (b[at + n - 1]! & 0x80) !== 0) v -= 1n << BigInt(8 * n);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(v);
}

/**
 * Mapping pairs in b[start, end) decoded without the volume check (a run pointing outside is kept, to be
 * reported as missing), stopping at the first pair that cannot be decoded: `damaged` then says so.
 */
export function decodeRunsAsStored(
  b: Uint8Array,
  start: number,
  end: number,
): { runs: DataRun[]; damaged: boolean } {
  const runs: DataRun[] = [];
  let pos = start;
  let vcn = 0;
  let lcn = 0;
  while (pos < end) {
    const header = b[pos]!;
    if (header === 0) return { runs, damaged: false };
    const lenBytes = header & 0x0f;
    const offBytes = header >> 4;
    if (lenBytes === 0 || lenBytes > MAX_FIELD_BYTES || offBytes > MAX_FIELD_BYTES) break;
    if (pos + 1 + lenBytes + offBytes > end) break;
    const length = varInt(b, pos + 1, lenBytes, false);
    if (length === null || length <= 0) break;
    let runLcn: number | null = null;
    if (offBytes > 0) {
      const delta = varInt(b, pos + 1 + lenBytes, offBytes, true);
      if (delta === null || !Number.isSafeInteger(lcn + delta)) break;
      lcn += delta;
      runLcn = lcn;
    }
    if (!Number.isSafeInteger(vcn + length)) break;
    runs.push({ vcn, lcn: runLcn, length });
    vcn += length;
    pos += 1 + lenBytes + offBytes;
  }
  return { runs, damaged: true };
}

/** A value that does not parse loses only itself: its header already said where the next attribute starts. */
function orNull<T>(parse: () => T): T | null {
  try {
    return parse();
  } catch (e) {
    if (isWinrescueError(e)) return null;
    throw e;
  }
}

function salvage(raw: Uint8Array, n: number, totalClusters: number): SalvageDetail {
  const b = raw.slice();
  if (b[0] !== 0x46 || b[1] !== 0x49 || b[2] !== 0x4c || b[3] !== 0x45) return NOTHING;
  const usa = le16(b, USA_OFFSET_FIELD);
  const count = le16(b, USA_COUNT_FIELD);
  if (count !== b.length / STRIDE + 1 || usa + count * 2 > STRIDE) return NOTHING;
  for (let i = 1; i < count; i++) {
    b[i * STRIDE - 2] = b[usa + i * 2]!;
    b[i * STRIDE - 1] = b[usa + i * 2 + 1]!;
  }
  const used = Math.min(le32(b, BYTES_IN_USE_FIELD), b.length);
  const runs: DataRun[] = [];
  const names: FileName[] = [];
  let standardInformation: SalvagedRecord['standardInformation'] = null;
  let securityDescriptor: Uint8Array | null = null;
  let data: SalvagedDataAttribute | null = null;
  let dataFlags = 0;
  let dataCompressionUnit = 0;
  let dataAttributeId = 0;
  let runlistDamaged = false;
  let off = le16(b, FIRST_ATTRIBUTE_FIELD);
  for (let k = 0; k < MAX_ATTRIBUTES && off + 8 <= used && le32(b, off) !== ATTR_END; k++) {
    let a: Attribute;
    try {
      a = parseAttribute(b, off, used, { base: 0, record: n, totalClusters });
    } catch (e) {
      if (isWinrescueError(e)) break;
      throw e;
    }
    if (a.nonResident && !a.nonResident.runlistError) runs.push(...a.nonResident.runs);
    if (a.type === ATTR.FILE_NAME && a.resident && a.value) {
      const fn = orNull(() => parseFileName(a.value!, n));
      if (fn) names.push(fn);
    }
    if (a.type === ATTR.STANDARD_INFORMATION && a.value && !standardInformation) {
      const si = orNull(() => parseStandardInformation(a.value!, n));
      if (si) standardInformation = { fileAttributes: si.fileAttributes, securityId: si.securityId };
    }
    if (a.type === ATTR.SECURITY_DESCRIPTOR && a.value && !securityDescriptor) {
      securityDescriptor = a.value.slice();
    }
    if (a.type === ATTR.DATA && a.name === '' && !data) {
      if (a.value) data = { resident: a.value.slice() };
      else if (a.nonResident && a.nonResident.startVcn === 0) {
        const decoded = decodeRunsAsStored(b, off + le16(b, off + RUNLIST_OFFSET_FIELD), off + a.length);
        data = {
          runs: decoded.runs,
          dataSize: a.nonResident.dataSize,
          initializedSize: a.nonResident.initializedSize,
        };
        runlistDamaged = decoded.damaged;
        dataCompressionUnit = a.nonResident.compressionUnit;
      }
      dataFlags = a.flags;
      dataAttributeId = a.id;
    }
    off += a.length;
  }
  return {
    record: { runs, names, standardInformation, securityDescriptor, data },
    dataFlags,
    dataCompressionUnit,
    dataAttributeId,
    runlistDamaged,
  };
}

export interface SalvagedData {
  readonly bytes: Uint8Array;
  /** True when every byte came from where the record says it is (or is a hole / past the initialized size). */
  readonly complete: boolean;
  /** What was missing and why ('complete' when nothing was). */
  readonly detail: string;
}

/**
 * The unnamed data of record `record` as far as it can still be read, whatever state the record is in (torn,
 * garbled after $DATA, runs outside the volume). Runs inside the volume are read, holes and bytes past the
 * initialized size are zeros; runs outside the volume, runs that cannot be read and bytes no run maps are
 * zeros too and make the result incomplete. Null when the record holds nothing to salvage (not a FILE record,
 * no unnamed $DATA that parses, EFS-encrypted data).
 */
export async function salvageData(vol: NtfsVolume, record: number): Promise<SalvagedData | null> {
  if (!Number.isSafeInteger(record) || record < 0 || record >= vol.mftRecordCount) {
    throw new WinrescueError('ntfs.badRecord', `MFT record ${record} lies outside $MFT`, {
      structure: 'ntfs.mftRecord',
      expected: `< ${vol.mftRecordCount}`,
      actual: record,
    });
  }
  const total = vol.boot.totalClusters;
  const s = salvage(await vol.readMftBytes(record, 1), record, total);
  const data = s.record.data;
  if (!data || (s.dataFlags & ATTR_FLAG_ENCRYPTED) !== 0) return null;
  if ('resident' in data) return { bytes: data.resident, complete: true, detail: 'complete (resident)' };
  const missing: string[] = [];
  const size = Math.min(data.dataSize, MAX_SALVAGED_BYTES);
  if (data.dataSize > size)
    missing.push(`${data.dataSize} bytes claimed, only the first ${MAX_SALVAGED_BYTES} kept`);
  if (s.runlistDamaged) missing.push('the runlist stops decoding part way');
  const cs = vol.clusterSize;
  const inside = (r: DataRun): boolean => r.lcn === null || (r.lcn >= 0 && r.lcn + r.length <= total);
  if ((s.dataFlags & ATTR_FLAG_COMPRESSED_MASK) !== 0 && s.dataCompressionUnit > 0) {
    return salvageCompressed(vol, record, s, data, size, missing, inside);
  }
  const out = new Uint8Array(size);
  const valid = Math.min(size, data.initializedSize);
  let mapped = 0;
  for (const r of data.runs) {
    const from = r.vcn * cs;
    const to = Math.min((r.vcn + r.length) * cs, valid);
    if (from >= to) continue;
    mapped = Math.max(mapped, to);
    if (r.lcn === null) continue;
    if (!inside(r)) {
      missing.push(
        `bytes ${from}..${to} lie in clusters ${r.lcn}..${r.lcn + r.length - 1}, outside the volume`,
      );
      continue;
    }
    try {
      for (let at = from; at < to; at += READ_PIECE) {
        const n = Math.min(READ_PIECE, to - at);
        out.set(await vol.clusterIo.device.read(r.lcn * cs + (at - from), n), at);
      }
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      out.fill(0, from, to);
      missing.push(`bytes ${from}..${to} could not be read (${e.message})`);
    }
  }
  if (mapped < valid) missing.push(`no run maps bytes ${mapped}..${valid}`);
  return result(out, missing);
}

function result(bytes: Uint8Array, missing: readonly string[]): SalvagedData {
  return { bytes, complete: missing.length === 0, detail: missing.length ? missing.join('; ') : 'complete' };
}

/** Compressed data is decompressed through the reader's stream when every run is usable; else nothing is. */
async function salvageCompressed(
  vol: NtfsVolume,
  record: number,
  s: SalvageDetail,
  data: { readonly runs: readonly DataRun[]; readonly dataSize: number; readonly initializedSize: number },
  size: number,
  missing: string[],
  inside: (r: DataRun) => boolean,
): Promise<SalvagedData> {
  const out = new Uint8Array(size);
  if (s.runlistDamaged || !data.runs.every(inside)) {
    missing.push('compressed data with damaged or outside runs is not decompressed');
    return result(out, missing);
  }
  const attribute: ResolvedAttribute = {
    type: ATTR.DATA,
    name: '',
    flags: s.dataFlags,
    id: s.dataAttributeId,
    resident: false,
    value: null,
    allocatedSize: data.runs.reduce((n, r) => n + r.length, 0) * vol.clusterSize,
    dataSize: data.dataSize,
    initializedSize: data.initializedSize,
    compressionUnit: s.dataCompressionUnit,
    compressedSize: null,
    runs: data.runs,
    runlistError: null,
    records: [record],
    offset: vol.recordOffset(record),
  };
  try {
    const stream = new AttributeStream(vol.clusterIo, attribute, {
      label: `record ${record} (salvaged)`,
      record,
    });
    out.set(await stream.read(0, size));
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    out.fill(0);
    missing.push(`compressed data could not be decompressed (${e.message})`);
  }
  return result(out, missing);
}
