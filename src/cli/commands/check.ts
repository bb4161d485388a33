// `winrescue check DISK`: the NTFS consistency check, one line a problem like chkdsk; exit 0 clean, 1 problems
// found, 2 unreadable input.
import type { Command } from 'commander';
import type { CheckResult } from '../../api/check.js';
import { EXIT_OK, EXIT_PROBLEMS, printJson, printLines, runCommand, warn } from '../output.js';
import { partitionOption } from './stat.js';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('check the NTFS volume for damage (read-only, like chkdsk without /f): one line a problem')
    .argument('<disk>', 'disk image (raw, VHD, VHDX), block device or bare NTFS volume image')
    .option('--partition <n>', 'volume to check (1-based, as inspect lists them)', partitionOption)
    .option('--json', 'one JSON document on stdout: { clean, problems: [{ kind, record, path, detail }] }')
    .action(async (disk: string, opts: { json?: boolean; partition?: number }) =>
      runCommand(opts, async () => {
        const { check } = await import('../../api/check.js');
        const r = await check(disk, opts.partition !== undefined ? { partition: opts.partition } : {});
        if (opts.json) printJson(r);
        else {
          for (const w of r.warnings) warn(w);
          const { formatProblem } = await import('../../fs/ntfs/check/index.js');
          printLines(formatCheck(r, formatProblem));
        }
        return r.clean ? EXIT_OK : EXIT_PROBLEMS;
      }),
    );
}

export function formatCheck(
  r: CheckResult,
  formatProblem: (p: CheckResult['problems'][number]) => string,
): string[] {
  const lines = r.problems.map(formatProblem);
  for (const [kind, n] of Object.entries(r.truncated)) lines.push(`... and ${n} more ${kind} problem(s)`);
  const s = r.stats;
  lines.push(
    `${r.clean ? 'clean' : `${r.problems.length + Object.values(r.truncated).reduce((a, b) => a + b, 0)} problem(s) found`}: ` +
      `${s.recordsInUse} records in use of ${s.mftRecords}, ${s.directories} directories, ${s.indexEntries} index entries, ` +
      `${s.clustersInUse} of ${s.clusters} clusters in use (${s.seconds} s)`,
  );
  return lines;
}
