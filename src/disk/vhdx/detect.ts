// VHDX detection by content, [MS-VHDX] §2.2.1: the file type identifier "vhdxfile" at offset 0 is written at creation
// and never overwritten, so it identifies the file even when everything after it is damaged.
import type { ImageFile } from '../block-device.js';
import { FILE_SIGNATURE, hasFileSignature } from './file-identifier.js';

/** True when the file starts with the VHDX signature; the name of the file plays no part. */
export async function detectVhdx(file: ImageFile): Promise<boolean> {
  if (file.size < FILE_SIGNATURE.length) return false;
  return hasFileSignature(await file.read(0, FILE_SIGNATURE.length));
}
