// `winrescue diagnose [DISK] [--screenshot IMG] [--serial-log FILE]`: stop code, file, cause, evidence, plan.
// Exit 0 when the disk shows no damage, 1 when it does (or the cause is unknown), 2 on unreadable input.
import type { Command } from 'commander';
import type { DiagnoseReport } from '../../api/diagnose.js';
import { EXIT_OK, EXIT_PROBLEMS, printJson, printLines, runCommand, warn } from '../output.js';
import { partitionOption } from './stat.js';

interface DiagnoseCliOptions {
  screenshot?: string;
  serialLog?: string;
  trustRoot?: string[];
  partition?: number;
  json?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerDiagnose(program: Command): void {
  program
    .command('diagnose')
    .description(
      'find why Windows does not boot: read the boot screen or serial log, examine every file the boot loader ' +
        'loads (NTFS reachability, PE integrity, Authenticode), and name the cause: corrupt-structure, ' +
        'corrupt-file, healthy or unknown. Read-only.',
    )
    .argument(
      '[disk]',
      'disk image (raw, VHD, VHDX), block device or bare NTFS volume; omit to read only a symptom',
    )
    .option('--screenshot <img>', 'boot diagnostics screenshot (BMP, PNG, JPEG), read with OCR')
    .option('--serial-log <file>', 'serial console log (text)')
    .option(
      '--trust-root <cert>',
      'also trust signatures chaining to this root certificate (PEM or DER); repeatable',
      collect,
    )
    .option('--partition <n>', 'Windows volume (1-based, as inspect lists them)', partitionOption)
    .option('--json', 'one JSON document on stdout (schema in docs/diagnose.md)')
    .action(async (disk: string | undefined, opts: DiagnoseCliOptions) =>
      runCommand(opts, async () => {
        const { diagnose } = await import('../../api/diagnose.js');
        const tty = !opts.json && process.stderr.isTTY === true;
        const r = await diagnose(disk ?? null, {
          ...(opts.screenshot !== undefined ? { screenshot: opts.screenshot } : {}),
          ...(opts.serialLog !== undefined ? { serialLog: opts.serialLog } : {}),
          ...(opts.trustRoot ? { trustRoots: opts.trustRoot } : {}),
          ...(opts.partition !== undefined ? { partition: opts.partition } : {}),
          ...(tty
            ? {
                onFile: (i: number, n: number, p: string) =>
                  process.stderr.write(`\r\x1b[Kexamining ${i + 1}/${n} ${p}`),
              }
            : {}),
        });
        if (tty) process.stderr.write('\r\x1b[K');
        if (opts.json) printJson(r);
        else {
          for (const w of r.warnings) warn(w);
          printLines(formatDiagnosis(r, disk));
        }
        return r.cause === 'healthy' ? EXIT_OK : EXIT_PROBLEMS;
      }),
    );
}

function size(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function formatDiagnosis(r: DiagnoseReport, disk: string | undefined): string[] {
  const lines: string[] = [];
  const s = r.symptom;
  if (s) {
    lines.push(
      `symptom: ${s.stopCode !== null ? (r.stopCode ?? '?') : 'no stop code read'}${s.path ? ` on ${s.path}` : ''} (${s.kind} text, confidence ${s.confidence.toFixed(2)})`,
    );
  }
  lines.push(`cause:   ${r.cause}${r.stopCode ? ` (${r.stopCode})` : ''}: ${r.summary}`);
  if (r.findings.length > 0) lines.push('findings:');
  for (const f of r.findings) {
    const others = f.names.filter((n) => n.replaceAll('/', '\\').toUpperCase() !== f.path.toUpperCase());
    lines.push(
      `  ${f.path}  ${f.problem}${f.stopCode ? ` -> ${f.stopCode}` : ''}${f.record !== null ? `  MFT record ${f.record}` : ''}${f.volume === 'system' ? '  (system partition)' : ''}`,
    );
    lines.push(`      ${f.evidence}`);
    for (const o of others) lines.push(`      hard link: ${o}`);
  }
  if (r.diskSize !== null) {
    const counts = new Map<string, number>();
    for (const f of r.files) {
      const k = f.verdict === 'missing' && f.optional ? 'optional absent' : f.verdict;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    lines.push(
      `examined ${r.files.length} boot files (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}), ` +
        `read ${size(r.bytesRead)} of ${size(r.diskSize)} (${((100 * r.bytesRead) / r.diskSize).toFixed(2)}%)`,
    );
  }
  if (r.plan.length > 0) {
    lines.push('plan:');
    r.plan.forEach((p, i) =>
      lines.push(`  ${i + 1}. ${p.action}${p.target ? ` ${p.target}` : ''}: ${p.detail}`),
    );
    if (disk)
      lines.push(
        `run: winrescue repair ${disk}${r.symptom ? ' (with the same --screenshot/--serial-log)' : ''}`,
      );
  }
  for (const n of r.nextSteps) lines.push(`next: ${n}`);
  return lines;
}
