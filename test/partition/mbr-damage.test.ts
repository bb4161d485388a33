// Damaged MBRs and EBR chains: each fault confirmed by sfdisk first; we list what sfdisk lists up to the fault and
// warn (lenient, the default), or throw the typed error (strict). See docs/formats/partitions.md.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FileDevice } from '../../src/disk/file-device.js';
import { MemoryDevice } from '../../src/disk/memory-device.js';
import { generation, getPartition, readPartitions, type PartitionTable } from '../../src/partition/index.js';
import { runStatus, tempDir } from '../helpers/tools.js';
import {
  copyImage,
  isCode,
  ours,
  patch,
  sfdiskImage,
  sfdiskJson,
  sfdiskStderr,
  sparse,
  type OracleTable,
} from './helpers.js';

const tmp = tempDir('winrescue-mbr-damage-');
after(() => tmp.cleanup());

const DISK_SECTORS = (64 * 1024 * 1024) / 512;
let clean: string;
let oracle: OracleTable;
/** LBAs of the three EBRs, read from sfdisk's layout: each sits 2048 sectors before its logical partition. */
let ebrs: number[];
let extStart: number;

before(() => {
  clean = sfdiskImage(
    tmp.dir,
    'clean.img',
    64,
    'label: dos\n1: size=8M, type=7, bootable\n2: type=f\n5: size=8M, type=7\n6: size=8M, type=83\n7: type=b\n',
  );
  oracle = sfdiskJson(clean);
  extStart = oracle.partitions.find((p) => p.index === 2)!.start / 512;
  ebrs = oracle.partitions.filter((p) => p.index >= 5).map((p) => p.start / 512 - 2048);
  assert.equal(ebrs[0], extStart);
});

let n = 0;
const damaged = (): string => copyImage(clean, join(tmp.dir, `d${n++}.img`));

async function read(path: string, strict = false): Promise<PartitionTable> {
  const dev = await FileDevice.open(path, { readOnly: true });
  try {
    return await readPartitions(dev, { strict });
  } finally {
    await dev.close();
  }
}

/** A 16-byte MBR entry: status, type, LBA start, sector count (CHS left zero). */
function entry(status: number, type: number, firstLba: number, sectors: number): Uint8Array {
  const e = new Uint8Array(16);
  const dv = new DataView(e.buffer);
  dv.setUint8(0, status);
  dv.setUint8(4, type);
  dv.setUint32(8, firstLba, true);
  dv.setUint32(12, sectors, true);
  return e;
}
const entryAt = (sectorLba: number, slot: number): number => sectorLba * 512 + 446 + slot * 16;

test('undamaged: all five partitions, no warnings', async () => {
  const t = await read(clean);
  assert.deepEqual(ours(t.partitions), oracle.partitions);
  assert.deepEqual(t.warnings, []);
});

test('EBR chain looping back: partitions up to the loop, a warning; strict gives partition.badMbr', async () => {
  const img = damaged();
  // The last EBR links back to the second one.
  patch(img, entryAt(ebrs[2]!, 1), entry(0, 0x05, ebrs[1]! - extStart, 2048));
  assert.match(sfdiskStderr(img), /Omitting partitions after #60/, 'sfdisk follows the loop 60 times');
  const t = await read(img);
  assert.deepEqual(ours(t.partitions), oracle.partitions, 'the logicals before the loop are all there');
  assert.equal(t.warnings.length, 1);
  assert.match(
    t.warnings[0]!,
    new RegExp(`^EBR chain loops: the EBR at 0x[0-9a-f]+ \\(LBA ${ebrs[1]}\\) was already read`),
  );
  assert.equal(t.problems[0]!.code, 'partition.badMbr');
  assert.equal(t.problems[0]!.offset, ebrs[1]! * 512);
  await assert.rejects(read(img, true), isCode('partition.badMbr'));
});

test('EBR linking to itself (relative start 0 from the first EBR)', async () => {
  const img = damaged();
  patch(img, entryAt(ebrs[0]!, 1), entry(0, 0x05, 0, 2048));
  const t = await read(img);
  assert.deepEqual(
    t.partitions.map((p) => p.index),
    [1, 2, 5],
  );
  assert.match(t.warnings.join('\n'), /EBR chain loops/);
});

test('EBR pointing past the end of the disk: logicals before it kept; strict gives partition.outOfDisk', async () => {
  const img = damaged();
  patch(img, entryAt(ebrs[1]!, 1), entry(0, 0x05, 10_000_000, 2048));
  assert.match(sfdiskStderr(img), /Failed to read extended partition table/);
  const sf = sfdiskJson(img);
  const t = await read(img);
  assert.deepEqual(ours(t.partitions), sf.partitions);
  assert.deepEqual(
    t.partitions.map((p) => p.index),
    [1, 2, 5, 6],
  );
  assert.equal(t.problems.length, 1);
  assert.equal(t.problems[0]!.code, 'partition.outOfDisk');
  assert.match(t.warnings[0]!, /^EBR at LBA 10\d+ \(0x[0-9a-f]+\) lies beyond the end of the disk/);
  await assert.rejects(read(img, true), isCode('partition.outOfDisk'));
});

test('EBR without its 0xaa55 signature: read on like sfdisk, with a warning', async () => {
  const img = damaged();
  patch(img, ebrs[1]! * 512 + 510, [0, 0]);
  assert.match(runStatus('sfdisk', ['--json', img]).stdout, /Invalid flag 0x0000 of EBR \(for partition 6\)/);
  const sf = sfdiskJson(img);
  const t = await read(img);
  assert.deepEqual(ours(t.partitions), sf.partitions);
  assert.deepEqual(ours(t.partitions), oracle.partitions);
  assert.match(t.warnings[0]!, /has no 0xaa55 signature; its entries are read anyway/);
});

test('primary partition running past the end of the disk: clipped, truncated flag, warning; strict refuses', async () => {
  const img = join(tmp.dir, 'past.img');
  sparse(img, DISK_SECTORS * 512);
  patch(img, 510, [0x55, 0xaa]);
  patch(img, entryAt(0, 0), entry(0, 0x07, 2048, 16384));
  patch(img, entryAt(0, 1), entry(0, 0x83, 18432, 999_999));
  patch(img, entryAt(0, 2), entry(0, 0x0c, 2_000_000, 100));
  const v = runStatus('sfdisk', ['--verify', img]);
  assert.match(v.stdout + v.stderr, /greater than the maximum/);
  const sf = sfdiskJson(img);
  const t = await read(img);
  // Partition 3 starts beyond the end: left out. Partition 2 is clipped to the disk.
  assert.deepEqual(
    t.partitions.map((p) => p.index),
    [1, 2],
  );
  assert.deepEqual(ours(t.partitions)[0], sf.partitions[0]);
  const p2 = t.partitions[1]!;
  assert.equal(p2.start, sf.partitions[1]!.start);
  assert.equal(p2.declaredSize, sf.partitions[1]!.size);
  assert.equal(p2.truncated, true);
  assert.equal(p2.size, DISK_SECTORS * 512 - p2.start);
  assert.equal(p2.device.size, p2.size);
  assert.deepEqual(
    t.problems.map((p) => p.code),
    ['partition.outOfDisk', 'partition.outOfDisk'],
  );
  assert.match(
    t.warnings[0]!,
    /^partition 2 .* runs \d+ bytes past the end of the disk; it is clipped to \d+ bytes$/,
  );
  assert.match(
    t.warnings[1]!,
    /^partition 3 starts at 0x[0-9a-f]+, beyond the end of the disk .*; it is left out$/,
  );
  await assert.rejects(read(img, true), isCode('partition.outOfDisk'));
});

test('overlapping primaries: listed as sfdisk lists them, with an overlap warning; strict refuses', async () => {
  const img = damaged();
  patch(img, entryAt(0, 0), entry(0x80, 0x07, 2048, 30000));
  const v = runStatus('sfdisk', ['--verify', img]);
  assert.match(v.stdout + v.stderr, /Partition 1: overlaps partition 5/);
  const t = await read(img);
  assert.deepEqual(ours(t.partitions), sfdiskJson(img).partitions);
  assert.deepEqual(
    t.problems.map((p) => p.code),
    ['partition.overlap'],
  );
  assert.match(t.warnings[0]!, /^partitions 1 and 5 overlap/);
  await assert.rejects(read(img, true), isCode('partition.overlap'));
});

test('invalid status byte: warned (the kernel would refuse the table), partitions still read as sfdisk does', async () => {
  const img = damaged();
  patch(img, entryAt(0, 0), [0x12]);
  assert.match(runStatus('blkid', ['-p', '-o', 'export', clean]).stdout, /PTTYPE=dos/);
  assert.doesNotMatch(
    runStatus('blkid', ['-p', '-o', 'export', img]).stdout,
    /PTTYPE/,
    'libblkid refuses it',
  );
  const t = await read(img);
  const sf = sfdiskJson(img);
  assert.deepEqual(ours(t.partitions), sf.partitions);
  assert.match(t.warnings[0]!, /^MBR entry 1 at 0x1be: status should be 0x00 or 0x80, is 0x12$/);
  await assert.rejects(read(img, true), isCode('partition.badMbr'));
});

test('GPT header left behind an MBR without a 0xEE entry: the MBR is used, as sfdisk does', async () => {
  const img = sfdiskImage(
    tmp.dir,
    'gpt-left.img',
    16,
    'label: gpt\ntype=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n',
  );
  patch(img, 446 + 4, [0x07]);
  const sf = sfdiskJson(img);
  assert.equal(sf.label, 'dos');
  const t = await read(img);
  assert.equal(t.scheme, 'mbr');
  assert.deepEqual(ours(t.partitions), sf.partitions);
  assert.match(t.warnings[0]!, /GPT header at LBA 1 ignored: the MBR has no protective 0xEE entry/);
});

test('blank disk and tiny devices: scheme none, no partitions, a note', async () => {
  const img = join(tmp.dir, 'blank.img');
  sparse(img, 8 * 1024 * 1024);
  assert.match(sfdiskStderr(img), /does not contain a recognized partition table/);
  const t = await read(img);
  assert.equal(t.scheme, 'none');
  assert.deepEqual(t.partitions, []);
  assert.deepEqual(t.warnings, ['no partition table: sector 0 is blank']);
  const strict = await read(img, true);
  assert.equal(strict.scheme, 'none', 'a blank disk is not damage: strict does not throw');
  const tiny = await readPartitions(new MemoryDevice(new Uint8Array(100)));
  assert.equal(tiny.scheme, 'none');
});

test('primary entry starting at LBA 0 (on the MBR): warned; getPartition and generation', async () => {
  const img = damaged();
  patch(img, entryAt(0, 0), entry(0, 0x07, 0, 2048));
  const t = await read(img);
  assert.equal(t.problems[0]!.code, 'partition.badMbr');
  assert.match(t.warnings[0]!, /^MBR entry 1 starts at LBA 0, on the MBR itself$/);
  assert.equal(getPartition(t, 5).start, oracle.partitions.find((p) => p.index === 5)!.start);
  assert.throws(
    () => getPartition(t, 3),
    (e: unknown) => {
      assert.ok(isCode('partition.notFound')(e));
      assert.match((e as Error).message, /^no partition 3 on this disk \(partitions: 1, 2, 5, 6, 7\)$/);
      return true;
    },
  );
  assert.equal(generation(t), 1);
  assert.equal(generation(await readPartitions(new MemoryDevice(new Uint8Array(4096)))), null);
});
