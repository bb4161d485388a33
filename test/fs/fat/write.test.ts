import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { sha256File, tempDir } from '../../helpers/tools.js';
import {
  forgetNextFree,
  fsck,
  mget,
  mkfat,
  mshowfat,
  mtools,
  mput,
  openImage,
  pattern,
  SPECS,
  type FatSpec,
} from './fat-helpers.js';

const FILES = [
  '/EFI/Microsoft/Boot/BCD',
  '/EFI/Microsoft/Boot/bootmgfw.efi',
  '/a/A Long Name For A Fragmented File.bin',
  '/a/tiny.txt',
];

/** A volume holding FILES (the third one fragmented) plus an untouched bystander; returns the initial model. */
function baseVolume(dir: string, spec: FatSpec): { img: string; model: Map<string, Uint8Array> } {
  const img = mkfat(dir, 'base.img', spec);
  const cs = spec.sectorsPerCluster * 512;
  const model = new Map<string, Uint8Array>();
  mtools('mmd', ['-i', img, '::/EFI', '::/EFI/Microsoft', '::/EFI/Microsoft/Boot', '::/a']);
  const put = (path: string, data: Uint8Array): void => {
    mput(img, dir, path, data);
    model.set(path, data);
  };
  put(FILES[0]!, pattern(2 * cs + 100, 1));
  put(FILES[1]!, pattern(3 * cs, 2));
  put('/a/hole', pattern(2 * cs, 3));
  put('/a/bystander.dat', pattern(cs + 3, 4));
  mtools('mdel', ['-i', img, '::/a/hole']);
  model.delete('/a/hole');
  forgetNextFree(img);
  put(FILES[2]!, pattern(5 * cs + 1, 5));
  put(FILES[3]!, pattern(10, 6));
  assert.ok(mshowfat(img, FILES[2]!).length > 1, 'fixture file must be fragmented');
  assert.ok(fsck(img).clean);
  return { img, model };
}

type Op = {
  file: number;
  kind: 'same' | 'grow' | 'shrink0' | 'any';
  factor: number;
  extra: number;
  seed: number;
};

function newSize(old: number, op: Op, cs: number): number {
  switch (op.kind) {
    case 'same':
      return old;
    case 'grow':
      return old * op.factor + op.extra;
    case 'shrink0':
      return 0;
    case 'any':
      return op.factor * cs + (op.extra % 3) - 1 > 0 ? op.factor * cs + (op.extra % 3) - 1 : op.extra;
  }
}

const opArb = fc.record({
  file: fc.integer({ min: 0, max: FILES.length - 1 }),
  kind: fc.constantFrom<Op['kind']>('same', 'grow', 'shrink0', 'any'),
  factor: fc.integer({ min: 1, max: 4 }),
  extra: fc.integer({ min: 0, max: 3000 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

function modelTest(name: string, spec: FatSpec, numRuns: number): void {
  test(`fat write (${name}): random replace sequences match the model per mcopy, fsck.fat -n clean after each`, async () => {
    const { dir, cleanup } = tempDir('fat-write-');
    try {
      const base = baseVolume(dir, spec);
      const cs = spec.sectorsPerCluster * 512;
      const img = join(dir, 'work.img');
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 5 }), async (ops) => {
          execFileSync('cp', ['--sparse=always', base.img, img]);
          const model = new Map(base.model);
          for (const op of ops) {
            const path = FILES[op.file]!;
            const size = Math.min(newSize(model.get(path)!.length, op, cs), 40 * cs);
            const data = pattern(size, op.seed);
            const { vol, close } = await openImage(img);
            try {
              await vol.writeFile(path, data);
            } finally {
              await close();
            }
            model.set(path, data);
            const check = fsck(img);
            assert.ok(check.clean, `fsck.fat -n after ${path} → ${size}:\n${check.output}`);
            for (const [p, bytes] of model) assert.deepEqual(mget(img, dir, p), bytes, p);
          }
        }),
        { numRuns },
      );
    } finally {
      cleanup();
    }
  });
}

modelTest('fat32_512', SPECS.fat32_512!, 14);
modelTest('fat32_4k', SPECS.fat32_4k!, 4);
modelTest('fat16_2k', SPECS.fat16_2k!, 5);
modelTest('fat12_1k', SPECS.fat12_1k!, 5);

function rawAt(img: string, offset: number, length: number): Buffer {
  const fd = openSync(img, 'r');
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

function patch(img: string, offset: number, bytes: number[]): void {
  const fd = openSync(img, 'r+');
  try {
    writeSync(fd, new Uint8Array(bytes), 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

test('fat write: the long-name entries and every short-entry byte but size, time and cluster stay as they were', async () => {
  const { dir, cleanup } = tempDir('fat-entry-');
  try {
    const spec = SPECS.fat32_512!;
    const { img } = baseVolume(dir, spec);
    // /a's first cluster, then its raw directory cluster before and after.
    const aCluster = mshowfat(img, '/a')[0]![0];
    const dataStart = (() => {
      const b = rawAt(img, 0, 512);
      return (b.readUInt16LE(14) + b[16]! * b.readUInt32LE(36)) * 512;
    })();
    const before = rawAt(img, dataStart + (aCluster - 2) * 512, 512);
    const when = new Date(2031, 4, 6, 7, 8, 10);
    const { vol, close } = await openImage(img);
    await vol.writeFile(FILES[2]!, pattern(9000, 77), { modified: when });
    await close();
    const after = rawAt(img, dataStart + (aCluster - 2) * 512, 512);
    const changed: number[] = [];
    for (let i = 0; i < 512; i++) if (before[i] !== after[i]) changed.push(i);
    // Find the short entry of the file: the entry whose bytes changed.
    const entries = new Set(changed.map((i) => Math.floor(i / 32)));
    assert.equal(entries.size, 1, `one entry changed, not ${[...entries].join(',')}`);
    const fields = new Set(changed.map((i) => i % 32));
    for (const f of fields)
      assert.ok([20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31].includes(f), `byte ${f}`);
    const listing = mtools('mdir', ['-i', img, '::/a']);
    assert.match(listing, /9\s*000 2031-05-06\s+7:08\s+A Long Name For A Fragmented File\.bin/);
  } finally {
    cleanup();
  }
});

test('fat write: a volume marked dirty is refused unless forced; FAT copies that disagree are refused where touched', async () => {
  const { dir, cleanup } = tempDir('fat-refuse-');
  try {
    const spec = SPECS.fat32_512!;
    const { img } = baseVolume(dir, spec);
    const boot = rawAt(img, 0, 512);
    const fat0 = boot.readUInt16LE(14) * 512;
    const fatBytes = boot.readUInt32LE(36) * 512;
    const pristine = join(dir, 'pristine.img');
    execFileSync('cp', ['--sparse=always', img, pristine]);

    // Boot-sector dirty flag (BS_Reserved1 bit 0), confirmed by fsck.fat first.
    patch(img, 65, [boot[65]! | 1]);
    assert.match(fsck(img).output, /[Dd]irty bit/);
    const hash = await sha256File(img);
    let o = await openImage(img);
    assert.equal(o.vol.dirty, true);
    await assert.rejects(o.vol.writeFile(FILES[3]!, pattern(5, 1)), { code: 'fat.refused' });
    await o.close();
    assert.equal(await sha256File(img), hash, 'a refusal writes nothing');
    o = await openImage(img, { force: true });
    await o.vol.writeFile(FILES[3]!, pattern(5, 1));
    await o.close();
    assert.deepEqual(mget(img, dir, FILES[3]!), pattern(5, 1));

    // FAT[1] clean-shutdown bit cleared in both copies.
    execFileSync('cp', ['--sparse=always', pristine, img]);
    const fat1 = rawAt(img, fat0 + 4, 4).readUInt32LE(0);
    const cleared = (fat1 & ~0x08000000) >>> 0;
    const le = [cleared & 0xff, (cleared >>> 8) & 0xff, (cleared >>> 16) & 0xff, cleared >>> 24];
    patch(img, fat0 + 4, le);
    patch(img, fat0 + fatBytes + 4, le);
    o = await openImage(img);
    assert.equal(o.vol.dirty, true);
    await assert.rejects(o.vol.writeFile(FILES[3]!, pattern(5, 1)), { code: 'fat.refused' });
    await o.close();

    // The second FAT says something else about the first cluster of bootmgfw.efi.
    execFileSync('cp', ['--sparse=always', pristine, img]);
    const victim = mshowfat(img, FILES[1]!)[0]![0];
    patch(img, fat0 + fatBytes + victim * 4, [0xff, 0xff, 0xff, 0x0f]);
    assert.match(fsck(img).output, /FATs differ/);
    o = await openImage(img);
    assert.ok(o.vol.fatMismatches.includes(victim));
    await assert.rejects(o.vol.writeFile(FILES[1]!, pattern(100, 1)), { code: 'fat.refused' });
    // Another file's clusters agree: it may be rewritten, and the disagreeing entry is left as it was.
    await o.vol.writeFile(FILES[0]!, pattern(20000, 3));
    await o.close();
    assert.deepEqual(mget(img, dir, FILES[0]!), pattern(20000, 3));
    assert.deepEqual([...rawAt(img, fat0 + fatBytes + victim * 4, 4)], [0xff, 0xff, 0xff, 0x0f]);
  } finally {
    cleanup();
  }
});

test('fat write: growing past the free space is fat.full and writes nothing', async () => {
  const { dir, cleanup } = tempDir('fat-full-');
  try {
    const { img } = baseVolume(dir, SPECS.fat12_1k!);
    const hash = await sha256File(img);
    const { vol, close } = await openImage(img);
    const free = vol.freeClusters;
    await assert.rejects(vol.writeFile(FILES[3]!, new Uint8Array((free + 2) * 1024)), { code: 'fat.full' });
    await close();
    assert.equal(await sha256File(img), hash);
    // Exactly the free space fits.
    const o = await openImage(img);
    const exact = pattern((free + 1) * 1024, 9); // the file's own cluster plus every free one
    await o.vol.writeFile(FILES[3]!, exact);
    await o.close();
    assert.ok(fsck(img).clean, fsck(img).output);
    assert.deepEqual(mget(img, dir, FILES[3]!), exact);
  } finally {
    cleanup();
  }
});
