// Damaged hives: typed errors naming the cell, lenient walks, loops that must not hang, and a mutation fuzz.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { testdataFile, sharedSkip } from '../helpers/testdata.js';
import { Hive } from '../../src/registry/hive.js';
import { exportReg, tuples } from '../../src/registry/export.js';
import { WinrescueError, isWinrescueError } from '../../src/errors.js';
import { u32, setU16, setU32 } from '../../src/util/bytes.js';

const load = (rel: string): Uint8Array => new Uint8Array(readFileSync(testdataFile(rel)));

test(
  'corrupted_system_hive: hivex refuses it; we name the broken cell and list the keys above it',
  { skip: sharedSkip() },
  () => {
    const file = testdataFile('hives/corrupted_system_hive.xz');
    const hivex = spawnSync('hivexregedit', ['--export', '--prefix', '', file, '\\'], { encoding: 'utf8' });
    assert.notEqual(hivex.status, 0, 'hivex is expected to refuse this hive');
    const hive = new Hive(new Uint8Array(readFileSync(file)));
    assert.throws(
      () => [...hive.walk()],
      (e: unknown) =>
        isWinrescueError(e) &&
        e.code === 'regf.badCell' &&
        /^hive cell at 0x[0-9a-f]+: /.test(e.message) &&
        typeof e.offset === 'number',
    );
    const errors: { path: string; error: WinrescueError }[] = [];
    const paths = [...hive.walk({ onError: (error, path) => errors.push({ path, error }) })].map(
      (w) => w.path,
    );
    assert.ok(errors.length > 0);
    for (const { error } of errors) assert.equal(error.code, 'regf.badCell');
    // Keys above the damage are still listed.
    assert.ok(paths.includes('\\'));
    assert.ok(paths.includes('\\ControlSet001'));
    assert.ok(paths.includes('\\Select'));
    assert.ok(paths.length > 100, `only ${paths.length} keys`);
  },
);

test(
  'base block of every clean Windows-made hive has a valid checksum and equal sequences',
  { skip: sharedSkip() },
  () => {
    for (const rel of [
      'hives/BCD-bios.xz',
      'hives/SYSTEM.xz',
      'hives/yarp/BigDataHive.xz',
      'hives/yarp/NewDirtyHive1/RecoveredHive_Windows10.xz',
      'hives/yarp/OldDirtyHive/RecoveredHive_Windows7.xz',
    ]) {
      const h = new Hive(load(rel));
      assert.equal(h.base.checksumValid, true, rel);
      assert.equal(h.base.isDirty, false, rel);
      assert.equal(h.base.major, 1);
    }
    const b = load('hives/BCD-bios.xz').slice();
    setU32(b, 8, u32(b, 8) + 1);
    assert.equal(new Hive(b).base.isDirty, true, 'sequence mismatch is dirty');
    const c = load('hives/BCD-bios.xz').slice();
    c[100] = c[100]! ^ 1;
    const hc = new Hive(c);
    assert.equal(hc.base.checksumValid, false);
    assert.equal(hc.base.isDirty, true);
  },
);

// testdata/README.md names these as dirty.
test('dirty Windows-made hives are reported dirty', { skip: sharedSkip() }, () => {
  for (const rel of [
    'hives/SYSTEM_B.xz',
    'hives/SYSTEM_2.xz',
    'hives/SYSTEM_WIN_10_1709.xz',
    'hives/yarp/OldDirtyHive/OldDirtyHive.xz',
    'hives/yarp/NewDirtyHive1/NewDirtyHive.xz',
  ]) {
    assert.equal(new Hive(load(rel)).base.isDirty, true, rel);
  }
});

test('openKey is case-insensitive and regf.notFound for a missing key', { skip: sharedSkip() }, () => {
  const h = new Hive(load('hives/SYSTEM.xz'));
  const k = h.openKey('\\controlset001\\CONTROL\\Session manager');
  assert.equal(k.name, 'Session Manager');
  assert.throws(
    () => h.openKey('ControlSet001\\NoSuchKey'),
    (e: unknown) => isWinrescueError(e) && e.code === 'regf.notFound',
  );
});

test('an ri list pointing at itself is regf.badCell, not a hang', { skip: sharedSkip() }, () => {
  const b = load('hives/BCD-bios.xz').slice();
  const h = new Hive(b);
  const listRel = h.root.subkeyList;
  const abs = 4096 + listRel + 4;
  b[abs] = 'r'.charCodeAt(0);
  b[abs + 1] = 'i'.charCodeAt(0);
  setU16(b, abs + 2, 1);
  setU32(b, abs + 4, listRel);
  const h2 = new Hive(b);
  assert.throws(
    () => h2.subkeys(h2.root),
    (e: unknown) => isWinrescueError(e) && e.code === 'regf.badCell',
  );
});

test('a subkey pointing back at the root is regf.badCell, not a hang', { skip: sharedSkip() }, () => {
  const b = load('hives/BCD-bios.xz').slice();
  const h = new Hive(b);
  const list = h.cell(h.root.subkeyList);
  // First element of the root's lf/lh list now names the root itself.
  setU32(b, list.abs + 4 + 4, h.base.rootCell);
  const h2 = new Hive(b);
  assert.throws(
    () => [...h2.walk()],
    (e: unknown) => isWinrescueError(e) && e.code === 'regf.badCell',
  );
});

test(
  'a nk cell read as vk gives the typed signature message with the absolute offset',
  { skip: sharedSkip() },
  () => {
    const h = new Hive(load('hives/BCD-bios.xz'));
    const k = h.subkeys(h.root)[0]!;
    const b = load('hives/BCD-bios.xz').slice();
    b[k.cell.abs + 4] = 'v'.charCodeAt(0);
    b[k.cell.abs + 5] = 'k'.charCodeAt(0);
    const h2 = new Hive(b);
    assert.throws(
      () => h2.subkeys(h2.root),
      (e: unknown) =>
        isWinrescueError(e) &&
        e.message === `hive cell at 0x${k.cell.abs.toString(16)}: nk signature expected, found 'vk'` &&
        e.offset === k.cell.abs,
    );
  },
);

test(
  'fuzz: 500 byte mutations of a BCD hive give a result or a WinrescueError, quickly',
  { skip: sharedSkip() },
  () => {
    const orig = load('hives/BCD-bios.xz');
    const started = Date.now();
    let failed = 0;
    let parsed = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(orig.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 12,
        }),
        (edits) => {
          const b = orig.slice();
          for (const [at, v] of edits) b[at] = v;
          const t0 = Date.now();
          let h: Hive | undefined;
          try {
            h = new Hive(b);
            let n = 0;
            for (const _ of tuples(h)) n++;
            assert.ok(n >= 0);
            parsed++;
          } catch (e) {
            if (!isWinrescueError(e)) throw e;
            failed++;
          }
          // Once the base block and root parse, a lenient export never throws, whatever the damage below.
          if (h) exportReg(h, { onError: (err) => assert.ok(isWinrescueError(err)) });
          assert.ok(Date.now() - t0 < 2000, 'one parse took over 2 s');
        },
      ),
      { numRuns: 500, seed: 0x5eed },
    );
    assert.ok(Date.now() - started < 30000);
    assert.ok(
      failed > 0 && parsed > 0,
      `mutations exercised both paths (${failed} errors, ${parsed} results)`,
    );
  },
);

test('hbins tile the hive bins data size exactly in every clean hive', { skip: sharedSkip() }, () => {
  for (const rel of ['hives/BCD-bios.xz', 'hives/SYSTEM.xz', 'hives/yarp/ManySubkeysHive.xz']) {
    const h = new Hive(load(rel));
    const bins = h.bins();
    assert.ok(bins.length > 0);
    const total = bins.reduce((a, b) => a + b.size, 0);
    assert.equal(total, h.base.hiveBinsDataSize, rel);
    assert.equal(bins[0]!.offset, 0);
  }
  const b = load('hives/BCD-bios.xz').slice();
  b[4096] = 0x78;
  assert.throws(
    () => new Hive(b).bins(),
    (e: unknown) => isWinrescueError(e) && e.code === 'regf.badBin' && e.offset === 4096,
  );
});

test('cells past the declared hive bins data size are refused', { skip: sharedSkip() }, () => {
  const b = load('hives/SYSTEM.xz').slice();
  const h = new Hive(b);
  assert.ok(h.base.hiveBinsDataSize > 4096);
  setU32(b, 40, 4096);
  const cut = new Hive(b);
  assert.throws(
    () => [...tuples(cut)],
    (e: unknown) => isWinrescueError(e) && e.code === 'regf.badCell',
  );
});

test('a cell whose size runs across its hive bin into the next is refused', { skip: sharedSkip() }, () => {
  const b = load('hives/SYSTEM.xz').slice();
  const h = new Hive(b);
  const [first, second] = h.bins();
  assert.ok(first && second, 'SYSTEM has several bins');
  const root = h.root.cell;
  assert.ok(root.abs < first.abs + first.size, 'the root nk lies in the first bin');
  // Grow the root nk (still allocated) to end 8 bytes inside the second bin: within the hive, across a bin.
  const crossing = first.abs + first.size - root.abs + 8;
  new DataView(b.buffer).setInt32(root.abs, -crossing, true);
  assert.throws(
    () => new Hive(b),
    (e: unknown) =>
      isWinrescueError(e) &&
      e.code === 'regf.badCell' &&
      e.offset === root.abs &&
      /runs past/.test(e.message),
  );
});
