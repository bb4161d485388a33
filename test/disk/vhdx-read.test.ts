// VHDX reading judged by qemu-img and libvhdi: Windows-made images, qemu-made images (fixed, dynamic, 1 MiB and
// default blocks, zero regions), and a 4096-byte-sector image (qemu 7.2 cannot open those: libvhdi judges alone).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageFileHandle } from '../../src/disk/file-device.js';
import { createVhdx, detectVhdx, openVhdx, type VhdxDevice } from '../../src/disk/vhdx/index.js';
import { WinrescueError } from '../../src/errors.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { SYSTEM_PYTHON, run, runStatus, sha256, sha256File, tempDir } from '../helpers/tools.js';

const MIB = 1 << 20;

/** sha256 of the whole virtual disk as libvhdi reads it (optionally with a parent). */
function libvhdiSha(path: string, parent?: string): string {
  const script = [
    'import hashlib, sys, pyvhdi',
    'f = pyvhdi.file(); f.open(sys.argv[1])',
    'if len(sys.argv) > 2:',
    '    p = pyvhdi.file(); p.open(sys.argv[2]); f.set_parent(p)',
    'h = hashlib.sha256(); size = f.get_media_size(); off = 0',
    'while off < size:',
    '    n = min(1 << 22, size - off); h.update(f.read_buffer_at_offset(n, off)); off += n',
    'print(h.hexdigest())',
  ].join('\n');
  return run(SYSTEM_PYTHON, ['-c', script, path, ...(parent ? [parent] : [])])
    .toString()
    .trim();
}

async function qemuSha(path: string, dir: string): Promise<string> {
  const out = join(dir, `qemu-${Math.random().toString(36).slice(2)}.raw`);
  run('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', path, out]);
  return sha256File(out);
}

async function openPath(path: string, readOnly = true): Promise<VhdxDevice> {
  const file = await ImageFileHandle.open(path, readOnly);
  try {
    return await openVhdx(file, { readOnly });
  } catch (e) {
    await file.close();
    throw e;
  }
}

async function readAll(dev: VhdxDevice): Promise<Uint8Array> {
  const out = new Uint8Array(dev.size);
  const step = 3 * MIB + 512; // deliberately not block aligned
  for (let o = 0; o < dev.size; o += step) out.set(await dev.read(o, Math.min(step, dev.size - o)), o);
  return out;
}

for (const name of ['fixed', 'dynamic'] as const) {
  test(
    `Windows-made ${name}.vhdx reads byte-identical to qemu-img and libvhdi`,
    { skip: sharedSkip() },
    async () => {
      const { dir, cleanup } = tempDir();
      try {
        const path = testdataFile(`vhd/${name}.vhdx.gz`);
        const file = await ImageFileHandle.open(path, true);
        assert.equal(await detectVhdx(file), true);
        await file.close();
        const dev = await openPath(path);
        try {
          assert.equal(dev.format, 'vhdx');
          assert.equal(dev.subformat, name);
          assert.equal(dev.size, 10 * MIB);
          assert.equal(dev.sectorSize, 512);
          assert.equal(dev.physicalSectorSize, 4096);
          assert.deepEqual(dev.warnings, []);
          assert.match(dev.creator, /Microsoft Windows/);
          const ours = sha256(await readAll(dev));
          assert.equal(ours, await qemuSha(path, dir));
          assert.equal(ours, libvhdiSha(path));
          // libvhdi calls the header's DataWriteGuid the image identifier.
          const ident = run(SYSTEM_PYTHON, [
            '-c',
            'import pyvhdi,sys; f=pyvhdi.file(); f.open(sys.argv[1]); print(f.identifier)',
            path,
          ]);
          assert.equal(dev.dataWriteGuid, ident.toString().trim());
        } finally {
          await dev.close();
        }
      } finally {
        cleanup();
      }
    },
  );
}

test(
  'Windows-made differencing.avhdx without its parent: disk.parentMissing naming what was tried',
  { skip: sharedSkip() },
  async () => {
    const path = testdataFile('vhd/differencing.avhdx.gz');
    // Oracle: libvhdi reads the same parent identity and file name from the locator.
    const info = run(SYSTEM_PYTHON, [
      '-c',
      'import pyvhdi,sys; f=pyvhdi.file(); f.open(sys.argv[1]); print(f.parent_identifier); print(f.parent_filename)',
      path,
    ])
      .toString()
      .trim()
      .split('\n');
    const file = await ImageFileHandle.open(path, true);
    const notFound = async (p: string) => {
      throw new WinrescueError('disk.notFound', `${p}: no such file`, { path: p });
    };
    for (const openParent of [undefined, notFound]) {
      await assert.rejects(openVhdx(file, { readOnly: true, openParent }), (e: unknown) => {
        assert.ok(e instanceof WinrescueError);
        assert.equal(e.code, 'disk.parentMissing');
        assert.ok(e.message.includes(info[0]!), e.message);
        assert.ok(e.message.includes('Generation 1_49C4BAF3-4B25-4406-8C4B-D39E65C32385.avhdx'), e.message);
        assert.ok(e.message.includes(info[1]!.split('\\').pop()!), e.message);
        return true;
      });
    }
    await file.close();
  },
);

/** A raw image with random data, whole zero blocks, and zero runs inside blocks. */
function rawWithZeros(size: number): Uint8Array {
  const raw = new Uint8Array(randomBytes(size));
  raw.fill(0, 1 * MIB, 2 * MIB); // a whole 1 MiB block of zeros
  raw.fill(0, 3 * MIB + 4096, 3 * MIB + 200000); // zeros inside a block
  raw.fill(0, size - 70000); // a zero tail
  return raw;
}

for (const opts of [
  'subformat=dynamic,block_size=1M',
  'subformat=dynamic',
  'subformat=fixed,block_size=1M',
  'subformat=fixed',
]) {
  test(`qemu-img convert -O vhdx -o ${opts}: ours = qemu = libvhdi = the raw input`, async () => {
    const { dir, cleanup } = tempDir();
    try {
      const size = 6 * MIB + 7 * 512; // not a block multiple: the last block is partial
      const raw = rawWithZeros(size);
      const rawPath = join(dir, 'in.raw');
      writeFileSync(rawPath, raw);
      const path = join(dir, 'x.vhdx');
      run('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', opts, rawPath, path]);
      const dev = await openPath(path);
      try {
        assert.equal(dev.size, size);
        assert.equal(dev.subformat, opts.includes('fixed') ? 'fixed' : 'dynamic');
        const ours = await readAll(dev);
        assert.equal(sha256(ours), sha256(raw));
        assert.equal(sha256(ours), await qemuSha(path, dir));
        assert.equal(sha256(ours), libvhdiSha(path));
        // Unaligned reads across block boundaries agree with the raw bytes too.
        for (const [o, n] of [
          [MIB - 3, 7],
          [2 * MIB - 1000, MIB + 2000],
          [size - 513, 513],
          [0, 1],
        ] as const) {
          assert.deepEqual(await dev.read(o, n), raw.subarray(o, o + n));
        }
      } finally {
        await dev.close();
      }
    } finally {
      cleanup();
    }
  });
}

test('qemu-img create -f vhdx (empty dynamic) reads as zeros everywhere', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'empty.vhdx');
    run('qemu-img', ['create', '-q', '-f', 'vhdx', path, '5M']);
    const dev = await openPath(path);
    const all = await readAll(dev);
    await dev.close();
    assert.equal(all.length, 5 * MIB);
    assert.ok(all.every((b) => b === 0));
    assert.equal(sha256(all), await qemuSha(path, dir));
  } finally {
    cleanup();
  }
});

test('4096-byte logical sectors (made by createVhdx, written by us; qemu 7.2 cannot open them): ours = libvhdi', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'fourk.vhdx');
    writeFileSync(path, new Uint8Array(1));
    const file = await ImageFileHandle.open(path, false);
    await file.truncate(0);
    const size = 5 * MIB + 3 * 4096;
    await createVhdx(file, {
      virtualSize: size,
      blockSize: MIB,
      logicalSectorSize: 4096,
      physicalSectorSize: 4096,
    });
    const dev = await openVhdx(file, { readOnly: false });
    const model = new Uint8Array(size);
    for (const [o, n] of [
      [5, 70000],
      [MIB - 100, 200],
      [3 * MIB, MIB],
      [size - 4097, 4097],
    ] as const) {
      const data = new Uint8Array(randomBytes(n));
      await dev.write(o, data);
      model.set(data, o);
    }
    assert.equal(dev.sectorSize, 4096);
    await dev.close();
    const again = await openPath(path);
    assert.equal(again.sectorSize, 4096);
    assert.equal(sha256(await readAll(again)), sha256(model));
    await again.close();
    assert.equal(libvhdiSha(path), sha256(model));
    const bps = run(SYSTEM_PYTHON, [
      '-c',
      'import pyvhdi,sys; f=pyvhdi.file(); f.open(sys.argv[1]); print(f.bytes_per_sector)',
      path,
    ]);
    assert.equal(bps.toString().trim(), '4096');
    const q = runStatus('qemu-img', ['info', '-f', 'vhdx', path]);
    assert.notEqual(
      q.status,
      0,
      'qemu 7.2 is expected to refuse 4K-sector VHDX; if it opens it now, compare with it too',
    );
  } finally {
    cleanup();
  }
});

test(
  'a copy of a Windows VHDX opened writable but never written stays byte-identical',
  { skip: sharedSkip() },
  async () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'copy.vhdx');
      copyFileSync(testdataFile('vhd/dynamic.vhdx.gz'), path);
      const before = await sha256File(path);
      const dev = await openPath(path, false);
      await readAll(dev);
      await dev.flush();
      await dev.close();
      assert.equal(await sha256File(path), before);
    } finally {
      cleanup();
    }
  },
);
