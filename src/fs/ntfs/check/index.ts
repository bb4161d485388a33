// The NTFS consistency check (read-only, chkdsk-like): one sequential pass over $MFT, then every directory's
// index, then the cross-checks that need both. Format notes, problem kinds and what each oracle confirms:
// docs/formats/ntfs-check.md. Everything is reported; nothing is written.
import { isWinrescueError } from '../../../errors.js';
import { defaultUpcase } from '../upcase.js';
import type { NtfsVolume } from '../volume.js';
import { ClusterMap } from './cluster-map.js';
import { checkDirectory, prefetchAllocation, type IndexPassState, type Prefetched } from './index-check.js';
import type { NtfsFile } from '../file-record.js';
import { checkAttributeLists, checkNamesAndLinks, findClusterOwners } from './links-check.js';
import { mftPass, type PassState } from './mft-pass.js';
import { PathResolver } from './paths.js';
import { Findings, type CheckReport, type Problem } from './problems.js';
import { BIT_INCOMPLETE, NameTable, RecordTable, STATE_DAMAGED, STATE_IN_USE } from './record-table.js';
import {
  checkBitmap,
  checkBootSectors,
  checkLogAndDirty,
  checkMftBitmap,
  checkMirror,
  checkSecure,
  readMirror,
} from './volume-checks.js';

export {
  PROBLEM_KINDS,
  MAX_PER_KIND,
  formatProblem,
  type Problem,
  type ProblemKind,
  type CheckReport,
  type CheckStats,
} from './problems.js';
export { checkRecord, type RecordFacts } from './record-check.js';

export interface CheckOptions {
  /** Called with a short phase name as the check moves on (progress on stderr). */
  onPhase?: (phase: string) => void;
}

const UPCASE_RECORD = 10;
/** Directories resolved and read ahead of the one being checked (at most this many allocations in memory). */
const READ_AHEAD = 4;
/** One bit a cluster: 2^32 clusters (16 TiB of 4 KiB clusters) already take a 512 MiB bitset. */
const MAX_ACCOUNTED_CLUSTERS = 2 ** 32;

export async function checkNtfs(vol: NtfsVolume, options: CheckOptions = {}): Promise<CheckReport> {
  const started = performance.now();
  const phase = options.onPhase ?? (() => undefined);
  const findings = new Findings();
  phase('boot sector');
  await checkBootSectors(vol, findings);
  const mirror = await readMirror(vol, findings);
  await checkMirror(vol, mirror, findings);

  // Clusters past the device's end cannot be read anyway; the boot-sector check reports a short image.
  let accounted = Math.min(vol.boot.totalClusters, Math.floor(vol.device.size / vol.clusterSize));
  if (accounted > MAX_ACCOUNTED_CLUSTERS) {
    findings.add(
      'unreadable',
      6,
      `${accounted} clusters are more than cluster accounting handles (${MAX_ACCOUNTED_CLUSTERS}); skipped`,
    );
    accounted = 0;
  }

  phase('MFT');
  const s: PassState = {
    vol,
    table: new RecordTable(vol.mftRecordCount),
    names: new NameTable(),
    clusters: new ClusterMap(accounted),
    findings,
    directories: new Map(),
    attributeLists: [],
    extensions: [],
    securityIds: new Map(),
    mirror,
  };
  await mftPass(s);
  await checkAttributeLists(s);

  phase('cluster accounting');
  let damaged = 0;
  for (let n = 0; n < s.table.count; n++) if (s.table.state[n] === STATE_DAMAGED) damaged++;
  const unmarked = accounted > 0 ? await checkBitmap(vol, s.clusters, findings, damaged) : null;
  if (unmarked || s.clusters.conflicts) await findClusterOwners(vol, s.clusters, unmarked, findings);
  await checkMftBitmap(vol, s.table, findings);

  phase('indexes');
  let upcase: Uint16Array;
  try {
    upcase = await vol.upcase();
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    findings.add('unreadable', UPCASE_RECORD, `$UpCase cannot be read (${e.message}); ASCII case rules used`);
    upcase = defaultUpcase();
  }
  const ix: IndexPassState = {
    vol,
    table: s.table,
    names: s.names,
    findings,
    upcase,
    damagedNames: new Map(),
    entries: 0,
  };
  const dirs = [...s.directories.keys()].sort((a, b) => a - b);
  // Each directory's file is resolved and its allocation read a few directories ahead of its check.
  const prepare = async (d: number): Promise<{ file: NtfsFile; prefetched?: Prefetched } | null> => {
    const raw = s.directories.get(d);
    s.directories.delete(d);
    const rec = raw ? vol.parseRecordBytes(raw, d) : undefined;
    if (isWinrescueError(rec)) return null;
    try {
      const file = await vol.file(d, rec);
      return { file, prefetched: prefetchAllocation(vol, file) };
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      return null;
    }
  };
  const ahead: Promise<{ file: NtfsFile; prefetched?: Prefetched } | null>[] = [];
  for (let i = 0; i < Math.min(READ_AHEAD, dirs.length); i++) ahead.push(prepare(dirs[i]!));
  for (let i = 0; i < dirs.length; i++) {
    const ready = await ahead.shift()!;
    if (i + READ_AHEAD < dirs.length) ahead.push(prepare(dirs[i + READ_AHEAD]!));
    if (!ready) {
      s.table.flag(dirs[i]!, BIT_INCOMPLETE);
      continue;
    }
    await checkDirectory(ix, dirs[i]!, ready.file, ready.prefetched);
  }
  checkNamesAndLinks(s.table, s.names, findings);

  phase('security, log');
  await checkSecure(vol, s.securityIds, findings);
  await checkLogAndDirty(vol, findings);

  phase('paths');
  const paths = new PathResolver(vol);
  const problems: Problem[] = [];
  for (const f of findings.list) {
    let path: string | null = f.path ?? null;
    if (path === null && f.dir !== undefined && f.name !== undefined && f.kind !== 'index-order')
      path = await paths.inDirectory(f.dir, f.name);
    if (path === null && f.record !== null) {
      const named = ix.damagedNames.get(f.record);
      path = named ? await paths.inDirectory(named.dir, named.name) : await paths.path(f.record);
    }
    problems.push({ kind: f.kind, record: f.record, path, detail: f.detail });
  }
  let inUse = 0;
  for (let n = 0; n < s.table.count; n++) if (s.table.state[n] === STATE_IN_USE) inUse++;
  return {
    clean: problems.length === 0,
    problems,
    truncated: findings.truncated,
    stats: {
      mftRecords: vol.mftRecordCount,
      recordsInUse: inUse,
      directories: dirs.length,
      indexEntries: ix.entries,
      clusters: vol.boot.totalClusters,
      clustersInUse: s.clusters.claimedCount,
      seconds: +((performance.now() - started) / 1000).toFixed(3),
    },
  };
}
