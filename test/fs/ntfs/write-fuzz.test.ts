// The NTFS writer on damaged volumes: 1-6 bytes changed in the records and index blocks its operations touch
// ($MFT, root, $Bitmap, the files and folders named below, the index blocks of /big), on an in-memory copy.
// Every operation must end in success or a WinrescueError - never another exception, never a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isWinrescueError } from '../../../src/errors.js';
import { MemoryDevice } from '../../../src/disk/memory-device.js';
import { ATTR, openNtfs } from '../../../src/fs/ntfs/index.js';
import { findAttribute } from '../../../src/fs/ntfs/file-record.js';
import { openNtfsWriter } from '../../../src/fs/ntfs/write/index.js';
import { buildVolume, seeded } from './volumes.js';

const CASES = 250;
const TARGET_PATHS = [
  '/tiny.txt',
  '/a',
  '/a/b',
  '/big',
  '/empty.txt',
  '/big/entry 00003 of the big directory.dat',
];

test(`${CASES} damaged copies: writer operations end in success or a typed error`, async () => {
  const base = new Uint8Array(readFileSync(buildVolume({ sizeMiB: 8, bigDir: 150, small: true })));
  const vol = await openNtfs(new MemoryDevice(base.slice(), { readOnly: true }));
  const cs = vol.clusterSize;
  const offsets = [0, 5, 6].map((r) => vol.recordOffset(r));
  for (const p of TARGET_PATHS) offsets.push(vol.recordOffset((await vol.lookup(p)).record));
  const big = await vol.file((await vol.lookup('/big')).record);
  for (const r of findAttribute(big, ATTR.INDEX_ALLOCATION, '$I30')!.runs)
    for (let c = 0; c < r.length; c++) offsets.push((r.lcn! + c) * cs);
  let x = 0x9e3779b9;
  const rnd = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const untyped: string[] = [];
  let typed = 0;
  for (let i = 0; i < CASES; i++) {
    const img = base.slice();
    for (let k = 0; k < 1 + rnd(6); k++)
      img[offsets[rnd(offsets.length)]! + rnd(rnd(2) ? 512 : 1024)] = rnd(256);
    const attempt = async (fn: () => Promise<unknown>): Promise<boolean> => {
      try {
        await fn();
        return true;
      } catch (e) {
        if (isWinrescueError(e)) typed++;
        else untyped.push(`case ${i}: ${(e as Error)?.stack?.split('\n').slice(0, 3).join(' | ')}`);
        return false;
      }
    };
    const dev = new MemoryDevice(img);
    let w: Awaited<ReturnType<typeof openNtfsWriter>> | null = null;
    await attempt(async () => (w = await openNtfsWriter(dev)));
    if (!w) continue;
    const writer: Awaited<ReturnType<typeof openNtfsWriter>> = w;
    await attempt(() => writer.writeFile('/tiny.txt', seeded(5000, 1)));
    await attempt(() => writer.mkdir('/fz'));
    await attempt(() => writer.writeFile('/fz/a.txt', seeded(100, 2)));
    await attempt(() => writer.rename('/a/b', '/moved'));
    await attempt(() => writer.unlink('/empty.txt'));
    await attempt(() => writer.writeFile('/big/new.txt', seeded(10, 3)));
    await attempt(() => writer.unlink('/big/entry 00003 of the big directory.dat'));
  }
  assert.deepEqual(untyped, [], 'only WinrescueError');
  assert.ok(typed > 20, `the damage must reach the writer (typed errors: ${typed})`);
});
