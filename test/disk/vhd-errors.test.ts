import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { WinrescueError, type ErrorCode } from '../../src/errors.js';
import { ImageFileHandle } from '../../src/disk/file-device.js';
import { detectVhd, openVhd } from '../../src/disk/vhd/index.js';
import { MemoryDevice } from '../../src/disk/memory-device.js';
import { run, tempDir } from '../helpers/tools.js';
import { MemoryImageFile, buildSparseVhd, checksum, randomRaw, writeFile } from './vhd-oracles.js';

const MiB = 1024 * 1024;
const SIZE = 3 * MiB;

/** Small qemu-made images: dynamic with blocks 0 and 1 allocated (block 1 partly zero), and fixed. */
function qemuImages(): { dynamic: Uint8Array; fixed: Uint8Array } {
  const t = tempDir();
  try {
    const rawPath = writeFile(join(t.dir, 'src.raw'), randomRaw(SIZE, [[2 * MiB + 4096, MiB]]));
    const out: Record<string, Uint8Array> = {};
    for (const sub of ['dynamic', 'fixed']) {
      const path = join(t.dir, `${sub}.vhd`);
      run('qemu-img', [
        'convert',
        '-f',
        'raw',
        '-O',
        'vpc',
        '-o',
        `subformat=${sub},force_size=on`,
        rawPath,
        path,
      ]);
      out[sub] = new Uint8Array(readFileSync(path));
    }
    return { dynamic: out.dynamic!, fixed: out.fixed! };
  } finally {
    t.cleanup();
  }
}
const images = qemuImages();
// qemu's layout, checked here so the offsets below mean what they say
const HEADER = 512;
const BAT = 0x600;
assert.equal(new TextDecoder().decode(images.dynamic.subarray(HEADER, HEADER + 8)), 'cxsparse');
assert.equal(new DataView(images.dynamic.buffer).getBigUint64(HEADER + 16), BigInt(BAT));

const be = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const fixFooter = (b: Uint8Array, at: number) =>
  be(b).setUint32(at + 64, checksum(b.subarray(at, at + 512), 64));
const fixHeader = (b: Uint8Array) =>
  be(b).setUint32(HEADER + 36, checksum(b.subarray(HEADER, HEADER + 1024), 36));
/** Both footers of a dynamic image, edited alike and checksummed again. */
function editFooters(b: Uint8Array, edit: (footer: DataView) => void): Uint8Array {
  for (const at of [0, b.length - 512]) {
    edit(be(b.subarray(at, at + 512)));
    fixFooter(b, at);
  }
  return b;
}

async function openBytes(bytes: Uint8Array, readOnly = true) {
  const dev = await openVhd(new MemoryImageFile(bytes, 'damaged.vhd', readOnly), { readOnly });
  for (let o = 0; o < Math.min(dev.size, 64 * MiB); o += MiB) await dev.read(o, Math.min(MiB, dev.size - o));
  return dev;
}

async function rejectsWith(bytes: Uint8Array, code: ErrorCode, message?: RegExp): Promise<WinrescueError> {
  let caught: unknown;
  try {
    await openBytes(bytes);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof WinrescueError, `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

test('the undamaged images open (the cases below each change one thing)', async () => {
  await openBytes(images.dynamic.slice());
  await openBytes(images.fixed.slice());
});

test('zero-length and tiny files', async () => {
  const t = tempDir();
  try {
    const empty = join(t.dir, 'empty.vhd');
    writeFileSync(empty, '');
    await assert.rejects(
      ImageFileHandle.open(empty, true),
      (e: unknown) => e instanceof WinrescueError && e.code === 'disk.empty',
    );
    const zero = new MemoryImageFile(new Uint8Array(0));
    assert.equal(await detectVhd(zero), false);
    await rejectsWith(new Uint8Array(0), 'disk.empty');
    assert.equal(
      await detectVhd(new MemoryImageFile(images.dynamic.slice(0, 300))),
      false,
      'too small to hold a footer, even with the cookie',
    );
    await rejectsWith(images.dynamic.slice(0, 300), 'disk.truncated');
  } finally {
    t.cleanup();
  }
});

test('truncated files: a dynamic image cut short, a fixed image with data missing', async () => {
  const cut = images.dynamic.slice(0, images.dynamic.length - 100000);
  assert.equal(await detectVhd(new MemoryImageFile(cut)), true, 'still recognised by its footer copy');
  await rejectsWith(cut, 'disk.truncated', /no footer at the end .* valid copy is at offset 0/);
  const footer = images.fixed.subarray(-512);
  const short = new Uint8Array(SIZE - MiB + 512);
  short.set(images.fixed.subarray(0, SIZE - MiB));
  short.set(footer, SIZE - MiB);
  await rejectsWith(
    short,
    'disk.truncated',
    new RegExp(`holds ${SIZE - MiB} bytes of data before its footer, the footer says ${SIZE}`),
  );
});

test('bad checksums: footer (fixed and dynamic) and dynamic disk header', async () => {
  for (const img of [images.fixed, images.dynamic]) {
    const b = img.slice();
    b[b.length - 512 + 100] = b[b.length - 512 + 100]! ^ 0x40;
    const e = await rejectsWith(b, 'disk.badChecksum', /footer at 0x[0-9a-f]+: checksum should be 0x/);
    assert.equal(e.offset, b.length - 512 + 64);
    assert.equal(e.structure, 'vhd.footer');
  }
  const h = images.dynamic.slice();
  h[HEADER + 800] = h[HEADER + 800]! ^ 1;
  const e = await rejectsWith(h, 'disk.badChecksum', /dynamic disk header at 0x200: checksum/);
  assert.equal(e.structure, 'vhd.dynamicHeader');
  assert.equal(e.offset, HEADER + 36);
});

test('footer cookie wrong → disk.badSignature; header cookie wrong too', async () => {
  for (const img of [images.dynamic, images.fixed]) {
    const b = img.slice();
    b[b.length - 512] = 'C'.charCodeAt(0);
    await rejectsWith(b, 'disk.badSignature', /cookie should be "conectix", is "Conectix"/);
  }
  assert.equal(await detectVhd(new MemoryImageFile(images.dynamic.slice(0, -512))), true);
  const fixedNoCookie = images.fixed.slice();
  fixedNoCookie.fill(0, fixedNoCookie.length - 512, fixedNoCookie.length - 504);
  assert.equal(
    await detectVhd(new MemoryImageFile(fixedNoCookie)),
    false,
    'a fixed image without its cookie is just bytes',
  );
  const h = images.dynamic.slice();
  h[HEADER] = 0;
  fixHeader(h);
  await rejectsWith(h, 'disk.badSignature', /dynamic disk header at 0x200: cookie should be "cxsparse"/);
});

test('BAT entry past the end of the file, BAT entries overlapping, BAT entry in the header', async () => {
  const b = images.dynamic.slice();
  be(b).setUint32(BAT + 4, 0x100000);
  const e = await rejectsWith(
    b,
    'disk.badField',
    new RegExp(
      `^dynamic VHD damaged.vhd: BAT entry 1 points at sector 0x100000, past the end of the file \\(0x${b.length.toString(16)} bytes\\)$`,
    ),
  );
  assert.equal(e.offset, BAT + 4);
  assert.equal(e.record, 1);
  const twice = images.dynamic.slice();
  be(twice).setUint32(BAT + 4, be(twice).getUint32(BAT) + 1);
  await rejectsWith(twice, 'disk.badField', /BAT entries 0 and 1 point at overlapping blocks/);
  const inHeader = images.dynamic.slice();
  be(inHeader).setUint32(BAT + 4, 2);
  await rejectsWith(
    inHeader,
    'disk.badField',
    /BAT entry 1 points at sector 0x2, inside the dynamic disk header/,
  );
});

test('impossible header and footer fields', async () => {
  const bs = images.dynamic.slice();
  be(bs).setUint32(HEADER + 32, 3 * 512 * 1024);
  fixHeader(bs);
  await rejectsWith(bs, 'disk.badField', /block size 1572864 is not a power of two/);
  const huge = images.dynamic.slice();
  be(huge).setUint32(HEADER + 32, 1 << 30);
  fixHeader(huge);
  await rejectsWith(huge, 'disk.unsupported', /block size 1073741824 is larger than/);
  const few = images.dynamic.slice();
  be(few).setUint32(HEADER + 28, 1);
  fixHeader(few);
  await rejectsWith(few, 'disk.badField', /BAT has 1 entries, the 3145728-byte disk needs 2 blocks/);
  const many = images.dynamic.slice();
  be(many).setUint32(HEADER + 28, 0x40000000);
  fixHeader(many);
  await rejectsWith(many, 'disk.truncated', /BAT at 0x600 \(4294967296 bytes\) runs past the footer/);
  await rejectsWith(
    editFooters(images.dynamic.slice(), (f) => f.setUint32(60, 5)),
    'disk.unsupported',
    /disk type 5 is not fixed/,
  );
  await rejectsWith(
    editFooters(images.dynamic.slice(), (f) => f.setBigUint64(16, 0x10n)),
    'disk.badField',
    /footer data offset 0x10 does not leave room/,
  );
  await rejectsWith(
    editFooters(images.dynamic.slice(), (f) => f.setBigUint64(48, 1000n)),
    'disk.badField',
    /current size 1000 is not a positive multiple of 512/,
  );
  await rejectsWith(
    editFooters(images.dynamic.slice(), (f) => f.setBigUint64(48, 1n << 60n)),
    'disk.badField',
    /current size 1152921504606846976 is beyond any real disk/,
  );
  await rejectsWith(
    editFooters(images.dynamic.slice(), (f) => f.setUint32(12, 0x20000)),
    'disk.unsupported',
    /format version 0x20000 is not 1.x/,
  );
});

/** Bytes of the structures a mutation may hit, so most mutations land where parsing happens. */
function mutate(
  bytes: Uint8Array,
  regions: ReadonlyArray<readonly [number, number]>,
  edits: ReadonlyArray<{ region: number; at: number; value: number }>,
  fix: boolean,
  resize: number,
): Uint8Array {
  let b = bytes.slice();
  for (const e of edits) {
    const [start, len] = regions[e.region % regions.length]!;
    b[start + (e.at % len)] = e.value;
  }
  if (fix) {
    if (b.subarray(0, 8).every((x, i) => x === 'conectix'.charCodeAt(i))) fixFooter(b, 0);
    fixFooter(b, b.length - 512);
    fixHeader(b);
  }
  if (resize !== 0) {
    const n = Math.max(0, b.length + resize * 512);
    const r = new Uint8Array(n);
    r.set(b.subarray(0, Math.min(n, b.length)));
    b = r;
  }
  return b;
}

const editArb = fc.array(
  fc.record({ region: fc.nat(), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  {
    minLength: 1,
    maxLength: 6,
  },
);

async function survives(
  bytes: Uint8Array,
  write: boolean,
  openParent?: (p: string) => Promise<MemoryDevice & { vhdUniqueId: string }>,
) {
  const started = Date.now();
  try {
    const file = new MemoryImageFile(bytes, 'fuzz.vhd', !write);
    const dev = await openVhd(file, { readOnly: !write, openParent });
    for (let o = 0; o < Math.min(dev.size, 16 * MiB); o += MiB)
      await dev.read(o, Math.min(MiB, dev.size - o));
    if (dev.size > 16 * MiB) await dev.read(dev.size - 4096, 4096);
    if (write && !dev.readOnly) {
      await dev.write(Math.floor(dev.size / 3) - 700, new Uint8Array(5000).fill(7));
      await dev.write(dev.size - 512, new Uint8Array(512).fill(9));
    }
    await dev.close();
  } catch (e) {
    if (!(e instanceof WinrescueError)) throw e;
  }
  assert.ok(Date.now() - started < 3000, 'one open + read took more than 3 s');
}

test('fuzz: 400 mutations of footers, header and BAT of a dynamic VHD give success or a WinrescueError', async () => {
  const b = images.dynamic;
  const regions = [
    [0, 512],
    [HEADER, 1024],
    [BAT, 512],
    [b.length - 512, 512],
    [HEADER + 8, 40], // the header's numeric fields, hit more often
    [b.length - 512 + 16, 48], // the footer's offsets and sizes
  ] as const;
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(
      editArb,
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: -3, max: 3 }),
      async (edits, fix, write, resize) => {
        await survives(mutate(b, regions, edits, fix, fix ? 0 : resize), write);
      },
    ),
    { numRuns: 400 },
  );
  assert.ok(Date.now() - started < 30000);
});

test('fuzz: 300 mutations of a differencing VHD (header, parent locators, BAT, bitmaps) give success or a WinrescueError', async () => {
  const size = 256 * 1024;
  const parentBytes = randomRaw(size, []);
  const parentId = new Uint8Array(16).fill(0xab);
  const parentIdString = 'abababab-abab-abab-abab-abababababab';
  const blocks = new Map(
    [1, 2, 5, 9, 30, 63].map((i) => [
      i,
      { present: Array.from({ length: 8 }, (_, s) => (i + s) % 3 === 0), data: randomRaw(4096, []) },
    ]),
  );
  const child = buildSparseVhd({
    size,
    blockSize: 4096,
    parentId,
    parentTimeStamp: 7,
    parentName: 'parent.vhd',
    locators: [
      ['W2ru', '.\\parent.vhd'],
      ['W2ku', 'C:\\x\\parent.vhd'],
      ['MacX', 'file://localhost/tmp/parent.vhd'],
    ],
    blocks,
  });
  const openParent = async () =>
    Object.assign(new MemoryDevice(parentBytes.slice(), { readOnly: true, description: 'parent' }), {
      vhdUniqueId: parentIdString,
    });
  await survives(child, false, openParent);
  const dev = await openVhd(new MemoryImageFile(child), { readOnly: true, openParent });
  assert.equal(dev.format, 'vhd-differencing', 'the unmutated child opens over its parent');
  await dev.close();
  const regions = [
    [HEADER, 1024],
    [HEADER + 576, 3 * 24], // the three locator entries
    [1536, 512], // BAT
    [1536 + 512, 3 * 512], // locator data
    [child.length - 512, 512],
  ] as const;
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(editArb, fc.boolean(), async (edits, fix) => {
      await survives(mutate(child, regions, edits, fix, 0), false, openParent);
    }),
    { numRuns: 300 },
  );
  assert.ok(Date.now() - started < 30000);
});
