// Damaged volumes: each fault is injected into a copy at offsets found with sleuthkit and the boot sector,
// confirmed with sleuthkit or ntfs-3g (so an injector that does nothing fails the test), and must give a
// typed error naming the record or offset — or, for a zeroed MFT record 0, a warning and correct reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, truncateSync } from 'node:fs';
import { sharedSkip, testdataFile } from '../../helpers/testdata.js';
import { run, runStatus, tempDir } from '../../helpers/tools.js';
import { WinrescueError, hex } from '../../../src/errors.js';
import { buildVolume } from './volumes.js';
import {
  bounded,
  copyImage,
  geometry,
  ifind,
  istatClusters,
  loopIndexBlock,
  recordOffset,
  runlistPastEnd,
  tearRecord,
  writeAt,
} from './inject.js';
import { diffLines, entryLines, flsLines, openImage, walkAll } from './oracle.js';

const SPEC = { sizeMiB: 48, bigDir: 2100 };
const KERNEL = '/Windows/System32/ntoskrnl.exe';

async function rejects(p: Promise<unknown>, code: string, pattern: RegExp): Promise<WinrescueError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WinrescueError, `not a WinrescueError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`expected ${code}`);
}

test('torn update sequence in a file record: ntfs.tornRecord naming the record, its offset and both words', async () => {
  const t = tempDir();
  try {
    const image = copyImage(buildVolume(SPEC), t.dir);
    const n = ifind(image, '/tiny.txt');
    const { offset, expected, actual } = tearRecord(image, n);
    assert.match(runStatus('istat', [image, String(n)]).stderr, /Incorrect update sequence/);
    const { vol, close } = await openImage(image);
    try {
      const e = await rejects(
        vol.lookup('/TINY.txt'),
        'ntfs.tornRecord',
        new RegExp(
          `^MFT record ${n} at ${hex(offset)}: update sequence should be 0x${expected.toString(16).padStart(4, '0')}, is 0x${actual.toString(16)}`,
        ),
      );
      assert.equal(e.record, n);
      assert.equal(e.offset, offset + 510);
      // The walk reports the record and carries on with the rest.
      const { entries, errors } = await walkAll(vol);
      assert.equal(errors.length, 1);
      assert.match(errors[0]!, /tiny\.txt: ntfs\.tornRecord/);
      assert.ok(entries.length > 2000);
    } finally {
      await close();
    }
  } finally {
    t.cleanup();
  }
});

test('runlist past the end of the volume: stat works, reading gives ntfs.badRunlist with the runlist offset', async () => {
  const t = tempDir();
  try {
    const image = copyImage(buildVolume(SPEC), t.dir);
    const n = ifind(image, KERNEL);
    const { runlistAt } = runlistPastEnd(image, n);
    assert.match(runStatus('icat', [image, String(n)]).stderr, /larger than file system/);
    const { vol, close } = await openImage(image);
    try {
      const ref = await vol.lookup(KERNEL);
      assert.equal(ref.record, n);
      assert.equal((await vol.stat(n)).size, 3 * 1024 * 1024 + 17);
      const e = await rejects(
        vol.openStream(n),
        'ntfs.badRunlist',
        new RegExp(
          `MFT record ${n} .*runlist at ${hex(runlistAt)}: run of \\d+ clusters at LCN \\d+ lies past the end of the volume`,
        ),
      );
      assert.equal(e.record, n);
      assert.equal(e.offset, runlistAt);
    } finally {
      await close();
    }
  } finally {
    t.cleanup();
  }
});

test('an index block that is its own child: lookup and listing end in ntfs.indexLoop (ntfs-3g hangs)', async () => {
  const t = tempDir();
  try {
    const image = copyImage(buildVolume(SPEC), t.dir);
    const dir = ifind(image, '/big');
    const { vol: clean, close: closeClean } = await openImage(image);
    const tree = await clean.index(await clean.file(dir));
    const inner = tree.rootNode.entries.find((e) => e.childVcn !== null)!.childVcn!;
    assert.ok((await tree.child(inner)).hasChildren, 'the 2100-entry directory has three levels');
    await closeClean();
    const victim = '/big/entry 00000 of the big directory.dat';
    assert.equal(bounded('ntfscat', [image, victim]).status, 0);
    loopIndexBlock(image, dir, inner);
    assert.equal(bounded('ntfscat', [image, victim], 5).status, 124, 'ntfs-3g loops on the damaged index');
    const { vol, close } = await openImage(image);
    try {
      const started = Date.now();
      const e = await rejects(
        vol.lookup(victim),
        'ntfs.indexLoop',
        new RegExp(`record ${dir} index \\$I30: child VCN ${inner} is reached twice`),
      );
      assert.equal(e.record, dir);
      const { errors } = await walkAll(vol, '/big');
      assert.equal(errors.length, 1);
      assert.match(errors[0]!, /ntfs\.indexLoop/);
      assert.ok(Date.now() - started < 5000);
    } finally {
      await close();
    }
  } finally {
    t.cleanup();
  }
});

test('zeroed MFT record 0: sleuthkit and ntfs-3g give up; we read through $MFTMirr, warn, and list what fls lists', async () => {
  const t = tempDir();
  try {
    const original = buildVolume(SPEC);
    const image = copyImage(original, t.dir);
    const g = geometry(image);
    const at = recordOffset(image, 0);
    assert.equal(at, g.mftLcn * g.clusterSize);
    writeAt(image, at, new Uint8Array(g.recordSize));
    assert.notEqual(runStatus('fls', [image]).status, 0);
    assert.notEqual(runStatus('ntfsls', [image]).status, 0);
    const { vol, close } = await openImage(image);
    try {
      assert.equal(vol.warnings.length, 1);
      assert.match(
        vol.warnings[0]!,
        new RegExp(
          `MFT record 0 at ${hex(at)} is damaged .*using its copy in \\$MFTMirr at ${hex(g.mftMirrLcn * g.clusterSize)}`,
        ),
      );
      const { entries, errors } = await walkAll(vol);
      assert.deepEqual(errors, []);
      const ours = entries.flatMap(entryLines).sort();
      const theirs = flsLines(original);
      assert.deepEqual(ours, theirs, diffLines(ours, theirs));
      assert.deepEqual((await vol.info()).warnings, vol.warnings);
    } finally {
      await close();
    }
  } finally {
    t.cleanup();
  }
});

test('truncated image: open warns, reading data past the end is disk.truncated with the offset', async () => {
  const t = tempDir();
  try {
    const image = copyImage(buildVolume(SPEC), t.dir);
    const n = ifind(image, KERNEL);
    const g = geometry(image);
    const firstCluster = istatClusters(image, n, 0x80)[0]!;
    const cut = (firstCluster + 10) * g.clusterSize;
    truncateSync(image, cut);
    const icat = runStatus('icat', [image, String(n)]);
    assert.ok(
      icat.status !== 0 || icat.stdout.length < 3 * 1024 * 1024,
      'sleuthkit cannot read the file either',
    );
    const { vol, close } = await openImage(image);
    try {
      assert.match(
        vol.warnings.join('\n'),
        new RegExp(`the image holds ${cut} bytes but the volume is ${g.totalSectors * g.sectorSize}`),
      );
      const s = await vol.openStream((await vol.lookup(KERNEL)).record);
      assert.equal((await s.read(0, 4096)).length, 4096);
      const e = await rejects(s.readAll(), 'disk.truncated', new RegExp(`image ends at ${hex(cut)}`));
      assert.ok(Number(e.offset) >= cut - 16 * 1024 * 1024);
    } finally {
      await close();
    }
  } finally {
    t.cleanup();
  }
});

test('a BitLocker boot sector is refused with ntfs.bitlocker', async () => {
  const t = tempDir();
  try {
    const image = copyImage(buildVolume(SPEC), t.dir);
    writeAt(image, 3, new TextEncoder().encode('-FVE-FS-'));
    assert.match(run('file', ['-s', image]).toString() + runStatus('fsstat', [image]).stderr, /./);
    await rejects(openImage(image), 'ntfs.bitlocker', /BitLocker/);
  } finally {
    t.cleanup();
  }
});

test(
  'damaged primary boot sector in a padded image: the backup (volume last sector, not the file end) is found',
  { skip: sharedSkip() },
  async () => {
    const t = tempDir();
    try {
      const original = testdataFile('ntfs/windows-ntfs-compressed-largedir.bin.gz');
      const image = copyImage(original, t.dir);
      const g = geometry(image);
      const backupAt = g.totalSectors * g.sectorSize;
      assert.ok(backupAt + 512 < statSync(image).size, 'the file is larger than the volume');
      {
        const { vol, close } = await openImage(image);
        assert.equal((await vol.info()).backupBootSector, 'same');
        await close();
      }
      writeAt(image, 0, new Uint8Array(512));
      assert.notEqual(runStatus('fsstat', [image]).status, 0, 'sleuthkit cannot open it any more');
      const { vol, close } = await openImage(image);
      try {
        assert.match(
          vol.warnings[0]!,
          new RegExp(`primary boot sector is damaged .*using the backup at ${hex(backupAt)}`),
        );
        const { entries, errors } = await walkAll(vol);
        assert.deepEqual(errors, []);
        const ours = entries.flatMap(entryLines).sort();
        const theirs = flsLines(original);
        assert.deepEqual(ours, theirs, diffLines(ours, theirs));
      } finally {
        await close();
      }
      // A backup that disagrees with the primary is reported by info().
      const image2 = copyImage(original, t.dir, 'differs.img');
      writeAt(image2, backupAt + 72, Uint8Array.of(0x12, 0x34));
      const { vol: v2, close: c2 } = await openImage(image2);
      try {
        assert.equal((await v2.info()).backupBootSector, 'differs');
      } finally {
        await c2();
      }
    } finally {
      t.cleanup();
    }
  },
);
