// FAT12/16/32: the public surface of fs/fat (docs/formats/fat.md).
export { openFat, FatVolume } from './volume.js';
export type { FatStat, OpenFatOptions, WriteFileOptions, WriteFileResult } from './volume.js';
export { parseBootSector } from './boot-sector.js';
export type { FatBootSector, FatType } from './boot-sector.js';
export { parseDirectory, shortNameChecksum } from './dir-entry.js';
export type { DirEntry } from './dir-entry.js';
