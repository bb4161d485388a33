// findRestoreCandidates on fixture disks: the copies a damaged driver can be restored from. The fixture manifest
// (written by the tree generator from the source files) says which folder holds what and each file's sha256;
// sleuthkit (icat) reads the chosen record independently; every injected fault is confirmed by its injector's
// own oracle first, so a no-op injection fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import {
  buildDisk,
  copyDisk,
  ensureSigningKeys,
  inject,
  FIXTURES_DIR,
  type BuiltDisk,
  type DriverManifest,
} from '../fixtures/index.js';
import { icat } from '../fixtures-factory/oracles.js';
import { run, tempDir } from '../helpers/tools.js';
import { sharedSkip } from '../helpers/testdata.js';
import { FileDevice } from '../../src/disk/file-device.js';
import { WindowDevice } from '../../src/disk/window-device.js';
import { openNtfs, type NtfsVolume } from '../../src/fs/ntfs/index.js';
import type { TrustContext } from '../../src/diagnose/evidence/examine.js';
import { CountingDevice } from '../../src/disk/counting-device.js';
import {
  bootSourceOf,
  findRestoreCandidates,
  listDirs,
  type CandidateSearch,
  type RestoreTarget,
} from '../../src/repair/candidates.js';

const keys = ensureSigningKeys(FIXTURES_DIR);
const testRoot: TrustContext = {
  roots: [new Uint8Array(readFileSync(keys.caPem))],
  catalogs: async () => [],
};
const noRoots: TrustContext = { roots: [], catalogs: async () => [] };

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const win = (p: string): string => p.replaceAll('/', '\\');

/** Opens the Windows volume of a raw fixture disk (or a copy of it) read-only. */
async function withVolume<T>(
  disk: BuiltDisk,
  image: string,
  fn: (vol: NtfsVolume) => Promise<T>,
): Promise<T> {
  const dev = await FileDevice.open(image, { readOnly: true });
  try {
    const w = disk.manifest.windows;
    return await fn(await openNtfs(new WindowDevice(dev, w.start, w.size)));
  } finally {
    await dev.close();
  }
}

function driver(disk: BuiltDisk, name: string): DriverManifest {
  const d = disk.manifest.windows.tree.drivers.find((x) => x.name === name);
  assert.ok(d, `${name} in the manifest`);
  return d;
}

/** What repair knows of a driver whose record is damaged: sleuthkit's record, the manifest's hard links. */
function targetOf(disk: BuiltDisk, d: DriverManifest, record: number | null): RestoreTarget {
  const group = disk.manifest.windows.tree.hardLinks.find((g) => g.includes(d.path)) ?? [d.path];
  return { path: win(d.path), record, names: group, version: null, volume: 'windows' };
}

function assertOracle(
  r: CandidateSearch,
  disk: BuiltDisk,
  image: string,
  path: string,
  sha: string,
  what: string,
): void {
  assert.ok(r.chosen, `${what}: nothing chosen; rejected ${JSON.stringify(r.rejected)}`);
  assert.equal(r.chosen.path, path, what);
  assert.equal(r.chosen.sha256, sha, `${what}: sha256 differs from the manifest`);
  assert.equal(sha256(r.chosen.bytes), sha, `${what}: bytes differ from the manifest`);
  assert.notEqual(r.chosen.record, null);
  assert.equal(
    sha256(icat(image, disk.manifest.windows.start, r.chosen.record!)),
    sha,
    `${what}: icat reads other bytes at record ${r.chosen.record}`,
  );
}

function assertNoDecoys(r: CandidateSearch, disk: BuiltDisk): void {
  const decoys = new Set(disk.manifest.windows.tree.decoys.map((p) => p.toUpperCase()));
  for (const c of r.candidates) assert.ok(!decoys.has(c.path.toUpperCase()), `decoy ${c.path} offered`);
  for (const c of r.candidates) assert.doesNotMatch(c.path, /\/WinSxS\/Temp\//i);
}

test('disk.sys torn (one record with its WinSxS twin): the driver store copy of the same version is chosen; the twin is the same record, the newer folder delta-only', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const d = driver(disk, 'disk.sys');
  assert.ok(d.driverStore, 'disk.sys ships in disk.inf');
  const { dir, cleanup } = tempDir();
  try {
    const copy = copyDisk(disk, dir);
    const fault = inject.tornRecord(copy, d.path);
    fault.confirm();
    const r = await withVolume(disk, copy.image, (vol) =>
      findRestoreCandidates(vol, targetOf(disk, d, fault.record), { trust: testRoot }),
    );
    assertOracle(r, disk, copy.image, d.driverStore, d.sha256, 'disk.sys');
    assert.equal(r.chosen!.source, 'driverstore');
    assert.equal(r.chosen!.version, d.version);
    // Next best: the intact older component, then nothing else.
    assert.deepEqual(
      r.candidates.map((c) => [c.path, c.sha256, c.version]),
      [
        [d.driverStore, d.sha256, d.version],
        [d.older.path, d.older.sha256, d.older.version],
      ],
    );
    const reasons = new Map(r.rejected.map((x) => [x.path.toUpperCase(), x.reason]));
    assert.match(reasons.get(d.winSxS.toUpperCase()) ?? '', /same MFT record/);
    assert.match(reasons.get(d.deltaOnly.folder.toUpperCase()) ?? '', /delta-only/);
    assertNoDecoys(r, disk);
    assert.ok(
      r.notes.some((n) => n.includes(win(d.winSxS)) && /DISM/.test(n)),
      `notes: ${r.notes.join(' | ')}`,
    );
  } finally {
    cleanup();
  }
});

test('partmgr.sys (no driver store package), torn: the intact older WinSxS copy is chosen, with a note on the version', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const d = driver(disk, 'partmgr.sys');
  assert.equal(d.driverStore, null);
  const { dir, cleanup } = tempDir();
  try {
    const copy = copyDisk(disk, dir);
    const fault = inject.tornRecord(copy, d.path);
    fault.confirm();
    const r = await withVolume(disk, copy.image, (vol) =>
      findRestoreCandidates(vol, targetOf(disk, d, fault.record), { trust: testRoot }),
    );
    assertOracle(r, disk, copy.image, d.older.path, d.older.sha256, 'partmgr.sys');
    assert.equal(r.chosen!.version, d.older.version);
    assert.equal(r.candidates.length, 1);
    assert.ok(
      r.notes.some((n) => n.includes(d.older.version) && n.includes(d.version)),
      r.notes.join(' | '),
    );
  } finally {
    cleanup();
  }
});

test('decoys: acpi.sys has newer-looking copies in Temp\\InFlight and PendingDeletes; none is offered', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const d = driver(disk, 'acpi.sys');
  assert.ok(
    disk.manifest.windows.tree.decoys.some((p) => p.endsWith('/acpi.sys')),
    'the fixture has acpi.sys decoys',
  );
  const { dir, cleanup } = tempDir();
  try {
    const copy = copyDisk(disk, dir);
    const fault = inject.tornRecord(copy, d.path);
    fault.confirm();
    const r = await withVolume(disk, copy.image, (vol) =>
      findRestoreCandidates(vol, targetOf(disk, d, fault.record), { trust: testRoot }),
    );
    assertOracle(r, disk, copy.image, d.driverStore!, d.sha256, 'acpi.sys');
    assertNoDecoys(r, disk);
    for (const x of r.rejected) assert.doesNotMatch(x.path, /\/Temp\//i);
  } finally {
    cleanup();
  }
});

test('without the trust root every copy fails the signature check: nothing chosen, and the notes say why and what to give', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const d = driver(disk, 'disk.sys');
  const { dir, cleanup } = tempDir();
  try {
    const copy = copyDisk(disk, dir);
    const fault = inject.tornRecord(copy, d.path);
    fault.confirm();
    const r = await withVolume(disk, copy.image, (vol) =>
      findRestoreCandidates(vol, targetOf(disk, d, fault.record), { trust: noRoots }),
    );
    assert.equal(r.chosen, null);
    assert.deepEqual(r.candidates, []);
    for (const p of [d.driverStore!, d.older.path]) {
      const x = r.rejected.find((y) => y.path === p);
      assert.match(x?.reason ?? '(not rejected)', /signature check.*0xC0000428.*trusted root/, p);
    }
    assert.ok(
      r.notes.some((n) => /--trust-root/.test(n)),
      r.notes.join(' | '),
    );
    assert.ok(
      r.notes.some((n) => /--source DIR.*--source OTHER-DISK/.test(n)),
      r.notes.join(' | '),
    );
  } finally {
    cleanup();
  }
});

test('damaged copies are rejected: the driver store copy zeroed, then the older copy with one byte changed (bad PE checksum)', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const d = driver(disk, 'disk.sys');
  const { dir, cleanup } = tempDir();
  try {
    const copy = copyDisk(disk, dir);
    const torn = inject.tornRecord(copy, d.path);
    torn.confirm();
    const target = targetOf(disk, d, torn.record);
    inject.zeroFileData(copy, d.driverStore!).confirm();
    const r1 = await withVolume(disk, copy.image, (vol) =>
      findRestoreCandidates(vol, target, { trust: testRoot }),
    );
    assertOracle(r1, disk, copy.image, d.older.path, d.older.sha256, 'after zeroing the driver store copy');
    assert.match(r1.rejected.find((x) => x.path === d.driverStore)?.reason ?? '', /image checks/);

    inject.badPeChecksum(copy, d.older.path).confirm();
    const r2 = await withVolume(disk, copy.image, (vol) =>
      findRestoreCandidates(vol, target, { trust: testRoot }),
    );
    assert.equal(r2.chosen, null);
    assert.match(r2.rejected.find((x) => x.path === d.older.path)?.reason ?? '', /checksum/i);
    assert.match(r2.rejected.find((x) => x.path === d.driverStore)?.reason ?? '', /image checks/);
  } finally {
    cleanup();
  }
});

test('--source DIR (at the target path, else DIR/NAME) and --source OTHER-DISK give the candidate first', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const other = await buildDisk({ gen: 1, flavour: 'synthetic' });
  const d = driver(disk, 'disk.sys');
  const od = driver(other, 'disk.sys');
  const { dir, cleanup } = tempDir();
  try {
    const copy = copyDisk(disk, dir);
    const fault = inject.tornRecord(copy, d.path);
    fault.confirm();
    const target = targetOf(disk, d, fault.record);
    // The healthy bytes as sleuthkit reads them from the pristine disk.
    const good = icat(disk.raw, disk.manifest.windows.start, Number(fault.record));
    assert.equal(sha256(good), d.sha256);
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'Windows/System32/drivers'), { recursive: true });
    writeFileSync(join(tree, 'Windows/System32/drivers/disk.sys'), good);
    const flat = join(dir, 'flat');
    mkdirSync(flat);
    writeFileSync(join(flat, 'disk.sys'), good);
    const empty = join(dir, 'empty');
    mkdirSync(empty);

    await withVolume(disk, copy.image, async (vol) => {
      for (const [src, path] of [
        [tree, join(tree, 'Windows/System32/drivers/disk.sys')],
        [flat, join(flat, 'disk.sys')],
      ] as const) {
        const r = await findRestoreCandidates(vol, target, {
          trust: testRoot,
          source: { kind: 'dir', path: src },
        });
        assert.equal(r.chosen?.path, path);
        assert.equal(r.chosen?.source, 'source-dir');
        assert.equal(r.chosen?.sha256, d.sha256);
        assert.equal(r.chosen?.record, null);
      }
      const none = await findRestoreCandidates(vol, target, {
        trust: testRoot,
        source: { kind: 'dir', path: empty },
      });
      assert.match(none.rejected.find((x) => x.path === empty)?.reason ?? '', /no file/);
      assert.equal(none.chosen?.source, 'driverstore', "the disk's own copies still count");

      await withVolume(other, other.raw, async (otherVol) => {
        const r = await findRestoreCandidates(vol, target, {
          trust: testRoot,
          source: { kind: 'disk', volume: otherVol },
        });
        assert.equal(r.chosen?.source, 'source-disk');
        assert.equal(r.chosen?.path, d.path);
        assert.equal(r.chosen?.sha256, od.sha256);
        assert.equal(sha256(icat(other.raw, other.manifest.windows.start, r.chosen!.record!)), od.sha256);
      });
    });
  } finally {
    cleanup();
  }
});

test('boot managers on the system partition come from where bcdboot takes them', async () => {
  const gen2 = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const gen1 = await buildDisk({ gen: 1, flavour: 'synthetic' });
  const shaOf = (disk: BuiltDisk, p: string) =>
    disk.manifest.windows.tree.files.find((f) => f.path.toUpperCase() === p.toUpperCase())?.sha256;
  const sys = (path: string): RestoreTarget => ({
    path,
    record: null,
    names: [],
    version: null,
    volume: 'system',
  });
  await withVolume(gen2, gen2.raw, async (vol) => {
    for (const p of ['\\EFI\\Microsoft\\Boot\\bootmgfw.efi', '\\EFI\\Boot\\bootx64.efi']) {
      const r = await findRestoreCandidates(vol, sys(p), { trust: testRoot });
      assert.equal(r.chosen?.path, '/Windows/Boot/EFI/bootmgfw.efi', p);
      assert.equal(r.chosen?.source, 'boot');
      assert.equal(r.chosen?.sha256, shaOf(gen2, '/Windows/Boot/EFI/bootmgfw.efi'));
      // The ESP copy is what the firmware loads: the same bytes as the manifest's boot files.
      const esp = gen2.manifest.boot.files.find(
        (b) => b.path.toUpperCase() === p.replaceAll('\\', '/').toUpperCase(),
      );
      assert.ok(esp, `${p} in the manifest's ESP files`);
      assert.equal(r.chosen?.sha256, esp.sha256);
    }
    const bcd = await findRestoreCandidates(vol, sys('\\EFI\\Microsoft\\Boot\\BCD'), { trust: testRoot });
    assert.equal(bcd.chosen, null);
    assert.ok(
      bcd.notes.some((n) => /bcdboot/.test(n)),
      bcd.notes.join(' | '),
    );
  });
  await withVolume(gen1, gen1.raw, async (vol) => {
    // bootmgr is not a plain PE: reachable and not empty is enough.
    const r = await findRestoreCandidates(vol, sys('\\bootmgr'), { trust: noRoots });
    assert.equal(r.chosen?.path, '/Windows/Boot/PCAT/bootmgr');
    assert.equal(r.chosen?.sha256, shaOf(gen1, '/Windows/Boot/PCAT/bootmgr'));
  });
});

test('bootSourceOf maps bcdboot copies and refuses the stores', () => {
  assert.equal(bootSourceOf('\\bootmgr'), '/Windows/Boot/PCAT/bootmgr');
  assert.equal(bootSourceOf('\\EFI\\Boot\\BOOTX64.EFI'), '/Windows/Boot/EFI/bootmgfw.efi');
  assert.equal(bootSourceOf('\\EFI\\Microsoft\\Boot\\memtest.efi'), '/Windows/Boot/EFI/memtest.efi');
  assert.equal(
    bootSourceOf('\\EFI\\Microsoft\\Boot\\Fonts\\wgl4_boot.ttf'),
    '/Windows/Boot/Fonts/wgl4_boot.ttf',
  );
  assert.equal(bootSourceOf('\\Boot\\memtest.exe'), '/Windows/Boot/PCAT/memtest.exe');
  assert.equal(bootSourceOf('\\Boot\\BCD'), null);
  assert.equal(bootSourceOf('\\EFI\\Microsoft\\Boot\\BCD.LOG1'), null);
  assert.equal(bootSourceOf('\\Users\\x.txt'), null);
});

test('no twin among the names (record unreadable, names lost): WinSxS is searched by name within a bound', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  // partmgr's component (microsoft-windows-partitionmanager) does not contain the stem: the wide pass finds it.
  const d = driver(disk, 'partmgr.sys');
  const { dir, cleanup } = tempDir();
  try {
    const copy = copyDisk(disk, dir);
    const fault = inject.tornRecord(copy, d.path);
    fault.confirm();
    const r = await withVolume(disk, copy.image, (vol) =>
      findRestoreCandidates(
        vol,
        { path: win(d.path), record: fault.record, names: [], version: null, volume: 'windows' },
        { trust: testRoot },
      ),
    );
    assertOracle(r, disk, copy.image, d.older.path, d.older.sha256, 'partmgr.sys without names');
    assert.match(r.rejected.find((x) => x.path === d.winSxS)?.reason ?? '', /same MFT record/);
    assert.match(r.rejected.find((x) => x.path === d.deltaOnly.folder)?.reason ?? '', /delta-only/);
    const scanned = r.notes.find((n) => /searched \d+ amd64 component folders/.test(n));
    const folders = disk.manifest.windows.tree.components.length;
    assert.ok(scanned, r.notes.join(' | '));
    assert.ok(Number(/searched (\d+)/.exec(scanned)![1]) <= folders, `${scanned} of ${folders}`);
  } finally {
    cleanup();
  }
});

test(
  'real flavour: acpi.sys restored from the Microsoft-signed driver store copy without any trust root',
  { skip: sharedSkip() },
  async () => {
    const disk = await buildDisk({ gen: 2, flavour: 'real' });
    const d = driver(disk, 'acpi.sys');
    assert.equal(d.signedBy, 'microsoft');
    const { dir, cleanup } = tempDir();
    try {
      const copy = copyDisk(disk, dir);
      const fault = inject.tornRecord(copy, d.path);
      fault.confirm();
      const r = await withVolume(disk, copy.image, (vol) =>
        findRestoreCandidates(vol, targetOf(disk, d, fault.record), { trust: noRoots }),
      );
      assertOracle(r, disk, copy.image, d.driverStore!, d.sha256, 'acpi.sys (real)');
      assert.equal(r.chosen!.version, d.version);
      assert.match(r.chosen!.evidence, /Microsoft/);
      // The older copy is ours, signed by the test CA: not trusted without --trust-root.
      assert.match(r.rejected.find((x) => x.path === d.older.path)?.reason ?? '', /signature check/);
    } finally {
      cleanup();
    }
  },
);

/** Directory names sleuthkit lists directly under `path` of the fixture's Windows volume. */
function flsDirs(image: string, offset: number, path: string): string[] {
  const sectors = String(offset / 512);
  const inode = run('ifind', ['-o', sectors, '-n', path, image]).toString().trim();
  return run('fls', ['-D', '-o', sectors, image, inode])
    .toString()
    .split('\n')
    .map((l) => /^d\/d \d+(?:-\d+-\d+)?:\t(.*)$/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

test('a prefix listing walks only part of the $I30 B+ tree and finds exactly the folders sleuthkit lists with that prefix', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const w = disk.manifest.windows;
  const all = flsDirs(disk.raw, w.start, '/Windows/WinSxS');
  assert.ok(all.length > 100, `${all.length} folders`);
  const prefixes = [
    ...disk.manifest.windows.tree.drivers.map((d) => `amd64_${d.component}_31bf3856ad364e35_`),
    'AMD64_DUAL_',
    'amd64_microsoft-windows-',
    'amd64_microsoft-windows-b..',
    'amd64_dual_acpi.inf_31bf3856ad364e35_10.0.17763.1_',
    'x86_',
    'Temp',
    'zzz',
    '',
  ];
  const dev = await FileDevice.open(disk.raw, { readOnly: true });
  try {
    for (const prefix of prefixes) {
      const counted = new CountingDevice(new WindowDevice(dev, w.start, w.size));
      const vol = await openNtfs(counted);
      await vol.lookup('/Windows/WinSxS');
      const before = counted.bytesRead;
      const got = await listDirs(vol, '/Windows/WinSxS', [], prefix);
      const read = counted.bytesRead - before;
      const want = all.filter((n) => n.toUpperCase().startsWith(prefix.toUpperCase())).sort();
      assert.deepEqual(got?.map((f) => f.name).sort(), want, `prefix "${prefix}"`);
      if (prefix === 'AMD64_DUAL_') assert.equal(want.length, 18, 'six dual_*.inf families of three folders');
      // A family's folders sit in one or two leaves: less than the whole index is read.
      if (prefix.endsWith('35_')) {
        const full = new CountingDevice(new WindowDevice(dev, w.start, w.size));
        const fullVol = await openNtfs(full);
        await fullVol.lookup('/Windows/WinSxS');
        const start = full.bytesRead;
        await listDirs(fullVol, '/Windows/WinSxS', []);
        assert.ok(read < full.bytesRead - start, `"${prefix}": ${read} bytes vs ${full.bytesRead - start}`);
      }
    }
  } finally {
    await dev.close();
  }
});

test('damage in the stores is reported, not thrown: a torn component folder is rejected, a torn WinSxS leaves the driver store', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const d = driver(disk, 'disk.sys');
  const olderFolder = d.older.path.slice(0, d.older.path.lastIndexOf('/'));
  const { dir, cleanup } = tempDir();
  try {
    const copy = copyDisk(disk, dir);
    const torn = inject.tornRecord(copy, d.path);
    torn.confirm();
    const target = targetOf(disk, d, torn.record);
    inject.tornRecord(copy, olderFolder).confirm();
    const r1 = await withVolume(disk, copy.image, (vol) =>
      findRestoreCandidates(vol, target, { trust: testRoot }),
    );
    assert.equal(r1.chosen?.path, d.driverStore);
    assert.match(r1.rejected.find((x) => x.path === olderFolder)?.reason ?? '(none)', /folder unreadable/);
    assert.ok(!r1.candidates.some((c) => c.path === d.older.path), 'the torn folder offers nothing');

    inject.tornRecord(copy, '/Windows/WinSxS').confirm();
    const r2 = await withVolume(disk, copy.image, (vol) =>
      findRestoreCandidates(vol, target, { trust: testRoot }),
    );
    assert.equal(r2.chosen?.path, d.driverStore);
    assert.deepEqual(
      r2.candidates.map((c) => c.source),
      ['driverstore'],
    );
    assert.ok(
      r2.notes.some((n) => /\/Windows\/WinSxS cannot be listed/.test(n)),
      r2.notes.join(' | '),
    );
  } finally {
    cleanup();
  }
});
