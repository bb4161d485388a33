// The BCD store as objects and elements, read from a registry hive. Spec: REFERENCE.md §2.2 (hive layout:
// Objects\{guid}\Description\Type, Objects\{guid}\Elements\<code>\Element), §2.3 ({default} through {bootmgr}
// 23000003). Pure over a Hive: the caller loads (and replays) the hive.
import { WinrescueError, isWinrescueError } from '../errors.js';
import type { Hive } from '../registry/hive.js';
import type { KeyNode } from '../registry/cells/key-node.js';
import { REG_DWORD } from '../registry/value-data.js';
import {
  elementCode,
  elementKeyName,
  elementLabel,
  elementName,
  parseElementKeyName,
} from './element-types.js';
import { decodeElementValue, type BcdValue } from './element-value.js';
import {
  WELL_KNOWN,
  VIRTUAL,
  aliasOf,
  describeObjectType,
  nameSpace,
  normalizeGuid,
  type ObjectType,
} from './object-types.js';

export const OBJECTS_KEY = 'Objects';
export const ELEMENTS_KEY = 'Elements';
export const DESCRIPTION_KEY = 'Description';
export const TYPE_VALUE = 'Type';
export const ELEMENT_VALUE = 'Element';
/** {bootmgr}'s "default" element: the default OS loader's GUID (REFERENCE.md §2.3). */
export const DEFAULT_OBJECT_ELEMENT = 0x23000003;
const BOOTMGR = WELL_KNOWN.get('{bootmgr}')!;

export interface BcdElement {
  readonly code: number;
  /** The subkey name as stored (case kept). */
  readonly keyName: string;
  /** bcdedit's name, or undefined when we do not know one for this object kind. */
  readonly name: string | undefined;
  /** name, or custom:xxxxxxxx. */
  readonly label: string;
  readonly value: BcdValue;
  /** The `Element` value's registry type and bytes, exactly as stored. */
  readonly regType: number;
  readonly raw: Uint8Array;
}

export interface BcdObject {
  /** Lowercase braced GUID; the key name as stored when it is not a GUID. */
  readonly id: string;
  readonly keyName: string;
  readonly alias: string | undefined;
  readonly type: ObjectType;
  readonly elements: readonly BcdElement[];
  /** Registry path of the object key, for writers: `Objects\{…}`. */
  readonly path: string;
}

export class BcdStore {
  private readonly byId: Map<string, BcdObject>;

  constructor(
    readonly objects: readonly BcdObject[],
    /** Damage kept around rather than fatal: unnamed keys, missing types, unreadable elements. */
    readonly problems: readonly string[],
  ) {
    this.byId = new Map(objects.map((o) => [o.id, o]));
  }

  /** The {default} loader's GUID from {bootmgr} 23000003, or null when there is none. */
  defaultId(): string | null {
    const el = this.byId.get(BOOTMGR)?.elements.find((e) => e.code === DEFAULT_OBJECT_ELEMENT);
    return el?.value.format === 'object' ? el.value.value : null;
  }

  /** GUID or alias ({bootmgr}, {default}, ...), case-insensitive; {default} is resolved. */
  find(idOrAlias: string): BcdObject | undefined {
    const a = idOrAlias.trim().toLowerCase();
    if (a === '{default}' || a === VIRTUAL['{default}']) {
      const d = this.defaultId();
      return d === null ? undefined : this.byId.get(d);
    }
    const guid = WELL_KNOWN.get(a) ?? normalizeGuid(a) ?? a;
    return this.byId.get(guid);
  }

  /** Like find, but a missing object is a bcd.notFound error that says what the store has. */
  get(idOrAlias: string): BcdObject {
    const o = this.find(idOrAlias);
    if (o) return o;
    const why =
      idOrAlias.toLowerCase() === '{default}'
        ? this.defaultId() === null
          ? '{bootmgr} has no default element (23000003)'
          : `{bootmgr} default names ${this.defaultId()}, which is not in the store`
        : 'no such object';
    throw new WinrescueError(
      'bcd.notFound',
      `BCD object ${idOrAlias}: ${why} (the store has ${this.objects.length} objects)`,
      {
        structure: 'bcd.object',
        actual: idOrAlias,
      },
    );
  }

  /** One element of an object, by bcdedit name (for that object's kind), custom:xxxxxxxx or code. */
  element(object: BcdObject, nameOrCode: string | number): BcdElement | undefined {
    const code =
      typeof nameOrCode === 'number' ? nameOrCode >>> 0 : elementCode(nameOrCode, nameSpace(object.type));
    return object.elements.find((e) => e.code === code);
  }
}

/** Registry path of an element's key, lowercase hex as Windows writes it: `Objects\{…}\Elements\16000020`. */
export function elementKeyPath(object: BcdObject | string, code: number): string {
  const path = typeof object === 'string' ? `${OBJECTS_KEY}\\${object}` : object.path;
  return `${path}\\${ELEMENTS_KEY}\\${elementKeyName(code)}`;
}

function child(hive: Hive, key: KeyNode, name: string): KeyNode | undefined {
  const want = name.toUpperCase();
  return hive.subkeys(key).find((k) => k.name.toUpperCase() === want);
}

/** Reads every object and element. A hive without an Objects key is not a BCD store (bcd.badStore). */
export function readBcdStore(hive: Hive): BcdStore {
  const objectsKey = child(hive, hive.root, OBJECTS_KEY);
  if (objectsKey === undefined) {
    const names = hive.subkeys(hive.root).map((k) => k.name);
    throw new WinrescueError(
      'bcd.badStore',
      `not a BCD store: the hive root has no Objects key (it has: ${names.slice(0, 8).join(', ') || 'no subkeys'})`,
      { structure: 'bcd.store', expected: OBJECTS_KEY, actual: names.slice(0, 8) },
    );
  }
  const problems: string[] = [];
  const objects: BcdObject[] = [];
  for (const key of hive.subkeys(objectsKey)) {
    try {
      objects.push(readObject(hive, key, problems));
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      problems.push(`object ${key.name}: ${e.message}`);
    }
  }
  return new BcdStore(objects, problems);
}

function readObject(hive: Hive, key: KeyNode, problems: string[]): BcdObject {
  const id = normalizeGuid(key.name) ?? key.name;
  if (normalizeGuid(key.name) === null) problems.push(`object key ${key.name} is not named by a GUID`);
  const desc = child(hive, key, DESCRIPTION_KEY);
  const typeValue = desc
    ? hive.values(desc).find((v) => v.name.toUpperCase() === TYPE_VALUE.toUpperCase())
    : undefined;
  let type = 0;
  if (typeValue === undefined) problems.push(`object ${id} has no Description\\Type`);
  else {
    const d = hive.valueData(typeValue);
    if (typeValue.type !== REG_DWORD || d.length !== 4)
      problems.push(`object ${id}: Description\\Type is not a REG_DWORD`);
    else type = (d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24)) >>> 0;
  }
  const objectType = describeObjectType(type);
  const space = nameSpace(objectType);
  const elements: BcdElement[] = [];
  const elementsKey = child(hive, key, ELEMENTS_KEY);
  for (const ek of elementsKey ? hive.subkeys(elementsKey) : []) {
    const code = parseElementKeyName(ek.name);
    if (code === null) {
      problems.push(`object ${id}: element key ${ek.name} is not 8 hex digits`);
      continue;
    }
    const v = hive.values(ek).find((x) => x.name.toUpperCase() === ELEMENT_VALUE.toUpperCase());
    if (v === undefined) {
      problems.push(`object ${id}: element ${ek.name} has no Element value`);
      continue;
    }
    const raw = hive.valueData(v).slice();
    elements.push({
      code,
      keyName: ek.name,
      name: elementName(code, space),
      label: elementLabel(code, space),
      value: decodeElementValue(code, v.type, raw),
      regType: v.type,
      raw,
    });
  }
  // bcdedit lists elements in code order within a class group; numeric order is close enough and stable.
  elements.sort((a, b) => a.code - b.code);
  return {
    id,
    keyName: key.name,
    alias: aliasOf(id),
    type: objectType,
    elements,
    path: `${OBJECTS_KEY}\\${key.name}`,
  };
}
