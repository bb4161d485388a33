// VHDX log entry, [MS-VHDX] §2.3.1: 4 KiB sectors in a ring buffer. The first descriptor sector starts with a
// 64-byte header ("loge", CRC-32C over EntryLength bytes with the checksum zeroed, EntryLength, Tail,
// SequenceNumber, DescriptorCount, LogGuid, FlushedFileOffset, LastFileOffset); 32-byte descriptors follow
// contiguously ("desc" data descriptors §2.3.1.3, "zero" descriptors §2.3.1.2), then one data sector per data
// descriptor ("data", SequenceHigh, 4084 bytes, SequenceLow; §2.3.1.4).
import { ascii, guidToString, setU32, toSafeNumber, u32, u64 } from '../../util/bytes.js';
import { crc32c } from '../../util/crc.js';
import { LOG_SECTOR_SIZE } from './constants.js';

const ENTRY_SIGNATURE = 'loge';
const DATA_DESCRIPTOR_SIGNATURE = 'desc';
const ZERO_DESCRIPTOR_SIGNATURE = 'zero';
const DATA_SECTOR_SIGNATURE = 'data';
const ENTRY_HEADER_BYTES = 64;
const DESCRIPTOR_BYTES = 32;
const O_CHECKSUM = 4;
const O_ENTRY_LENGTH = 8;
const O_TAIL = 12;
const O_SEQUENCE = 16;
const O_DESCRIPTOR_COUNT = 24;
const O_LOG_GUID = 32;
const O_FLUSHED_FILE_OFFSET = 48;
const O_LAST_FILE_OFFSET = 56;
// Descriptor fields.
const D_TRAILING_BYTES = 4; // data: 4 bytes restored at 4092..4095
const D_LEADING_BYTES = 8; // data: 8 bytes restored at 0..7; zero: ZeroLength (u64)
const D_FILE_OFFSET = 16;
const D_SEQUENCE = 24;
// Data sector fields.
const S_SEQUENCE_HIGH = 4;
const S_DATA = 8;
const S_DATA_END = 4092;
const S_SEQUENCE_LOW = 4092;

/** One update the log asks for: 4 KiB of data, or `length` bytes of zeros. */
export interface LogWrite {
  readonly fileOffset: number;
  readonly length: number;
  /** Undefined for a zero descriptor. */
  readonly data: Uint8Array | undefined;
}

export interface LogEntry {
  /** Byte offset of the entry within the log. */
  readonly position: number;
  readonly entryLength: number;
  readonly tail: number;
  readonly sequenceNumber: bigint;
  readonly flushedFileOffset: number;
  readonly lastFileOffset: number;
  readonly writes: readonly LogWrite[];
}

export type LogEntryCheck = { readonly entry: LogEntry } | { readonly invalid: string };

/** `length` bytes of the ring starting at `position`, wrapping at its end. */
export function ringBytes(log: Uint8Array, position: number, length: number): Uint8Array {
  if (position + length <= log.length) return log.subarray(position, position + length);
  const out = new Uint8Array(length);
  const first = log.length - position;
  out.set(log.subarray(position), 0);
  out.set(log.subarray(0, length - first), first);
  return out;
}

/**
 * Parses and validates the entry at `position` (a 4 KiB multiple inside the ring). Anything that is not a valid,
 * complete entry of this log (wrong LogGuid included) comes back as `{ invalid }`, never as an exception: the
 * sequence search probes every sector.
 */
export function checkLogEntry(log: Uint8Array, position: number, logGuid: string): LogEntryCheck {
  if (position % LOG_SECTOR_SIZE !== 0 || position + LOG_SECTOR_SIZE > log.length)
    return { invalid: 'misaligned' };
  const first = log.subarray(position, position + LOG_SECTOR_SIZE);
  if (ascii(first, 0, 4) !== ENTRY_SIGNATURE) return { invalid: 'no "loge" signature' };
  const entryLength = u32(first, O_ENTRY_LENGTH);
  const tail = u32(first, O_TAIL);
  const sequenceNumber = u64(first, O_SEQUENCE);
  const descriptorCount = u32(first, O_DESCRIPTOR_COUNT);
  if (entryLength === 0 || entryLength % LOG_SECTOR_SIZE !== 0 || entryLength > log.length) {
    return { invalid: `entry length ${entryLength}` };
  }
  if (tail % LOG_SECTOR_SIZE !== 0 || tail >= log.length) return { invalid: `tail ${tail}` };
  if (sequenceNumber === 0n) return { invalid: 'sequence number 0' };
  if (guidToString(first, O_LOG_GUID) !== logGuid) return { invalid: 'LogGuid differs from the header' };
  const descriptorSectors = Math.ceil(
    (ENTRY_HEADER_BYTES + descriptorCount * DESCRIPTOR_BYTES) / LOG_SECTOR_SIZE,
  );
  if (descriptorSectors * LOG_SECTOR_SIZE > entryLength)
    return { invalid: `${descriptorCount} descriptors do not fit` };

  const bytes = ringBytes(log, position, entryLength);
  const copy = bytes.slice();
  setU32(copy, O_CHECKSUM, 0);
  if (crc32c(copy) !== u32(bytes, O_CHECKSUM)) return { invalid: 'CRC-32C mismatch' };

  let flushedFileOffset: number;
  let lastFileOffset: number;
  try {
    flushedFileOffset = toSafeNumber(u64(bytes, O_FLUSHED_FILE_OFFSET), { structure: 'vhdx.log' });
    lastFileOffset = toSafeNumber(u64(bytes, O_LAST_FILE_OFFSET), { structure: 'vhdx.log' });
  } catch {
    return { invalid: 'file offsets out of range' };
  }
  const seqHigh = Number(sequenceNumber >> 32n);
  const seqLow = Number(sequenceNumber & 0xffff_ffffn);
  const writes: LogWrite[] = [];
  let dataSector = descriptorSectors;
  for (let i = 0; i < descriptorCount; i++) {
    const d = ENTRY_HEADER_BYTES + i * DESCRIPTOR_BYTES;
    if (u64(bytes, d + D_SEQUENCE) !== sequenceNumber)
      return { invalid: `descriptor ${i}: sequence number differs` };
    const rawOffset = u64(bytes, d + D_FILE_OFFSET);
    if (rawOffset % BigInt(LOG_SECTOR_SIZE) !== 0n || rawOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
      return { invalid: `descriptor ${i}: file offset ${rawOffset}` };
    }
    const fileOffset = Number(rawOffset);
    const signature = ascii(bytes, d, 4);
    if (signature === ZERO_DESCRIPTOR_SIGNATURE) {
      const zeroLength = u64(bytes, d + D_LEADING_BYTES);
      if (zeroLength % BigInt(LOG_SECTOR_SIZE) !== 0n || zeroLength > BigInt(Number.MAX_SAFE_INTEGER)) {
        return { invalid: `descriptor ${i}: zero length ${zeroLength}` };
      }
      writes.push({ fileOffset, length: Number(zeroLength), data: undefined });
    } else if (signature === DATA_DESCRIPTOR_SIGNATURE) {
      const s = dataSector * LOG_SECTOR_SIZE;
      if (s + LOG_SECTOR_SIZE > entryLength)
        return { invalid: `descriptor ${i}: its data sector lies past the entry` };
      if (ascii(bytes, s, 4) !== DATA_SECTOR_SIGNATURE)
        return { invalid: `data sector ${dataSector}: no "data" signature` };
      if (u32(bytes, s + S_SEQUENCE_HIGH) !== seqHigh || u32(bytes, s + S_SEQUENCE_LOW) !== seqLow) {
        return { invalid: `data sector ${dataSector}: sequence number differs` };
      }
      const data = new Uint8Array(LOG_SECTOR_SIZE);
      data.set(bytes.subarray(d + D_LEADING_BYTES, d + D_LEADING_BYTES + 8), 0);
      data.set(bytes.subarray(s + S_DATA, s + S_DATA_END), S_DATA);
      data.set(bytes.subarray(d + D_TRAILING_BYTES, d + D_TRAILING_BYTES + 4), S_DATA_END);
      writes.push({ fileOffset, length: LOG_SECTOR_SIZE, data });
      dataSector++;
    } else {
      return { invalid: `descriptor ${i}: signature ${JSON.stringify(signature)}` };
    }
  }
  return {
    entry: { position, entryLength, tail, sequenceNumber, flushedFileOffset, lastFileOffset, writes },
  };
}
