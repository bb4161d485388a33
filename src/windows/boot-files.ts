// What winload reads before the kernel runs: REFERENCE.md §1.5 and Microsoft's "boot process" overview —
// the kernel and HAL, the debugger transport, the boot video driver, code integrity, CLFS, PSHED, the microcode
// updates, the NLS tables named in Control\Nls, the SYSTEM hive and the boot-start drivers (Services\* with
// Start = 0), loaded in ServiceGroupOrder. Any of them unreadable stops the boot before a crash dump exists.
import { isWinrescueError } from '../errors.js';
import type { Hive } from '../registry/hive.js';
import type { KeyNode } from '../registry/cells/key-node.js';
import { REG_DWORD, REG_EXPAND_SZ, REG_MULTI_SZ, REG_SZ, decodeValue } from '../registry/value-data.js';

export type BootFileRole =
  'boot-loader' | 'kernel' | 'boot-library' | 'nls' | 'system-hive' | 'boot-driver' | 'symptom';

export interface BootFile {
  /** Volume path with backslashes, from the volume root: \Windows\System32\ntoskrnl.exe. */
  readonly path: string;
  readonly role: BootFileRole;
  /** Why it is on the list: the service name, the Nls value, the fixed name. */
  readonly reason: string;
  /** A missing file is a finding; an optional one (the other CPU vendor's microcode) is not. */
  readonly optional: boolean;
  /** For boot drivers: their load group, and the position in ServiceGroupOrder (unknown groups last). */
  readonly group?: string;
}

/** Service Start value of a driver the boot loader loads (SERVICE_BOOT_START). */
export const SERVICE_BOOT_START = 0;
/** Service Type bits of drivers (kernel driver 1, file-system driver 2, recognizer 8). */
const DRIVER_TYPES = 0x1 | 0x2 | 0x8;

const SYSTEM32 = '\\Windows\\System32';

/** The loaded-by-name libraries: winload imports them for the kernel, whatever the hive says. */
const KERNEL_FILES: readonly { name: string; role: BootFileRole; optional?: boolean }[] = [
  { name: 'ntoskrnl.exe', role: 'kernel' },
  { name: 'hal.dll', role: 'kernel' },
  { name: 'kdcom.dll', role: 'boot-library' },
  { name: 'bootvid.dll', role: 'boot-library' },
  { name: 'ci.dll', role: 'boot-library' },
  { name: 'drivers\\CLFS.SYS', role: 'boot-library' },
  { name: 'pshed.dll', role: 'boot-library' },
  // One of the two is loaded, by the CPU's vendor: neither is a finding only when both are missing.
  { name: 'mcupdate_GenuineIntel.dll', role: 'boot-library', optional: true },
  { name: 'mcupdate_AuthenticAMD.dll', role: 'boot-library', optional: true },
];

function values(hive: Hive, key: KeyNode): Map<string, { type: number; data: Uint8Array }> {
  const out = new Map<string, { type: number; data: Uint8Array }>();
  for (const v of hive.values(key)) out.set(v.name.toUpperCase(), { type: v.type, data: hive.valueData(v) });
  return out;
}

function openOrNull(hive: Hive, path: string): KeyNode | null {
  try {
    return hive.openKey(path);
  } catch (e) {
    if (isWinrescueError(e) && e.code === 'regf.notFound') return null;
    throw e;
  }
}

function text(v: { type: number; data: Uint8Array } | undefined): string | null {
  if (!v || (v.type !== REG_SZ && v.type !== REG_EXPAND_SZ)) return null;
  const s = decodeValue(v.type, v.data).value;
  return typeof s === 'string' && s.trim() !== '' ? s.trim() : null;
}

function dword(v: { type: number; data: Uint8Array } | undefined): number | null {
  if (!v || v.type !== REG_DWORD || v.data.length !== 4) return null;
  return decodeValue(v.type, v.data).value as number;
}

/**
 * A service ImagePath as a volume path. Forms seen in SYSTEM hives: `System32\drivers\x.sys` (relative to the
 * system root), `\SystemRoot\System32\...`, `%SystemRoot%\...`, `\??\C:\Windows\...`, `C:\Windows\...`.
 */
export function imagePathOnVolume(imagePath: string, systemRoot = '\\Windows'): string {
  let p = imagePath.trim().replaceAll('/', '\\').replace(/^"|"$/g, '');
  p = p.replace(/^\\\?\?\\/, '').replace(/^[a-z]:/i, '');
  const root = /^(\\SystemRoot|%SystemRoot%)(?=\\|$)/i.exec(p);
  if (root) p = systemRoot + p.slice(root[0].length);
  else if (!p.startsWith('\\')) p = `${systemRoot}\\${p}`;
  return p.replace(/\\+/g, '\\');
}

/** The NLS tables the loader reads: the ANSI and OEM code pages and the default language's case table. */
export function nlsFiles(system: Hive, controlSet: string): BootFile[] {
  const out: BootFile[] = [];
  const nls = `${controlSet}\\Control\\Nls`;
  const cp = openOrNull(system, `${nls}\\CodePage`);
  if (cp) {
    const v = values(system, cp);
    for (const which of ['ACP', 'OEMCP']) {
      const page = text(v.get(which));
      const file = page === null ? null : text(v.get(page.toUpperCase()));
      if (file) {
        out.push({
          path: `${SYSTEM32}\\${file}`,
          role: 'nls',
          reason: `Control\\Nls\\CodePage ${which} = ${page}`,
          optional: false,
        });
      }
    }
  }
  const lang = openOrNull(system, `${nls}\\Language`);
  if (lang) {
    const v = values(system, lang);
    const def = text(v.get('DEFAULT'));
    const file = def === null ? null : text(v.get(def.toUpperCase()));
    if (file) {
      out.push({
        path: `${SYSTEM32}\\${file}`,
        role: 'nls',
        reason: `Control\\Nls\\Language Default = ${def}`,
        optional: false,
      });
    }
  }
  return out;
}

/** Boot-start drivers (Start = 0, a driver Type) in ServiceGroupOrder, then by name within a group. */
export function bootStartDrivers(system: Hive, controlSet: string, systemRoot = '\\Windows'): BootFile[] {
  const services = openOrNull(system, `${controlSet}\\Services`);
  if (!services) return [];
  const orderKey = openOrNull(system, `${controlSet}\\Control\\ServiceGroupOrder`);
  const listValue = orderKey ? values(system, orderKey).get('LIST') : undefined;
  const order =
    listValue && listValue.type === REG_MULTI_SZ
      ? (decodeValue(REG_MULTI_SZ, listValue.data).value as string[]).map((g) => g.toUpperCase())
      : [];
  const found: (BootFile & { rank: number; name: string })[] = [];
  for (const svc of system.subkeys(services)) {
    const v = values(system, svc);
    if (dword(v.get('START')) !== SERVICE_BOOT_START) continue;
    const type = dword(v.get('TYPE'));
    if (type !== null && (type & DRIVER_TYPES) === 0) continue;
    const image = text(v.get('IMAGEPATH'));
    const group = text(v.get('GROUP')) ?? '';
    const rank = order.indexOf(group.toUpperCase());
    found.push({
      path: imagePathOnVolume(image ?? `System32\\drivers\\${svc.name}.sys`, systemRoot),
      role: 'boot-driver',
      reason: `Services\\${svc.name} Start = 0${image ? '' : ' (no ImagePath: default path)'}`,
      optional: false,
      ...(group ? { group } : {}),
      rank: rank < 0 ? order.length : rank,
      name: svc.name.toUpperCase(),
    });
  }
  found.sort((a, b) => a.rank - b.rank || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return found.map(({ rank: _rank, name: _name, ...f }) => f);
}

export interface BootFileListOptions {
  /** 1 = BIOS (winload.exe), 2 = UEFI (winload.efi); null when unknown (both are listed, optional). */
  readonly generation: 1 | 2 | null;
  /** The loader path from the BCD's default entry, when it could be read (\Windows\system32\winload.efi). */
  readonly loaderPath?: string | null;
  readonly systemRoot?: string;
}

/** Every file on the Windows volume the boot depends on, in load order, without duplicates. */
export function bootFileList(
  system: Hive | null,
  controlSet: string | null,
  options: BootFileListOptions,
): BootFile[] {
  const root = options.systemRoot ?? '\\Windows';
  const out: BootFile[] = [];
  if (options.loaderPath) {
    out.push({
      path: options.loaderPath,
      role: 'boot-loader',
      reason: 'BCD {default} path',
      optional: false,
    });
  } else {
    for (const [gen, name] of [
      [1, 'winload.exe'],
      [2, 'winload.efi'],
    ] as const) {
      if (options.generation === null || options.generation === gen) {
        out.push({
          path: `${SYSTEM32}\\${name}`,
          role: 'boot-loader',
          reason:
            options.generation === null ? 'boot loader (generation unknown)' : `generation ${gen} loader`,
          optional: options.generation === null,
        });
      }
    }
  }
  out.push({
    path: `${SYSTEM32}\\config\\SYSTEM`,
    role: 'system-hive',
    reason: 'the loader reads the SYSTEM hive for the boot drivers',
    optional: false,
  });
  for (const k of KERNEL_FILES) {
    out.push({
      path: `${SYSTEM32}\\${k.name}`,
      role: k.role,
      reason: 'loaded by winload for the kernel',
      optional: k.optional ?? false,
    });
  }
  if (system && controlSet) {
    out.push(...nlsFiles(system, controlSet));
    out.push(...bootStartDrivers(system, controlSet, root));
  }
  const seen = new Set<string>();
  return out.filter((f) => {
    const key = f.path.toUpperCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
