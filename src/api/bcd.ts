// `bcd DISK|HIVE`: the boot configuration store, like `bcdedit /enum all`. A hive file or DISK:PATH is read as
// is (replayed from its logs when dirty); a disk is searched with locateWindows for its store.
import { open } from 'node:fs/promises';
import { isHttpUrl } from '../disk/http/redact.js';
import { WinrescueError } from '../errors.js';
import { openDisk } from '../disk/open-disk.js';
import { readPartitions } from '../partition/index.js';
import {
  readBcdStore,
  type BcdStore,
  type BcdObject,
  type BcdElement,
  type BcdDevice,
} from '../bcd/index.js';
import { formatElementValue, jsonValue } from '../bcd/element-value.js';
import { locateWindows, type WindowsLocation } from '../windows/index.js';
import { loadHive, type LoadedHive } from './reg.js';
import type { HiveLog, HiveSource } from './hive-source.js';
import { openFat } from '../fs/fat/index.js';
import { Hive } from '../registry/hive.js';
import { findLogSiblings, recoverHive } from '../registry/log/index.js';
import type { OpenVolumeOptions } from './open-volume.js';

const REGF_MAGIC = 'regf';

export interface LoadedBcd {
  readonly loaded: LoadedHive;
  readonly store: BcdStore;
  /** What `loadHive` was given: the file, or DISK:PATH of the store on the disk. */
  readonly hiveSpec: string;
  /** The disk's layout when `spec` was a disk. */
  readonly location?: WindowsLocation;
  /** Partitions of the disk (index, start, GPT GUID), to name device elements; empty for a hive file. */
  readonly partitions: readonly { index: number; start: number; guid?: string }[];
  readonly diskSignature?: number;
  readonly diskGuid?: string;
}

async function startsWithRegf(path: string): Promise<boolean | null> {
  // A disk URL (page blob / SAS) is a disk, never a local hive file.
  if (isHttpUrl(path)) return false;
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const b = new Uint8Array(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    return bytesRead === 4 && new TextDecoder('latin1').decode(b) === REGF_MAGIC;
  } finally {
    await fh.close();
  }
}

/** Loads the BCD store named by `spec`: a hive file, DISK:PATH, or a disk (then located). */
export async function loadBcd(spec: string, options: OpenVolumeOptions = {}): Promise<LoadedBcd> {
  const regf = await startsWithRegf(spec);
  if (regf !== false) {
    // A hive file, or (no such file) DISK:PATH: loadHive tells the two apart and says when neither exists.
    const loaded = await loadHive(spec, options);
    const disk = loaded.source.kind === 'disk' ? await diskFacts(loaded.source.file) : undefined;
    return { loaded, store: readBcdStore(loaded.hive), hiveSpec: spec, partitions: [], ...disk };
  }
  const facts = await diskFacts(spec);
  const location = facts.location!;
  const bcd = location.bcd;
  if (bcd === null) {
    throw new WinrescueError(
      'bcd.notFound',
      `${spec}: no BCD store found (${location.warnings.join('; ')})`,
      {
        structure: 'bcd.store',
        expected: '\\Boot\\BCD or \\EFI\\Microsoft\\Boot\\BCD',
      },
    );
  }
  if (bcd.filesystem === 'fat32' || bcd.filesystem === 'fat16' || bcd.filesystem === 'fat12') {
    const loaded = await loadFromFat(spec, bcd.partition, bcd.path);
    return {
      loaded,
      store: readBcdStore(loaded.hive),
      hiveSpec: `${spec}:${bcd.path.replaceAll('\\', '/')}`,
      ...facts,
    };
  }
  if (bcd.filesystem !== 'ntfs') {
    throw new WinrescueError(
      'bcd.notFound',
      `${spec}: the BCD store should be ${bcd.path} on partition ${bcd.partition}, which holds ${bcd.filesystem}, not NTFS or FAT`,
      { structure: 'bcd.store', expected: 'ntfs or fat', actual: bcd.filesystem },
    );
  }
  const hiveSpec = `${spec}:${bcd.path.replaceAll('\\', '/')}`;
  const loaded = await loadHive(hiveSpec, {
    ...options,
    ...(bcd.partition !== null ? { partition: bcd.partition } : {}),
  });
  return { loaded, store: readBcdStore(loaded.hive), hiveSpec, ...facts };
}

/** The store and its logs from the FAT ESP (Gen2), replayed in memory as loadHive does for NTFS. */
async function loadFromFat(spec: string, partition: number | null, path: string): Promise<LoadedHive> {
  const disk = await openDisk(spec, { readOnly: true });
  try {
    const table = await readPartitions(disk.device);
    const dev =
      partition === null ? disk.device : table.partitions.find((p) => p.index === partition)!.device;
    const fat = await openFat(dev);
    const slash = path.replaceAll('\\', '/');
    const primary = await fat.readFile(slash);
    const dir = slash.slice(0, slash.lastIndexOf('/')) || '/';
    const name = slash.slice(slash.lastIndexOf('/') + 1);
    const names = (await fat.readdir(dir)).map((e) => e.name);
    const logs: HiveLog[] = [];
    for (const n of findLogSiblings(names, name))
      logs.push({ name: n, bytes: await fat.readFile(`${dir}/${n}`) });
    const label = `${spec}:${slash}`;
    const source: HiveSource = {
      kind: 'disk',
      label,
      file: spec,
      innerPath: slash,
      partition,
      primary,
      logs,
      warnings: [...disk.warnings, ...table.warnings],
    };
    return replayed(source, label);
  } finally {
    await disk.device.close();
  }
}

/** loadHive's replay for bytes read here (loadHive itself reads NTFS or local files only). */
function replayed(source: HiveSource, label: string): LoadedHive {
  const warnings = [...source.warnings];
  const primary = new Hive(source.primary);
  if (!primary.base.isDirty)
    return { source, hive: primary, dirty: false, replayed: false, stale: false, warnings };
  const r = recoverHive(source.primary, source.logs);
  warnings.push(...r.warnings);
  const done = r.applied.length > 0;
  warnings.push(
    done
      ? `${label} is dirty: replayed ${r.applied.length} log entries in memory`
      : `${label} is dirty and no transaction log could be replayed: changes Windows committed only to its logs are missing`,
  );
  return {
    source,
    hive: done ? new Hive(r.bytes) : primary,
    dirty: true,
    replayed: done,
    stale: !done,
    warnings,
  };
}

async function diskFacts(path: string): Promise<Omit<LoadedBcd, 'loaded' | 'store' | 'hiveSpec'>> {
  const disk = await openDisk(path, { readOnly: true });
  try {
    const location = await locateWindows(disk.device);
    const table = await readPartitions(disk.device);
    return {
      location,
      partitions: table.partitions.map((p) => ({
        index: p.index,
        start: p.start,
        ...(p.guid !== undefined ? { guid: p.guid } : {}),
      })),
      ...(table.diskSignature !== undefined ? { diskSignature: table.diskSignature } : {}),
      ...(table.diskGuid !== undefined ? { diskGuid: table.diskGuid } : {}),
    };
  } finally {
    await disk.device.close();
  }
}

export interface BcdElementView {
  /** 8 lowercase hex digits, as the element key is named. */
  code: string;
  /** bcdedit's name or custom:xxxxxxxx. */
  name: string;
  format: string;
  value: unknown;
  /** Lines as printed (lists: one item per line). */
  text: string[];
  /** The stored bytes as hex and their registry type. */
  raw: string;
  regType: number;
  /** Partition of this disk that a device element names, when the disk is known. */
  partition?: number;
  /** Why the value is shown raw. */
  reason?: string;
}

export interface BcdObjectView {
  id: string;
  alias: string | null;
  type: string;
  typeName: string;
  /** {bootmgr}'s default entry (bcdedit shows its identifier as {default}). */
  isDefault: boolean;
  elements: BcdElementView[];
}

export interface BcdReport {
  source: string;
  store: string;
  dirty: boolean;
  replayed: boolean;
  default: string | null;
  objects: BcdObjectView[];
  problems: string[];
  warnings: string[];
  location?: WindowsLocation;
}

/** bcdedit /enum all order: firmware boot manager, boot manager, applications, settings, device options. */
function rank(o: BcdObject): number {
  if (o.alias === '{fwbootmgr}') return 0;
  if (o.alias === '{bootmgr}') return 1;
  return { application: 2, inherit: 3, device: 4, unknown: 5 }[o.type.kind];
}

function devicePartition(
  d: BcdDevice,
  facts: Omit<LoadedBcd, 'loaded' | 'store' | 'hiveSpec'>,
): number | undefined {
  if (d.kind === 'ramdisk') return devicePartition(d.source, facts);
  if (d.kind !== 'partition') return undefined;
  if (d.style === 'mbr')
    return d.diskSignature === facts.diskSignature
      ? facts.partitions.find((p) => p.start === d.offset)?.index
      : undefined;
  const disk = facts.diskGuid === undefined ? undefined : `{${facts.diskGuid}}`;
  return d.diskGuid === disk
    ? facts.partitions.find((p) => `{${p.guid}}` === d.partitionGuid)?.index
    : undefined;
}

export function elementView(
  e: BcdElement,
  facts?: Omit<LoadedBcd, 'loaded' | 'store' | 'hiveSpec'>,
  defaultId: string | null = null,
): BcdElementView {
  const hex = Array.from(e.raw, (x) => x.toString(16).padStart(2, '0')).join('');
  // As bcdedit does, the default entry is named {default} wherever an object element points at it.
  const objectFormat = e.value.format === 'object' || e.value.format === 'objectList';
  const text = formatElementValue(e.value, e.name).map((t) =>
    objectFormat && t === defaultId ? '{default}' : t,
  );
  const partition = e.value.format === 'device' && facts ? devicePartition(e.value.value, facts) : undefined;
  if (partition !== undefined) text[0] += ` (partition ${partition})`;
  return {
    code: e.keyName.toLowerCase(),
    name: e.label,
    format: e.value.format,
    value: jsonValue(e.value),
    text,
    raw: hex,
    regType: e.regType,
    ...(partition !== undefined ? { partition } : {}),
    ...(e.value.format === 'raw' ? { reason: e.value.reason } : {}),
  };
}

export async function bcdShow(spec: string, options: OpenVolumeOptions = {}): Promise<BcdReport> {
  const b = await loadBcd(spec, options);
  const objects = [...b.store.objects]
    .map((o, i) => ({ o, i }))
    .sort((x, y) => rank(x.o) - rank(y.o) || x.i - y.i)
    .map(({ o }) => ({
      id: o.id,
      alias: o.alias ?? null,
      type: '0x' + o.type.type.toString(16).padStart(8, '0'),
      typeName: o.type.title,
      isDefault: o.id === b.store.defaultId(),
      elements: o.elements.map((e) => elementView(e, b, b.store.defaultId())),
    }));
  return {
    source: spec,
    store: b.hiveSpec,
    dirty: b.loaded.dirty,
    replayed: b.loaded.replayed,
    default: b.store.defaultId(),
    objects,
    problems: [...b.store.problems],
    warnings: [...b.loaded.warnings, ...(b.location?.warnings ?? [])],
    ...(b.location ? { location: b.location } : {}),
  };
}
