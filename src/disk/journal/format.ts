// The undo journal file: winrescue's own format, specified in docs/formats/undo-journal.md ("Layout"). A 512-byte
// header, then append-only records, each with its own CRC-32C so that a record torn by a crash is recognised.
// Pure: bytes in, readonly objects out; the I/O is in journaled-file.ts, storage.ts and undo.ts.
import { WinrescueError, hex } from '../../errors.js';
import { checkRange, equalBytes, setU32, setU64, u16, setU16, u32, u64 } from '../../util/bytes.js';
import { crc32c } from '../../util/crc.js';

export const JOURNAL_MAGIC = 'WRUNDOJ1';
export const JOURNAL_VERSION = 1;
export const HEADER_SIZE = 512;
/** The header's CRC-32C sits in its last 4 bytes and covers everything before it. */
const HEADER_CRC_FIELD = HEADER_SIZE - 4;
const HEADER_VERSION_FIELD = 8;
const HEADER_SIZE_FIELD = 12;
const HEADER_CREATED_FIELD = 16;
const HEADER_TOOL_FIELD = 24;
const HEADER_IDENTITY_FIELD = 56;
const HEADER_PATH_LENGTH_FIELD = 136;
const HEADER_PATH_FIELD = 138;
/** The disk path is informational (messages); longer paths are cut, the identity is what binds the journal. */
const MAX_HEADER_PATH = 256;

export const RECORD_MAGIC = 'WRRC';
export const RECORD_HEADER_SIZE = 24;
const RECORD_TYPE_FIELD = 4;
const RECORD_BODY_LENGTH_FIELD = 8;
/** How many records before this one its append began: tells a torn last append from damage further back. */
const RECORD_IN_APPEND_FIELD = 12;
const RECORD_SEQUENCE_FIELD = 16;
/** Records start 8-aligned, so a scan for intact records after a damaged one need only try those offsets. */
export const RECORD_ALIGNMENT = 8;
const RECORD_CRC_SIZE = 4;
/** A sector: the smallest piece a crash can leave half written, so the unit of the "is this what we wrote" check. */
export const CHECK_UNIT = 512;
/** Largest old-bytes payload of one record: longer writes are split, so reading a record never needs more. */
export const MAX_RECORD_DATA = 1 << 20;
/** Largest body any record type can have: the write record at MAX_RECORD_DATA plus its unit checksums. */
const MAX_BODY = 16 + MAX_RECORD_DATA + 4 * (MAX_RECORD_DATA / CHECK_UNIT + 1);

/** The disk identity hashes this much of the start and of the end of the file. */
export const IDENTITY_WINDOW = 1 << 20;
export const IDENTITY_SIZE = 80;
const TOOL_VERSION_SIZE = 32;

export const RecordType = {
  sessionStart: 1,
  write: 2,
  grow: 3,
  cut: 4,
  shrink: 5,
  sessionEnd: 6,
  undoBegun: 7,
  undoDone: 8,
  rewrite: 9,
} as const;

/** What a file is: its size and SHA-256 of its first and last `window` bytes (the whole file when smaller). */
export interface DiskIdentity {
  readonly size: number;
  readonly window: number;
  readonly head: Uint8Array;
  readonly tail: Uint8Array;
}

export interface JournalHeader {
  readonly created: number;
  readonly toolVersion: string;
  readonly identity: DiskIdentity;
  readonly diskPath: string;
}

interface RecordBase {
  readonly seq: number;
  /** Offset of the record in the journal file (messages). */
  readonly at: number;
}
export type JournalRecord =
  | (RecordBase & {
      type: 'sessionStart';
      created: number;
      identity: DiskIdentity;
      toolVersion: string;
    })
  // Old bytes at `offset`, and the CRC-32C of each CHECK_UNIT-aligned piece of the bytes written over them.
  | (RecordBase & { type: 'write'; offset: number; old: Uint8Array; newCrcs: Uint32Array })
  // Old bytes a truncate cut off: restored after the file is extended back, nothing to check.
  | (RecordBase & { type: 'cut'; offset: number; old: Uint8Array })
  | (RecordBase & { type: 'grow' | 'shrink'; from: number; to: number })
  | (RecordBase & { type: 'sessionEnd'; identity: DiskIdentity; records: number; bytes: number })
  | (RecordBase & { type: 'undoBegun'; time: number; forced: boolean })
  | (RecordBase & { type: 'undoDone'; time: number; records: number; bytes: number })
  // A sector-aligned range written again in the same session: earlier write records already hold its old bytes, so
  // only the checksums of the new bytes (which undo must find, or those of the write before) are kept.
  | (RecordBase & { type: 'rewrite'; offset: number; length: number; newCrcs: Uint32Array });

/** A record before it has its place: what the writer appends. */
export type RecordBody = DistributiveOmit<JournalRecord, 'seq' | 'at'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const TYPE_NAMES = Object.fromEntries(Object.entries(RecordType).map(([k, v]) => [v, k])) as Record<
  number,
  JournalRecord['type']
>;

function badFormat(message: string, offset: number, details: { expected?: unknown; actual?: unknown } = {}) {
  return new WinrescueError('journal.badFormat', `undo journal at ${hex(offset)}: ${message}`, {
    offset,
    structure: 'journal',
    ...details,
  });
}

/** Number of CHECK_UNIT-aligned units (absolute, on the disk) that [offset, offset+length) touches. */
export function unitCount(offset: number, length: number): number {
  if (length === 0) return 0;
  return Math.floor((offset + length - 1) / CHECK_UNIT) - Math.floor(offset / CHECK_UNIT) + 1;
}

/** CRC-32C of each CHECK_UNIT-aligned piece of `data`, which lies at `offset` on the disk. */
export function unitCrcs(offset: number, data: Uint8Array): Uint32Array {
  const out = new Uint32Array(unitCount(offset, data.length));
  let pos = 0;
  for (let i = 0; i < out.length; i++) {
    const end = Math.min(data.length, (Math.floor((offset + pos) / CHECK_UNIT) + 1) * CHECK_UNIT - offset);
    out[i] = crc32c(data.subarray(pos, end));
    pos = end;
  }
  return out;
}

export function identityEquals(a: DiskIdentity, b: DiskIdentity): boolean {
  return (
    a.size === b.size && a.window === b.window && equalBytes(a.head, b.head) && equalBytes(a.tail, b.tail)
  );
}

function encodeIdentity(id: DiskIdentity, out: Uint8Array, at: number): void {
  setU64(out, at, id.size);
  setU32(out, at + 8, id.window);
  out.set(id.head, at + 16);
  out.set(id.tail, at + 48);
}

function decodeIdentity(b: Uint8Array, at: number, base: number): DiskIdentity {
  return {
    size: safe(u64(b, at), base + at, 'disk size'),
    window: u32(b, at + 8),
    head: b.slice(at + 16, at + 48),
    tail: b.slice(at + 48, at + 80),
  };
}

function safe(v: bigint, offset: number, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw badFormat(`${what} ${v} is beyond any disk`, offset, { actual: v.toString() });
  return Number(v);
}

function encodeAscii(s: string, out: Uint8Array, at: number, max: number): void {
  const bytes = new TextEncoder().encode(s).subarray(0, max);
  out.set(bytes, at);
}

function decodeText(b: Uint8Array, at: number, length: number): string {
  const raw = b.subarray(at, at + length);
  const nul = raw.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? raw : raw.subarray(0, nul));
}

export function encodeHeader(h: JournalHeader): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  encodeAscii(JOURNAL_MAGIC, out, 0, 8);
  setU32(out, HEADER_VERSION_FIELD, JOURNAL_VERSION);
  setU32(out, HEADER_SIZE_FIELD, HEADER_SIZE);
  setU64(out, HEADER_CREATED_FIELD, h.created);
  encodeAscii(h.toolVersion, out, HEADER_TOOL_FIELD, TOOL_VERSION_SIZE);
  encodeIdentity(h.identity, out, HEADER_IDENTITY_FIELD);
  let path = new TextEncoder().encode(h.diskPath);
  if (path.length > MAX_HEADER_PATH) path = path.subarray(path.length - MAX_HEADER_PATH);
  setU16(out, HEADER_PATH_LENGTH_FIELD, path.length);
  out.set(path, HEADER_PATH_FIELD);
  setU32(out, HEADER_CRC_FIELD, crc32c(out.subarray(0, HEADER_CRC_FIELD)));
  return out;
}

export function parseHeader(b: Uint8Array): JournalHeader {
  if (b.length < HEADER_SIZE)
    throw badFormat(`the file is ${b.length} bytes, shorter than the ${HEADER_SIZE}-byte header`, 0, {
      expected: `>= ${HEADER_SIZE}`,
      actual: b.length,
    });
  const magic = decodeText(b, 0, 8);
  if (magic !== JOURNAL_MAGIC)
    throw badFormat(`not a winrescue undo journal (magic ${JSON.stringify(magic)})`, 0, {
      expected: JOURNAL_MAGIC,
      actual: magic,
    });
  const crc = crc32c(b.subarray(0, HEADER_CRC_FIELD));
  if (u32(b, HEADER_CRC_FIELD) !== crc)
    throw badFormat('header checksum mismatch', HEADER_CRC_FIELD, {
      expected: hex(crc),
      actual: hex(u32(b, HEADER_CRC_FIELD)),
    });
  const version = u32(b, HEADER_VERSION_FIELD);
  if (version !== JOURNAL_VERSION || u32(b, HEADER_SIZE_FIELD) !== HEADER_SIZE)
    throw badFormat(`version ${version} is not one this winrescue writes`, HEADER_VERSION_FIELD, {
      expected: JOURNAL_VERSION,
      actual: version,
    });
  const pathLength = u16(b, HEADER_PATH_LENGTH_FIELD);
  checkRange(MAX_HEADER_PATH, 0, pathLength, { structure: 'journal.header', code: 'journal.badFormat' });
  return {
    created: safe(u64(b, HEADER_CREATED_FIELD), HEADER_CREATED_FIELD, 'creation time'),
    toolVersion: decodeText(b, HEADER_TOOL_FIELD, TOOL_VERSION_SIZE),
    identity: decodeIdentity(b, HEADER_IDENTITY_FIELD, 0),
    diskPath: decodeText(b, HEADER_PATH_FIELD, pathLength),
  };
}

function bodyOf(r: RecordBody): Uint8Array {
  switch (r.type) {
    case 'sessionStart': {
      const b = new Uint8Array(8 + IDENTITY_SIZE + TOOL_VERSION_SIZE);
      setU64(b, 0, r.created);
      encodeIdentity(r.identity, b, 8);
      encodeAscii(r.toolVersion, b, 8 + IDENTITY_SIZE, TOOL_VERSION_SIZE);
      return b;
    }
    case 'write':
    case 'cut': {
      const units = r.type === 'write' ? r.newCrcs.length : 0;
      const b = new Uint8Array(16 + r.old.length + 4 * units);
      setU64(b, 0, r.offset);
      setU32(b, 8, r.old.length);
      setU32(b, 12, crc32c(r.old));
      b.set(r.old, 16);
      if (r.type === 'write') {
        for (let i = 0; i < units; i++) setU32(b, 16 + r.old.length + 4 * i, r.newCrcs[i]!);
      }
      return b;
    }
    case 'grow':
    case 'shrink': {
      const b = new Uint8Array(16);
      setU64(b, 0, r.from);
      setU64(b, 8, r.to);
      return b;
    }
    case 'sessionEnd': {
      const b = new Uint8Array(IDENTITY_SIZE + 16);
      encodeIdentity(r.identity, b, 0);
      setU64(b, IDENTITY_SIZE, r.records);
      setU64(b, IDENTITY_SIZE + 8, r.bytes);
      return b;
    }
    case 'undoBegun': {
      const b = new Uint8Array(16);
      setU64(b, 0, r.time);
      setU32(b, 8, r.forced ? 1 : 0);
      return b;
    }
    case 'rewrite': {
      const b = new Uint8Array(16 + 4 * r.newCrcs.length);
      setU64(b, 0, r.offset);
      setU32(b, 8, r.length);
      for (let i = 0; i < r.newCrcs.length; i++) setU32(b, 16 + 4 * i, r.newCrcs[i]!);
      return b;
    }
    case 'undoDone': {
      const b = new Uint8Array(24);
      setU64(b, 0, r.time);
      setU64(b, 8, r.records);
      setU64(b, 16, r.bytes);
      return b;
    }
  }
}

/**
 * The bytes of one record: header, body, CRC-32C of both, zero padding to RECORD_ALIGNMENT. `inAppend` is its
 * place among the records written (and fsynced) together, 0 for the first.
 */
export function encodeRecord(seq: number, r: RecordBody, inAppend = 0): Uint8Array {
  const body = bodyOf(r);
  const unpadded = RECORD_HEADER_SIZE + body.length + RECORD_CRC_SIZE;
  const out = new Uint8Array(Math.ceil(unpadded / RECORD_ALIGNMENT) * RECORD_ALIGNMENT);
  encodeAscii(RECORD_MAGIC, out, 0, 4);
  setU16(out, RECORD_TYPE_FIELD, RecordType[r.type]);
  setU32(out, RECORD_BODY_LENGTH_FIELD, body.length);
  setU32(out, RECORD_IN_APPEND_FIELD, inAppend);
  setU64(out, RECORD_SEQUENCE_FIELD, seq);
  out.set(body, RECORD_HEADER_SIZE);
  const crcAt = RECORD_HEADER_SIZE + body.length;
  setU32(out, crcAt, crc32c(out.subarray(0, crcAt)));
  return out;
}

export function recordLength(bodyLength: number): number {
  return Math.ceil((RECORD_HEADER_SIZE + bodyLength + RECORD_CRC_SIZE) / RECORD_ALIGNMENT) * RECORD_ALIGNMENT;
}

/** An intact record at `at` (magic, length within the file, CRC), or a reason why there is none. */
function frameAt(b: Uint8Array, at: number): { length: number; type: number; body: Uint8Array } | string {
  if (at + RECORD_HEADER_SIZE + RECORD_CRC_SIZE > b.length) return 'the file ends inside a record header';
  if (decodeText(b, at, 4) !== RECORD_MAGIC) return 'no record magic';
  const bodyLength = u32(b, at + RECORD_BODY_LENGTH_FIELD);
  if (bodyLength > MAX_BODY) return `body length ${bodyLength} is beyond any record`;
  const length = recordLength(bodyLength);
  if (at + length > b.length) return 'the file ends inside the record';
  const crcAt = at + RECORD_HEADER_SIZE + bodyLength;
  if (u32(b, crcAt) !== crc32c(b.subarray(at, crcAt))) return 'record checksum mismatch';
  return {
    length,
    type: u16(b, at + RECORD_TYPE_FIELD),
    body: b.subarray(at + RECORD_HEADER_SIZE, crcAt),
  };
}

function decodeBody(type: number, body: Uint8Array, seq: number, at: number): JournalRecord {
  const name = TYPE_NAMES[type];
  const need = (n: number) => {
    if (body.length !== n)
      throw badFormat(`${name} record ${seq}: body of ${body.length} bytes, expected ${n}`, at, {
        expected: n,
        actual: body.length,
      });
  };
  const base = at + RECORD_HEADER_SIZE;
  switch (name) {
    case 'sessionStart':
      need(8 + IDENTITY_SIZE + TOOL_VERSION_SIZE);
      return {
        type: name,
        seq,
        at,
        created: safe(u64(body, 0), base, 'session time'),
        identity: decodeIdentity(body, 8, base),
        toolVersion: decodeText(body, 8 + IDENTITY_SIZE, TOOL_VERSION_SIZE),
      };
    case 'write':
    case 'cut': {
      if (body.length < 16) need(16);
      const offset = safe(u64(body, 0), base, 'record offset');
      const length = u32(body, 8);
      if (length === 0 || length > MAX_RECORD_DATA || offset + length > Number.MAX_SAFE_INTEGER)
        throw badFormat(`${name} record ${seq}: length ${length} is out of range`, at, {
          expected: `1..${MAX_RECORD_DATA}`,
          actual: length,
        });
      const units = name === 'write' ? unitCount(offset, length) : 0;
      need(16 + length + 4 * units);
      const old = body.slice(16, 16 + length);
      if (crc32c(old) !== u32(body, 12))
        throw badFormat(`${name} record ${seq}: old-bytes checksum mismatch`, at, {
          expected: hex(u32(body, 12)),
          actual: hex(crc32c(old)),
        });
      if (name === 'cut') return { type: name, seq, at, offset, old };
      const newCrcs = new Uint32Array(units);
      for (let i = 0; i < units; i++) newCrcs[i] = u32(body, 16 + length + 4 * i);
      return { type: name, seq, at, offset, old, newCrcs };
    }
    case 'grow':
    case 'shrink': {
      need(16);
      const from = safe(u64(body, 0), base, 'size');
      const to = safe(u64(body, 8), base + 8, 'size');
      if (name === 'grow' ? to <= from : to >= from)
        throw badFormat(`${name} record ${seq}: from ${from} to ${to}`, at, { actual: { from, to } });
      return { type: name, seq, at, from, to };
    }
    case 'sessionEnd':
      need(IDENTITY_SIZE + 16);
      return {
        type: name,
        seq,
        at,
        identity: decodeIdentity(body, 0, base),
        records: safe(u64(body, IDENTITY_SIZE), base, 'record count'),
        bytes: safe(u64(body, IDENTITY_SIZE + 8), base, 'byte count'),
      };
    case 'undoBegun':
      need(16);
      return { type: name, seq, at, time: safe(u64(body, 0), base, 'time'), forced: u32(body, 8) === 1 };
    case 'rewrite': {
      if (body.length < 16) need(16);
      const offset = safe(u64(body, 0), base, 'record offset');
      const length = u32(body, 8);
      if (
        length === 0 ||
        length > MAX_RECORD_DATA ||
        offset % CHECK_UNIT !== 0 ||
        length % CHECK_UNIT !== 0 ||
        offset + length > Number.MAX_SAFE_INTEGER
      )
        throw badFormat(`rewrite record ${seq}: range ${offset}+${length} is not whole sectors`, at, {
          actual: { offset, length },
        });
      const units = length / CHECK_UNIT;
      need(16 + 4 * units);
      const newCrcs = new Uint32Array(units);
      for (let i = 0; i < units; i++) newCrcs[i] = u32(body, 16 + 4 * i);
      return { type: name, seq, at, offset, length, newCrcs };
    }
    case 'undoDone':
      need(24);
      return {
        type: name,
        seq,
        at,
        time: safe(u64(body, 0), base, 'time'),
        records: safe(u64(body, 8), base, 'record count'),
        bytes: safe(u64(body, 16), base, 'byte count'),
      };
    default:
      throw badFormat(`record ${seq} has unknown type ${type}`, at, { actual: type });
  }
}

export interface RecordScan {
  readonly records: readonly JournalRecord[];
  /** End of the last intact record: where the next append goes. */
  readonly validLength: number;
  /** Bytes after validLength that are not an intact record: a torn append, ignored. */
  readonly tornBytes: number;
}

/**
 * Every intact record after the header, in order. The first place that is not an intact record ends the scan as a
 * torn append. A crash can leave later records of that same append intact (a disk persists the sectors of one
 * write in any order), and they are ignored with it: none of their writes had begun. An intact record of a later
 * append means the damage is not a crash while appending (everything before an append was fsynced), and the
 * journal is refused rather than silently shortened.
 */
export function scanRecords(b: Uint8Array): RecordScan {
  const records: JournalRecord[] = [];
  let at = HEADER_SIZE;
  while (at < b.length) {
    const frame = frameAt(b, at);
    if (typeof frame === 'string') {
      const damagedSeq = records.length + 1;
      for (let q = at + RECORD_ALIGNMENT; q + RECORD_HEADER_SIZE <= b.length; q += RECORD_ALIGNMENT) {
        if (typeof frameAt(b, q) === 'string') continue;
        const appendStart = Number(u64(b, q + RECORD_SEQUENCE_FIELD)) - u32(b, q + RECORD_IN_APPEND_FIELD);
        if (appendStart > damagedSeq)
          throw badFormat(
            `${frame}, but an intact record of a later append follows at ${hex(q)}: the journal is damaged`,
            at,
          );
      }
      return { records, validLength: at, tornBytes: b.length - at };
    }
    const seq = safe(u64(b, at + RECORD_SEQUENCE_FIELD), at + RECORD_SEQUENCE_FIELD, 'sequence');
    const expected = records.length + 1;
    if (seq !== expected)
      throw badFormat(`record sequence ${seq} where ${expected} was expected`, at, {
        expected,
        actual: seq,
      });
    records.push(decodeBody(frame.type, frame.body, seq, at));
    at += frame.length;
  }
  return { records, validLength: at, tornBytes: 0 };
}
