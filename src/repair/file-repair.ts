// The replace-file playbook on the NTFS writer (REFERENCE.md §1.2, §1.6; DESIGN.md "What 0xC0000102 really is").
// A record NTFS cannot read is never renamed: its index entries go (the System32 name and its WinSxS twin), the
// record is quarantined, what data can still be read is kept as NAME.old, and the replacement is a new file with
// its own clusters. A readable file with bad content is renamed to NAME.old (NAME.old.N when taken). Either way the
// replacement keeps the original's security and attributes when they can be read, else the source copy's.
import { WinrescueError } from '../errors.js';
import type { NtfsWriter, FileLike } from '../fs/ntfs/write/index.js';
import { salvageData, salvageRecord } from '../fs/ntfs/salvage.js';
import { RECORD_FAULTS } from '../diagnose/conclude.js';
import type { FileEvidence } from '../diagnose/evidence/examine.js';
import type { Candidate } from './candidates.js';

export interface RepairJob {
  /** The damaged file as diagnose examined it, and the volume it is on. */
  readonly file: FileEvidence & { readonly volume: 'windows' | 'system' };
  readonly candidate: Candidate;
}

export interface RepairStep {
  readonly action: 'quarantine-record' | 'save-old' | 'rename-to-old' | 'restore-file';
  /** '/'-separated volume path (the record's first name for a quarantine). */
  readonly target: string;
  readonly old: unknown;
  readonly new: unknown;
  readonly detail: string;
}

/** How many `.old.N` names are tried before giving up: a folder full of them is not a repair target. */
const MAX_OLD_NAMES = 100;

const slash = (p: string) => p.replaceAll('\\', '/');

async function freeOldName(w: NtfsWriter, path: string): Promise<string> {
  for (let n = 0; n < MAX_OLD_NAMES; n++) {
    const name = n === 0 ? `${path}.old` : `${path}.old.${n}`;
    if ((await w.lookupOrNull(name)) === null) return name;
  }
  throw new WinrescueError('repair.refused', `${path}: ${MAX_OLD_NAMES} .old names already taken`, { path });
}

/** The original's security and attributes from what survives of its record. */
function likeFromSalvage(raw: Uint8Array, record: number, totalClusters: number): FileLike | null {
  const s = salvageRecord(raw, record, totalClusters);
  if (!s.standardInformation && !s.securityDescriptor) return null;
  return {
    ...(s.standardInformation ? { fileAttributes: s.standardInformation.fileAttributes } : {}),
    ...(s.standardInformation?.securityId ? { securityId: s.standardInformation.securityId } : {}),
    ...(s.securityDescriptor ? { securityDescriptor: s.securityDescriptor } : {}),
  };
}

async function sourceLike(w: NtfsWriter, c: Candidate): Promise<FileLike | null> {
  return c.record !== null && (c.source === 'winsxs' || c.source === 'driverstore' || c.source === 'boot')
    ? w.fileLike(c.record)
    : null;
}

/** The good copy as a new file; `own` says whose security and attributes it got. */
async function writeReplacement(
  w: NtfsWriter,
  path: string,
  c: Candidate,
  like: FileLike | null,
  own: boolean,
): Promise<RepairStep> {
  await w.writeFile(path, c.bytes, like ? { like } : {});
  return restoreStep(
    path,
    c,
    `a new file with its own clusters, ${own ? "the original's" : "the source copy's"} security and attributes`,
  );
}

export function restoreStep(path: string, c: Candidate, detail: string): RepairStep {
  return {
    action: 'restore-file',
    target: path,
    old: null,
    new: { from: c.path, source: c.source, version: c.version, sha256: c.sha256, size: c.bytes.length },
    detail,
  };
}

async function repairStructure(w: NtfsWriter, job: RepairJob): Promise<RepairStep[]> {
  const f = job.file;
  const path = slash(f.path);
  const record = f.record!;
  const steps: RepairStep[] = [];
  const raw = await w.volume.readMftBytes(record, 1);
  const original = likeFromSalvage(raw, record, w.volume.boot.totalClusters);
  const like = original ?? (await sourceLike(w, job.candidate));
  const own = original !== null;
  const salvaged = await salvageData(w.volume, record);
  const report = await w.quarantine(record, { freeUnclaimed: true });
  steps.push({
    action: 'quarantine-record',
    target: path,
    old: { record, names: f.names },
    new: {
      entriesRemoved: report.entriesRemoved.map((e) => e.name),
      clustersFreed: report.clustersFreed,
      clustersKeptShared: report.clustersKeptShared,
      lostClustersFreed: report.lostClustersFreed,
    },
    detail: `record ${record} (${f.structure?.kind ?? 'damaged'}) unlinked from ${report.entriesRemoved.length} director${report.entriesRemoved.length === 1 ? 'y' : 'ies'} and marked free`,
  });
  if (salvaged && salvaged.bytes.length > 0) {
    const oldName = await freeOldName(w, path);
    await w.writeFile(oldName, salvaged.bytes, like ? { like } : {});
    steps.push({
      action: 'save-old',
      target: oldName,
      old: null,
      new: { size: salvaged.bytes.length, complete: salvaged.complete },
      detail: salvaged.complete
        ? 'every byte of the old data was readable'
        : `partly readable: ${salvaged.detail}`,
    });
  }
  steps.push(await writeReplacement(w, path, job.candidate, like, own));
  return steps;
}

async function repairContent(w: NtfsWriter, job: RepairJob): Promise<RepairStep[]> {
  const path = slash(job.file.path);
  const existing = await w.lookupOrNull(path);
  const steps: RepairStep[] = [];
  let like: FileLike | null = null;
  if (existing) {
    like = await w.fileLike(existing.record);
    const oldName = await freeOldName(w, path);
    await w.rename(path, oldName);
    steps.push({
      action: 'rename-to-old',
      target: path,
      old: path,
      new: oldName,
      detail: `record ${existing.record} keeps its data under the new name`,
    });
  }
  const own = like !== null;
  like ??= await sourceLike(w, job.candidate);
  steps.push(await writeReplacement(w, path, job.candidate, like, own));
  return steps;
}

/**
 * Applies every job through the writer; the caller flushes, checks and reports. Where the original's security
 * could not be kept (an id $Secure lacks, a descriptor that does not parse), the writer falls back and says so in
 * `w.warnings`: the last step carries those sentences.
 */
export async function repairFiles(w: NtfsWriter, jobs: readonly RepairJob[]): Promise<RepairStep[]> {
  const steps: RepairStep[] = [];
  const warningsBefore = w.warnings.length;
  for (const job of jobs) {
    const f = job.file;
    if (f.verdict === 'corrupt-structure') {
      if (f.record === null || !f.structure || !RECORD_FAULTS.has(f.structure.kind)) {
        throw new WinrescueError(
          'repair.unsupported',
          `${f.path}: ${f.structure?.kind ?? 'structure damage'} is not confined to the file's record; it needs NTFS structure repair`,
          { path: f.path },
        );
      }
      steps.push(...(await repairStructure(w, job)));
    } else {
      steps.push(...(await repairContent(w, job)));
    }
  }
  const fallbacks = w.warnings.slice(warningsBefore);
  const last = steps.pop();
  if (last)
    steps.push(fallbacks.length > 0 ? { ...last, detail: `${last.detail}; ${fallbacks.join('; ')}` } : last);
  return steps;
}
