import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { WinrescueError } from '../../src/errors.js';
import type { ImageFile } from '../../src/disk/block-device.js';
import { ImageFileHandle } from '../../src/disk/file-device.js';
import { openVhd, type VhdDevice } from '../../src/disk/vhd/index.js';
import { run, tempDir } from '../helpers/tools.js';
import { buildSparseVhd, libvhdiRead, qemuRead, randomRaw, rawLayout, writeFile } from './vhd-oracles.js';

const MiB = 1024 * 1024;
const BLOCK = 2 * MiB; // qemu-img always makes 2 MiB blocks
const SIZE = 9 * MiB + 5 * 512; // five blocks, the last one partial

interface Op {
  readonly offset: number;
  readonly length: number;
  readonly seed: number;
}

/** Deterministic bytes for an op, so a shrunk counterexample replays exactly. */
function bytesFor(op: Op): Uint8Array {
  const out = new Uint8Array(op.length);
  let x = op.seed | 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Writes inside blocks, across block boundaries, spanning several blocks, and at the very end of a disk. */
function opsFor(size: number, block: number): fc.Arbitrary<Op[]> {
  const clamp = (offset: number, length: number, seed: number): Op => {
    const o = Math.min(Math.max(0, offset), size - 1);
    return { offset: o, length: Math.max(1, Math.min(length, size - o)), seed };
  };
  const blocks = Math.ceil(size / block);
  const op = fc.oneof(
    fc
      .tuple(fc.nat({ max: size - 1 }), fc.integer({ min: 1, max: Math.min(70000, block * 2) }), fc.integer())
      .map(([o, l, s]) => clamp(o, l, s)),
    fc
      .tuple(
        fc.integer({ min: 1, max: blocks - 1 }),
        fc.integer({ min: -block / 2, max: block / 2 }),
        fc.integer({ min: 1, max: block }),
        fc.integer(),
      )
      .map(([k, d, l, s]) => clamp(k * block + d - Math.floor(l / 2), l, s)),
    fc
      .tuple(fc.nat({ max: size - 1 }), fc.integer({ min: block, max: Math.floor(size / 2) }), fc.integer())
      .map(([o, l, s]) => clamp(o, l, s)),
    fc.tuple(fc.integer({ min: 1, max: 9000 }), fc.integer()).map(([l, s]) => clamp(size - l, l, s)),
  );
  return fc.array(op, { minLength: 1, maxLength: 8 });
}

async function openRw(path: string): Promise<VhdDevice> {
  return openVhd(await ImageFileHandle.open(path, false), { readOnly: false });
}

/** Every sector touched by `ops` has its bitmap bit set, read from the file bytes with our own arithmetic. */
function assertBitmapBits(file: Uint8Array, ops: readonly Op[], size = SIZE): void {
  const layout = rawLayout(file, size);
  for (const op of ops) {
    for (let sector = Math.floor(op.offset / 512); sector * 512 < op.offset + op.length; sector++) {
      const block = Math.floor((sector * 512) / layout.blockSize);
      const at = layout.blocks[block]!;
      assert.notEqual(at, -1, `block ${block} written but unallocated`);
      const s = sector - (block * layout.blockSize) / 512;
      assert.ok(
        (file[at + (s >> 3)]! & (0x80 >> (s & 7))) !== 0,
        `bitmap bit of sector ${sector} (block ${block}) not set`,
      );
    }
  }
}

function baseImages(dir: string): { fixed: string; dynamic: string; empty: string } {
  // content in blocks 0 and 3; blocks 1, 2 and 4 are zero so the dynamic conversion leaves them unallocated
  const raw = randomRaw(SIZE, [
    [BLOCK, 2 * BLOCK],
    [4 * BLOCK, SIZE],
  ]);
  const rawPath = writeFile(join(dir, 'base.raw'), raw);
  const fixed = join(dir, 'base-fixed.vhd');
  const dynamic = join(dir, 'base-dynamic.vhd');
  const empty = join(dir, 'base-empty.vhd');
  run('qemu-img', [
    'convert',
    '-f',
    'raw',
    '-O',
    'vpc',
    '-o',
    'subformat=fixed,force_size=on',
    rawPath,
    fixed,
  ]);
  run('qemu-img', [
    'convert',
    '-f',
    'raw',
    '-O',
    'vpc',
    '-o',
    'subformat=dynamic,force_size=on',
    rawPath,
    dynamic,
  ]);
  run('qemu-img', [
    'create',
    '-q',
    '-f',
    'vpc',
    '-o',
    'subformat=dynamic,force_size=on',
    empty,
    String(SIZE),
  ]);
  return { fixed, dynamic, empty };
}

test('model-based writes on qemu-made fixed and dynamic VHDs: qemu-img and libvhdi read the model; bitmaps and footers right', async () => {
  const t = tempDir();
  try {
    const bases = baseImages(t.dir);
    let runNo = 0;
    for (const [kind, base] of Object.entries(bases)) {
      const initial = qemuRead(base, t.dir);
      const baseFooter = new Uint8Array(readFileSync(base).subarray(-512));
      await fc.assert(
        fc.asyncProperty(opsFor(SIZE, BLOCK), async (ops) => {
          const path = join(t.dir, `run-${runNo++}.vhd`);
          copyFileSync(base, path);
          const model = new Uint8Array(initial);
          const dev = await openRw(path);
          for (const op of ops) {
            const data = bytesFor(op);
            await dev.write(op.offset, data);
            model.set(data, op.offset);
          }
          await dev.flush();
          await dev.close();

          const file = new Uint8Array(readFileSync(path));
          const footer = file.subarray(-512);
          assert.deepEqual(footer, baseFooter, 'the footer at the end is the original footer');
          if (kind === 'fixed') {
            assert.equal(file.length, statSync(base).size, 'a fixed image never grows');
          } else {
            assert.deepEqual(file.subarray(0, 512), footer, 'footer copy at 0 equals the footer at the end');
            assert.equal(file.length % 512, 0);
            assertBitmapBits(file, ops);
          }
          assert.ok(Buffer.from(qemuRead(path, t.dir)).equals(model), `${kind}: qemu-img reads the model`);
          assert.ok(Buffer.from(libvhdiRead(path)).equals(model), `${kind}: libvhdi reads the model`);
          const again = await openVhd(await ImageFileHandle.open(path, true), { readOnly: true });
          assert.ok(Buffer.from(await again.read(0, SIZE)).equals(model), `${kind}: we read back the model`);
          await again.close();
          run('rm', ['-f', path]);
        }),
        { numRuns: kind === 'fixed' ? 6 : 12 },
      );
    }
  } finally {
    t.cleanup();
  }
});

/** An ImageFile that dies (throws) on its n-th write: a crash at that point. */
class CrashingFile implements ImageFile {
  writes = 0;
  constructor(
    private readonly inner: ImageFile,
    private readonly crashAt: number,
  ) {}
  get path() {
    return this.inner.path;
  }
  get size() {
    return this.inner.size;
  }
  get readOnly() {
    return this.inner.readOnly;
  }
  read(offset: number, length: number) {
    return this.inner.read(offset, length);
  }
  async write(offset: number, data: Uint8Array) {
    if (this.writes++ === this.crashAt) throw new WinrescueError('disk.io', 'simulated crash');
    return this.inner.write(offset, data);
  }
  truncate(length: number) {
    return this.inner.truncate(length);
  }
  flush() {
    return this.inner.flush();
  }
  close() {
    return this.inner.close();
  }
}

test('a crash at any write of a block-allocating write leaves a valid image reading old or new bytes', async () => {
  const t = tempDir();
  try {
    const { dynamic } = baseImages(t.dir);
    const before = qemuRead(dynamic, t.dir);
    // spans allocated block 0, unallocated blocks 1 and 2, allocated block 3
    const op: Op = { offset: BLOCK - 700, length: 2 * BLOCK + 1500, seed: 99 };
    const data = bytesFor(op);
    const after = new Uint8Array(before);
    after.set(data, op.offset);
    for (let crashAt = 0; ; crashAt++) {
      const path = join(t.dir, `crash-${crashAt}.vhd`);
      copyFileSync(dynamic, path);
      const inner = await ImageFileHandle.open(path, false);
      const crashing = new CrashingFile(inner, crashAt);
      const dev = await openVhd(crashing, { readOnly: false });
      let crashed = false;
      try {
        await dev.write(op.offset, data);
      } catch (e) {
        assert.ok(e instanceof WinrescueError && e.message === 'simulated crash');
        crashed = true;
      }
      await inner.close();
      const file = new Uint8Array(readFileSync(path));
      assert.deepEqual(
        file.subarray(-512),
        file.subarray(0, 512),
        `crash at write ${crashAt}: a valid footer ends the file`,
      );
      for (const [name, got] of [
        ['qemu-img', qemuRead(path, t.dir)],
        ['libvhdi', libvhdiRead(path)],
        ['ours', await readBack(path)],
      ] as const) {
        for (let i = 0; i < SIZE; i += 512) {
          const g = got.subarray(i, i + 512);
          const ok =
            Buffer.from(g).equals(before.subarray(i, i + 512)) ||
            Buffer.from(g).equals(after.subarray(i, i + 512));
          if (!ok) assert.fail(`crash at write ${crashAt}: ${name} sector ${i / 512} is neither old nor new`);
        }
      }
      run('rm', ['-f', path]);
      if (!crashed) {
        assert.ok(Buffer.from(await readBackAfter(dynamic, t.dir, op, data)).equals(after));
        assert.ok(crashAt >= 4, 'footer, two blocks and the BAT were separate writes');
        break;
      }
    }
  } finally {
    t.cleanup();
  }
});

async function readBack(path: string): Promise<Uint8Array> {
  const dev = await openVhd(await ImageFileHandle.open(path, true), { readOnly: true });
  try {
    return await dev.read(0, dev.size);
  } finally {
    await dev.close();
  }
}

async function readBackAfter(base: string, dir: string, op: Op, data: Uint8Array): Promise<Uint8Array> {
  const path = join(dir, 'clean.vhd');
  copyFileSync(base, path);
  const dev = await openRw(path);
  await dev.write(op.offset, data);
  await dev.close();
  return qemuRead(path, dir);
}

test('writes are refused on read-only devices and outside the disk, with typed errors', async () => {
  const t = tempDir();
  try {
    const { dynamic, fixed } = baseImages(t.dir);
    for (const path of [dynamic, fixed]) {
      const ro = await openVhd(await ImageFileHandle.open(path, true), { readOnly: false });
      assert.equal(ro.readOnly, true, 'a read-only file makes a read-only device');
      await assert.rejects(
        ro.write(0, new Uint8Array(512)),
        (e: unknown) => e instanceof WinrescueError && e.code === 'disk.readOnly',
      );
      await ro.close();
      const rw = await openRw(path);
      await assert.rejects(
        rw.write(SIZE - 100, new Uint8Array(101)),
        (e: unknown) => e instanceof WinrescueError && e.code === 'disk.outOfRange',
      );
      await assert.rejects(
        rw.read(SIZE, 1),
        (e: unknown) => e instanceof WinrescueError && e.code === 'disk.outOfRange',
      );
      await rw.close();
    }
  } finally {
    t.cleanup();
  }
});

test('model-based writes on a small-block dynamic VHD with garbage behind clear bits: the file holds the model by the spec', async () => {
  const t = tempDir();
  try {
    const block = 4096;
    const size = 48 * block + 1024;
    const blocks = new Map<number, { present: boolean[]; data: Uint8Array }>();
    const initial = new Uint8Array(size);
    for (let b = 0; b < Math.ceil(size / block); b++) {
      if (b % 4 === 1) continue;
      const present = Array.from({ length: 8 }, (_, s) => ((b + s) * 0x9e3779b1) >>> 29 > 3);
      const data = randomRaw(block, []);
      blocks.set(b, { present, data });
      present.forEach((p, s) => {
        if (p && b * block + s * 512 < size)
          initial.set(
            data.subarray(s * 512, s * 512 + 512).subarray(0, size - b * block - s * 512),
            b * block + s * 512,
          );
      });
    }
    const base = writeFile(
      join(t.dir, 'small.vhd'),
      buildSparseVhd({
        size,
        blockSize: block,
        parentId: new Uint8Array(16),
        parentTimeStamp: 0,
        parentName: '',
        locators: [],
        blocks,
        type: 'dynamic',
      }),
    );
    let runNo = 0;
    await fc.assert(
      fc.asyncProperty(opsFor(size, block), async (ops) => {
        const path = join(t.dir, `small-${runNo++}.vhd`);
        copyFileSync(base, path);
        const model = new Uint8Array(initial);
        const dev = await openRw(path);
        for (const op of ops) {
          const data = bytesFor(op);
          await dev.write(op.offset, data);
          model.set(data, op.offset);
        }
        await dev.close();
        const file = new Uint8Array(readFileSync(path));
        assert.deepEqual(
          file.subarray(0, 512),
          file.subarray(-512),
          'footer copy at 0 equals the footer at the end',
        );
        assertBitmapBits(file, ops, size);
        // The spec's reading, done here on the raw file: a set bit shows the block's sector, a clear bit zeros.
        const layout = rawLayout(file, size);
        for (let sector = 0; sector * 512 < size; sector++) {
          const b = Math.floor((sector * 512) / block);
          const s = sector - b * 8;
          const at = layout.blocks[b]!;
          const present = at >= 0 && (file[at + (s >> 3)]! & (0x80 >> (s & 7))) !== 0;
          const len = Math.min(512, size - sector * 512);
          const got = present
            ? file.subarray(at + 512 + s * 512, at + 512 + s * 512 + len)
            : new Uint8Array(len);
          if (!Buffer.from(got).equals(model.subarray(sector * 512, sector * 512 + len)))
            assert.fail(`sector ${sector} differs from the model`);
        }
        run('rm', ['-f', path]);
      }),
      { numRuns: 40 },
    );
  } finally {
    t.cleanup();
  }
});

test('concurrent writes into the same unallocated blocks allocate each block once', async () => {
  const t = tempDir();
  try {
    const { empty } = baseImages(t.dir);
    const ops: Op[] = Array.from({ length: 12 }, (_, i) => ({
      offset: BLOCK + i * 300000 + (i % 3) * 77,
      length: 5000 + i * 1000,
      seed: i + 1,
    }));
    const model = new Uint8Array(SIZE);
    const dev = await openRw(empty);
    await Promise.all(
      ops.map((op) => {
        const data = bytesFor(op);
        model.set(data, op.offset);
        return dev.write(op.offset, data);
      }),
    );
    await dev.close();
    const file = new Uint8Array(readFileSync(empty));
    const layout = rawLayout(file, SIZE);
    assert.deepEqual(
      layout.blocks.map((b) => b >= 0),
      [false, true, true, false, false],
      'blocks 1 and 2 allocated, once each',
    );
    for (const at of layout.blocks.filter((b) => b >= 0))
      assert.equal((at + 512) % 4096, 0, 'block data 4 KiB-aligned');
    assert.equal(
      file.length,
      Math.max(...layout.blocks) + 512 + BLOCK + 512,
      'the footer follows the last block',
    );
    assertBitmapBits(file, ops);
    assert.ok(Buffer.from(libvhdiRead(empty)).equals(model));
    assert.ok(Buffer.from(qemuRead(empty, t.dir)).equals(model));
  } finally {
    t.cleanup();
  }
});
