// `winrescue inspect DISK`: format, size, partitions, Windows installs, generation.
import type { Command } from 'commander';
import type { InspectResult } from '../../api/inspect.js';
import { printJson, printLines, runCommand, warn } from '../output.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description(
      'show the disk format, virtual size, partitions (with filesystems and labels) and Windows installs',
    )
    .argument('<disk>', 'disk image (raw, VHD, VHDX), block device or bare NTFS volume image')
    .option('--json', 'one JSON document on stdout')
    .action(async (disk: string, opts: { json?: boolean }) =>
      runCommand(opts, async () => {
        const { inspect } = await import('../../api/inspect.js');
        const r = await inspect(disk);
        if (opts.json) {
          printJson(r);
        } else {
          for (const w of r.warnings) warn(w);
          printLines(formatInspect(r));
        }
      }),
    );
}

const MiB = 1024 * 1024;
const size = (n: number) =>
  n >= 10 * 1024 * MiB ? `${(n / 1024 / MiB).toFixed(1)} GiB` : `${(n / MiB).toFixed(1)} MiB`;

export function formatInspect(r: InspectResult): string[] {
  const lines = [
    `${r.path}: ${r.format}, ${size(r.virtualSize)} (${r.virtualSize} bytes), ${r.sectorSize}-byte sectors`,
    `partition scheme: ${r.partitionScheme}${r.generation ? `, Hyper-V/Azure generation ${r.generation}` : ''}`,
  ];
  if (r.partitions.length > 0) {
    lines.push('', '  #  start          size        filesystem  label             type');
    for (const p of r.partitions) {
      lines.push(
        `${String(p.index).padStart(3)}  ${String(p.start).padEnd(13)}  ${size(p.size).padEnd(10)}  ${p.filesystem.padEnd(10)}  ${(p.label || '-').padEnd(16)}  ${p.typeName} (${p.type})`,
      );
    }
  }
  lines.push('');
  if (r.windows.length === 0) lines.push('no Windows install found');
  for (const w of r.windows) {
    lines.push(
      `Windows install: ${w.partition === null ? 'the volume' : `partition ${w.partition}`}, ${w.systemRoot}`,
    );
  }
  return lines;
}
