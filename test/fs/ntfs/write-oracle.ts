// Shared by the NTFS writer tests: open a writer on an image copy, and judge the result with independent tools
// (sleuthkit icat/fls, ntfs-3g ntfscat/ntfsresize) plus our own checker.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isWinrescueError } from '../../../src/errors.js';
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

/** One step of the writer model tests: what fast-check generates. */
export interface ModelOp {
  readonly kind: 'put' | 'overwrite' | 'mkdir' | 'rm' | 'mv';
  readonly pick: number;
  readonly parent: number;
  readonly name: string;
  readonly size: number;
  readonly seed: number;
}

/** What the volume should hold: path -> sha256 (null: as on the original volume), and what the steps did. */
export interface ModelState {
  readonly files: Map<string, string | null>;
  readonly dirs: Set<string>;
  readonly newDirs: string[];
  /** Files written, renamed or created by the steps (checked with ntfscat too). */
  readonly touched: Set<string>;
  readonly created: Set<string>;
  /** For files renamed from the original volume: where their content was. */
  readonly origin: Map<string, string>;
}

/** Sequences of model steps over the given names and sizes; puts weigh double, as new files are the common case. */
export function modelOps(
  names: readonly string[],
  sizes: readonly number[],
  length: { minLength: number; maxLength: number },
): fc.Arbitrary<ModelOp[]> {
  return fc.array(
    fc.record({
      kind: fc.constantFrom<ModelOp['kind']>('put', 'put', 'overwrite', 'mkdir', 'rm', 'mv'),
      pick: fc.nat(),
      parent: fc.nat(),
      name: fc.constantFrom(...names),
      size: fc.constantFrom(...sizes),
      seed: fc.integer({ min: 1, max: 1e6 }),
    }),
    length,
  );
}

export function modelState(files: Map<string, string | null>, dirs: Iterable<string>): ModelState {
  return {
    files,
    dirs: new Set(dirs),
    newDirs: [],
    touched: new Set(),
    created: new Set(),
    origin: new Map([...files.keys()].map((p) => [p, p])),
  };
}

/** A full volume or an unsupported layout refuses before changing anything: the model stays as it was. */
async function refusedOr(fn: () => Promise<void>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (e) {
    if (isWinrescueError(e) && (e.code === 'ntfs.unsupported' || e.code === 'ntfs.full')) return false;
    throw e;
  }
}

/**
 * Applies `ops` through the writer and to the model. `pickable` limits which existing files overwrite, rm and mv
 * choose from; `content(size, seed)` makes the bytes written.
 */
export async function applyModelOps(
  w: NtfsWriter,
  ops: readonly ModelOp[],
  m: ModelState,
  parents: readonly string[],
  content: (size: number, seed: number) => Uint8Array,
  pickable: (path: string) => boolean = () => true,
): Promise<void> {
  const taken = (p: string): boolean =>
    [...m.files.keys(), ...m.dirs].some((x) => x.toLowerCase() === p.toLowerCase());
  for (const op of ops) {
    const all = [...parents, ...m.newDirs];
    const target = `${all[op.parent % all.length]!}/${op.name}`;
    const names = [...m.files.keys()].filter(pickable);
    const pick = names[op.pick % Math.max(1, names.length)] ?? '';
    if (pick === '' && (op.kind === 'overwrite' || op.kind === 'rm' || op.kind === 'mv')) continue;
    if (op.kind === 'put' && !taken(target)) {
      const data = content(op.size, op.seed);
      if (await refusedOr(() => w.writeFile(target, data))) {
        m.files.set(target, sha256(data));
        m.touched.add(target);
        m.created.add(target);
      }
    } else if (op.kind === 'overwrite') {
      const data = content(op.size, op.seed);
      if (await refusedOr(() => w.writeFile(pick, data))) {
        m.files.set(pick, sha256(data));
        m.touched.add(pick);
      }
    } else if (op.kind === 'mkdir' && !taken(target)) {
      await w.mkdir(target);
      m.dirs.add(target);
      m.newDirs.push(target);
    } else if (op.kind === 'rm') {
      if (await refusedOr(() => w.unlink(pick))) {
        m.files.delete(pick);
        m.touched.delete(pick);
      }
    } else if (op.kind === 'mv' && !taken(target)) {
      if (await refusedOr(() => w.rename(pick, target))) {
        m.files.set(target, m.files.get(pick)!);
        if (m.origin.has(pick)) m.origin.set(target, m.origin.get(pick)!);
        m.files.delete(pick);
        m.touched.delete(pick);
        m.touched.add(target);
      }
    }
  }
}
