// `winrescue repair`: diagnose → plan → confirm → apply through the undo journal → verify → the configuration
// playbooks, as Microsoft's procedure orders them (REFERENCE.md §1.2). The NTFS changes are first made in a
// copy-on-write overlay (the dry run, and the proof the plan applies) and only then, once confirmed, on the disk.
import { stat } from 'node:fs/promises';
import { WinrescueError, isWinrescueError } from '../errors.js';
import type { Problem as CheckProblem } from '../fs/ntfs/check/problems.js';
import type { NtfsVolume } from '../fs/ntfs/index.js';
import { lazyCatalogs } from '../diagnose/evidence/catalogs.js';
import type { TrustContext } from '../diagnose/evidence/examine.js';
import { isFinding } from '../diagnose/conclude.js';
import { findRestoreCandidates, type CandidateSearch } from '../repair/candidates.js';
import { repairFiles, restoreStep, type RepairJob, type RepairStep } from '../repair/file-repair.js';
import { diagnose, type DiagnoseOptions, type DiagnoseReport, type ReportedFile } from './diagnose.js';
import { openVolume, type OpenedVolume } from './open-volume.js';
import { withNtfsWriter } from './ntfs-write.js';
import type { NtfsWriteForce } from '../fs/ntfs/write/index.js';
import { enableMemoryDump, enableSerialConsole, type PlaybookResult } from './playbooks.js';
import { undoCommand } from './undo.js';
import { openDisk } from '../disk/open-disk.js';
import { OverlayDevice } from '../disk/overlay-device.js';
import { readPartitions } from '../partition/index.js';
import { openFat } from '../fs/fat/index.js';
import { locateWindows, type SystemPartition } from '../windows/index.js';
import { readFile } from 'node:fs/promises';

export interface RepairOptions extends Omit<DiagnoseOptions, 'onFile'> {
  /** A folder holding good copies (at the damaged file's path, or by name), or a healthy disk of the same build. */
  source?: string;
  dryRun?: boolean;
  /** Apply without asking. */
  yes?: boolean;
  /** Asked with the plan when not --yes; without it (no TTY) the repair is refused. */
  confirm?: (plan: RepairPlanItem[]) => Promise<boolean>;
  /** Enable the serial console (EMS) in the BCD store; default true. */
  ems?: boolean;
  /** Enable memory dumps in SYSTEM; default true. */
  dump?: boolean;
  journalPath?: string;
  /** The NTFS writer's named risks (dirty $LogFile, hibernated, dirty flag): docs/formats/ntfs-write.md. */
  force?: NtfsWriteForce;
  /** Write although our check finds problems other than the ones this repair fixes. */
  forceDamaged?: boolean;
  /** Progress lines for long steps. */
  onStep?: (what: string) => void;
}

export interface RepairPlanItem {
  action: string;
  target: string;
  old: unknown;
  new: unknown;
  detail?: string;
}

export interface RepairResult {
  disk: string;
  /** The disk was changed (false for a dry run, nothing to do, or a refusal). */
  changed: boolean;
  dryRun: boolean;
  diagnosis: Pick<DiagnoseReport, 'stopCode' | 'file' | 'cause' | 'findings' | 'summary'>;
  plan: RepairPlanItem[];
  /** Per damaged file: the copy chosen and every one rejected, with why. */
  sources: {
    target: string;
    chosen: string | null;
    rejected: { path: string; reason: string }[];
    notes: string[];
  }[];
  /** After applying: the repaired files' verdicts, the cause diagnose now gives, and our check's problems. */
  verify: {
    cause: string;
    files: { path: string; verdict: string; evidence: string }[];
    checkProblems: string[];
  } | null;
  notes: string[];
  undo: string | null;
  warnings: string[];
}

/** The files diagnose made findings of: what repair restores. */
function actionable(report: DiagnoseReport): ReportedFile[] {
  return report.files.filter(isFinding);
}

async function openSource(
  source: string | undefined,
): Promise<{ kind: 'dir'; path: string } | { kind: 'disk'; opened: OpenedVolume } | undefined> {
  if (source === undefined) return undefined;
  let st;
  try {
    st = await stat(source);
  } catch {
    throw new WinrescueError('cli.usage', `--source ${source}: no such file or folder`, { path: source });
  }
  if (st.isDirectory()) return { kind: 'dir', path: source };
  return { kind: 'disk', opened: await openVolume(source) };
}

/** Check problems about the records this repair replaces, and the clusters only they held: expected before. */
function expectedDamage(files: readonly ReportedFile[]): (p: CheckProblem) => boolean {
  const records = new Set(
    files.filter((f) => f.verdict === 'corrupt-structure' && f.record !== null).map((f) => f.record!),
  );
  // Lost clusters are what a record with an unreadable runlist leaves: the quarantine frees them.
  return (p) =>
    (p.record !== null && records.has(p.record)) || (records.size > 0 && p.kind === 'lost-clusters');
}

function playbookItems(r: PlaybookResult): RepairPlanItem[] {
  return r.plan
    .filter((s) => s.status === 'change')
    .map((s) => ({
      action: s.action,
      target: s.target,
      old: s.old,
      new: s.new,
      ...(s.note ? { detail: s.note } : {}),
    }));
}

function stepItems(steps: readonly RepairStep[]): RepairPlanItem[] {
  return steps.map((s) => ({ action: s.action, target: s.target, old: s.old, new: s.new, detail: s.detail }));
}

async function searchAll(
  vol: NtfsVolume,
  files: readonly ReportedFile[],
  report: DiagnoseReport,
  trust: TrustContext,
  source: Awaited<ReturnType<typeof openSource>>,
): Promise<{ jobs: RepairJob[]; searches: { file: ReportedFile; search: CandidateSearch }[] }> {
  const jobs: RepairJob[] = [];
  const searches: { file: ReportedFile; search: CandidateSearch }[] = [];
  const arch = (report.architecture ?? 'AMD64').toUpperCase();
  const architecture = arch === 'X86' ? 'x86' : arch === 'ARM64' ? 'arm64' : 'amd64';
  for (const f of files) {
    const search = await findRestoreCandidates(
      vol,
      { path: f.path, record: f.record, names: f.names, version: f.version, volume: f.volume },
      {
        trust,
        architecture,
        ...(source?.kind === 'dir' ? { source: source } : {}),
        ...(source?.kind === 'disk'
          ? { source: { kind: 'disk' as const, volume: source.opened.volume } }
          : {}),
      },
    );
    searches.push({ file: f, search });
    if (search.chosen) jobs.push({ file: f, candidate: search.chosen });
  }
  return { jobs, searches };
}

const COMPONENT_STORE_FIX = 'run DISM /Online /Cleanup-Image /RestoreHealth on the repaired, running system';

/** What the component store is left with: the WinSxS names of the damaged record (REFERENCE.md §1.6). */
function twinNotes(job: RepairJob): string[] {
  const own = job.file.path.replaceAll('\\', '/').toUpperCase();
  const twins = job.file.names.filter((n) => n.toUpperCase() !== own && /\/WinSxS\//i.test(n));
  return twins.map((t) =>
    job.file.verdict === 'corrupt-structure'
      ? `${t} was the same MFT record: its entry went with the quarantined record, so the component store lacks that file; ${COMPONENT_STORE_FIX}`
      : `${t} is the same MFT record as the renamed .old file and still holds the damaged data; ${COMPONENT_STORE_FIX}`,
  );
}

export async function repair(diskPath: string, options: RepairOptions = {}): Promise<RepairResult> {
  const step = options.onStep ?? (() => {});
  step('diagnosing');
  const report = await diagnose(diskPath, options);
  const diagnosis = {
    stopCode: report.stopCode,
    file: report.file,
    cause: report.cause,
    findings: report.findings,
    summary: report.summary,
  };
  const base = { disk: diskPath, dryRun: options.dryRun === true, diagnosis, warnings: [...report.warnings] };
  const files = actionable(report);
  if (files.length === 0) {
    return {
      ...base,
      changed: false,
      plan: [],
      sources: [],
      verify: null,
      notes: [`nothing to repair: ${report.summary}`],
      undo: null,
    };
  }
  const unreadableEsp = files.find((f) => f.volume === 'system' && f.verdict === 'corrupt-structure');
  if (unreadableEsp) {
    throw new WinrescueError(
      'repair.unsupported',
      `${unreadableEsp.path} on the system partition cannot be read (${unreadableEsp.evidence}): its directory or chain needs fsck/chkdsk first`,
      { path: unreadableEsp.path },
    );
  }
  const roots = await Promise.all(
    (options.trustRoots ?? []).map(async (p) => new Uint8Array(await readFile(p))),
  );
  const source = await openSource(options.source);
  let searched;
  const opened = await openVolume(
    diskPath,
    options.partition !== undefined ? { partition: options.partition } : {},
  );
  try {
    step('looking for good copies');
    const warnings: string[] = [];
    const trust: TrustContext = { roots, catalogs: lazyCatalogs(opened.volume, warnings) };
    searched = await searchAll(opened.volume, files, report, trust, source);
    base.warnings.push(...warnings);
  } finally {
    await opened.close();
    if (source?.kind === 'disk') await source.opened.close();
  }
  const sources = searched.searches.map(({ file, search }) => ({
    target: file.path,
    chosen: search.chosen?.path ?? null,
    rejected: search.rejected.map((r) => ({ path: r.path, reason: r.reason })),
    notes: [...search.notes],
  }));
  // The candidate search says a twin shares the record; what becomes of it depends on how the file is repaired.
  const notes = [
    ...sources.flatMap((s) => s.notes.filter((n) => !/same record/i.test(n))),
    ...searched.jobs.flatMap(twinNotes),
  ];
  const missing = searched.searches.filter((s) => s.search.chosen === null);
  if (missing.length > 0) {
    const m = missing[0]!;
    const why = m.search.rejected
      .slice(0, 3)
      .map((r) => `${r.path}: ${r.reason}`)
      .join('; ');
    throw new WinrescueError(
      'repair.noCandidate',
      `no good copy of ${m.file.path} on this disk${why ? ` (${why})` : ''}: nothing written. ` +
        'Give one with --source DIR (a folder holding the file) or --source OTHER-DISK (a healthy disk of the same build)',
      { path: m.file.path },
    );
  }
  const ntfsOptions = {
    ...(options.partition !== undefined ? { partition: options.partition } : {}),
    ...(options.journalPath !== undefined ? { journalPath: options.journalPath } : {}),
    ...(options.force ? { force: options.force } : {}),
    ...(options.forceDamaged ? { forceDamaged: true } : {}),
    acceptProblem: expectedDamage(files),
  };
  // The plan is made by applying it to an overlay: what is shown is what was done there, not a guess.
  step('planning in an overlay');
  const windowsJobs = searched.jobs.filter((j) => j.file.volume === 'windows');
  const systemJobs = searched.jobs.filter((j) => j.file.volume === 'system');
  const systemPart = systemJobs.length > 0 ? await systemPartition(diskPath) : null;
  const rehearsal = await withNtfsWriter(diskPath, { ...ntfsOptions, dryRun: true }, (w) =>
    repairFiles(w, windowsJobs),
  );
  const systemRehearsal = systemPart
    ? await repairSystem(diskPath, systemPart, systemJobs, { dryRun: true })
    : [];
  if (rehearsal.checkAfter.length > 0) {
    throw new WinrescueError(
      'repair.refused',
      `the rehearsed repair leaves problems our check finds (${rehearsal.checkAfter[0]}): nothing written`,
      { path: diskPath },
    );
  }
  const playbookOptions = {
    ...(options.journalPath !== undefined ? { journalPath: options.journalPath } : {}),
    ...(options.force ? { ntfsForce: options.force } : {}),
    ...(options.forceDamaged ? { forceDamaged: true } : {}),
  };
  const planned: PlaybookResult[] = [];
  if (options.ems !== false)
    planned.push(await enableSerialConsole(diskPath, { ...playbookOptions, dryRun: true }));
  if (options.dump !== false)
    planned.push(await enableMemoryDump(diskPath, { ...playbookOptions, dryRun: true }));
  const plan = [
    ...stepItems(systemRehearsal),
    ...stepItems(rehearsal.plan),
    ...planned.flatMap(playbookItems),
  ];
  if (options.dryRun) {
    return { ...base, changed: false, plan, sources, verify: null, notes, undo: null };
  }
  if (!options.yes) {
    const ok = options.confirm ? await options.confirm(plan) : null;
    if (ok === null) {
      throw new WinrescueError(
        'repair.needsConfirmation',
        'repair changes the disk: run it on a terminal to confirm, or pass --yes (see the plan with --dry-run)',
        { path: diskPath },
      );
    }
    if (!ok) throw new WinrescueError('repair.refused', 'not confirmed: nothing written', { path: diskPath });
  }
  step('repairing');
  const applied: RepairPlanItem[] = systemPart
    ? stepItems(
        await repairSystem(diskPath, systemPart, systemJobs, {
          ...(options.journalPath !== undefined ? { journalPath: options.journalPath } : {}),
        }),
      )
    : [];
  if (windowsJobs.length > 0) {
    const done = await withNtfsWriter(diskPath, ntfsOptions, (w) => repairFiles(w, windowsJobs));
    applied.push(...stepItems(done.plan));
  }
  const undo = undoCommand(diskPath, options.journalPath);
  try {
    if (options.ems !== false)
      applied.push(...playbookItems(await enableSerialConsole(diskPath, playbookOptions)));
    if (options.dump !== false)
      applied.push(...playbookItems(await enableMemoryDump(diskPath, playbookOptions)));
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    base.warnings.push(`the file repair is done, but a configuration playbook failed: ${e.message}`);
  }
  step('verifying');
  const after = await diagnose(diskPath, {
    ...(options.trustRoots ? { trustRoots: options.trustRoots } : {}),
  });
  const repaired = new Set(files.map((f) => f.path.toUpperCase()));
  const { check } = await import('./check.js');
  const checked = await check(
    diskPath,
    options.partition !== undefined ? { partition: options.partition } : {},
  );
  return {
    ...base,
    changed: true,
    plan: applied,
    sources,
    verify: {
      cause: after.cause,
      files: after.files
        .filter((f) => repaired.has(f.path.toUpperCase()))
        .map((f) => ({ path: f.path, verdict: f.verdict, evidence: f.evidence })),
      checkProblems: checked.problems.map(
        (p) => `${p.kind}${p.record === null ? '' : ` record ${p.record}`}: ${p.detail}`,
      ),
    },
    notes,
    undo,
  };
}

/** The partition holding the boot manager: the ESP (FAT) on Gen2, System Reserved (NTFS) on Gen1. */
async function systemPartition(diskPath: string): Promise<SystemPartition> {
  const opened = await openDisk(diskPath, { readOnly: true });
  try {
    const where = await locateWindows(opened.device);
    if (!where.systemPartition) {
      throw new WinrescueError('windows.notFound', `${opened.path}: no system partition found`, {
        path: diskPath,
      });
    }
    return where.systemPartition;
  } finally {
    await opened.device.close();
  }
}

/**
 * Boot-manager files on the system partition, from the copy bcdboot would take. NTFS (System Reserved) goes
 * through the NTFS writer; FAT (the ESP) has no rename in our writer, so the old bytes are copied to NAME.old
 * and NAME is overwritten, both through the journal (or an overlay for the rehearsal).
 */
async function repairSystem(
  diskPath: string,
  part: SystemPartition,
  jobs: readonly RepairJob[],
  options: { dryRun?: boolean; journalPath?: string },
): Promise<RepairStep[]> {
  if (part.filesystem === 'ntfs') {
    const r = await withNtfsWriter(
      diskPath,
      {
        ...(part.partition !== null ? { partition: part.partition } : {}),
        ...(options.journalPath !== undefined ? { journalPath: options.journalPath } : {}),
        ...(options.dryRun ? { dryRun: true } : {}),
      },
      (w) => repairFiles(w, jobs),
    );
    if (r.checkAfter.length > 0) {
      throw new WinrescueError('repair.refused', `the system partition after repair: ${r.checkAfter[0]}`, {
        path: diskPath,
      });
    }
    return r.plan;
  }
  const opened = await openDisk(
    diskPath,
    options.dryRun
      ? { readOnly: true }
      : { journal: options.journalPath ? { path: options.journalPath } : {} },
  );
  try {
    const table = await readPartitions(opened.device);
    const base =
      part.partition === null
        ? opened.device
        : table.partitions.find((p) => p.index === part.partition)?.device;
    if (!base)
      throw new WinrescueError('partition.notFound', `partition ${part.partition} is gone`, {
        path: diskPath,
      });
    const fat = await openFat(options.dryRun ? new OverlayDevice(base) : base);
    const steps: RepairStep[] = [];
    for (const job of jobs) {
      const path = job.file.path.replaceAll('\\', '/');
      if (await fat.lookup(path)) {
        let oldName = `${path}.old`;
        for (let n = 1; (await fat.lookup(oldName)) !== null; n++) oldName = `${path}.old.${n}`;
        await fat.writeFile(oldName, await fat.readFile(path));
        steps.push({
          action: 'rename-to-old',
          target: path,
          old: path,
          new: oldName,
          detail: 'copied (FAT): the old bytes kept',
        });
      }
      await fat.writeFile(path, job.candidate.bytes);
      steps.push(restoreStep(path, job.candidate, `on the system partition ${part.partition ?? ''}`.trim()));
    }
    await fat.flush();
    return steps;
  } finally {
    await opened.device.close();
  }
}
