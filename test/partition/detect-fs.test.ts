// Filesystem detection on volumes made by mkntfs and mkfs.fat, Windows-made boot sectors, hand-built BitLocker
// and exFAT headers, and random bytes. FAT labels are judged by mtools' mlabel and dosfstools' fatlabel.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FileDevice } from '../../src/disk/file-device.js';
import { MemoryDevice } from '../../src/disk/memory-device.js';
import { detectFilesystem, readPartitions, sniffBootSector } from '../../src/partition/index.js';
import { run, runStatus, tempDir } from '../helpers/tools.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { patch, readBytes, sfdiskImage, sparse } from './helpers.js';

const tmp = tempDir('winrescue-detect-fs-');
after(() => tmp.cleanup());

async function detectFile(path: string) {
  const dev = await FileDevice.open(path, { readOnly: true });
  try {
    return { fs: await detectFilesystem(dev), table: await readPartitions(dev) };
  } finally {
    await dev.close();
  }
}

/** The label as mtools sees it (root directory entry first, as Windows does), or undefined. */
function mlabel(image: string): string | undefined {
  const out = run('mlabel', ['-s', '-i', image, '::']).toString();
  const m = /Volume label is (.*)$/m.exec(out);
  return m ? m[1]!.trimEnd() : undefined;
}

function fatlabel(image: string): string {
  return run('fatlabel', [image]).toString().trim();
}

test('mkntfs volume: ntfs, and a bare volume has scheme none', async () => {
  const img = join(tmp.dir, 'ntfs.img');
  sparse(img, 16 * 1024 * 1024);
  run('mkntfs', ['-F', '-Q', '-q', '-L', 'WINDOWS', img]);
  const { fs, table } = await detectFile(img);
  assert.deepEqual(fs, { filesystem: 'ntfs' }, 'NTFS labels come from $Volume, not from here');
  assert.equal(table.scheme, 'none');
  assert.deepEqual(table.partitions, []);
  assert.deepEqual(table.warnings, []);
});

for (const [fat, mib, extra] of [
  ['12', 4, []],
  ['16', 32, []],
  ['32', 40, ['-s', '1']],
  // 4096-byte sectors need 65525 clusters of one sector to be a proper FAT32 (mtools insists): 300 MiB, sparse.
  ['32', 300, ['-S', '4096', '-s', '1']],
] as const) {
  test(`mkfs.fat -F ${fat} ${extra.join(' ')}: fat${fat}, label equals mlabel and fatlabel`, async () => {
    const img = join(tmp.dir, `fat${fat}-${mib}.img`);
    sparse(img, mib * 1024 * 1024);
    const label = `LBL${fat}_${mib}`;
    run('mkfs.fat', ['-F', fat, ...extra, '-n', label, img]);
    assert.equal(runStatus('fsck.fat', ['-n', img]).status, 0);
    const { fs, table } = await detectFile(img);
    assert.equal(fs.filesystem, `fat${fat}`);
    assert.equal(fs.label, mlabel(img));
    assert.equal(fs.label, fatlabel(img));
    assert.equal(fs.label, label);
    assert.equal(table.scheme, 'none');
  });
}

test('FAT without a label: no label, as mlabel says', async () => {
  const img = join(tmp.dir, 'nolabel.img');
  sparse(img, 8 * 1024 * 1024);
  run('mkfs.fat', ['-F', '16', '-s', '1', img]);
  assert.equal(mlabel(img), undefined);
  const { fs } = await detectFile(img);
  assert.deepEqual(fs, { filesystem: 'fat16' });
});

test('FAT32 label entry in the second root cluster, and a stale BPB label: the root entry wins', async () => {
  const img = join(tmp.dir, 'late-label.img');
  sparse(img, 40 * 1024 * 1024);
  run('mkfs.fat', ['-F', '32', '-s', '1', '-n', 'OLDLABEL', img]);
  const files = Array.from({ length: 24 }, (_, i) => {
    const f = join(tmp.dir, `file${i}.txt`);
    run('sh', ['-c', `echo ${i} > "$0"`, f]);
    return f;
  });
  run('mlabel', ['-c', '-i', img, '::']); // clear, so the new label entry goes after the files
  run('mcopy', ['-i', img, ...files, '::']);
  run('mlabel', ['-i', img, '::LATELABEL']);
  patch(img, 71, new TextEncoder().encode('STALE BPB  ')); // the BPB copy disagrees
  assert.equal(mlabel(img), 'LATELABEL');
  // The first root cluster (cluster 2, 512 bytes) holds no volume-id entry: the chain must be followed.
  const boot = readBytes(img, 0, 512);
  const dv = new DataView(boot.buffer);
  const rootAt = (dv.getUint16(14, true) + boot[16]! * dv.getUint32(36, true)) * 512;
  const first = readBytes(img, rootAt, 512);
  for (let o = 0; o < 512; o += 32) assert.notEqual(first[o + 11]! & 0x1f, 0x08);
  const { fs } = await detectFile(img);
  assert.deepEqual(fs, { filesystem: 'fat32', label: 'LATELABEL' });
});

test('GPT disk: FAT32 ESP (mkfs.fat --offset) and NTFS data partition detected through their windows', async () => {
  const img = sfdiskImage(
    tmp.dir,
    'gpt-fs.img',
    100,
    'label: gpt\nsize=40M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nsize=16M, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE\ntype=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n',
  );
  const dev = await FileDevice.open(img);
  try {
    let table = await readPartitions(dev);
    const [esp, , data] = table.partitions;
    run('mkfs.fat', [
      '-F',
      '32',
      '-s',
      '1',
      '-n',
      'SYSTEM',
      '--offset',
      String(esp!.start / 512),
      img,
      String(esp!.size / 1024),
    ]);
    const vol = join(tmp.dir, 'data.ntfs');
    sparse(vol, data!.size);
    run('mkntfs', ['-F', '-Q', '-q', '-p', String(data!.start / 512), '-H', '255', '-S', '63', vol]);
    run('dd', [
      `if=${vol}`,
      `of=${img}`,
      'bs=1M',
      `seek=${data!.start / (1024 * 1024)}`,
      'conv=notrunc,sparse',
      'status=none',
    ]);
    table = await readPartitions(dev);
    const found = await Promise.all(table.partitions.map((p) => detectFilesystem(p)));
    assert.deepEqual(found, [
      { filesystem: 'fat32', label: 'SYSTEM' },
      { filesystem: 'unknown' },
      { filesystem: 'ntfs' },
    ]);
    assert.equal(found[0]!.label, mlabel(`${img}@@${esp!.start}`));
  } finally {
    await dev.close();
  }
});

test('BitLocker and exFAT boot sectors (built by hand: only the signature matters), bare and in a partition', async () => {
  for (const [oem, fs] of [
    ['-FVE-FS-', 'bitlocker'],
    ['EXFAT   ', 'exfat'],
  ] as const) {
    const sector = new Uint8Array(512);
    sector.set([0xeb, 0x58, 0x90]);
    sector.set(new TextEncoder().encode(oem), 3);
    sector.set([0x55, 0xaa], 510);
    assert.equal(sniffBootSector(sector), fs);
    const bare = new MemoryDevice(new Uint8Array(1 << 20));
    bare.bytes.set(sector, 0);
    assert.deepEqual(await detectFilesystem(bare), { filesystem: fs });
    assert.equal((await readPartitions(bare)).scheme, 'none');
  }
});

test('random bytes and blank sectors are unknown, even with a FAT jump instruction', () => {
  assert.equal(sniffBootSector(new Uint8Array(512)), 'unknown');
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 512, maxLength: 512 }), fc.boolean(), (bytes, jump) => {
      if (jump) bytes.set([0xeb, 0x3c, 0x90]);
      assert.equal(sniffBootSector(bytes), 'unknown');
    }),
    { numRuns: 3000 },
  );
});

test('single BPB faults turn a valid FAT boot sector into unknown', async () => {
  const img = join(tmp.dir, 'fault.img');
  sparse(img, 4 * 1024 * 1024);
  run('mkfs.fat', ['-F', '16', '-s', '1', img]);
  const good = readBytes(img, 0, 512);
  assert.equal(sniffBootSector(good), 'fat16');
  const faults: [number, number[]][] = [
    [0, [0x00]], // no jump
    [11, [0x00, 0x03]], // 768 bytes per sector
    [13, [3]], // 3 sectors per cluster
    [14, [0, 0]], // no reserved sectors
    [16, [0]], // no FAT
    [21, [0x12]], // bad media byte
    [19, [0, 0]], // total sectors 0 (16 and 32 both)
  ];
  for (const [at, bytes] of faults) {
    const s = good.slice();
    s.set(bytes, at);
    if (at === 19) s.set([0, 0, 0, 0], 32);
    assert.equal(sniffBootSector(s), 'unknown', `fault at ${at}`);
  }
});

test('Windows-made NTFS boot sectors and volumes are ntfs', { skip: sharedSkip() }, async () => {
  for (const f of ['bootsector-512.bin', 'bootsector-4k.bin', 'bootsector-64k.bin', 'bootsector-4kn.bin']) {
    const bytes = new Uint8Array(readFileSync(testdataFile(`ntfs/${f}`)));
    assert.equal(sniffBootSector(bytes), 'ntfs', f);
  }
  for (const f of ['ntfs/windows-ntfs-compressed-largedir.bin.gz', 'ntfs/windows-volume.raw.gz']) {
    const { fs, table } = await detectFile(testdataFile(f));
    assert.equal(fs.filesystem, 'ntfs', f);
    assert.equal(table.scheme, 'none', f);
  }
  const dev = await FileDevice.open(testdataFile('ntfs/windows-mbr-ntfs-index.raw.gz'), { readOnly: true });
  const table = await readPartitions(dev);
  assert.deepEqual(await detectFilesystem(table.partitions[0]!), { filesystem: 'ntfs' });
  assert.deepEqual(await detectFilesystem(dev), { filesystem: 'unknown' }, 'the MBR itself is no filesystem');
  await dev.close();
});
