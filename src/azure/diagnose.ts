// `winrescue azure diagnose`: what Azure already knows (boot screenshot, serial log) read by the symptom readers,
// and with readDisk the OS disk itself, diagnosed over a read-only SAS on an incremental snapshot — a few MB read
// by HTTP range requests instead of a repair VM.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WinrescueError, isWinrescueError } from '../errors.js';
import type { DiagnoseOptions, DiagnoseReport } from '../api/diagnose.js';
import type { Diagnosis } from '../diagnose/conclude.js';
import type { Symptom } from '../diagnose/symptoms/types.js';
import { redactText, redactUrl, transferTotals, type RetryPolicy } from '../disk/http/index.js';
import { fetchBootDiagnostics } from './boot-diagnostics.js';
import type { ComputeOps } from './compute.js';
import { withOsDiskSnapshot } from './snapshot-session.js';

export interface AzureDiagnoseOptions {
  vm: string;
  resourceGroup: string;
  ops: ComputeOps;
  readDisk?: boolean;
  keepSnapshot?: boolean;
  snapshotName?: string;
  sasSeconds?: number;
  pollIntervalMs?: number;
  /** Passed to the disk diagnosis. */
  diagnose?: Pick<DiagnoseOptions, 'trustRoots' | 'partition'>;
  http?: { fetch?: typeof fetch; retry?: Partial<RetryPolicy> };
  onStep?: (message: string) => void;
  /** Clean up on SIGINT/SIGTERM (the CLI sets it). */
  interruptible?: boolean;
}

export interface AzureDiagnoseReport {
  vm: string;
  resourceGroup: string;
  bootDiagnostics: { screenshot: boolean; serialLog: boolean };
  symptom: Symptom | null;
  /** The conclusion: from the disk when it was read, else from the symptom alone. */
  diagnosis: Diagnosis | null;
  /** The full disk report (as `winrescue diagnose --json`), null without readDisk. */
  disk: DiagnoseReport | null;
  /** Bytes fetched over HTTP from the snapshot (read-ahead included): what the diagnosis cost. */
  bytesRead: number;
  diskSize: number | null;
  fraction: number | null;
  snapshot: { name: string; kept: boolean } | null;
  warnings: string[];
}

export async function azureDiagnose(options: AzureDiagnoseOptions): Promise<AzureDiagnoseReport> {
  const { vm, resourceGroup, ops } = options;
  const step = options.onStep ?? (() => undefined);
  step(`fetching boot diagnostics of ${resourceGroup}/${vm}`);
  const boot = await fetchBootDiagnostics(ops, resourceGroup, vm, options.http ?? {});
  const warnings = [...boot.warnings];
  const dir = await mkdtemp(join(tmpdir(), 'winrescue-azure-'));
  try {
    // The symptom readers and the disk diagnosis take files: hand them what Azure gave us.
    const symptomFiles: Pick<DiagnoseOptions, 'screenshot' | 'serialLog'> = {};
    if (boot.screenshot) {
      symptomFiles.screenshot = join(dir, 'screenshot.bmp');
      await writeFile(symptomFiles.screenshot, boot.screenshot);
    }
    if (boot.serialLog !== null) {
      symptomFiles.serialLog = join(dir, 'serial.log');
      await writeFile(symptomFiles.serialLog, boot.serialLog);
    }
    const { diagnose } = await import('../api/diagnose.js');
    const report: AzureDiagnoseReport = {
      vm,
      resourceGroup,
      bootDiagnostics: { screenshot: boot.screenshot !== null, serialLog: boot.serialLog !== null },
      symptom: null,
      diagnosis: null,
      disk: null,
      bytesRead: 0,
      diskSize: null,
      fraction: null,
      snapshot: null,
      warnings,
    };
    if (!options.readDisk) {
      if (symptomFiles.screenshot === undefined && symptomFiles.serialLog === undefined) return report;
      step('reading the symptom');
      const r = await diagnose(null, symptomFiles);
      report.symptom = r.symptom;
      report.diagnosis = conclusion(r);
      return report;
    }
    const outcome = await withOsDiskSnapshot(
      ops,
      {
        resourceGroup,
        vm,
        ...(options.snapshotName !== undefined ? { snapshotName: options.snapshotName } : {}),
        ...(options.keepSnapshot ? { keep: true } : {}),
        ...(options.sasSeconds !== undefined ? { sasSeconds: options.sasSeconds } : {}),
        ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
        onStep: step,
        ...(options.interruptible ? { interruptible: true } : {}),
      },
      async (sasUrl) => {
        step(`diagnosing the snapshot over ${redactUrl(sasUrl)}`);
        const before = transferTotals(redactUrl(sasUrl)).bytes;
        const r = await diagnose(sasUrl, { ...options.diagnose, ...symptomFiles }).catch((e: unknown) => {
          throw scrub(e);
        });
        return {
          report: { ...r, disk: redactUrl(sasUrl) },
          fetched: transferTotals(redactUrl(sasUrl)).bytes - before,
        };
      },
    );
    const r = outcome.result.report;
    report.symptom = r.symptom;
    report.diagnosis = conclusion(r);
    report.disk = r;
    report.bytesRead = outcome.result.fetched;
    report.diskSize = r.diskSize;
    report.fraction = r.diskSize ? outcome.result.fetched / r.diskSize : null;
    report.snapshot = outcome.snapshot;
    report.warnings.push(...outcome.warnings);
    return report;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function conclusion(r: DiagnoseReport): Diagnosis {
  return {
    stopCode: r.stopCode,
    file: r.file,
    cause: r.cause,
    findings: r.findings,
    plan: r.plan,
    nextSteps: r.nextSteps,
    summary: r.summary,
  };
}

/** A layer below may quote the DISK argument (the SAS URL) in a message: strip the signature from it. */
function scrub(e: unknown): unknown {
  if (!isWinrescueError(e)) return e;
  const message = redactText(e.message);
  const path = e.path === undefined ? undefined : redactText(e.path);
  if (message === e.message && path === e.path) return e;
  return new WinrescueError(e.code, message, {
    ...(e.offset !== undefined ? { offset: e.offset } : {}),
    ...(e.structure !== undefined ? { structure: e.structure } : {}),
    ...(path !== undefined ? { path } : {}),
    ...(e.expected !== undefined ? { expected: e.expected } : {}),
    ...(e.actual !== undefined ? { actual: e.actual } : {}),
  });
}
