// The undo journal: every write to a disk recorded (old bytes first, flushed) so `winrescue undo` can restore it.
export {
  JournaledFile,
  JournaledDevice,
  TOOL_VERSION,
  type JournalTarget,
  type JournaledFileOptions,
} from './journaled-file.js';
export { undoJournal, type UndoOptions, type UndoReport } from './undo.js';
export {
  fileJournalStorage,
  checkJournalPath,
  defaultJournalPath,
  JOURNAL_SUFFIX,
  DONE_SUFFIX,
  type JournalStorage,
} from './storage.js';
export { parseJournal, type ParsedJournal, type Session, type DataRecord } from './model.js';
export { computeIdentity } from './identity.js';
export { CHECK_UNIT, MAX_RECORD_DATA, type DiskIdentity, type JournalRecord } from './format.js';
