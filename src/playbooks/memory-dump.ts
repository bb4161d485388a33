// enable-memory-dump: the registry part of Microsoft's serial console / memory dump procedure (REFERENCE.md §1.3,
// §1.4): under Control\CrashControl of the current control set and of whichever of ControlSet001/ControlSet002
// exist, CrashDumpEnabled=1 (complete dump), DumpFile=%SystemRoot%\MEMORY.DMP, NMICrashDump=1 (a dump on an NMI
// sent from the serial console / Azure). A missing control set is never created: an empty ControlSet002 is one
// Last Known Good could try to boot.
import { currentControlSet } from '../windows/control-set.js';
import type { Hive } from '../registry/hive.js';
import { REG_DWORD, REG_EXPAND_SZ, REG_MULTI_SZ, REG_SZ } from '../registry/value-data.js';
import { hasKey, planValue, type HivePlan } from './plan.js';

const CRASH_CONTROL = 'Control\\CrashControl';
const MEMORY_MANAGEMENT = 'Control\\Session Manager\\Memory Management';
/** The procedure's own sets besides the current one (its reg add lines name exactly these two). */
const PROCEDURE_SETS = ['ControlSet001', 'ControlSet002'];
/** CrashDumpEnabled 1 = complete memory dump (win-dumpconfigurator.ps1's map, REFERENCE.md §1.4). */
export const COMPLETE_DUMP = 1;
export const DUMP_FILE = '%SystemRoot%\\MEMORY.DMP';
/** A complete dump needs room for all of RAM plus a header page run; Microsoft's guidance is RAM + 1 MiB. */
export const DUMP_HEADER_BYTES = 1024 * 1024;
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export interface Finding {
  /** 'problem': a dump would likely not be written; 'info': what was seen. Never a failure of the playbook. */
  level: 'problem' | 'info';
  what: string;
  detail: string;
}

export interface MemoryDumpPlan extends HivePlan {
  readonly controlSets: string[];
  readonly findings: Finding[];
}

export interface MemoryDumpFacts {
  /** Free bytes on the Windows volume, when known. */
  freeBytes?: number;
  /** The VM's memory in bytes (--memory-size), when given. */
  memoryBytes?: number;
}

function dword(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function utf16z(s: string): Uint8Array {
  const b = new Uint8Array((s.length + 1) * 2);
  for (let i = 0; i < s.length; i++) new DataView(b.buffer).setUint16(2 * i, s.charCodeAt(i), true);
  return b;
}

function text(data: Uint8Array): string {
  return new TextDecoder('utf-16le').decode(data.subarray(0, data.length & ~1));
}

function stringValue(hive: Hive, keyPath: string, name: string): { type: number; text: string } | null {
  if (!hasKey(hive, keyPath)) return null;
  const v = hive.values(hive.openKey(keyPath)).find((x) => x.name.toUpperCase() === name.toUpperCase());
  return v ? { type: v.type, text: text(hive.valueData(v)) } : null;
}

const gib = (n: number): string => `${(n / GiB).toFixed(1)} GiB`;

/** PagingFiles entries: "C:\pagefile.sys [min max]" (MiB; 0 0 = system managed); "?:\" = Windows picks the drive. */
interface PagingFile {
  drive: string;
  path: string;
  maxMiB: number | null;
}

function pagingFiles(multi: string): PagingFile[] {
  return multi
    .split('\0')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const [path = '', , max] = s.split(/\s+/);
      const m = max === undefined ? NaN : Number(max);
      return { drive: path.slice(0, 2).toUpperCase(), path, maxMiB: Number.isFinite(m) && m > 0 ? m : null };
    });
}

/** The plan for an offline SYSTEM hive, with what could keep a dump from being written as findings. */
export function planMemoryDump(system: Hive, facts: MemoryDumpFacts = {}): MemoryDumpPlan {
  const sel = currentControlSet(system);
  const stored = (name: string) => sel.existing.find((n) => n.toUpperCase() === name.toUpperCase());
  const sets: string[] = [];
  for (const name of [sel.current, ...PROCEDURE_SETS]) {
    const s = stored(name);
    if (s !== undefined && !sets.includes(s)) sets.push(s);
  }
  const plan: MemoryDumpPlan = { steps: [], changes: [], controlSets: sets, findings: [] };
  for (const cs of sets) {
    if (!hasKey(system, `${cs}\\Control`)) {
      plan.findings.push({
        level: 'info',
        what: cs,
        detail: `${cs} has no Control key: left alone (an incomplete control set is not filled in)`,
      });
      continue;
    }
    const key = `${cs}\\${CRASH_CONTROL}`;
    planValue(system, 'SYSTEM', key, 'CrashDumpEnabled', REG_DWORD, dword(COMPLETE_DUMP), plan);
    planValue(system, 'SYSTEM', key, 'DumpFile', REG_EXPAND_SZ, utf16z(DUMP_FILE), plan);
    planValue(system, 'SYSTEM', key, 'NMICrashDump', REG_DWORD, dword(1), plan);
  }
  plan.findings.push(...dumpFindings(system, sel.current, facts));
  return plan;
}

function dumpFindings(system: Hive, cs: string, facts: MemoryDumpFacts): Finding[] {
  const out: Finding[] = [];
  const dedicated = stringValue(system, `${cs}\\${CRASH_CONTROL}`, 'DedicatedDumpFile');
  if (
    dedicated &&
    (dedicated.type === REG_SZ || dedicated.type === REG_EXPAND_SZ) &&
    dedicated.text.replace(/\0.*$/s, '') !== ''
  ) {
    out.push({
      level: 'info',
      what: 'DedicatedDumpFile',
      detail: `the dump goes through the dedicated file ${dedicated.text.replace(/\0.*$/s, '')}, not the page file`,
    });
  } else {
    const pf = stringValue(system, `${cs}\\${MEMORY_MANAGEMENT}`, 'PagingFiles');
    const files = pf && pf.type === REG_MULTI_SZ ? pagingFiles(pf.text) : [];
    if (files.length === 0) {
      out.push({
        level: 'problem',
        what: 'PagingFiles',
        detail: `${cs} has no page file and no DedicatedDumpFile: Windows writes a complete dump through a page file on the Windows volume, so no dump would be written`,
      });
    } else {
      const onOs = files.filter((f) => f.drive === 'C:' || f.drive === '?:');
      out.push({
        level: onOs.length > 0 ? 'info' : 'problem',
        what: 'PagingFiles',
        detail:
          onOs.length > 0
            ? `page file ${onOs.map((f) => f.path).join(', ')} on the Windows volume (or where Windows chooses)`
            : `page file only on ${files.map((f) => f.drive).join(', ')} (on Azure the temporary disk D:): a dump needs a page file on the Windows volume or a DedicatedDumpFile`,
      });
      const max = onOs.map((f) => f.maxMiB).filter((m): m is number => m !== null);
      if (
        facts.memoryBytes !== undefined &&
        max.length > 0 &&
        Math.max(...max) * MiB < facts.memoryBytes + DUMP_HEADER_BYTES
      ) {
        out.push({
          level: 'problem',
          what: 'PagingFiles',
          detail: `the page file may grow to ${Math.max(...max)} MiB, less than the memory (${gib(facts.memoryBytes)}) plus 1 MiB a complete dump needs`,
        });
      }
    }
  }
  if (facts.freeBytes !== undefined) {
    const need = facts.memoryBytes === undefined ? undefined : facts.memoryBytes + DUMP_HEADER_BYTES;
    out.push({
      level: need !== undefined && facts.freeBytes < need ? 'problem' : 'info',
      what: 'free space',
      detail:
        need === undefined
          ? `${gib(facts.freeBytes)} free on the Windows volume (give --memory-size to compare with the VM's memory)`
          : facts.freeBytes < need
            ? `${gib(facts.freeBytes)} free on the Windows volume, less than the memory (${gib(facts.memoryBytes!)}): MEMORY.DMP would not fit; point DumpFile at a data disk (REFERENCE.md §1.3)`
            : `${gib(facts.freeBytes)} free on the Windows volume, enough for a ${gib(facts.memoryBytes!)} dump`,
    });
  }
  return out;
}
