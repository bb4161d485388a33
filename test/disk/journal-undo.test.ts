// Undo journal end to end on real image files made by qemu-img: random write sequences (one or two sessions)
// through openDisk's journal, growing dynamic containers included. Oracles: qemu-img reads the written image as
// the model says (the journal layer is transparent), `qemu-img check` passes on VHDX, and after `undo` the file's
// sha256 and length are the original's; a second undo is a no-op.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { openDisk } from '../../src/disk/open-disk.js';
import { undo } from '../../src/api/undo.js';
import { run, runStatus, sha256File, tempDir } from '../helpers/tools.js';
import { type ImageKind, QEMU_FORMAT, copyImage, qemuRaw, rng } from './journal-helpers.js';
import { libvhdiRead } from './vhd-oracles.js';

const MIB = 1024 * 1024;
const VIRTUAL = 8 * MIB;
/** The first MiBs hold data, the rest is zero: sparse containers leave it unallocated, so writes there grow them. */
const FILLED = 3 * MIB;
const VHD_ALLOCATED = 4 * MIB;
/** WINRESCUE_FUZZ_SCALE=N multiplies the runs for a longer soak. */
const SCALE = Math.max(1, Number(process.env.WINRESCUE_FUZZ_SCALE ?? 1) || 1);

let work: { dir: string; cleanup: () => void };
let model0: Uint8Array;
const bases = new Map<ImageKind, string>();

before(() => {
  work = tempDir('winrescue-journal-');
  model0 = new Uint8Array(VIRTUAL);
  const r = rng(7);
  for (let i = 0; i < FILLED; i++) model0[i] = (r() * 256) | 0;
  const raw = join(work.dir, 'base-raw');
  writeFileSync(raw, model0);
  bases.set('raw', raw);
  const convert = (kind: ImageKind, opts: string) => {
    const out = join(work.dir, `base-${kind}`);
    run('qemu-img', ['convert', '-f', 'raw', '-O', QEMU_FORMAT[kind], '-o', opts, raw, out]);
    bases.set(kind, out);
  };
  convert('vhd-fixed', 'subformat=fixed,force_size=on');
  convert('vhd-dynamic', 'force_size=on');
  convert('vhdx', 'block_size=1M');
});
after(() => work?.cleanup());

const writeArb = fc.record({
  at: fc.nat({ max: VIRTUAL - 1 }),
  len: fc.integer({ min: 1, max: 150_000 }),
  seed: fc.nat(),
  flush: fc.boolean(),
});
const sessionsArb = fc.array(fc.array(writeArb, { minLength: 1, maxLength: 10 }), {
  minLength: 1,
  maxLength: 2,
});

function dataFor(seed: number, len: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (r() * 256) | 0;
  return out;
}

for (const kind of ['raw', 'vhd-fixed', 'vhd-dynamic', 'vhdx'] as const) {
  test(`${kind}: random writes through the journal, then undo restores the original sha256 and length`, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(sessionsArb, async (sessions) => {
        const path = copyImage(bases.get(kind)!, join(work.dir, `w${n++}.${kind}`));
        const originalSha = await sha256File(path);
        const originalSize = statSync(path).size;
        const model = model0.slice();
        for (const writes of sessions) {
          const disk = await openDisk(path, { journal: {} });
          assert.equal(disk.format, kind);
          assert.equal(disk.journalPath, `${path}.winrescue-undo`);
          for (const w of writes) {
            const len = Math.min(w.len, VIRTUAL - w.at);
            const data = dataFor(w.seed, len);
            await disk.device.write(w.at, data);
            model.set(data, w.at);
            if (w.flush) await disk.device.flush();
            // Reads see pending writes before they reach the file.
            assert.deepEqual(await disk.device.read(w.at, len), data);
          }
          await disk.device.close();
        }
        assert.deepEqual(qemuRaw(path, kind, work.dir), model, 'qemu-img reads what was written');
        if (kind === 'vhdx') assert.equal(runStatus('qemu-img', ['check', '-f', 'vhdx', path]).status, 0);
        // libvhdi honours sector bitmaps, which qemu ignores: once per format is enough.
        if (kind.startsWith('vhd-') && n === 1)
          assert.ok(libvhdiRead(path).equals(model), 'libvhdi reads what was written');
        // qemu-img's dynamic VHDs have 2 MiB blocks: the filled 3 MiB occupy the first two.
        if (kind === 'vhd-dynamic' && sessions.flat().some((w) => w.at + w.len > VHD_ALLOCATED))
          assert.ok(statSync(path).size > originalSize, 'the dynamic VHD grew');

        const r = await undo(path);
        assert.equal(r.alreadyUndone, false);
        assert.equal(r.sessions, sessions.length);
        assert.equal(r.verified, true);
        assert.equal(statSync(path).size, originalSize);
        assert.equal(await sha256File(path), originalSha);
        assert.ok(existsSync(`${path}.winrescue-undo.done`) && !existsSync(`${path}.winrescue-undo`));
        const again = await undo(path);
        assert.equal(again.alreadyUndone, true);
        assert.equal(await sha256File(path), originalSha);
        run('rm', ['-f', path, `${path}.winrescue-undo.done`]);
      }),
      { numRuns: 6 * SCALE },
    );
  });
}

test('a session that writes nothing leaves no journal; rewriting identical bytes journals nothing', async () => {
  const path = copyImage(bases.get('raw')!, join(work.dir, 'noop.raw'));
  const disk = await openDisk(path, { journal: {} });
  await disk.device.write(4096, model0.slice(4096, 8192));
  await disk.device.close();
  const disk2 = await openDisk(path, { journal: {} });
  await disk2.device.close();
  // The identical write was applied (a no-op) but needs no old copy; the session had no record, so no journal.
  assert.equal(existsSync(`${path}.winrescue-undo`), false);
});
