// The NTFS volume object: the only part of the reader that does I/O. It reads lazily (boot sector, $MFT
// record 0 and its extensions at open; records and index blocks on demand, through a bounded byte LRU) so a
// lookup over a remote disk touches only the structures on the path. Format notes: docs/formats/ntfs.md.
import { WinrescueError, hex, isWinrescueError } from '../../errors.js';
import type { BlockDevice } from '../../disk/block-device.js';
import { ATTR, attributeTypeName } from './attribute.js';
import type { BootSector } from './boot-sector.js';
import { readBootSector } from './boot-read.js';
import { ByteLru, DEFAULT_CACHE_BYTES } from './cache.js';
import { AttributeStream, isEncrypted, readRuns, readRunsBuffer, type ClusterIo } from './data-stream.js';
import { findAttribute, resolveFile, type NtfsFile, type ResolvedAttribute } from './file-record.js';
import { IndexTree } from './index-tree.js';
import { parseFileName, NAMESPACE, type FileName, type NamespaceName } from './attributes/file-name.js';
import { FILE_ATTRIBUTE } from './attributes/standard-information.js';
import { MFT_RECORD_IS_DIRECTORY, parseMftRecord, type MftRecord } from './mft-record.js';
import { decodeMftMap, UPCASE_RECORD } from './mft-map.js';
import { parseUpcase, UPCASE_BYTES } from './upcase.js';
import { parseReparsePoint, REPARSE_TAG, WOF_STREAM } from './attributes/reparse-point.js';
import type { DataRun } from './runlist.js';
import { summarizeMftRecord, type RecordSummary } from './record-summary.js';
import { findInDirectory, lookupPath } from './lookup.js';
import { statFile, type NtfsStat } from './stat.js';
import { walkBatches, walkVolume, type WalkItem, type WalkOptions } from './walk.js';
import { volumeInfo, type NtfsInfo } from './info.js';
import { lookupSecurityDescriptor } from './secure.js';
import type { SecurityDescriptor } from './attributes/security-descriptor.js';
import { SECURE_RECORD } from './mft-map.js';

export interface OpenNtfsOptions {
  /** Bytes of MFT records and index blocks kept in memory (default 8 MiB). */
  cacheBytes?: number;
  /** Volume name for messages (default: the device description). */
  label?: string;
}

/** Records read together by a batch may have gaps of up to this many unwanted records between them. */
const BATCH_GAP_RECORDS = 16;
const MAX_BATCH_BYTES = 1024 * 1024;
/** Record batches read concurrently (bounded: at most this many MiB in flight). */
const PARALLEL_BATCHES = 4;
/** Attribute lists, reparse points and similar metadata read whole: no real one comes near 16 MiB. */
const MAX_METADATA_ATTRIBUTE = 16 * 1024 * 1024;

export interface NtfsFileRef {
  readonly record: number;
  readonly sequence: number;
  /** The path as stored on disk (case preserved), with '/'. */
  readonly path: string;
  readonly name: string;
  readonly isDir: boolean;
}

export interface DirEntry {
  readonly name: string;
  readonly namespace: NamespaceName;
  readonly record: number;
  readonly sequence: number;
  readonly isDir: boolean;
  /** As copied into the index entry; Windows updates it lazily (stat and walk read the record). */
  readonly size: number;
  readonly parent: number;
}

/**
 * The volume's view of its device: a read past the end of a short image becomes `disk.truncated` naming the
 * volume size, instead of a bare out-of-range error.
 */
class VolumeIo implements ClusterIo {
  readonly device: BlockDevice;
  constructor(
    inner: BlockDevice,
    readonly clusterSize: number,
    readonly volumeBytes: number,
  ) {
    this.device = Object.create(inner, {
      read: {
        value: async (offset: number, length: number): Promise<Uint8Array> => {
          try {
            return await inner.read(offset, length);
          } catch (e) {
            if (isWinrescueError(e) && e.code === 'disk.outOfRange' && offset + length <= volumeBytes) {
              throw new WinrescueError(
                'disk.truncated',
                `${inner.description}: the image ends at ${hex(inner.size)} but the NTFS volume is ${volumeBytes} bytes; read at ${hex(offset)} of ${length} bytes fails`,
                { offset, structure: 'ntfs.volume', expected: volumeBytes, actual: inner.size, cause: e },
              );
            }
            throw e;
          }
        },
      },
    }) as BlockDevice;
  }
}

export class NtfsVolume {
  readonly io: VolumeIo;
  readonly cache: ByteLru<unknown>;
  private upcaseTable: Uint16Array | null = null;

  private constructor(
    readonly device: BlockDevice,
    io: VolumeIo,
    readonly boot: BootSector,
    private readonly mftRuns: readonly DataRun[],
    readonly mftRecordCount: number,
    /** Record 0 as read at open: from $MFTMirr when the $MFT copy is damaged (then a warning says so). */
    private readonly record0: MftRecord,
    private readonly record0Raw: Uint8Array,
    /** Things that were wrong but worked around at open ($MFTMirr used, backup boot sector used, short image). */
    readonly warnings: string[],
    cacheBytes: number,
  ) {
    this.io = io;
    this.cache = new ByteLru(cacheBytes);
  }

  get clusterSize(): number {
    return this.boot.clusterSize;
  }
  get recordSize(): number {
    return this.boot.mftRecordSize;
  }

  static async open(device: BlockDevice, options: OpenNtfsOptions = {}): Promise<NtfsVolume> {
    const warnings: string[] = [];
    const boot = await readBootSector(device, warnings);
    const volumeBytes = boot.totalSectors * boot.bytesPerSector;
    if (device.size < volumeBytes) {
      warnings.push(
        `the image holds ${device.size} bytes but the volume is ${volumeBytes}: reads past ${hex(device.size)} will fail`,
      );
    }
    const io = new VolumeIo(device, boot.clusterSize, volumeBytes);
    const map = await decodeMftMap(io, boot, warnings);
    return new NtfsVolume(
      device,
      io,
      boot,
      map.runs,
      map.recordCount,
      map.record0,
      map.record0Raw,
      warnings,
      options.cacheBytes ?? DEFAULT_CACHE_BYTES,
    );
  }

  /** Absolute device offset of record `n` (its first byte). */
  recordOffset(n: number): number {
    const off = n * this.recordSize;
    const vcn = Math.floor(off / this.clusterSize);
    const run = this.mftRuns.find((r) => vcn >= r.vcn && vcn < r.vcn + r.length);
    return run && run.lcn !== null ? run.lcn * this.clusterSize + (off - run.vcn * this.clusterSize) : -1;
  }

  private checkRecordNumber(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0 || n >= this.mftRecordCount) {
      throw new WinrescueError(
        'ntfs.badRecord',
        `MFT record ${n} lies past the end of $MFT (${this.mftRecordCount} records)`,
        {
          structure: 'ntfs.mftRecord',
          record: Number.isSafeInteger(n) ? n : undefined,
          expected: `< ${this.mftRecordCount}`,
          actual: n,
        },
      );
    }
  }

  private async readBytes(
    runs: readonly DataRun[],
    offset: number,
    out: Uint8Array,
    label: string,
    record: number,
  ): Promise<void> {
    await readRuns(this.io, runs, offset, out, { label, record });
  }

  private parseRecord(raw: Uint8Array, n: number): MftRecord {
    const rec = parseMftRecord(raw, n, this.recordOffset(n), this.boot.totalClusters);
    if (rec.storedNumber !== null && rec.storedNumber !== n && rec.storedNumber !== 0) {
      throw new WinrescueError(
        'ntfs.badRecord',
        `MFT record ${n} at ${hex(rec.offset)} says it is record ${rec.storedNumber}`,
        {
          offset: rec.offset + 44,
          structure: 'ntfs.mftRecord',
          record: n,
          expected: n,
          actual: rec.storedNumber,
        },
      );
    }
    return rec;
  }

  /** One MFT record, fixups undone and attributes parsed (cached). */
  async readRecord(n: number): Promise<MftRecord> {
    this.checkRecordNumber(n);
    if (n === 0) return this.record0;
    const key = `r:${n}`;
    const hit = this.cache.get(key) as MftRecord | undefined;
    if (hit) return hit;
    const raw = new Uint8Array(this.recordSize);
    await this.readBytes(this.mftRuns, n * this.recordSize, raw, `MFT record ${n}`, n);
    const rec = this.parseRecord(raw, n);
    this.cache.set(key, rec, this.recordSize);
    return rec;
  }

  /**
   * Several records with as few device reads as possible (nearby numbers are read as one range); each is a
   * record or the error that record gave. Nothing is cached, so a walk does not flush the cache.
   */
  async readRecords(numbers: readonly number[]): Promise<Map<number, MftRecord | WinrescueError>> {
    return this.readRecordsWith(numbers, (raw, n) => this.parseRecord(raw.slice(), n));
  }

  /**
   * What a listing needs of each record (`summarizeMftRecord`); directories also come fully parsed, as the
   * walk opens them next.
   */
  async readRecordSummaries(
    numbers: readonly number[],
  ): Promise<Map<number, { summary: RecordSummary; record?: MftRecord } | WinrescueError>> {
    return this.readRecordsWith(numbers, (raw, n) => {
      const copy = (raw[22]! & MFT_RECORD_IS_DIRECTORY) !== 0 ? raw.slice() : null;
      const summary = summarizeMftRecord(raw, n, this.recordOffset(n));
      return copy && summary.i30RootSize >= 0 ? { summary, record: this.parseRecord(copy, n) } : { summary };
    });
  }

  /** `count` records from `first` as one buffer (fixups still in place), for sequential scans. */
  async readMftBytes(first: number, count: number): Promise<Uint8Array> {
    const rs = this.recordSize;
    return readRunsBuffer(this.io, this.mftRuns, first * rs, count * rs, {
      label: `MFT records ${first}..${first + count - 1}`,
      record: first,
    });
  }

  /** Parses record `n` from bytes as read (the bytes are modified), or the typed error it gives. */
  parseRecordBytes(raw: Uint8Array, n: number): MftRecord | WinrescueError {
    try {
      return n === 0 ? this.parseRecord(this.record0Raw.slice(), 0) : this.parseRecord(raw, n);
    } catch (e) {
      return this.asError(e);
    }
  }

  /** Reads records in batches (nearby numbers in one device read) and hands each to `parse`. */
  private async readRecordsWith<T>(
    numbers: readonly number[],
    parse: (raw: Uint8Array, n: number) => T,
  ): Promise<Map<number, T | WinrescueError>> {
    const out = new Map<number, T | WinrescueError>();
    const sorted = [...new Set(numbers)].sort((a, b) => a - b);
    const rs = this.recordSize;
    const attempt = (raw: Uint8Array, n: number): T | WinrescueError => {
      try {
        return parse(raw, n);
      } catch (e) {
        return this.asError(e);
      }
    };
    const groups: number[][] = [];
    let i = 0;
    while (i < sorted.length) {
      const first = sorted[i]!;
      if (first < 0 || first >= this.mftRecordCount || first === 0) {
        i++;
        if (first === 0) out.set(0, attempt(this.record0Raw.slice(), 0));
        else
          try {
            this.checkRecordNumber(first);
          } catch (e) {
            out.set(first, this.asError(e));
          }
        continue;
      }
      let j = i;
      while (
        j + 1 < sorted.length &&
        sorted[j + 1]! < this.mftRecordCount &&
        sorted[j + 1]! - sorted[j]! <= BATCH_GAP_RECORDS &&
        (sorted[j + 1]! - first + 1) * rs <= MAX_BATCH_BYTES
      )
        j++;
      groups.push(sorted.slice(i, j + 1));
      i = j + 1;
    }
    const readGroup = async (group: number[]): Promise<void> => {
      const first = group[0]!;
      const last = group[group.length - 1]!;
      let buf: Uint8Array;
      try {
        buf = await readRunsBuffer(this.io, this.mftRuns, first * rs, (last - first + 1) * rs, {
          label: `MFT records ${first}..${last}`,
          record: first,
        });
      } catch {
        // One bad stretch (a truncated image) must not cost the records before it: read them one by one.
        for (const n of group) {
          const one = new Uint8Array(rs);
          try {
            await this.readBytes(this.mftRuns, n * rs, one, `MFT record ${n}`, n);
            out.set(n, attempt(one, n));
          } catch (e) {
            out.set(n, this.asError(e));
          }
        }
        return;
      }
      // Views: a parser that keeps the bytes (parseRecord) copies them first, so no batch buffer is pinned.
      for (const n of group) out.set(n, attempt(buf.subarray((n - first) * rs, (n - first + 1) * rs), n));
    };
    // A few reads in flight at once: local disks and HTTP range requests both overlap well.
    for (let g = 0; g < groups.length; g += PARALLEL_BATCHES) {
      await Promise.all(groups.slice(g, g + PARALLEL_BATCHES).map(readGroup));
    }
    return out;
  }

  private asError(e: unknown): WinrescueError {
    if (isWinrescueError(e)) return e;
    return new WinrescueError('internal', `unexpected failure: ${(e as Error)?.message ?? String(e)}`, {
      cause: e,
    });
  }

  /** Bytes of a non-resident attribute (attribute lists, bitmaps): all of them. */
  private readAttribute = async (
    attr: ResolvedAttribute,
    record: number,
    limit = MAX_METADATA_ATTRIBUTE,
  ): Promise<Uint8Array> =>
    new AttributeStream(this.io, attr, {
      label: `record ${record} attribute 0x${attr.type.toString(16)}`,
      record,
    }).readAllAtMost(limit, attributeTypeName(attr.type));

  /** The file with record number `n`: base record plus extension records, attributes joined. */
  async file(n: number, base?: MftRecord): Promise<NtfsFile> {
    const rec = base ?? (await this.readRecord(n));
    if (!rec.inUse) {
      throw new WinrescueError('ntfs.notFound', `MFT record ${n} at ${hex(rec.offset)} is not in use`, {
        structure: 'ntfs.mftRecord',
        record: n,
        offset: rec.offset,
      });
    }
    if (rec.baseReference.record !== 0) {
      throw new WinrescueError(
        'ntfs.badRecord',
        `MFT record ${n} is an extension of record ${rec.baseReference.record}, not a file`,
        {
          structure: 'ntfs.mftRecord',
          record: n,
          offset: rec.offset,
          actual: rec.baseReference.record,
        },
      );
    }
    return resolveFile(
      rec,
      (m) => this.readRecord(m),
      (a) => this.readAttribute(a, n),
    );
  }

  /** The volume's $UpCase table, read once. */
  async upcase(): Promise<Uint16Array> {
    if (this.upcaseTable) return this.upcaseTable;
    const f = await this.file(UPCASE_RECORD);
    const data = findAttribute(f, ATTR.DATA);
    if (!data)
      throw new WinrescueError('ntfs.badAttribute', '$UpCase (record 10) has no $DATA', {
        record: UPCASE_RECORD,
        structure: 'ntfs.upcase',
      });
    this.upcaseTable = parseUpcase(await this.readAttribute(data, UPCASE_RECORD, UPCASE_BYTES));
    return this.upcaseTable;
  }

  /** The named index of a file ('$I30' for directories). */
  async index(file: NtfsFile, name = '$I30'): Promise<IndexTree> {
    return new IndexTree(this, file, name);
  }

  get clusterIo(): ClusterIo {
    return this.io;
  }

  /** Finds `name` in directory `dir` by walking its $I30 B+ tree (case-insensitive, exact case preferred). */
  findInDirectory(
    dir: NtfsFile,
    name: string,
  ): Promise<{ entry: FileName; record: number; sequence: number } | null> {
    return findInDirectory(this, dir, name);
  }

  /** Resolves a path ('/' or '\\' separated, case-insensitive) from the root directory. */
  lookup(path: string): Promise<NtfsFileRef> {
    return lookupPath(this, path);
  }

  /** Entries of directory `record` in collation order; DOS 8.3 duplicates are skipped unless asked for. */
  async *readdir(record: number, options: { includeDos?: boolean } = {}): AsyncGenerator<DirEntry> {
    const dir = await this.file(record);
    const tree = await this.index(dir);
    for await (const e of tree.entries()) {
      const fn = parseFileName(e.key, record);
      if (fn.namespace === NAMESPACE.DOS && !options.includeDos) continue;
      const ref = e.fileReference!;
      // The root lists itself as "."; no directory is its own child.
      if (ref.record === record) continue;
      yield {
        name: fn.name,
        namespace: fn.namespaceName,
        record: ref.record,
        sequence: ref.sequence,
        isDir: (fn.fileAttributes & FILE_ATTRIBUTE.DUP_FILE_NAME_INDEX_PRESENT) !== 0,
        size: fn.dataSize,
        parent: fn.parent.record,
      };
    }
  }

  /** A $DATA stream ('' = the unnamed one) of a file, for random-access reads. */
  async openStream(record: number, streamName = ''): Promise<AttributeStream> {
    const file = await this.file(record);
    const data = findAttribute(file, ATTR.DATA, streamName);
    const rpAttr = findAttribute(file, ATTR.REPARSE_POINT);
    if (streamName === '' && rpAttr) {
      const rpBytes = rpAttr.resident ? rpAttr.value! : await this.readAttribute(rpAttr, record);
      const rp = parseReparsePoint(rpBytes, record);
      if (rp.tag === REPARSE_TAG.WOF) {
        const how = rp.wof?.algorithm ?? (rp.wof?.provider === 'wim' ? 'WIM-backed' : 'unknown algorithm');
        const hasStream = findAttribute(file, ATTR.DATA, WOF_STREAM) !== undefined;
        throw new WinrescueError(
          'ntfs.unsupported',
          `record ${record} is WOF-compressed (${how}${hasStream ? `, data in :${WOF_STREAM}` : ''}); decompression not supported`,
          {
            structure: 'ntfs.reparsePoint',
            record,
            actual: how,
          },
        );
      }
    }
    if (!data) {
      if (streamName === '' && findAttribute(file, ATTR.INDEX_ROOT, '$I30')) {
        throw new WinrescueError('ntfs.isADirectory', `record ${record} is a directory`, { record });
      }
      throw new WinrescueError(
        'ntfs.notFound',
        `record ${record} has no ${streamName ? `stream "${streamName}"` : 'unnamed data stream'}`,
        { record },
      );
    }
    if (isEncrypted(data)) {
      throw new WinrescueError(
        'ntfs.unsupported',
        `record ${record} stream "${streamName}" is EFS-encrypted; cannot be read`,
        { record, structure: 'ntfs.attribute' },
      );
    }
    return new AttributeStream(this.io, data, {
      label: `record ${record}${streamName ? ` stream "${streamName}"` : ''}`,
      record,
    });
  }

  /** Reads a whole file by path. */
  async readFile(path: string, streamName = ''): Promise<Uint8Array> {
    const ref = await this.lookup(path);
    return (await this.openStream(ref.record, streamName)).readAll();
  }

  /** Names, sizes, times, attributes, streams of record `n` (paths resolved through the parent chain). */
  async stat(record: number, options: { paths?: boolean } = {}): Promise<NtfsStat> {
    return statFile(this, await this.file(record), options.paths ?? true);
  }

  /** Recursive listing under `rootPath`: values, or errors for the parts that could not be read. */
  walk(rootPath = '/', options: WalkOptions = {}): AsyncGenerator<WalkItem> {
    return walkVolume(this, rootPath, options);
  }

  /**
   * The same listing as walk(), one array per directory (entries of a directory, or the error that stopped
   * it): far fewer promise hand-offs for callers that list whole volumes.
   */
  walkBatches(rootPath = '/', options: WalkOptions = {}): AsyncGenerator<WalkItem[]> {
    return walkBatches(this, rootPath, options);
  }

  /** Version, label, dirty flag, $LogFile state, hibernation: read on first call, then kept. */
  async info(): Promise<NtfsInfo> {
    this.infoCache ??= volumeInfo(this);
    return this.infoCache;
  }
  private infoCache: Promise<NtfsInfo> | undefined;

  /** The security descriptor a $STANDARD_INFORMATION security id names, from $Secure ($SII, $SDS). */
  async securityDescriptor(securityId: number): Promise<SecurityDescriptor | null> {
    const secure = await this.file(SECURE_RECORD);
    const sds = findAttribute(secure, ATTR.DATA, '$SDS');
    if (!sds)
      throw new WinrescueError('ntfs.badAttribute', '$Secure (record 9) has no $SDS stream', {
        record: SECURE_RECORD,
        structure: 'ntfs.secure',
      });
    const stream = new AttributeStream(this.io, sds, { label: '$Secure:$SDS', record: SECURE_RECORD });
    return lookupSecurityDescriptor(await this.index(secure, '$SII'), stream, securityId);
  }

  /**
   * Every MFT record in order (lenient): `{ value }` for a parsed record, `{ error, offset }` for a damaged
   * one; unused (never written) records are skipped. Reads in batches.
   */
  async *records(
    from = 0,
    to = this.mftRecordCount,
  ): AsyncGenerator<{ value: MftRecord } | { error: WinrescueError; offset: number; record: number }> {
    const perBatch = Math.max(1, Math.floor(MAX_BATCH_BYTES / this.recordSize));
    for (let n = from; n < Math.min(to, this.mftRecordCount); n += perBatch) {
      const batch = Array.from({ length: Math.min(perBatch, to - n) }, (_, i) => n + i);
      const got = await this.readRecords(batch);
      for (const m of batch) {
        const r = got.get(m)!;
        if (r instanceof WinrescueError) {
          if (r.structure === 'ntfs.mftRecord' && r.actual === '\0\0\0\0') continue;
          yield { error: r, offset: this.recordOffset(m), record: m };
        } else yield { value: r };
      }
    }
  }
}

export async function openNtfs(device: BlockDevice, options: OpenNtfsOptions = {}): Promise<NtfsVolume> {
  return NtfsVolume.open(device, options);
}
