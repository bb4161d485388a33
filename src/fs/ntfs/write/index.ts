// NTFS writer: public surface. What it does and does not support: docs/formats/ntfs-write.md.
export { openNtfsWriter, NtfsWriter, filetime, type OpenNtfsWriterOptions } from './writer.js';
export type { NtfsWriteForce } from './safety.js';
export { ClusterBitmap, mergeRuns, splitRuns } from './cluster-bitmap.js';
export type { QuarantineOptions, QuarantineReport } from './quarantine.js';
export {
  LIKE_ATTRIBUTE_MASK,
  type FileLike,
  type WriteFileOptions,
  type WriteFileReport,
} from './file-like.js';
