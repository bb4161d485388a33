// Where an intact copy of a damaged boot file comes from (issue 9, "Restore the file"): its WinSxS component
// family (REFERENCE.md §1.6: same arch_name_token_culture, full file at the folder root, never the record the
// damaged file lives in), the driver store, the folders bcdboot copies boot managers from (\Windows\Boot\PCAT,
// \Windows\Boot\EFI), or a source the user names. Every copy is judged by diagnose's own examineFile (NTFS
// reach, PE, checksum, Authenticode against Microsoft's roots or --trust-root): one that fails would stop the
// boot with its own code (0xC000007B, 0xC0000221, 0xC0000428) instead of the one being repaired.
import { readFile, stat as statLocal } from 'node:fs/promises';
import { join } from 'node:path';
import { WinrescueError, isWinrescueError } from '../errors.js';
import type { NtfsVolume } from '../fs/ntfs/index.js';
import { entriesWithPrefix } from '../fs/ntfs/prefix-walk.js';
import { reachFile, type Reach } from '../diagnose/evidence/reach.js';
import {
  checkMachines,
  examineFile,
  type FileEvidence,
  type TrustContext,
} from '../diagnose/evidence/examine.js';
import type { BootFile, BootFileRole } from '../windows/boot-files.js';
import {
  COMPONENT_ARCHITECTURES,
  compareVersions,
  componentMayHold,
  parseComponentFolder,
  parseDriverStoreFolder,
  type ComponentFolderName,
} from './component-name.js';

export interface RestoreTarget {
  /** Backslash path from the volume root: \Windows\System32\drivers\disk.sys (or \EFI\Microsoft\Boot\bootmgfw.efi on the system partition). */
  readonly path: string;
  /** MFT record of the damaged file, when known (diagnose's finding.record; null for a missing file or FAT). */
  readonly record: number | null;
  /** Every hard-link name of the damaged record ('/'-separated), e.g. its WinSxS twin: gives the component family and version. */
  readonly names: readonly string[];
  /** File version of the damaged file when its version resource was readable, else null (derive from the twin folder's name). */
  readonly version: string | null;
  readonly volume: 'windows' | 'system';
}

export type CandidateSource = 'winsxs' | 'driverstore' | 'boot' | 'source-dir' | 'source-disk';

export interface Candidate {
  /** Where it was read: '/'-separated on the volume, or the local file path. */
  readonly path: string;
  readonly source: CandidateSource;
  readonly record: number | null;
  readonly version: string | null;
  readonly sha256: string;
  readonly bytes: Uint8Array;
  /** examineFile's evidence sentence. */
  readonly evidence: string;
}

export interface Rejected {
  readonly path: string;
  readonly reason: string;
}

export interface CandidateSearch {
  readonly chosen: Candidate | null;
  /** Acceptable ones, best first. */
  readonly candidates: readonly Candidate[];
  readonly rejected: readonly Rejected[];
  /** What the component store is left with, and what to do when nothing fits. */
  readonly notes: readonly string[];
}

export interface CandidateOptions {
  readonly trust: TrustContext;
  /** Component-folder prefix of the install: 'amd64' (default), 'x86', 'arm64'. */
  readonly architecture?: string;
  /** --source DIR, or --source OTHER-DISK opened by the caller (its Windows volume). */
  readonly source?: { kind: 'dir'; path: string } | { kind: 'disk'; volume: NtfsVolume };
}

const WINSXS = '/Windows/WinSxS';
const DRIVER_STORE = '/Windows/System32/DriverStore/FileRepository';
/** Forward, reverse and null differentials: a folder holding only these has no file to copy (§1.6). */
const DELTA_DIRS = ['f', 'r', 'n'] as const;
/**
 * Without a twin the family is unknown and WinSxS is searched by name. A real store holds ~20,000 component
 * folders; probing one costs one MFT record (plus an index block for big folders), so the search stops here.
 */
export const MAX_SCAN_FOLDERS = 32_768;
/** A real FileRepository holds ~700-1,500 packages. */
export const MAX_DRIVER_STORE_FOLDERS = 4_096;
/** Folder records read in one batched pass before their indexes are searched. */
const PREFETCH_RECORDS = 512;
/** Boot files are megabytes (reach.ts reads no more either). */
const MAX_LOCAL_FILE = 512 * 1024 * 1024;
/** IMAGE_FILE_MACHINE of each component architecture (wow64 components are x86 images). */
const MACHINE_OF: Readonly<Record<string, number>> = {
  amd64: 0x8664,
  x86: 0x14c,
  wow64: 0x14c,
  arm64: 0xaa64,
};
const HIVE_NAMES = /^(SYSTEM|SOFTWARE|SAM|SECURITY|DEFAULT|BCD)$/i;

/** A place to look: a volume path (or local path), its kind, and the component folder's version if any. */
interface Probe {
  readonly path: string;
  readonly source: CandidateSource;
  readonly folderVersion: string | null;
  readonly read: () => Promise<Reach>;
  /** Records are only comparable with the damaged file's on the damaged volume. */
  readonly onTargetVolume: boolean;
}

/** A file on an NTFS volume: the damaged one for WinSxS and driver-store copies. */
function onVolume(
  vol: NtfsVolume,
  path: string,
  source: CandidateSource,
  folderVersion: string | null = null,
): Probe {
  const onTargetVolume = source === 'winsxs' || source === 'driverstore';
  return { path, source, folderVersion, read: () => reachFile(vol, path), onTargetVolume };
}

interface Ranked extends Candidate {
  readonly same: boolean;
  readonly userSource: boolean;
}

function parts(path: string): string[] {
  return path.split(/[\\/]+/).filter((p) => p !== '');
}

const slash = (path: string): string => '/' + parts(path).join('/');

function baseName(path: string): string {
  return parts(path).pop() ?? '';
}

function roleFor(name: string): BootFileRole {
  if (HIVE_NAMES.test(name)) return 'system-hive';
  if (/\.nls$/i.test(name)) return 'nls';
  return 'boot-driver';
}

/** Where bcdboot takes a system-partition file from, on the Windows volume; null when it is not copied (BCD). */
export function bootSourceOf(systemPath: string): string | null {
  const p = parts(systemPath).map((x) => x.toLowerCase());
  const tail = parts(systemPath).slice(-1)[0] ?? '';
  if (p.length === 0 || /^bcd(\.log\d?)?$/i.test(tail) || /^bootstat\.dat$/i.test(tail)) return null;
  if (p.length === 1 && p[0] === 'bootmgr') return '/Windows/Boot/PCAT/bootmgr';
  // The firmware's fallback loader (\EFI\Boot\bootx64.efi) is bcdboot's copy of bootmgfw.efi.
  if (p.length === 3 && p[0] === 'efi' && p[1] === 'boot' && /^boot(x64|aa64|ia32)\.efi$/.test(p[2]!))
    return '/Windows/Boot/EFI/bootmgfw.efi';
  const rest = (n: number) => parts(systemPath).slice(n).join('/');
  if (p[0] === 'efi' && p[1] === 'microsoft' && p[2] === 'boot' && p.length > 3) {
    return p[3] === 'fonts' ? `/Windows/Boot/${rest(3)}` : `/Windows/Boot/EFI/${rest(3)}`;
  }
  if (p[0] === 'boot' && p.length > 1) {
    return p[1] === 'fonts' ? `/Windows/Boot/${rest(1)}` : `/Windows/Boot/PCAT/${rest(1)}`;
  }
  return null;
}

/** The WinSxS names among the record's hard links: each gives a component family and the installed version. */
function twinsOf(target: RestoreTarget): { path: string; folder: ComponentFolderName }[] {
  const out: { path: string; folder: ComponentFolderName }[] = [];
  for (const n of target.names) {
    const p = parts(n);
    if (p.length !== 4 || p[0]!.toLowerCase() !== 'windows' || p[1]!.toLowerCase() !== 'winsxs') continue;
    const folder = parseComponentFolder(p[2]!);
    if (folder) out.push({ path: slash(n), folder });
  }
  return out;
}

/** A sub-folder, as the listing gives it. */
interface Folder {
  readonly name: string;
  readonly record: number;
}

/**
 * The folders in `path` (only those whose name starts with `prefix`, case-insensitive, when given), or null
 * with a note when it cannot be listed. With a prefix only the part of the index where it sorts is read.
 */
export async function listDirs(
  vol: NtfsVolume,
  path: string,
  notes: string[],
  prefix?: string,
): Promise<Folder[] | null> {
  try {
    const dir = await vol.lookup(path);
    const out: Folder[] = [];
    if (prefix === undefined) {
      for await (const e of vol.readdir(dir.record)) if (e.isDir) out.push(e);
      return out;
    }
    for (const e of await entriesWithPrefix(vol, dir.record, prefix)) if (e.isDir) out.push(e);
    return out;
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    if (e.code !== 'ntfs.notFound') notes.push(`${path} cannot be listed: ${e.message}`);
    return null;
  }
}

type FolderContent = 'full' | 'delta' | 'none';

/**
 * Does each folder hold `name` at its root, or only as a differential? The folders' records are read in batches
 * first, so a wide search costs sequential MFT reads rather than one seek per folder.
 */
async function probeFolders(
  vol: NtfsVolume,
  folders: readonly Folder[],
  name: string,
  withDeltas: boolean,
  rejected: Rejected[],
  parent: string,
): Promise<Map<Folder, FolderContent>> {
  const out = new Map<Folder, FolderContent>();
  for (let i = 0; i < folders.length; i += PREFETCH_RECORDS) {
    const chunk = folders.slice(i, i + PREFETCH_RECORDS);
    const records = await vol.readRecords(chunk.map((f) => f.record));
    for (const f of chunk) {
      try {
        const base = records.get(f.record);
        if (base instanceof WinrescueError) throw base;
        const dir = await vol.file(f.record, base);
        if (await vol.findInDirectory(dir, name)) {
          out.set(f, 'full');
          continue;
        }
        let delta = false;
        for (const d of withDeltas ? DELTA_DIRS : []) {
          const sub = await vol.findInDirectory(dir, d);
          if (sub && (await vol.findInDirectory(await vol.file(sub.record), name))) delta = true;
        }
        out.set(f, delta ? 'delta' : 'none');
      } catch (e) {
        if (!isWinrescueError(e)) throw e;
        rejected.push({ path: `${parent}/${f.name}`, reason: `folder unreadable: ${e.message}` });
        out.set(f, 'none');
      }
    }
  }
  return out;
}

interface StoreSearch {
  readonly probes: Probe[];
  /** Component-folder architecture of the damaged file (the twin's, else the install's). */
  readonly arch: string;
}

async function searchWinSxS(
  vol: NtfsVolume,
  target: RestoreTarget,
  name: string,
  arch: string,
  rejected: Rejected[],
  notes: string[],
): Promise<StoreSearch> {
  const twins = twinsOf(target);
  const families = new Set(twins.map((t) => t.folder.family));
  const useArch = twins[0]?.folder.arch ?? arch;
  let entries: Folder[] | null = [];
  if (twins.length === 0) entries = await listDirs(vol, WINSXS, notes);
  for (const t of twins) {
    const f = t.folder;
    const got = await listDirs(vol, WINSXS, notes, `${f.arch}_${f.name}_${f.publicKeyToken}_`);
    entries =
      got && entries
        ? [...entries, ...got.filter((g) => !entries!.some((x) => x.record === g.record))]
        : null;
  }
  if (!entries) return { probes: [], arch: useArch };
  const parsed = entries
    .map((e) => ({ e, c: parseComponentFolder(e.name) }))
    .filter((x): x is { e: Folder; c: ComponentFolderName } => x.c !== null);
  let found: { e: Folder; c: ComponentFolderName; content: FolderContent }[] = [];
  const probe = async (list: { e: Folder; c: ComponentFolderName }[]) => {
    const res = await probeFolders(
      vol,
      list.map((x) => x.e),
      name,
      true,
      rejected,
      WINSXS,
    );
    return list.map((x) => ({ ...x, content: res.get(x.e) ?? ('none' as const) }));
  };
  if (families.size > 0) {
    found = await probe(parsed.filter((x) => families.has(x.c.family)));
  } else {
    // No twin to name the family: first the folders whose component name resembles the file's, then every
    // folder of the architecture, within MAX_SCAN_FOLDERS.
    const ofArch = parsed.filter((x) => x.c.arch === useArch);
    const first = ofArch.filter((x) => componentMayHold(x.c.name, name));
    found = await probe(first);
    let probed = first.length;
    if (!found.some((x) => x.content !== 'none')) {
      const rest = ofArch.filter((x) => !first.includes(x));
      const budget = rest.slice(0, Math.max(0, MAX_SCAN_FOLDERS - first.length));
      found = await probe(budget);
      probed += budget.length;
      if (budget.length < rest.length)
        notes.push(`WinSxS search stopped after ${MAX_SCAN_FOLDERS} of ${ofArch.length} ${useArch} folders`);
    }
    notes.push(
      `no WinSxS twin among the damaged file's names: searched ${probed} ${useArch} component folders of WinSxS by name`,
    );
  }
  const probes: Probe[] = [];
  for (const x of found) {
    const path = `${WINSXS}/${x.e.name}/${name}`;
    if (x.content === 'delta') {
      rejected.push({
        path: `${WINSXS}/${x.e.name}`,
        reason: `delta-only component folder (${x.c.version}): it holds differentials (f\\, r\\ or n\\) of ${name}, not the file`,
      });
    } else if (x.content === 'full') {
      probes.push(onVolume(vol, path, 'winsxs', x.c.version));
    }
  }
  return { probes, arch: useArch };
}

async function searchDriverStore(
  vol: NtfsVolume,
  target: RestoreTarget,
  name: string,
  arch: string,
  rejected: Rejected[],
  notes: string[],
): Promise<Probe[]> {
  // An inbox driver's component is named after its inf (dual_disk.inf): only that package can carry it.
  const infs = new Set(
    twinsOf(target)
      .map((t) => /^dual_(.+\.inf)$/i.exec(t.folder.name)?.[1]?.toLowerCase())
      .filter((x): x is string => x !== undefined),
  );
  const storeArch = arch === 'wow64' ? 'amd64' : arch;
  let entries: Folder[] | null = infs.size === 0 ? await listDirs(vol, DRIVER_STORE, notes) : [];
  for (const inf of infs) {
    const got = await listDirs(vol, DRIVER_STORE, notes, `${inf}_${storeArch}_`);
    entries = got && entries ? [...entries, ...got] : null;
  }
  if (!entries) return [];
  const packages = entries.filter((e) => {
    const p = parseDriverStoreFolder(e.name);
    return p !== null && p.arch === storeArch && (infs.size === 0 || infs.has(p.inf));
  });
  const wanted = packages.slice(0, MAX_DRIVER_STORE_FOLDERS);
  if (wanted.length < packages.length)
    notes.push(
      `driver store search stopped after ${MAX_DRIVER_STORE_FOLDERS} of ${packages.length} packages`,
    );
  const res = await probeFolders(vol, wanted, name, false, rejected, DRIVER_STORE);
  return wanted
    .filter((e) => res.get(e) === 'full')
    .map((e) => onVolume(vol, `${DRIVER_STORE}/${e.name}/${name}`, 'driverstore'));
}

async function readLocal(path: string): Promise<Reach> {
  try {
    const st = await statLocal(path);
    if (!st.isFile()) return { status: 'missing', detail: `${path} is not a file` };
    if (st.size > MAX_LOCAL_FILE) return { status: 'missing', detail: `${path} is ${st.size} bytes` };
    const bytes = new Uint8Array(await readFile(path));
    return { status: 'ok', record: null, sequence: 0, names: [path], bytes };
  } catch (e) {
    return { status: 'missing', detail: `${path}: ${(e as Error).message}` };
  }
}

/** --source DIR: DIR + the target's path, else DIR/NAME. --source DISK: the same path on its Windows volume. */
async function sourceProbes(
  target: RestoreTarget,
  source: NonNullable<CandidateOptions['source']>,
  rejected: Rejected[],
): Promise<Probe[]> {
  const name = baseName(target.path);
  if (source.kind === 'dir') {
    const paths = [...new Set([join(source.path, ...parts(target.path)), join(source.path, name)])];
    for (const path of paths) {
      const st = await statLocal(path).catch(() => null);
      if (st?.isFile())
        return [
          {
            path,
            source: 'source-dir',
            folderVersion: null,
            read: () => readLocal(path),
            onTargetVolume: false,
          },
        ];
    }
    rejected.push({ path: source.path, reason: `--source holds no file at ${paths.join(' or ')}` });
    return [];
  }
  const path = target.volume === 'system' ? bootSourceOf(target.path) : slash(target.path);
  if (path === null) return [];
  return [onVolume(source.volume, path, 'source-disk')];
}

function reasonOf(ev: FileEvidence): string {
  switch (ev.verdict) {
    case 'signature':
      return `fails the signature check (the boot would stop with 0xC0000428): ${ev.evidence}`;
    case 'corrupt-file':
      return `fails the image checks: ${ev.evidence}`;
    case 'corrupt-structure':
      return `NTFS cannot read it: ${ev.evidence}`;
    default:
      return ev.evidence;
  }
}

/** Judges one copy; a Candidate, or the reason it is not one. */
async function judge(
  probe: Probe,
  target: RestoreTarget,
  machine: number | null,
  trust: TrustContext,
): Promise<{ ok: Candidate; record: number | null } | { reason: string; record: number | null }> {
  const reach = await probe.read();
  const record =
    reach.status === 'ok'
      ? reach.record
      : reach.status === 'structure'
        ? reach.fault.record
        : reach.status === 'unsupported'
          ? reach.record
          : null;
  if (probe.onTargetVolume && target.volume === 'windows' && target.record !== null) {
    if (
      record === target.record ||
      (reach.status === 'structure' && reach.names.some((n) => sameName(n, target.path)))
    )
      return {
        reason: `same MFT record as the damaged file (${target.record}): the same damaged data`,
        record,
      };
  }
  const file: BootFile = {
    path: probe.path,
    role: roleFor(baseName(target.path)),
    reason: 'restore candidate',
    optional: false,
  };
  let ev = await examineFile({ label: probe.source, reach: async () => reach }, file, trust);
  if (machine !== null) ev = checkMachines([ev], machine)[0]!;
  if (ev.verdict !== 'ok' || reach.status !== 'ok') return { reason: reasonOf(ev), record };
  return {
    ok: {
      path: probe.path,
      source: probe.source,
      record: reach.record,
      version: ev.version ?? probe.folderVersion,
      sha256: ev.sha256!,
      bytes: reach.bytes,
      evidence: ev.evidence,
    },
    record,
  };
}

function sameName(a: string, b: string): boolean {
  return slash(a).toLowerCase() === slash(b).toLowerCase();
}

const SOURCE_RANK: Readonly<Record<CandidateSource, number>> = {
  'source-dir': 0,
  'source-disk': 0,
  winsxs: 1,
  driverstore: 2,
  boot: 3,
};

/** The user's own source first; then the damaged file's version; then the newest; then WinSxS before the driver store. */
function better(a: Ranked, b: Ranked): number {
  return (
    Number(b.userSource) - Number(a.userSource) ||
    Number(b.same) - Number(a.same) ||
    compareVersions(b.version, a.version) ||
    SOURCE_RANK[a.source] - SOURCE_RANK[b.source] ||
    (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
  );
}

function windowsPath(p: string): string {
  return p.startsWith('/') ? '\\' + parts(p).join('\\') : p;
}

/**
 * Finds, judges and ranks the copies a damaged file can be restored from. Damage in the copies is reported in
 * `rejected`, never thrown; only an unusable option (an unknown architecture) throws.
 */
export async function findRestoreCandidates(
  windows: NtfsVolume,
  target: RestoreTarget,
  options: CandidateOptions,
): Promise<CandidateSearch> {
  const arch = (options.architecture ?? 'amd64').toLowerCase();
  if (!(COMPONENT_ARCHITECTURES as readonly string[]).includes(arch)) {
    throw new WinrescueError('cli.usage', `unknown architecture "${options.architecture}"`, {
      expected: COMPONENT_ARCHITECTURES.join(', '),
      actual: options.architecture,
    });
  }
  const name = baseName(target.path);
  const rejected: Rejected[] = [];
  const notes: string[] = [];
  const probes: Probe[] = options.source ? await sourceProbes(target, options.source, rejected) : [];
  let machineArch = arch;
  const twins = target.volume === 'windows' ? twinsOf(target) : [];
  if (target.volume === 'system') {
    const from = bootSourceOf(target.path);
    if (from === null)
      notes.push(`${target.path} is not a file bcdboot copies: no restore source on the disk`);
    else probes.push(onVolume(windows, from, 'boot'));
  } else {
    const sxs = await searchWinSxS(windows, target, name, arch, rejected, notes);
    machineArch = sxs.arch;
    probes.push(...sxs.probes);
    probes.push(...(await searchDriverStore(windows, target, name, sxs.arch, rejected, notes)));
  }
  const sameVersions = new Set(
    [target.version, ...twins.map((t) => t.folder.version)].filter((v): v is string => v !== null),
  );
  const machine = MACHINE_OF[machineArch] ?? null;
  const ranked: Ranked[] = [];
  const seen = new Set<string>();
  for (const probe of probes) {
    const r = await judge(probe, target, machine, options.trust);
    // One record reached by two names (a driver-store file hard-linked into WinSxS) is one copy.
    const key = r.record === null ? null : `${probe.onTargetVolume ? 'w' : probe.source}:${r.record}`;
    if (key !== null && seen.has(key)) continue;
    if (key !== null) seen.add(key);
    if ('reason' in r) {
      rejected.push({ path: probe.path, reason: r.reason });
      continue;
    }
    const c = r.ok;
    const userSource = c.source === 'source-dir' || c.source === 'source-disk';
    const same =
      (c.version !== null && sameVersions.has(c.version)) ||
      (probe.folderVersion !== null && sameVersions.has(probe.folderVersion));
    ranked.push({ ...c, same, userSource });
  }
  ranked.sort(better);
  const candidates: Candidate[] = ranked.map(({ same: _s, userSource: _u, ...c }) => c);
  const chosen = candidates[0] ?? null;
  notes.push(...leftBehind(target, twins.length > 0));
  if (!chosen) notes.push(...nothingFits(target, name, rejected, options));
  else {
    const was = target.version ?? twins[0]?.folder.version ?? null;
    if (was !== null && chosen.version !== null && compareVersions(chosen.version, was) !== 0) {
      notes.push(
        `no intact copy of version ${was} was found: restoring version ${chosen.version}; Windows Update or DISM /RestoreHealth brings the file back to ${was} on the running system`,
      );
    }
  }
  return { chosen, candidates, rejected, notes };
}

/** The damaged record's other names keep its data (or go with it): the component store needs DISM afterwards. */
function leftBehind(target: RestoreTarget, hasTwin: boolean): string[] {
  if (target.volume !== 'windows' || target.record === null) return [];
  const out: string[] = [];
  for (const n of target.names) {
    if (sameName(n, target.path)) continue;
    out.push(
      `${windowsPath(slash(n))} is the same record as the damaged file: after the repair it keeps the damaged data (or is gone); run DISM /Online /Cleanup-Image /RestoreHealth on the running system`,
    );
  }
  if (!hasTwin && target.names.length === 0)
    out.push("the damaged record's own names could not be read: its WinSxS twin, if any, is unknown");
  return out;
}

function nothingFits(
  target: RestoreTarget,
  name: string,
  rejected: readonly Rejected[],
  options: CandidateOptions,
): string[] {
  const out: string[] = [];
  const unsigned = rejected.filter((r) => r.reason.includes('signature check'));
  if (unsigned.length > 0)
    out.push(
      `${unsigned.length} intact cop${unsigned.length === 1 ? 'y' : 'ies'} of ${name} failed only the signature check; if they are signed by a root you trust (your own build), name it with --trust-root`,
    );
  if (options.source) out.push(`no acceptable copy of ${name} in the --source given either`);
  else
    out.push(
      `no acceptable copy of ${name} on this disk: give --source DIR (a folder holding ${name}, or the tree below ${target.path.replaceAll('\\', '/')}) or --source OTHER-DISK (a healthy disk of the same image version, read at the same path)`,
    );
  return out;
}
