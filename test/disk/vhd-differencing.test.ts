import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { WinrescueError } from '../../src/errors.js';
import type { BlockDevice } from '../../src/disk/block-device.js';
import { ImageFileHandle } from '../../src/disk/file-device.js';
import { openVhd, type VhdDevice } from '../../src/disk/vhd/index.js';
import { run, sha256, tempDir } from '../helpers/tools.js';
import { buildSparseVhd, type ChildBlock, libvhdiRead, randomRaw, writeFile } from './vhd-oracles.js';

const MiB = 1024 * 1024;
const SIZE = 6 * MiB + 3 * 512;
const CHILD_BLOCK = 64 * 1024;

const tried: string[] = [];
async function openParent(path: string): Promise<BlockDevice> {
  tried.push(path);
  return openVhd(await ImageFileHandle.open(path, true), { readOnly: true, openParent });
}

async function openChild(path: string): Promise<VhdDevice> {
  return openVhd(await ImageFileHandle.open(path, true), { readOnly: true, openParent });
}

function footerOf(path: string): { id: Uint8Array; time: number } {
  const f = readFileSync(path).subarray(-512);
  return { id: new Uint8Array(f.subarray(68, 84)), time: f.readUInt32BE(24) };
}

/**
 * Child blocks with bitmaps libvhdi reads right (each byte 0…01…1, see vhd-read.test.ts) and random bytes behind
 * the clear bits; `expected` is the spec's reading over `under`.
 */
function childOver(
  under: Uint8Array,
  salt: number,
): { blocks: Map<number, ChildBlock>; expected: Uint8Array } {
  const blocks = new Map<number, ChildBlock>();
  const expected = new Uint8Array(under);
  const sectors = CHILD_BLOCK / 512;
  for (let b = 0; b < Math.ceil(SIZE / CHILD_BLOCK); b++) {
    if ((b + salt) % 4 === 0) continue;
    const present = Array.from(
      { length: sectors },
      (_, s) => s % 8 >= 8 - ((b * 5 + (s >> 3) * 3 + salt) % 9),
    );
    const data = randomRaw(CHILD_BLOCK, []);
    blocks.set(b, { present, data });
    present.forEach((p, s) => {
      const at = b * CHILD_BLOCK + s * 512;
      if (p && at < SIZE) expected.set(data.subarray(s * 512, s * 512 + Math.min(512, SIZE - at)), at);
    });
  }
  return { blocks, expected };
}

function makeParent(dir: string): { path: string; bytes: Uint8Array } {
  mkdirSync(join(dir, 'base'), { recursive: true });
  const raw = randomRaw(SIZE, [[2 * MiB, 2 * MiB]]);
  const rawPath = writeFile(join(dir, 'parent.raw'), raw);
  const path = join(dir, 'base', 'parent.vhd');
  run('qemu-img', [
    'convert',
    '-f',
    'raw',
    '-O',
    'vpc',
    '-o',
    'subformat=dynamic,force_size=on',
    rawPath,
    path,
  ]);
  return { path, bytes: raw };
}

const isCode = (code: string) => (e: unknown) => e instanceof WinrescueError && e.code === code;

test('qemu-img cannot make a VHD child, so the children here are built by hand from the spec', () => {
  const t = tempDir();
  try {
    run('qemu-img', ['create', '-q', '-f', 'vpc', join(t.dir, 'p.vhd'), '1M']);
    const r = (() => {
      try {
        run('qemu-img', [
          'create',
          '-f',
          'vpc',
          '-b',
          join(t.dir, 'p.vhd'),
          '-F',
          'vpc',
          join(t.dir, 'c.vhd'),
        ]);
        return 'made';
      } catch (e) {
        return String((e as { stderr?: Buffer }).stderr ?? e);
      }
    })();
    assert.match(
      r,
      /not supported/,
      'if qemu-img learns to make VHD children, use it here as a second oracle',
    );
  } finally {
    t.cleanup();
  }
});

test('differencing VHD: sectors come from the child where its bitmap says so, else from the parent; libvhdi agrees', async () => {
  const t = tempDir();
  try {
    const parent = makeParent(t.dir);
    const pf = footerOf(parent.path);
    const { blocks, expected } = childOver(parent.bytes, 0);
    const childPath = writeFile(
      join(t.dir, 'child.vhd'),
      buildSparseVhd({
        size: SIZE,
        blockSize: CHILD_BLOCK,
        parentId: pf.id,
        parentTimeStamp: pf.time,
        parentName: 'parent.vhd',
        locators: [
          ['W2ku', 'C:\\VMs\\base\\parent.vhd'],
          ['W2ru', '.\\base\\parent.vhd'],
        ],
        blocks,
      }),
    );
    const viaLibvhdi = libvhdiRead(childPath, parent.path);
    assert.equal(sha256(viaLibvhdi), sha256(expected), 'libvhdi agrees with the model');

    tried.length = 0;
    const dev = await openChild(childPath);
    assert.equal(dev.format, 'vhd-differencing');
    assert.equal(dev.readOnly, true);
    assert.equal((dev as VhdDevice & { parentPath: string }).parentPath, parent.path);
    assert.deepEqual(tried, [parent.path], 'the relative W2ru locator is tried first and found');
    assert.deepEqual(dev.warnings, [
      `differencing VHD child.vhd: virtual size ${SIZE} is not a multiple of 1 MiB (Azure requires it)`,
    ]);
    const ours = await dev.read(0, SIZE);
    assert.equal(sha256(ours), sha256(expected));
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: SIZE - 1 }), fc.integer({ min: 1, max: 300000 }), async (at, len) => {
        const n = Math.min(len, SIZE - at);
        assert.ok(Buffer.from(await dev.read(at, n)).equals(expected.subarray(at, at + n)));
      }),
      { numRuns: 60 },
    );
    await dev.close();

    // a grandchild over the child: a chain of three, libvhdi given the whole chain
    const cf = footerOf(childPath);
    const second = childOver(expected, 1);
    const grandPath = writeFile(
      join(t.dir, 'grandchild.vhd'),
      buildSparseVhd({
        size: SIZE,
        blockSize: CHILD_BLOCK,
        parentId: cf.id,
        parentTimeStamp: cf.time,
        parentName: 'child.vhd',
        locators: [['W2ru', '.\\child.vhd']],
        blocks: second.blocks,
      }),
    );
    assert.equal(
      sha256(libvhdiRead(grandPath, childPath, parent.path)),
      sha256(second.expected),
      'libvhdi agrees on the chain',
    );
    const grand = await openChild(grandPath);
    assert.equal(sha256(await grand.read(0, SIZE)), sha256(second.expected));
    await grand.close();
  } finally {
    t.cleanup();
  }
});

test("parent lookup falls back to the parent's name in the child's folder, and follows MacX file URLs", async () => {
  const t = tempDir();
  try {
    const parent = makeParent(t.dir);
    const pf = footerOf(parent.path);
    const { blocks, expected } = childOver(parent.bytes, 2);
    const spec = { size: SIZE, blockSize: CHILD_BLOCK, parentId: pf.id, parentTimeStamp: pf.time, blocks };

    const moved = writeFile(
      join(t.dir, 'moved.vhd'),
      buildSparseVhd({
        ...spec,
        parentName: 'C:\\old\\parent.vhd',
        locators: [['W2ru', '..\\elsewhere\\parent.vhd']],
      }),
    );
    copyFileSync(parent.path, join(t.dir, 'parent.vhd'));
    tried.length = 0;
    const dev = await openChild(moved);
    assert.deepEqual(tried, [join(t.dir, '..', 'elsewhere', 'parent.vhd'), join(t.dir, 'parent.vhd')]);
    assert.equal(sha256(await dev.read(0, SIZE)), sha256(expected));
    await dev.close();

    const mac = writeFile(
      join(t.dir, 'sub-mac.vhd'),
      buildSparseVhd({
        ...spec,
        parentName: '',
        locators: [['MacX', `file://localhost${encodeURI(parent.path)}`]],
      }),
    );
    const viaMac = await openChild(mac);
    assert.equal((viaMac as VhdDevice & { parentPath: string }).parentPath, parent.path);
    assert.equal(sha256(await viaMac.read(0, SIZE)), sha256(expected));
    await viaMac.close();
  } finally {
    t.cleanup();
  }
});

test('parent missing → disk.parentMissing naming the paths tried; another image there → disk.parentMismatch', async () => {
  const t = tempDir();
  try {
    const parent = makeParent(t.dir);
    const pf = footerOf(parent.path);
    const { blocks } = childOver(parent.bytes, 3);
    const childPath = writeFile(
      join(t.dir, 'child.vhd'),
      buildSparseVhd({
        size: SIZE,
        blockSize: CHILD_BLOCK,
        parentId: pf.id,
        parentTimeStamp: pf.time,
        parentName: 'parent.vhd',
        locators: [['W2ru', '.\\base\\parent.vhd']],
        blocks,
      }),
    );
    // the right parent opens; writing to a child is refused at open
    await (await openChild(childPath)).close();
    await assert.rejects(
      openVhd(await ImageFileHandle.open(childPath, false), { readOnly: false, openParent }),
      isCode('disk.unsupported'),
    );
    await assert.rejects(
      openVhd(await ImageFileHandle.open(childPath, true), { readOnly: true }),
      isCode('disk.unsupported'),
    );

    // another VHD of the same size where the parent should be
    run('qemu-img', [
      'create',
      '-q',
      '-f',
      'vpc',
      '-o',
      'subformat=dynamic,force_size=on',
      join(t.dir, 'other.vhd'),
      String(SIZE),
    ]);
    copyFileSync(parent.path, join(t.dir, 'saved.vhd'));
    copyFileSync(join(t.dir, 'other.vhd'), parent.path);
    await assert.rejects(openChild(childPath), (e: unknown) => {
      assert.ok(e instanceof WinrescueError && e.code === 'disk.parentMismatch', String(e));
      assert.match(e.message, /unique id/);
      assert.equal(
        e.expected,
        footerOf(join(t.dir, 'saved.vhd'))
          .id.reduce((s, x) => s + x.toString(16).padStart(2, '0'), '')
          .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-'),
      );
      return true;
    });

    run('rm', ['-f', parent.path]);
    await assert.rejects(openChild(childPath), (e: unknown) => {
      assert.ok(e instanceof WinrescueError && e.code === 'disk.parentMissing', String(e));
      assert.ok(e.message.includes(join(t.dir, 'base', 'parent.vhd')), e.message);
      assert.ok(e.message.includes(join(t.dir, 'parent.vhd')), e.message);
      assert.equal(e.exitCode, 2);
      return true;
    });
  } finally {
    t.cleanup();
  }
});
