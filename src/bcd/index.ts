// BCD store model (read side, and value encoders for the playbooks). Formats: docs/formats/bcd.md.
export {
  ELEMENT_CLASS,
  ELEMENT_FORMAT,
  INTEGER_ENUMS,
  elementCode,
  elementKeyName,
  elementLabel,
  elementName,
  parseElementKeyName,
  splitElementCode,
  type ElementCode,
  type ElementFormat,
} from './element-types.js';
export {
  OBJECT_KIND,
  VIRTUAL,
  WELL_KNOWN,
  aliasOf,
  describeObjectType,
  nameSpace,
  normalizeGuid,
  type AppKind,
  type ObjectType,
} from './object-types.js';
export {
  DEVICE_TYPE,
  PARTITION_VALUE_SIZE,
  decodeDevice,
  encodeBootDevice,
  encodePartitionDevice,
  formatDevice,
  type BcdDevice,
} from './device.js';
export {
  decodeElementValue,
  encodeElementValue,
  formatElementValue,
  jsonValue,
  registryTypeOf,
  showObject,
  type BcdValue,
} from './element-value.js';
export {
  BcdStore,
  DEFAULT_OBJECT_ELEMENT,
  elementKeyPath,
  readBcdStore,
  type BcdElement,
  type BcdObject,
} from './store.js';
export { planElementChange, type ElementChange } from './plan.js';
