// Runlists (mapping pairs) of non-resident attributes: flatcap linux-ntfs ntfs/concepts/data_runs.html;
// libfsntfs asciidoc §"Data runs"; ntfs-3g runlist.c (decoding rules only).
import { WinrescueError, hex } from '../../errors.js';

export interface DataRun {
  /** First virtual cluster of the run within the attribute. */
  readonly vcn: number;
  /** First logical cluster on the volume; null for a sparse run (reads as zeros). */
  readonly lcn: number | null;
  readonly length: number;
}

export interface RunlistWhere {
  /** Absolute offset of the runlist's first byte, for messages. */
  base: number;
  label: string;
  record?: number;
  /** Clusters in the volume: every run must end inside it. */
  totalClusters: number;
}

/** A run field is at most 8 bytes (a 64-bit count or offset). */
const MAX_FIELD_BYTES = 8;

function bad(where: RunlistWhere, pos: number, message: string, expected?: unknown, actual?: unknown): never {
  throw new WinrescueError(
    'ntfs.badRunlist',
    `${where.label}: runlist at ${hex(where.base + pos)}: ${message}`,
    {
      offset: where.base + pos,
      structure: 'ntfs.runlist',
      record: where.record,
      expected,
      actual,
    },
  );
}

/** Little-endian unsigned (signed = false) or two's-complement integer of `n` bytes, exact within 2^53. */
function readVarInt(b: Uint8Array, at: number, n: number, signed: boolean): number | null {
  // Up to 6 bytes fit a double exactly: plain arithmetic; 7 and 8 bytes go through BigInt.
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[at + i]!;
    if (signed && n > 0 && (b[at + n - 1]! & 0x80) !== 0) v -= 2 ** (8 * n);
    return v;
  }
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]!);
  if (signed && (b[at + n - 1]! & 0x80) !== 0) v -= 1n << BigInt(8 * n);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(v);
}

/**
 * Decodes the mapping pairs in b[start, end) for an attribute extent beginning at `startVcn`.
 * Every allocated run is checked to lie inside the volume; the list must stay inside its bytes.
 */
export function decodeRunlist(
  b: Uint8Array,
  start: number,
  end: number,
  startVcn: number,
  where: RunlistWhere,
): DataRun[] {
  const runs: DataRun[] = [];
  let pos = start;
  let vcn = startVcn;
  let lcn = 0;
  for (;;) {
    if (pos >= end) bad(where, pos - start, 'runs past the end of the attribute without a terminator');
    const header = b[pos]!;
    if (header === 0) break;
    const lenBytes = header & 0x0f;
    const offBytes = header >> 4;
    if (lenBytes === 0 || lenBytes > MAX_FIELD_BYTES || offBytes > MAX_FIELD_BYTES) {
      bad(
        where,
        pos - start,
        `run header ${hex(header)} is impossible`,
        'length 1..8, offset 0..8 bytes',
        header,
      );
    }
    if (pos + 1 + lenBytes + offBytes > end) bad(where, pos - start, 'run crosses the end of the attribute');
    const length = readVarInt(b, pos + 1, lenBytes, false);
    if (length === null || length <= 0)
      bad(where, pos - start, `run length ${length ?? 'huge'} is impossible`, '> 0', length);
    let runLcn: number | null = null;
    if (offBytes > 0) {
      const delta = readVarInt(b, pos + 1 + lenBytes, offBytes, true);
      if (delta === null) bad(where, pos - start, 'run offset is out of range');
      lcn += delta;
      if (lcn < 0 || lcn + length > where.totalClusters) {
        bad(
          where,
          pos - start,
          `run of ${length} clusters at LCN ${lcn} lies past the end of the volume (${where.totalClusters} clusters)`,
          `<= ${where.totalClusters}`,
          lcn + length,
        );
      }
      runLcn = lcn;
    }
    runs.push({ vcn, lcn: runLcn, length });
    vcn += length;
    if (!Number.isSafeInteger(vcn)) bad(where, pos - start, 'VCN overflows');
    pos += 1 + lenBytes + offBytes;
  }
  return runs;
}

/** The run holding `vcn` (binary search over runs sorted by VCN), or undefined past the last one. */
export function findRun(runs: readonly DataRun[], vcn: number): DataRun | undefined {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (vcn < r.vcn) hi = mid - 1;
    else if (vcn >= r.vcn + r.length) lo = mid + 1;
    else return r;
  }
  return undefined;
}

/** Encodes runs as mapping pairs (the writer's half), terminator included. */
export function encodeRunlist(runs: readonly DataRun[]): Uint8Array {
  const out: number[] = [];
  let prev = 0;
  const bytesOf = (v: bigint, signed: boolean): number[] => {
    const r: number[] = [];
    for (;;) {
      r.push(Number(v & 0xffn));
      v >>= 8n;
      const top = r[r.length - 1]!;
      if (signed ? (v === 0n && (top & 0x80) === 0) || (v === -1n && (top & 0x80) !== 0) : v === 0n) break;
    }
    return r;
  };
  for (const run of runs) {
    // Lengths are written with a clear top bit (as if signed): ntfs-3g rejects a length whose top byte has
    // the sign bit set (128 clusters as the single byte 0x80), and Windows never writes one.
    const len = bytesOf(BigInt(run.length), true);
    const off = run.lcn === null ? [] : bytesOf(BigInt(run.lcn - prev), true);
    if (run.lcn !== null) prev = run.lcn;
    out.push((off.length << 4) | len.length, ...len, ...off);
  }
  out.push(0);
  return Uint8Array.from(out);
}
