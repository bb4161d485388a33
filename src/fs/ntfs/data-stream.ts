// Reading an attribute's bytes: resident values, runlists with sparse runs, the initialized (valid) size
// below which data was written, and LZNT1 compression units: flatcap linux-ntfs ntfs/concepts/data_runs.html,
// compression.html; libfsntfs asciidoc §"Compression".
import { WinrescueError } from '../../errors.js';
import type { BlockDevice } from '../../disk/block-device.js';
import { findRun, type DataRun } from './runlist.js';
import { decompressLznt1 } from './lznt1.js';
import type { ResolvedAttribute } from './file-record.js';
import { ATTR_FLAG_COMPRESSED_MASK, ATTR_FLAG_ENCRYPTED, ATTR_FLAG_SPARSE } from './attribute.js';

export interface ClusterIo {
  readonly device: BlockDevice;
  readonly clusterSize: number;
}

/** Reads are split into device requests of at most this size, to bound memory for huge files. */
const MAX_DEVICE_READ = 16 * 1024 * 1024;
/** One read() call returns at most this much: callers stream bigger files in pieces. */
export const MAX_SINGLE_READ = 1024 * 1024 * 1024;
/** Compression units are 16 clusters in practice; refuse units over 64 MiB (2^16 * 1 KiB) as corrupt. */
const MAX_UNIT_BYTES = 64 * 1024 * 1024;

export interface StreamLabel {
  label: string;
  record: number;
}

function noRun(where: StreamLabel, vcn: number, runs: readonly DataRun[]): never {
  const last = runs[runs.length - 1];
  throw new WinrescueError(
    'ntfs.badRunlist',
    `${where.label}: no run maps VCN ${vcn} (runs end at VCN ${last ? last.vcn + last.length : 0})`,
    {
      structure: 'ntfs.runlist',
      record: where.record,
      expected: `run covering VCN ${vcn}`,
      actual: last ? last.vcn + last.length : 0,
    },
  );
}

/**
 * Bytes [offset, offset+length) of the clusters mapped by `runs`: the device's own buffer when one read covers
 * it all (no copy), else assembled by readRuns.
 */
export async function readRunsBuffer(
  io: ClusterIo,
  runs: readonly DataRun[],
  offset: number,
  length: number,
  where: StreamLabel,
): Promise<Uint8Array> {
  const cs = io.clusterSize;
  const run = length > 0 && length <= MAX_DEVICE_READ ? findRun(runs, Math.floor(offset / cs)) : undefined;
  if (run && run.lcn !== null && offset + length <= (run.vcn + run.length) * cs) {
    return io.device.read(run.lcn * cs + (offset - run.vcn * cs), length);
  }
  const out = new Uint8Array(length);
  await readRuns(io, runs, offset, out, where);
  return out;
}

/**
 * Copies bytes [offset, offset+out.length) of the clusters mapped by `runs` into `out`; sparse runs read as
 * zeros. Adjacent runs that are contiguous on disk become one device read.
 */
export async function readRuns(
  io: ClusterIo,
  runs: readonly DataRun[],
  offset: number,
  out: Uint8Array,
  where: StreamLabel,
): Promise<void> {
  const cs = io.clusterSize;
  let done = 0;
  while (done < out.length) {
    const pos = offset + done;
    const vcn = Math.floor(pos / cs);
    const run = findRun(runs, vcn);
    if (!run) noRun(where, vcn, runs);
    const runEnd = (run.vcn + run.length) * cs;
    const n = Math.min(out.length - done, runEnd - pos, MAX_DEVICE_READ);
    if (run.lcn === null) {
      out.fill(0, done, done + n);
    } else {
      const dev = run.lcn * cs + (pos - run.vcn * cs);
      out.set(await io.device.read(dev, n), done);
    }
    done += n;
  }
}

export function isCompressed(a: ResolvedAttribute): boolean {
  return !a.resident && (a.flags & ATTR_FLAG_COMPRESSED_MASK) !== 0 && a.compressionUnit > 0;
}
export function isSparse(a: ResolvedAttribute): boolean {
  return (a.flags & ATTR_FLAG_SPARSE) !== 0;
}
export function isEncrypted(a: ResolvedAttribute): boolean {
  return (a.flags & ATTR_FLAG_ENCRYPTED) !== 0;
}

/** An open attribute: random-access reads within its data size. */
export class AttributeStream {
  readonly size: number;
  private readonly unitBytes: number;
  private lastUnit: { index: number; bytes: Uint8Array } | null = null;

  constructor(
    private readonly io: ClusterIo,
    readonly attribute: ResolvedAttribute,
    private readonly where: StreamLabel,
  ) {
    if (attribute.runlistError) throw attribute.runlistError;
    this.size = attribute.dataSize;
    this.unitBytes = isCompressed(attribute) ? io.clusterSize * 2 ** attribute.compressionUnit : 0;
    if (this.unitBytes > MAX_UNIT_BYTES) {
      throw new WinrescueError(
        'ntfs.badAttribute',
        `${where.label}: compression unit of ${this.unitBytes} bytes is impossible`,
        {
          structure: 'ntfs.attribute',
          record: where.record,
          actual: this.unitBytes,
        },
      );
    }
  }

  /** Bytes [offset, offset+length) clipped to the data size. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new WinrescueError('internal', `${this.where.label}: bad read range ${offset}+${length}`, {
        record: this.where.record,
      });
    }
    const end = Math.min(this.size, offset + length);
    if (end <= offset) return new Uint8Array(0);
    if (end - offset > MAX_SINGLE_READ) {
      throw new WinrescueError(
        'ntfs.unsupported',
        `${this.where.label}: a read of ${end - offset} bytes at once exceeds ${MAX_SINGLE_READ}; read it in pieces`,
        {
          record: this.where.record,
          actual: end - offset,
        },
      );
    }
    const out = new Uint8Array(end - offset);
    const a = this.attribute;
    if (a.resident) {
      out.set(a.value!.subarray(offset, end));
      return out;
    }
    if (this.unitBytes > 0) {
      await this.readCompressed(offset, out);
    } else {
      // Past the initialized size the clusters hold whatever was there: Windows returns zeros.
      const valid = Math.min(end, a.initializedSize);
      if (valid > offset)
        await readRuns(this.io, a.runs, offset, out.subarray(0, valid - offset), this.where);
    }
    return out;
  }

  async readAll(): Promise<Uint8Array> {
    return this.read(0, this.size);
  }

  /** All bytes, refusing (typed) when the attribute claims more than `limit`: for metadata of bounded size. */
  async readAllAtMost(limit: number, what: string): Promise<Uint8Array> {
    if (this.size > limit) {
      throw new WinrescueError(
        'ntfs.badAttribute',
        `${this.where.label}: ${what} claims ${this.size} bytes, more than the ${limit} it can hold`,
        {
          record: this.where.record,
          structure: 'ntfs.attribute',
          expected: `<= ${limit}`,
          actual: this.size,
        },
      );
    }
    return this.readAll();
  }

  private async readCompressed(offset: number, out: Uint8Array): Promise<void> {
    const ub = this.unitBytes;
    const end = offset + out.length;
    for (let u = Math.floor(offset / ub); u * ub < end; u++) {
      const unit = await this.unit(u);
      const from = Math.max(offset, u * ub);
      const to = Math.min(end, (u + 1) * ub);
      out.set(unit.subarray(from - u * ub, to - u * ub), from - offset);
    }
    const valid = this.attribute.initializedSize;
    if (valid < end) out.fill(0, Math.max(0, valid - offset));
  }

  /**
   * One compression unit: all sparse = zeros; all clusters allocated = stored uncompressed; otherwise the
   * allocated clusters at its start hold LZNT1 chunks (the sparse tail marks how much was saved).
   */
  private async unit(index: number): Promise<Uint8Array> {
    if (this.lastUnit?.index === index) return this.lastUnit.bytes;
    const cs = this.io.clusterSize;
    const clusters = this.unitBytes / cs;
    const firstVcn = index * clusters;
    let allocated = 0;
    let mapped = 0;
    for (let vcn = firstVcn; vcn < firstVcn + clusters;) {
      const run = findRun(this.attribute.runs, vcn);
      if (!run) break;
      const n = Math.min(run.vcn + run.length, firstVcn + clusters) - vcn;
      if (run.lcn !== null) allocated += n;
      mapped += n;
      vcn += n;
    }
    const bytes = new Uint8Array(this.unitBytes);
    if (mapped === 0 && firstVcn * cs < this.attribute.dataSize)
      noRun(this.where, firstVcn, this.attribute.runs);
    if (allocated === clusters) {
      await readRuns(this.io, this.attribute.runs, firstVcn * cs, bytes, this.where);
    } else if (allocated > 0) {
      const src = new Uint8Array(allocated * cs);
      await readRuns(this.io, this.attribute.runs, firstVcn * cs, src, this.where);
      decompressLznt1(src, bytes, {
        label: `${this.where.label}, compression unit ${index} (VCN ${firstVcn})`,
        base: 0,
        record: this.where.record,
      });
    }
    this.lastUnit = { index, bytes };
    return bytes;
  }
}
