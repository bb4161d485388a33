// Model-based test of the hive writer on copies of Windows-made hives: random setValue / deleteValue / createKey /
// deleteKey sequences go to the editor and to a model (hivexregedit's export of the original); after save,
// hivexregedit's export of our file must equal the model exactly, and an independent cell walker must find a
// consistent hive (every allocated cell reached once, lists sorted, hashes/hints right, bins tiling, clean base block).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { testdataFile, sharedSkip } from '../helpers/testdata.js';
import { tempDir } from '../helpers/tools.js';
import { HiveEditor } from '../../src/registry/write/index.js';
import { hivexExport, parseReg } from './reg-parse.js';
import { checkHive, upcaseWindows } from './write-oracle.js';

interface ModelValue {
  name: string;
  type: number;
  hex: string;
}
interface ModelKey {
  path: string;
  values: Map<string, ModelValue>;
}
type Model = Map<string, ModelKey>;

/** Case folding of the model: Windows' one-unit-to-one upcase table (what the kernel compares names with). */
const fold = upcaseWindows;

function modelFromReg(text: string): Model {
  const parsed = parseReg(text);
  const model: Model = new Map();
  for (const path of parsed.keys) model.set(fold(path), { path, values: new Map() });
  for (const t of parsed.values) {
    const [path, name, type, hex] = t.split('\u0000') as [string, string, string, string];
    model.get(fold(path))!.values.set(fold(name), { name, type: parseInt(type, 16), hex });
  }
  return model;
}

function cloneModel(m: Model): Model {
  const out: Model = new Map();
  for (const [k, v] of m) out.set(k, { path: v.path, values: new Map(v.values) });
  return out;
}

function modelTuples(m: Model): string[] {
  const out: string[] = [];
  for (const k of m.values())
    for (const v of k.values.values())
      out.push(`${k.path}\u0000${v.name}\u0000${(v.type >>> 0).toString(16)}\u0000${v.hex}`);
  return out.sort();
}

const KEY_NAMES = [
  'Alpha',
  'alpha',
  'ALPHA',
  'beta',
  'Ünïcødé',
  'ÜNÏCØDÉ',
  'Привет',
  'привет',
  'ключ',
  'straße',
  '名前',
  'a.b c',
  'Zz',
  'µTorrent',
  'ıdx',
  'ᾳ',
];
const VALUE_NAMES = [
  '',
  'Value',
  'value',
  'VALUE',
  'Start',
  'Ünïcødé',
  'Ключ',
  'with "quote"',
  'back\\slash',
  'ß',
  'x'.repeat(300),
  'µ',
];
const TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x1234, 0xffff0011];

/** Deterministic bytes from a seed (xorshift32): big values without big arbitraries. */
function bytesFrom(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

type Op =
  | { op: 'set'; key: number; name: number; type: number; size: number; seed: number }
  | { op: 'delv'; key: number; pick: number }
  | { op: 'mk'; parent: number; names: number[]; variant: boolean }
  | { op: 'rm'; key: number };

const sizeArb = fc.oneof(
  fc.integer({ min: 0, max: 4 }),
  fc.integer({ min: 5, max: 16344 }),
  fc.constantFrom(5, 16343, 16344, 16345),
  fc.integer({ min: 16345, max: 120000 }),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('set' as const),
    key: fc.nat(),
    name: fc.nat(),
    type: fc.nat(),
    size: sizeArb,
    seed: fc.integer(),
  }),
  fc.record({ op: fc.constant('delv' as const), key: fc.nat(), pick: fc.nat() }),
  fc.record({
    op: fc.constant('mk' as const),
    parent: fc.nat(),
    names: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
    variant: fc.boolean(),
  }),
  fc.record({ op: fc.constant('rm' as const), key: fc.nat() }),
);

/** Runs ops on the editor and the model; keys just created are picked half the time so ops pile up on them. */
function apply(editor: HiveEditor, model: Model, ops: readonly Op[]): boolean {
  let mutated = false;
  const all = [...model.keys()];
  const recent: string[] = [];
  const pickKey = (n: number): ModelKey => {
    const live = recent.filter((k) => model.has(k));
    const pool = n % 2 === 0 && live.length > 0 ? live : all.filter((k) => model.has(k));
    return model.get(pool[Math.floor(n / 2) % pool.length]!)!;
  };
  const rel = (path: string): string => path.replace(/^\\/, '');
  for (const o of ops) {
    if (o.op === 'set') {
      const k = pickKey(o.key);
      const name = VALUE_NAMES[o.name % VALUE_NAMES.length]!;
      const type = TYPES[o.type % TYPES.length]!;
      const data = bytesFrom(o.seed, o.size);
      editor.setValue(rel(k.path), name, type, data);
      mutated = true;
      const prev = k.values.get(fold(name));
      k.values.set(fold(name), { name: prev?.name ?? name, type, hex: Buffer.from(data).toString('hex') });
    } else if (o.op === 'delv') {
      const k = pickKey(o.key);
      const names = [...k.values.values()].map((v) => v.name);
      const name =
        names.length > 0 && o.pick % 3 !== 0
          ? names[o.pick % names.length]!
          : VALUE_NAMES[o.pick % VALUE_NAMES.length]!;
      const had = k.values.delete(fold(name));
      mutated ||= had;
      assert.equal(editor.deleteValue(rel(k.path), name), had, `deleteValue ${k.path} ${name}`);
    } else if (o.op === 'mk') {
      const parent = pickKey(o.parent);
      // A variant names an existing child with its case flipped: the create must be a no-op.
      const children = [...model.values()].filter(
        (k) =>
          k.path.startsWith(parent.path === '\\' ? '\\' : `${parent.path}\\`) &&
          !k.path.slice(parent.path.length + 1).includes('\\') &&
          k.path !== parent.path,
      );
      const parts =
        o.variant && children.length > 0
          ? [
              children[o.names[0]! % children.length]!.path.split('\\')
                .pop()!
                .split('')
                .map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()))
                .join(''),
            ]
          : o.names.map((n) => KEY_NAMES[n % KEY_NAMES.length]!);
      let path = parent.path === '\\' ? '' : parent.path;
      let created = false;
      for (const part of parts) {
        const next = `${path}\\${part}`;
        const existing = model.get(fold(next));
        if (existing) path = existing.path;
        else {
          model.set(fold(next), { path: next, values: new Map() });
          recent.push(fold(next));
          path = next;
          created = true;
        }
      }
      mutated ||= created;
      const fullRel = rel(parent.path === '\\' ? '' : parent.path);
      assert.equal(
        editor.createKey(fullRel === '' ? parts.join('\\') : `${fullRel}\\${parts.join('\\')}`),
        created,
        `createKey under ${parent.path}`,
      );
    } else {
      const k = pickKey(o.key);
      if (k.path === '\\') continue;
      const prefix = fold(k.path);
      for (const key of [...model.keys()])
        if (key === prefix || key.startsWith(`${prefix}\\`)) model.delete(key);
      assert.equal(editor.deleteKey(rel(k.path), { recursive: true }), true, `deleteKey ${k.path}`);
      mutated = true;
    }
  }
  return mutated;
}

/** WINRESCUE_FUZZ_SCALE=N multiplies run counts and sequence lengths for a longer soak than the default ~20 s. */
const SCALE = Math.max(1, Number(process.env.WINRESCUE_FUZZ_SCALE ?? 1) || 1);

const CASES = [
  { rel: 'hives/BCD-bios.xz', runs: 12, ops: 25 },
  { rel: 'hives/BCD-uefi-win10.xz', runs: 5, ops: 25 },
  { rel: 'hives/yarp/UnicodeHive.xz', runs: 6, ops: 20 },
  { rel: 'hives/yarp/BigDataHive.xz', runs: 6, ops: 20 },
  { rel: 'hives/yarp/ManySubkeysHive.xz', runs: 3, ops: 25 },
  { rel: 'hives/SYSTEM.xz', runs: 2, ops: 15 },
];

for (const c of CASES) {
  test(
    `model: random edits of ${c.rel} equal hivexregedit's export of the saved hive`,
    { skip: sharedSkip() },
    () => {
      const file = testdataFile(c.rel);
      const original = new Uint8Array(readFileSync(file));
      const base = modelFromReg(hivexExport(file));
      const before = checkHive(original);
      assert.deepEqual(before.problems, [], 'the Windows-made original is consistent');
      const { dir, cleanup } = tempDir('winrescue-write-');
      try {
        const big = original.length > 4 << 20;
        fc.assert(
          fc.property(
            fc.array(opArb, { minLength: 1, maxLength: c.ops * Math.min(SCALE, 4) }),
            fc.nat({ max: 100000 }),
            (ops, minSeq) => {
              const model = cloneModel(base);
              let tick = 0x01d0_0000_0000_0000n;
              const editor = HiveEditor.open(original, { now: () => (tick += 1n) });
              const mutated = apply(editor, model, ops);
              const saved = editor.save({ minSequence: minSeq });
              const out = join(dir, 'hive');
              writeFileSync(out, saved);

              const got = parseReg(hivexExport(out));
              const wantKeys = new Set([...model.values()].map((k) => k.path));
              assert.equal(got.keys.size, wantKeys.size, 'key count');
              for (const k of wantKeys) assert.ok(got.keys.has(k), `key ${k} missing from hivex's export`);
              const want = modelTuples(model);
              const have = [...got.values].sort();
              assert.equal(have.length, want.length, 'value count');
              for (let i = 0; i < want.length; i++)
                if (have[i] !== want[i]) assert.equal(have[i]!.slice(0, 200), want[i]!.slice(0, 200));

              const r = checkHive(saved);
              assert.deepEqual(r.problems.slice(0, 5), [], 'structure');
              assert.deepEqual([...r.leaks].slice(0, 5), [], 'allocated cells nothing reaches');
              for (const [rel, s] of r.sk)
                assert.equal(s.refCount, s.refs, `sk at ${rel}: refcount vs key nodes using it`);
              assert.ok(r.checksumOk, 'base block checksum');
              const seq = Math.max(before.primary, before.secondary, minSeq) + 1;
              assert.equal(r.primary, seq);
              assert.equal(r.secondary, seq);
              if (r.minor < 5) assert.equal(r.kinds.lh, undefined, 'no lh below 1.5');
              if (r.minor < 4) assert.equal(r.kinds.db, undefined, 'no db below 1.4');
              assert.equal(editor.changed, mutated, 'changed');
            },
          ),
          { numRuns: c.runs * SCALE, endOnFailure: big },
        );
      } finally {
        cleanup();
      }
    },
  );
}
