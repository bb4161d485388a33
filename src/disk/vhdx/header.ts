// VHDX header, [MS-VHDX] §2.2.2 (fields) and §2.2.2.1 (updating the headers). Two 4 KiB copies at 64 KiB and
// 128 KiB; a copy is valid when its signature and CRC-32C (checksum field zeroed) hold, and the current header is
// the valid one with the greater sequence number.
import { WinrescueError, hex } from '../../errors.js';
import {
  ZERO_GUID,
  ascii,
  checkRange,
  guidFromString,
  guidToString,
  setU16,
  setU32,
  setU64,
  u16,
  u32,
  u64,
} from '../../util/bytes.js';
import { crc32c } from '../../util/crc.js';
import { HEADER_OFFSETS, HEADER_SIZE } from './constants.js';

export const HEADER_SIGNATURE = 'head';
/** §2.2.2 Version: the only format version defined. */
export const FORMAT_VERSION = 1;
/** §2.2.2 LogVersion: the only log format version defined. */
export const LOG_VERSION = 0;

const O_SIGNATURE = 0;
const O_CHECKSUM = 4;
const O_SEQUENCE = 8;
const O_FILE_WRITE_GUID = 16;
const O_DATA_WRITE_GUID = 32;
const O_LOG_GUID = 48;
const O_LOG_VERSION = 64;
const O_VERSION = 66;
const O_LOG_LENGTH = 68;
const O_LOG_OFFSET = 72;

export interface VhdxHeader {
  /** Which copy: 0 at 64 KiB, 1 at 128 KiB. */
  readonly slot: 0 | 1;
  readonly sequenceNumber: bigint;
  readonly fileWriteGuid: string;
  readonly dataWriteGuid: string;
  /** Zero GUID: the log is empty and must not be replayed. */
  readonly logGuid: string;
  readonly logVersion: number;
  readonly version: number;
  readonly logLength: number;
  readonly logOffset: bigint;
}

/** Outcome of checking one header copy: the header, or why it is not valid. */
export type HeaderCheck =
  | { readonly ok: true; readonly header: VhdxHeader }
  | { readonly ok: false; readonly code: 'disk.badSignature' | 'disk.badChecksum'; readonly message: string };

export function headerChecksum(bytes: Uint8Array): number {
  const copy = bytes.slice(0, HEADER_SIZE);
  setU32(copy, O_CHECKSUM, 0);
  return crc32c(copy);
}

/** Checks one 4 KiB header copy; never throws for damaged content (the other copy may be good). */
export function checkHeader(bytes: Uint8Array, slot: 0 | 1): HeaderCheck {
  checkRange(bytes.length, 0, HEADER_SIZE, { structure: 'vhdx.header', code: 'disk.truncated' });
  const at = hex(HEADER_OFFSETS[slot]);
  const signature = ascii(bytes, O_SIGNATURE, 4);
  if (signature !== HEADER_SIGNATURE) {
    return {
      ok: false,
      code: 'disk.badSignature',
      message: `header ${slot + 1} at ${at}: signature should be "head", is ${JSON.stringify(signature)}`,
    };
  }
  const stored = u32(bytes, O_CHECKSUM);
  const computed = headerChecksum(bytes);
  if (stored !== computed) {
    return {
      ok: false,
      code: 'disk.badChecksum',
      message: `header ${slot + 1} at ${at}: CRC-32C should be ${hex(computed)}, is ${hex(stored)}`,
    };
  }
  return {
    ok: true,
    header: {
      slot,
      sequenceNumber: u64(bytes, O_SEQUENCE),
      fileWriteGuid: guidToString(bytes, O_FILE_WRITE_GUID),
      dataWriteGuid: guidToString(bytes, O_DATA_WRITE_GUID),
      logGuid: guidToString(bytes, O_LOG_GUID),
      logVersion: u16(bytes, O_LOG_VERSION),
      version: u16(bytes, O_VERSION),
      logLength: u32(bytes, O_LOG_LENGTH),
      logOffset: u64(bytes, O_LOG_OFFSET),
    },
  };
}

export interface CurrentHeader {
  readonly header: VhdxHeader;
  /** Set when one copy is damaged: what is wrong with it. */
  readonly warning?: string;
}

/**
 * §2.2.2: the current header is the only valid one, or the valid one with the greater sequence number.
 * Throws when neither copy is valid.
 */
export function chooseCurrentHeader(copies: readonly [Uint8Array, Uint8Array], name: string): CurrentHeader {
  const a = checkHeader(copies[0], 0);
  const b = checkHeader(copies[1], 1);
  if (a.ok && b.ok) {
    // Equal sequence numbers: both current by the spec's wording; copy 1 is as good as copy 2.
    return { header: b.header.sequenceNumber > a.header.sequenceNumber ? b.header : a.header };
  }
  if (a.ok)
    return {
      header: a.header,
      warning: `VHDX ${name}: ${(b as { message: string }).message}; using header 1`,
    };
  if (b.ok)
    return {
      header: b.header,
      warning: `VHDX ${name}: ${(a as { message: string }).message}; using header 2`,
    };
  const fa = a as Extract<HeaderCheck, { ok: false }>;
  const fb = b as Extract<HeaderCheck, { ok: false }>;
  const code =
    fa.code === 'disk.badChecksum' || fb.code === 'disk.badChecksum'
      ? 'disk.badChecksum'
      : 'disk.badSignature';
  throw new WinrescueError(code, `VHDX ${name}: no valid header: ${fa.message}; ${fb.message}`, {
    offset: HEADER_OFFSETS[0],
    structure: 'vhdx.header',
  });
}

/** Writes a complete 4 KiB header (reserved bytes zero, as §2.2.2 requires) with its checksum. */
export function serializeHeader(h: Omit<VhdxHeader, 'slot'>, out: Uint8Array): void {
  checkRange(out.length, 0, HEADER_SIZE, { structure: 'vhdx.header' });
  out.fill(0, 0, HEADER_SIZE);
  for (let i = 0; i < 4; i++) out[O_SIGNATURE + i] = HEADER_SIGNATURE.charCodeAt(i);
  setU64(out, O_SEQUENCE, h.sequenceNumber);
  out.set(guidFromString(h.fileWriteGuid), O_FILE_WRITE_GUID);
  out.set(guidFromString(h.dataWriteGuid), O_DATA_WRITE_GUID);
  out.set(guidFromString(h.logGuid), O_LOG_GUID);
  setU16(out, O_LOG_VERSION, h.logVersion);
  setU16(out, O_VERSION, h.version);
  setU32(out, O_LOG_LENGTH, h.logLength);
  setU64(out, O_LOG_OFFSET, h.logOffset);
  setU32(out, O_CHECKSUM, headerChecksum(out));
}

export function isZeroGuid(g: string): boolean {
  return g === ZERO_GUID;
}

/** A fresh random GUID (RFC 4122 v4) in our lowercase form. */
export function newGuid(): string {
  return globalThis.crypto.randomUUID();
}
