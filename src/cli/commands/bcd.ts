// `winrescue bcd DISK|HIVE`: the boot configuration store listed like `bcdedit /enum all` (read only).
import type { Command } from 'commander';
import { printJson, printLines, runCommand, warn } from '../output.js';
import { partitionOption } from './stat.js';

/** bcdedit pads names to a column this wide. */
const NAME_WIDTH = 24;

export function registerBcd(program: Command): void {
  program
    .command('bcd')
    .description(
      'list the BCD boot store like bcdedit /enum all: every object and element, devices named by disk and offset/GUID',
    )
    .argument(
      '<store>',
      'a disk (its store is located: \\Boot\\BCD on Gen1, \\EFI\\Microsoft\\Boot\\BCD on Gen2), a BCD hive file, or DISK:PATH',
    )
    .option('--partition <n>', 'for DISK:PATH: the volume (1-based, as inspect lists them)', partitionOption)
    .option('--json', 'one JSON document on stdout')
    .action(async (store: string, opts: { partition?: number; json?: boolean }) =>
      runCommand(opts, async () => {
        const { bcdShow } = await import('../../api/bcd.js');
        const r = await bcdShow(store, opts.partition !== undefined ? { partition: opts.partition } : {});
        if (opts.json) return printJson(r);
        for (const w of r.warnings) warn(w);
        for (const p of r.problems) warn(`store: ${p}`);
        const lines: string[] = [];
        for (const o of r.objects) {
          if (lines.length > 0) lines.push('');
          lines.push(o.typeName, '-'.repeat(o.typeName.length));
          lines.push(row('identifier', o.alias ?? (o.isDefault ? '{default}' : o.id)));
          for (const e of o.elements) {
            e.text.forEach((t, i) => lines.push(row(i === 0 ? e.name : '', t)));
          }
        }
        printLines(lines);
      }),
    );
}

function row(name: string, value: string): string {
  return `${name.padEnd(NAME_WIDTH - 1)} ${value}`.trimEnd();
}
