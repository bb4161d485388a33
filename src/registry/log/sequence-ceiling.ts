// The highest sequence number the logs of a hive hold, so a writer can save a clean primary above them.
// Spec: msuhanov regf spec, "Dirty state of a hive" and "New format" log-entry notes 5 and 7 (only entries at
// or above the primary's sequence number are ever applied, and only to a dirty primary).
import { u32 } from '../../util/bytes.js';
import { baseBlockChecksum } from '../base-block.js';
import { LOG_BASE_BLOCK_SIZE, OFF_CHECKSUM } from './log-base-block.js';
import { readLogEntries } from './log-entry.js';

/**
 * The highest sequence number any log base block with a right checksum, or any hash-valid log entry, holds;
 * 0 when there is none. Entries are counted even in a log whose base block is bad: a higher ceiling only
 * costs a larger sequence number, a lower one could let a stale entry look subsequent.
 */
export function logSequenceCeiling(logs: readonly { readonly bytes: Uint8Array }[]): number {
  let top = 0;
  for (const { bytes } of logs) {
    if (bytes.length < LOG_BASE_BLOCK_SIZE) continue;
    if (u32(bytes, OFF_CHECKSUM) === baseBlockChecksum(bytes))
      top = Math.max(top, u32(bytes, 4), u32(bytes, 8));
    for (const e of readLogEntries(bytes).entries) top = Math.max(top, e.sequence);
  }
  return top;
}
