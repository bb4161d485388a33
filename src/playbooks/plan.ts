// What a configuration playbook reports and writes (DESIGN.md "--json shapes": playbooks give
// `{ changed, plan: [{ action, target, old, new }], undo }`). A plan is computed from a read-only hive; the changes
// it lists are replayed on a HiveEditor only when the playbook is applied.
import { HiveEditor } from '../registry/write/editor.js';
import { formatValue, typeName } from '../registry/value-data.js';
import { equalBytes } from '../util/bytes.js';
import type { Hive } from '../registry/hive.js';
import { isWinrescueError } from '../errors.js';

export const ALREADY_SET = 'already set';

export interface PlaybookStep {
  action: 'set-element' | 'create-object' | 'set-value' | 'create-key';
  /** Element: `{bootmgr} displaybootmenu`; value: `HIVE\Key\Name`; key/object: its path or id. */
  target: string;
  old: unknown;
  new: unknown;
  /** 'change' is written; 'already set' holds exactly the wanted type and bytes and is left alone. */
  status: 'change' | typeof ALREADY_SET;
  /** Why a step exists beyond the obvious (an object created because the store had none, say). */
  note?: string;
}

export type HiveChange =
  | { readonly kind: 'createKey'; readonly path: string }
  | {
      readonly kind: 'setValue';
      readonly key: string;
      readonly name: string;
      readonly type: number;
      readonly data: Uint8Array;
    };

export interface HivePlan {
  readonly steps: PlaybookStep[];
  readonly changes: HiveChange[];
}

/** A registry value as the plan shows it: its type name and reg-query text. */
export function shownValue(type: number, data: Uint8Array): { type: string; data: string } {
  return { type: typeName(type), data: formatValue(type, data) };
}

/** True when `keyPath` exists in the hive. */
export function hasKey(hive: Hive, keyPath: string): boolean {
  try {
    hive.openKey(keyPath);
    return true;
  } catch (e) {
    if (isWinrescueError(e) && e.code === 'regf.notFound') return false;
    throw e;
  }
}

/**
 * Plans one registry value (key path below the hive root): a 'set-value' step, and the change when the value is
 * missing or differs in type or bytes. `createKey` adds the key itself first when it is missing.
 */
export function planValue(
  hive: Hive,
  hiveLabel: string,
  keyPath: string,
  name: string,
  type: number,
  data: Uint8Array,
  plan: HivePlan,
): void {
  const exists = hasKey(hive, keyPath);
  const old = exists
    ? hive.values(hive.openKey(keyPath)).find((v) => v.name.toUpperCase() === name.toUpperCase())
    : undefined;
  const oldData = old ? hive.valueData(old) : undefined;
  const same = old !== undefined && old.type === type && equalBytes(oldData!, data);
  plan.steps.push({
    action: 'set-value',
    target: `${hiveLabel}\\${keyPath}\\${name}`,
    old: old ? shownValue(old.type, oldData!) : null,
    new: shownValue(type, data),
    status: same ? ALREADY_SET : 'change',
  });
  // An existing value keeps the case of its stored name.
  if (!same) plan.changes.push({ kind: 'setValue', key: keyPath, name: old?.name ?? name, type, data });
}

export interface ApplyOptions {
  /** Sequence numbers of the saved hive go above this (the logs' highest), so Windows ignores the old logs. */
  minSequence: number;
  /** The hive is dirty with nothing replayed and the user forced the write. */
  force: boolean;
}

/** The hive file after the plan's changes, saved clean. */
export function applyHiveChanges(
  bytes: Uint8Array,
  changes: readonly HiveChange[],
  options: ApplyOptions,
): Uint8Array {
  const editor = HiveEditor.open(bytes, { force: options.force });
  for (const c of changes) {
    if (c.kind === 'createKey') editor.createKey(c.path);
    else {
      editor.createKey(c.key);
      editor.setValue(c.key, c.name, c.type, c.data);
    }
  }
  return editor.save({ minSequence: options.minSequence });
}
