// Every injector: the fault is confirmed by an independent tool on the damaged copy, the same confirmation
// fails on the clean image (so a no-op injector cannot pass), and the recorded changes are real.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  buildDisk,
  copyDisk,
  extractWindowsVolume,
  type BuiltDisk,
  type VolumeRef,
} from '../fixtures/factory.js';
import * as inject from '../fixtures/inject.js';
import { readBytes } from '../fixtures/ntfs-volume.js';
import { isWinrescueError } from '../../src/errors.js';
import { run, tempDir } from '../helpers/tools.js';
import { flsTree, istat, STUB_HIVES } from './oracles.js';

let disk: BuiltDisk;
let work: { dir: string; cleanup: () => void };
/** The clean Windows volume cut out as a bare image: the "volume" mode of the injectors. */
let bare: VolumeRef;

before(async () => {
  disk = await buildDisk({
    gen: 1,
    flavour: 'synthetic',
    hives: STUB_HIVES,
    sizeMiB: 128,
    fillerComponents: 20,
  });
  work = tempDir('winrescue-inject-');
  bare = extractWindowsVolume(disk, join(work.dir, 'clean-volume.img'));
});
after(() => work.cleanup());

const DRIVER = '/Windows/System32/drivers/disk.sys';
const TWIN_DIR = '/Windows/System32/drivers';

type Case = { name: string; mode: 'disk' | 'volume'; run: (v: VolumeRef) => inject.Injection };

const cases: Case[] = [
  { name: 'tornRecord', mode: 'disk', run: (v) => inject.tornRecord(v, DRIVER) },
  { name: 'garbleAttributeHeader', mode: 'volume', run: (v) => inject.garbleAttributeHeader(v, DRIVER) },
  { name: 'runlistOutsideVolume', mode: 'disk', run: (v) => inject.runlistOutsideVolume(v, DRIVER) },
  { name: 'zeroFileData', mode: 'disk', run: (v) => inject.zeroFileData(v, DRIVER) },
  { name: 'truncateFileData', mode: 'volume', run: (v) => inject.truncateFileData(v, DRIVER) },
  { name: 'flipBitmapBit', mode: 'disk', run: (v) => inject.flipBitmapBit(v, 30000) },
  { name: 'clearBitmapUnderFile', mode: 'volume', run: (v) => inject.clearBitmapUnderFile(v, DRIVER) },
  { name: 'danglingIndexEntry', mode: 'disk', run: (v) => inject.danglingIndexEntry(v, DRIVER) },
  { name: 'swapIndexEntries', mode: 'disk', run: (v) => inject.swapIndexEntries(v, TWIN_DIR) },
  { name: 'zeroMftRecord', mode: 'volume', run: (v) => inject.zeroMftRecord(v, 70) },
  { name: 'zeroBootSector', mode: 'disk', run: (v) => inject.zeroBootSector(v) },
  {
    name: 'corruptAttributeList',
    mode: 'disk',
    run: (v) => inject.corruptAttributeList(v, '/Users/Public/Documents/many-links/base.dat'),
  },
  { name: 'badPeChecksum', mode: 'volume', run: (v) => inject.badPeChecksum(v, DRIVER) },
];

function target(c: Case): VolumeRef {
  if (c.mode === 'disk') return copyDisk(disk, work.dir, `${c.name}.raw`);
  const path = join(work.dir, `${c.name}.img`);
  run('cp', ['--sparse=always', bare.image, path]);
  return { image: path, offset: 0 };
}

for (const c of cases) {
  test(`inject ${c.name} (${c.mode}): confirmed on the damaged copy, refused on the clean image`, () => {
    const v = target(c);
    const inj = c.run(v);
    assert.equal(inj.fault, c.name);
    assert.ok(inj.changes.length > 0, 'records what it changed');
    for (const ch of inj.changes) {
      assert.notEqual(ch.old, ch.new);
      assert.equal(Buffer.from(readBytes(v.image, ch.offset, ch.new.length / 2)).toString('hex'), ch.new);
    }
    const evidence = inj.confirm();
    assert.ok(evidence.length > 0);
    const clean = c.mode === 'disk' ? disk.windowsVolume : bare;
    assert.throws(
      () => inj.confirm(clean),
      (e: unknown) => isWinrescueError(e) && /not visible to the oracle/.test(e.message),
      'the confirmation must fail on the clean image',
    );
  });
}

test('badPeChecksum leaves NTFS metadata alone: istat of the record is unchanged', () => {
  const v = copyDisk(disk, work.dir, 'pe-meta.raw');
  const inj = inject.badPeChecksum(v, DRIVER);
  const clean = disk.windowsVolume;
  assert.equal(istat(v.image, v.offset, inj.record!), istat(clean.image, clean.offset, inj.record!));
  assert.equal(inj.changes.length, 1);
});

test('swapIndexEntries: a listing still shows both names, only the B+ tree lookup misses one', () => {
  const v = copyDisk(disk, work.dir, 'swap-list.raw');
  const inj = inject.swapIndexEntries(v, TWIN_DIR);
  const fls = flsTree(v.image, v.offset);
  assert.ok(fls.has(`${TWIN_DIR}/${inj.details.first}`));
  assert.ok(fls.has(`${TWIN_DIR}/${inj.details.second}`));
  assert.match(inj.confirm(), /ntfsinfo -F/);
});

test('tornRecord on a hard-linked driver: both names lead to the torn record', () => {
  const v = copyDisk(disk, work.dir, 'torn-twins.raw');
  const drv = disk.manifest.windows.tree.drivers.find((d) => d.path === DRIVER)!;
  const inj = inject.tornRecord(v, DRIVER);
  const fls = flsTree(v.image, v.offset);
  assert.equal(fls.get(drv.winSxS)?.inode, inj.record);
  assert.match(inj.confirm(), /update sequence/i);
});

test('runlistOutsideVolume widens the offset field when it can, pointing past the last cluster', () => {
  const v = copyDisk(disk, work.dir, 'runlist-wide.raw');
  const inj = inject.runlistOutsideVolume(v, DRIVER);
  const g = disk.manifest.windows.geometry;
  const total = Math.floor(g.totalSectors / g.sectorsPerCluster);
  assert.equal(inj.details.newLcn, total + 1000);
  assert.match(inj.confirm(), /larger than file system|beyond the volume/);
});
