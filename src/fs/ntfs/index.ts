// NTFS reader: public surface. Format notes and corruption scenarios: docs/formats/ntfs.md.
export { openNtfs, NtfsVolume, type OpenNtfsOptions, type NtfsFileRef, type DirEntry } from './volume.js';
export type { NtfsStat, NameInfo, StreamInfo, AttributeInfo } from './stat.js';
export type { WalkEntry, WalkItem, WalkOptions } from './walk.js';
export { HIBERNATION_SIGNATURES, type NtfsInfo } from './info.js';
export { AttributeStream } from './data-stream.js';
export type { NtfsFile, ResolvedAttribute } from './file-record.js';
export {
  parseBootSector,
  isBitLocker,
  OEM_BITLOCKER,
  MAX_CLUSTER_SIZE,
  type BootSector,
} from './boot-sector.js';
export { applyFixupsOnRead, applyFixupsOnWrite, FIXUP_STRIDE } from './fixup.js';
export { parseMftRecord, parseFileReference, type MftRecord, type FileReference } from './mft-record.js';
export { parseAttribute, ATTR, attributeTypeName, type Attribute } from './attribute.js';
export { decodeRunlist, encodeRunlist, findRun, type DataRun } from './runlist.js';
export { parseIndexNode, parseIndexBlock, type IndexEntry, type IndexNode } from './index-node.js';
export { IndexTree, MAX_INDEX_DEPTH } from './index-tree.js';
export { compareFileNames, compareUlong } from './collation.js';
export { parseUpcase, defaultUpcase } from './upcase.js';
export { decompressLznt1 } from './lznt1.js';
export { logfileStatus, parseRestartPage, type LogfileStatus, type LogfileState } from './logfile-state.js';
export { ByteLru, DEFAULT_CACHE_BYTES } from './cache.js';
export {
  ROOT_RECORD,
  MFT_RECORD,
  VOLUME_RECORD,
  LOGFILE_RECORD,
  SECURE_RECORD,
  UPCASE_RECORD,
} from './mft-map.js';
export {
  parseStandardInformation,
  fileAttributeNames,
  FILE_ATTRIBUTE,
  type StandardInformation,
} from './attributes/standard-information.js';
export { parseFileName, NAMESPACE, type FileName, type NamespaceName } from './attributes/file-name.js';
export { parseAttributeList, type AttributeListEntry } from './attributes/attribute-list.js';
export { parseIndexRoot, COLLATION, type IndexRoot } from './attributes/index-root.js';
export {
  parseVolumeInformation,
  parseVolumeName,
  VOLUME_FLAG,
  type VolumeInformation,
} from './attributes/volume-information.js';
export { parseReparsePoint, REPARSE_TAG, WOF_STREAM, type ReparsePoint } from './attributes/reparse-point.js';
export {
  parseSecurityDescriptor,
  sidToString,
  type SecurityDescriptor,
} from './attributes/security-descriptor.js';
