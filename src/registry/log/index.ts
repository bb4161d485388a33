// Transaction-log replay for dirty hives. Spec: msuhanov regf spec, "Format of transaction log files",
// "Dirty state of a hive", "Multiple transaction log files".
export { marvin32, HVLE_MARVIN_SEED } from './marvin32.js';
export {
  parseLogBaseBlock,
  LOG_BASE_BLOCK_SIZE,
  FILE_TYPE_LOG_OLD,
  FILE_TYPE_LOG_NT,
  FILE_TYPE_LOG_NEW,
  type LogBaseBlock,
  type LogFormat,
} from './log-base-block.js';
export {
  parseLogEntry,
  readLogEntries,
  HVLE_HEADER_SIZE,
  type LogEntry,
  type LogEntryPage,
  type DirtyPageRef,
  type LogEntryScan,
} from './log-entry.js';
export { parseDirtyVector, DIRT_PAGE_SIZE, type DirtyVector, type DirtyPage } from './dirty-vector.js';
export { recoverHive, type HiveRecovery, type AppliedLog, type HiveLog } from './recover.js';
export { logSequenceCeiling } from './sequence-ceiling.js';
export { findLogSiblings } from './siblings.js';
