// `winrescue undo DISK`: restore every byte winrescue changed, from the undo journal (docs/cli.md "undo DISK").
import type { Command } from 'commander';
import type { UndoResult } from '../../api/undo.js';
import { EXIT_OK, EXIT_PROBLEMS, printJson, printLines, runCommand, warn } from '../output.js';

export function registerUndo(program: Command): void {
  program
    .command('undo')
    .description('restore every byte winrescue changed on DISK, newest change first, from its undo journal')
    .argument('<disk>', 'the disk image (raw, VHD, VHDX) or block device that was written')
    .option('--journal <path>', 'the undo journal (default DISK.winrescue-undo; required for a block device)')
    .option(
      '--force',
      'restore even where the disk changed since winrescue wrote it (discards those changes)',
    )
    .option('--json', 'one JSON document on stdout')
    .action(async (disk: string, opts: { journal?: string; force?: boolean; json?: boolean }) =>
      runCommand(opts, async () => {
        const { undo } = await import('../../api/undo.js');
        const r = await undo(disk, {
          ...(opts.journal !== undefined ? { journalPath: opts.journal } : {}),
          force: opts.force === true,
        });
        if (opts.json) printJson(r);
        else {
          for (const w of r.warnings) warn(w);
          printLines(formatUndo(r));
        }
        return r.verified ? EXIT_OK : EXIT_PROBLEMS;
      }),
    );
}

export function formatUndo(r: UndoResult): string[] {
  if (r.alreadyUndone)
    return [`nothing to undo: ${r.journal} was already undone (${r.retiredTo ?? 'retired'})`];
  return [
    `restored ${r.records} range(s), ${r.bytes} bytes, and ${r.sizeChanges} size change(s) from ${r.sessions} session(s)${r.forced ? ' (forced)' : ''}${r.resumed ? ', finishing an interrupted undo' : ''}`,
    r.verified
      ? `${r.disk} is identical to before the first session (size and first/last MiB)`
      : `${r.disk} does not match its identity from before the first session`,
    `journal moved to ${r.retiredTo}`,
  ];
}
