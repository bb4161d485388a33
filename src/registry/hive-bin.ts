// Hive bin (hbin) header. Spec: msuhanov regf spec, "Hive bin"; libregf REGF "Hive bin header".
import { WinrescueError, hex } from '../errors.js';
import { u32, u64, checkRange } from '../util/bytes.js';
import { BINS_START } from './cells/cell.js';

export const HBIN_HEADER_SIZE = 32;
/** Bins are allocated in whole 4 KiB pages. */
export const HBIN_ALIGN = 4096;

export interface HiveBin {
  /** Absolute file offset of the bin. */
  readonly abs: number;
  /** Offset relative to the first bin, as stored in the header. */
  readonly offset: number;
  readonly size: number;
  readonly timestamp: bigint;
}

export function parseHiveBin(b: Uint8Array, abs: number): HiveBin {
  checkRange(b.length, abs, HBIN_HEADER_SIZE, { structure: 'regf.hbin', code: 'regf.badBin' });
  const sig = String.fromCharCode(b[abs]!, b[abs + 1]!, b[abs + 2]!, b[abs + 3]!);
  const bad = (msg: string, actual: unknown): WinrescueError =>
    new WinrescueError('regf.badBin', `hive bin at ${hex(abs)}: ${msg}`, {
      offset: abs,
      structure: 'regf.hbin',
      actual,
    });
  if (sig !== 'hbin') throw bad(`signature 'hbin' expected, found ${JSON.stringify(sig)}`, sig);
  const offset = u32(b, abs + 4);
  const size = u32(b, abs + 8);
  if (offset !== abs - BINS_START)
    throw bad(`stored offset ${hex(offset)} does not match its position`, offset);
  if (size < HBIN_ALIGN || size % HBIN_ALIGN !== 0)
    throw bad(`size ${hex(size)} is not a positive multiple of 4096`, size);
  return { abs, offset, size, timestamp: u64(b, abs + 20) };
}
