// The check's one sequential pass over $MFT: large reads in record order, each record checked
// (record-check.ts) and boiled down into the record table, the name table and the cluster map. Directory
// records are kept as read (a few KiB each) for the index pass; nothing else of a record outlives its chunk.
import { isWinrescueError } from '../../../errors.js';
import { MFT_RECORD_IS_DIRECTORY } from '../mft-record.js';
import type { NtfsVolume } from '../volume.js';
import type { ClusterMap } from './cluster-map.js';
import type { Findings } from './problems.js';
import { checkRecord, isDosOnly, type RecordFacts } from './record-check.js';
import {
  BIT_ATTRIBUTE_LIST,
  BIT_EXTENSION,
  BIT_I30,
  BIT_INCOMPLETE,
  STATE_DAMAGED,
  STATE_EMPTY,
  STATE_FREE,
  STATE_IN_USE,
  type NameTable,
  type RecordTable,
} from './record-table.js';

/** Bytes per sequential read of $MFT (1 MiB measured faster and leaner than 4 MiB: the chunk stays in cache). */
const CHUNK_BYTES = 1024 * 1024;
/** System files 0..15 must all be valid records (12..15 reserved but written by format). */
const SYSTEM_RECORDS = 16;
/** Records mirrored in $MFTMirr: a damaged copy of one of these is read from the mirror instead. */
export const MIRRORED_RECORDS = 4;

export interface PassState {
  readonly vol: NtfsVolume;
  readonly table: RecordTable;
  readonly names: NameTable;
  readonly clusters: ClusterMap;
  readonly findings: Findings;
  /** Directory base records as read (fixups in place), or null to read the file again, for the index pass. */
  readonly directories: Map<number, Uint8Array | null>;
  /** Base records with an attribute list, resolved after the pass. */
  readonly attributeLists: number[];
  /** In-use extension records. */
  readonly extensions: number[];
  /** security id -> records using it (count) and the first of them. */
  readonly securityIds: Map<number, { count: number; first: number }>;
  /** $MFTMirr copies of records 0..3 (as on disk), used when the $MFT copy is damaged. */
  readonly mirror: (Uint8Array | null)[];
}

/** Reads $MFT in chunks (the next chunk is read while this one is checked) and visits every record. */
export async function forEachRecordChunk(
  vol: NtfsVolume,
  visit: (first: number, buf: Uint8Array | null, count: number) => void,
): Promise<void> {
  const rs = vol.recordSize;
  const per = Math.max(1, Math.floor(CHUNK_BYTES / rs));
  const read = async (first: number): Promise<Uint8Array | null> => {
    try {
      return await vol.readMftBytes(first, Math.min(per, vol.mftRecordCount - first));
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      return null;
    }
  };
  let next = vol.mftRecordCount > 0 ? read(0) : null;
  for (let first = 0; first < vol.mftRecordCount; first += per) {
    const buf = await next!;
    next = first + per < vol.mftRecordCount ? read(first + per) : null;
    visit(first, buf, Math.min(per, vol.mftRecordCount - first));
  }
}

/** Reads one record alone (after a chunk read failed): its bytes, or null when unreadable. */
async function readOne(vol: NtfsVolume, n: number): Promise<Uint8Array | null> {
  try {
    return await vol.readMftBytes(n, 1);
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    return null;
  }
}

export async function mftPass(s: PassState): Promise<void> {
  const { vol } = s;
  const rs = vol.recordSize;
  const failed: number[] = [];
  await forEachRecordChunk(vol, (first, buf, count) => {
    if (!buf) {
      for (let k = 0; k < count; k++) failed.push(first + k);
      return;
    }
    for (let k = 0; k < count; k++) visitRecord(s, first + k, buf.subarray(k * rs, (k + 1) * rs));
  });
  for (const n of failed) {
    const raw = await readOne(vol, n);
    if (raw) visitRecord(s, n, raw);
    else {
      s.table.state[n] = STATE_DAMAGED;
      s.table.flag(n, BIT_INCOMPLETE);
      s.findings.add('unreadable', n, `MFT record ${n} cannot be read from the device`);
    }
  }
}

function visitRecord(s: PassState, n: number, raw: Uint8Array): void {
  const { vol, findings } = s;
  const keep = (raw[22]! & MFT_RECORD_IS_DIRECTORY) !== 0 ? raw.slice() : null;
  const offset = vol.recordOffset(n);
  let facts = checkRecord(raw, n, offset, vol.boot.totalClusters, vol.clusterSize);
  for (const f of facts.findings) findings.add(f.kind, n, f.detail);
  if (n < SYSTEM_RECORDS && facts.state === 'empty')
    findings.add('bad-record', n, `system record ${n} is zeroed`);
  if (n < SYSTEM_RECORDS && facts.state === 'free')
    findings.add('bad-record', n, `system record ${n} is marked not in use`);
  // The mirror's copy stands in for a damaged $MFT, $MFTMirr, $LogFile or $Volume record (as chkdsk restores it).
  const mirrored = n < MIRRORED_RECORDS ? s.mirror[n] : null;
  if (facts.state !== 'inUse' && mirrored) {
    const fromMirror = checkRecord(mirrored.slice(), n, offset, vol.boot.totalClusters, vol.clusterSize);
    if (fromMirror.state === 'inUse') facts = fromMirror;
  }
  record(s, n, facts);
  if (facts.state !== 'inUse') return;
  // A directory: the header flag, or an $I30 root (which an attribute list may have moved to an extension).
  if (!facts.isExtension && (facts.isDirectoryFlag || facts.hasI30Root)) {
    s.table.flag(n, BIT_I30);
    s.directories.set(n, keep);
  } else if (facts.isExtension && facts.hasI30Root && facts.baseRecord < s.table.count) {
    s.table.flag(facts.baseRecord, BIT_I30);
    if (!s.directories.has(facts.baseRecord)) s.directories.set(facts.baseRecord, null);
  }
}

function record(s: PassState, n: number, f: RecordFacts): void {
  const { table } = s;
  table.sequence[n] = f.sequence;
  if (f.state === 'empty') {
    table.state[n] = STATE_EMPTY;
    return;
  }
  if (f.state === 'free') {
    table.state[n] = STATE_FREE;
    return;
  }
  if (f.state === 'damaged') {
    table.state[n] = STATE_DAMAGED;
    table.flag(n, BIT_INCOMPLETE);
    return;
  }
  table.state[n] = STATE_IN_USE;
  table.linkCount[n] = f.linkCount;
  table.baseRecord[n] = f.baseRecord;
  const owner = f.isExtension ? f.baseRecord : n;
  if (f.isExtension) {
    table.flag(n, BIT_EXTENSION);
    s.extensions.push(n);
  }
  if (f.attributeList && !f.isExtension) {
    table.flag(n, BIT_ATTRIBUTE_LIST);
    s.attributeLists.push(n);
  }
  if (owner < table.count) {
    for (const name of f.names) {
      s.names.add(owner, name);
      table.nameCount[owner]!++;
      if (!isDosOnly(name)) table.nonDosNames[owner]!++;
    }
  }
  if (f.securityId !== 0) {
    const u = s.securityIds.get(f.securityId);
    if (u) u.count++;
    else s.securityIds.set(f.securityId, { count: 1, first: owner });
  }
  for (const c of f.claims) s.clusters.claim(c.lcn, c.length);
}
