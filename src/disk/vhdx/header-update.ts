// Updating the VHDX headers, [MS-VHDX] §2.2.2.1: write the new header with SequenceNumber + 1 over the
// non-current copy and flush (it becomes current), then do it once more over the other copy so both hold the same
// fields and one damaged copy never loses them.
import type { ImageFile } from '../block-device.js';
import { HEADER_OFFSETS, HEADER_SIZE } from './constants.js';
import { type VhdxHeader, serializeHeader } from './header.js';

export type HeaderFields = Omit<VhdxHeader, 'slot' | 'sequenceNumber'>;

/** Returns the header that is current afterwards. */
export async function updateHeaders(
  file: ImageFile,
  current: VhdxHeader,
  fields: HeaderFields,
): Promise<VhdxHeader> {
  let now = current;
  for (let i = 0; i < 2; i++) {
    const slot: 0 | 1 = now.slot === 0 ? 1 : 0;
    const next: VhdxHeader = { ...fields, slot, sequenceNumber: now.sequenceNumber + 1n };
    const bytes = new Uint8Array(HEADER_SIZE);
    serializeHeader(next, bytes);
    await file.write(HEADER_OFFSETS[slot], bytes);
    await file.flush();
    now = next;
  }
  return now;
}
