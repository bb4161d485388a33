// VHDX writing, model-based: random writes through our writer (inside blocks, across block boundaries, into
// unallocated or ZERO-state blocks, at the end of the disk); afterwards `qemu-img check` is clean and qemu-img and
// libvhdi both read exactly the model's bytes; libvhdi sees the new DataWriteGuid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageFileHandle } from '../../src/disk/file-device.js';
import { createVhdx, openVhdx, type VhdxDevice } from '../../src/disk/vhdx/index.js';
import { WinrescueError } from '../../src/errors.js';
import { SYSTEM_PYTHON, run, runStatus, sha256, sha256File, tempDir } from '../helpers/tools.js';

const MIB = 1 << 20;
const SIZE = 5 * MIB + 3 * 512; // the last block is partial

function libvhdi(path: string): { sha: string; dataWriteGuid: string } {
  const script = [
    'import hashlib, sys, pyvhdi',
    'f = pyvhdi.file(); f.open(sys.argv[1])',
    'print(hashlib.sha256(f.read_buffer_at_offset(f.get_media_size(), 0)).hexdigest()); print(f.identifier)',
  ].join('\n');
  const [sha, guid] = run(SYSTEM_PYTHON, ['-c', script, path]).toString().trim().split('\n');
  return { sha: sha!, dataWriteGuid: guid! };
}

async function openPath(path: string, readOnly: boolean): Promise<VhdxDevice> {
  const file = await ImageFileHandle.open(path, readOnly);
  return openVhdx(file, { readOnly });
}

type Base = 'qemu-dynamic-1M' | 'qemu-dynamic-default' | 'qemu-fixed-1M' | 'ours-dynamic-2M';

/** A fresh all-zero image of SIZE bytes made the given way. */
async function makeBase(base: Base, path: string): Promise<void> {
  if (base === 'ours-dynamic-2M') {
    writeFileSync(path, new Uint8Array(1));
    const file = await ImageFileHandle.open(path, false);
    await file.truncate(0);
    await createVhdx(file, { virtualSize: SIZE, blockSize: 2 * MIB });
    await file.close();
    return;
  }
  const o = {
    'qemu-dynamic-1M': 'subformat=dynamic,block_size=1M',
    'qemu-dynamic-default': 'subformat=dynamic',
    'qemu-fixed-1M': 'subformat=fixed,block_size=1M',
  }[base];
  run('qemu-img', ['create', '-q', '-f', 'vhdx', '-o', o, path, String(SIZE)]);
}

const writeArb = fc.oneof(
  // anywhere, small
  fc.record({ at: fc.integer({ min: 0, max: SIZE - 1 }), len: fc.integer({ min: 1, max: 9000 }) }),
  // straddling a 1 MiB (and so any block) boundary
  fc.record({
    at: fc.integer({ min: 1, max: 5 }).chain((k) => fc.integer({ min: k * MIB - 5000, max: k * MIB - 1 })),
    len: fc.integer({ min: 2, max: 12000 }),
  }),
  // whole blocks and more
  fc.record({
    at: fc.integer({ min: 0, max: 4 }).map((k) => k * MIB),
    len: fc.constantFrom(MIB, 2 * MIB, MIB + 512),
  }),
  // at the very end
  fc.record({ at: fc.integer({ min: SIZE - 3000, max: SIZE - 1 }), len: fc.integer({ min: 1, max: 3000 }) }),
);

test('model-based random writes: qemu-img check clean, qemu-img and libvhdi read the model', async () => {
  const { dir, cleanup } = tempDir();
  let run_ = 0;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Base>('qemu-dynamic-1M', 'qemu-dynamic-default', 'qemu-fixed-1M', 'ours-dynamic-2M'),
        fc.array(fc.tuple(writeArb, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 10 }),
        fc.boolean(),
        async (base, writes, reopenBetween) => {
          const path = join(dir, `w${run_++}.vhdx`);
          await makeBase(base, path);
          const before = libvhdi(path).dataWriteGuid;
          const model = new Uint8Array(SIZE);
          let dev = await openPath(path, false);
          try {
            for (const [i, [w, seed]] of writes.entries()) {
              const len = Math.min(w.len, SIZE - w.at);
              const data = new Uint8Array(len).map((_, j) => (seed + j * 7 + (j >> 9)) & 0xff);
              await dev.write(w.at, data);
              model.set(data, w.at);
              if (reopenBetween && i === Math.floor(writes.length / 2)) {
                await dev.close();
                dev = await openPath(path, false);
              }
            }
            assert.deepEqual(await dev.read(0, SIZE), model, 'our own read-back');
            await dev.flush();
          } finally {
            await dev.close();
          }
          const check = runStatus('qemu-img', ['check', '-f', 'vhdx', path]);
          assert.equal(check.status, 0, check.stdout + check.stderr);
          assert.match(check.stdout, /No errors were found/);
          const out = join(dir, 'out.raw');
          run('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', path, out]);
          assert.equal(await sha256File(out), sha256(model), 'qemu-img reads the model');
          const lv = libvhdi(path);
          assert.equal(lv.sha, sha256(model), 'libvhdi reads the model');
          assert.notEqual(lv.dataWriteGuid, before, 'the first write gives the file a new DataWriteGuid');
        },
      ),
      { numRuns: 24 },
    );
  } finally {
    cleanup();
  }
});

test('first write updates both headers per §2.2.2.1; appended blocks are 1 MiB aligned; read-only refuses writes', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'h.vhdx');
    run('qemu-img', ['create', '-q', '-f', 'vhdx', '-o', 'block_size=1M', path, '4M']);
    const headers = () => {
      // Parsed by hand here from the spec offsets, independent of the module under test.
      const script = [
        'import sys, struct, zlib',
        'd = open(sys.argv[1], "rb").read(0x30000)',
        'for o in (0x10000, 0x20000):',
        '    h = d[o:o+4096]; print(h[:4].decode(), struct.unpack_from("<Q", h, 8)[0], h[16:32].hex(), h[32:48].hex())',
      ].join('\n');
      return run(SYSTEM_PYTHON, ['-c', script, path])
        .toString()
        .trim()
        .split('\n')
        .map((l) => l.split(' '));
    };
    const h0 = headers();
    const seq0 = Math.max(Number(h0[0]![1]), Number(h0[1]![1]));
    const ro = await openPath(path, true);
    await assert.rejects(
      ro.write(0, new Uint8Array(1)),
      (e: unknown) => e instanceof WinrescueError && e.code === 'disk.readOnly',
    );
    await ro.close();
    const dev = await openPath(path, false);
    await dev.write(MIB + 10, new Uint8Array([1, 2, 3]));
    await dev.write(MIB + 20, new Uint8Array([4])); // second write: no further header update
    await dev.close();
    const h1 = headers();
    const seqs = h1.map((h) => Number(h[1])).sort();
    assert.deepEqual(seqs, [seq0 + 1, seq0 + 2]);
    assert.equal(h1[0]![2], h1[1]![2], 'both copies carry the same FileWriteGuid');
    assert.equal(h1[0]![3], h1[1]![3], 'and the same DataWriteGuid');
    assert.notEqual(h1[0]![2], h0[0]![2]);
    assert.notEqual(h1[0]![3], h0[0]![3]);
    const info = JSON.parse(
      run('qemu-img', ['check', '-f', 'vhdx', '--output=json', path]).toString(),
    ) as Record<string, unknown>;
    assert.equal(info['check-errors'], 0);
    const st = run(SYSTEM_PYTHON, ['-c', 'import os,sys; print(os.path.getsize(sys.argv[1]))', path]);
    assert.equal(Number(st.toString()) % MIB, 0, 'the file ends on a 1 MiB boundary after appending a block');
  } finally {
    cleanup();
  }
});

test('concurrent writes into unallocated blocks allocate each block once, never one block twice', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'c.vhdx');
    run('qemu-img', ['create', '-q', '-f', 'vhdx', '-o', 'block_size=1M', path, '4M']);
    const dev = await openPath(path, false);
    const model = new Uint8Array(4 * MIB);
    const writes = Array.from({ length: 16 }, (_, i) => ({
      at: 2 * MIB + i * 4096 + 3,
      data: new Uint8Array(100).fill(i + 1),
    }));
    // A first write into an allocated-by-then block: the header update is done, the racers meet in allocation.
    await dev.write(2 * MIB, new Uint8Array([9]));
    model[2 * MIB] = 9;
    // Racers into the same unallocated block and into different ones (blocks 0, 1 and 3).
    const racers = writes.map((w, i) => ({ ...w, at: w.at - 2 * MIB + [0, 1, 3][i % 3]! * MIB }));
    await Promise.all(racers.map((w) => dev.write(w.at, w.data)));
    for (const w of racers) model.set(w.data, w.at);
    await dev.close();
    const size = Number(
      run(SYSTEM_PYTHON, ['-c', 'import os,sys; print(os.path.getsize(sys.argv[1]))', path]).toString(),
    );
    const fresh = join(dir, 'fresh.vhdx');
    run('qemu-img', ['create', '-q', '-f', 'vhdx', '-o', 'block_size=1M', fresh, '4M']);
    const freshSize = Number(
      run(SYSTEM_PYTHON, ['-c', 'import os,sys; print(os.path.getsize(sys.argv[1]))', fresh]).toString(),
    );
    assert.equal(
      size,
      Math.ceil(freshSize / MIB) * MIB + 4 * MIB,
      'exactly one block appended per block written',
    );
    assert.equal(libvhdi(path).sha, sha256(model));
  } finally {
    cleanup();
  }
});
