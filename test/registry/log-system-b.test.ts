// SYSTEM_B (Windows 10, dirty 1622/1621) with its LOG1/LOG2: the replay changes exactly the pages the valid
// log entries carry, computed here from the log headers with our own few lines, and the value diff is pinned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { tempDir } from '../helpers/tools.js';
import { testdataFile, sharedSkip } from '../helpers/testdata.js';
import { Hive } from '../../src/registry/hive.js';
import { tuples } from '../../src/registry/export.js';
import { parseBaseBlock } from '../../src/registry/base-block.js';
import { recoverHive } from '../../src/registry/log/index.js';

const load = (rel: string): Uint8Array => new Uint8Array(readFileSync(testdataFile(rel)));

interface Entry {
  seq: number;
  bins: number;
  pages: { offset: number; size: number; data: Uint8Array }[];
}

/** HvLE entries of a log, straight from the headers (no hash check: Windows wrote these and they verify elsewhere). */
function entries(log: Uint8Array): { baseSeq: number; entries: Entry[] } {
  const dv = new DataView(log.buffer, log.byteOffset, log.byteLength);
  const out: Entry[] = [];
  for (let at = 512; at + 40 <= log.length && dv.getUint32(at, false) === 0x48764c45 /* HvLE */;) {
    const size = dv.getUint32(at + 4, true);
    const count = dv.getUint32(at + 20, true);
    let data = at + 40 + 8 * count;
    const pages = [];
    for (let i = 0; i < count; i++) {
      const offset = dv.getUint32(at + 40 + 8 * i, true);
      const len = dv.getUint32(at + 44 + 8 * i, true);
      pages.push({ offset, size: len, data: log.subarray(data, data + len) });
      data += len;
    }
    out.push({ seq: dv.getUint32(at + 12, true), bins: dv.getUint32(at + 16, true), pages });
    at += size;
  }
  return { baseSeq: dv.getUint32(4, true), entries: out };
}

const PAGE = 4096;

test(
  'SYSTEM_B: recovery changes exactly the pages the log entries carry, each to its last copy',
  { skip: sharedSkip() },
  () => {
    const primary = load('hives/SYSTEM_B.xz');
    const log1 = load('hives/SYSTEM_B.LOG1.xz');
    const log2 = load('hives/SYSTEM_B.LOG2.xz');
    const r = recoverHive(primary, [
      { name: 'SYSTEM_B.LOG1', bytes: log1 },
      { name: 'SYSTEM_B.LOG2', bytes: log2 },
    ]);
    assert.deepEqual(r.warnings, []);

    // The model: LOG1 (base 2107) before LOG2 (base 2111); one chain of consecutive sequence numbers.
    const l1 = entries(log1);
    const l2 = entries(log2);
    assert.ok(l1.baseSeq < l2.baseSeq);
    const chain = [...l1.entries, ...l2.entries];
    chain.forEach((e, i) => assert.equal(e.seq, l1.baseSeq + i, 'consecutive'));
    assert.equal(chain.length, 24);
    assert.deepEqual(
      r.applied.map((a) => a.sequence),
      chain.map((e) => e.seq),
    );

    // Last copy of every 4 KiB page the chain covers.
    const lastCopy = new Map<number, Uint8Array>();
    for (const e of chain)
      for (const p of e.pages)
        for (let o = 0; o < p.size; o += PAGE) lastCopy.set(p.offset + o, p.data.subarray(o, o + PAGE));
    let changed = 0;
    const binsEnd = 4096 + chain[chain.length - 1]!.bins;
    assert.ok(r.bytes.length >= binsEnd);
    for (let at = 4096; at < Math.max(primary.length, r.bytes.length); at += PAGE) {
      const got = r.bytes.subarray(at, at + PAGE);
      const copy = lastCopy.get(at - 4096);
      if (copy) {
        assert.ok(
          Buffer.from(got).equals(Buffer.from(copy)),
          `page at 0x${at.toString(16)} is the log's last copy`,
        );
        if (!Buffer.from(got).equals(Buffer.from(primary.subarray(at, at + PAGE)))) changed++;
      } else {
        assert.ok(
          Buffer.from(got).equals(Buffer.from(primary.subarray(at, at + PAGE))),
          `uncovered page at 0x${at.toString(16)} unchanged`,
        );
      }
    }
    // Pinned once from a run: 481 distinct 4 KiB pages covered, of which 450 really differ from the unreplayed
    // file (the other 31 were logged with the bytes the primary already had).
    assert.equal(lastCopy.size, 481);
    assert.equal(changed, 450);

    const base = parseBaseBlock(r.bytes);
    assert.ok(base.checksumValid && !base.isDirty);
    assert.equal(base.primarySequence, 2131, 'one past the last entry applied (2130)');
    assert.equal(base.hiveBinsDataSize, 0xc02000, 'the last entry grew the bins from 0xbd3000');
  },
);

test(
  'SYSTEM_B: the value diff between the unreplayed and the replayed hive is pinned',
  { skip: sharedSkip() },
  () => {
    const primary = load('hives/SYSTEM_B.xz');
    const r = recoverHive(primary, [
      { name: 'SYSTEM_B.LOG1', bytes: load('hives/SYSTEM_B.LOG1.xz') },
      { name: 'SYSTEM_B.LOG2', bytes: load('hives/SYSTEM_B.LOG2.xz') },
    ]);
    const read = (b: Uint8Array): { values: Map<string, string>; keys: Set<string> } => {
      const hive = new Hive(b);
      const values = new Map<string, string>();
      for (const t of tuples(hive))
        values.set(`${t.path}|${t.name}`, `${t.type}:${Buffer.from(t.data).toString('hex')}`);
      const keys = new Set<string>();
      for (const { path } of hive.walk()) keys.add(path);
      return { values, keys };
    };
    const before = read(primary);
    const after = read(r.bytes);
    const added = [...after.values.keys()].filter((k) => !before.values.has(k));
    const removed = [...before.values.keys()].filter((k) => !after.values.has(k));
    const changed = [...before.values.keys()].filter(
      (k) => after.values.has(k) && after.values.get(k) !== before.values.get(k),
    );
    // Counts and examples read off once (recoverHive + tuples, diffed by path|name) and pinned here; the
    // page-level test above is what checks they come from the log and nowhere else.
    assert.deepEqual(
      {
        before: before.values.size,
        after: after.values.size,
        added: added.length,
        removed: removed.length,
        changed: changed.length,
      },
      { before: 74957, after: 78901, added: 3944, removed: 0, changed: 96 },
    );
    assert.deepEqual({ before: before.keys.size, after: after.keys.size }, { before: 33123, after: 35595 });
    assert.ok(
      [...before.keys].every((k) => after.keys.has(k)),
      'no key removed',
    );
    const cls = '\\ControlSet001\\Control\\Class\\{4d36e967-e325-11ce-bfc1-08002be10318}\\0003';
    assert.ok(!before.keys.has(cls) && after.keys.has(cls), 'a disk-drive class instance key appears');
    const utf16z = (s: string): string => Buffer.from(`${s}\0`, 'utf16le').toString('hex');
    assert.equal(after.values.get(`${cls}|DriverDesc`), `1:${utf16z('Disk drive')}`);
    assert.equal(after.values.get(`${cls}|ProviderName`), `1:${utf16z('Microsoft')}`);
    const power = '\\ControlSet001\\Control\\Session Manager\\Power';
    assert.equal(before.values.get(`${power}|POSTTime`), '4:00000000');
    assert.equal(after.values.get(`${power}|POSTTime`), '4:63200000');
    assert.equal(before.values.get(`${power}|FwPOSTTime`), '4:ef1d0000');
    assert.equal(after.values.get(`${power}|FwPOSTTime`), '4:991e0000');

    // hivex (which does not replay logs) opens our output and counts the same keys and values.
    const { dir, cleanup } = tempDir('winrescue-log-');
    try {
      writeFileSync(join(dir, 'SYSTEM'), r.bytes);
      const text = execFileSync('hivexregedit', ['--export', '--prefix', '', join(dir, 'SYSTEM'), '\\'], {
        maxBuffer: 1 << 28,
        stdio: ['ignore', 'pipe', 'pipe'],
      }).toString('utf8');
      const lines = text.split('\n');
      assert.equal(lines.filter((l) => l.startsWith('[')).length, after.keys.size);
      assert.equal(lines.filter((l) => /^(@|")/.test(l)).length, after.values.size);
      assert.ok(text.includes(`[${power}]\n`));
      assert.ok(text.includes('"POSTTime"=dword:00002063'));
    } finally {
      cleanup();
    }
  },
);
