// Integrity findings for a PE image: what a loader would reject or a content fault leaves behind. Headers per the
// PE Format specification §"Section Table", §"The Attribute Certificate Table (Image Only)", CheckSum field.
import { isWinrescueError } from '../errors.js';
import { checksumSkipping } from './checksum.js';
import { DIRECTORY_SECURITY, parsePe, type PeHeaders } from './headers.js';

export type PeProblem =
  | 'notPe' // headers unreadable: garbage, zero-filled start, or cut inside the headers
  | 'sectionOutside' // a section's raw data lies past the end of the file (truncated)
  | 'imageSizeShort' // SizeOfImage does not cover the sections
  | 'certificateTableOutside' // the certificate table directory points past the end of the file
  | 'zeroFilled' // a section's raw data (or the whole file) is all zeros
  | 'checksumMismatch'; // stored CheckSum differs from the recomputed one (0 = not set, not a finding)

export interface PeFinding {
  readonly problem: PeProblem;
  readonly detail: string;
  readonly offset?: number;
}

/** Sections smaller than this may legitimately be zero (e.g. an empty .data): only larger ones count as wiped. */
const MIN_ZERO_SECTION = 512;

function allZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/** Every problem found; an empty list means the image looks intact. Never throws for bad content. */
export function checkPe(bytes: Uint8Array): PeFinding[] {
  let h: PeHeaders;
  try {
    h = parsePe(bytes);
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    const zero = bytes.length > 0 && allZero(bytes, 0, bytes.length);
    return [
      zero
        ? { problem: 'zeroFilled', detail: `all ${bytes.length} bytes are zero`, offset: 0 }
        : {
            problem: 'notPe',
            detail: e.message,
            ...(typeof e.offset === 'number' ? { offset: e.offset } : {}),
          },
    ];
  }
  const out: PeFinding[] = [];
  let end = 0;
  for (const s of h.sections) {
    if (s.sizeOfRawData === 0) continue;
    const to = s.pointerToRawData + s.sizeOfRawData;
    end = Math.max(end, s.virtualAddress + Math.max(s.virtualSize, s.sizeOfRawData));
    if (to > bytes.length) {
      out.push({
        problem: 'sectionOutside',
        detail: `section ${s.name} raw data ${s.pointerToRawData}+${s.sizeOfRawData} ends past the file's ${bytes.length} bytes`,
        offset: s.headerOffset,
      });
    } else if (s.sizeOfRawData >= MIN_ZERO_SECTION && allZero(bytes, s.pointerToRawData, to)) {
      out.push({
        problem: 'zeroFilled',
        detail: `section ${s.name} (${s.sizeOfRawData} bytes at ${s.pointerToRawData}) is all zeros`,
        offset: s.pointerToRawData,
      });
    }
  }
  if (h.sizeOfImage < end) {
    out.push({
      problem: 'imageSizeShort',
      detail: `SizeOfImage ${h.sizeOfImage} does not cover the sections (${end})`,
      offset: h.optionalHeaderOffset + 56,
    });
  }
  const cert = h.directories[DIRECTORY_SECURITY];
  if (cert && cert.size !== 0 && cert.rva + cert.size > bytes.length) {
    out.push({
      problem: 'certificateTableOutside',
      detail: `certificate table ${cert.rva}+${cert.size} ends past the file's ${bytes.length} bytes`,
      offset: h.directoriesOffset + DIRECTORY_SECURITY * 8,
    });
  }
  const computed = checksumSkipping(bytes, h.checksumOffset);
  if (h.checksum !== 0 && h.checksum !== computed) {
    out.push({
      problem: 'checksumMismatch',
      detail: `CheckSum is 0x${h.checksum.toString(16)}, recomputed 0x${computed.toString(16)}`,
      offset: h.checksumOffset,
    });
  }
  return out;
}
