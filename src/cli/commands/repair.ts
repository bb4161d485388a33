// `winrescue repair DISK`: diagnose, show the plan, ask (or --yes), apply through the undo journal, verify, then
// enable the serial console and memory dumps. Exit 0 repaired or nothing to do, 1 refused or not verified, 2 bad input.
import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import type { RepairPlanItem, RepairResult } from '../../api/repair.js';
import { EXIT_OK, EXIT_PROBLEMS, printJson, printLines, runCommand, warn } from '../output.js';
import { partitionOption } from './stat.js';
import { writeOptions, writingFlags, type WriteCliOptions } from './write.js';

interface RepairCliOptions extends WriteCliOptions {
  screenshot?: string;
  serialLog?: string;
  trustRoot?: string[];
  source?: string;
  yes?: boolean;
  ems?: boolean;
  dump?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerRepair(program: Command): void {
  const cmd = program
    .command('repair')
    .description(
      'diagnose the disk and repair what stops the boot: a damaged boot file is quarantined (corrupt NTFS record) or ' +
        'renamed to .old (bad content) and restored from a verified copy (WinSxS, DriverStore, \\Windows\\Boot or ' +
        '--source); then the serial console and memory dumps are enabled. Every write goes through the undo journal.',
    )
    .argument('<disk>', 'disk image (raw, VHD, VHDX) or block device')
    .option('--screenshot <img>', 'boot diagnostics screenshot naming the file (OCR)')
    .option('--serial-log <file>', 'serial console log naming the file')
    .option(
      '--trust-root <cert>',
      'also trust signatures chaining to this root (PEM or DER); repeatable',
      collect,
    )
    .option(
      '--source <dir|disk>',
      'where to take a good copy when the disk has none: a folder, or a healthy disk',
    )
    .option('--partition <n>', 'Windows volume (1-based, as inspect lists them)', partitionOption)
    .option('-y, --yes', 'apply without asking (required when not on a terminal)')
    .option('--no-ems', 'do not enable the serial console (EMS) in the BCD store')
    .option('--no-dump', 'do not enable memory dumps in SYSTEM');
  // The journal, --dry-run (here: the plan, made in a copy-on-write overlay), the named risks and --json that
  // every writing command shares.
  writingFlags(cmd).action(async (disk: string, opts: RepairCliOptions) =>
    runCommand(opts, async () => {
      const { repair } = await import('../../api/repair.js');
      const tty = process.stdin.isTTY === true && process.stderr.isTTY === true;
      const r = await repair(disk, {
        ...(opts.screenshot !== undefined ? { screenshot: opts.screenshot } : {}),
        ...(opts.serialLog !== undefined ? { serialLog: opts.serialLog } : {}),
        ...(opts.trustRoot ? { trustRoots: opts.trustRoot } : {}),
        ...(opts.source !== undefined ? { source: opts.source } : {}),
        ...writeOptions(opts),
        ...(opts.yes ? { yes: true } : {}),
        ems: opts.ems !== false,
        dump: opts.dump !== false,
        ...(tty ? { confirm: askOnTerminal } : {}),
        ...(!opts.json && process.stderr.isTTY
          ? { onStep: (s: string) => process.stderr.write(`${s}...\n`) }
          : {}),
      });
      if (opts.json) printJson(r);
      else {
        for (const w of r.warnings) warn(w);
        printLines(formatRepair(r));
      }
      const verified =
        r.verify === null || (r.verify.cause === 'healthy' && r.verify.checkProblems.length === 0);
      return verified ? EXIT_OK : EXIT_PROBLEMS;
    }),
  );
}

function planLines(plan: readonly RepairPlanItem[]): string[] {
  return plan.map((p, i) => {
    const change = p.old === undefined && p.new === undefined ? '' : `: ${show(p.old)} -> ${show(p.new)}`;
    return `  ${i + 1}. ${p.action} ${p.target}${change}${p.detail ? `  (${p.detail})` : ''}`;
  });
}

function show(v: unknown): string {
  if (v === null || v === undefined) return '-';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

async function askOnTerminal(plan: RepairPlanItem[]): Promise<boolean> {
  process.stderr.write(['plan:', ...planLines(plan), ''].join('\n'));
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question('Apply these changes? [y/N] ');
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export function formatRepair(r: RepairResult): string[] {
  const d = r.diagnosis;
  const lines = [`diagnosis: ${d.cause}${d.stopCode ? ` (${d.stopCode})` : ''}: ${d.summary}`];
  for (const s of r.sources) {
    lines.push(`source for ${s.target}: ${s.chosen ?? 'none'}`);
    for (const x of s.rejected) lines.push(`    rejected ${x.path}: ${x.reason}`);
  }
  if (r.plan.length > 0)
    lines.push(r.dryRun ? 'plan (dry run, nothing written):' : 'done:', ...planLines(r.plan));
  if (r.verify) {
    lines.push(
      `verify: diagnose says ${r.verify.cause}; check ${r.verify.checkProblems.length === 0 ? 'clean' : `finds ${r.verify.checkProblems.length} problem(s)`}`,
    );
    for (const f of r.verify.files) lines.push(`  ${f.path}: ${f.verdict} (${f.evidence})`);
    for (const p of r.verify.checkProblems) lines.push(`  check: ${p}`);
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  if (r.undo) lines.push(`undo: ${r.undo}`);
  return lines;
}
