// VHD (Virtual Hard Disk v1): fixed, dynamic and differencing images as a BlockDevice.
export { detectVhd, openVhd, type OpenVhdOptions } from './open.js';
export { VhdDevice, VhdFixedDevice, type VhdFormat, type VhdIdentity } from './vhd-device.js';
export { VhdSparseDevice } from './sparse-device.js';
export {
  type VhdFooter,
  type VhdGeometry,
  DiskType,
  decodeFooter,
  parseFooter,
  serializeFooter,
  timeStampToDate,
} from './footer.js';
export {
  type VhdDynamicHeader,
  decodeDynamicHeader,
  parseDynamicHeader,
  bitmapSizeFor,
} from './dynamic-header.js';
export {
  type ParentLocatorEntry,
  type LocatorPath,
  PlatformCode,
  parentCandidates,
} from './parent-locator.js';
export { UNALLOCATED } from './bat.js';
