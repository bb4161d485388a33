// `winrescue ls DISK PATH [-r]`: entries with type, size and MFT record; -r lists the whole subtree.
import type { Command } from 'commander';
import type { LsEntry, LsError } from '../../api/ls.js';
import { EXIT_OK, EXIT_PROBLEMS, printJson, runCommand, warn } from '../output.js';
import { writeStdout } from './cat.js';
import { partitionOption } from './stat.js';

interface LsCliOptions {
  json?: boolean;
  recursive?: boolean;
  partition?: number;
}

export function registerLs(program: Command): void {
  program
    .command('ls')
    .description(
      'list a folder of the Windows volume (type, size, MFT record, path); -r for the whole subtree',
    )
    .argument('<disk>', 'disk image (raw, VHD, VHDX), block device or bare NTFS volume image')
    .argument('[path]', 'folder or file on the volume, "/" or "\\" separated, case-insensitive', '/')
    .option('-r, --recursive', 'list everything below PATH')
    .option('--partition <n>', 'volume to read (1-based, as inspect lists them)', partitionOption)
    .option('--json', 'one JSON document on stdout')
    .action(async (disk: string, path: string, opts: LsCliOptions) =>
      runCommand(opts, async () => {
        const { openVolume } = await import('../../api/open-volume.js');
        const { lsBatches } = await import('../../api/ls.js');
        const opened = await openVolume(
          disk,
          opts.partition !== undefined ? { partition: opts.partition } : {},
        );
        try {
          if (!opts.json) for (const w of opened.warnings) warn(w);
          const entries: LsEntry[] = [];
          const errors: LsError[] = [];
          for await (const b of lsBatches(opened.volume, path, { recursive: opts.recursive === true })) {
            for (const e of b.errors) {
              errors.push(e);
              if (!opts.json) warn(`${e.path}: ${e.message}`);
            }
            if (opts.json) for (const e of b.entries) entries.push(e);
            else if (
              b.entries.length > 0 &&
              !(await writeStdout(b.entries.map(formatEntry).join('\n') + '\n'))
            )
              break;
          }
          if (opts.json) {
            printJson({
              partition: opened.partition,
              entries,
              ...(errors.length > 0 ? { errors } : {}),
              ...(opened.warnings.length > 0 ? { warnings: opened.warnings } : {}),
            });
          }
          return errors.length > 0 ? EXIT_PROBLEMS : EXIT_OK;
        } finally {
          await opened.close();
        }
      }),
    );
}

export function formatEntry(e: LsEntry): string {
  return `${e.type === 'dir' ? 'd' : '-'} ${String(e.size).padStart(12)} ${String(e.record).padStart(8)}  ${e.path}`;
}
