// One sequential pass over the whole $MFT for a whole-volume listing: large reads in MFT order instead of
// one batch per directory, each record summarized (record-summary.ts) into typed arrays — a few bytes per
// record, so 200,000 records cost ~5 MB. Records that need more (named streams or indexes, attribute lists,
// damage) keep their full summary or error.
import { WinrescueError } from '../../errors.js';
import { newScanSlot, scanMftRecord, summarizeMftRecord, type RecordSummary } from './record-summary.js';
import { MFT_RECORD_IN_USE, MFT_RECORD_IS_DIRECTORY, type MftRecord } from './mft-record.js';
import type { NtfsVolume } from './volume.js';

/** Bytes per sequential read of the $MFT. */
const SCAN_CHUNK = 1024 * 1024;
/** Chunks read at once. */
const SCAN_PARALLEL = 4;

const VALID = 1;
const IN_USE = 2;
const BASE = 4;
const HAS_DATA = 8;
const RESIDENT = 16;
const COMPRESSED = 32;
const SPARSE = 64;
const ENCRYPTED = 128;

export class MftScan {
  private readonly flags: Uint8Array;
  private readonly sequence: Uint16Array;
  private readonly size: Float64Array;
  private readonly allocated: Float64Array;
  /** $I30 root size, -1 for no $I30. */
  private readonly i30: Int32Array;
  /** Records the arrays cannot describe: named streams or indexes, attribute lists. */
  private readonly full = new Map<number, RecordSummary>();
  /** Directory records as read (before fixups), parsed when the walk opens them. */
  private readonly dirRaw = new Map<number, Uint8Array>();

  private constructor(
    private readonly vol: NtfsVolume,
    readonly count: number,
  ) {
    this.flags = new Uint8Array(count);
    this.sequence = new Uint16Array(count);
    this.size = new Float64Array(count);
    this.allocated = new Float64Array(count);
    this.i30 = new Int32Array(count);
  }

  static async run(vol: NtfsVolume): Promise<MftScan> {
    const scan = new MftScan(vol, vol.mftRecordCount);
    const rs = vol.recordSize;
    const per = Math.max(1, Math.floor(SCAN_CHUNK / rs));
    const starts: number[] = [];
    for (let n = 0; n < scan.count; n += per) starts.push(n);
    for (let i = 0; i < starts.length; i += SCAN_PARALLEL) {
      await Promise.all(
        starts.slice(i, i + SCAN_PARALLEL).map(async (first) => {
          const count = Math.min(per, scan.count - first);
          let buf: Uint8Array;
          try {
            buf = await vol.readMftBytes(first, count);
          } catch {
            return; // left invalid: the walk reads these records one by one and reports their errors
          }
          for (let k = 0; k < count; k++) scan.add(first + k, buf.subarray(k * rs, (k + 1) * rs));
        }),
      );
    }
    return scan;
  }

  private readonly slot = newScanSlot();

  private add(n: number, raw: Uint8Array): void {
    if (raw[0] !== 0x46) return; // not "FILE": unused or damaged, decided later by a direct read
    const dir = (raw[22]! & MFT_RECORD_IS_DIRECTORY) !== 0 ? raw.slice() : null;
    const s = this.slot;
    const offset = this.vol.recordOffset(n);
    try {
      scanMftRecord(raw, n, offset, s);
      if (s.needsFull) this.full.set(n, summarizeMftRecord(raw, n, offset, true));
    } catch {
      return;
    }
    let f = VALID | ((s.flags & MFT_RECORD_IN_USE) !== 0 ? IN_USE : 0) | (s.baseRecord === 0 ? BASE : 0);
    if (s.hasData) {
      f |= HAS_DATA | (s.resident ? RESIDENT : 0) | (s.compressed ? COMPRESSED : 0);
      f |= (s.sparse ? SPARSE : 0) | (s.encrypted ? ENCRYPTED : 0);
      this.size[n] = s.size;
      this.allocated[n] = s.allocated;
    }
    this.flags[n] = f;
    this.sequence[n] = s.sequence;
    this.i30[n] = s.i30RootSize;
    if (dir && s.i30RootSize >= 0) this.dirRaw.set(n, dir);
  }

  /** Whether the scan could read record `n` (else the caller reads it directly for the error). */
  has(n: number): boolean {
    return n >= 0 && n < this.count && (this.flags[n]! & VALID) !== 0;
  }

  summary(n: number): RecordSummary {
    const full = this.full.get(n);
    if (full) return full;
    const f = this.flags[n]!;
    return {
      record: n,
      offset: this.vol.recordOffset(n),
      sequence: this.sequence[n]!,
      inUse: (f & IN_USE) !== 0,
      isDirectory: this.i30[n]! >= 0,
      baseRecord: (f & BASE) !== 0 ? 0 : -1,
      hasAttributeList: false,
      streams:
        (f & HAS_DATA) !== 0
          ? [
              {
                name: '',
                size: this.size[n]!,
                allocatedSize: this.allocated[n]!,
                resident: (f & RESIDENT) !== 0,
                compressed: (f & COMPRESSED) !== 0,
                sparse: (f & SPARSE) !== 0,
                encrypted: (f & ENCRYPTED) !== 0,
              },
            ]
          : [],
      indexes: [],
      i30RootSize: this.i30[n]!,
    };
  }

  /** The directory record `n` fully parsed (from the bytes the scan kept), or undefined. */
  directory(n: number): MftRecord | WinrescueError | undefined {
    const raw = this.dirRaw.get(n);
    if (!raw) return undefined;
    this.dirRaw.delete(n);
    return this.vol.parseRecordBytes(raw, n);
  }
}
