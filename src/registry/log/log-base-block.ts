// Base block of a transaction log file (the partial base-block copy in its first sector).
// Spec: msuhanov regf spec, "Format of transaction log files" → "Old format" → "Base block" (and its notes),
// "New format" → "Base block"; "Sector size and clustering factor".
import { WinrescueError } from '../../errors.js';
import { u32, u64, checkRange } from '../../util/bytes.js';
import { baseBlockChecksum } from '../base-block.js';

/** Windows copies only the first sector of the base block into a log; 512 bytes as of Windows 8. */
export const LOG_BASE_BLOCK_SIZE = 512;
export const FILE_TYPE_PRIMARY = 0;
/** Old-format (DIRT) log as of Windows XP. */
export const FILE_TYPE_LOG_OLD = 1;
/** Old-format log written by Windows 2000 and earlier. */
export const FILE_TYPE_LOG_NT = 2;
/** New-format (HvLE) log, Windows 8.1 / Server 2012 R2 and later. */
export const FILE_TYPE_LOG_NEW = 6;
/** Hive bins are allocated in 4 KiB blocks, so every bins size Windows records is a multiple of this. */
export const HIVE_BLOCK = 4096;
/**
 * Cell indexes use their top bit to tell volatile from stable storage, so stored hive bins data stays below
 * 2 GiB; a larger recorded size is corruption, and refusing it keeps a crafted log from forcing a huge allocation.
 */
export const MAX_HIVE_BINS_SIZE = 0x80000000;
/** Clustering factor = sector size / 512; Windows supports 512-byte and 4 KiB logical sectors only. */
export const MAX_CLUSTERING_FACTOR = 8;

const OFF_PRIMARY_SEQ = 4;
const OFF_SECONDARY_SEQ = 8;
const OFF_LAST_WRITTEN = 12;
const OFF_FILE_TYPE = 28;
const OFF_BINS_SIZE = 40;
const OFF_CLUSTERING = 44;
/** Windows 10 base-block flags; bit 0 travels through HvLE entries. */
export const OFF_BASE_FLAGS = 144;
export const OFF_CHECKSUM = 508;

export type LogFormat = 'dirt' | 'hvle';

export interface LogBaseBlock {
  readonly signatureValid: boolean;
  readonly checksumValid: boolean;
  readonly primarySequence: number;
  readonly secondarySequence: number;
  readonly lastWritten: bigint;
  readonly fileType: number;
  /** From the file type: 1 or 2 old format, 6 new format; undefined for anything else. */
  readonly format: LogFormat | undefined;
  readonly hiveBinsDataSize: number;
  readonly clusteringFactor: number;
  readonly flags: number;
  /** Valid as the spec defines it for a log: expected signature, type and checksum, and equal sequence numbers. */
  readonly valid: boolean;
  /** Why it is not valid (empty when valid), for warnings. */
  readonly problems: readonly string[];
}

function formatOf(fileType: number): LogFormat | undefined {
  if (fileType === FILE_TYPE_LOG_OLD || fileType === FILE_TYPE_LOG_NT) return 'dirt';
  if (fileType === FILE_TYPE_LOG_NEW) return 'hvle';
  return undefined;
}

/** Reads a log's base block; throws `regf.badLog` only when the file is shorter than one sector. */
export function parseLogBaseBlock(log: Uint8Array): LogBaseBlock {
  checkRange(log.length, 0, LOG_BASE_BLOCK_SIZE, { structure: 'regf.logBaseBlock', code: 'regf.badLog' });
  const signatureValid = log[0] === 0x72 && log[1] === 0x65 && log[2] === 0x67 && log[3] === 0x66; // 'regf'
  const checksumValid = u32(log, OFF_CHECKSUM) === baseBlockChecksum(log);
  const primarySequence = u32(log, OFF_PRIMARY_SEQ);
  const secondarySequence = u32(log, OFF_SECONDARY_SEQ);
  const fileType = u32(log, OFF_FILE_TYPE);
  const format = formatOf(fileType);
  const hiveBinsDataSize = u32(log, OFF_BINS_SIZE);
  const clusteringFactor = u32(log, OFF_CLUSTERING);
  const problems: string[] = [];
  if (!signatureValid) problems.push("base block signature is not 'regf'");
  if (!checksumValid) problems.push('base block checksum is wrong');
  if (format === undefined) problems.push(`file type ${fileType} is not a log (1, 2 or 6)`);
  if (primarySequence !== secondarySequence)
    problems.push(
      `sequence numbers differ (${primarySequence}/${secondarySequence}): the log was not completely written`,
    );
  if (hiveBinsDataSize % HIVE_BLOCK !== 0 || hiveBinsDataSize > MAX_HIVE_BINS_SIZE)
    problems.push(`hive bins data size 0x${hiveBinsDataSize.toString(16)} is impossible`);
  if (clusteringFactor < 1 || clusteringFactor > MAX_CLUSTERING_FACTOR)
    problems.push(`clustering factor ${clusteringFactor} is impossible`);
  return {
    signatureValid,
    checksumValid,
    primarySequence,
    secondarySequence,
    lastWritten: u64(log, OFF_LAST_WRITTEN),
    fileType,
    format,
    hiveBinsDataSize,
    clusteringFactor,
    flags: u32(log, OFF_BASE_FLAGS),
    valid: problems.length === 0,
    problems,
  };
}

/** A `regf.badLog` error for a field of a log at `offset` (an offset within the log file). */
export function badLog(message: string, offset: number, structure: string, actual?: unknown): WinrescueError {
  return new WinrescueError('regf.badLog', message, { offset, structure, actual });
}
