// FAT32 FSInfo sector. Source: Microsoft "FAT32 File System Specification" v1.03 (fatgen103) §5 (FSI_LeadSig,
// FSI_StrucSig, FSI_Free_Count, FSI_Nxt_Free, FSI_TrailSig; 0xFFFFFFFF means "unknown" for both hints).
import { u32, setU32 } from '../../util/bytes.js';

const LEAD_SIG = 0x41615252;
const STRUC_SIG = 0x61417272;
const TRAIL_SIG = 0xaa550000;
const LEAD_AT = 0;
const STRUC_AT = 484;
const FREE_COUNT_AT = 488;
const NEXT_FREE_AT = 492;
const TRAIL_AT = 508;
export const FSINFO_BYTES = 512;
export const FSINFO_UNKNOWN = 0xffffffff;

export interface FsInfo {
  readonly freeCount: number;
  readonly nextFree: number;
}

/** The two hints, or null when the sector does not carry all three signatures (then we leave it alone). */
export function parseFsInfo(sector: Uint8Array): FsInfo | null {
  if (sector.length < FSINFO_BYTES) return null;
  if (u32(sector, LEAD_AT) !== LEAD_SIG || u32(sector, STRUC_AT) !== STRUC_SIG) return null;
  if (u32(sector, TRAIL_AT) !== TRAIL_SIG) return null;
  return { freeCount: u32(sector, FREE_COUNT_AT), nextFree: u32(sector, NEXT_FREE_AT) };
}

/** A copy of `sector` with both hints replaced; every other byte kept. */
export function withFsInfo(sector: Uint8Array, info: FsInfo): Uint8Array {
  const out = sector.slice(0, FSINFO_BYTES);
  setU32(out, FREE_COUNT_AT, info.freeCount);
  setU32(out, NEXT_FREE_AT, info.nextFree);
  return out;
}
