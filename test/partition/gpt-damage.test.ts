// Damaged GPTs: each fault is first confirmed by sfdisk (it warns or falls back too), then we must list the same
// partitions as sfdisk lists on the undamaged image, with a warning that names the fault, or refuse with a typed
// error when nothing is left to read.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { FileDevice } from '../../src/disk/file-device.js';
import { readPartitions, type PartitionTable } from '../../src/partition/index.js';
import { crc32 } from '../../src/util/crc.js';
import { setU32, setU64, u32, u64 } from '../../src/util/bytes.js';
import { run, runStatus, tempDir } from '../helpers/tools.js';
import {
  copyImage,
  fdisk4kImage,
  fdiskDump,
  isCode,
  ours,
  patch,
  readBytes,
  sfdiskImage,
  sfdiskJson,
  sfdiskStderr,
  type OracleTable,
} from './helpers.js';

const tmp = tempDir('winrescue-gpt-damage-');
after(() => tmp.cleanup());

const MIB = 1024 * 1024;
const DISK_MIB = 64;
const LAST_LBA = (DISK_MIB * MIB) / 512 - 1;
let clean: string;
let oracle: OracleTable;

before(() => {
  clean = sfdiskImage(
    tmp.dir,
    'clean.img',
    DISK_MIB,
    'label: gpt\n' +
      'size=8M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system partition"\n' +
      'size=4M, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE, name="Microsoft reserved partition"\n' +
      'type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Basic data partition"\n',
  );
  oracle = sfdiskJson(clean);
});

let n = 0;
const damaged = (): string => copyImage(clean, join(tmp.dir, `d${n++}.img`));

async function read(
  path: string,
  options: { strict?: boolean; sectorSize?: number } = {},
): Promise<PartitionTable> {
  const dev = await FileDevice.open(path, { readOnly: true, sectorSize: options.sectorSize ?? 512 });
  try {
    return await readPartitions(dev, { strict: options.strict ?? false });
  } finally {
    await dev.close();
  }
}

const SFDISK_PRIMARY_BAD = /primary GPT table is corrupt, but the backup appears OK/;
const SFDISK_BACKUP_BAD = /backup GPT table is corrupt, but the primary appears OK/;

test('primary header zeroed: sfdisk falls back, so do we, with a warning', async () => {
  const img = damaged();
  patch(img, 512, new Uint8Array(512));
  assert.match(sfdiskStderr(img), SFDISK_PRIMARY_BAD);
  const t = await read(img);
  assert.deepEqual(ours(t.partitions), oracle.partitions);
  assert.equal(t.gptSource, 'backup');
  assert.equal(t.diskGuid, oracle.id);
  assert.deepEqual(t.warnings, [
    `primary GPT header missing (no "EFI PART" signature) at LBA 1: using the backup at LBA ${LAST_LBA}`,
  ]);
  assert.equal(t.problems[0]!.code, 'partition.badGpt');
  await assert.rejects(read(img, { strict: true }), isCode('partition.badGpt'));
});

test('primary header CRC broken (one byte of the disk GUID): backup used, warning names the CRC', async () => {
  const img = damaged();
  patch(img, 512 + 56, [readBytes(img, 512 + 56, 1)[0]! ^ 0xff]);
  assert.match(sfdiskStderr(img), SFDISK_PRIMARY_BAD);
  const t = await read(img);
  assert.deepEqual(ours(t.partitions), oracle.partitions);
  assert.equal(t.diskGuid, oracle.id, 'disk GUID comes from the intact backup');
  assert.equal(t.warnings.length, 1);
  assert.match(
    t.warnings[0]!,
    new RegExp(
      `^primary GPT header CRC mismatch \\(stored 0x[0-9a-f]+, computed 0x[0-9a-f]+\\) at LBA 1: using the backup at LBA ${LAST_LBA}$`,
    ),
  );
});

test('primary entry array CRC broken (a name byte of entry 1): backup used, names from the backup', async () => {
  const img = damaged();
  patch(img, 1024 + 56, [0x21]);
  assert.match(sfdiskStderr(img), SFDISK_PRIMARY_BAD);
  const t = await read(img);
  assert.deepEqual(ours(t.partitions), oracle.partitions);
  assert.equal(t.partitions[0]!.name, 'EFI system partition');
  assert.match(
    t.warnings[0]!,
    new RegExp(`^primary GPT entry array CRC mismatch .* at LBA 2: using the backup at LBA ${LAST_LBA}$`),
  );
});

test('backup header damaged: primary used, warning says the backup is damaged', async () => {
  const img = damaged();
  patch(img, LAST_LBA * 512 + 40, [0xff]);
  assert.match(sfdiskStderr(img), SFDISK_BACKUP_BAD);
  const t = await read(img);
  assert.equal(t.gptSource, 'primary');
  assert.deepEqual(ours(t.partitions), oracle.partitions);
  assert.match(
    t.warnings.join('\n'),
    new RegExp(`^backup GPT header CRC mismatch .* at LBA ${LAST_LBA}: the primary is used$`),
  );
});

test('both copies damaged: partition.badGpt, and sfdisk finds no table either', async () => {
  const img = damaged();
  patch(img, 512 + 8, [9]);
  patch(img, LAST_LBA * 512, new Uint8Array(512));
  const r = runStatus('sfdisk', ['--json', img]);
  assert.doesNotMatch(r.stdout, /"label": "gpt"/);
  await assert.rejects(read(img), (e: unknown) => {
    assert.ok(isCode('partition.badGpt')(e));
    assert.match((e as Error).message, /both GPT copies are damaged: primary header CRC mismatch/);
    return true;
  });
  // Protective MBR with no GPT anywhere.
  const none = damaged();
  patch(none, 512, new Uint8Array(512));
  patch(none, LAST_LBA * 512, new Uint8Array(512));
  await assert.rejects(read(none), isCode('partition.badGpt'));
});

test('disk enlarged after partitioning: backup found where the old end was, sfdisk agrees it moved', async () => {
  const img = damaged();
  run('truncate', ['-s', String((DISK_MIB + 8) * MIB), img]);
  assert.match(sfdiskStderr(img), /backup GPT table is not on the end of the device/);
  const t = await read(img);
  assert.deepEqual(ours(t.partitions), oracle.partitions);
  assert.equal(t.gptSource, 'primary');
  assert.match(
    t.warnings.join('\n'),
    new RegExp(`backup GPT header is at LBA ${LAST_LBA}, not at the last LBA ${LAST_LBA + 8 * 2048}`),
  );
  // ... and with the primary damaged too, the protective MBR's size still leads to the moved backup.
  patch(img, 512 + 8, [9]);
  const t2 = await read(img);
  assert.deepEqual(ours(t2.partitions), oracle.partitions);
  assert.equal(t2.gptSource, 'backup');
  assert.match(t2.warnings.join('\n'), new RegExp(`using the backup at LBA ${LAST_LBA}$`, 'm'));
});

test('4Kn GPT with the primary zeroed: backup at the last 4096-byte LBA', async () => {
  const img = fdisk4kImage(
    tmp.dir,
    'gpt4k.img',
    DISK_MIB,
    'label: gpt\nsize=8M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI"\ntype=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Windows"\n',
  );
  const expected = fdiskDump(img, 4096);
  patch(img, 4096, new Uint8Array(4096));
  const lastLba = (DISK_MIB * MIB) / 4096 - 1;
  assert.ok(statSync(img).size === DISK_MIB * MIB);
  // fdisk sees the damage the same way.
  assert.match(
    runStatus('sh', ['-c', `fdisk -b 4096 -l "$0" 2>&1`, img]).stdout,
    /primary GPT table is corrupt, but the backup appears OK/,
  );
  for (const sectorSize of [4096, 512]) {
    const t = await read(img, { sectorSize });
    assert.equal(t.sectorSize, 4096);
    assert.deepEqual(ours(t.partitions), expected.partitions);
    assert.match(
      t.warnings[0]!,
      new RegExp(`^primary GPT header missing .* at LBA 1: using the backup at LBA ${lastLba}$`),
    );
  }
});

/** Rewrites entry `slot` in both copies (or those named) and fixes their CRCs: valid, but saying what we want. */
function rewriteEntry(
  path: string,
  slot: number,
  edit: (entry: Uint8Array) => void,
  lbas = [1, LAST_LBA],
): void {
  for (const headerLba of lbas) {
    const header = readBytes(path, headerLba * 512, 512);
    const size = u32(header, 12);
    const arrayAt = Number(u64(header, 72)) * 512;
    const array = readBytes(path, arrayAt, u32(header, 80) * u32(header, 84));
    edit(array.subarray(slot * 128, slot * 128 + 128));
    setU32(header, 88, crc32(array));
    setU32(header, 16, 0);
    setU32(header, 16, crc32(header.subarray(0, size)));
    patch(path, arrayAt, array);
    patch(path, headerLba * 512, header);
  }
}

test('GPT entry running past the end of the disk: clipped with warnings; strict refuses', async () => {
  const img = damaged();
  rewriteEntry(img, 2, (e) => setU64(e, 40, BigInt(LAST_LBA + 1000)));
  assert.doesNotMatch(sfdiskStderr(img), /corrupt/, 'CRCs were fixed: sfdisk reads the table as valid');
  assert.match(runStatus('sfdisk', ['--verify', img]).stderr, /Partition 3 is too big for the disk/);
  const t = await read(img);
  const p3 = t.partitions[2]!;
  assert.equal(p3.truncated, true);
  assert.equal(p3.start + p3.size, DISK_MIB * MIB);
  assert.equal(p3.declaredSize, (LAST_LBA + 1000 - oracle.partitions[2]!.start / 512 + 1) * 512);
  assert.equal(p3.device.size, p3.size);
  assert.ok(t.problems.some((p) => p.code === 'partition.outOfDisk'));
  assert.ok(
    t.problems.some((p) => p.code === 'partition.badGpt' && /outside the usable area/.test(p.message)),
  );
  await assert.rejects(read(img, { strict: true }), isCode('partition.badGpt'));
});

test('GPT entries overlapping, and one with first LBA after last LBA: warnings, sfdisk --verify agrees', async () => {
  const img = damaged();
  const s1 = oracle.partitions[0]!.start / 512;
  rewriteEntry(img, 1, (e) => setU64(e, 32, BigInt(s1 + 100)));
  const v = runStatus('sfdisk', ['--verify', img]);
  assert.match(v.stdout + v.stderr, /overlap/i);
  const t = await read(img);
  assert.deepEqual(
    t.problems.map((p) => p.code),
    ['partition.overlap'],
  );
  assert.match(t.warnings[0]!, /^partitions 1 and 2 overlap/);
  await assert.rejects(read(img, { strict: true }), isCode('partition.overlap'));

  const inverted = damaged();
  rewriteEntry(inverted, 0, (e) => setU64(e, 40, BigInt(s1 - 1)));
  const t2 = await read(inverted);
  assert.deepEqual(
    t2.partitions.map((p) => p.index),
    [2, 3],
  );
  assert.match(t2.warnings[0]!, /^GPT entry 1: first LBA \d+ is after last LBA \d+; entry ignored$/);
});

test('primary and backup both valid but different: primary used, warning; sfdisk lists the primary too', async () => {
  const img = damaged();
  rewriteEntry(img, 0, (e) => e.set([0x5a, 0], 56), [LAST_LBA]);
  assert.doesNotMatch(sfdiskStderr(img), /corrupt/);
  const t = await read(img);
  assert.equal(t.gptSource, 'primary');
  assert.deepEqual(ours(t.partitions), sfdiskJson(img).partitions);
  assert.deepEqual(ours(t.partitions), oracle.partitions);
  assert.match(
    t.warnings[0]!,
    /^primary and backup GPT entry arrays differ \(CRC 0x[0-9a-f]+ vs 0x[0-9a-f]+\): the primary is used$/,
  );
});

test('hybrid MBR (0xEE plus an NTFS entry): the GPT is used, as sfdisk and blkid do, with a warning', async () => {
  const img = damaged();
  patch(img, 446 + 16, [0, 0, 0, 0, 0x07, 0, 0, 0, 0x00, 0x08, 0, 0, 0x00, 0x40, 0, 0]);
  assert.match(runStatus('blkid', ['-p', '-o', 'export', img]).stdout, /PTTYPE=gpt/);
  const t = await read(img);
  assert.equal(t.scheme, 'gpt');
  assert.deepEqual(ours(t.partitions), sfdiskJson(img).partitions);
  assert.deepEqual(t.warnings, [
    'hybrid MBR: the protective MBR also lists other partitions; the GPT is used',
  ]);
});
