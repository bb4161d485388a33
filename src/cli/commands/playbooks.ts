// `winrescue enable-serial-console DISK` and `enable-memory-dump DISK [--memory-size GiB]`: the two configuration
// playbooks, each a plan of old -> new values applied through the undo journal (docs/playbooks.md).
import { InvalidArgumentError, type Command } from 'commander';
import type { PlaybookOptions, PlaybookResult } from '../../api/playbooks.js';
import { EXIT_OK, EXIT_PROBLEMS, printJson, printLines, runCommand, warn } from '../output.js';
import { partitionOption } from './stat.js';
import { writeOptions, writingFlags, type WriteCliOptions } from './write.js';

interface PlaybookCliOptions extends WriteCliOptions {
  /** A dirty hive whose logs cannot be replayed (not an NTFS risk). */
  force?: boolean;
  memorySize?: number;
}

function shared(cmd: Command): Command {
  return writingFlags(
    cmd
      .argument('<disk>', 'disk image (raw, VHD, VHDX) or block device; written through its undo journal')
      .option(
        '--force',
        'write a dirty hive whose transaction logs cannot be replayed (their changes are lost)',
      ),
  );
}

function apiOptions(o: PlaybookCliOptions): PlaybookOptions {
  const { force: ntfsForce, ...rest } = writeOptions(o);
  return { ...rest, ...(o.force ? { force: true } : {}), ...(ntfsForce ? { ntfsForce } : {}) };
}

function shown(v: unknown): string {
  if (v === null || v === undefined) return '(none)';
  if (typeof v === 'string') return v;
  const r = v as { type?: string; data?: string; id?: string };
  if (r.type !== undefined && r.data !== undefined) return `${r.type} ${r.data}`;
  return JSON.stringify(v);
}

function report(r: PlaybookResult, o: PlaybookCliOptions): number {
  const checkFailed = r.warnings.some((w) => w.startsWith('check after writing:'));
  if (o.json) printJson(r);
  else {
    for (const w of r.warnings) warn(w);
    const lines = [`${r.playbook} on ${r.hive}${r.replayed ? ' (replayed from its logs)' : ''}:`];
    for (const s of r.plan) {
      lines.push(
        s.status === 'change'
          ? `  ${s.action === 'create-object' ? 'create' : 'set'} ${s.target}: ${shown(s.old)} -> ${shown(s.new)}`
          : `  ${s.target}: ${shown(s.new)} (already set)`,
      );
    }
    for (const f of r.findings) lines.push(`${f.level === 'problem' ? 'problem' : 'note'}: ${f.detail}`);
    if (!r.changed) lines.push('nothing to change: everything is already set');
    else if (r.dryRun) lines.push('dry run: nothing written');
    else if (r.undo) lines.push(`undo with: ${r.undo}`);
    printLines(lines);
  }
  return checkFailed ? EXIT_PROBLEMS : EXIT_OK;
}

function gibOption(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n > 0)) {
    // commander turns this into its usage error: one line, exit 2.
    throw new InvalidArgumentError('a positive number of GiB (e.g. 8 or 3.5)');
  }
  return n;
}

export function registerPlaybooks(program: Command): void {
  shared(
    program
      .command('enable-serial-console')
      .description(
        'BCD: {bootmgr} displaybootmenu yes, timeout 5, bootems yes; ems yes on the default loader; ' +
          '{emssettings} emsport 1, emsbaudrate 115200',
      ),
  ).action(async (disk: string, o: PlaybookCliOptions) =>
    runCommand(o, async () => {
      const { enableSerialConsole } = await import('../../api/playbooks.js');
      return report(await enableSerialConsole(disk, apiOptions(o)), o);
    }),
  );
  shared(
    program
      .command('enable-memory-dump')
      .description(
        'SYSTEM: CrashDumpEnabled=1, DumpFile=%SystemRoot%\\MEMORY.DMP, NMICrashDump=1 in the current control set ' +
          'and ControlSet001/002 where they exist; says whether a dump can be written',
      )
      .option('--partition <n>', 'the Windows volume (1-based, as inspect lists them)', partitionOption)
      .option(
        '--memory-size <GiB>',
        "the VM's memory, compared with the free space and the page file",
        gibOption,
      ),
  ).action(async (disk: string, o: PlaybookCliOptions) =>
    runCommand(o, async () => {
      const { enableMemoryDump } = await import('../../api/playbooks.js');
      return report(
        await enableMemoryDump(disk, {
          ...apiOptions(o),
          ...(o.memorySize !== undefined ? { memoryGiB: o.memorySize } : {}),
        }),
        o,
      );
    }),
  );
}
