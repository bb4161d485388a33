// From a symptom and the disk evidence to a cause and a plan (DESIGN.md "What 0xC0000102 really is" and the
// `diagnose --json` shape). Pure: the evidence is gathered by src/api/diagnose.ts. A file whose metadata NTFS
// cannot read is a corrupt structure (the record must be quarantined, not renamed); a readable file with bad
// content or signature is a corrupt file (renamed to .old, then restored). Without damage on the disk the verdict
// stays "healthy" even when a screen names a file: the screen may be old, or the fault elsewhere.
import { formatStopCode, lookupStopCode } from './stop-codes.js';
import type { Symptom } from './symptoms/types.js';
import type { FileEvidence, FileVerdict } from './evidence/examine.js';
import type { StructureFaultKind } from './evidence/reach.js';

/**
 * Faults confined to the file's own MFT record: quarantining the record removes them. Index and attribute-list
 * faults reach into directories or extension records and need structure repair (chkdsk-like), not the file playbook.
 */
export const RECORD_FAULTS: ReadonlySet<StructureFaultKind> = new Set([
  'torn-record',
  'bad-record',
  'bad-attribute',
  'bad-runlist',
]);

export type Cause = 'corrupt-structure' | 'corrupt-file' | 'healthy' | 'unknown';

export interface Finding {
  /** Backslash path from the volume root. */
  readonly path: string;
  readonly volume: 'windows' | 'system';
  readonly problem: Exclude<FileVerdict, 'ok' | 'unsupported'>;
  readonly evidence: string;
  /** What the boot stops with because of it. */
  readonly stopCode: string | null;
  readonly record: number | null;
  readonly names: readonly string[];
  readonly role: string;
  /** For corrupt-structure: what NTFS found wrong. */
  readonly fault?: StructureFaultKind;
}

export interface PlanStep {
  readonly action:
    | 'quarantine-record'
    | 'rename-to-old'
    | 'restore-file'
    | 'enable-serial-console'
    | 'enable-memory-dump'
    | 'check-disk';
  readonly target: string | null;
  readonly detail: string;
}

export interface Diagnosis {
  readonly stopCode: string | null;
  /** The file the diagnosis is about: the symptom's, else the first damaged boot file. */
  readonly file: string | null;
  readonly cause: Cause;
  readonly findings: readonly Finding[];
  readonly plan: readonly PlanStep[];
  /** What to do when the plan cannot be (no damage found, no disk given). */
  readonly nextSteps: readonly string[];
  readonly summary: string;
}

export interface ExaminedFile extends FileEvidence {
  readonly volume: 'windows' | 'system';
}

const PROBLEM_ORDER: readonly Finding['problem'][] = [
  'corrupt-structure',
  'corrupt-file',
  'signature',
  'missing',
];

/** A file the boot stops on: damaged, failing its signature, or missing when it is needed. */
export function isFinding(f: Pick<FileEvidence, 'verdict' | 'optional'>): boolean {
  return f.verdict !== 'ok' && f.verdict !== 'unsupported' && !(f.verdict === 'missing' && f.optional);
}

function finding(f: ExaminedFile): Finding | null {
  if (!isFinding(f) || f.verdict === 'ok' || f.verdict === 'unsupported') return null;
  return {
    path: f.path,
    volume: f.volume,
    problem: f.verdict,
    evidence: f.evidence,
    stopCode: f.stopCode === null ? null : formatStopCode(f.stopCode),
    record: f.record,
    names: f.names,
    role: f.role,
    ...(f.structure ? { fault: f.structure.kind } : {}),
  };
}

const samePath = (a: string, b: string) =>
  a.replaceAll('/', '\\').toUpperCase() === b.replaceAll('/', '\\').toUpperCase();

function planFor(f: Finding): PlanStep[] {
  const twins = f.names.filter((n) => !samePath(n, f.path));
  const linked = twins.length > 0 ? ` (also named ${twins.join(', ')})` : '';
  switch (f.problem) {
    case 'corrupt-structure':
      if (f.fault !== undefined && !RECORD_FAULTS.has(f.fault)) {
        return [
          {
            action: 'check-disk',
            target: f.path,
            detail: `${f.fault}: the damage is in a directory index or an attribute list, not only in the file's record; it needs NTFS structure repair (chkdsk /f), which winrescue does not do yet`,
          },
        ];
      }
      return [
        {
          action: 'quarantine-record',
          target: f.path,
          detail: `remove every index entry naming MFT record ${f.record ?? '?'}${linked}, keep its readable data as .old, free what nothing else claims`,
        },
        {
          action: 'restore-file',
          target: f.path,
          detail: 'a verified copy from WinSxS, the DriverStore or \\Windows\\Boot',
        },
      ];
    case 'corrupt-file':
    case 'signature':
      return [
        { action: 'rename-to-old', target: f.path, detail: `keep the damaged file as .old${linked}` },
        {
          action: 'restore-file',
          target: f.path,
          detail: 'a verified copy from WinSxS, the DriverStore or \\Windows\\Boot',
        },
      ];
    case 'missing':
      return [
        {
          action: 'restore-file',
          target: f.path,
          detail: 'the file is missing: a verified copy from WinSxS',
        },
      ];
  }
}

const CONFIG_STEPS: readonly PlanStep[] = [
  {
    action: 'enable-serial-console',
    target: null,
    detail: 'EMS on in the BCD store, as the Microsoft procedure does',
  },
  { action: 'enable-memory-dump', target: null, detail: 'CrashControl in SYSTEM (ControlSet001 and 002)' },
];

export function conclude(symptom: Symptom | null, files: readonly ExaminedFile[] | null): Diagnosis {
  const code = symptom?.stopCode ?? null;
  const info = code === null ? undefined : lookupStopCode(code);
  if (files === null) {
    // Only a symptom: the knowledge base's likely cause, unconfirmed.
    const likely = info?.likelyCause;
    const cause: Cause = likely === 'corrupt-structure' || likely === 'corrupt-file' ? likely : 'unknown';
    return {
      stopCode: code === null ? null : formatStopCode(code),
      file: symptom?.path ?? null,
      cause,
      findings: [],
      plan: [],
      nextSteps: [
        info ? `${info.name}: ${info.meaning}` : 'the stop code is not in the knowledge base',
        'give the disk (winrescue diagnose DISK --screenshot ...) to confirm the cause on the file itself',
      ],
      summary: info
        ? `${formatStopCode(code!)} ${info.name}${symptom?.path ? ` on ${symptom.path}` : ''}; likely ${cause} (not confirmed: no disk)`
        : 'no stop code recognised',
    };
  }
  const findings = files
    .map(finding)
    .filter((f): f is Finding => f !== null)
    .sort((a, b) => PROBLEM_ORDER.indexOf(a.problem) - PROBLEM_ORDER.indexOf(b.problem));
  const named = symptom?.path ? files.find((f) => samePath(f.path, symptom.path!)) : undefined;
  const namedFinding = named ? findings.find((f) => samePath(f.path, named.path)) : undefined;
  const damaged = findings.filter((f) => f.problem !== 'missing');
  const cause: Cause = findings.some((f) => f.problem === 'corrupt-structure')
    ? 'corrupt-structure'
    : damaged.length > 0
      ? 'corrupt-file'
      : findings.length > 0
        ? 'unknown'
        : 'healthy';
  const primary = namedFinding ?? findings[0];
  const plan: PlanStep[] = [];
  for (const f of findings) plan.push(...planFor(f));
  if (plan.length > 0) plan.push(...CONFIG_STEPS);
  const nextSteps: string[] = [];
  if (named && !namedFinding && named.verdict === 'ok') {
    nextSteps.push(
      `${named.path} is intact on this disk (${named.evidence}); the screen may predate a repair or come from another disk`,
      'run `winrescue check DISK` for a full NTFS check, and boot once more with the serial console on to see the current error',
    );
  }
  if (cause === 'unknown')
    nextSteps.push('files the boot needs are missing: restore them, or check the disk is the right one');
  if (cause === 'healthy' && !named)
    nextSteps.push('no boot file is damaged; run `winrescue check DISK` for the whole volume');
  const stopCode = code !== null ? formatStopCode(code) : (primary?.stopCode ?? null);
  const file = named?.path ?? symptom?.path ?? primary?.path ?? null;
  const summary =
    cause === 'healthy'
      ? `no damage found in the ${files.length} boot files examined${named ? `; ${named.path} is intact` : ''}`
      : `${primary!.path}: ${primary!.evidence}`;
  return { stopCode, file, cause, findings, plan, nextSteps, summary };
}
