// The check's fault suite on a factory disk (Gen1, real flavour): every fault class of issue 5 injected into a
// copy, one at a time and then all together. Before each case the fault is confirmed by an independent tool
// (sleuthkit, ntfs-3g's ntfsresize / ntfsinfo, ntfsrecover) and the same confirmation must fail on the clean
// image, so a no-op injector fails the test; then `check` must report the fault and name its record or path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildDisk, copyDisk, type BuiltDisk, type VolumeRef } from '../../fixtures/factory.js';
import * as inject from '../../fixtures/inject.js';
import { recordOf } from '../../fixtures/ntfs-probe.js';
import { isWinrescueError } from '../../../src/errors.js';
import type { ProblemKind } from '../../../src/fs/ntfs/check/index.js';
import { sharedSkip } from '../../helpers/testdata.js';
import { tempDir } from '../../helpers/tools.js';
import { assertClean, assertFound, checkVolume } from './check-helpers.js';

const skip = sharedSkip();
let disk: BuiltDisk;
let work: { dir: string; cleanup: () => void };
let size: number;

before(async () => {
  if (skip) return;
  disk = await buildDisk({ gen: 1, flavour: 'real' });
  size = disk.manifest.windows.size;
  work = tempDir('winrescue-check-');
});
after(() => work?.cleanup());

const DRIVER = '/Windows/System32/drivers/disk.sys';
const OTHER = '/Windows/System32/drivers/partmgr.sys';
const THIRD = '/Windows/System32/drivers/volmgr.sys';
const DRIVERS = '/Windows/System32/drivers';
const LINKED = '/Users/Public/Documents/many-links/base.dat';

interface Fault {
  name: string;
  run: (v: VolumeRef) => { confirm(on?: VolumeRef): string; record: number | null; target: string };
  kinds: ProblemKind[];
  /** Where check must point: the injection's record, a fixed record, or a path. */
  expect: (inj: { record: number | null; target: string; details: Record<string, unknown> }) => {
    record?: number | null;
    path?: string;
  };
}

/** Single-link files in the factory's largest folder (its $I30 has INDX blocks to cut entries from). */
function manifests(i: number): string {
  const files = disk.manifest.windows.tree.files.filter((f) =>
    f.path.startsWith('/Windows/WinSxS/Manifests/'),
  );
  return files[i]!.path;
}

const byRecord = (inj: { record: number | null }) => ({ record: inj.record });

export const FAULTS: Fault[] = [
  { name: 'torn fixup', run: (v) => inject.tornRecord(v, DRIVER), kinds: ['torn-record'], expect: byRecord },
  {
    name: 'garbled attribute header',
    run: (v) => inject.garbleAttributeHeader(v, DRIVER),
    kinds: ['bad-attribute'],
    expect: byRecord,
  },
  {
    name: 'runlist outside the volume',
    run: (v) => inject.runlistOutsideVolume(v, DRIVER),
    kinds: ['runlist-outside-volume'],
    expect: byRecord,
  },
  {
    name: 'zeroed boot sector',
    run: (v) => inject.zeroBootSector(v),
    kinds: ['boot-sector'],
    expect: () => ({ record: 7 }),
  },
  {
    name: 'zeroed MFT record 0',
    run: (v) => inject.zeroMftRecord0(v),
    kinds: ['bad-record', 'mft-mirror'],
    expect: () => ({ record: 0 }),
  },
  {
    name: "a file's MFT record zeroed",
    run: (v) => inject.zeroMftRecord(v, recordOf(v, manifests(3))),
    kinds: ['mft-bitmap', 'bad-record'],
    expect: byRecord,
  },
  {
    name: 'cross-linked clusters',
    run: (v) => inject.crossLinkedClusters(v, OTHER, DRIVER),
    kinds: ['cross-linked-clusters'],
    expect: byRecord,
  },
  {
    name: 'lost clusters',
    run: (v) => inject.lostClusters(v),
    kinds: ['lost-clusters'],
    expect: () => ({ record: 6 }),
  },
  {
    name: 'bitmap bits cleared under a live file',
    run: (v) => inject.clearBitmapUnderFile(v, DRIVER),
    kinds: ['unmarked-clusters'],
    expect: byRecord,
  },
  {
    name: 'dangling index entry',
    run: (v) => inject.danglingIndexEntry(v, DRIVER),
    kinds: ['dangling-index-entry'],
    expect: () => ({ path: DRIVER }),
  },
  {
    name: 'index out of order',
    run: (v) => inject.swapIndexEntries(v, DRIVERS),
    kinds: ['index-order'],
    expect: () => ({ path: DRIVERS }),
  },
  {
    name: 'orphan file',
    run: (v) => inject.orphanFile(v, manifests(0)),
    kinds: ['orphan-file'],
    expect: () => ({ path: manifests(0) }),
  },
  {
    name: 'one hard link of two no longer indexed',
    run: (v) => inject.orphanFile(v, THIRD),
    kinds: ['missing-index-entry'],
    expect: () => ({ path: THIRD }),
  },
  {
    name: 'wrong link count',
    run: (v) => inject.wrongLinkCount(v, OTHER),
    kinds: ['link-count'],
    expect: byRecord,
  },
  {
    name: 'dirty $LogFile',
    run: (v) => inject.dirtyLogFile(v),
    kinds: ['logfile-dirty'],
    expect: () => ({ record: 2 }),
  },
  {
    name: 'corrupt attribute list',
    run: (v) => inject.corruptAttributeList(v, LINKED),
    kinds: ['bad-attribute-list'],
    expect: byRecord,
  },
  {
    name: 'B+ tree shape: a subtree cut off the root',
    run: (v) => inject.cutIndexSubtree(v, DRIVERS),
    kinds: ['bad-index'],
    expect: () => ({ path: DRIVERS }),
  },
  {
    name: 'index entry naming a reused record (sequence)',
    run: (v) => inject.reusedRecord(v, manifests(2)),
    kinds: ['dangling-index-entry'],
    expect: () => ({ path: manifests(2) }),
  },
  {
    name: '$MFTMirr differs from $MFT',
    run: (v) => inject.mirrorMismatch(v, 2),
    kinds: ['mft-mirror'],
    expect: () => ({ record: 2 }),
  },
  {
    name: 'volume dirty flag',
    run: (v) => inject.volumeDirtyFlag(v),
    kinds: ['volume-dirty'],
    expect: () => ({ record: 3 }),
  },
];

test('the clean factory volume checks clean', { skip }, async () => {
  assertClean(await checkVolume(disk.windowsVolume, size), 'gen1 real Windows volume');
});

for (const f of FAULTS) {
  test(`check finds: ${f.name} (confirmed by an independent tool first)`, { skip }, async () => {
    const v = copyDisk(disk, work.dir, `${f.name.replace(/\W+/g, '-')}.raw`);
    const inj = f.run(v);
    assert.ok(inj.confirm().length > 0);
    assert.throws(
      () => inj.confirm(disk.windowsVolume),
      (e: unknown) => isWinrescueError(e),
      'the same confirmation must fail on the clean image',
    );
    const r = await checkVolume(v, size);
    assertFound(r, f.kinds, f.expect(inj as never));
  });
}

test('check finds every fault of a combined injection', { skip }, async () => {
  const v = copyDisk(disk, work.dir, 'combined.raw');
  const injected = [
    { inj: inject.tornRecord(v, '/Windows/System32/drivers/storahci.sys'), kinds: ['torn-record'] },
    { inj: inject.lostClusters(v), kinds: ['lost-clusters'], record: 6 },
    {
      inj: inject.clearBitmapUnderFile(v, '/Windows/System32/drivers/pci.sys'),
      kinds: ['unmarked-clusters'],
    },
    { inj: inject.wrongLinkCount(v, '/Windows/System32/drivers/ksecdd.sys'), kinds: ['link-count'] },
    { inj: inject.orphanFile(v, manifests(1)), kinds: ['orphan-file'] },
    { inj: inject.dirtyLogFile(v), kinds: ['logfile-dirty'] },
  ] as const;
  for (const { inj } of injected) inj.confirm();
  const r = await checkVolume(v, size);
  for (const i of injected) {
    const record = 'record' in i ? i.record : i.inj.record;
    assertFound(r, i.kinds as readonly ProblemKind[], { record });
  }
});
