// Recovery of a dirty hive from its transaction logs, as Windows does it at load time.
// Spec: msuhanov regf spec, "Dirty state of a hive", "Multiple transaction log files" (old and new format),
// "Old format" base-block notes 2-4, "Dirty pages", "New format" log-entry notes 5-11.
import { hex, WinrescueError } from '../../errors.js';
import { u32, u64, setU32 } from '../../util/bytes.js';
import { baseBlockChecksum, BASE_BLOCK_SIZE } from '../base-block.js';
import { HBIN_HEADER_SIZE } from '../hive-bin.js';
import {
  parseLogBaseBlock,
  FILE_TYPE_PRIMARY,
  HIVE_BLOCK,
  LOG_BASE_BLOCK_SIZE,
  MAX_HIVE_BINS_SIZE,
  OFF_BASE_FLAGS,
  OFF_CHECKSUM,
  type LogBaseBlock,
} from './log-base-block.js';
import { readLogEntries, type LogEntry } from './log-entry.js';
import { parseDirtyVector, DIRT_PAGE_SIZE } from './dirty-vector.js';

export interface HiveLog {
  /** File name; its suffix (.LOG1, .LOG2, .LOG) tells which role it plays in dual logging. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface AppliedLog {
  readonly log: string;
  readonly format: 'hvle' | 'dirt';
  /** HvLE: the entry's sequence number; DIRT: the log base block's sequence number. */
  readonly sequence: number;
  /** Ranges written, relative to the start of the hive bins data (file offset = 4096 + offset). */
  readonly pages: readonly { offset: number; size: number }[];
}

export interface HiveRecovery {
  /** The recovered primary (a new buffer); the unchanged primary when nothing could be applied. */
  readonly bytes: Uint8Array;
  /** Whether the primary given was dirty (sequence numbers differ or its base block is bad). */
  readonly dirty: boolean;
  readonly applied: readonly AppliedLog[];
  readonly warnings: string[];
}

const OFF_PRIMARY_SEQ = 4;
const OFF_SECONDARY_SEQ = 8;
const OFF_LAST_WRITTEN = 12;
const OFF_FILE_TYPE = 28;
const OFF_BINS_SIZE = 40;
/** Only bit 0 of the base-block flags is carried by log entries (spec, log entries note 11). */
const ENTRY_FLAGS_MASK = 1;
/** The first hbin's header keeps a copy of the last-written FILETIME at offset 20. */
const HBIN_TIMESTAMP = 20;
const MAX_SEQUENCE = 0xffffffff;

interface PrimaryState {
  /** Signature and checksum right. */
  readonly baseValid: boolean;
  readonly dirty: boolean;
  readonly primarySequence: number;
  readonly secondarySequence: number;
  readonly lastWritten: bigint | undefined;
  readonly hiveBinsDataSize: number;
}

function primaryState(b: Uint8Array): PrimaryState {
  if (b.length < LOG_BASE_BLOCK_SIZE)
    return {
      baseValid: false,
      dirty: true,
      primarySequence: 0,
      secondarySequence: 0,
      lastWritten: undefined,
      hiveBinsDataSize: 0,
    };
  const sig = b[0] === 0x72 && b[1] === 0x65 && b[2] === 0x67 && b[3] === 0x66;
  const baseValid = sig && u32(b, OFF_CHECKSUM) === baseBlockChecksum(b);
  const primarySequence = u32(b, OFF_PRIMARY_SEQ);
  const secondarySequence = u32(b, OFF_SECONDARY_SEQ);
  return {
    baseValid,
    dirty: !baseValid || primarySequence !== secondarySequence,
    primarySequence,
    secondarySequence,
    lastWritten: baseValid ? u64(b, OFF_LAST_WRITTEN) : firstBinTimestamp(b),
    hiveBinsDataSize: u32(b, OFF_BINS_SIZE),
  };
}

/** The backup FILETIME in the first hbin, used to match old-format logs when the base block is bad. */
function firstBinTimestamp(b: Uint8Array): bigint | undefined {
  const at = BASE_BLOCK_SIZE;
  if (b.length < at + HBIN_HEADER_SIZE) return undefined;
  if (!(b[at] === 0x68 && b[at + 1] === 0x62 && b[at + 2] === 0x69 && b[at + 3] === 0x6e)) return undefined; // 'hbin'
  return u64(b, at + HBIN_TIMESTAMP);
}

/** Dual-logging role from the name: .LOG1 first, .LOG2 second, a lone .LOG (or anything else) after them. */
function roleOf(name: string): number {
  const m = /\.log([12]?)$/i.exec(name);
  if (!m) return 3;
  return m[1] === '1' ? 0 : m[1] === '2' ? 1 : 2;
}

interface Candidate {
  readonly file: HiveLog;
  readonly role: number;
  readonly index: number;
  readonly base: LogBaseBlock;
}

/** A growable working copy of the hive being recovered. */
class Image {
  bytes: Uint8Array;
  constructor(src: Uint8Array) {
    this.bytes = src.slice();
  }
  /** Windows grows the primary to the bins size a log records (spec, log entries note 9). */
  ensure(binsSize: number): void {
    const need = BASE_BLOCK_SIZE + binsSize;
    if (this.bytes.length >= need) return;
    const grown = new Uint8Array(need);
    grown.set(this.bytes);
    this.bytes = grown;
  }
  write(binOffset: number, data: Uint8Array): void {
    this.bytes.set(data, BASE_BLOCK_SIZE + binOffset);
  }
}

/** Offset (relative to the bins) of the first hbin that is not well formed, walking the chain; undefined if all are. */
function firstBadBin(b: Uint8Array, binsSize: number): number | undefined {
  let off = 0;
  while (off < binsSize) {
    const abs = BASE_BLOCK_SIZE + off;
    if (abs + HBIN_HEADER_SIZE > b.length) return off;
    const sig = b[abs] === 0x68 && b[abs + 1] === 0x62 && b[abs + 2] === 0x69 && b[abs + 3] === 0x6e;
    const size = u32(b, abs + 8);
    if (
      !sig ||
      u32(b, abs + 4) !== off ||
      size < HIVE_BLOCK ||
      size % HIVE_BLOCK !== 0 ||
      off + size > binsSize
    )
      return off;
    off += size;
  }
  return undefined;
}

/** The clean base block Windows writes after a recovery: both sequences equal, type primary, checksum right. */
function finishBaseBlock(
  img: Image,
  sequence: number,
  binsSize: number,
  logBase: Uint8Array | undefined,
  entryFlags: number | undefined,
): void {
  img.ensure(0); // at least a whole base block, even for a primary cut shorter than that
  const b = img.bytes;
  // A bad primary base block is rebuilt from the log's copy (spec, old format base-block note 4).
  if (logBase) b.set(logBase.subarray(0, LOG_BASE_BLOCK_SIZE), 0);
  setU32(b, OFF_PRIMARY_SEQ, sequence);
  setU32(b, OFF_SECONDARY_SEQ, sequence);
  setU32(b, OFF_FILE_TYPE, FILE_TYPE_PRIMARY);
  setU32(b, OFF_BINS_SIZE, binsSize);
  if (entryFlags !== undefined)
    setU32(b, OFF_BASE_FLAGS, (u32(b, OFF_BASE_FLAGS) & ~ENTRY_FLAGS_MASK) | (entryFlags & ENTRY_FLAGS_MASK));
  setU32(b, OFF_CHECKSUM, baseBlockChecksum(b));
}

/**
 * The sequence number of the recovered, clean hive: one past everything the primary and the applied data
 * hold. A clean hive at N/N means "log entries below N are in the file" (Windows 10 writes 6/6 after applying
 * entries 2..5 of NewDirtyHive1), so stale log entries can never look subsequent to it.
 */
function nextSequence(...seqs: number[]): number {
  const top = Math.max(...seqs);
  return top >= MAX_SEQUENCE ? MAX_SEQUENCE : top + 1;
}

function describe(c: Candidate): string {
  return c.file.name;
}

/** New format: entries from the valid logs, in sequence order (spec, "Multiple transaction log files" → new format). */
function recoverNew(
  primary: Uint8Array,
  state: PrimaryState,
  cands: readonly Candidate[],
  warnings: string[],
): { bytes: Uint8Array; applied: AppliedLog[] } | undefined {
  if (cands.length === 0) return undefined;
  let order: Candidate[];
  let logBase: Uint8Array | undefined;
  if (state.baseValid) {
    // Windows uses both logs, the one with earlier entries first; the first log is not guaranteed to be earlier.
    order = [...cands].sort(
      (x, y) => x.base.primarySequence - y.base.primarySequence || x.role - y.role || x.index - y.index,
    );
  } else {
    // A bad primary base block: only the log with the latest entries is used, and its base block replaces it.
    const latest = [...cands].sort(
      (x, y) => y.base.primarySequence - x.base.primarySequence || x.role - y.role || x.index - y.index,
    )[0]!;
    order = [latest];
    logBase = latest.file.bytes;
  }
  const img = new Image(primary);
  const applied: AppliedLog[] = [];
  let last: LogEntry | undefined;
  let binsSize = logBase ? order[0]!.base.hiveBinsDataSize : state.hiveBinsDataSize;
  for (const c of order) {
    const { entries, stop } = readLogEntries(c.file.bytes);
    let expected: number;
    if (last === undefined) {
      expected = c.base.primarySequence;
      if (state.baseValid && expected < state.secondarySequence) {
        warnings.push(
          `${describe(c)}: entries start at sequence ${expected}, older than the primary's ${state.secondarySequence}: not applied`,
        );
        continue;
      }
    } else {
      expected = last.sequence + 1;
    }
    let used = 0;
    for (const e of entries) {
      if (e.sequence !== expected) {
        if (used === 0)
          warnings.push(
            `${describe(c)}: entry at ${hex(e.logOffset)} has sequence ${e.sequence}, expected ${expected}: log not applied`,
          );
        break;
      }
      if (BASE_BLOCK_SIZE + e.hiveBinsDataSize > img.bytes.length + c.file.bytes.length) {
        warnings.push(
          `${describe(c)}: entry at ${hex(e.logOffset)} grows the hive to ${hex(e.hiveBinsDataSize)} bytes of bins, more than its log could fill; recovery stops there`,
        );
        break;
      }
      img.ensure(e.hiveBinsDataSize);
      for (const p of e.pages)
        img.write(p.offset, c.file.bytes.subarray(p.dataOffset, p.dataOffset + p.size));
      binsSize = e.hiveBinsDataSize;
      applied.push({
        log: c.file.name,
        format: 'hvle',
        sequence: e.sequence,
        pages: e.pages.map((p) => ({ offset: p.offset, size: p.size })),
      });
      last = e;
      expected++;
      used++;
    }
    // The damaged entry is news only if the scan got that far; a sequence break before it ended the log already.
    if (stop && used === entries.length)
      warnings.push(`${describe(c)}: ${stop.message}; recovery stops there`);
  }
  if (!last) return undefined;
  if (logBase) warnings.push(`primary base block is bad: rebuilt from ${describe(order[0]!)}`);
  const bad = firstBadBin(img.bytes, binsSize);
  if (bad !== undefined)
    warnings.push(
      `hive bin at ${hex(BASE_BLOCK_SIZE + bad)} is not well formed after recovery (Windows would replace it with an empty bin)`,
    );
  const seqs = state.baseValid
    ? [last.sequence, state.primarySequence, state.secondarySequence]
    : [last.sequence];
  finishBaseBlock(img, nextSequence(...seqs), binsSize, logBase, last.flags);
  return { bytes: img.bytes, applied };
}

/** Old format: one applicable DIRT log, chosen as Windows 8 (and patched Windows 7) choose it. */
function recoverOld(
  primary: Uint8Array,
  state: PrimaryState,
  cands: readonly Candidate[],
  warnings: string[],
): { bytes: Uint8Array; applied: AppliedLog[] } | undefined {
  if (cands.length === 0) return undefined;
  const applicable = (c: Candidate): boolean =>
    state.lastWritten !== undefined && c.base.lastWritten === state.lastWritten;
  const first = cands.find((c) => c.role === 0) ?? cands.find((c) => c.role === 2);
  const second = cands.find((c) => c.role === 1);
  const order: Candidate[] = [];
  if (first && applicable(first)) order.push(first);
  // The second log is taken when the first is missing, not applicable or older (spec: Windows 8 rule).
  if (second && (applicable(second) || !first || second.base.lastWritten > first.base.lastWritten))
    order.push(second);
  for (const c of cands) if (!order.includes(c) && applicable(c)) order.push(c);
  for (const c of order) {
    let vector;
    try {
      vector = parseDirtyVector(c.file.bytes, c.base);
    } catch (err) {
      if (!(err instanceof WinrescueError)) throw err;
      warnings.push(`${describe(c)}: ${err.message}`);
      continue;
    }
    if (!applicable(c))
      warnings.push(
        `${describe(c)}: last-written time differs from the primary's; applied as Windows 8 does`,
      );
    const binsSize = c.base.hiveBinsDataSize;
    if (BASE_BLOCK_SIZE + binsSize > primary.length + c.file.bytes.length) {
      warnings.push(
        `${describe(c)}: hive bins data size ${hex(binsSize)} is more than the primary and the log could fill`,
      );
      continue;
    }
    const apply = (limit: number): Image => {
      const img = new Image(primary);
      img.ensure(binsSize);
      for (const p of vector.pages)
        if (p.offset < limit)
          img.write(p.offset, c.file.bytes.subarray(p.dataOffset, p.dataOffset + DIRT_PAGE_SIZE));
      return img;
    };
    let img = apply(Infinity);
    let limit = Infinity;
    // Dirty hbins are checked; recovery stops at an invalid one (spec, "Dirty pages").
    const bad = firstBadBin(img.bytes, binsSize);
    if (bad !== undefined && vector.pages.some((p) => p.offset + DIRT_PAGE_SIZE > bad)) {
      limit = bad;
      img = apply(limit);
      warnings.push(
        `${describe(c)}: hive bin at ${hex(BASE_BLOCK_SIZE + bad)} is not well formed; dirty pages from there on not applied`,
      );
    }
    const pages: { offset: number; size: number }[] = [];
    for (const p of vector.pages) {
      if (p.offset >= limit) break;
      const prev = pages[pages.length - 1];
      if (prev && prev.offset + prev.size === p.offset) prev.size += DIRT_PAGE_SIZE;
      else pages.push({ offset: p.offset, size: DIRT_PAGE_SIZE });
    }
    const logBase = state.baseValid ? undefined : c.file.bytes;
    if (logBase) warnings.push(`primary base block is bad: rebuilt from ${describe(c)}`);
    const seqs = state.baseValid
      ? [c.base.primarySequence, state.primarySequence, state.secondarySequence]
      : [c.base.primarySequence];
    finishBaseBlock(img, nextSequence(...seqs), binsSize, logBase, undefined);
    return {
      bytes: img.bytes,
      applied: [{ log: c.file.name, format: 'dirt', sequence: c.base.primarySequence, pages }],
    };
  }
  return undefined;
}

/**
 * Recovers a dirty hive from its logs, exactly when Windows would: only if the primary is dirty, with the
 * valid logs only, applying valid consecutive entries and stopping at the first bad one. Never throws for
 * damaged input: a dirty hive with no usable log comes back unchanged with `dirty: true`, no `applied`
 * entries and a warning (callers must then refuse to write it unless forced).
 */
export function recoverHive(primary: Uint8Array, logs: readonly HiveLog[]): HiveRecovery {
  const warnings: string[] = [];
  const state = primaryState(primary);
  if (!state.dirty) return { bytes: primary.slice(), dirty: false, applied: [], warnings };
  if (!state.baseValid) warnings.push('primary base block is bad (signature or checksum)');
  const cands: Candidate[] = [];
  logs.forEach((file, index) => {
    if (file.bytes.length === 0) return; // empty LOG1/LOG2/LOG files are normal
    let base: LogBaseBlock;
    try {
      base = parseLogBaseBlock(file.bytes);
    } catch (err) {
      if (!(err instanceof WinrescueError)) throw err;
      warnings.push(`${file.name}: ${err.message}`);
      return;
    }
    if (!base.valid) {
      warnings.push(`${file.name}: not a valid log (${base.problems.join('; ')})`);
      return;
    }
    if (base.hiveBinsDataSize > MAX_HIVE_BINS_SIZE) return;
    cands.push({ file, role: roleOf(file.name), index, base });
  });
  const result =
    recoverNew(
      primary,
      state,
      cands.filter((c) => c.base.format === 'hvle'),
      warnings,
    ) ??
    recoverOld(
      primary,
      state,
      cands.filter((c) => c.base.format === 'dirt'),
      warnings,
    );
  if (!result) {
    warnings.push(
      logs.length === 0
        ? 'hive is dirty and no transaction log was given: returned unchanged'
        : 'hive is dirty and no log could be applied: returned unchanged',
    );
    return { bytes: primary.slice(), dirty: true, applied: [], warnings };
  }
  return { bytes: result.bytes, dirty: true, applied: result.applied, warnings };
}
