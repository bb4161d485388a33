// The NTFS writer: changes a volume through any BlockDevice (a file, a journaled device, an overlay). Every
// operation plans in memory first (record rebuilt, clusters allocated in a bitmap copy) so a refusal or an
// `ntfs.full` leaves the device untouched, then writes data, $Bitmap, the record (and its $MFTMirr copy), and the
// duplicated $FILE_NAME information in parent indexes. After each operation the reader is reopened, so no cache
// holds bytes we replaced. Format notes and what is supported: docs/formats/ntfs-write.md.
import { WinrescueError, isWinrescueError } from '../../../errors.js';
import type { BlockDevice } from '../../../disk/block-device.js';
import { setU16, setU64 } from '../../../util/bytes.js';
import { parseStandardInformation } from '../attributes/standard-information.js';
import type { NtfsFile } from '../file-record.js';
import type { NtfsFileRef } from '../volume.js';
import { I30Editor } from './index-insert.js';
import { applyWrites, planMftExtension } from './mft-extend.js';
import { renamePath, unlinkPath } from './names.js';
import { quarantineRecord, type QuarantineOptions, type QuarantineReport } from './quarantine.js';
import {
  existingFileReport,
  readFileLike,
  resolveLike,
  type FileLike,
  type NewFileIdentity,
  type WriteFileOptions,
  type WriteFileReport,
} from './file-like.js';
import { loadMftBitmap, pickFreeRecord, setRecordUsed, type MftBitmap } from './mft-bitmap.js';
import {
  checkWin32Name,
  emptyRecord,
  FILE_ATTRIBUTES_NEW_FILE,
  FILE_NAME_DIRECTORY,
  fileNameValue,
  NAMESPACE_WIN32,
  newRecordAttributes,
  standardInformation,
} from './new-record.js';
import {
  ATTR,
  ATTR_FLAG_COMPRESSED_MASK,
  ATTR_FLAG_ENCRYPTED,
  ATTR_FLAG_SPARSE,
  type Attribute,
} from '../attribute.js';
import { parseFileName } from '../attributes/file-name.js';
import { findAttribute } from '../file-record.js';
import { applyFixupsOnWrite } from '../fixup.js';
import type { MftRecord } from '../mft-record.js';
import type { DataRun } from '../runlist.js';
import { openNtfs, type NtfsVolume } from '../volume.js';
import { ClusterBitmap, mergeRuns, splitRuns } from './cluster-bitmap.js';
import { DirectoryIndex, setKeyInfo } from './index-edit.js';
import {
  align8,
  attributeBytes,
  nonResidentAttribute,
  rebuildRecord,
  recordBytesNeeded,
  RECORD_NEXT_ATTRIBUTE_ID_FIELD,
  residentAttribute,
} from './record-builder.js';
import { writeThroughRuns } from './run-io.js';
import { refuseBitLocker, refuseUnsafe, type NtfsWriteForce } from './safety.js';

const MFT_MIRR_RECORD = 1;
const BITMAP_RECORD = 6;
const LOGFILE_RECORD = 2;
/** A $LogFile filled with 0xFF has no restart area: clean, nothing to replay (ntfs-3g's reset). */
const LOG_EMPTY_BYTE = 0xff;
/** $MFTMirr mirrors at most the first 4 records (flatcap files/mftmirr.html). */
const MIRRORED_RECORDS = 4;
/** FILETIME: 100 ns ticks since 1601-01-01; Unix epoch offset in those ticks. */
const FILETIME_UNIX_EPOCH = 116444736000000000n;
const TICKS_PER_MS = 10000n;
/** $STANDARD_INFORMATION times: created @0, modified @8, MFT changed @16, accessed @24. */
const SI_MODIFIED = 8;
const SI_MFT_CHANGED = 16;
const SI_ACCESSED = 24;
/** Siblings looked at for a security id (the first of the same kind wins). */
const MAX_SIBLINGS_PROBED = 64;
/** $Secure and 72-byte $STANDARD_INFORMATION came with NTFS 3.0. */
const NTFS_3 = 3;
/** A single write of file data is split into pieces of this size (bounded memory for big files). */
const WRITE_PIECE = 4 * 1024 * 1024;

export interface OpenNtfsWriterOptions {
  force?: NtfsWriteForce;
  /** Clock for new times (tests pin it). */
  now?: () => Date;
}

export function filetime(d: Date): bigint {
  return BigInt(d.getTime()) * TICKS_PER_MS + FILETIME_UNIX_EPOCH;
}

export class NtfsWriter {
  private constructor(
    readonly device: BlockDevice,
    private vol: NtfsVolume,
    private readonly now: () => Date,
  ) {}

  static async open(device: BlockDevice, options: OpenNtfsWriterOptions = {}): Promise<NtfsWriter> {
    await refuseBitLocker(device);
    const vol = await openNtfs(device);
    const info = await vol.info();
    refuseUnsafe(info, options.force ?? {}, device.description);
    if (device.readOnly) {
      throw new WinrescueError('disk.readOnly', `${device.description} is opened read-only`, {});
    }
    const w = new NtfsWriter(device, vol, options.now ?? (() => new Date()));
    // Forced past a log that is not clean: its transactions are discarded now, or Windows would replay them
    // over our changes at the next mount. An all-0xFF log is what ntfs-3g leaves too; Windows starts afresh.
    if (info.logfile.state !== 'clean' && info.logfile.state !== 'empty') await w.resetLogFile();
    return w;
  }

  private async resetLogFile(): Promise<void> {
    const runs = await this.runsOf(LOGFILE_RECORD, ATTR.DATA);
    const size = (await this.vol.openStream(LOGFILE_RECORD)).size;
    const piece = new Uint8Array(Math.min(size, WRITE_PIECE)).fill(LOG_EMPTY_BYTE);
    for (let at = 0; at < size; at += piece.length) {
      await writeThroughRuns(
        this.device,
        this.vol.clusterSize,
        runs,
        at,
        piece.subarray(0, Math.min(piece.length, size - at)),
        '$LogFile',
      );
    }
    this.vol = await openNtfs(this.device);
  }

  /** The reader over the current state (reopened after every operation). */
  get volume(): NtfsVolume {
    return this.vol;
  }

  /** @internal (names.ts) */
  async reopen(): Promise<void> {
    // The reader keeps record 0 (the $MFT map) from its open: a changed record 0 needs a new reader; otherwise
    // dropping its cache of records and index blocks is enough (and keeps $UpCase, read once).
    if (this.record0Changed) this.vol = await openNtfs(this.device);
    else this.vol.cache.clear();
    this.record0Changed = false;
  }
  private record0Changed = false;
  /** Security ids chosen per parent directory and kind: ids stay valid while the writer runs. */
  private readonly securityIds = new Map<string, number>();

  /** A record with its bytes copied (the reader's copy may be shared with its cache). */
  private async loadRecord(n: number): Promise<MftRecord> {
    return this.vol.readRecord(n);
  }

  private async runsOf(record: number, type: number, name = ''): Promise<readonly DataRun[]> {
    const f = await this.vol.file(record);
    const a = findAttribute(f, type, name);
    if (!a || a.resident)
      throw new WinrescueError(
        'ntfs.badAttribute',
        `record ${record} has no non-resident 0x${type.toString(16)}`,
        { record },
      );
    if (a.runlistError) throw a.runlistError;
    return a.runs;
  }

  /** Writes a record (fixups undone in `bytes`) to $MFT and, for records 0-3, to $MFTMirr. */
  /** @internal (names.ts) */
  async writeRecord(n: number, bytes: Uint8Array): Promise<void> {
    if (n === 0) this.record0Changed = true;
    const out = bytes.slice();
    applyFixupsOnWrite(out, { label: `MFT record ${n}`, structure: 'ntfs.mftRecord', base: 0, record: n });
    const rs = this.vol.recordSize;
    const cs = this.vol.clusterSize;
    await writeThroughRuns(this.device, cs, await this.runsOf(0, ATTR.DATA), n * rs, out, `MFT record ${n}`);
    if (n < MIRRORED_RECORDS) {
      const mirror = await this.vol.file(MFT_MIRR_RECORD);
      const data = findAttribute(mirror, ATTR.DATA);
      if (data && !data.resident && (n + 1) * rs <= data.dataSize) {
        await writeThroughRuns(this.device, cs, data.runs, n * rs, out, `$MFTMirr copy of record ${n}`);
      }
    }
  }

  /** @internal (names.ts) */
  async loadBitmap(): Promise<ClusterBitmap> {
    const bits = await (await this.vol.openStream(BITMAP_RECORD)).readAll();
    return new ClusterBitmap(bits.slice(), this.vol.boot.totalClusters);
  }

  /** @internal (names.ts) */
  async saveBitmap(bm: ClusterBitmap): Promise<void> {
    const r = bm.dirtyRange();
    if (!r) return;
    const runs = await this.runsOf(BITMAP_RECORD, ATTR.DATA);
    await writeThroughRuns(
      this.device,
      this.vol.clusterSize,
      runs,
      r.start,
      bm.bits.subarray(r.start, r.end),
      '$Bitmap',
    );
    bm.clean();
  }

  /**
   * Replaces the content of the unnamed $DATA of an existing file. Resident when the value fits the record,
   * else non-resident: the clusters it had are kept (overwritten in place), extra clusters are allocated after
   * its last one when free (else the first long-enough free stretch), surplus clusters are freed. A file that
   * does not exist yet is created, with `options.like`'s attributes and security when given (file-like.ts).
   */
  async writeFile(path: string, content: Uint8Array, options: WriteFileOptions = {}): Promise<void> {
    const ref = await this.lookupOrNull(path);
    if (ref === null) {
      // Content that cannot be resident needs clusters: refuse before the file is created, not after.
      const clusters =
        content.length >= this.vol.recordSize ? Math.ceil(content.length / this.vol.clusterSize) : 0;
      const free = clusters > 0 ? (await this.loadBitmap()).freeCount() : 0;
      if (clusters > free) {
        throw new WinrescueError(
          'ntfs.full',
          `${path}: ${clusters} clusters are needed, the volume has ${free} free`,
          {
            path,
            expected: clusters,
            actual: free,
          },
        );
      }
      const made = await this.create(path, false, options.like);
      await this.reopen();
      if (content.length > 0) {
        await this.replaceData(made.record, content, path);
        await this.reopen();
      }
      this.report({ ...made, created: true });
      return;
    }
    if (ref.isDir)
      throw new WinrescueError('ntfs.isADirectory', `${path} is a directory`, { path, record: ref.record });
    await this.replaceData(ref.record, content, path);
    await this.reopen();
    this.report(existingFileReport(await this.vol.file(ref.record), path, options.like !== undefined));
  }

  /** What the last writeFile did (record, security chosen, what of `like` could not be honoured). */
  get lastWrite(): WriteFileReport | null {
    return this.lastReport;
  }
  /** Every warning writeFile gave during the writer's life, in order. */
  readonly warnings: string[] = [];
  private lastReport: WriteFileReport | null = null;
  private report(r: WriteFileReport): void {
    this.lastReport = r;
    this.warnings.push(...r.warnings);
  }

  /** What a replacement made like record `record` copies (null when the record cannot be read). */
  async fileLike(record: number): Promise<FileLike | null> {
    return readFileLike(this.vol, record);
  }

  /** Creates directory `path` (its parent must exist). */
  async mkdir(path: string): Promise<void> {
    await this.create(path, true);
    await this.reopen();
  }

  /** @internal (names.ts) */
  async lookupOrNull(path: string): Promise<NtfsFileRef | null> {
    try {
      return await this.vol.lookup(path);
    } catch (e) {
      if (isWinrescueError(e) && e.code === 'ntfs.notFound') return null;
      throw e;
    }
  }

  /** The security id of a sibling of the same kind (else of the parent): new files get the ACL their folder's files have. */
  private async siblingSecurityId(parent: NtfsFile, isDirectory: boolean): Promise<number> {
    const key = `${parent.record}:${isDirectory}`;
    const known = this.securityIds.get(key);
    if (known !== undefined) return known;
    const id = await this.probeSecurityId(parent, isDirectory);
    this.securityIds.set(key, id);
    return id;
  }

  private async probeSecurityId(parent: NtfsFile, isDirectory: boolean): Promise<number> {
    let fallback: number | null = null;
    let seen = 0;
    for await (const e of this.vol.readdir(parent.record)) {
      if (++seen > MAX_SIBLINGS_PROBED) break;
      const f = await this.vol.file(e.record).catch(() => null);
      const si = f ? findAttribute(f, ATTR.STANDARD_INFORMATION) : undefined;
      if (!si?.value) continue;
      const id = parseStandardInformation(si.value, e.record).securityId;
      if (id === null) continue;
      if (e.isDir === isDirectory) return id;
      fallback ??= id;
    }
    if (fallback !== null) return fallback;
    const si = findAttribute(parent, ATTR.STANDARD_INFORMATION);
    return si?.value ? (parseStandardInformation(si.value, parent.record).securityId ?? 0) : 0;
  }

  /** A new empty file or directory: record, $I30 entry in the parent. */
  private async create(
    path: string,
    isDirectory: boolean,
    like?: FileLike,
  ): Promise<Omit<WriteFileReport, 'created'>> {
    const clean = path.replace(/\\/g, '/').replace(/\/+$/, '');
    const slash = clean.lastIndexOf('/');
    const name = clean.slice(slash + 1);
    const parentPath = clean.slice(0, slash) || '/';
    checkWin32Name(name, path);
    const parentRef = await this.vol.lookup(parentPath);
    if (!parentRef.isDir)
      throw new WinrescueError('ntfs.notADirectory', `${parentPath} is not a directory`, {
        path: parentPath,
      });
    const parent = await this.vol.file(parentRef.record);
    if (await this.vol.findInDirectory(parent, name))
      throw new WinrescueError('ntfs.exists', `${path} already exists`, { path });
    const info = await this.vol.info();
    if (info.version !== null && Number(info.version.split('.')[0]) < NTFS_3) {
      throw new WinrescueError(
        'ntfs.unsupported',
        `NTFS ${info.version} volumes (no $Secure) are not supported for creating files`,
        { path },
      );
    }
    const identity: NewFileIdentity | null =
      like && !isDirectory
        ? await resolveLike(this.vol, like, this.vol.recordSize, () => this.siblingSecurityId(parent, false))
        : null;
    const securityId = identity ? identity.securityId : await this.siblingSecurityId(parent, isDirectory);
    const fileAttributes = identity ? identity.fileAttributes : FILE_ATTRIBUTES_NEW_FILE;
    await this.ensureFreeRecord();
    const clusters = await this.loadBitmap();
    const mftBits = await loadMftBitmap(this.vol);
    const { record: n, sequence } = await pickFreeRecord(this.vol, mftBits);
    const time = filetime(this.now());
    const fn = fileNameValue({
      parentRecord: parent.record,
      parentSequence: parentRef.sequence,
      time,
      allocatedSize: 0,
      dataSize: 0,
      fileAttributes: isDirectory ? FILE_NAME_DIRECTORY : fileAttributes,
      name,
      namespace: NAMESPACE_WIN32,
    });
    const si = standardInformation(time, isDirectory ? 0 : fileAttributes, securityId);
    const empty = emptyRecord(this.vol.recordSize, n, sequence, isDirectory);
    const attrs = newRecordAttributes(
      fn,
      si,
      isDirectory,
      this.vol.boot.indexRecordSize,
      this.vol.clusterSize,
      identity?.securityDescriptor ?? null,
    );
    const newRecord = rebuildRecord(empty, attrs, n);
    setU16(newRecord, RECORD_NEXT_ATTRIBUTE_ID_FIELD, attrs.length);
    const editor = new I30Editor(this.vol, parent, clusters, await this.vol.upcase());
    await editor.insert(n, sequence, fn);
    const parentRecord = editor.buildRecord();
    setRecordUsed(mftBits, n, true);
    // Planned: write the new record first, then the structures that point at it.
    await this.writeRecord(n, newRecord);
    await this.saveMftBitmap(mftBits);
    await editor.writeBlocks();
    await this.saveBitmap(clusters);
    await this.writeRecord(parent.record, parentRecord);
    return {
      record: n,
      securityId,
      securityDescriptorStored: identity?.securityDescriptor != null,
      warnings: identity?.warnings ?? [],
    };
  }

  /** Grows $MFT when every record is taken (see mft-extend.ts); the reader is reopened after. */
  private async ensureFreeRecord(): Promise<void> {
    try {
      await pickFreeRecord(this.vol, await loadMftBitmap(this.vol));
      return;
    } catch (e) {
      if (!isWinrescueError(e) || e.code !== 'ntfs.full') throw e;
    }
    const clusters = await this.loadBitmap();
    const ext = await planMftExtension(this.vol, clusters);
    await applyWrites(this.vol, ext);
    await this.saveBitmap(clusters);
    await this.writeRecord(0, ext.record0);
    await this.reopen();
  }

  /** @internal (names.ts) */
  async saveMftBitmap(bm: MftBitmap): Promise<void> {
    if (bm.changedLow < 0) return;
    if (bm.runs) {
      await writeThroughRuns(
        this.device,
        this.vol.clusterSize,
        bm.runs,
        bm.changedLow,
        bm.bits.subarray(bm.changedLow, bm.changedHigh + 1),
        '$MFT bitmap',
      );
    } else {
      const rec = await this.loadRecord(0);
      const bytes = rec.bytes.slice();
      const attrs = rec.attributes.map((a) =>
        a.type === ATTR.BITMAP && a.name === ''
          ? residentAttribute(ATTR.BITMAP, '', a.id, bm.bits)
          : attributeBytes(bytes, a.offset),
      );
      await this.writeRecord(0, rebuildRecord(bytes, attrs, 0));
    }
    bm.changedLow = bm.changedHigh = -1;
  }

  private async replaceData(n: number, content: Uint8Array, path: string): Promise<void> {
    const file = await this.vol.file(n);
    if (file.attributeList) {
      throw new WinrescueError(
        'ntfs.unsupported',
        `${path}: record ${n} has an attribute list; writing such files is not supported`,
        { path, record: n },
      );
    }
    const rec = file.base;
    const bytes = rec.bytes.slice();
    const data = rec.attributes.find((a) => a.type === ATTR.DATA && a.name === '');
    if (rec.attributes.some((a) => a.type === ATTR.REPARSE_POINT)) {
      throw new WinrescueError(
        'ntfs.unsupported',
        `${path}: record ${n} is a reparse point (WOF, symlink, ...); not written`,
        { path, record: n },
      );
    }
    if (data && (data.flags & (ATTR_FLAG_COMPRESSED_MASK | ATTR_FLAG_ENCRYPTED | ATTR_FLAG_SPARSE)) !== 0) {
      throw new WinrescueError(
        'ntfs.unsupported',
        `${path}: the data of record ${n} is compressed, sparse or encrypted; not written`,
        { path, record: n },
      );
    }
    if (data?.nonResident?.runlistError) throw data.nonResident.runlistError;
    const oldRuns = data?.nonResident ? data.nonResident.runs : [];
    const id = data ? data.id : takeId(bytes);
    const times = filetime(this.now());
    const others = rec.attributes
      .filter((a) => a !== data)
      .map((a) =>
        a.type === ATTR.STANDARD_INFORMATION ? touchedSi(bytes, a, times) : attributeBytes(bytes, a.offset),
      );
    const cs = this.vol.clusterSize;
    const bm = await this.loadBitmap();
    let attr = residentAttribute(ATTR.DATA, '', id, content);
    let runs: DataRun[] = [];
    let allocated = align8(content.length);
    if (recordBytesNeeded(bytes, [...others, attr]) <= bytes.length) {
      bm.free(oldRuns);
    } else {
      const need = Math.ceil(content.length / cs);
      const { keep, rest } = splitRuns(oldRuns, need);
      bm.free(rest);
      const have = keep.reduce((s, r) => s + r.length, 0);
      const last = keep[keep.length - 1];
      const hint = last && last.lcn !== null ? last.lcn + last.length : 0;
      const added = need > have ? bm.allocate(need - have, have, hint) : [];
      runs = mergeRuns([...keep, ...added]);
      attr = nonResidentAttribute(ATTR.DATA, '', id, runs, cs, {
        dataSize: content.length,
        initializedSize: content.length,
      });
      allocated = need * cs;
    }
    const newRecord = rebuildRecord(bytes, [...others, attr], n);
    // Planned: now write. Data first, then the allocation, then the record that points at both.
    if (runs.length > 0) await this.writeData(runs, content, path);
    await this.saveBitmap(bm);
    await this.writeRecord(n, newRecord);
    await this.updateParents(rec, {
      allocatedSize: allocated,
      dataSize: content.length,
      modified: times,
      mftChanged: times,
      accessed: times,
    });
  }

  private async writeData(runs: readonly DataRun[], content: Uint8Array, path: string): Promise<void> {
    const cs = this.vol.clusterSize;
    for (let at = 0; at < content.length; at += WRITE_PIECE) {
      const end = Math.min(content.length, at + WRITE_PIECE);
      let piece = content.subarray(at, end);
      // The slack of the last cluster is zeroed: nothing of the old content stays readable past the end.
      if (end === content.length && end % cs !== 0) {
        const padded = new Uint8Array(Math.ceil((end - at) / cs) * cs);
        padded.set(piece);
        piece = padded;
      }
      await writeThroughRuns(this.device, cs, runs, at, piece, path);
    }
  }

  /** Copies sizes and times into every parent index entry that names record `rec` (all its hard links). */
  private async updateParents(
    rec: MftRecord,
    info: { allocatedSize: number; dataSize: number; modified: bigint; mftChanged: bigint; accessed: bigint },
  ): Promise<void> {
    for (const a of rec.attributes) {
      if (a.type !== ATTR.FILE_NAME || !a.value) continue;
      const fn = parseFileName(a.value, rec.recordNumber);
      const parent = await this.vol.file(fn.parent.record);
      const index = new DirectoryIndex(this.vol, parent);
      for (const { node, entry } of await index.findEntries(fn.units, rec.recordNumber)) {
        setKeyInfo(entry.key, info);
        if (node.vcn === null) await this.writeIndexRoot(parent.record, node.bytes);
        else await index.writeBlock(node);
      }
    }
  }

  /** Replaces the $I30 $INDEX_ROOT value of directory `n` (same size: entries changed in place). */
  private async writeIndexRoot(n: number, value: Uint8Array): Promise<void> {
    const rec = await this.loadRecord(n);
    const bytes = rec.bytes.slice();
    const root = rec.attributes.find((a) => a.type === ATTR.INDEX_ROOT && a.name === '$I30');
    if (!root?.value)
      throw new WinrescueError('ntfs.notADirectory', `record ${n} has no $I30 root`, { record: n });
    const attrs = rec.attributes.map((a) =>
      a === root ? residentAttribute(ATTR.INDEX_ROOT, '$I30', a.id, value) : attributeBytes(bytes, a.offset),
    );
    await this.writeRecord(n, rebuildRecord(bytes, attrs, n));
  }

  /** Removes the name `path`; the file too when it was its last name (directories must be empty). */
  async unlink(path: string): Promise<void> {
    await unlinkPath(this, path);
  }

  /** Moves or renames `from` to `to` (the target must not exist). */
  async rename(from: string, to: string): Promise<void> {
    await renamePath(this, from, to);
  }

  /**
   * Removes a corrupt record from the volume: every index entry naming it, its clusters (those no other record
   * claims), its $MFT bitmap bit; the record itself becomes an unused FILE record.
   */
  async quarantine(record: number, options: QuarantineOptions = {}): Promise<QuarantineReport> {
    return quarantineRecord(this, record, options);
  }

  /** Every write is handed to the device as it happens; this makes them durable. */
  async flush(): Promise<void> {
    await this.device.flush();
  }
}

function takeId(record: Uint8Array): number {
  const id = record[40]! | (record[41]! << 8);
  record[40] = (id + 1) & 0xff;
  record[41] = ((id + 1) >> 8) & 0xff;
  return id;
}

/** The $STANDARD_INFORMATION attribute with its modified, MFT-changed and accessed times set to `t`. */
function touchedSi(record: Uint8Array, a: Attribute, t: bigint): Uint8Array {
  const b = attributeBytes(record, a.offset);
  if (a.resident && a.value) {
    const v = b[20]! | (b[21]! << 8);
    setU64(b, v + SI_MODIFIED, t);
    setU64(b, v + SI_MFT_CHANGED, t);
    setU64(b, v + SI_ACCESSED, t);
  }
  return b;
}

export async function openNtfsWriter(
  device: BlockDevice,
  options: OpenNtfsWriterOptions = {},
): Promise<NtfsWriter> {
  return NtfsWriter.open(device, options);
}
