// Built disks judged by independent tools: sfdisk/mmls (layout), sleuthkit fls/istat/icat/fsstat (NTFS tree,
// hard links, content, geometry), ntfsresize (cluster accounting), mtools + fsck.fat (ESP), qemu-img
// (containers), osslsigncode (signatures), and the Windows-made files of ../shared/testdata.
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDisk, extractWindowsVolume, type BuiltDisk } from '../fixtures/factory.js';
import { ensureSigningKeys, verifySignature } from '../fixtures/signing.js';
import { FIXTURES_DIR } from '../fixtures/cache.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { run, runStatus, sha256, tempDir } from '../helpers/tools.js';
import { flsTree, icat, istat, ntfslsTree, STUB_HIVES } from './oracles.js';

const skipReal = sharedSkip();

function checkLayout(d: BuiltDisk): void {
  const j = JSON.parse(run('sfdisk', ['--json', d.raw]).toString()).partitiontable;
  const l = d.manifest.layout;
  assert.equal(j.label, l.scheme === 'mbr' ? 'dos' : 'gpt');
  assert.equal(j.id.toLowerCase(), l.diskId.toLowerCase());
  assert.equal(j.partitions.length, l.partitions.length);
  l.partitions.forEach((p, i) => {
    const s = j.partitions[i];
    assert.equal(s.start * 512, p.start, `partition ${p.index} start`);
    assert.equal(s.size * 512, p.size, `partition ${p.index} size`);
    assert.equal(String(s.type).toUpperCase(), p.type.toUpperCase());
    if (p.uuid) assert.equal(s.uuid, p.uuid);
    if (p.name) assert.equal(s.name, p.name);
    if (l.scheme === 'mbr') assert.equal(Boolean(s.bootable), Boolean(p.active));
    assert.equal(p.start % (1 << 20), 0, '1 MiB aligned');
  });
  assert.equal(l.sizeBytes % (1 << 20), 0);
}

function checkTree(d: BuiltDisk): Map<string, { inode: number }> {
  const w = d.manifest.windows;
  const fls = flsTree(d.raw, w.start);
  for (const f of w.tree.files) assert.ok(fls.has(f.path), `fls lists ${f.path}`);
  // The record type (after '/') is what counts: sleuthkit prints '-/d' for some names whose index records
  // are smaller than a cluster (64 KiB clusters).
  for (const dir of w.tree.dirs) assert.match(fls.get(dir)?.type ?? '', /\/d$/, `fls lists directory ${dir}`);
  // Each hard-link group is one record; different groups and plain files are different records.
  for (const g of w.tree.hardLinks) {
    const inodes = new Set(g.map((p) => fls.get(p)!.inode));
    assert.equal(inodes.size, 1, `one record for ${g.join(', ')}`);
  }
  return fls;
}

function checkDrivers(d: BuiltDisk, fls: Map<string, { inode: number }>): void {
  const w = d.manifest.windows;
  for (const drv of w.tree.drivers) {
    const live = fls.get(drv.path)!.inode;
    assert.equal(fls.get(drv.winSxS)!.inode, live, `${drv.name}: WinSxS twin is the same record`);
    assert.notEqual(fls.get(drv.older.path)!.inode, live, `${drv.name}: older version is its own file`);
    const text = istat(d.raw, w.start, live);
    assert.match(text, /^Links: 2$/m);
    const parents = [...text.matchAll(/Parent MFT Entry: (\d+)/g)]
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const want = [
      fls.get('/Windows/System32/drivers')!.inode,
      fls.get(drv.winSxS.replace(/\/[^/]+$/, ''))!.inode,
    ];
    assert.deepEqual(
      parents,
      want.sort((a, b) => a - b),
      `${drv.name}: $FILE_NAME parents`,
    );
    assert.equal(sha256(icat(d.raw, w.start, live)), drv.sha256, `${drv.name}: icat content`);
  }
}

/** The ESP through mtools (listing and every file's bytes) and fsck.fat on the cut-out partition. */
function checkEsp(d: BuiltDisk, dir: string): void {
  const esp = d.manifest.layout.partitions[0]!;
  const mdir = run('env', [
    'MTOOLS_SKIP_CHECK=1',
    'mdir',
    '-/',
    '-b',
    '-i',
    `${d.raw}@@${esp.start}`,
    '::/',
  ]).toString();
  for (const f of d.manifest.boot.files)
    assert.ok(mdir.toLowerCase().includes(`::${f.path.toLowerCase()}`), `mdir lists ${f.path}`);
  for (const f of d.manifest.boot.files) {
    const out = join(dir, 'out.bin');
    const r = runStatus('env', [
      'MTOOLS_SKIP_CHECK=1',
      'mcopy',
      '-n',
      '-i',
      `${d.raw}@@${esp.start}`,
      `::${f.path}`,
      out,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sha256(readFileSync(out)), f.sha256, f.path);
  }
  const espImg = join(dir, 'esp.img');
  run('dd', [
    `if=${d.raw}`,
    `of=${espImg}`,
    'bs=1M',
    `skip=${esp.start >> 20}`,
    `count=${esp.size >> 20}`,
    'status=none',
  ]);
  const fsck = runStatus('fsck.fat', ['-n', espImg]);
  assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
}

/** System Reserved: its own NTFS volume, listing every boot file with the bytes the manifest records. */
function checkSystemReserved(d: BuiltDisk): Map<string, { inode: number }> {
  const sr = d.manifest.layout.partitions[0]!;
  assert.equal(sr.role, 'system-reserved');
  const tree = flsTree(d.raw, sr.start);
  for (const f of d.manifest.boot.files) {
    assert.ok(tree.has(f.path), `System Reserved has ${f.path}`);
    assert.equal(sha256(icat(d.raw, sr.start, tree.get(f.path)!.inode)), f.sha256, f.path);
  }
  assert.match(
    run('fsstat', ['-o', String(sr.start / 512), d.raw]).toString(),
    /Volume Name: System Reserved/,
  );
  return tree;
}

function checkNtfsresize(d: BuiltDisk, dir: string): void {
  const vol = extractWindowsVolume(d, join(dir, 'windows.img'));
  const r = runStatus('ntfsresize', ['-i', '-f', '-P', vol.image]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /accounting failed/i);
}

function checkGeometry(d: BuiltDisk): void {
  const g = d.manifest.windows.geometry;
  const out = run('fsstat', ['-o', String(d.manifest.windows.start / 512), d.raw]).toString();
  assert.match(out, /File System Type: NTFS/);
  assert.equal(Number(/Cluster Size: (\d+)/.exec(out)?.[1]), g.clusterSize);
  assert.equal(Number(/Sector Size: (\d+)/.exec(out)?.[1]), g.bytesPerSector);
  assert.equal(Number(/First Cluster of MFT: (\d+)/.exec(out)?.[1]), g.mftLcn);
  assert.equal(Number(/First Cluster of MFT Mirror: (\d+)/.exec(out)?.[1]), g.mftMirrLcn);
  assert.match(out, new RegExp(`Volume Name: Windows`));
}

test(
  'Gen1 real: MBR layout, System Reserved with the Windows BCD, Microsoft drivers hard-linked',
  { skip: skipReal },
  async () => {
    const t = tempDir();
    try {
      const d = await buildDisk({ gen: 1, flavour: 'real' });
      checkLayout(d);
      checkGeometry(d);
      const fls = checkTree(d);
      checkDrivers(d, fls);
      const ms = d.manifest.windows.tree.drivers.filter((x) => x.source === 'microsoft');
      assert.deepEqual(ms.map((x) => x.name).sort(), ['WdBoot.sys', 'acpi.sys', 'amdi2c.sys', 'amdxata.sys']);
      for (const x of ms) assert.equal(x.sha256, sha256(readFileSync(testdataFile(`pe/${x.name}`))));
      const system = fls.get('/Windows/System32/config/SYSTEM')!.inode;
      assert.deepEqual(
        icat(d.raw, d.manifest.windows.start, system),
        readFileSync(testdataFile('hives/SYSTEM.xz')),
      );
      // System Reserved: its own NTFS volume with bootmgr and \Boot\BCD (the BIOS store from testdata).
      const sr = d.manifest.layout.partitions[0]!;
      const srTree = checkSystemReserved(d);
      const bcd = icat(d.raw, sr.start, srTree.get('/Boot/BCD')!.inode);
      assert.deepEqual(bcd, readFileSync(testdataFile('hives/BCD-bios.xz')));
      checkNtfsresize(d, t.dir);
    } finally {
      t.cleanup();
    }
  },
);

test(
  'Gen2 real: GPT with ESP (mtools, fsck.fat), MSR and Windows; containers equal the raw disk',
  { skip: skipReal },
  async () => {
    const t = tempDir();
    try {
      const d = await buildDisk({ gen: 2, flavour: 'real', formats: ['vhd', 'vhd-dynamic', 'vhdx'] });
      checkLayout(d);
      const fls = checkTree(d);
      checkDrivers(d, fls);
      checkEsp(d, t.dir);
      assert.equal(
        d.manifest.boot.files[0]!.sha256,
        sha256(readFileSync(testdataFile('hives/BCD-uefi-win10.xz'))),
      );
      for (const [path, fmt] of [
        [d.vhd!, 'vpc'],
        [d.vhdDynamic!, 'vpc'],
        [d.vhdx!, 'vhdx'],
      ] as const) {
        const info = JSON.parse(run('qemu-img', ['info', '--output=json', '-f', fmt, path]).toString());
        assert.equal(info['virtual-size'], d.manifest.layout.sizeBytes, `${path} virtual size`);
        const cmp = runStatus('qemu-img', ['compare', '-f', 'raw', '-F', fmt, d.raw, path]);
        assert.equal(cmp.status, 0, `qemu-img compare ${path}: ${cmp.stdout}${cmp.stderr}`);
      }
      // Fixed VHD: the raw image plus a 512-byte footer, as Azure wants.
      assert.equal(readFileSync(d.vhd!).length, d.manifest.layout.sizeBytes + 512);
      checkNtfsresize(d, t.dir);
    } finally {
      t.cleanup();
    }
  },
);

test('synthetic flavour: only our PE files, all signed by the test CA; extra files and 64 KiB clusters', async () => {
  const t = tempDir();
  try {
    const d = await buildDisk({
      gen: 2,
      flavour: 'synthetic',
      hives: STUB_HIVES,
      clusterSize: 65536,
      sizeMiB: 192,
      fillerComponents: 20,
      extraFiles: [
        { path: 'Windows/System32/drivers/extra.sys', data: 'not really a driver' },
        { path: 'Windows/extra-link.sys', hardLinkOf: 'Windows/System32/drivers/extra.sys' },
      ],
    });
    assert.equal(d.manifest.windows.geometry.clusterSize, 65536);
    checkGeometry(d);
    const fls = checkTree(d);
    checkDrivers(d, fls);
    assert.equal(
      fls.get('/Windows/extra-link.sys')!.inode,
      fls.get('/Windows/System32/drivers/extra.sys')!.inode,
    );
    const keys = ensureSigningKeys(FIXTURES_DIR);
    const w = d.manifest.windows;
    assert.ok(w.tree.drivers.every((x) => x.source === 'synthetic' && x.signedBy === 'test-ca'));
    for (const drv of w.tree.drivers.slice(0, 4)) {
      const file = join(t.dir, drv.name);
      writeFileSync(file, icat(d.raw, w.start, fls.get(drv.path)!.inode));
      const v = verifySignature(file, keys);
      assert.equal(v.ok, true, `${drv.name}: ${v.output}`);
    }
    const system = icat(d.raw, w.start, fls.get('/Windows/System32/config/SYSTEM')!.inode).toString();
    assert.match(system, /stub SYSTEM for acpi\.sys,/);
    checkNtfsresize(d, t.dir);
  } finally {
    t.cleanup();
  }
});

test('geometry: mkntfs -s 4096 gives a 4 KiB-sector volume that sleuthkit and ntfs-3g read', async () => {
  const t = tempDir();
  try {
    const d = await buildDisk({
      gen: 1,
      flavour: 'synthetic',
      hives: STUB_HIVES,
      sectorSize: 4096,
      sizeMiB: 160,
    });
    const g = d.manifest.windows.geometry;
    assert.equal(g.bytesPerSector, 4096);
    assert.equal(g.hiddenSectors * 4096, d.manifest.windows.start);
    checkLayout(d);
    checkSystemReserved(d);
    checkGeometry(d);
    checkDrivers(d, checkTree(d));
    checkNtfsresize(d, t.dir);
  } finally {
    t.cleanup();
  }
});

test('geometry: mkntfs -c 2 MiB (beyond sleuthkit) is checked with ntfs-3g: tree, hard links, content', async () => {
  const t = tempDir();
  try {
    const d = await buildDisk({
      gen: 1,
      flavour: 'synthetic',
      hives: STUB_HIVES,
      clusterSize: 2 * 1024 * 1024,
      sizeMiB: 640,
      fillerComponents: 0,
    });
    const w = d.manifest.windows;
    assert.equal(w.geometry.clusterSize, 2 * 1024 * 1024);
    const vol = extractWindowsVolume(d, join(t.dir, 'windows.img'));
    const { files, dirs } = ntfslsTree(vol.image);
    for (const f of w.tree.files) assert.ok(files.has(f.path), `ntfsls lists ${f.path}`);
    for (const dir of w.tree.dirs) assert.ok(dirs.has(dir), `ntfsls descends into ${dir}`);
    for (const g of w.tree.hardLinks) assert.equal(new Set(g.map((p) => files.get(p))).size, 1, g[0]);
    for (const drv of w.tree.drivers.slice(0, 5)) {
      assert.equal(sha256(run('ntfscat', [vol.image, drv.path])), drv.sha256, drv.name);
      assert.equal(sha256(run('ntfscat', [vol.image, drv.winSxS])), drv.sha256, drv.winSxS);
    }
    const r = runStatus('ntfsresize', ['-i', '-f', '-P', vol.image]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  } finally {
    t.cleanup();
  }
});

test('real flavour without ../shared/testdata fails with a clear message', () => {
  const factory = join(process.cwd(), 'test/fixtures/factory.ts');
  const script = `import('${factory}').then((m) => m.buildDisk({ gen: 1, flavour: 'real' })).then(() => process.exit(3), (e) => { console.error(e.message); process.exit(1); });`;
  // The child sees no testdata because WINRESCUE_TESTDATA points nowhere.
  const r = spawnSync('node', ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, WINRESCUE_TESTDATA: '/nonexistent/testdata' },
  });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /real flavour needs the Windows-made files of \.\.\/shared\/testdata, not found at \/nonexistent\/testdata/,
  );
});
