// Public surface of the registry hive writer. Spec: msuhanov regf spec; libregf REGF document.
export { createHive, defaultSecurityDescriptor, type CreateHiveOptions, type HiveMinor } from './create.js';
export { HiveEditor, type HiveEditorOptions, type SaveOptions, type DeleteKeyOptions } from './editor.js';
export { CellAllocator } from './allocator.js';
export { LEAF_CAP, defaultLeafKind } from './subkey-index.js';
export { maxValueData, INLINE_MAX } from './value-store.js';
export {
  MAX_KEY_NAME,
  MAX_VALUE_NAME,
  upcaseUnit,
  upcaseName,
  compareUpcased,
  nameHash,
  lfHint,
  encodeName,
  splitKeyPath,
  type EncodedName,
} from './names.js';
