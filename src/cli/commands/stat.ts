// `winrescue stat DISK PATH`: MFT record, every name (hard links, DOS 8.3), sizes, times, attributes, streams.
import { InvalidArgumentError, type Command } from 'commander';
import type { StatResult } from '../../api/stat.js';
import { printJson, printLines, runCommand, warn } from '../output.js';

/** commander parser for `--partition N`, shared by ls, cat and stat. */
export function partitionOption(text: string): number {
  const n = /^\d{1,6}$/.test(text) ? Number(text) : 0;
  // commander turns this into its usage error: one line, exit 2, like any other bad flag.
  if (n < 1) throw new InvalidArgumentError('a partition number (1, 2, ...) as inspect lists them');
  return n;
}

export function registerStat(program: Command): void {
  program
    .command('stat')
    .description(
      'show what the MFT says about a file: record, names and hard links, sizes, times, attributes, streams',
    )
    .argument('<disk>', 'disk image (raw, VHD, VHDX), block device or bare NTFS volume image')
    .argument('<path>', 'file or folder on the volume, "/" or "\\" separated, case-insensitive')
    .option('--partition <n>', 'volume to read (1-based, as inspect lists them)', partitionOption)
    .option('--json', 'one JSON document on stdout')
    .action(async (disk: string, path: string, opts: { json?: boolean; partition?: number }) =>
      runCommand(opts, async () => {
        const { stat } = await import('../../api/stat.js');
        const r = await stat(disk, path, opts.partition !== undefined ? { partition: opts.partition } : {});
        if (opts.json) {
          printJson(r);
        } else {
          for (const w of r.warnings) warn(w);
          printLines(formatStat(r));
        }
      }),
    );
}

export function formatStat(r: StatResult): string[] {
  const lines = [
    `record: ${r.record} (sequence ${r.sequence})${r.partition === null ? '' : `, partition ${r.partition}`}`,
    `type: ${r.type}`,
    `size: ${r.size} (allocated ${r.allocatedSize})`,
    `links: ${r.linkCount}`,
    ...r.names.map((n) => `name: ${n}`),
    ...r.dosNames.map((n) => `dos name: ${n}`),
    `attributes: ${r.fileAttributeNames.join(', ') || '-'} (0x${r.fileAttributes.toString(16)})`,
    `security id: ${r.securityId ?? '-'}`,
  ];
  if (r.times) {
    lines.push(
      `created: ${r.times.created ?? '-'}`,
      `modified: ${r.times.modified ?? '-'}`,
      `mft modified: ${r.times.mftModified ?? '-'}`,
      `accessed: ${r.times.accessed ?? '-'}`,
    );
  }
  if (r.reparse) lines.push(`reparse: ${r.reparse.kind} (0x${r.reparse.tag.toString(16)})`);
  for (const s of r.streams) {
    const flags = [
      s.resident && 'resident',
      s.compressed && 'compressed',
      s.sparse && 'sparse',
      s.encrypted && 'encrypted',
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(
      `stream: ${s.name === '' ? '(data)' : `:${s.name}`} ${s.size} bytes${flags ? ` (${flags})` : ''}`,
    );
  }
  for (const a of r.attributes) {
    lines.push(
      `attribute: ${a.typeName}${a.name ? `:${a.name}` : ''} id ${a.id}, ${a.resident ? 'resident' : 'non-resident'}, ${a.size} bytes, record ${a.records.join('/')}`,
    );
  }
  if (r.extensionRecords.length > 0) lines.push(`extension records: ${r.extensionRecords.join(', ')}`);
  return lines;
}
