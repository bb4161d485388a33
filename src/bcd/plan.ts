// Planning one element change for the playbooks: old → new, as bcdedit would store the new value
// (REFERENCE.md §2.4: 1-byte booleans, 8-byte integers, lowercase keys). "Already set" means the stored
// registry type and bytes are exactly what bcdedit writes, so a 4-byte boolean that reads as "yes" is still rewritten.
import { equalBytes } from '../util/bytes.js';
import { elementCode, elementKeyName, splitElementCode } from './element-types.js';
import { encodeElementValue, type BcdValue } from './element-value.js';
import { nameSpace } from './object-types.js';
import { ELEMENT_VALUE, elementKeyPath, type BcdElement, type BcdObject, type BcdStore } from './store.js';
import { WinrescueError } from '../errors.js';

export interface ElementChange {
  readonly object: BcdObject;
  readonly code: number;
  /** bcdedit's name or custom:xxxxxxxx. */
  readonly name: string;
  /** Key to create or update (`Objects\{…}\Elements\<lowercase code>`), value `Element`. */
  readonly keyPath: string;
  readonly valueName: string;
  readonly old: BcdElement | undefined;
  readonly new: BcdValue;
  readonly type: number;
  readonly data: Uint8Array;
  /** False when the stored type and bytes are already exactly these. */
  readonly changed: boolean;
}

/**
 * What setting `name` (bcdedit name for the object's kind, custom:xxxxxxxx, or a code) to `value` on `objectId`
 * ({bootmgr}, {default}, a GUID, ...) would write. Typed errors for a missing object, an unknown name for that
 * object's kind, or a value whose format is not the code's.
 */
export function planElementChange(
  store: BcdStore,
  objectId: string,
  name: string | number,
  value: BcdValue,
): ElementChange {
  const object = store.get(objectId);
  const code = typeof name === 'number' ? name >>> 0 : elementCode(name, nameSpace(object.type));
  const format = splitElementCode(code).format;
  if (format !== value.format) {
    throw new WinrescueError(
      'bcd.badStore',
      `element ${elementKeyName(code)} holds ${format ?? 'an unknown format'}, not ${value.format}`,
      { structure: 'bcd.element', expected: format, actual: value.format },
    );
  }
  const { type, data } = encodeElementValue(value);
  const old = store.element(object, code);
  // An existing key keeps its stored name (case); registry lookups are case-insensitive anyway.
  const keyPath = old ? `${object.path}\\Elements\\${old.keyName}` : elementKeyPath(object, code);
  return {
    object,
    code,
    name: old?.label ?? (typeof name === 'string' ? name : `custom:${elementKeyName(code)}`),
    keyPath,
    valueName: ELEMENT_VALUE,
    old,
    new: value,
    type,
    data,
    changed: old === undefined || old.regType !== type || !equalBytes(old.raw, data),
  };
}
