// Judging a whole fixture disk after a writer ran on it, with other tools: hives cut out by sleuthkit (icat) or
// mtools (mcopy) and read by hivexregedit; NTFS volumes by ntfsresize's cluster accounting and our check; the ESP
// by fsck.fat -n.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flsTree, icat } from '../fixtures-factory/oracles.js';
import { hivexExport, parseReg } from '../registry/reg-parse.js';
import { runStatus } from './tools.js';
import type { BuiltDisk } from '../fixtures/factory.js';
import { check } from '../../src/api/check.js';

/** hivex's values as a map "path\0name" (case-folded, as the registry compares) → "type\0hex" and the exact path. */
export interface Values {
  map: Map<string, string>;
  paths: Set<string>;
}

export function hiveValues(file: string): Values {
  const reg = parseReg(hivexExport(file));
  const map = new Map<string, string>();
  for (const t of reg.values) {
    const [path, name, type, hex] = t.split('\u0000');
    map.set(`${path!.toLowerCase()}\u0000${name!.toLowerCase()}`, `${type}\u0000${hex}`);
  }
  return { map, paths: reg.keys };
}

/** The BCD hive file cut out of the raw image by sleuthkit (NTFS) or mtools (FAT). */
export function extractBcd(disk: BuiltDisk, raw: string, dir: string, name: string): string {
  const out = join(dir, name);
  const part = disk.manifest.layout.partitions.find((p) => p.index === disk.manifest.bcd.partition)!;
  if (disk.manifest.boot.filesystem === 'ntfs') {
    const e = flsTree(raw, part.start).get(disk.manifest.bcd.path);
    assert.ok(e, 'fls finds the BCD');
    writeFileSync(out, icat(raw, part.start, e.inode));
  } else {
    const r = runStatus('env', [
      'MTOOLS_SKIP_CHECK=1',
      'mcopy',
      '-n',
      '-i',
      `${raw}@@${part.start}`,
      `::${disk.manifest.bcd.path}`,
      out,
    ]);
    assert.equal(r.status, 0, r.stderr);
  }
  return out;
}

export function extractSystem(disk: BuiltDisk, raw: string, dir: string, name: string): string {
  const out = join(dir, name);
  const e = flsTree(raw, disk.manifest.windows.start).get('/Windows/System32/config/SYSTEM');
  assert.ok(e, 'fls finds SYSTEM');
  writeFileSync(out, icat(raw, disk.manifest.windows.start, e.inode));
  return out;
}

/** Cuts a volume out (sparse) for the tools that want a volume file. */
export function cutVolume(raw: string, start: number, size: number, dir: string, name: string): string {
  const vol = join(dir, name);
  const dd = runStatus('dd', [
    `if=${raw}`,
    `of=${vol}`,
    'bs=1M',
    `skip=${start / 1048576}`,
    `count=${size / 1048576}`,
    'conv=sparse',
    'status=none',
  ]);
  assert.equal(dd.status, 0, dd.stderr);
  return vol;
}

/** ntfsresize's cluster accounting and our own check on every NTFS volume; fsck.fat -n on the ESP. */
export async function assertVolumesClean(disk: BuiltDisk, raw: string, dir: string): Promise<void> {
  for (const p of disk.manifest.layout.partitions) {
    if (p.filesystem === 'ntfs') {
      const vol = cutVolume(raw, p.start, p.size, dir, `p${p.index}.img`);
      const r = runStatus('ntfsresize', ['-i', '-f', '-P', vol]);
      assert.equal(r.status, 0, `ntfsresize -i -f: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stdout + r.stderr, /accounting failed|error/i);
      // Our checker in-process (the CLI's check is the same call; a spawn costs a second per volume).
      const c = await check(raw, { partition: p.index });
      assert.deepEqual(c.problems, [], `our check on partition ${p.index}`);
    } else if (p.filesystem === 'fat32') {
      const vol = cutVolume(raw, p.start, p.size, dir, `p${p.index}.img`);
      const r = runStatus('fsck.fat', ['-n', vol]);
      assert.equal(r.status, 0, `fsck.fat -n: ${r.stdout}${r.stderr}`);
    }
  }
}
