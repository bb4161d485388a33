// `reg export|get|set`: a hive file or DISK:PATH, replayed from its transaction logs when dirty, read or changed.
import { open, rename, copyFile, stat, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { WinrescueError } from '../errors.js';
import { Hive } from '../registry/hive.js';
import { exportRegBytes } from '../registry/export.js';
import { recoverHive, logSequenceCeiling } from '../registry/log/index.js';
import { HiveEditor } from '../registry/write/editor.js';
import { decodeValue, formatValue, typeName, type DecodedValue } from '../registry/value-data.js';
import type { KeyValue } from '../registry/cells/key-value.js';
import { readHiveSource, type HiveSource } from './hive-source.js';
import type { OpenVolumeOptions } from './open-volume.js';
import type { NtfsWriteForce } from '../fs/ntfs/write/index.js';

export interface LoadedHive {
  readonly source: HiveSource;
  readonly hive: Hive;
  /** The primary file was dirty (sequence numbers differ or bad checksum). */
  readonly dirty: boolean;
  /** Log entries were applied; `hive` is the recovered state. */
  readonly replayed: boolean;
  /** Dirty and nothing could be replayed: what we read may miss committed changes. */
  readonly stale: boolean;
  readonly warnings: readonly string[];
}

/** Reads a hive and, when it is dirty, replays its logs in memory as Windows would on load. */
export async function loadHive(spec: string, options: OpenVolumeOptions = {}): Promise<LoadedHive> {
  return loadHiveFromSource(await readHiveSource(spec, options));
}

/** The hive as Windows would load it: a dirty one replayed in memory from its logs when they allow. */
export function loadHiveFromSource(source: HiveSource): LoadedHive {
  const spec = source.label;
  const warnings = [...source.warnings];
  let bytes = source.primary;
  let dirty = false;
  let replayed = false;
  // The base block is parsed first so garbage is a typed regf error before any log is looked at.
  const primary = new Hive(source.primary);
  if (primary.base.isDirty) {
    dirty = true;
    const r = recoverHive(source.primary, source.logs);
    // With no logs at all, our own sentence below says it better than the replay's.
    if (source.logs.length > 0) warnings.push(...r.warnings);
    replayed = r.applied.length > 0;
    if (replayed) {
      bytes = r.bytes;
      const pages = r.applied.reduce((n, e) => n + e.pages.length, 0);
      warnings.push(
        `${spec} is dirty: replayed ${r.applied.length} log entries (${pages} pages) from ${[...new Set(r.applied.map((e) => e.log))].join(', ')} in memory`,
      );
    } else {
      warnings.push(
        `${spec} is dirty and no transaction log could be replayed${source.logs.length === 0 ? ' (no .LOG1/.LOG2 found beside it)' : ''}: changes Windows committed only to its logs are missing`,
      );
    }
  }
  const hive = bytes === source.primary ? primary : new Hive(bytes);
  return { source, hive, dirty, replayed, stale: dirty && !replayed, warnings };
}

export interface RegExportOptions extends OpenVolumeOptions {
  /** Export only this key's subtree. */
  key?: string;
}

export async function regExport(
  spec: string,
  options: RegExportOptions = {},
): Promise<{ bytes: Uint8Array; warnings: string[] }> {
  const loaded = await loadHive(spec, options);
  const bytes = exportRegBytes(loaded.hive, options.key === undefined ? {} : { from: options.key });
  return { bytes, warnings: [...loaded.warnings] };
}

export interface RegValueView {
  name: string;
  type: number;
  typeName: string;
  size: number;
  value: DecodedValue;
  /** `value` is the data as hex because it does not have its type's natural shape. */
  hex: boolean;
  /** One-line text as reg query shows it (numbers in 0x hex, MULTI_SZ items joined by \0). */
  text: string;
}

export interface RegGetResult {
  hive: string;
  key: string;
  lastWritten: string;
  className: string | null;
  subkeys: string[];
  values: RegValueView[];
  dirty: boolean;
  replayed: boolean;
  warnings: string[];
}

function valueView(hive: Hive, v: KeyValue): RegValueView {
  const data = hive.valueData(v);
  const { value, hex } = decodeValue(v.type, data);
  return {
    name: v.name,
    type: v.type,
    typeName: typeName(v.type),
    size: data.length,
    value,
    hex,
    text: formatValue(v.type, data),
  };
}

/** FILETIME (100 ns since 1601) as ISO 8601; 0 and out-of-range stamps as null-like empty text. */
function filetimeIso(ft: bigint): string {
  const ms = Number(ft / 10000n) - 11644473600000;
  const d = new Date(ms);
  return ft === 0n || Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export async function regGet(
  spec: string,
  keyPath: string,
  valueName?: string,
  options: OpenVolumeOptions = {},
): Promise<RegGetResult> {
  const loaded = await loadHive(spec, options);
  const { hive } = loaded;
  const { key, path } = hive.resolveKey(keyPath);
  let values = hive.values(key);
  if (valueName !== undefined) {
    const want = valueName.toUpperCase();
    values = values.filter((v) => v.name.toUpperCase() === want);
    if (values.length === 0) {
      throw new WinrescueError('regf.notFound', `value '${valueName}' not found in ${path}`, {
        path: `${path}\\${valueName}`,
        structure: 'regf.vk',
      });
    }
  }
  return {
    hive: spec,
    key: path,
    lastWritten: filetimeIso(key.lastWritten),
    className: hive.className(key) ?? null,
    subkeys: valueName === undefined ? hive.subkeys(key).map((k) => k.name) : [],
    values: values.map((v) => valueView(hive, v)),
    dirty: loaded.dirty,
    replayed: loaded.replayed,
    warnings: [...loaded.warnings],
  };
}

export interface RegSetOptions extends OpenVolumeOptions {
  /** Create the key (and its missing ancestors) when it does not exist. */
  createKey?: boolean;
  /** Write a dirty hive whose logs cannot be replayed (committed changes only in the logs are lost). */
  force?: boolean;
  dryRun?: boolean;
  /** Where the original file is kept before the first change; default `HIVE.winrescue-orig`. */
  backup?: string;
  /** DISK:PATH: the undo journal (default DISK.winrescue-undo) and the NTFS writer's named risks. */
  journalPath?: string;
  ntfsForce?: NtfsWriteForce;
}

export interface RegSetResult {
  hive: string;
  key: string;
  name: string;
  old: RegValueView | null;
  new: RegValueView;
  /** False when the value already had this type and data: nothing was written. */
  changed: boolean;
  written: boolean;
  keyCreated: boolean;
  backup: string | null;
  /** DISK:PATH: the command that takes the change back. */
  undo: string | null;
  dirty: boolean;
  replayed: boolean;
  warnings: string[];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Sets one value. A dirty hive is replayed from its logs first and saved clean with sequence numbers above
 * every log's, so Windows ignores the stale logs; the original file is copied to the backup once.
 */
export async function regSet(
  spec: string,
  keyPath: string,
  name: string,
  type: number,
  data: Uint8Array,
  options: RegSetOptions = {},
): Promise<RegSetResult> {
  const loaded = await loadHive(spec, options);
  const { source } = loaded;
  if (loaded.stale && !options.force) {
    throw new WinrescueError(
      'regf.dirty',
      `${spec} is dirty and its transaction logs could not be replayed; writing it would drop what Windows ` +
        `committed only to the logs. Put HIVE.LOG1/.LOG2 beside it, or pass --force to accept that loss`,
      { path: spec },
    );
  }
  const editor = HiveEditor.open(loaded.hive.bytes, { force: loaded.stale });
  let keyCreated = false;
  if (options.createKey) keyCreated = editor.createKey(keyPath);
  const before = editor.hive;
  const { key, path } = before.resolveKey(keyPath);
  const want = name.toUpperCase();
  const oldValue = before.values(key).find((v) => v.name.toUpperCase() === want);
  const old = oldValue ? valueView(before, oldValue) : null;
  const unchanged =
    !keyCreated &&
    oldValue !== undefined &&
    oldValue.type === type &&
    sameBytes(before.valueData(oldValue), data);
  // A value keeps the case its name already has; a new one gets the name as given.
  const storedName = oldValue?.name ?? name;
  if (!unchanged) editor.setValue(keyPath, storedName, type, data);
  const after = editor.hive;
  const newValue = after.values(after.openKey(keyPath)).find((v) => v.name.toUpperCase() === want);
  if (!newValue) throw new WinrescueError('internal', `value ${name} missing right after it was set`);
  const result: RegSetResult = {
    hive: spec,
    key: path,
    name: storedName,
    old,
    new: valueView(after, newValue),
    changed: !unchanged,
    written: false,
    keyCreated,
    backup: null,
    undo: null,
    dirty: loaded.dirty,
    replayed: loaded.replayed,
    warnings: [...loaded.warnings],
  };
  // A replayed hive is worth saving even when the value was already right: the logs' changes become durable.
  if ((unchanged && !loaded.replayed) || options.dryRun) return result;
  const bytes = editor.save({ minSequence: logSequenceCeiling(source.logs) });
  if (source.kind === 'disk') {
    // Inside a disk the undo journal keeps the original bytes; the hive file is rewritten through the NTFS writer.
    const { putFile } = await import('./ntfs-write.js');
    const w = await putFile(source.file, source.innerPath!, bytes, {
      ...(source.partition != null ? { partition: source.partition } : {}),
      ...(options.journalPath !== undefined ? { journalPath: options.journalPath } : {}),
      ...(options.ntfsForce ? { force: options.ntfsForce } : {}),
    });
    result.written = true;
    result.undo = w.undo;
    result.warnings.push(...w.warnings, ...w.checkProblems.map((p) => `check after writing: ${p}`));
    return result;
  }
  result.backup = await keepOriginal(source.file, options.backup ?? `${source.file}.winrescue-orig`);
  await replaceFile(source.file, bytes);
  result.written = true;
  return result;
}

/** Copies the original once; a later run keeps the first original rather than the already-changed file. */
async function keepOriginal(file: string, backup: string): Promise<string> {
  try {
    await copyFile(file, backup, constants.COPYFILE_EXCL);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new WinrescueError(
        'disk.io',
        `cannot keep the original of ${file} as ${backup}: ${(e as Error).message}`,
        {
          path: backup,
          cause: e,
        },
      );
    }
  }
  return backup;
}

/** Write beside, flush, rename over: a crash leaves the old hive or the new one, never half of each. */
async function replaceFile(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.winrescue-tmp`;
  const mode = (await stat(file)).mode & 0o7777;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw new WinrescueError('disk.io', `cannot write ${tmp}: ${(e as Error).message}`, {
      path: tmp,
      cause: e,
    });
  }
  await fh.close();
  await rename(tmp, file);
}
