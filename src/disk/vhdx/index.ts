// VHDX (Hyper-V virtual hard disk v2) container: detect, open as a BlockDevice, create.
export { detectVhdx } from './detect.js';
export { openVhdx, type OpenVhdxOptions } from './open.js';
export { createVhdx, type CreateVhdxOptions } from './create.js';
export { VhdxDevice, type VhdxFormat, type VhdxSubformat } from './vhdx-device.js';
export type { OpenParent, ParentDevice } from './parent.js';
