// The current control set and the architecture, read from an offline SYSTEM hive. Spec: REFERENCE.md §1.4:
// CurrentControlSet is a volatile link made at boot, so offline the set is ControlSet%03d of Select\Current;
// the architecture comes from the hive (Session Manager\Environment), not from a binary that may be the broken one.
import { WinrescueError, isWinrescueError } from '../errors.js';
import type { Hive } from '../registry/hive.js';
import { REG_DWORD, REG_EXPAND_SZ, REG_SZ } from '../registry/value-data.js';

export const SELECT_KEY = 'Select';
/** Windows numbers control sets 1..999 (three digits); 0 would mean "none" in Select's values. */
const MAX_CONTROL_SET = 999;
const ENVIRONMENT_KEY = 'Control\\Session Manager\\Environment';

export interface ControlSetSelection {
  /** e.g. 'ControlSet001'. */
  readonly current: string;
  readonly currentNumber: number;
  /** Select's other values when present (0 or absent means none). */
  readonly default?: number;
  readonly failed?: number;
  readonly lastKnownGood?: number;
  /** ControlSetNNN keys that exist at the hive root, in name order. */
  readonly existing: readonly string[];
}

export const controlSetName = (n: number): string => `ControlSet${String(n).padStart(3, '0')}`;

function dword(hive: Hive, keyPath: string, name: string): number | undefined {
  const key = hive.openKey(keyPath);
  const v = hive.values(key).find((x) => x.name.toUpperCase() === name.toUpperCase());
  if (v === undefined) return undefined;
  const d = hive.valueData(v);
  if (v.type !== REG_DWORD || d.length !== 4) {
    throw new WinrescueError('windows.notFound', `SYSTEM ${keyPath}\\${name} is not a REG_DWORD`, {
      structure: 'windows.select',
      expected: 'REG_DWORD',
      actual: v.type,
    });
  }
  return (d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24)) >>> 0;
}

/** Select\Current → ControlSet00N, checked to exist; typed windows.notFound when Select or the set is missing. */
export function currentControlSet(system: Hive): ControlSetSelection {
  let current: number | undefined;
  try {
    current = dword(system, SELECT_KEY, 'Current');
  } catch (e) {
    if (isWinrescueError(e) && e.code === 'regf.notFound') {
      throw new WinrescueError('windows.notFound', 'this hive has no Select key: it is not a SYSTEM hive', {
        structure: 'windows.select',
        expected: SELECT_KEY,
      });
    }
    throw e;
  }
  if (current === undefined || current < 1 || current > MAX_CONTROL_SET) {
    throw new WinrescueError(
      'windows.notFound',
      current === undefined
        ? 'SYSTEM Select has no Current value'
        : `SYSTEM Select\\Current is ${current}, not a control set number`,
      { structure: 'windows.select', expected: `1..${MAX_CONTROL_SET}`, actual: current },
    );
  }
  const existing = system
    .subkeys(system.root)
    .map((k) => k.name)
    .filter((n) => /^ControlSet\d{3}$/i.test(n))
    .sort();
  const name = controlSetName(current);
  if (!existing.some((n) => n.toUpperCase() === name.toUpperCase())) {
    throw new WinrescueError(
      'windows.notFound',
      `SYSTEM Select\\Current is ${current}, but there is no ${name} (have: ${existing.join(', ') || 'none'})`,
      {
        structure: 'windows.select',
        expected: name,
        actual: existing,
      },
    );
  }
  const opt = (n: string) => {
    const v = dword(system, SELECT_KEY, n);
    return v === undefined ? {} : { [n === 'LastKnownGood' ? 'lastKnownGood' : n.toLowerCase()]: v };
  };
  return {
    current: name,
    currentNumber: current,
    ...opt('Default'),
    ...opt('Failed'),
    ...opt('LastKnownGood'),
    existing,
  };
}

/** PROCESSOR_ARCHITECTURE of the current control set's environment: 'AMD64', 'x86', 'ARM64'. */
export function architecture(system: Hive, controlSet = currentControlSet(system).current): string {
  const path = `${controlSet}\\${ENVIRONMENT_KEY}`;
  let key;
  try {
    key = system.openKey(path);
  } catch (e) {
    if (isWinrescueError(e) && e.code === 'regf.notFound')
      throw new WinrescueError('windows.notFound', `SYSTEM has no ${path}`, {
        structure: 'windows.environment',
        expected: path,
      });
    throw e;
  }
  const v = system.values(key).find((x) => x.name.toUpperCase() === 'PROCESSOR_ARCHITECTURE');
  if (v === undefined || (v.type !== REG_SZ && v.type !== REG_EXPAND_SZ)) {
    throw new WinrescueError('windows.notFound', `SYSTEM ${path} has no PROCESSOR_ARCHITECTURE string`, {
      structure: 'windows.environment',
      expected: 'PROCESSOR_ARCHITECTURE',
    });
  }
  const d = system.valueData(v);
  return new TextDecoder('utf-16le').decode(d.subarray(0, d.length & ~1)).replace(/\0.*$/s, '');
}
