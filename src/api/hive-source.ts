// Where a hive comes from for `reg`: a local file, or `DISK:PATH` (a hive inside a disk image's NTFS volume),
// read together with its transaction logs (NAME.LOG, .LOG1, .LOG2 beside it) so a dirty hive can be replayed.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WinrescueError } from '../errors.js';
import { isHttpUrl } from '../disk/http/redact.js';
import { findLogSiblings } from '../registry/log/index.js';
import type { NtfsVolume } from '../fs/ntfs/index.js';
import type { OpenVolumeOptions } from './open-volume.js';

/** The largest hive Windows loads is 2 GiB; real SYSTEM hives are tens of MB. Above this is not a hive. */
const MAX_HIVE_BYTES = 2 ** 31;

export interface HiveLog {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface HiveSource {
  readonly kind: 'file' | 'disk';
  /** As the user wrote it, for messages. */
  readonly label: string;
  /** The local file (kind 'file') or the disk image (kind 'disk'). */
  readonly file: string;
  /** The hive's path on the volume (kind 'disk'). */
  readonly innerPath?: string;
  readonly partition?: number | null;
  readonly primary: Uint8Array;
  readonly logs: readonly HiveLog[];
  readonly warnings: readonly string[];
}

export type HiveSpec = { kind: 'file'; file: string } | { kind: 'disk'; file: string; innerPath: string };

async function isFile(path: string): Promise<boolean> {
  try {
    const s = await stat(path);
    return s.isFile() || s.isBlockDevice();
  } catch {
    return false;
  }
}

/**
 * `HIVE` or `DISK:PATH`. A name that exists as a file wins (hive files may contain ':'); otherwise the longest
 * prefix before a ':' that exists is the disk, the rest the path on it.
 */
export async function parseHiveSpec(spec: string): Promise<HiveSpec> {
  if (await isFile(spec)) return { kind: 'file', file: spec };
  for (let i = spec.lastIndexOf(':'); i > 0; i = spec.lastIndexOf(':', i - 1)) {
    const disk = spec.slice(0, i);
    const innerPath = spec.slice(i + 1);
    // A disk URL (page blob / SAS) is taken as the disk when the rest is a volume path.
    const url = isHttpUrl(disk) && /^[\\/]/.test(innerPath);
    if (innerPath !== '' && (url || (await isFile(disk)))) return { kind: 'disk', file: disk, innerPath };
  }
  throw new WinrescueError(
    'cli.usage',
    `${spec}: no such hive file, and no DISK:PATH whose DISK exists (e.g. disk.vhd:/Windows/System32/config/SYSTEM)`,
    { path: spec },
  );
}

function checkSize(label: string, size: number): void {
  if (size > MAX_HIVE_BYTES) {
    throw new WinrescueError(
      'regf.badBaseBlock',
      `${label}: ${size} bytes is larger than any registry hive`,
      {
        expected: `<= ${MAX_HIVE_BYTES}`,
        actual: size,
      },
    );
  }
}

async function readLocal(spec: { file: string }, label: string): Promise<HiveSource> {
  checkSize(label, (await stat(spec.file)).size);
  const primary = new Uint8Array(await readFile(spec.file));
  const dir = dirname(spec.file);
  const logs: HiveLog[] = [];
  const warnings: string[] = [];
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch (e) {
    warnings.push(`cannot list ${dir} for transaction logs: ${(e as Error).message}`);
  }
  for (const name of findLogSiblings(names, basename(spec.file))) {
    try {
      logs.push({ name, bytes: new Uint8Array(await readFile(join(dir, name))) });
    } catch (e) {
      warnings.push(`cannot read transaction log ${name}: ${(e as Error).message}`);
    }
  }
  return { kind: 'file', label, file: spec.file, primary, logs, warnings };
}

async function readFromDisk(
  spec: { file: string; innerPath: string },
  label: string,
  options: OpenVolumeOptions,
): Promise<HiveSource> {
  // The NTFS stack loads only for DISK:PATH, so a plain hive file starts fast.
  const { openVolume } = await import('./open-volume.js');
  const opened = await openVolume(spec.file, { ...options, readOnly: true });
  try {
    const { primary, logs, warnings } = await readHiveOnVolume(opened.volume, spec.innerPath, label);
    warnings.unshift(...opened.warnings);
    return {
      kind: 'disk',
      label,
      file: spec.file,
      innerPath: spec.innerPath,
      partition: opened.partition,
      primary,
      logs,
      warnings,
    };
  } finally {
    await opened.close();
  }
}

/** A hive and its transaction logs read from an open NTFS volume (the logs are the siblings Windows names). */
export async function readHiveOnVolume(
  vol: NtfsVolume,
  innerPath: string,
  label: string,
): Promise<{ primary: Uint8Array; logs: HiveLog[]; warnings: string[] }> {
  const ref = await vol.lookup(innerPath);
  const st = await vol.stat(ref.record);
  if (st.type === 'dir') {
    throw new WinrescueError('cli.usage', `${label} is a directory, not a hive file`, { path: innerPath });
  }
  checkSize(label, st.size);
  const primary = await vol.readFile(innerPath);
  const parts = innerPath.split(/[\\/]+/).filter((p) => p !== '');
  const name = parts.pop() ?? '';
  const dir = '/' + parts.join('/');
  const warnings: string[] = [];
  const names: string[] = [];
  const parent = await vol.lookup(dir);
  for await (const entry of vol.readdir(parent.record)) names.push(entry.name);
  const logs: HiveLog[] = [];
  for (const logName of findLogSiblings(names, name)) {
    try {
      logs.push({ name: logName, bytes: await vol.readFile(`${dir}/${logName}`) });
    } catch (e) {
      warnings.push(`cannot read transaction log ${logName}: ${(e as Error).message}`);
    }
  }
  return { primary, logs, warnings };
}

/** Reads the hive and its logs; nothing is replayed or judged here. */
export async function readHiveSource(spec: string, options: OpenVolumeOptions = {}): Promise<HiveSource> {
  const parsed = await parseHiveSpec(spec);
  return parsed.kind === 'file' ? readLocal(parsed, spec) : readFromDisk(parsed, spec, options);
}
