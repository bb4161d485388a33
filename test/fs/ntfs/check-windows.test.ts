// The check on Windows-made volumes (../shared/testdata): each healthy one checks clean (no false alarm: records
// 12-23 reserved, 8.3-less names, Windows' own index shapes, $Secure, compressed and sparse files), and copies of
// them damaged one fault at a time are reported with the record or path. Each fault is first confirmed by an
// independent tool, and that confirmation fails on the untouched volume.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { VolumeRef } from '../../fixtures/factory.js';
import * as inject from '../../fixtures/inject.js';
import { isWinrescueError } from '../../../src/errors.js';
import type { ProblemKind } from '../../../src/fs/ntfs/check/index.js';
import { sharedSkip, testdataFile } from '../../helpers/testdata.js';
import { run, tempDir } from '../../helpers/tools.js';
import { assertClean, assertFound, checkVolume } from './check-helpers.js';

const skip = sharedSkip();
let work: { dir: string; cleanup: () => void };

/** The Windows-made volumes: file, where the volume starts, its size (undefined: to the end of the file). */
const VOLUMES = {
  syslog: { file: 'ntfs/windows-volume.raw.gz', offset: 0, size: undefined as number | undefined },
  largedir: { file: 'ntfs/windows-ntfs-compressed-largedir.bin.gz', offset: 0, size: undefined },
  mbr: { file: 'ntfs/windows-mbr-ntfs-index.raw.gz', offset: 128 * 512, size: 59392 * 512 },
} as const;
type Name = keyof typeof VOLUMES;

before(() => {
  if (!skip) work = tempDir('winrescue-check-win-');
});
after(() => work?.cleanup());

const original = (name: Name): VolumeRef => ({
  image: testdataFile(VOLUMES[name].file),
  offset: VOLUMES[name].offset,
});

let copies = 0;
function copyOf(name: Name): VolumeRef {
  const path = join(work.dir, `${name}-${copies++}.img`);
  run('cp', ['--sparse=always', original(name).image, path]);
  return { image: path, offset: VOLUMES[name].offset };
}

for (const name of Object.keys(VOLUMES) as Name[]) {
  test(`Windows-made ${name} volume checks clean`, { skip }, async () => {
    assertClean(await checkVolume(original(name), VOLUMES[name].size), name);
  });
}

const SYSLOG = '/Windows/System32/config/syslog';

interface WinFault {
  name: string;
  on: Name;
  run: (v: VolumeRef) => { confirm(on?: VolumeRef): string; record: number | null };
  kinds: ProblemKind[];
  expect: (inj: { record: number | null }) => { record?: number | null; path?: string };
}

const rec = (inj: { record: number | null }) => ({ record: inj.record });

const FAULTS: WinFault[] = [
  {
    name: 'torn fixup',
    on: 'syslog',
    run: (v) => inject.tornRecord(v, SYSLOG),
    kinds: ['torn-record'],
    expect: rec,
  },
  {
    name: 'garbled attribute header',
    on: 'syslog',
    run: (v) => inject.garbleAttributeHeader(v, SYSLOG),
    kinds: ['bad-attribute'],
    expect: rec,
  },
  {
    name: 'runlist outside the volume',
    on: 'syslog',
    run: (v) => inject.runlistOutsideVolume(v, SYSLOG),
    kinds: ['runlist-outside-volume'],
    expect: rec,
  },
  {
    name: 'zeroed boot sector',
    on: 'syslog',
    run: (v) => inject.zeroBootSector(v),
    kinds: ['boot-sector'],
    expect: () => ({ record: 7 }),
  },
  {
    name: 'zeroed MFT record 0',
    on: 'largedir',
    run: (v) => inject.zeroMftRecord0(v),
    kinds: ['bad-record', 'mft-mirror'],
    expect: () => ({ record: 0 }),
  },
  {
    name: 'cross-linked clusters',
    on: 'syslog',
    run: (v) => inject.crossLinkedClusters(v, '/$AttrDef', SYSLOG),
    kinds: ['cross-linked-clusters'],
    expect: rec,
  },
  {
    name: 'lost clusters',
    on: 'largedir',
    run: (v) => inject.lostClusters(v),
    kinds: ['lost-clusters'],
    expect: () => ({ record: 6 }),
  },
  {
    name: 'bitmap bits cleared under a live file',
    on: 'syslog',
    run: (v) => inject.clearBitmapUnderFile(v, SYSLOG),
    kinds: ['unmarked-clusters'],
    expect: rec,
  },
  {
    name: 'dangling index entry',
    on: 'syslog',
    run: (v) => inject.danglingIndexEntry(v, SYSLOG),
    kinds: ['dangling-index-entry'],
    expect: () => ({ path: SYSLOG }),
  },
  {
    name: 'index out of order',
    on: 'mbr',
    run: (v) => inject.swapIndexEntries(v, '/test_dir'),
    kinds: ['index-order'],
    expect: () => ({ path: '/test_dir' }),
  },
  {
    name: 'orphan file',
    on: 'mbr',
    run: (v) => inject.orphanFile(v, '/test_dir/333333333333333.txt'),
    kinds: ['orphan-file'],
    expect: () => ({ path: '/test_dir/333333333333333.txt' }),
  },
  {
    name: 'orphan directory',
    on: 'largedir',
    run: (v) => inject.orphanFile(v, '/Large Directory/Directory 1000'),
    kinds: ['orphan-file'],
    expect: () => ({ path: '/Large Directory/Directory 1000' }),
  },
  {
    name: 'wrong link count',
    on: 'syslog',
    run: (v) => inject.wrongLinkCount(v, SYSLOG),
    kinds: ['link-count'],
    expect: rec,
  },
  {
    name: 'dirty $LogFile (restart area flags)',
    on: 'largedir',
    run: (v) => inject.dirtyLogFile(v),
    kinds: ['logfile-dirty'],
    expect: () => ({ record: 2 }),
  },
  {
    name: 'dirty $LogFile (wiped log given dirty restart pages)',
    on: 'syslog',
    run: (v) => inject.dirtyLogFile(v),
    kinds: ['logfile-dirty'],
    expect: () => ({ record: 2 }),
  },
  {
    name: 'index entry naming a reused record (sequence)',
    on: 'mbr',
    run: (v) => inject.reusedRecord(v, '/test_dir/111111111111111.txt'),
    kinds: ['dangling-index-entry'],
    expect: () => ({ path: '/test_dir/111111111111111.txt' }),
  },
  {
    name: '$MFTMirr differs from $MFT',
    on: 'largedir',
    run: (v) => inject.mirrorMismatch(v, 1),
    kinds: ['mft-mirror'],
    expect: () => ({ record: 1 }),
  },
  {
    name: 'volume dirty flag',
    on: 'mbr',
    run: (v) => inject.volumeDirtyFlag(v),
    kinds: ['volume-dirty'],
    expect: () => ({ record: 3 }),
  },
  {
    name: 'security id missing from $Secure',
    on: 'largedir',
    run: (v) => inject.badSecurityId(v, '/File.txt'),
    kinds: ['bad-security-id'],
    expect: () => ({ path: '/File.txt' }),
  },
];

for (const f of FAULTS) {
  test(`Windows-made ${f.on} volume, check finds: ${f.name}`, { skip }, async () => {
    const v = copyOf(f.on);
    const inj = f.run(v);
    assert.ok(inj.confirm().length > 0);
    assert.throws(
      () => inj.confirm(original(f.on)),
      (e: unknown) => isWinrescueError(e),
      'the confirmation must fail on the untouched volume',
    );
    assertFound(await checkVolume(v, VOLUMES[f.on].size), f.kinds, f.expect(inj));
  });
}

test('Windows-made volume with several faults at once: each is reported', { skip }, async () => {
  const v = copyOf('largedir');
  const faults = [
    { inj: inject.tornRecord(v, '/Directory/File 1.txt'), kinds: ['torn-record'] as ProblemKind[] },
    { inj: inject.wrongLinkCount(v, '/File.txt'), kinds: ['link-count'] as ProblemKind[] },
    { inj: inject.lostClusters(v), kinds: ['lost-clusters'] as ProblemKind[] },
    { inj: inject.dirtyLogFile(v), kinds: ['logfile-dirty'] as ProblemKind[] },
    { inj: inject.orphanFile(v, '/Large Directory/Directory 1500'), kinds: ['orphan-file'] as ProblemKind[] },
  ];
  for (const { inj } of faults) inj.confirm();
  const r = await checkVolume(v);
  for (const { inj, kinds } of faults) assertFound(r, kinds, { record: inj.record });
});
