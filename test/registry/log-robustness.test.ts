// Damaged logs: seeded single mutations with an exact model of what must still apply, truncations, crafted
// entries with valid hashes, damaged old-format logs. recoverHive must never throw and never hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { testdataFile, sharedSkip } from '../helpers/testdata.js';
import { parseBaseBlock } from '../../src/registry/base-block.js';
import { recoverHive, type HiveRecovery, type HiveLog } from '../../src/registry/log/index.js';
import { marvin32 } from '../../src/registry/log/marvin32.js';

const load = (rel: string): Uint8Array => new Uint8Array(readFileSync(testdataFile(rel)));
const NEW = 'hives/yarp/NewDirtyHive1/';
const OLD = 'hives/yarp/OldDirtyHive/';
/** Per recovery; the hives here are small, a hang or a runaway loop shows up as this being exceeded. */
const MAX_MS = 2000;

interface Hdr {
  at: number;
  size: number;
  seq: number;
  pages: { offset: number; size: number; data: number }[];
}

/** Entry headers read with our own few lines (the model's view of the log), following sizes from sector 1. */
function headers(log: Uint8Array): { baseSeq: number; entries: Hdr[] } {
  const dv = new DataView(log.buffer, log.byteOffset, log.byteLength);
  const entries: Hdr[] = [];
  for (let at = 512; at + 40 <= log.length && dv.getUint32(at, false) === 0x48764c45;) {
    const size = dv.getUint32(at + 4, true);
    const count = dv.getUint32(at + 20, true);
    const pages = [];
    let data = at + 40 + 8 * count;
    for (let i = 0; i < count; i++) {
      const len = dv.getUint32(at + 44 + 8 * i, true);
      pages.push({ offset: dv.getUint32(at + 40 + 8 * i, true), size: len, data });
      data += len;
    }
    entries.push({ at, size, seq: dv.getUint32(at + 12, true), pages });
    at += size;
  }
  return { baseSeq: dv.getUint32(4, true), entries };
}

function timed(primary: Uint8Array, logs: HiveLog[]): HiveRecovery {
  const t0 = performance.now();
  let r: HiveRecovery;
  try {
    r = recoverHive(primary, logs);
  } catch (e) {
    assert.fail(`recoverHive threw ${String(e)}`);
  }
  const ms = performance.now() - t0;
  assert.ok(ms < MAX_MS, `took ${ms} ms`);
  return r;
}

/**
 * What the spec says applies, given which logs are still valid and how many of their entries survive:
 * valid logs in base-sequence order, the first one's entries from its base sequence (not below the
 * primary's secondary), every later one continuing at last + 1, each stopping at the first break.
 */
function modelChain(
  logs: { name: string; valid: boolean; baseSeq: number; entries: Hdr[] }[],
  secondary: number,
): { log: string; entry: Hdr }[] {
  const out: { log: string; entry: Hdr }[] = [];
  for (const l of logs.filter((x) => x.valid).sort((a, b) => a.baseSeq - b.baseSeq)) {
    const last = out[out.length - 1];
    let expected = last ? last.entry.seq + 1 : l.baseSeq;
    if (!last && expected < secondary) continue;
    for (const e of l.entries) {
      if (e.seq !== expected) break;
      out.push({ log: l.name, entry: e });
      expected++;
    }
  }
  return out;
}

/** Primary with the model's pages laid over it, as bytes from the bins on (the base block is checked apart). */
function overlay(
  primary: Uint8Array,
  chain: { log: string; entry: Hdr }[],
  files: Map<string, Uint8Array>,
): Uint8Array {
  const out = primary.slice();
  for (const { log, entry } of chain)
    for (const p of entry.pages) out.set(files.get(log)!.subarray(p.data, p.data + p.size), 4096 + p.offset);
  return out;
}

test(
  'NewDirtyHive logs: 260 seeded flips and cuts stop at the right entry, as the spec model says',
  { skip: sharedSkip() },
  () => {
    const primary = load(`${NEW}NewDirtyHive.xz`);
    const windows = load(`${NEW}RecoveredHive_Windows10.xz`);
    const orig = [load(`${NEW}NewDirtyHive.LOG1.xz`), load(`${NEW}NewDirtyHive.LOG2.xz`)];
    const names = ['NewDirtyHive.LOG1', 'NewDirtyHive.LOG2'];
    const parsed = orig.map(headers);
    const secondary = parseBaseBlock(primary).secondarySequence;
    type Mut = { log: number; kind: 'hash' | 'page' | 'base' | 'any' | 'cut'; pick: number; bit: number };
    const mutation = fc.record({
      log: fc.integer({ min: 0, max: 1 }),
      kind: fc.constantFrom<Mut['kind']>('hash', 'page', 'base', 'any', 'cut'),
      pick: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    });
    let runs = 0;
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(mutation, (m: Mut) => {
        runs++;
        const log = orig[m.log]!.slice();
        const { entries } = parsed[m.log]!;
        let valid = true;
        let survive = entries.length;
        let bytes = log;
        const entryAt = (pos: number): number => entries.findIndex((e) => pos >= e.at && pos < e.at + e.size);
        if (m.kind === 'cut') {
          const t = m.pick % (log.length + 1);
          bytes = log.subarray(0, t);
          if (t < 512) valid = false;
          survive = entries.filter((e) => e.at + e.size <= t).length;
        } else {
          let pos: number;
          if (m.kind === 'base') pos = m.pick % 512;
          else if (m.kind === 'any') pos = m.pick % log.length;
          else {
            const e = entries[m.pick % entries.length]!;
            if (m.kind === 'hash') pos = e.at + 24 + (m.pick % 16);
            else {
              const p = e.pages[m.pick % e.pages.length]!;
              pos = p.data + (m.pick % p.size);
            }
          }
          log[pos] = log[pos]! ^ (1 << m.bit);
          if (pos < 512) valid = false;
          const k = entryAt(pos);
          if (k >= 0) survive = k;
        }
        const files = new Map([
          [names[0]!, m.log === 0 ? bytes : orig[0]!],
          [names[1]!, m.log === 1 ? bytes : orig[1]!],
        ]);
        const model = modelChain(
          names.map((name, i) => ({
            name,
            valid: i === m.log ? valid : true,
            baseSeq: parsed[i]!.baseSeq,
            entries: i === m.log ? parsed[i]!.entries.slice(0, survive) : parsed[i]!.entries,
          })),
          secondary,
        );
        const r = timed(
          primary,
          names.map((name) => ({ name, bytes: files.get(name)! })),
        );
        const seqs = model.map((c) => c.entry.seq);
        outcomes.set(seqs.join(','), (outcomes.get(seqs.join(',')) ?? 0) + 1);
        assert.deepEqual(
          r.applied.map((a) => `${a.log}:${a.sequence}`),
          model.map((c) => `${c.log}:${c.entry.seq}`),
          JSON.stringify(m),
        );
        assert.equal(r.dirty, true);
        if (model.length === 0) {
          assert.ok(Buffer.from(r.bytes).equals(Buffer.from(primary)));
          assert.ok(r.warnings.length > 0);
          return;
        }
        if (seqs.join() === '2,3,4,5') {
          assert.ok(Buffer.from(r.bytes).equals(Buffer.from(windows)), 'full chain: Windows 10 result');
          return;
        }
        assert.ok(r.warnings.length > 0, 'a lost entry or log is reported');
        const want = overlay(primary, model, files);
        assert.ok(
          Buffer.from(r.bytes.subarray(4096)).equals(Buffer.from(want.subarray(4096))),
          'bins = primary + model pages',
        );
        const base = parseBaseBlock(r.bytes);
        const last = seqs[seqs.length - 1]!;
        assert.ok(base.checksumValid && !base.isDirty);
        assert.equal(base.primarySequence, Math.max(last, 3) + 1);
      }),
      { seed: 20261124, numRuns: 260 },
    );
    assert.equal(runs, 260);
    // The mutations must actually exercise the stopping rules, not only leave the chain whole.
    for (const chain of ['2,3,4,5', '3,4,5', '2', '2,3', '2,3,4'])
      assert.ok((outcomes.get(chain) ?? 0) > 0, `outcome ${chain} reached`);
  },
);

test(
  'NewDirtyHive primary: 40 flips in its base block or slack still recover to Windows 10 bins',
  { skip: sharedSkip() },
  () => {
    const primary = load(`${NEW}NewDirtyHive.xz`);
    const windows = load(`${NEW}RecoveredHive_Windows10.xz`);
    const logs: HiveLog[] = [
      { name: 'NewDirtyHive.LOG1', bytes: load(`${NEW}NewDirtyHive.LOG1.xz`) },
      { name: 'NewDirtyHive.LOG2', bytes: load(`${NEW}NewDirtyHive.LOG2.xz`) },
    ];
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 7 }), (pick, bit) => {
        const p = primary.slice();
        // Base block (checksum-covered or not), the bins entry 4 rewrites whole, or the slack after them.
        const pos = [pick % 4096, 4096 + (pick % 0x5000), 0x6000 + (pick % (p.length - 0x6000))][pick % 3]!;
        p[pos] = p[pos]! ^ (1 << bit);
        const r = timed(p, logs);
        const diff: number[] = [];
        for (let i = 0; i < windows.length; i++) if (r.bytes[i] !== windows[i]) diff.push(i);
        // Everything equals Windows' recovery except, at most, the flipped byte itself where nothing overwrote it.
        if (pos < 508 || (pos >= 4096 && pos < 0x6000)) assert.deepEqual(diff, [], `flip at ${pos}`);
        else if (pos >= 508 && pos < 512) assert.deepEqual(diff, [], `flip in the checksum at ${pos}`);
        else
          assert.deepEqual(
            diff.filter((i) => i >= 512),
            [pos],
            `flip at ${pos}`,
          );
      }),
      { seed: 7, numRuns: 40 },
    );
  },
);

test(
  'OldDirtyHive log: 60 seeded flips and cuts apply the log as written, or refuse it, never throw',
  { skip: sharedSkip() },
  () => {
    const primary = load(`${OLD}OldDirtyHive.xz`);
    const orig = load(`${OLD}OldDirtyHive.LOG1.xz`);
    const clean = recoverHive(primary, [{ name: 'OldDirtyHive.LOG1', bytes: orig }]).bytes;
    // Pages start at 1024 (DIRT vector of 4 + 119 bytes rounded to a sector); page i lands at the bins offset
    // of the i-th set bit. Mapping computed here from the bitmap with our own loop.
    const pageTarget: number[] = [];
    for (let bit = 0; bit < 0x77000 / 512; bit++)
      if ((orig[516 + (bit >> 3)]! >> (bit & 7)) & 1) pageTarget.push(bit * 512);
    assert.equal(pageTarget.length, 64);
    fc.assert(
      fc.property(
        fc.constantFrom('base', 'dirt', 'page', 'cut'),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (kind, pick, bit) => {
          const log = orig.slice();
          let bytes = log;
          let pos = -1;
          if (kind === 'cut') bytes = log.subarray(0, pick % log.length);
          else {
            pos =
              kind === 'base' ? pick % 512 : kind === 'dirt' ? 512 + (pick % 4) : 1024 + (pick % (64 * 512));
            log[pos] = log[pos]! ^ (1 << bit);
          }
          const r = timed(primary, [{ name: 'OldDirtyHive.LOG1', bytes }]);
          if (kind !== 'page') {
            // A bad base block, a bad DIRT signature or any cut (every page is needed): the log is refused.
            assert.deepEqual(r.applied, [], `${kind} ${pick}`);
            assert.ok(Buffer.from(r.bytes).equals(Buffer.from(primary)));
            assert.ok(r.warnings.length > 0);
            return;
          }
          // Old-format pages carry no checksum: the flipped byte is applied like any other, unless it broke
          // an hbin header, which stops the recovery at that bin (reported).
          const target = 4096 + pageTarget[Math.floor((pos - 1024) / 512)]! + ((pos - 1024) % 512);
          if (r.warnings.some((w) => /not well formed/.test(w))) return;
          const want = clean.slice();
          want[target] = want[target]! ^ (1 << bit);
          assert.ok(Buffer.from(r.bytes).equals(Buffer.from(want)), `page flip at ${pos} lands at ${target}`);
        },
      ),
      { seed: 99, numRuns: 60 },
    );
  },
);

test(
  'crafted entries with valid hashes but impossible fields: stopped with a warning, no huge allocation',
  { skip: sharedSkip() },
  () => {
    const primary = load(`${NEW}NewDirtyHive.xz`);
    const base = load(`${NEW}NewDirtyHive.LOG1.xz`).slice(0, 512);
    const reasons = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.record({
          size: fc.integer({ min: 0, max: 8 }).map((n) => n * 512),
          bins: fc.oneof(
            fc.constant(0x5000),
            fc.nat().map((n) => n * 4096),
            fc.nat(),
          ),
          count: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4 }), fc.nat()),
          refs: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }),
        }),
        (f) => {
          const log = new Uint8Array(512 + 4096);
          log.set(base);
          const dv = new DataView(log.buffer);
          const e = 512;
          log.set([0x48, 0x76, 0x4c, 0x45], e);
          dv.setUint32(e + 4, f.size, true);
          dv.setUint32(e + 12, 2, true);
          dv.setUint32(e + 16, f.bins >>> 0, true);
          dv.setUint32(e + 20, f.count >>> 0, true);
          f.refs.forEach(([o, s], i) => {
            dv.setUint32(e + 40 + 8 * i, o >>> 0, true);
            dv.setUint32(e + 44 + 8 * i, s >>> 0, true);
          });
          const end = Math.min(log.length, e + Math.max(40, f.size));
          dv.setBigUint64(e + 24, marvin32(log.subarray(e + 40, end)), true);
          dv.setBigUint64(e + 32, marvin32(log.subarray(e, e + 32)), true);
          const r = timed(primary, [{ name: 'NewDirtyHive.LOG1', bytes: log }]);
          const why =
            r.applied.length > 0
              ? 'applied'
              : (/: (log entry at [^:]*: )?([a-z ]+)/.exec(r.warnings[0] ?? '')?.[2] ?? '?');
          reasons.set(why, (reasons.get(why) ?? 0) + 1);
          assert.ok(
            r.bytes.length <= primary.length + log.length,
            'never grown past what the log could fill',
          );
          if (r.applied.length === 0) assert.ok(r.warnings.length > 0);
          else {
            const b = parseBaseBlock(r.bytes);
            assert.ok(b.checksumValid && !b.isDirty);
          }
        },
      ),
      { seed: 31337, numRuns: 150 },
    );
    // Each guard behind the hashes is reached, and some crafted entries are sound enough to apply.
    for (const why of ['applied', 'size ', 'page ', 'hive bins data size ', 'entry at '])
      assert.ok(
        [...reasons.keys()].some((k) => k.startsWith(why)),
        `${why}: ${[...reasons.keys()].join(' / ')}`,
      );
  },
);

test(
  'SYSTEM_B: 8 cuts of LOG2 apply LOG1 and the whole entries before each cut',
  { skip: sharedSkip() },
  () => {
    const primary = load('hives/SYSTEM_B.xz');
    const log1 = load('hives/SYSTEM_B.LOG1.xz');
    const log2 = load('hives/SYSTEM_B.LOG2.xz');
    const h1 = headers(log1);
    const h2 = headers(log2);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x297000 }), (t) => {
        const r = timed(primary, [
          { name: 'SYSTEM_B.LOG1', bytes: log1 },
          { name: 'SYSTEM_B.LOG2', bytes: log2.subarray(0, t) },
        ]);
        const kept = t < 512 ? [] : h2.entries.filter((e) => e.at + e.size <= t);
        assert.deepEqual(
          r.applied.map((a) => a.sequence),
          [...h1.entries, ...kept].map((e) => e.seq),
          `cut at ${t}`,
        );
      }),
      { seed: 5, numRuns: 8 },
    );
  },
);
