import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, readSync, truncateSync, writeSync } from 'node:fs';
import fc from 'fast-check';
import { MemoryDevice } from '../../../src/disk/memory-device.js';
import { OverlayDevice } from '../../../src/disk/overlay-device.js';
import { WinrescueError } from '../../../src/errors.js';
import { openFat, type FatVolume } from '../../../src/fs/fat/index.js';
import { tempDir } from '../../helpers/tools.js';
import { fsck, mkfat, mshowfat, mtools, mput, openImage, pattern, SPECS } from './fat-helpers.js';

function patch(img: string, offset: number, bytes: number[]): void {
  const fd = openSync(img, 'r+');
  try {
    writeSync(fd, new Uint8Array(bytes), 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

function head(img: string): Buffer {
  const fd = openSync(img, 'r');
  try {
    const b = Buffer.alloc(512);
    readSync(fd, b, 0, 512, 0);
    return b;
  } finally {
    closeSync(fd);
  }
}

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const isTyped = (code: string) => (e: unknown) => e instanceof WinrescueError && e.code === code;

/** A small FAT32 volume with a 4-cluster file, a nested directory and a file in it. */
function smallVolume(dir: string): { img: string; fat0: number; fatBytes: number; clusters: number } {
  const img = mkfat(dir, 'd.img', SPECS.fat32_512!);
  mtools('mmd', ['-i', img, '::/dir']);
  mput(img, dir, '/file.bin', pattern(4 * 512, 1));
  mput(img, dir, '/dir/inner.txt', pattern(700, 2));
  const b = head(img);
  return {
    img,
    fat0: b.readUInt16LE(14) * 512,
    fatBytes: b.readUInt32LE(36) * 512,
    clusters: Math.floor((b.readUInt32LE(32) - b.readUInt16LE(14) - 2 * b.readUInt32LE(36)) / b[13]!),
  };
}

test('fat damage: chain loops and cluster numbers past the end are fat.badChain (confirmed by fsck.fat), never a hang', async () => {
  const { dir, cleanup } = tempDir('fat-damage-');
  try {
    const v = smallVolume(dir);
    const chain = mshowfat(v.img, '/file.bin');
    assert.deepEqual(chain.length, 1);
    const [first, last] = chain[0]!;
    const setBoth = (cluster: number, value: number): void => {
      patch(v.img, v.fat0 + cluster * 4, le32(value));
      patch(v.img, v.fat0 + v.fatBytes + cluster * 4, le32(value));
    };
    // Loop: the last cluster points back at the first.
    setBoth(last, first);
    assert.ok(!fsck(v.img).clean, 'fsck.fat sees the loop');
    let o = await openImage(v.img);
    await assert.rejects(o.vol.readFile('/file.bin'), isTyped('fat.badChain'));
    await assert.rejects(o.vol.writeFile('/file.bin', new Uint8Array(10)), isTyped('fat.badChain'));
    await o.close();
    // Past the end of the volume.
    setBoth(last, v.clusters + 50);
    assert.ok(!fsck(v.img).clean, 'fsck.fat sees the bad cluster number');
    o = await openImage(v.img);
    await assert.rejects(o.vol.readFile('/file.bin'), isTyped('fat.badChain'));
    await o.close();
    // A free entry in the middle of a chain.
    setBoth(last, 0x0fffffff);
    setBoth(first + 1, 0);
    assert.ok(!fsck(v.img).clean);
    o = await openImage(v.img);
    await assert.rejects(o.vol.readFile('/file.bin'), isTyped('fat.badChain'));
    // A directory that loops onto itself.
    const dirCluster = mshowfat(v.img, '/dir')[0]![0];
    await o.close();
    setBoth(dirCluster, dirCluster);
    o = await openImage(v.img);
    await assert.rejects(o.vol.readdir('/dir'), isTyped('fat.badChain'));
    await assert.rejects(o.vol.readFile('/dir/inner.txt'), isTyped('fat.badChain'));
    await o.close();
  } finally {
    cleanup();
  }
});

test('fat damage: bad BPB fields are fat.badBootSector; a truncated image is a typed error', async () => {
  const { dir, cleanup } = tempDir('fat-bpb-');
  try {
    const v = smallVolume(dir);
    const pristine = readFileSync(v.img).subarray(0, 512);
    const cases: [string, number, number[]][] = [
      ['bytes per sector 513', 11, [0x01, 0x02]],
      ['sectors per cluster 3', 13, [3]],
      ['no reserved sectors', 14, [0, 0]],
      ['no FATs', 16, [0]],
      ['no signature', 510, [0, 0]],
      ['FAT size 0', 36, [0, 0, 0, 0]],
      ['root cluster past the end', 44, le32(0x0ffffff0)],
    ];
    for (const [what, at, bytes] of cases) {
      patch(v.img, 0, [...pristine]);
      patch(v.img, at, bytes);
      const dev = new MemoryDevice(new Uint8Array(readFileSync(v.img)));
      await assert.rejects(openFat(dev), isTyped('fat.badBootSector'), what);
    }
    patch(v.img, 0, [...pristine]);
    truncateSync(v.img, v.fat0 + 2 * v.fatBytes + 512); // FATs and the root cluster whole, the rest cut off
    const o = await openImage(v.img);
    assert.deepEqual((await o.vol.readdir('/')).map((e) => e.name).sort(), ['dir', 'file.bin']);
    await assert.rejects(o.vol.readFile('/dir/inner.txt'), isTyped('disk.outOfRange'));
    await o.close();
    truncateSync(v.img, 200 * 1024); // inside the first FAT
    await assert.rejects(
      openImage(v.img).then((o) => o.close()),
      isTyped('disk.truncated'),
    );
  } finally {
    cleanup();
  }
});

/** Walks everything reachable; each failure must be a typed error. Returns how many failures were typed. */
async function walk(vol: FatVolume, path: string, depth: number): Promise<void> {
  if (depth > 4) return;
  for (const e of await vol.readdir(path)) {
    if (e.type === 'dir') await walk(vol, e.path, depth + 1);
    else if (e.size < 1 << 20) await vol.readFile(e.path);
  }
}

test('fat damage: 400 random mutations of boot sector, FATs and directories give typed errors or valid reads', async () => {
  const { dir, cleanup } = tempDir('fat-fuzz-');
  try {
    const img = mkfat(dir, 'f.img', SPECS.fat12_1k!);
    mtools('mmd', ['-i', img, '::/EFI', '::/EFI/Microsoft']);
    mput(img, dir, '/EFI/Microsoft/A long BCD name', pattern(5000, 1));
    mput(img, dir, '/EFI/b.txt', pattern(300, 2));
    mput(img, dir, '/root file.dat', pattern(9000, 3));
    const base = new Uint8Array(readFileSync(img));
    const ro = new MemoryDevice(base, { readOnly: true });
    const region = fc.oneof(
      fc.integer({ min: 0, max: 511 }), // boot sector
      fc.integer({ min: 512, max: 512 + 2047 }), // both FAT copies (small)
      fc.integer({ min: 512 + 2048, max: 512 + 2048 + 16 * 1024 }), // root directory and first clusters
    );
    let typed = 0;
    let fine = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(region, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        async (mutations, write) => {
          const dev = new OverlayDevice(ro);
          for (const [at, value] of mutations) await dev.write(at, new Uint8Array([value]));
          try {
            const vol = await openFat(dev, { force: true });
            await walk(vol, '/', 0);
            if (write) {
              await vol.writeFile('/EFI/Microsoft/A long BCD name', pattern(7000, 9));
              await vol.writeFile('/EFI/a new file with a long name.txt', pattern(3000, 8));
            }
            fine++;
          } catch (e) {
            assert.ok(e instanceof WinrescueError, `untyped: ${String(e)}`);
            typed++;
          }
        },
      ),
      { numRuns: 400 },
    );
    assert.ok(typed > 20 && fine > 20, `both outcomes happen: ${typed} typed errors, ${fine} clean walks`);
  } finally {
    cleanup();
  }
});
