// Partition tables laid out by sfdisk / fdisk and by Windows: our listing must equal sfdisk's and mmls'.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { FileDevice } from '../../src/disk/file-device.js';
import { MemoryDevice } from '../../src/disk/memory-device.js';
import { readPartitions, generation } from '../../src/partition/index.js';
import { run, tempDir } from '../helpers/tools.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  fdisk4kImage,
  fdiskDump,
  mmlsExtents,
  ours,
  sfdiskImage,
  sfdiskJson,
  type OracleTable,
} from './helpers.js';

const tmp = tempDir('winrescue-partition-');
after(() => tmp.cleanup());

async function compare(path: string, oracle: OracleTable, sectorSize = 512) {
  const dev = await FileDevice.open(path, { readOnly: true, sectorSize });
  try {
    const table = await readPartitions(dev);
    assert.equal(table.scheme, oracle.label === 'dos' ? 'mbr' : 'gpt');
    assert.equal(table.sectorSize, oracle.sectorSize);
    assert.deepEqual(ours(table.partitions), oracle.partitions);
    if (table.scheme === 'mbr')
      assert.equal('0x' + table.diskSignature!.toString(16).padStart(8, '0'), oracle.id);
    else assert.equal(table.diskGuid, oracle.id);
    assert.deepEqual(table.warnings, []);
    // mmls lists the volumes (not the extended containers) with the same extents.
    const volumes = table.partitions.filter((p) => p.extended !== true).map((p) => [p.start, p.size]);
    assert.deepEqual(
      volumes.sort((a, b) => a[0]! - b[0]!),
      mmlsExtents(path, oracle.sectorSize),
    );
    for (const p of table.partitions) {
      assert.equal(p.device.size, p.size);
      assert.deepEqual(await p.device.read(0, 16), await dev.read(p.start, 16));
    }
    return table;
  } finally {
    await dev.close();
  }
}

test('MBR with primary partitions, an empty first slot and a bootable flag equals sfdisk', async () => {
  const img = sfdiskImage(
    tmp.dir,
    'mbr-primary.img',
    64,
    'label: dos\nlabel-id: 0xdeadbeef\n2: start=2048, size=20480, type=7, bootable\n3: size=8M, type=c\n4: type=83\n',
  );
  const oracle = sfdiskJson(img);
  assert.deepEqual(
    oracle.partitions.map((p) => p.index),
    [2, 3, 4],
  );
  const table = await compare(img, oracle);
  assert.equal(table.diskSignature, 0xdeadbeef);
  assert.equal(table.partitions[0]!.typeName, 'HPFS/NTFS/exFAT');
  assert.equal(table.partitions[0]!.bootable, true);
  assert.equal(table.partitions[1]!.bootable, false);
  assert.equal(generation(table), 1);
});

test('MBR with an extended partition holding 3 logical partitions equals sfdisk (logicals numbered 5, 6, 7)', async () => {
  for (const extType of ['5', 'f', '85']) {
    const img = sfdiskImage(
      tmp.dir,
      `mbr-ext-${extType}.img`,
      100,
      `label: dos\n1: size=20M, type=7, bootable\n2: size=10M, type=c\n3: type=${extType}\n5: size=10M, type=7\n6: size=12M, type=83\n7: type=b\n`,
    );
    const oracle = sfdiskJson(img);
    assert.deepEqual(
      oracle.partitions.map((p) => p.index),
      [1, 2, 3, 5, 6, 7],
    );
    const table = await compare(img, oracle);
    const ext = table.partitions.find((p) => p.index === 3)!;
    assert.equal(ext.extended, true);
    assert.equal(ext.type, '0x' + extType.padStart(2, '0'));
  }
});

test('GPT with ESP, MSR and basic data with names equals sfdisk; generation 2', async () => {
  const img = sfdiskImage(
    tmp.dir,
    'gpt.img',
    100,
    'label: gpt\nlabel-id: 1D0C3F2E-8B7A-4C65-9E21-0123456789AB\n' +
      'size=20M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system partition"\n' +
      'size=16M, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE, name="Microsoft reserved partition"\n' +
      'type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Basic data partition", attrs="GUID:63"\n',
  );
  const oracle = sfdiskJson(img);
  const table = await compare(img, oracle);
  assert.equal(table.gptSource, 'primary');
  assert.deepEqual(
    table.partitions.map((p) => p.typeName),
    ['EFI System', 'Microsoft reserved', 'Microsoft basic data'],
  );
  assert.equal(table.partitions[2]!.attributes, '0x8000000000000000');
  assert.equal(generation(table), 2);
});

test('GPT with holes in the entry array, attribute bits and a non-ASCII name equals sfdisk', async () => {
  const img = sfdiskImage(
    tmp.dir,
    'gpt-holes.img',
    64,
    'label: gpt\n' +
      '2: size=4M, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, attrs="RequiredPartition LegacyBIOSBootable GUID:48,60"\n' +
      '7: size=4M, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Données ☃ 36 caractères max_________"\n' +
      '128: size=4M, type=DE94BBA4-06D1-4D40-A16A-BFD50179D6AC, name="Recovery"\n',
  );
  const oracle = sfdiskJson(img);
  assert.deepEqual(
    oracle.partitions.map((p) => p.index),
    [2, 7, 128],
  );
  const table = await compare(img, oracle);
  assert.equal(table.partitions[0]!.attributes, '0x1001000000000005');
  assert.equal(generation(table), null, 'no EFI System partition');
});

test('GPT on 4096-byte sectors (fdisk -b 4096) equals fdisk, on a 4096 device and on one reporting 512', async () => {
  const img = fdisk4kImage(
    tmp.dir,
    'gpt4k.img',
    100,
    'label: gpt\n' +
      'size=20M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI"\n' +
      'size=16M, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE, name="MSR"\n' +
      'type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Windows"\n',
  );
  const oracle = fdiskDump(img, 4096);
  assert.equal(oracle.sectorSize, 4096);
  await compare(img, oracle, 4096);
  // A 4Kn VHDX may report 512: the table is still found, with a note saying so.
  const dev = await FileDevice.open(img, { readOnly: true, sectorSize: 512 });
  const table = await readPartitions(dev);
  await dev.close();
  assert.equal(table.sectorSize, 4096);
  assert.deepEqual(ours(table.partitions), oracle.partitions);
  assert.match(table.warnings.join('\n'), /4096-byte blocks on a device that reports 512/);
});

test('MBR on 4096-byte sectors (fdisk -b 4096) equals fdisk', async () => {
  const img = fdisk4kImage(
    tmp.dir,
    'mbr4k.img',
    64,
    'label: dos\n1: size=16M, type=7, bootable\n2: type=5\n5: size=8M, type=c\n6: type=7\n',
  );
  await compare(img, fdiskDump(img, 4096), 4096);
});

test(
  'Windows-made MBR disk (windows-mbr-ntfs-index.raw): NTFS at sector 128 as sfdisk says',
  { skip: sharedSkip() },
  async () => {
    const path = testdataFile('ntfs/windows-mbr-ntfs-index.raw.gz');
    const oracle = sfdiskJson(path);
    const table = await compare(path, oracle);
    assert.equal(table.partitions[0]!.start, 128 * 512);
    assert.equal(table.partitions[0]!.type, '0x07');
  },
);

test(
  'Windows-made VHD and VHDX: the disk inside equals sfdisk on the same bytes',
  { skip: sharedSkip() },
  async () => {
    // Fixed VHD: the data region is the file minus its 512-byte footer.
    const fixed = readFileSync(testdataFile('vhd/fixed.vhd.gz'));
    const disk = new MemoryDevice(new Uint8Array(fixed.buffer, fixed.byteOffset, fixed.length - 512));
    const raw = join(tmp.dir, 'fixed-vhd.raw');
    run('sh', ['-c', `head -c ${fixed.length - 512} "$0" > "$1"`, testdataFile('vhd/fixed.vhd.gz'), raw]);
    const oracle = sfdiskJson(raw);
    const table = await readPartitions(disk);
    assert.equal(table.scheme, 'mbr');
    assert.deepEqual(ours(table.partitions), oracle.partitions);
    assert.equal(table.partitions[0]!.start, 128 * 512);
    // Dynamic VHD and VHDX: qemu-img (an independent reader) unpacks them to raw first.
    for (const [file, format] of [
      ['vhd/dynamic.vhd.gz', 'vpc'],
      ['vhd/fixed.vhdx.gz', 'vhdx'],
      ['vhd/dynamic.vhdx.gz', 'vhdx'],
    ] as const) {
      const out = join(tmp.dir, file.replace(/\W/g, '_') + '.raw');
      run('qemu-img', ['convert', '-f', format, '-O', 'raw', testdataFile(file), out]);
      const o = sfdiskJson(out);
      assert.ok(o.partitions.length > 0, file);
      await compare(out, o);
    }
  },
);
