// The file allocation table, all copies, held in memory. Source: Microsoft "FAT32 File System Specification"
// v1.03 (fatgen103) §4 (12/16/32-bit entries, FAT12 packing, the reserved top nibble of FAT32 entries, EOC and
// BAD values, FAT[1]'s ClnShutBitMask / HrdErrBitMask) and §3.6 (BPB_ExtFlags: mirrored or one active copy).
import { WinrescueError } from '../../errors.js';
import type { FatBootSector, FatType } from './boot-sector.js';

export const FREE = 0;
/** Smallest end-of-chain value per type; anything from here up ends a chain (§4). */
const EOC_MIN: Record<FatType, number> = { fat12: 0xff8, fat16: 0xfff8, fat32: 0x0ffffff8 };
const BAD: Record<FatType, number> = { fat12: 0xff7, fat16: 0xfff7, fat32: 0x0ffffff7 };
/** What we write to end a chain: the value mkfs.fat and Windows write. */
const EOC: Record<FatType, number> = { fat12: 0xfff, fat16: 0xffff, fat32: 0x0fffffff };
/** FAT[1] bit set = volume was cleanly unmounted (§4, ClnShutBitMask). */
const CLEAN_BIT: Record<FatType, number> = { fat12: 0, fat16: 0x8000, fat32: 0x08000000 };
/** FAT[1] bit set = no disk I/O errors were met (§4, HrdErrBitMask). */
const HARD_ERROR_BIT: Record<FatType, number> = { fat12: 0, fat16: 0x4000, fat32: 0x04000000 };
const FAT32_MASK = 0x0fffffff;
/** A FAT held in memory: a 256 MiB FAT32 volume with 512-byte clusters has a 2 MiB FAT; refuse absurd ones. */
export const MAX_FAT_BYTES = 256 << 20;

export type EntryKind = 'free' | 'next' | 'eoc' | 'bad' | 'invalid';

export class FatTable {
  readonly type: FatType;
  /** Every copy we keep in step (one when the FAT32 volume is not mirrored). */
  readonly copies: readonly number[];
  private readonly dirty = new Set<number>();

  constructor(
    readonly geometry: FatBootSector,
    /** Raw bytes of each FAT copy, indexed by copy number (unused copies may be empty). */
    readonly bytes: Uint8Array[],
    /** Keep only this copy (a read-only open). */
    onlyCopy?: number,
  ) {
    this.type = geometry.type;
    this.copies =
      onlyCopy !== undefined
        ? [onlyCopy]
        : geometry.mirrored
          ? Array.from({ length: geometry.numFats }, (_, i) => i)
          : [geometry.activeFat];
  }

  get maxCluster(): number {
    return this.geometry.clusterCount + 1;
  }
  get eoc(): number {
    return EOC[this.type];
  }

  /** The entry of cluster `n` in copy `copy` (default: the first copy we use), top FAT32 nibble dropped. */
  get(n: number, copy = this.copies[0]!): number {
    const b = this.bytes[copy]!;
    if (this.type === 'fat32') {
      const o = n * 4;
      return ((b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000) & FAT32_MASK;
    }
    if (this.type === 'fat16') return b[n * 2]! | (b[n * 2 + 1]! << 8);
    const o = n + (n >> 1);
    const v = b[o]! | (b[o + 1]! << 8);
    return n & 1 ? v >> 4 : v & 0xfff;
  }

  /** Sets cluster `n` in every copy we keep, marking the touched sectors for write-out. */
  set(n: number, value: number): void {
    for (const copy of this.copies) {
      const b = this.bytes[copy]!;
      if (this.type === 'fat32') {
        const o = n * 4;
        // §4: the high 4 bits are reserved and must be kept as they are.
        const top = b[o + 3]! & 0xf0;
        b[o] = value & 0xff;
        b[o + 1] = (value >>> 8) & 0xff;
        b[o + 2] = (value >>> 16) & 0xff;
        b[o + 3] = top | ((value >>> 24) & 0x0f);
        this.markDirty(o, 4);
      } else if (this.type === 'fat16') {
        b[n * 2] = value & 0xff;
        b[n * 2 + 1] = (value >>> 8) & 0xff;
        this.markDirty(n * 2, 2);
      } else {
        const o = n + (n >> 1);
        if (n & 1) {
          b[o] = (b[o]! & 0x0f) | ((value << 4) & 0xf0);
          b[o + 1] = (value >>> 4) & 0xff;
        } else {
          b[o] = value & 0xff;
          b[o + 1] = (b[o + 1]! & 0xf0) | ((value >>> 8) & 0x0f);
        }
        this.markDirty(o, 2);
      }
    }
  }

  kind(value: number): EntryKind {
    if (value === FREE) return 'free';
    if (value >= EOC_MIN[this.type]) return 'eoc';
    if (value === BAD[this.type]) return 'bad';
    if (value >= 2 && value <= this.maxCluster) return 'next';
    return 'invalid';
  }

  /** Clusters whose entries differ between the copies we keep (the whole table is compared once, at open). */
  disagreements(limit = 1024): number[] {
    const out: number[] = [];
    if (this.copies.length < 2) return out;
    for (let n = 0; n <= this.maxCluster && out.length < limit; n++) {
      const v = this.get(n, this.copies[0]);
      for (const c of this.copies.slice(1)) {
        if (this.get(n, c) !== v) {
          out.push(n);
          break;
        }
      }
    }
    return out;
  }

  /** True when every copy holds the same entry for `n`. */
  agrees(n: number): boolean {
    const v = this.get(n);
    return this.copies.every((c) => this.get(n, c) === v);
  }

  /** FAT[1] says the volume was not cleanly unmounted (FAT16/32 only; FAT12 has no such bit). */
  get dirtyShutdown(): boolean {
    const bit = CLEAN_BIT[this.type];
    return bit !== 0 && (this.get(1) & bit) === 0;
  }
  /** FAT[1] says the driver met disk I/O errors. */
  get hardError(): boolean {
    const bit = HARD_ERROR_BIT[this.type];
    return bit !== 0 && (this.get(1) & bit) === 0;
  }

  countFree(): number {
    let free = 0;
    for (let n = 2; n <= this.maxCluster; n++) if (this.get(n) === FREE) free++;
    return free;
  }

  /**
   * The write-outs pending since the last call, as (byte offset in the volume, bytes) per sector per copy, copy 0
   * first: a crash between them leaves copy 0 ahead, which is what fsck.fat and Windows trust.
   */
  takeDirty(): { offset: number; data: Uint8Array }[] {
    const g = this.geometry;
    const bps = g.bytesPerSector;
    const sectors = [...this.dirty].sort((a, b) => a - b);
    this.dirty.clear();
    const out: { offset: number; data: Uint8Array }[] = [];
    for (const copy of this.copies) {
      const base = g.fatOffset + copy * g.fatSectors * bps;
      // Adjacent sectors go out as one write.
      let i = 0;
      while (i < sectors.length) {
        let j = i;
        while (j + 1 < sectors.length && sectors[j + 1] === sectors[j]! + 1) j++;
        const from = sectors[i]! * bps;
        const to = (sectors[j]! + 1) * bps;
        out.push({ offset: base + from, data: this.bytes[copy]!.slice(from, to) });
        i = j + 1;
      }
    }
    return out;
  }

  private markDirty(byteOffset: number, length: number): void {
    const bps = this.geometry.bytesPerSector;
    for (let s = Math.floor(byteOffset / bps); s <= Math.floor((byteOffset + length - 1) / bps); s++) {
      this.dirty.add(s);
    }
  }
}

/** The error for a chain that leaves the volume, loops or hits a free/bad/reserved entry. */
export function chainError(message: string, cluster: number, actual: unknown, path?: string): WinrescueError {
  return new WinrescueError('fat.badChain', message, {
    structure: 'fat.chain',
    record: cluster,
    actual,
    ...(path === undefined ? {} : { path }),
  });
}
