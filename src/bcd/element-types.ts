// BCD element type codes. Spec: Microsoft "BcdElementType structure" (class 4 bits | format 4 bits | subtype 24
// bits), BcdLibraryElementTypes, BcdBootMgrElementTypes, BcdOSLoaderElementTypes, BcdResumeElementTypes,
// BcdMemDiagElementTypes, BcdDeviceObjectElementTypes; Geoff Chappell, "BCD elements". REFERENCE.md §2.4.
// The names are the ones bcdedit prints; a code we have no name for prints as bcdedit does: custom:XXXXXXXX.
import { WinrescueError } from '../errors.js';
import type { AppKind } from './object-types.js';

export const ELEMENT_CLASS = { library: 1, application: 2, device: 3, template: 4 } as const;

/** Format nibble (bits 24-27) → how the value is stored (REFERENCE.md §2.4 table). */
export const ELEMENT_FORMAT = {
  1: 'device',
  2: 'string',
  3: 'object',
  4: 'objectList',
  5: 'integer',
  6: 'boolean',
  7: 'integerList',
} as const;

export type ElementFormat = (typeof ELEMENT_FORMAT)[keyof typeof ELEMENT_FORMAT];

export interface ElementCode {
  readonly code: number;
  readonly class: number;
  /** Undefined for a format nibble no documented type uses: the value is then kept raw. */
  readonly format: ElementFormat | undefined;
  readonly subtype: number;
}

export function splitElementCode(code: number): ElementCode {
  const fmt = (code >>> 24) & 0xf;
  return {
    code: code >>> 0,
    class: code >>> 28,
    format: (ELEMENT_FORMAT as Record<number, ElementFormat>)[fmt],
    subtype: code & 0xffffff,
  };
}

/** Element keys are named by 8 hex digits; Windows writes them lowercase (REFERENCE.md §2.2). */
export function elementKeyName(code: number): string {
  return (code >>> 0).toString(16).padStart(8, '0');
}

/** The key name as an element code; null when the name is not 8 hex digits (such a key is kept as unknown). */
export function parseElementKeyName(name: string): number | null {
  return /^[0-9a-f]{8}$/i.test(name) ? parseInt(name, 16) >>> 0 : null;
}

type NameTable = readonly (readonly [number, string])[];

// Class 1: meaningful on every object (BcdLibraryElementTypes).
const LIBRARY: NameTable = [
  [0x11000001, 'device'],
  [0x12000002, 'path'],
  [0x12000004, 'description'],
  [0x12000005, 'locale'],
  [0x14000006, 'inherit'],
  [0x15000007, 'truncatememory'],
  [0x14000008, 'recoverysequence'],
  [0x16000009, 'recoveryenabled'],
  [0x1700000a, 'badmemorylist'],
  [0x1600000b, 'badmemoryaccess'],
  [0x1500000c, 'firstmegabytepolicy'],
  [0x1500000d, 'relocatephysical'],
  [0x1500000e, 'avoidlowmemory'],
  [0x16000010, 'bootdebug'],
  [0x15000011, 'debugtype'],
  [0x15000012, 'debugaddress'],
  [0x15000013, 'debugport'],
  [0x15000014, 'baudrate'],
  [0x15000015, 'channel'],
  [0x12000016, 'targetname'],
  [0x16000017, 'noumex'],
  [0x15000018, 'debugstart'],
  [0x12000019, 'busparams'],
  [0x1500001a, 'hostip'],
  [0x1500001b, 'port'],
  [0x1600001c, 'dhcp'],
  [0x1200001d, 'key'],
  [0x1600001e, 'vm'],
  [0x16000020, 'bootems'],
  [0x15000022, 'emsport'],
  [0x15000023, 'emsbaudrate'],
  [0x12000030, 'loadoptions'],
  [0x16000040, 'advancedoptions'],
  [0x16000041, 'optionsedit'],
  [0x15000042, 'keyringaddress'],
  [0x11000043, 'bootstatdevice'],
  [0x12000044, 'bootstatfilepath'],
  [0x16000045, 'preservebootstat'],
  [0x16000046, 'graphicsmodedisabled'],
  [0x15000047, 'configaccesspolicy'],
  [0x16000048, 'nointegritychecks'],
  [0x16000049, 'testsigning'],
  [0x1200004a, 'fontpath'],
  [0x1500004b, 'integrityservices'],
  [0x1500004c, 'volumebandid'],
  [0x16000050, 'extendedinput'],
  [0x15000051, 'initialconsoleinput'],
  [0x15000052, 'graphicsresolution'],
  [0x16000053, 'restartonfailure'],
  [0x16000054, 'highestmode'],
  [0x16000060, 'isolatedcontext'],
  [0x15000065, 'displaymessage'],
  [0x15000066, 'displaymessageoverride'],
  [0x17000077, 'allowedinmemorysettings'],
];

// Class 2 codes mean different things per application type (REFERENCE.md §2.4: 0x23000003 is bootmgr's
// "default" and a loader's "resumeobject").
const BOOT_MANAGER: NameTable = [
  [0x24000001, 'displayorder'],
  [0x24000002, 'bootsequence'],
  [0x23000003, 'default'],
  [0x25000004, 'timeout'],
  [0x26000005, 'resume'],
  [0x23000006, 'resumeobject'],
  [0x24000010, 'toolsdisplayorder'],
  [0x26000020, 'displaybootmenu'],
  [0x26000021, 'noerrordisplay'],
  [0x21000022, 'bcddevice'],
  [0x22000023, 'bcdfilepath'],
  [0x27000030, 'customactions'],
  [0x26000031, 'persistbootsequence'],
];

const OS_LOADER: NameTable = [
  [0x21000001, 'osdevice'],
  [0x22000002, 'systemroot'],
  [0x23000003, 'resumeobject'],
  [0x26000010, 'detecthal'],
  [0x22000011, 'kernel'],
  [0x22000012, 'hal'],
  [0x22000013, 'dbgtransport'],
  [0x25000020, 'nx'],
  [0x25000021, 'pae'],
  [0x26000022, 'winpe'],
  [0x26000024, 'nocrashautoreboot'],
  [0x26000025, 'lastknowngood'],
  [0x26000030, 'nolowmem'],
  [0x25000031, 'removememory'],
  [0x25000032, 'increaseuserva'],
  [0x26000040, 'vga'],
  [0x26000041, 'quietboot'],
  [0x26000042, 'novesa'],
  [0x26000043, 'novga'],
  [0x25000050, 'clustermodeaddressing'],
  [0x26000051, 'usephysicaldestination'],
  [0x25000052, 'restrictapiccluster'],
  [0x26000054, 'uselegacyapicmode'],
  [0x25000055, 'x2apicpolicy'],
  [0x26000060, 'onecpu'],
  [0x25000061, 'numproc'],
  [0x26000062, 'maxproc'],
  [0x25000063, 'configflags'],
  [0x26000064, 'maxgroup'],
  [0x26000065, 'groupaware'],
  [0x25000066, 'groupsize'],
  [0x26000070, 'usefirmwarepcisettings'],
  [0x25000071, 'msi'],
  [0x25000080, 'safeboot'],
  [0x26000081, 'safebootalternateshell'],
  [0x26000090, 'bootlog'],
  [0x26000091, 'sos'],
  [0x260000a0, 'debug'],
  [0x260000a1, 'halbreakpoint'],
  [0x260000a2, 'useplatformclock'],
  [0x260000a3, 'forcelegacyplatform'],
  [0x250000a6, 'tscsyncpolicy'],
  [0x260000b0, 'ems'],
  [0x250000c1, 'driverloadfailurepolicy'],
  [0x250000c2, 'bootmenupolicy'],
  [0x250000e0, 'bootstatuspolicy'],
  [0x260000e1, 'disableelamdrivers'],
  [0x250000f0, 'hypervisorlaunchtype'],
  [0x260000f2, 'hypervisordebug'],
  [0x250000f3, 'hypervisordebugtype'],
  [0x250000f4, 'hypervisordebugport'],
  [0x250000f5, 'hypervisorbaudrate'],
  [0x250000f6, 'hypervisorchannel'],
  [0x220000f9, 'hypervisorbusparams'],
  [0x250000fa, 'hypervisornumproc'],
  [0x250000fb, 'hypervisorrootprocpernode'],
  [0x260000fc, 'hypervisoruselargevtlb'],
  [0x250000fd, 'hypervisorhostip'],
  [0x250000fe, 'hypervisorhostport'],
  [0x25000100, 'tpmbootentropy'],
  [0x26000114, 'hypervisordhcp'],
  [0x25000115, 'hypervisoriommupolicy'],
  [0x2500012b, 'xsavedisable'],
];

const RESUME: NameTable = [
  [0x21000001, 'filedevice'],
  [0x22000002, 'filepath'],
  [0x26000003, 'customsettings'],
  [0x21000005, 'associatedosdevice'],
  [0x26000006, 'debugoptionenabled'],
  [0x25000008, 'bootmenupolicy'],
];

const MEMORY_TESTER: NameTable = [
  [0x25000001, 'passcount'],
  [0x25000002, 'testmix'],
  [0x25000003, 'failurecount'],
  [0x25000004, 'testtofail'],
  [0x26000005, 'cacheenable'],
];

// Class 3: on device objects ({ramdiskoptions} and the WinRE ramdisk objects).
const DEVICE_OBJECT: NameTable = [
  [0x35000001, 'ramdiskimageoffset'],
  [0x35000002, 'ramdisktftpclientport'],
  [0x31000003, 'ramdisksdidevice'],
  [0x32000004, 'ramdisksdipath'],
  [0x35000005, 'ramdiskimagelength'],
  [0x36000006, 'exportascd'],
  [0x35000007, 'ramdisktftpblocksize'],
  [0x35000008, 'ramdisktftpwindowsize'],
  [0x36000009, 'ramdiskmcenabled'],
  [0x3600000a, 'ramdiskmctftpfallback'],
  [0x3600000b, 'ramdisktftpvarwindow'],
];

const APPLICATION_TABLES: Readonly<Partial<Record<AppKind, NameTable>>> = {
  firmwareBootManager: BOOT_MANAGER,
  bootManager: BOOT_MANAGER,
  osLoader: OS_LOADER,
  resume: RESUME,
  memoryTester: MEMORY_TESTER,
};

const toMaps = (t: NameTable) => ({
  byCode: new Map(t.map(([c, n]) => [c >>> 0, n])),
  byName: new Map(t.map(([c, n]) => [n, c >>> 0])),
});
const LIBRARY_MAPS = toMaps(LIBRARY);
const DEVICE_MAPS = toMaps(DEVICE_OBJECT);
const APP_MAPS = new Map(Object.entries(APPLICATION_TABLES).map(([k, t]) => [k as AppKind, toMaps(t)]));

/**
 * bcdedit's name for `code` on an object whose application kind is `app` (null for settings objects of the
 * library kind, and for device objects pass 'device'); undefined when we do not know it.
 */
export function elementName(code: number, app: AppKind | 'device' | null): string | undefined {
  const c = code >>> 0;
  switch (c >>> 28) {
    case ELEMENT_CLASS.library:
      return LIBRARY_MAPS.byCode.get(c);
    case ELEMENT_CLASS.application:
      return app === null || app === 'device' ? undefined : APP_MAPS.get(app)?.byCode.get(c);
    case ELEMENT_CLASS.device:
      return app === 'device' ? DEVICE_MAPS.byCode.get(c) : undefined;
    default:
      return undefined;
  }
}

/** The text bcdedit prints for an element: its name, or custom:XXXXXXXX. */
export function elementLabel(code: number, app: AppKind | 'device' | null): string {
  return elementName(code, app) ?? `custom:${elementKeyName(code)}`;
}

/**
 * The code for a bcdedit name (or `custom:XXXXXXXX`, or 8 hex digits) on an object of kind `app`. Application
 * names are looked up for that kind only, so a playbook cannot write a boot manager code onto a loader.
 */
export function elementCode(name: string, app: AppKind | 'device' | null): number {
  const custom = /^(?:custom:)?([0-9a-f]{8})$/i.exec(name);
  if (custom) return parseInt(custom[1]!, 16) >>> 0;
  const n = name.toLowerCase();
  const found =
    (app !== null && app !== 'device' ? APP_MAPS.get(app)?.byName.get(n) : undefined) ??
    (app === 'device' ? DEVICE_MAPS.byName.get(n) : undefined) ??
    LIBRARY_MAPS.byName.get(n);
  if (found === undefined) {
    throw new WinrescueError(
      'bcd.notFound',
      `no BCD element named ${name} on ${app === null ? 'a library settings object' : `a ${app} object`}`,
      { structure: 'bcd.element', actual: name },
    );
  }
  return found;
}

/** BcdLibrary_DebuggerType. */
const DEBUGGER_TYPES = ['Serial', '1394', 'USB', 'NET', 'Local'];
/** The boot screen's message set (phnt BcdLibrary DisplayMessage values). */
const DISPLAY_MESSAGES = [
  'Default',
  'Resume',
  'HyperV',
  'Recovery',
  'StartupRepair',
  'SystemImageRecovery',
  'CommandPrompt',
  'SystemRestore',
  'PushButtonReset',
];

/** Integer elements bcdedit prints by name rather than number (phnt ntbcd.h enums; REFERENCE.md §2.4). */
export const INTEGER_ENUMS: ReadonlyMap<string, readonly string[]> = new Map([
  ['bootmenupolicy', ['Legacy', 'Standard']],
  [
    'bootstatuspolicy',
    [
      'DisplayAllFailures',
      'IgnoreAllFailures',
      'IgnoreShutdownFailures',
      'IgnoreBootFailures',
      'IgnoreCheckpointFailures',
      'DisplayShutdownFailures',
      'DisplayBootFailures',
      'DisplayCheckpointFailures',
    ],
  ],
  ['nx', ['OptIn', 'OptOut', 'AlwaysOff', 'AlwaysOn']],
  ['pae', ['Default', 'ForceEnable', 'ForceDisable']],
  ['hypervisorlaunchtype', ['Off', 'Auto']],
  ['integrityservices', ['Default', 'Enable', 'Disable']],
  ['debugtype', DEBUGGER_TYPES],
  ['hypervisordebugtype', DEBUGGER_TYPES],
  ['displaymessage', DISPLAY_MESSAGES],
  ['displaymessageoverride', DISPLAY_MESSAGES],
]);
