// Differencing VHDX. qemu-img 7.2 cannot create VHDX children ("Backing file not supported for file format
// 'vhdx'"), so the child is made here: an empty child from createVhdx, then BAT entries, a sector bitmap block and
// payload blocks written by hand from [MS-VHDX] §2.4/§2.5. libvhdi with set_parent is the oracle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readSync, renameSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { ImageFileHandle } from '../../src/disk/file-device.js';
import { createVhdx, openVhdx, type OpenParent, type VhdxDevice } from '../../src/disk/vhdx/index.js';
import { WinrescueError } from '../../src/errors.js';
import { SYSTEM_PYTHON, run, sha256, tempDir } from '../helpers/tools.js';

const MIB = 1 << 20;
const SIZE = 6 * MIB;
const SECTOR = 512;
/** §2.4: 2^23 sectors per bitmap block × 512 / 1 MiB blocks. */
const CHUNK_RATIO = 4096;
const SECTORS_PER_BLOCK = MIB / SECTOR;

function libvhdiRead(child: string, parent: string): Uint8Array {
  const script = [
    'import sys, pyvhdi',
    'f = pyvhdi.file(); f.open(sys.argv[1]); p = pyvhdi.file(); p.open(sys.argv[2]); f.set_parent(p)',
    'sys.stdout.buffer.write(f.read_buffer_at_offset(f.get_media_size(), 0))',
  ].join('\n');
  return new Uint8Array(run(SYSTEM_PYTHON, ['-c', script, child, parent]));
}

function libvhdiIdentifier(path: string): string {
  return run(SYSTEM_PYTHON, [
    '-c',
    'import pyvhdi,sys; f=pyvhdi.file(); f.open(sys.argv[1]); print(f.identifier)',
    path,
  ])
    .toString()
    .trim();
}

/** Opens parents the way the generic opener would: any VHDX, read-only; `disk.notFound` for a missing file. */
const openParent: OpenParent = async (path) => {
  const file = await ImageFileHandle.open(path, true);
  return openVhdx(file, { readOnly: true });
};

async function openChild(path: string, opener: OpenParent | undefined = openParent): Promise<VhdxDevice> {
  const file = await ImageFileHandle.open(path, true);
  try {
    return await openVhdx(file, { readOnly: true, openParent: opener });
  } catch (e) {
    await file.close();
    throw e;
  }
}

/** BAT region offset from the region table at 192 KiB (§2.2.3), parsed by hand. */
function batOffset(path: string): number {
  const fd = openSync(path, 'r');
  const t = Buffer.alloc(64 * 1024);
  readSync(fd, t, 0, t.length, 192 * 1024);
  closeSync(fd);
  for (let i = 0; i < t.readUInt32LE(8); i++) {
    const e = 16 + i * 32;
    // 2DC27766-F623-4200-9D64-115E9BFD4A08 in its on-disk (mixed-endian) form starts 66 77 c2 2d.
    if (t.readUInt32LE(e) === 0x2dc27766) return Number(t.readBigUInt64LE(e + 16));
  }
  throw new Error('no BAT region');
}

function pwrite(path: string, offset: number, data: Uint8Array): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, data, 0, data.length, offset);
  closeSync(fd);
}

/** §2.5.1: state in bits 0-2, FileOffsetMB in bits 20-63. */
function batEntry(state: number, offsetMB: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE((BigInt(offsetMB) << 20n) | BigInt(state));
  return b;
}

interface Chain {
  dir: string;
  parentPath: string;
  childPath: string;
  expected: Uint8Array;
  parentRaw: Uint8Array;
}

/**
 * Parent: qemu-made dynamic VHDX with random data. Child blocks: 0 FULLY_PRESENT, 1 PARTIALLY_PRESENT (random
 * bitmap), 2 NOT_PRESENT, 3 ZERO, 4 PARTIALLY_PRESENT (runs of various lengths), 5 NOT_PRESENT.
 */
async function buildChain(
  dir: string,
  locator: { relativePath?: string; absoluteWin32Path?: string },
): Promise<Chain> {
  const parentRaw = new Uint8Array(randomBytes(SIZE));
  writeFileSync(join(dir, 'parent.raw'), parentRaw);
  const parentPath = join(dir, 'parent.vhdx');
  run('qemu-img', [
    'convert',
    '-f',
    'raw',
    '-O',
    'vhdx',
    '-o',
    'subformat=dynamic,block_size=1M',
    join(dir, 'parent.raw'),
    parentPath,
  ]);
  const childPath = join(dir, 'child.avhdx');
  writeFileSync(childPath, new Uint8Array(1));
  const file = await ImageFileHandle.open(childPath, false);
  await file.truncate(0);
  await createVhdx(file, {
    virtualSize: SIZE,
    blockSize: MIB,
    parent: { dataWriteGuid: libvhdiIdentifier(parentPath), ...locator },
  });
  await file.close();

  const bat = batOffset(childPath);
  const end = 4 * MIB; // createVhdx ends the file after a 1 MiB BAT at 3 MiB
  const expected = parentRaw.slice();
  const block0 = new Uint8Array(randomBytes(MIB));
  const block1 = new Uint8Array(randomBytes(MIB));
  const block4 = new Uint8Array(randomBytes(MIB));
  const bitmap = new Uint8Array(MIB);
  const bits1 = new Uint8Array(randomBytes(SECTORS_PER_BLOCK / 8));
  bitmap.set(bits1, (1 * SECTORS_PER_BLOCK) / 8);
  // Block 4: present runs of 1, 3, 8 and 100 sectors between absent runs.
  const present4 = new Set<number>();
  for (const [start, len] of [
    [0, 1],
    [5, 3],
    [64, 8],
    [900, 100],
    [SECTORS_PER_BLOCK - 1, 1],
  ] as const) {
    for (let s = start; s < start + len; s++) present4.add(s);
  }
  for (const s of present4) {
    const bit = 4 * SECTORS_PER_BLOCK + s;
    bitmap[bit >> 3]! |= 1 << (bit & 7);
  }
  pwrite(childPath, end, block0);
  pwrite(childPath, end + MIB, block1);
  pwrite(childPath, end + 2 * MIB, block4);
  pwrite(childPath, end + 3 * MIB, bitmap);
  pwrite(childPath, bat + 0 * 8, batEntry(6, 4)); // block 0 FULLY_PRESENT at 4 MiB
  pwrite(childPath, bat + 1 * 8, batEntry(7, 5)); // block 1 PARTIALLY_PRESENT at 5 MiB
  pwrite(childPath, bat + 3 * 8, batEntry(2, 0)); // block 3 ZERO
  pwrite(childPath, bat + 4 * 8, batEntry(7, 6)); // block 4 PARTIALLY_PRESENT at 6 MiB
  pwrite(childPath, bat + CHUNK_RATIO * 8, batEntry(6, 7)); // sector bitmap of chunk 0 at 7 MiB

  expected.set(block0, 0);
  for (let s = 0; s < SECTORS_PER_BLOCK; s++) {
    if ((bits1[s >> 3]! >> (s & 7)) & 1)
      expected.set(block1.subarray(s * SECTOR, (s + 1) * SECTOR), MIB + s * SECTOR);
    if (present4.has(s)) expected.set(block4.subarray(s * SECTOR, (s + 1) * SECTOR), 4 * MIB + s * SECTOR);
  }
  expected.fill(0, 3 * MIB, 4 * MIB);
  return { dir, parentPath, childPath, expected, parentRaw };
}

test('hand-built differencing child reads like libvhdi with the parent set, and like the model', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const chain = await buildChain(dir, {
      relativePath: '.\\parent.vhdx',
      absoluteWin32Path: '\\\\?\\C:\\VMs\\parent.vhdx',
    });
    const oracle = libvhdiRead(chain.childPath, chain.parentPath);
    // libvhdi (20210425) reads a PAYLOAD_BLOCK_ZERO block of a child from the parent; §2.5.1.1 says such a block
    // MUST read as zeros. Block 3 is that block: pin libvhdi's reading there, and compare everything else.
    const zeroBlock = [3 * MIB, 4 * MIB] as const;
    assert.deepEqual(
      oracle.subarray(...zeroBlock),
      chain.parentRaw.subarray(...zeroBlock),
      'libvhdi reads the ZERO block from the parent',
    );
    const outside = (b: Uint8Array) =>
      createHash('sha256').update(b.subarray(0, zeroBlock[0])).update(b.subarray(zeroBlock[1])).digest('hex');
    assert.equal(
      outside(oracle),
      outside(chain.expected),
      'libvhdi agrees with the model built from the spec',
    );
    const dev = await openChild(chain.childPath);
    try {
      assert.equal(dev.format, 'vhdx-differencing');
      assert.equal(dev.subformat, 'differencing');
      assert.equal(dev.readOnly, true);
      const ours = await dev.read(0, SIZE);
      assert.equal(outside(ours), outside(oracle), 'ours = libvhdi outside the ZERO block');
      assert.ok(
        ours.subarray(...zeroBlock).every((b) => b === 0),
        'the ZERO block reads as zeros (§2.5.1.1)',
      );
      assert.equal(sha256(ours), sha256(chain.expected));
      // Reads starting and ending inside sectors and runs of the partially present blocks.
      for (const [o, n] of [
        [MIB + 3, 5000],
        [4 * MIB + 4 * SECTOR + 100, 6 * SECTOR],
        [4 * MIB + 899 * SECTOR + 1, 102 * SECTOR],
        [2 * MIB - 7, 3 * MIB],
        [5 * MIB - 1, 1],
      ] as const) {
        assert.deepEqual(await dev.read(o, n), chain.expected.subarray(o, o + n), `read ${o}+${n}`);
      }
    } finally {
      await dev.close();
    }
  } finally {
    cleanup();
  }
});

test('a stale relative_path falls back to the absolute path’s file name in the child’s folder', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const chain = await buildChain(dir, {
      relativePath: '..\\moved\\away\\parent.vhdx',
      absoluteWin32Path: 'C:\\VMs\\parent.vhdx',
    });
    const tried: string[] = [];
    const dev = await openChild(chain.childPath, async (p) => {
      tried.push(p);
      return openParent(p);
    });
    assert.equal(sha256(await dev.read(0, SIZE)), sha256(chain.expected));
    await dev.close();
    assert.deepEqual(tried, [join(dir, '..', 'moved', 'away', 'parent.vhdx'), join(dir, 'parent.vhdx')]);
  } finally {
    cleanup();
  }
});

test('wrong parent → disk.parentMismatch; no parent → disk.parentMissing naming the paths; writable → disk.unsupported', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const chain = await buildChain(dir, { relativePath: 'parent.vhdx' });
    const file = await ImageFileHandle.open(chain.childPath, false);
    await assert.rejects(
      openVhdx(file, { readOnly: false, openParent }),
      (e: unknown) => e instanceof WinrescueError && e.code === 'disk.unsupported',
    );
    await file.close();

    // Another VHDX under the parent's name: libvhdi confirms its identifier differs from the child's linkage.
    renameSync(chain.parentPath, join(dir, 'real-parent.vhdx'));
    run('qemu-img', ['create', '-q', '-f', 'vhdx', '-o', 'block_size=1M', chain.parentPath, String(SIZE)]);
    const linkage = run(SYSTEM_PYTHON, [
      '-c',
      'import pyvhdi,sys; f=pyvhdi.file(); f.open(sys.argv[1]); print(f.parent_identifier)',
      chain.childPath,
    ])
      .toString()
      .trim();
    assert.notEqual(libvhdiIdentifier(chain.parentPath), linkage);
    await assert.rejects(openChild(chain.childPath), (e: unknown) => {
      assert.ok(e instanceof WinrescueError && e.code === 'disk.parentMismatch', String(e));
      assert.ok(e.message.includes(linkage), e.message);
      return true;
    });

    mkdirSync(join(dir, 'empty'));
    renameSync(chain.parentPath, join(dir, 'empty', 'other.vhdx'));
    await assert.rejects(openChild(chain.childPath), (e: unknown) => {
      assert.ok(e instanceof WinrescueError && e.code === 'disk.parentMissing', String(e));
      assert.ok(e.message.includes(join(dir, 'parent.vhdx')), e.message);
      return true;
    });

    // A parent with other sector sizes is refused even when the linkage matches.
    renameSync(join(dir, 'real-parent.vhdx'), chain.parentPath);
    const dev = await openChild(chain.childPath, async (p) =>
      Object.assign(await openParent(p), { sectorSize: 4096 }),
    );
    await dev.close().catch(() => undefined);
    assert.fail('expected a parentMismatch for the sector size');
  } catch (e) {
    if (!(e instanceof WinrescueError)) throw e;
    assert.equal(e.code, 'disk.parentMismatch');
    assert.match(e.message, /4096-byte sectors/);
  } finally {
    cleanup();
  }
});
