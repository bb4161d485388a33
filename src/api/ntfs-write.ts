// `put`, `mv`, `mkdir`, `rm`: change files on a disk's NTFS volume through the NTFS writer and the undo journal
// (DESIGN.md "Safety model"). A dry run writes into a copy-on-write overlay that is thrown away; a real run is
// checked afterwards with our own checker, and its undo command is reported.
import { WinrescueError } from '../errors.js';
import { OverlayDevice } from '../disk/overlay-device.js';
import type { BlockDevice } from '../disk/block-device.js';
import { openNtfs } from '../fs/ntfs/index.js';
import { checkNtfs } from '../fs/ntfs/check/index.js';
import type { Problem as CheckProblem } from '../fs/ntfs/check/problems.js';
import { openNtfsWriter, type NtfsWriter, type NtfsWriteForce } from '../fs/ntfs/write/index.js';
import { openVolume, type OpenVolumeOptions } from './open-volume.js';
import { undoCommand } from './undo.js';

export interface NtfsWriteOptions extends Pick<OpenVolumeOptions, 'partition'> {
  /** Undo journal location (default DISK.winrescue-undo; required for a block device). */
  journalPath?: string;
  /** Plan only: everything is written to an in-memory overlay, nothing to the disk. */
  dryRun?: boolean;
  /** Write despite a dirty $LogFile, a hibernated Windows or a set dirty flag (docs/formats/ntfs-write.md). */
  force?: NtfsWriteForce;
  /** Write although our check finds structural problems (writing can make them worse). */
  forceDamaged?: boolean;
  /** Problems the caller is about to repair: they do not refuse the write (repair's own damaged records). */
  acceptProblem?: (p: CheckProblem) => boolean;
}

/** Problems that have their own refusal and force option in the writer; not counted as damage here. */
const OWN_REFUSALS = new Set(['logfile-dirty', 'logfile-unreadable', 'volume-dirty']);

export interface NtfsWriteStep {
  action: 'put' | 'mkdir' | 'rename' | 'unlink';
  target: string;
  old?: unknown;
  new?: unknown;
}

export interface NtfsWriteResult<S = NtfsWriteStep> {
  disk: string;
  partition: number | null;
  dryRun: boolean;
  changed: boolean;
  plan: S[];
  /** Bytes of the volume that differ afterwards (dry run: would differ). */
  bytesChanged: number | null;
  /** Our checker on the volume after the change: problems it did not have before (none expected). */
  checkProblems: string[];
  /** Every problem our checker finds after the change (repair expects none). */
  checkAfter: string[];
  journal: string | null;
  undo: string | null;
  warnings: string[];
}

/**
 * Opens the volume writable (journaled, or an overlay for a dry run), runs `body` with the NTFS writer, flushes,
 * and checks the result. `body` returns the plan it carried out.
 */
export async function withNtfsWriter<S = NtfsWriteStep>(
  diskPath: string,
  options: NtfsWriteOptions,
  body: (w: NtfsWriter) => Promise<S[]>,
): Promise<NtfsWriteResult<S>> {
  const opened = await openVolume(diskPath, {
    ...(options.partition !== undefined ? { partition: options.partition } : {}),
    ...(options.dryRun
      ? { readOnly: true }
      : { journal: { ...(options.journalPath ? { path: options.journalPath } : {}) } }),
  });
  try {
    const base: BlockDevice = opened.device;
    const target = options.dryRun ? new OverlayDevice(base) : base;
    const writer = await openNtfsWriter(target, options.force ? { force: options.force } : {});
    // Problems the volume had before (a forced dirty log, say) are not ours: only new ones count against the write.
    const found = (await checkNtfs(writer.volume)).problems;
    const damage = found.filter((p) => !OWN_REFUSALS.has(p.kind) && !(options.acceptProblem?.(p) ?? false));
    if (damage.length > 0 && !options.forceDamaged) {
      throw new WinrescueError(
        'ntfs.refused',
        `${diskPath}: our check finds ${damage.length} problem(s) on this volume (first: ${problemText(damage[0]!)}); ` +
          `writing could make them worse. See 'winrescue check', or pass --force-damaged`,
        { ...(damage[0]!.record !== null ? { record: damage[0]!.record } : {}) },
      );
    }
    const before = new Set(found.map(problemText));
    const plan = await body(writer);
    await writer.flush();
    const after = (await checkNtfs(await openNtfs(target))).problems.map(problemText);
    const extents = target instanceof OverlayDevice ? await target.diff() : null;
    const journal = options.dryRun ? null : (opened.disk.journalPath ?? null);
    return {
      disk: diskPath,
      partition: opened.partition,
      checkAfter: after,
      dryRun: options.dryRun === true,
      changed: plan.length > 0,
      plan,
      bytesChanged: extents ? extents.reduce((n, e) => n + e.data.length, 0) : null,
      checkProblems: after.filter((p) => !before.has(p)),
      journal,
      undo: journal && plan.length > 0 ? undoCommand(diskPath, options.journalPath) : null,
      warnings: opened.warnings,
    };
  } finally {
    await opened.close();
  }
}

function problemText(p: CheckProblem): string {
  return `${p.kind}${p.record === null ? '' : ` record ${p.record}`}${p.path ? ` ${p.path}` : ''}: ${p.detail}`;
}

function missing(path: string): WinrescueError {
  return new WinrescueError('ntfs.notFound', `${path}: no such file or folder on the volume`, { path });
}

export async function putFile(
  diskPath: string,
  path: string,
  content: Uint8Array,
  options: NtfsWriteOptions = {},
): Promise<NtfsWriteResult> {
  return withNtfsWriter(diskPath, options, async (w) => {
    const existing = await w.lookupOrNull(path);
    const old = existing ? (await w.volume.stat(existing.record)).size : null;
    await w.writeFile(path, content);
    return [
      {
        action: 'put',
        target: path,
        old: old === null ? null : { size: old },
        new: { size: content.length },
      },
    ];
  });
}

export async function makeDirectory(
  diskPath: string,
  path: string,
  options: NtfsWriteOptions = {},
): Promise<NtfsWriteResult> {
  return withNtfsWriter(diskPath, options, async (w) => {
    await w.mkdir(path);
    return [{ action: 'mkdir', target: path }];
  });
}

export async function moveFile(
  diskPath: string,
  from: string,
  to: string,
  options: NtfsWriteOptions = {},
): Promise<NtfsWriteResult> {
  return withNtfsWriter(diskPath, options, async (w) => {
    if (!(await w.lookupOrNull(from))) throw missing(from);
    await w.rename(from, to);
    return [{ action: 'rename', target: from, old: from, new: to }];
  });
}

export async function removeFile(
  diskPath: string,
  path: string,
  options: NtfsWriteOptions = {},
): Promise<NtfsWriteResult> {
  return withNtfsWriter(diskPath, options, async (w) => {
    if (!(await w.lookupOrNull(path))) throw missing(path);
    await w.unlink(path);
    return [{ action: 'unlink', target: path }];
  });
}
