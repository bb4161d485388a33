// Shared by the NTFS writer tests: open a writer on an image copy, and judge the result with independent tools
// (sleuthkit icat/fls, ntfs-3g ntfscat/ntfsresize) plus our own checker.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileDevice } from '../../../src/disk/file-device.js';
import { openNtfs, type NtfsVolume } from '../../../src/fs/ntfs/index.js';
import { checkNtfs, formatProblem } from '../../../src/fs/ntfs/check/index.js';
import {
  openNtfsWriter,
  type NtfsWriter,
  type OpenNtfsWriterOptions,
} from '../../../src/fs/ntfs/write/index.js';
import { ntfsresizeComplains } from '../../fixtures/inject-check.js';
import { run, sha256 } from '../../helpers/tools.js';
import { flsLines, icat } from './oracle.js';

let copies = 0;
export function copyImage(image: string, dir: string): string {
  const p = join(dir, `w${copies++}.img`);
  copyFileSync(image, p);
  return p;
}

export async function withWriter<T>(
  image: string,
  fn: (w: NtfsWriter) => Promise<T>,
  options: OpenNtfsWriterOptions = {},
): Promise<T> {
  const dev = await FileDevice.open(image);
  try {
    const w = await openNtfsWriter(dev, options);
    const r = await fn(w);
    await w.flush();
    return r;
  } finally {
    await dev.close();
  }
}

export async function withReader<T>(image: string, fn: (vol: NtfsVolume) => Promise<T>): Promise<T> {
  const dev = await FileDevice.open(image, { readOnly: true });
  try {
    return await fn(await openNtfs(dev));
  } finally {
    await dev.close();
  }
}

export async function assertChecksClean(image: string, what: string): Promise<void> {
  const dev = await FileDevice.open(image, { readOnly: true });
  try {
    const r = await checkNtfs(await openNtfs(dev));
    assert.ok(r.clean, `${what}: check should be clean:\n${r.problems.map(formatProblem).join('\n')}`);
  } finally {
    await dev.close();
  }
}

export function assertNtfsresizeClean(image: string, what: string): void {
  const complaint = ntfsresizeComplains({ image, offset: 0 });
  assert.equal(complaint, null, `${what}: ntfsresize -i -f complains:\n${complaint}`);
}

/** path -> record, for allocated regular files, from sleuthkit's fls. */
export function flsFiles(image: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of flsLines(image)) {
    const m = /^r (\d+)-128 (\/[^:]*) \d+$/.exec(line);
    if (m) out.set(m[2]!, Number(m[1]));
  }
  return out;
}

export function flsDirs(image: string): Set<string> {
  const out = new Set<string>();
  for (const line of flsLines(image)) {
    const m = /^d \d+-144 (\/.*) \d+$/.exec(line);
    if (m) out.add(m[1]!);
  }
  return out;
}

export function icatSha(image: string, record: number): string {
  return sha256(icat(image, record));
}

/** ntfs-3g's own B+ tree lookup of `path`: its bytes, or null when ntfscat does not find it. */
export function ntfscat(image: string, path: string): Buffer | null {
  try {
    return run('ntfscat', [image, path]);
  } catch {
    return null;
  }
}

export function imageSha(image: string): string {
  return run('sha256sum', [image]).toString().split(' ')[0]!;
}
