// BCD object types and well-known identifiers. Spec: Microsoft "BCD object types" (BcdObject Type property);
// Geoff Chappell, "BCD objects"; phnt ntbcd.h GUID_* and MAKE_BCD_OBJECT. REFERENCE.md §2.2–2.3.
// Type dword: bits 28-31 object kind (1 application, 2 inheritable, 3 device); for applications bits 20-23
// the image type and bits 0-19 the application type; for inheritables bits 20-23 what may inherit them.

export const OBJECT_KIND = { application: 1, inherit: 2, device: 3 } as const;

/** Application types (low 20 bits) that decide how class-2 element codes are named. */
export type AppKind =
  | 'firmwareBootManager'
  | 'bootManager'
  | 'osLoader'
  | 'resume'
  | 'memoryTester'
  | 'ntldr'
  | 'setupldr'
  | 'bootSector'
  | 'startup'
  | 'bootApp';

const APP_KINDS: ReadonlyMap<number, AppKind> = new Map([
  [1, 'firmwareBootManager'],
  [2, 'bootManager'],
  [3, 'osLoader'],
  [4, 'resume'],
  [5, 'memoryTester'],
  [6, 'ntldr'],
  [7, 'setupldr'],
  [8, 'bootSector'],
  [9, 'startup'],
  [0xa, 'bootApp'],
]);

/** Section headers as bcdedit /enum prints them. */
const APP_TITLES: Readonly<Record<AppKind, string>> = {
  firmwareBootManager: 'Firmware Boot Manager',
  bootManager: 'Windows Boot Manager',
  osLoader: 'Windows Boot Loader',
  resume: 'Resume from Hibernate',
  memoryTester: 'Windows Memory Tester',
  ntldr: 'Windows Legacy OS Loader',
  setupldr: 'Windows Setup Loader',
  bootSector: 'Real-mode Boot Sector',
  startup: 'Real-mode Startup Module',
  bootApp: 'Boot Application',
};

/** 0x101fffff: an entry the firmware lists (a UEFI boot option bcdedit shows as "Firmware Application"). */
const FIRMWARE_APPLICATION = 0xfffff;
/** Image type 1 = firmware application (bits 20-23 of an application object). */
const IMAGE_FIRMWARE = 1;
/** Inherit class 1 = library settings any object may inherit; 2 = only applications of the given type. */
const INHERIT_LIBRARY = 1;
const INHERIT_APPLICATION = 2;

export interface ObjectType {
  readonly type: number;
  readonly kind: 'application' | 'inherit' | 'device' | 'unknown';
  /** Application type of an application object, or the type an inheritable object is for. */
  readonly app: AppKind | null;
  /** bcdedit-like section header. */
  readonly title: string;
}

export function describeObjectType(type: number): ObjectType {
  const t = type >>> 0;
  const kind = t >>> 28;
  const sub = (t >>> 20) & 0xf;
  const appType = t & 0xfffff;
  const app = APP_KINDS.get(appType) ?? null;
  if (kind === OBJECT_KIND.application) {
    if (sub === IMAGE_FIRMWARE && appType === FIRMWARE_APPLICATION)
      return { type: t, kind: 'application', app: null, title: 'Firmware Application' };
    return { type: t, kind: 'application', app, title: app ? APP_TITLES[app] : 'Boot Application' };
  }
  if (kind === OBJECT_KIND.inherit) {
    if (sub === INHERIT_APPLICATION) return { type: t, kind: 'inherit', app, title: 'Application Settings' };
    return {
      type: t,
      kind: 'inherit',
      app: null,
      title: sub === INHERIT_LIBRARY ? 'Library Settings' : 'Inheritable Settings',
    };
  }
  if (kind === OBJECT_KIND.device) return { type: t, kind: 'device', app: null, title: 'Device options' };
  return { type: t, kind: 'unknown', app: null, title: 'Unknown object' };
}

/** Which element-name table applies to an object of this type (see elementName). */
export function nameSpace(t: ObjectType): AppKind | 'device' | null {
  return t.kind === 'device' ? 'device' : t.app;
}

/** Well-known objects: alias → lowercase braced GUID (phnt ntbcd.h; {resumeloadersettings} as real stores spell it). */
export const WELL_KNOWN: ReadonlyMap<string, string> = new Map([
  ['{bootmgr}', '{9dea862c-5cdd-4e70-acc1-f32b344d4795}'],
  ['{fwbootmgr}', '{a5a30fa2-3d06-4e9f-b5f4-a01df9d1fcba}'],
  ['{emssettings}', '{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}'],
  ['{dbgsettings}', '{4636856e-540f-4170-a130-a84776f4c654}'],
  ['{globalsettings}', '{7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e}'],
  ['{bootloadersettings}', '{6efb52bf-1766-41db-a6b3-0ee5eff72bd7}'],
  ['{resumeloadersettings}', '{1afa9c49-16ab-4a5c-901b-212802da9460}'],
  ['{hypervisorsettings}', '{7ff607e0-4395-11db-b0de-0800200c9a66}'],
  ['{badmemory}', '{5189b25c-5558-4bf2-bca4-289b11bd29e2}'],
  ['{memdiag}', '{b2721d73-1db4-4c62-bf78-c548a880142d}'],
  ['{ntldr}', '{466f5a88-0af2-4f76-9038-095b170dc21c}'],
  ['{ramdiskoptions}', '{ae5534e0-a924-466c-b836-758539a3ee3a}'],
]);

/** Virtual identifiers: never stored as keys; {default} resolves through {bootmgr} 23000003. */
export const VIRTUAL = {
  '{default}': '{1cae1eb7-a0df-4d4d-9851-4860e34ef535}',
  '{current}': '{fa926493-6f1c-4193-a414-58f0b2456d1e}',
} as const;

const ALIAS_BY_GUID: ReadonlyMap<string, string> = new Map(
  [...WELL_KNOWN].map(([alias, guid]) => [guid, alias]),
);

/** `{xxxxxxxx-...}` lowercase; null when `s` is not a GUID (with or without braces). */
export function normalizeGuid(s: string): string | null {
  const m = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i.exec(s.trim());
  return m ? `{${m[1]!.toLowerCase()}}` : null;
}

export function aliasOf(guid: string): string | undefined {
  const g = normalizeGuid(guid);
  return g === null ? undefined : ALIAS_BY_GUID.get(g);
}
