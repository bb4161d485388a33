// `winrescue put|mv|mkdir|rm`: change files on the Windows volume through the NTFS writer and the undo journal.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { NtfsWriteOptions, NtfsWriteResult } from '../../api/ntfs-write.js';
import { WinrescueError } from '../../errors.js';
import { EXIT_OK, EXIT_PROBLEMS, printJson, printLines, runCommand, warn } from '../output.js';
import { partitionOption } from './stat.js';

export interface WriteCliOptions {
  partition?: number;
  journal?: string;
  dryRun?: boolean;
  forceDirtyLog?: boolean;
  forceHibernated?: boolean;
  forceDirtyVolume?: boolean;
  forceDamaged?: boolean;
  json?: boolean;
}

const DISK_HELP = 'disk image (raw, VHD, VHDX) or block device; written through its undo journal';

/** put, mv, mkdir, rm: a volume to change, and the options of every command that writes a disk. */
function writing(cmd: Command): Command {
  return writingFlags(
    cmd.option('--partition <n>', 'volume to change (1-based, as inspect lists them)', partitionOption),
  );
}

/** The options every command that writes a disk shares (also the playbooks): journal, dry run, named risks. */
export function writingFlags(cmd: Command): Command {
  return cmd
    .option('--journal <path>', 'undo journal (default DISK.winrescue-undo; required for a block device)')
    .option('--dry-run', 'show what would change; write nothing')
    .option(
      '--force-dirty-log',
      'write although $LogFile holds transactions Windows has not applied (they are lost)',
    )
    .option(
      '--force-hibernated',
      'write although Windows is hibernated (the hibernated session must then never resume)',
    )
    .option('--force-dirty-volume', 'write although the volume is marked for chkdsk')
    .option('--force-damaged', 'write although our check finds structural problems (they may get worse)')
    .option('--json', 'one JSON document on stdout');
}

export function writeOptions(o: WriteCliOptions): NtfsWriteOptions {
  const force = {
    ...(o.forceDirtyLog ? { dirtyLog: true } : {}),
    ...(o.forceHibernated ? { hibernated: true } : {}),
    ...(o.forceDirtyVolume ? { dirtyVolume: true } : {}),
  };
  return {
    ...(o.partition !== undefined ? { partition: o.partition } : {}),
    ...(o.journal !== undefined ? { journalPath: o.journal } : {}),
    ...(o.dryRun ? { dryRun: true } : {}),
    ...(o.forceDamaged ? { forceDamaged: true } : {}),
    ...(Object.keys(force).length > 0 ? { force } : {}),
  };
}

function report(r: NtfsWriteResult, o: WriteCliOptions): number {
  if (o.json) printJson(r);
  else {
    for (const w of r.warnings) warn(w);
    const lines = r.plan.map((s) => {
      if (s.action === 'rename') return `rename ${s.target} -> ${String(s.new)}`;
      if (s.action === 'put') {
        const size = (v: unknown): string =>
          v === null ? 'new file' : `${(v as { size: number }).size} bytes`;
        return `put ${s.target}: ${size(s.old)} -> ${(s.new as { size: number }).size} bytes`;
      }
      return `${s.action} ${s.target}`;
    });
    if (r.dryRun) lines.push(`dry run: ${r.bytesChanged} bytes of the volume would change; nothing written`);
    else if (r.undo) lines.push(`undo with: ${r.undo}`);
    for (const p of r.checkProblems) lines.push(`check after writing: ${p}`);
    printLines(lines);
  }
  // A write that leaves a problem our checker sees is reported as a problem, never as plain success.
  return r.checkProblems.length > 0 ? EXIT_PROBLEMS : EXIT_OK;
}

async function readLocal(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new WinrescueError('cli.usage', `cannot read ${path}: ${(e as Error).message}`, { path, cause: e });
  }
}

export function registerWrite(program: Command): void {
  writing(
    program
      .command('put')
      .description('write a local file onto the volume (replacing the file at PATH, or creating it)')
      .argument('<disk>', DISK_HELP)
      .argument('<localfile>', 'file on this machine')
      .argument('<path>', 'destination on the volume, "/" or "\\" separated; its folder must exist'),
  ).action(async (disk: string, local: string, path: string, o: WriteCliOptions) =>
    runCommand(o, async () => {
      const { putFile } = await import('../../api/ntfs-write.js');
      return report(await putFile(disk, path, await readLocal(local), writeOptions(o)), o);
    }),
  );
  writing(
    program
      .command('mv')
      .description('rename or move a file or folder on the volume')
      .argument('<disk>', DISK_HELP)
      .argument('<path>', 'file or folder on the volume')
      .argument('<newpath>', 'new full path (must not exist)'),
  ).action(async (disk: string, from: string, to: string, o: WriteCliOptions) =>
    runCommand(o, async () => {
      const { moveFile } = await import('../../api/ntfs-write.js');
      return report(await moveFile(disk, from, to, writeOptions(o)), o);
    }),
  );
  writing(
    program
      .command('mkdir')
      .description('create a folder on the volume (its parent must exist)')
      .argument('<disk>', DISK_HELP)
      .argument('<path>', 'new folder'),
  ).action(async (disk: string, path: string, o: WriteCliOptions) =>
    runCommand(o, async () => {
      const { makeDirectory } = await import('../../api/ntfs-write.js');
      return report(await makeDirectory(disk, path, writeOptions(o)), o);
    }),
  );
  writing(
    program
      .command('rm')
      .description(
        'remove a name from the volume (the file itself with its last name; folders must be empty)',
      )
      .argument('<disk>', DISK_HELP)
      .argument('<path>', 'file or empty folder'),
  ).action(async (disk: string, path: string, o: WriteCliOptions) =>
    runCommand(o, async () => {
      const { removeFile } = await import('../../api/ntfs-write.js');
      return report(await removeFile(disk, path, writeOptions(o)), o);
    }),
  );
}
