import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryDevice } from '../../src/disk/memory-device.js';
import { OverlayDevice } from '../../src/disk/overlay-device.js';
import { WindowDevice } from '../../src/disk/window-device.js';
import { WinrescueError } from '../../src/errors.js';

test('overlay: reads see writes, base untouched until commit, diff is exactly the changed bytes', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 40000 }),
      fc.array(
        fc.record({
          at: fc.nat(),
          len: fc.integer({ min: 1, max: 9000 }),
          fill: fc.integer({ min: 0, max: 255 }),
        }),
        {
          maxLength: 12,
        },
      ),
      async (size, writes) => {
        const original = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
        const base = new MemoryDevice(original.slice());
        const ov = new OverlayDevice(base);
        const model = original.slice();
        for (const w of writes) {
          const at = w.at % size;
          const len = Math.min(w.len, size - at);
          const data = new Uint8Array(len).fill(w.fill);
          await ov.write(at, data);
          model.set(data, at);
        }
        assert.deepEqual(await ov.read(0, size), model);
        assert.deepEqual(base.bytes, original, 'base must be untouched before commit');
        const extents = await ov.diff();
        const rebuilt = original.slice();
        for (const e of extents) {
          rebuilt.set(e.data, e.offset);
          for (let i = 0; i < e.data.length; i++) assert.notEqual(e.data[i], original[e.offset + i]);
        }
        assert.deepEqual(rebuilt, model);
        await ov.commit();
        assert.deepEqual(base.bytes, model);
      },
    ),
    { numRuns: 150 },
  );
});

test('devices refuse out-of-range access with a typed error', async () => {
  const dev = new MemoryDevice(new Uint8Array(1024));
  await assert.rejects(
    dev.read(1000, 25),
    (e: unknown) => e instanceof WinrescueError && e.code === 'disk.outOfRange',
  );
  await assert.rejects(
    dev.write(1024, new Uint8Array(1)),
    (e: unknown) => e instanceof WinrescueError && e.code === 'disk.outOfRange',
  );
  const win = new WindowDevice(dev, 512, 256);
  await assert.rejects(
    win.read(200, 57),
    (e: unknown) => e instanceof WinrescueError && e.code === 'disk.outOfRange',
  );
  await win.write(255, new Uint8Array([9]));
  assert.equal(dev.bytes[767], 9);
  const ro = new MemoryDevice(new Uint8Array(16), { readOnly: true });
  await assert.rejects(
    ro.write(0, new Uint8Array(1)),
    (e: unknown) => e instanceof WinrescueError && e.code === 'disk.readOnly',
  );
});
