// Undo from the journal (docs/formats/undo-journal.md, "Undo"): every session, newest first, every record in
// reverse. First a rehearsal on an in-memory copy-on-write view of the file checks that each range holds, sector
// by sector, what we wrote or what was there before (a crash can leave either); only then is anything written.
// An "undo begun" record makes an interrupted undo rerunnable: the replay depends only on the journal.
import { basename } from 'node:path';
import { WinrescueError, hex } from '../../errors.js';
import { equalBytes } from '../../util/bytes.js';
import { crc32c } from '../../util/crc.js';
import { CHECK_UNIT, type RecordBody, encodeRecord, identityEquals } from './format.js';
import { computeIdentity, describeIdentity } from './identity.js';
import { type DataRecord, type Session, parseJournal } from './model.js';
import type { JournalStorage } from './storage.js';
import type { JournalTarget } from './journaled-file.js';

export interface UndoOptions {
  /** Restore even where the disk no longer holds what winrescue wrote (discards those later changes). */
  force?: boolean;
  now?: () => number;
}

export interface UndoReport {
  /** True when there was nothing left to undo (the journal was already undone). */
  alreadyUndone: boolean;
  sessions: number;
  /** Records whose old bytes were written back. */
  records: number;
  bytes: number;
  /** Size changes undone (the file grew or was truncated). */
  sizeChanges: number;
  forced: boolean;
  /** An earlier undo was interrupted; this one finished it. */
  resumed: boolean;
  /** The file's identity now equals the one recorded before the first session. */
  verified: boolean;
  /** Bytes of a torn last record that were ignored. */
  tornBytes: number;
  /** Where the finished journal went. */
  retiredTo: string | null;
  warnings: string[];
}

/** Pages of the rehearsal's copy-on-write view. */
const PAGE = 4096;

/**
 * A copy-on-write view of the target that can also change size: the rehearsal runs the undo on it, reading the
 * real file but writing nothing to it.
 */
class RehearsalFile implements JournalTarget {
  private readonly pages = new Map<number, Uint8Array>();
  /**
   * Sectors a rewrite record found holding its new bytes: ours, but the earlier write record covering them expects
   * its own new bytes there, which the journal no longer has. Cleared when old bytes are put back over them.
   */
  readonly ours = new Set<number>();
  size: number;
  /** Bytes of the base at or past this were cut off at some point: they read as zeros unless written again. */
  private baseLimit: number;

  constructor(private readonly base: JournalTarget) {
    this.size = base.size;
    this.baseLimit = base.size;
  }

  private async page(index: number, create: boolean): Promise<Uint8Array | undefined> {
    let p = this.pages.get(index);
    if (p || !create) return p;
    p = new Uint8Array(PAGE);
    const start = index * PAGE;
    const n = Math.min(PAGE, this.baseLimit - start);
    if (n > 0) p.set(await this.base.read(start, n), 0);
    this.pages.set(index, p);
    return p;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset + length > this.size) {
      throw new WinrescueError(
        'journal.diskChanged',
        `the disk is ${this.size} bytes where the journal needs ${offset + length}: it is not the disk the journal was written for, or it changed since`,
        { offset, expected: offset + length, actual: this.size },
      );
    }
    const out = new Uint8Array(length);
    for (let pos = offset; pos < offset + length;) {
      const index = Math.floor(pos / PAGE);
      const inPage = pos - index * PAGE;
      const n = Math.min(PAGE - inPage, offset + length - pos);
      const p = this.pages.get(index) ?? (await this.page(index, index * PAGE < this.baseLimit));
      if (p) out.set(p.subarray(inPage, inPage + n), pos - offset);
      pos += n;
    }
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    for (let pos = offset; pos < offset + data.length;) {
      const index = Math.floor(pos / PAGE);
      const inPage = pos - index * PAGE;
      const n = Math.min(PAGE - inPage, offset + data.length - pos);
      (await this.page(index, true))!.set(data.subarray(pos - offset, pos - offset + n), inPage);
      pos += n;
    }
    this.size = Math.max(this.size, offset + data.length);
    const last = Math.floor((offset + data.length - 1) / CHECK_UNIT);
    for (let u = Math.floor(offset / CHECK_UNIT); u <= last; u++) this.ours.delete(u);
  }

  async truncate(length: number): Promise<void> {
    if (length < this.size) {
      this.baseLimit = Math.min(this.baseLimit, length);
      for (const [index, p] of this.pages) {
        const start = index * PAGE;
        if (start >= length) this.pages.delete(index);
        else if (start + PAGE > length) p.fill(0, length - start);
      }
      for (const u of this.ours) if ((u + 1) * CHECK_UNIT > length) this.ours.delete(u);
    }
    this.size = length;
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

function changedError(diskName: string, r: DataRecord, at: number, session: number): WinrescueError {
  return new WinrescueError(
    'journal.diskChanged',
    `${diskName}: the bytes at ${hex(at)} are neither what winrescue wrote there (session ${session}, record ${r.seq}) nor what was there before: the disk changed since (did Windows run?). Nothing was restored; --force restores anyway and discards those changes`,
    { offset: at, record: r.seq, structure: 'journal' },
  );
}

/**
 * Each sector-aligned piece of the record's range must hold the old bytes or the bytes we wrote, unless a later
 * rewrite already found our bytes in that sector.
 */
async function checkRecord(
  t: RehearsalFile,
  r: DataRecord & { type: 'write' },
  diskName: string,
  session: number,
) {
  const now = await t.read(r.offset, r.old.length);
  let pos = 0;
  for (let i = 0; i < r.newCrcs.length; i++) {
    const end = Math.min(
      r.old.length,
      (Math.floor((r.offset + pos) / CHECK_UNIT) + 1) * CHECK_UNIT - r.offset,
    );
    const piece = now.subarray(pos, end);
    const ours = t.ours.has(Math.floor((r.offset + pos) / CHECK_UNIT));
    if (!ours && !equalBytes(piece, r.old.subarray(pos, end)) && crc32c(piece) !== r.newCrcs[i])
      throw changedError(diskName, r, r.offset + pos, session);
    pos = end;
  }
}

/**
 * A rewrite's sectors hold its new bytes (marked ours) or, if it never reached the disk, what was there before it:
 * left for the earlier write record to check.
 */
async function checkRewrite(t: RehearsalFile, r: DataRecord & { type: 'rewrite' }): Promise<void> {
  const now = await t.read(r.offset, r.length);
  for (let i = 0; i < r.newCrcs.length; i++) {
    if (crc32c(now.subarray(i * CHECK_UNIT, (i + 1) * CHECK_UNIT)) === r.newCrcs[i])
      t.ours.add(r.offset / CHECK_UNIT + i);
  }
}

interface Tally {
  records: number;
  bytes: number;
  sizeChanges: number;
}

/** The undo itself; with `rehearsal` as the target, also the checks. */
async function replay(
  t: JournalTarget,
  sessions: readonly Session[],
  diskName: string,
  rehearsal: RehearsalFile | null,
): Promise<Tally> {
  const tally: Tally = { records: 0, bytes: 0, sizeChanges: 0 };
  const truncate = async (length: number) => {
    if (!t.truncate)
      throw new WinrescueError(
        'disk.unsupported',
        `${diskName} cannot change size, but the journal says it did`,
      );
    await t.truncate(length);
    tally.sizeChanges++;
  };
  for (let s = sessions.length - 1; s >= 0; s--) {
    const session = sessions[s]!;
    for (let i = session.records.length - 1; i >= 0; i--) {
      const r = session.records[i]!;
      if (r.type === 'rewrite') {
        if (rehearsal) await checkRewrite(rehearsal, r);
      } else if (r.type === 'write' || r.type === 'cut') {
        if (rehearsal && r.type === 'write') await checkRecord(rehearsal, r, diskName, s + 1);
        await t.write(r.offset, r.old);
        tally.records++;
        tally.bytes += r.old.length;
      } else {
        await truncate(r.from);
      }
    }
    if (t.size !== session.start.identity.size) await truncate(session.start.identity.size);
  }
  return tally;
}

/** Appends one record, durably; `cutTo` first cuts a torn tail off. */
async function appendRecord(storage: JournalStorage, cutTo: number | null, seq: number, body: RecordBody) {
  const j = await storage.openForAppend();
  try {
    if (cutTo !== null && j.size !== cutTo) await j.truncate(cutTo);
    await j.write(j.size, encodeRecord(seq, body));
    await j.flush();
  } finally {
    await j.close();
  }
}

function nothingToDo(retiredTo: string | null, warnings: string[] = []): UndoReport {
  return {
    alreadyUndone: true,
    sessions: 0,
    records: 0,
    bytes: 0,
    sizeChanges: 0,
    forced: false,
    resumed: false,
    verified: true,
    tornBytes: 0,
    retiredTo,
    warnings,
  };
}

/**
 * Restores the file the journal describes to what it was before the first session, then retires the journal.
 * `openTarget` is called only when there is something to restore.
 */
export async function undoJournal(
  openTarget: () => Promise<JournalTarget>,
  storage: JournalStorage,
  diskName: string,
  options: UndoOptions = {},
): Promise<UndoReport> {
  const now = options.now ?? Date.now;
  const bytes = await storage.load();
  if (!bytes) {
    const retired = await storage.retired();
    if (retired) return nothingToDo(retired);
    throw new WinrescueError('journal.notFound', `no undo journal at ${storage.path}`, {
      path: storage.path,
    });
  }
  const parsed = parseJournal(bytes);
  if (parsed.undoDone || parsed.sessions.length === 0) return nothingToDo(await storage.retire());

  const warnings: string[] = [];
  if (parsed.tornBytes > 0) {
    warnings.push(
      `the journal ends with ${parsed.tornBytes} bytes of a record torn by a crash: ignored (its write never started)`,
    );
  }
  const last = parsed.sessions.at(-1)!;
  if (!last.end)
    warnings.push('the last session did not finish (killed or power lost): undoing what it journaled');
  const forced = options.force === true;
  const resumed = parsed.undoBegun !== null;
  const name = basename(diskName);
  const target = await openTarget();
  try {
    // Found now, not halfway through the replay: a device that cannot change size cannot undo a size change.
    const resizes = parsed.sessions.some(
      (x) =>
        x.start.identity.size !== target.size ||
        x.records.some((r) => r.type !== 'write' && r.type !== 'rewrite'),
    );
    if (resizes && !target.truncate) {
      throw new WinrescueError(
        'disk.unsupported',
        `${name} cannot change its size, but the journal records size changes: it was written for a file, not this device`,
        { path: storage.path },
      );
    }
    if (!resumed && last.end) {
      const identity = await computeIdentity(target);
      if (!identityEquals(identity, last.end.identity)) {
        const message = `${name} is not as winrescue left it (journal expects ${describeIdentity(last.end.identity)}; it is ${describeIdentity(identity)}): another disk, or the disk changed since (did Windows run?)`;
        if (!forced)
          throw new WinrescueError(
            'journal.diskChanged',
            `${message}. Nothing was restored; --force restores anyway`,
            {
              path: storage.path,
            },
          );
        warnings.push(`${message}; restoring anyway (--force)`);
      }
    }
    if (!resumed) {
      if (!forced) {
        const rehearsal = new RehearsalFile(target);
        await replay(rehearsal, parsed.sessions, name, rehearsal);
      }
      await appendRecord(storage, parsed.validLength, parsed.nextSeq, {
        type: 'undoBegun',
        time: now(),
        forced,
      });
    } else {
      warnings.push('an earlier undo was interrupted: restoring everything again');
    }
    const tally = await replay(target, parsed.sessions, name, null);
    await target.flush();
    const verified = identityEquals(await computeIdentity(target), parsed.sessions[0]!.start.identity);
    if (!verified) warnings.push(`${name} does not have the identity recorded before the first session`);
    const seq = parsed.nextSeq + (resumed ? 0 : 1);
    await appendRecord(storage, resumed ? parsed.validLength : null, seq, {
      type: 'undoDone',
      time: now(),
      records: tally.records,
      bytes: tally.bytes,
    });
    return {
      alreadyUndone: false,
      sessions: parsed.sessions.length,
      ...tally,
      forced,
      resumed,
      verified,
      tornBytes: parsed.tornBytes,
      retiredTo: await storage.retire(),
      warnings,
    };
  } finally {
    await target.close();
  }
}
