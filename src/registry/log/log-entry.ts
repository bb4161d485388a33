// New-format log entry (HvLE). Spec: msuhanov regf spec, "New format" → "Log entries" and its notes 1-9.
import { hex, WinrescueError } from '../../errors.js';
import { u32, u64, checkRange } from '../../util/bytes.js';
import { marvin32 } from './marvin32.js';
import { badLog, HIVE_BLOCK, LOG_BASE_BLOCK_SIZE, MAX_HIVE_BINS_SIZE } from './log-base-block.js';

/** Entries follow the one-sector base block; each starts on and spans whole 512-byte sectors. */
export const LOG_ENTRIES_START = LOG_BASE_BLOCK_SIZE;
export const LOG_ENTRY_ALIGN = 512;
export const HVLE_HEADER_SIZE = 40;
const PAGE_REF_SIZE = 8;
/** Hash-2 covers the header up to and including Hash-1. */
const HASH2_COVERS = 32;
const SIGNATURE = [0x48, 0x76, 0x4c, 0x45]; // 'HvLE'

export interface DirtyPageRef {
  /** Relative to the start of the hive bins data (file offset = 4096 + offset). */
  readonly offset: number;
  readonly size: number;
}

export interface LogEntryPage extends DirtyPageRef {
  /** Where the page's bytes start in the log file. */
  readonly dataOffset: number;
}

export interface LogEntry {
  /** Offset of the entry in the log file. */
  readonly logOffset: number;
  readonly size: number;
  readonly flags: number;
  readonly sequence: number;
  readonly hiveBinsDataSize: number;
  readonly pages: readonly LogEntryPage[];
  readonly hash1: bigint;
  readonly hash2: bigint;
}

export function hasEntrySignature(log: Uint8Array, offset: number): boolean {
  if (offset < 0 || offset + SIGNATURE.length > log.length) return false;
  return SIGNATURE.every((c, i) => log[offset + i] === c);
}

/**
 * Parses and verifies one HvLE entry at `offset` of `log`: layout in bounds, bins size a multiple of 4096,
 * pages inside the bins, both Marvin32 hashes right. Any failure is `regf.badLog` naming the entry's offset.
 */
export function parseLogEntry(log: Uint8Array, offset: number): LogEntry {
  const structure = 'regf.logEntry';
  const where = { structure, code: 'regf.badLog' as const };
  checkRange(log.length, offset, HVLE_HEADER_SIZE, where);
  const at = `log entry at ${hex(offset)}`;
  if (!hasEntrySignature(log, offset)) throw badLog(`${at}: signature 'HvLE' expected`, offset, structure);
  const size = u32(log, offset + 4);
  if (size < HVLE_HEADER_SIZE || size % LOG_ENTRY_ALIGN !== 0)
    throw badLog(
      `${at}: size ${hex(size)} is not a multiple of 512 holding a header`,
      offset + 4,
      structure,
      size,
    );
  checkRange(log.length, offset, size, where);
  const flags = u32(log, offset + 8);
  const sequence = u32(log, offset + 12);
  const hiveBinsDataSize = u32(log, offset + 16);
  if (hiveBinsDataSize === 0 || hiveBinsDataSize % HIVE_BLOCK !== 0 || hiveBinsDataSize > MAX_HIVE_BINS_SIZE)
    throw badLog(
      `${at}: hive bins data size ${hex(hiveBinsDataSize)} is impossible`,
      offset + 16,
      structure,
      hiveBinsDataSize,
    );
  const count = u32(log, offset + 20);
  const hash1 = u64(log, offset + 24);
  const hash2 = u64(log, offset + 32);
  if (marvin32(log.subarray(offset, offset + HASH2_COVERS)) !== hash2)
    throw badLog(`${at}: Hash-2 (header) does not match`, offset + 32, structure, hash2);
  if (marvin32(log.subarray(offset + HVLE_HEADER_SIZE, offset + size)) !== hash1)
    throw badLog(`${at}: Hash-1 (page references and pages) does not match`, offset + 24, structure, hash1);
  // The hashes make random damage past this point unlikely; the checks below guard against crafted entries.
  const refsEnd = HVLE_HEADER_SIZE + count * PAGE_REF_SIZE;
  if (refsEnd > size)
    throw badLog(
      `${at}: ${count} page references do not fit in ${hex(size)} bytes`,
      offset + 20,
      structure,
      count,
    );
  const pages: LogEntryPage[] = [];
  let data = offset + refsEnd;
  for (let i = 0; i < count; i++) {
    const ref = offset + HVLE_HEADER_SIZE + i * PAGE_REF_SIZE;
    const pageOffset = u32(log, ref);
    const pageSize = u32(log, ref + 4);
    if (pageSize === 0 || pageOffset + pageSize > hiveBinsDataSize)
      throw badLog(
        `${at}: page ${i} (${hex(pageOffset)}+${hex(pageSize)}) lies outside the hive bins data`,
        ref,
        structure,
        pageOffset,
      );
    checkRange(offset + size, data, pageSize, where);
    pages.push({ offset: pageOffset, size: pageSize, dataOffset: data });
    data += pageSize;
  }
  return { logOffset: offset, size, flags, sequence, hiveBinsDataSize, pages, hash1, hash2 };
}

export interface LogEntryScan {
  /** The valid entries in file order, up to the first damaged one. */
  readonly entries: readonly LogEntry[];
  /** Why the scan stopped early: a damaged entry (a clean end — zeros, remnants without 'HvLE' — leaves it unset). */
  readonly stop: WinrescueError | undefined;
}

/** All entries from the second sector on, stopping at the first sector that does not start an entry or a bad entry. */
export function readLogEntries(log: Uint8Array): LogEntryScan {
  const entries: LogEntry[] = [];
  let offset = LOG_ENTRIES_START;
  while (hasEntrySignature(log, offset)) {
    try {
      const e = parseLogEntry(log, offset);
      entries.push(e);
      offset += e.size;
    } catch (err) {
      if (err instanceof WinrescueError) return { entries, stop: err };
      throw err;
    }
  }
  return { entries, stop: undefined };
}
