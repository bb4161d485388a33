// enable-serial-console: the BCD part of Microsoft's serial console / memory dump procedure (REFERENCE.md §1.3,
// the sac-os-dump-enabler.ps1 form): {bootmgr} displaybootmenu yes, timeout 5, bootems yes; ems yes on the default
// OS loader; {emssettings} emsport 1, emsbaudrate 115200. Values are stored as bcdedit stores them (§2.4, through
// planElementChange): booleans REG_BINARY of 1 byte, integers REG_BINARY of 8 bytes little-endian.
import { planElementChange, type ElementChange } from '../bcd/plan.js';
import { encodeElementValue, formatElementValue, type BcdValue } from '../bcd/element-value.js';
import { elementCode, elementKeyName } from '../bcd/element-types.js';
import { WELL_KNOWN } from '../bcd/object-types.js';
import type { BcdStore } from '../bcd/store.js';
import { REG_DWORD } from '../registry/value-data.js';
import { ALREADY_SET, type HivePlan } from './plan.js';

/** COM1: Azure's serial console is attached to the VM's first serial port. */
export const EMS_PORT = 1n;
/** The serial console's line speed (the procedure's EMSBAUDRATE). */
export const EMS_BAUD_RATE = 115200n;
/** Seconds the boot menu waits: long enough to pick an entry from the serial console, short for an unattended boot. */
export const BOOT_MENU_TIMEOUT = 5n;
/**
 * Object type of {emssettings} as Windows setup creates it (REFERENCE.md §2.3): an inheritable settings object
 * (0x2), inheritable by any application (0x1), image type 0: 0x20100000.
 */
export const EMSSETTINGS_TYPE = 0x20100000;
/** BcdLibraryObjectList_InheritedObjects (REFERENCE.md §2.4). */
const INHERIT_ELEMENT = 0x14000006;

const WELL_KNOWN_EMSSETTINGS = WELL_KNOWN.get('{emssettings}')!;

const yes: BcdValue = { format: 'boolean', value: true };
const int = (v: bigint): BcdValue => ({ format: 'integer', value: v });

interface Wanted {
  object: string;
  name: string;
  value: BcdValue;
}

export const SERIAL_CONSOLE_SETTINGS: readonly Wanted[] = [
  { object: '{bootmgr}', name: 'displaybootmenu', value: yes },
  { object: '{bootmgr}', name: 'timeout', value: int(BOOT_MENU_TIMEOUT) },
  { object: '{bootmgr}', name: 'bootems', value: yes },
  { object: '{default}', name: 'ems', value: yes },
  { object: '{emssettings}', name: 'emsport', value: int(EMS_PORT) },
  { object: '{emssettings}', name: 'emsbaudrate', value: int(EMS_BAUD_RATE) },
];

const shown = (v: BcdValue, name: string): string => formatElementValue(v, name).join(' ');

function step(c: ElementChange, objectLabel: string): HivePlan['steps'][number] {
  return {
    action: 'set-element',
    target: `${objectLabel} ${c.name}`,
    old: c.old ? shown(c.old.value, c.name) : null,
    new: shown(c.new, c.name),
    status: c.changed ? 'change' : ALREADY_SET,
  };
}

/** {globalsettings}' inherit list (14000006) names {emssettings}, as in Windows-made stores. */
function inheritsEms(store: BcdStore): boolean {
  const g = store.find('{globalsettings}');
  const inherit = g ? store.element(g, INHERIT_ELEMENT) : undefined;
  return (
    inherit?.value.format === 'objectList' &&
    inherit.value.value.some((id) => id.toLowerCase() === WELL_KNOWN_EMSSETTINGS)
  );
}

/**
 * The plan for `store`. {bootmgr} and the default loader must exist (bcd.notFound otherwise: without them there
 * is nothing to boot). A store without {emssettings} gets the object, with its Description\Type, as bcdedit
 * /create {emssettings} makes it; the object is found by its well-known GUID, so nothing needs to point at it.
 */
export function planSerialConsole(store: BcdStore): HivePlan {
  const plan: HivePlan = { steps: [], changes: [] };
  // Both are checked before anything is planned, so a store without them fails as a whole.
  store.get('{bootmgr}');
  const loader = store.get('{default}');
  const emsMissing = store.find('{emssettings}') === undefined;
  if (emsMissing) {
    const path = `Objects\\${WELL_KNOWN_EMSSETTINGS}`;
    plan.steps.push({
      action: 'create-object',
      target: '{emssettings}',
      old: null,
      new: { id: WELL_KNOWN_EMSSETTINGS, type: `0x${EMSSETTINGS_TYPE.toString(16).padStart(8, '0')}` },
      status: 'change',
      note:
        'the store has no {emssettings} object: created with its well-known GUID, as bcdedit /create {emssettings} does' +
        (inheritsEms(store)
          ? ''
          : '; {globalsettings} does not inherit it, so only what names {emssettings} directly sees these values'),
    });
    const type = new Uint8Array(4);
    new DataView(type.buffer).setUint32(0, EMSSETTINGS_TYPE, true);
    plan.changes.push({
      kind: 'setValue',
      key: `${path}\\Description`,
      name: 'Type',
      type: REG_DWORD,
      data: type,
    });
    plan.changes.push({ kind: 'createKey', path: `${path}\\Elements` });
  }
  for (const w of SERIAL_CONSOLE_SETTINGS) {
    if (w.object === '{emssettings}' && emsMissing) {
      const code = elementCode(w.name, null);
      const { type, data } = encodeElementValue(w.value);
      plan.steps.push({
        action: 'set-element',
        target: `{emssettings} ${w.name}`,
        old: null,
        new: shown(w.value, w.name),
        status: 'change',
      });
      plan.changes.push({
        kind: 'setValue',
        key: `Objects\\${WELL_KNOWN_EMSSETTINGS}\\Elements\\${elementKeyName(code)}`,
        name: 'Element',
        type,
        data,
      });
      continue;
    }
    const c = planElementChange(store, w.object, w.name, w.value);
    const label = w.object === '{default}' ? `{default} (${loader.id})` : w.object;
    plan.steps.push(step(c, label));
    if (c.changed)
      plan.changes.push({ kind: 'setValue', key: c.keyPath, name: c.valueName, type: c.type, data: c.data });
  }
  return plan;
}
