// Cluster accounting: which clusters the in-use records' runlists claim (one bit each, LSB first like $Bitmap:
// flatcap linux-ntfs ntfs/files/bitmap.html), which are claimed twice, and how that compares with $Bitmap.
// This is the comparison ntfsresize's "cluster accounting" makes.

export type Range = readonly [first: number, count: number];

/** Bits of one byte that fall in [from, to) of that byte's 8 clusters. */
function maskOf(from: number, to: number): number {
  return ((1 << (to - from)) - 1) << from;
}

export class ClusterMap {
  readonly claimed: Uint8Array;
  /** Clusters claimed more than once; allocated on the first conflict. */
  conflicts: Uint8Array | null = null;
  claimedCount = 0;

  constructor(readonly totalClusters: number) {
    this.claimed = new Uint8Array(Math.ceil(totalClusters / 8));
  }

  /** Marks [lcn, lcn+length) claimed (clusters past the map are ignored); true when some was claimed already. */
  claim(lcn: number, length: number): boolean {
    let clash = false;
    const end = Math.min(lcn + length, this.totalClusters);
    let c = lcn;
    while (c < end) {
      const byte = c >>> 3;
      const from = c & 7;
      const to = Math.min(8, from + (end - c));
      const mask = from === 0 && to === 8 ? 0xff : maskOf(from, to);
      const old = this.claimed[byte]!;
      const both = old & mask;
      if (both !== 0) {
        clash = true;
        this.conflicts ??= new Uint8Array(this.claimed.length);
        this.conflicts[byte]! |= both;
      }
      this.claimedCount += popcount(mask & ~old);
      this.claimed[byte] = old | mask;
      c += to - from;
    }
    return clash;
  }

  /** The part of [lcn, lcn+length) that lies in `bits`, as ranges. */
  static rangesIn(bits: Uint8Array, lcn: number, length: number): Range[] {
    const out: Range[] = [];
    let start = -1;
    for (let c = lcn; c < lcn + length; c++) {
      const set = ((bits[c >>> 3] ?? 0) & (1 << (c & 7))) !== 0;
      if (set && start < 0) start = c;
      if (!set && start >= 0) {
        out.push([start, c - start]);
        start = -1;
      }
      // Skip whole clear bytes quickly: most runs touch no suspect cluster.
      if (start < 0 && (c & 7) === 7) {
        while (c + 8 < lcn + length && bits[(c + 1) >>> 3] === 0) c += 8;
      }
    }
    if (start >= 0) out.push([start, lcn + length - start]);
    return out;
  }

  /**
   * Compares with $Bitmap bytes covering clusters [first, first + bytes.length*8): ranges set on disk but not
   * claimed (lost) and claimed but clear on disk (unmarked) are appended; bits past the volume are ignored.
   */
  compareChunk(bytes: Uint8Array, firstByte: number, lost: RangeBuilder, unmarked: RangeBuilder): void {
    const end = Math.min(bytes.length, this.claimed.length - firstByte);
    for (let i = 0; i < end; i++) {
      const disk = bytes[i]!;
      const ours = this.claimed[firstByte + i]!;
      if (disk === ours) continue;
      const base = (firstByte + i) * 8;
      for (let bit = 0; bit < 8; bit++) {
        const c = base + bit;
        if (c >= this.totalClusters) break;
        const d = (disk >> bit) & 1;
        const o = (ours >> bit) & 1;
        if (d && !o) lost.add(c);
        else if (o && !d) unmarked.add(c);
      }
    }
  }
}

function popcount(x: number): number {
  let n = 0;
  while (x) {
    x &= x - 1;
    n++;
  }
  return n;
}

/** Collects single clusters given in increasing order into ranges; keeps `limit` ranges and counts all. */
export class RangeBuilder {
  readonly ranges: [number, number][] = [];
  total = 0;
  /** Every cluster added, as a bitset, when asked for (to find the owners later). */
  readonly bits: Uint8Array | null;

  constructor(
    private readonly limit: number,
    totalClusters = 0,
  ) {
    this.bits = totalClusters > 0 ? new Uint8Array(Math.ceil(totalClusters / 8)) : null;
  }

  add(c: number): void {
    this.total++;
    if (this.bits) this.bits[c >>> 3]! |= 1 << (c & 7);
    const last = this.ranges[this.ranges.length - 1];
    if (last && last[0] + last[1] === c) last[1]++;
    else if (this.ranges.length < this.limit) this.ranges.push([c, 1]);
  }
}
