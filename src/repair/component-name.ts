// Folder names of the component store and the driver store, as REFERENCE.md §1.6 gives them (Azure
// repair-script-library win-fix-system-file.ps1): `\Windows\WinSxS\<arch>_<name>_<publicKeyToken>_<a.b.c.d>_
// <culture>_<hash>` and `\Windows\System32\DriverStore\FileRepository\<inf>_<arch>_<hash>`. Component names
// may themselves hold underscores (`dual_acpi.inf`), so the fixed fields are taken from both ends.

/** Architectures a component folder starts with (REFERENCE.md §1.6). */
export const COMPONENT_ARCHITECTURES = ['amd64', 'x86', 'wow64', 'arm64', 'msil'] as const;
export type ComponentArchitecture = (typeof COMPONENT_ARCHITECTURES)[number];

/** Public key token and the trailing hash are 64-bit values written as 16 hex digits. */
const HEX16 = /^[0-9a-f]{16}$/i;
/** a.b.c.d, each part a 16-bit number in a file version (VS_FIXEDFILEINFO holds two 32-bit halves). */
const VERSION = /^\d{1,5}\.\d{1,5}\.\d{1,5}\.\d{1,5}$/;
const MAX_VERSION_PART = 0xffff;
/** Culture is `none` for neutral components, else a language tag such as en-us or zh-hant-tw. */
const CULTURE = /^(none|[a-z]{2,3}(-[a-z0-9]{2,8})*)$/i;
/** The fields after the name: token, version, culture, hash. */
const TRAILING_FIELDS = 4;

export interface ComponentFolderName {
  readonly arch: ComponentArchitecture;
  /** Component name; may contain underscores and dots (dual_acpi.inf, microsoft-windows-b..environment-os-loader). */
  readonly name: string;
  readonly publicKeyToken: string;
  readonly version: string;
  readonly culture: string;
  readonly hash: string;
  /** Everything but version and hash, lower case: every version of one component shares it. */
  readonly family: string;
}

export interface DriverStoreFolderName {
  /** The package's inf file name (acpi.inf). */
  readonly inf: string;
  readonly arch: ComponentArchitecture;
  readonly hash: string;
}

function isArch(s: string): s is ComponentArchitecture {
  return (COMPONENT_ARCHITECTURES as readonly string[]).includes(s);
}

/** The four parts of a.b.c.d as numbers, or null when it is not one. */
export function parseVersion(v: string): readonly [number, number, number, number] | null {
  if (!VERSION.test(v)) return null;
  const parts = v.split('.').map(Number);
  if (parts.some((p) => p > MAX_VERSION_PART)) return null;
  return parts as unknown as [number, number, number, number];
}

/** Numeric comparison of a.b.c.d versions (10.0.17763.10 > 10.0.17763.9); unparsable ones sort lowest. */
export function compareVersions(a: string | null, b: string | null): number {
  const pa = a === null ? null : parseVersion(a);
  const pb = b === null ? null : parseVersion(b);
  if (pa === null || pb === null) return (pa === null ? 0 : 1) - (pb === null ? 0 : 1);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/** A WinSxS component folder name, or null for anything else (Manifests, Temp, Backup, a damaged name). */
export function parseComponentFolder(folder: string): ComponentFolderName | null {
  const parts = folder.split('_');
  if (parts.length < 2 + TRAILING_FIELDS) return null;
  const arch = parts[0]!.toLowerCase();
  const [publicKeyToken, version, culture, hash] = parts.slice(-TRAILING_FIELDS) as [
    string,
    string,
    string,
    string,
  ];
  const name = parts.slice(1, -TRAILING_FIELDS).join('_');
  if (!isArch(arch) || name === '') return null;
  if (!HEX16.test(publicKeyToken) || !HEX16.test(hash)) return null;
  if (parseVersion(version) === null || !CULTURE.test(culture)) return null;
  return {
    arch,
    name,
    publicKeyToken: publicKeyToken.toLowerCase(),
    version,
    culture: culture.toLowerCase(),
    hash: hash.toLowerCase(),
    family: componentFamily(arch, name, publicKeyToken, culture),
  };
}

/** The identity every version of a component shares; the repair script matches on it (REFERENCE.md §1.6). */
export function componentFamily(arch: string, name: string, publicKeyToken: string, culture: string): string {
  return `${arch}_${name}_${publicKeyToken}_${culture}`.toLowerCase();
}

/** A DriverStore\FileRepository package folder name, or null. */
export function parseDriverStoreFolder(folder: string): DriverStoreFolderName | null {
  const parts = folder.split('_');
  if (parts.length < 3) return null;
  const hash = parts[parts.length - 1]!;
  const arch = parts[parts.length - 2]!.toLowerCase();
  const inf = parts.slice(0, -2).join('_');
  if (!isArch(arch) || !HEX16.test(hash) || !/\.inf$/i.test(inf)) return null;
  return { inf: inf.toLowerCase(), arch, hash: hash.toLowerCase() };
}

/**
 * Could a component of this name carry this file? A cheap first pass before folders are opened one by one:
 * `dual_disk.inf` carries disk.sys, `microsoft-windows-ntfs` Ntfs.sys; many do not say (partmgr.sys lives in
 * microsoft-windows-partitionmanager), so a miss here is no proof.
 */
export function componentMayHold(component: string, fileName: string): boolean {
  const stem = fileName.toLowerCase().replace(/\.[^.]*$/, '');
  const c = component.toLowerCase();
  if (stem.length >= 3 && c.includes(stem)) return true;
  const core = c.replace(/^(microsoft-windows-|dual_)/, '').replace(/\.inf$/, '');
  return core.length >= 3 && stem.includes(core);
}
