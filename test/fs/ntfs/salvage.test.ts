// Salvage of a broken record's identity and data (the `NAME.old` a repair keeps). Judged by sleuthkit on the
// clean image before the fault: `icat` of the file (its data), `icat N-80` (its $SECURITY_DESCRIPTOR bytes) and
// `istat` (its flags). Faults come from the fixture injectors, each first confirmed by sleuthkit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FileDevice } from '../../../src/disk/file-device.js';
import { OverlayDevice } from '../../../src/disk/overlay-device.js';
import { WindowDevice } from '../../../src/disk/window-device.js';
import { isWinrescueError } from '../../../src/errors.js';
import { openNtfs, type NtfsVolume } from '../../../src/fs/ntfs/index.js';
import { encodeRunlist, type DataRun } from '../../../src/fs/ntfs/runlist.js';
import { decodeRunsAsStored, salvageData, salvageRecord } from '../../../src/fs/ntfs/salvage.js';
import { buildDisk, copyDisk, inject, type BuiltDisk, type VolumeRef } from '../../fixtures/index.js';
import { icat, istat } from '../../fixtures-factory/oracles.js';
import { run, tempDir } from '../../helpers/tools.js';
import { buildVolume, EXTENDED_FILE } from './volumes.js';
import { copyImage } from './write-oracle.js';

const DRIVER = '/Windows/System32/drivers/disk.sys';
let t: { dir: string; cleanup: () => void };
let disk: BuiltDisk;
let small: string;

before(async () => {
  t = tempDir('winrescue-ntfs-salvage-');
  disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  small = buildVolume({ sizeMiB: 8, bigDir: 150, small: true });
});
after(() => t?.cleanup());

async function withVolume<T>(v: VolumeRef, fn: (vol: NtfsVolume) => Promise<T>): Promise<T> {
  const file = await FileDevice.open(v.image, { readOnly: true });
  try {
    const dev = v.offset === 0 ? file : new WindowDevice(file, v.offset, file.size - v.offset);
    return await fn(await openNtfs(dev));
  } finally {
    await file.close();
  }
}

/** `Flags:` of istat's $STANDARD_INFORMATION section, as a set of names. */
function istatFlags(text: string): string[] {
  const m = /\$STANDARD_INFORMATION Attribute Values:\nFlags: ?(.*)\n/.exec(text);
  return m && m[1] ? m[1].split(', ').sort() : [];
}

test('a torn driver record: data, descriptor and flags salvaged equal the clean file (sleuthkit)', async () => {
  const copy = copyDisk(disk, t.dir, 'torn.raw');
  const inj = inject.tornRecord(copy, DRIVER);
  inj.confirm();
  const n = inj.record!;
  const clean = icat(disk.raw, disk.windowsVolume.offset, n);
  const cleanSd = run('icat', ['-o', String(disk.windowsVolume.offset / 512), disk.raw, `${n}-80`]);
  const flags = istatFlags(istat(disk.raw, disk.windowsVolume.offset, n));
  await withVolume(copy, async (vol) => {
    const got = await salvageData(vol, n);
    assert.ok(got, 'something is salvaged');
    assert.equal(got.complete, true, got.detail);
    assert.equal(got.bytes.length, clean.length);
    assert.ok(Buffer.from(got.bytes).equals(clean), 'salvaged bytes equal icat of the clean image');
    const s = salvageRecord(await vol.readMftBytes(n, 1), n, vol.boot.totalClusters);
    assert.ok(s.securityDescriptor && Buffer.from(s.securityDescriptor).equals(cleanSd));
    // wimlib writes the 48-byte NTFS 1.2 $STANDARD_INFORMATION: no security id field.
    assert.equal(s.standardInformation?.securityId, null);
    assert.deepEqual(flags, [], 'istat shows no flags for the fixture driver');
    assert.equal(s.standardInformation?.fileAttributes, 0);
    assert.ok(s.data && 'runs' in s.data && s.data.dataSize === clean.length);
    assert.deepEqual(
      s.names.map((x) => x.name),
      ['disk.sys', 'disk.sys'],
      'the System32 name and its WinSxS twin',
    );
  });
});

test('runs outside the volume: zeros for them, complete=false, the detail says why', async () => {
  const copy = copyDisk(disk, t.dir, 'outside.raw');
  const inj = inject.runlistOutsideVolume(copy, DRIVER);
  inj.confirm();
  const n = inj.record!;
  const size = icat(disk.raw, disk.windowsVolume.offset, n).length;
  await withVolume(copy, async (vol) => {
    const got = await salvageData(vol, n);
    assert.ok(got);
    assert.equal(got.complete, false);
    assert.match(got.detail, /outside the volume/);
    assert.equal(got.bytes.length, size);
    assert.ok(
      got.bytes.every((b) => b === 0),
      'the one run lay outside: nothing was read',
    );
  });
});

test('a zeroed record has nothing to salvage: null', async () => {
  const copy = copyDisk(disk, t.dir, 'zeroed.raw');
  const off = String(disk.windowsVolume.offset / 512);
  const n = Number(run('ifind', ['-o', off, '-n', DRIVER, disk.raw]).toString().trim());
  inject.zeroMftRecord(copy, n).confirm();
  await withVolume(copy, async (vol) => {
    assert.equal(await salvageData(vol, n), null);
  });
});

test('a sparse file with initialized size < data size, torn: equals icat of the clean volume', async () => {
  const image = copyImage(small, t.dir);
  const inj = inject.tornRecord({ image, offset: 0 }, EXTENDED_FILE);
  inj.confirm();
  const clean = icat(small, 0, inj.record!);
  await withVolume({ image, offset: 0 }, async (vol) => {
    const got = await salvageData(vol, inj.record!);
    assert.ok(got);
    assert.equal(got.complete, true, got.detail);
    assert.ok(Buffer.from(got.bytes).equals(clean));
  });
});

test('resident data of a torn record equals icat of the clean volume', async () => {
  const image = copyImage(small, t.dir);
  const target = '/tiny.txt';
  const n = Number(run('ifind', ['-n', target, small]).toString().trim());
  const inj = inject.tornRecord({ image, offset: 0 }, target);
  inj.confirm();
  await withVolume({ image, offset: 0 }, async (vol) => {
    const got = await salvageData(vol, n);
    assert.ok(got?.complete);
    assert.ok(Buffer.from(got.bytes).equals(icat(small, 0, n)));
  });
});

test('runlists: as-stored decoding keeps every run (outside ones too) and stops at damage', () => {
  const runs = fc.array(
    fc.record({
      lcn: fc.option(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), { nil: null }),
      length: fc.integer({ min: 1, max: 2 ** 32 }),
    }),
    { maxLength: 12 },
  );
  fc.assert(
    fc.property(runs, fc.integer({ min: 0, max: 40 }), (rs, cut) => {
      let vcn = 0;
      const list: DataRun[] = rs.map((r) => {
        const x = { vcn, lcn: r.lcn, length: r.length };
        vcn += r.length;
        return x;
      });
      const bytes = encodeRunlist(list);
      assert.deepEqual(decodeRunsAsStored(bytes, 0, bytes.length), { runs: list, damaged: false });
      // Cut short: the runs wholly before the cut survive, the rest is reported damaged.
      const end = Math.min(cut, bytes.length - 1);
      const part = decodeRunsAsStored(bytes, 0, end);
      assert.equal(part.damaged, true);
      assert.deepEqual(part.runs, list.slice(0, part.runs.length));
    }),
    { numRuns: 300 },
  );
});

test('fuzz: 150 damaged copies of the torn driver record salvage or fail typed, never otherwise', async () => {
  const copy = copyDisk(disk, t.dir, 'fuzz.raw');
  const n = inject.tornRecord(copy, DRIVER).record!;
  const file = await FileDevice.open(copy.image, { readOnly: true });
  try {
    const volDev = new WindowDevice(file, copy.offset, file.size - copy.offset);
    const base = await openNtfs(volDev);
    const at = base.recordOffset(n);
    const raw = await base.readMftBytes(n, 1);
    const edits = fc.array(
      fc.record({
        pos: fc.integer({ min: 0, max: raw.length - 1 }),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      { minLength: 1, maxLength: 8 },
    );
    await fc.assert(
      fc.asyncProperty(edits, async (es) => {
        const bytes = raw.slice();
        for (const e of es) bytes[e.pos] = e.value;
        const dev = new OverlayDevice(volDev);
        await dev.write(at, bytes);
        try {
          const got = await salvageData(await openNtfs(dev), n);
          if (got) assert.equal(got.complete, got.detail.startsWith('complete'));
        } catch (e) {
          assert.ok(isWinrescueError(e), `only typed errors: ${String(e)}`);
        }
      }),
      { numRuns: 150 },
    );
  } finally {
    await file.close();
  }
});
