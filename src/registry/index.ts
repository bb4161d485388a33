// Public surface of the registry hive engine (read side). Spec: msuhanov regf spec; libregf REGF document.
export { Hive, openHive, type WalkEntry, type WalkOptions } from './hive.js';
export { parseBaseBlock, baseBlockChecksum, BASE_BLOCK_SIZE, type BaseBlock } from './base-block.js';
export { parseHiveBin, type HiveBin } from './hive-bin.js';
export { readCell, cellError, BINS_START, NO_CELL, type Cell } from './cells/cell.js';
export { parseKeyNode, type KeyNode } from './cells/key-node.js';
export { parseKeyValue, type KeyValue } from './cells/key-value.js';
export { parseSubkeyList, lhHash, type SubkeyList, type SubkeyListKind } from './cells/subkey-lists.js';
export { parseBigData, BIG_DATA_SEGMENT, type BigData } from './cells/big-data.js';
export { parseSecurityKey, type SecurityKey } from './cells/security-key.js';
export { exportReg, exportRegBytes, tuples, regValueLine, type ValueTuple } from './export.js';
export { HiveEditor, type HiveEditorOptions, type SaveOptions, type DeleteKeyOptions } from './write/index.js';
export {
  recoverHive,
  logSequenceCeiling,
  findLogSiblings,
  marvin32,
  type HiveRecovery,
  type AppliedLog,
  type HiveLog,
} from './log/index.js';
