// Writing through the undo journal (docs/formats/undo-journal.md, "Writing"): the old bytes of every range are
// appended to the journal and flushed before the range is written. Writes wait in memory until the next flush
// (or until too many wait); then their records go to the journal with one fsync, the writes go to the file, and
// the file is flushed. So the container above keeps its own ordering (it flushes where order matters), writes
// that overlap within one flush interval become one record, and writes of one interval never overlap writes of
// another that are not yet durable — which is what lets undo check every sector after any crash.
import { basename } from 'node:path';
import { WinrescueError } from '../../errors.js';
import { equalBytes } from '../../util/bytes.js';
import { type BlockDevice, type ImageFile, checkDeviceRange } from '../block-device.js';
import {
  CHECK_UNIT,
  HEADER_SIZE,
  MAX_RECORD_DATA,
  type DiskIdentity,
  type RecordBody,
  encodeHeader,
  encodeRecord,
  identityEquals,
  unitCrcs,
} from './format.js';
import { computeIdentity, describeIdentity } from './identity.js';
import { type ParsedJournal, parseJournal } from './model.js';
import type { JournalStorage } from './storage.js';

export const TOOL_VERSION = 'winrescue 0.1.0';
/** Writes held in memory before they are applied anyway: bounds memory on a long commit. */
const DEFAULT_MAX_PENDING = 32 * 1024 * 1024;

/** What the journal wraps: a container file (ImageFile) or a raw device (BlockDevice, which cannot truncate). */
export interface JournalTarget {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  write(offset: number, data: Uint8Array): Promise<void>;
  truncate?(length: number): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface JournaledFileOptions {
  storage: JournalStorage;
  /** The disk as the user named it: recorded in the header, used in messages. */
  diskPath: string;
  toolVersion?: string;
  maxPendingBytes?: number;
  now?: () => number;
}

interface Extent {
  offset: number;
  data: Uint8Array;
}

interface ByteRange {
  start: number;
  end: number;
}

export class JournaledFile implements ImageFile {
  readonly readOnly = false;
  private pending: Extent[] = [];
  private pendingBytes = 0;
  private virtualSize: number;
  /** Smallest size the file had in this session: bytes at or past it need no old copy, undo cuts them off. */
  private floor: number;
  /** Ranges whose old bytes this session's write records hold, sorted and disjoint. */
  private covered: ByteRange[] = [];
  private journal: ImageFile | null = null;
  private journalLength = 0;
  private nextSeq: number;
  private sessionStarted = false;
  private records = 0;
  private oldBytes = 0;
  private closed = false;
  private failed: unknown = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly maxPending: number;
  private readonly now: () => number;

  private constructor(
    private readonly target: JournalTarget,
    private readonly options: JournaledFileOptions,
    private readonly startIdentity: DiskIdentity,
    private readonly existing: ParsedJournal | null,
  ) {
    this.virtualSize = target.size;
    this.floor = target.size;
    this.nextSeq = existing?.nextSeq ?? 1;
    this.maxPending = options.maxPendingBytes ?? DEFAULT_MAX_PENDING;
    this.now = options.now ?? Date.now;
  }

  /**
   * Checks any journal already at the storage's path against the disk and readies a new session; nothing is
   * written until the first write is applied. Refused: a journal for another disk (or for this disk as it was
   * before something else wrote to it), and one whose last session or undo did not finish.
   */
  static async open(target: JournalTarget, options: JournaledFileOptions): Promise<JournaledFile> {
    const storage = options.storage;
    const identity = await computeIdentity(target);
    const bytes = await storage.load();
    let existing = bytes && parseJournal(bytes);
    if (existing?.undoDone) {
      await storage.retire();
      existing = null;
    }
    if (existing) {
      const where = `undo journal ${storage.path}`;
      if (existing.undoBegun) {
        throw new WinrescueError(
          'journal.incomplete',
          `${where}: an undo of ${options.diskPath} was interrupted; run winrescue undo again before writing`,
          { path: storage.path },
        );
      }
      const last = existing.sessions.at(-1);
      if (last && !last.end) {
        throw new WinrescueError(
          'journal.incomplete',
          `${where}: the session of ${new Date(last.start.created).toISOString()} on ${options.diskPath} did not finish (killed or power lost); run winrescue undo first`,
          { path: storage.path, record: last.start.seq },
        );
      }
      const expected = last?.end?.identity ?? existing.header.identity;
      if (!identityEquals(expected, identity)) {
        throw new WinrescueError(
          'journal.diskChanged',
          `${where} does not belong to ${options.diskPath} as it is now (journal expects ${describeIdentity(expected)}; the disk is ${describeIdentity(identity)}): another disk, or it changed since winrescue wrote it`,
          { path: storage.path, expected: describeIdentity(expected), actual: describeIdentity(identity) },
        );
      }
    }
    return new JournaledFile(target, options, identity, existing);
  }

  get path(): string {
    return this.options.diskPath;
  }
  get size(): number {
    return this.virtualSize;
  }
  get journalPath(): string {
    return this.options.storage.path;
  }
  /** Records (write and cut) and old bytes journaled in this session so far. */
  get journaled(): { records: number; bytes: number } {
    return { records: this.records, bytes: this.oldBytes };
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.serial(async () => {
      if (offset + length > this.virtualSize) {
        throw new WinrescueError(
          'disk.truncated',
          `${basename(this.path)}: file ends at ${this.virtualSize}, needed ${offset + length}`,
          { offset: this.virtualSize, expected: offset + length, actual: this.virtualSize },
        );
      }
      const out = new Uint8Array(length);
      const fromTarget = Math.min(offset + length, this.target.size) - offset;
      if (fromTarget > 0) out.set(await this.target.read(offset, fromTarget), 0);
      for (const e of this.pending) {
        const lo = Math.max(offset, e.offset);
        const hi = Math.min(offset + length, e.offset + e.data.length);
        if (lo < hi) out.set(e.data.subarray(lo - e.offset, hi - e.offset), lo - offset);
      }
      return out;
    });
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    return this.serial(async () => {
      if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(offset + data.length)) {
        throw new WinrescueError('disk.outOfRange', `${basename(this.path)}: write at ${offset}`, {
          offset,
          actual: offset,
        });
      }
      if (data.length === 0) return;
      this.addPending(offset, data.slice());
      this.virtualSize = Math.max(this.virtualSize, offset + data.length);
      if (this.pendingBytes > this.maxPending) await this.applyPending();
    });
  }

  truncate(length: number): Promise<void> {
    return this.serial(async () => {
      const truncate = this.target.truncate?.bind(this.target);
      if (!truncate) {
        throw new WinrescueError('disk.unsupported', `${basename(this.path)} cannot change its size`, {
          offset: length,
        });
      }
      await this.applyPending();
      const from = this.target.size;
      if (length === from) return;
      const bodies: RecordBody[] = [];
      if (length < from) {
        const keepTo = Math.min(from, this.floor);
        for (let pos = length; pos < keepTo; pos += MAX_RECORD_DATA) {
          const n = Math.min(MAX_RECORD_DATA, keepTo - pos);
          bodies.push({ type: 'cut', offset: pos, old: await this.target.read(pos, n) });
        }
        bodies.push({ type: 'shrink', from, to: length });
      } else {
        bodies.push({ type: 'grow', from, to: length });
      }
      await this.append(bodies);
      await truncate(length);
      this.floor = Math.min(this.floor, length);
      this.virtualSize = length;
    });
  }

  flush(): Promise<void> {
    return this.serial(async () => {
      if (!(await this.applyPending())) await this.target.flush();
    });
  }

  /**
   * Applies what waits, ends the session with the disk's identity as we leave it, closes journal and file. After a
   * failure the session stays open (undo treats it as interrupted) but the files are still closed.
   */
  close(): Promise<void> {
    const run = async () => {
      if (this.closed) return;
      try {
        if (this.failed) throw this.failed;
        await this.applyPending();
        if (this.sessionStarted) {
          const identity = await computeIdentity(this.target);
          await this.append([{ type: 'sessionEnd', identity, records: this.records, bytes: this.oldBytes }]);
        }
      } finally {
        this.closed = true;
        await this.journal?.close().catch(() => undefined);
        await this.target.close();
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = async () => {
      if (this.failed) throw this.failed;
      if (this.closed) {
        throw new WinrescueError('internal', `${basename(this.path)}: used after close`, { path: this.path });
      }
      try {
        return await op();
      } catch (e) {
        // After a failed journal append or disk write the journal may not describe the disk: stop here; undo
        // still works on what is durable.
        this.failed = e;
        throw e;
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private addPending(offset: number, data: Uint8Array): void {
    const end = offset + data.length;
    const keep: Extent[] = [];
    let lo = offset;
    let hi = end;
    const merged: Extent[] = [];
    for (const e of this.pending) {
      const eEnd = e.offset + e.data.length;
      if (eEnd < offset || e.offset > end) keep.push(e);
      else {
        merged.push(e);
        lo = Math.min(lo, e.offset);
        hi = Math.max(hi, eEnd);
      }
    }
    let ext: Extent = { offset, data };
    if (merged.length > 0) {
      const buf = new Uint8Array(hi - lo);
      for (const e of merged) buf.set(e.data, e.offset - lo);
      buf.set(data, offset - lo);
      ext = { offset: lo, data: buf };
      for (const e of merged) this.pendingBytes -= e.data.length;
    }
    keep.push(ext);
    keep.sort((a, b) => a.offset - b.offset);
    this.pending = keep;
    this.pendingBytes += ext.data.length;
  }

  /** Journals and applies the waiting writes; false when nothing waited. */
  private async applyPending(): Promise<boolean> {
    if (this.pending.length === 0) return false;
    const bodies: RecordBody[] = [];
    if (this.virtualSize > this.target.size)
      bodies.push({ type: 'grow', from: this.target.size, to: this.virtualSize });
    for (const e of this.pending) {
      const limit = Math.min(e.offset + e.data.length, this.floor);
      for (let pos = e.offset; pos < limit; pos += MAX_RECORD_DATA) {
        const n = Math.min(MAX_RECORD_DATA, limit - pos);
        const fresh = e.data.subarray(pos - e.offset, pos - e.offset + n);
        if (pos % CHECK_UNIT === 0 && n % CHECK_UNIT === 0 && this.isCovered(pos, pos + n)) {
          bodies.push({ type: 'rewrite', offset: pos, length: n, newCrcs: unitCrcs(pos, fresh) });
          continue;
        }
        const old = await this.target.read(pos, n);
        if (equalBytes(old, fresh)) continue;
        bodies.push({ type: 'write', offset: pos, old, newCrcs: unitCrcs(pos, fresh) });
      }
    }
    if (bodies.length > 0) await this.append(bodies);
    for (const e of this.pending) await this.target.write(e.offset, e.data);
    await this.target.flush();
    this.pending = [];
    this.pendingBytes = 0;
    return true;
  }

  /** Appends records (after a session start, the first time) and makes them durable. */
  private async append(bodies: RecordBody[]): Promise<void> {
    const all: RecordBody[] = [];
    if (!this.sessionStarted) {
      all.push({
        type: 'sessionStart',
        created: this.now(),
        identity: this.startIdentity,
        toolVersion: this.options.toolVersion ?? TOOL_VERSION,
      });
    }
    all.push(...bodies);
    const encoded = all.map((b, i) => encodeRecord(this.nextSeq++, b, i));
    const chunk = concat(encoded);
    if (!this.journal) {
      const storage = this.options.storage;
      if (this.existing) {
        const j = await storage.openForAppend();
        // A torn record after the last intact one announced a write that never happened: cut it off.
        if (j.size !== this.existing.validLength) await j.truncate(this.existing.validLength);
        this.journal = j;
        this.journalLength = this.existing.validLength;
      } else {
        const header = encodeHeader({
          created: this.now(),
          toolVersion: this.options.toolVersion ?? TOOL_VERSION,
          identity: this.startIdentity,
          diskPath: this.options.diskPath,
        });
        this.journal = await storage.create(concat([header, chunk]));
        this.journalLength = HEADER_SIZE + chunk.length;
        this.count(all);
        return;
      }
    }
    await this.journal.write(this.journalLength, chunk);
    this.journalLength += chunk.length;
    await this.journal.flush();
    this.count(all);
  }

  private count(bodies: RecordBody[]): void {
    for (const b of bodies) {
      if (b.type === 'sessionStart') this.sessionStarted = true;
      if (b.type === 'write' || b.type === 'cut') {
        this.records++;
        this.oldBytes += b.old.length;
      }
      if (b.type === 'write') this.cover(b.offset, b.offset + b.old.length);
    }
  }

  private isCovered(start: number, end: number): boolean {
    return this.covered.some((c) => c.start <= start && end <= c.end);
  }

  private cover(start: number, end: number): void {
    const keep: ByteRange[] = [];
    for (const c of this.covered) {
      if (c.end < start || c.start > end) keep.push(c);
      else {
        start = Math.min(start, c.start);
        end = Math.max(end, c.end);
      }
    }
    keep.push({ start, end });
    this.covered = keep.sort((a, b) => a.start - b.start);
  }
}

/** A raw device (or raw image file) written through the journal; its size never changes. */
export class JournaledDevice implements BlockDevice {
  readonly readOnly = false;
  readonly size: number;
  readonly description: string;

  constructor(
    readonly journaled: JournaledFile,
    readonly sectorSize: number,
    description: string,
  ) {
    this.size = journaled.size;
    this.description = description;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    checkDeviceRange(this, offset, length);
    return this.journaled.read(offset, length);
  }
  async write(offset: number, data: Uint8Array): Promise<void> {
    checkDeviceRange(this, offset, data.length);
    await this.journaled.write(offset, data);
  }
  flush(): Promise<void> {
    return this.journaled.flush();
  }
  close(): Promise<void> {
    return this.journaled.close();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
