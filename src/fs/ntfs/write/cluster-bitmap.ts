// $Bitmap (record 6): one bit per cluster, least significant bit first (flatcap linux-ntfs ntfs/files/bitmap.html).
// The allocator works on the bitmap bytes in memory and remembers which bytes changed, so the writer writes back
// only those. Allocation prefers one contiguous run starting at a hint (right after a file's last cluster).
import { WinrescueError } from '../../../errors.js';
import type { DataRun } from '../runlist.js';

export class ClusterBitmap {
  /** Lowest and highest changed byte, or -1 when nothing changed. */
  private dirtyLow = -1;
  private dirtyHigh = -1;

  constructor(
    readonly bits: Uint8Array,
    readonly totalClusters: number,
  ) {}

  isUsed(lcn: number): boolean {
    return (this.bits[lcn >> 3]! & (1 << (lcn & 7))) !== 0;
  }

  private set(lcn: number, used: boolean): void {
    const i = lcn >> 3;
    if (used) this.bits[i] = this.bits[i]! | (1 << (lcn & 7));
    else this.bits[i] = this.bits[i]! & ~(1 << (lcn & 7));
    if (this.dirtyLow < 0 || i < this.dirtyLow) this.dirtyLow = i;
    if (i > this.dirtyHigh) this.dirtyHigh = i;
  }

  /** Free clusters in [0, totalClusters). */
  freeCount(): number {
    let n = 0;
    for (let c = 0; c < this.totalClusters; c++) if (!this.isUsed(c)) n++;
    return n;
  }

  /** Length of the free stretch starting at `lcn`, up to `max`. */
  private freeRunAt(lcn: number, max: number): number {
    let n = 0;
    while (n < max && lcn + n < this.totalClusters && !this.isUsed(lcn + n)) n++;
    return n;
  }

  /**
   * Allocates `count` clusters and returns them as runs (VCNs from `firstVcn`). Tries, in order: a contiguous
   * stretch at `hint`, the first contiguous stretch long enough anywhere, then free stretches in volume order.
   */
  allocate(count: number, firstVcn: number, hint = 0): DataRun[] {
    if (count === 0) return [];
    const pieces: { lcn: number; length: number }[] = [];
    if (hint > 0 && hint < this.totalClusters && this.freeRunAt(hint, count) === count) {
      pieces.push({ lcn: hint, length: count });
    } else {
      let lcn = 0;
      while (lcn < this.totalClusters) {
        if (this.isUsed(lcn)) {
          lcn++;
          continue;
        }
        const n = this.freeRunAt(lcn, count);
        if (n === count) {
          pieces.push({ lcn, length: count });
          break;
        }
        lcn += n;
      }
      if (pieces.length === 0) {
        let left = count;
        for (let c = 0; c < this.totalClusters && left > 0;) {
          if (this.isUsed(c)) {
            c++;
            continue;
          }
          const n = this.freeRunAt(c, left);
          pieces.push({ lcn: c, length: n });
          left -= n;
          c += n;
        }
        if (left > 0) {
          throw new WinrescueError(
            'ntfs.full',
            `the volume has ${count - left} free clusters, ${count} are needed`,
            { structure: 'ntfs.bitmap', expected: count, actual: count - left },
          );
        }
      }
    }
    const runs: DataRun[] = [];
    let vcn = firstVcn;
    for (const p of pieces) {
      for (let c = p.lcn; c < p.lcn + p.length; c++) this.set(c, true);
      runs.push({ vcn, lcn: p.lcn, length: p.length });
      vcn += p.length;
    }
    return runs;
  }

  /** Marks the clusters of `runs` free (sparse runs own nothing). */
  free(runs: readonly DataRun[]): void {
    for (const r of runs) {
      if (r.lcn === null) continue;
      for (let c = r.lcn; c < r.lcn + r.length; c++) this.set(c, false);
    }
  }

  /** The changed byte range [start, end), or null. */
  dirtyRange(): { start: number; end: number } | null {
    return this.dirtyLow < 0 ? null : { start: this.dirtyLow, end: this.dirtyHigh + 1 };
  }

  clean(): void {
    this.dirtyLow = this.dirtyHigh = -1;
  }
}

/** Joins adjacent runs (same continuation on disk) so the runlist stays short. */
export function mergeRuns(runs: readonly DataRun[]): DataRun[] {
  const out: DataRun[] = [];
  for (const r of runs) {
    const prev = out[out.length - 1];
    if (
      prev &&
      prev.vcn + prev.length === r.vcn &&
      ((prev.lcn === null && r.lcn === null) ||
        (prev.lcn !== null && r.lcn !== null && prev.lcn + prev.length === r.lcn))
    ) {
      out[out.length - 1] = { vcn: prev.vcn, lcn: prev.lcn, length: prev.length + r.length };
    } else out.push(r);
  }
  return out;
}

/** The first `count` clusters of `runs` and the rest (split inside a run when needed). */
export function splitRuns(runs: readonly DataRun[], count: number): { keep: DataRun[]; rest: DataRun[] } {
  const keep: DataRun[] = [];
  const rest: DataRun[] = [];
  for (const r of runs) {
    const end = r.vcn + r.length;
    if (end <= count) keep.push(r);
    else if (r.vcn >= count) rest.push(r);
    else {
      const k = count - r.vcn;
      keep.push({ vcn: r.vcn, lcn: r.lcn, length: k });
      rest.push({ vcn: count, lcn: r.lcn === null ? null : r.lcn + k, length: r.length - k });
    }
  }
  return { keep, rest };
}
