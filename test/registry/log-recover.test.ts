// Log replay against Windows' own recoveries (yarp NewDirtyHive1 / OldDirtyHive), hivex on our output, the
// sequence-number policy for writers, and the no-log / clean / bad-base-block paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testdataFile, sharedSkip } from '../helpers/testdata.js';
import { tempDir } from '../helpers/tools.js';
import { Hive } from '../../src/registry/hive.js';
import { tuples } from '../../src/registry/export.js';
import { parseBaseBlock, baseBlockChecksum } from '../../src/registry/base-block.js';
import { parseHiveBin } from '../../src/registry/hive-bin.js';
import {
  recoverHive,
  logSequenceCeiling,
  findLogSiblings,
  type HiveLog,
} from '../../src/registry/log/index.js';
import { marvin32 } from '../../src/registry/log/marvin32.js';
import { hexOf, hivexExport, parseReg, tupleKey } from './reg-parse.js';

const load = (rel: string): Uint8Array => new Uint8Array(readFileSync(testdataFile(rel)));
const NEW = 'hives/yarp/NewDirtyHive1/';
const OLD = 'hives/yarp/OldDirtyHive/';
const newLogs = (): HiveLog[] => [
  { name: 'NewDirtyHive.LOG1', bytes: load(`${NEW}NewDirtyHive.LOG1.xz`) },
  { name: 'NewDirtyHive.LOG2', bytes: load(`${NEW}NewDirtyHive.LOG2.xz`) },
];
const oldLogs = (): HiveLog[] => [{ name: 'OldDirtyHive.LOG1', bytes: load(`${OLD}OldDirtyHive.LOG1.xz`) }];

function ours(bytes: Uint8Array): { keys: Set<string>; values: string[] } {
  const hive = new Hive(bytes);
  const keys = new Set<string>();
  for (const { path } of hive.walk()) keys.add(path);
  const values = [...tuples(hive)].map((t) => tupleKey(t.path, t.name, t.type, hexOf(t.data))).sort();
  return { keys, values };
}

/** hivexregedit's export of a file, parsed into keys and tuples (hivex refuses a bad header checksum). */
function hivex(bytes: Uint8Array): { keys: Set<string>; values: string[] } {
  const { dir, cleanup } = tempDir('winrescue-log-');
  try {
    const file = join(dir, 'hive');
    writeFileSync(file, bytes);
    const { keys, values } = parseReg(hivexExport(file));
    return { keys, values: values.sort() };
  } finally {
    cleanup();
  }
}

function assertCleanBase(bytes: Uint8Array, sequence: number): void {
  const base = parseBaseBlock(bytes);
  assert.ok(base.checksumValid, 'checksum valid');
  assert.equal(base.primarySequence, sequence);
  assert.equal(base.secondarySequence, sequence);
  assert.equal(base.fileType, 0);
  assert.equal(base.isDirty, false);
  assert.ok(bytes.length >= 4096 + base.hiveBinsDataSize);
}

test(
  'NewDirtyHive1 + LOG1/LOG2 recovers to exactly what Windows 10 recovered',
  { skip: sharedSkip() },
  () => {
    const primary = load(`${NEW}NewDirtyHive.xz`);
    const windows = load(`${NEW}RecoveredHive_Windows10.xz`);
    const r = recoverHive(primary, newLogs());
    assert.equal(r.dirty, true);
    assert.deepEqual(r.warnings, []);
    // LOG1 holds entry 2, LOG2 entries 3-5: the primary's secondary sequence is 2, so all four apply in order.
    assert.deepEqual(
      r.applied.map((a) => `${a.log}:${a.format}:${a.sequence}`),
      [
        'NewDirtyHive.LOG1:hvle:2',
        'NewDirtyHive.LOG2:hvle:3',
        'NewDirtyHive.LOG2:hvle:4',
        'NewDirtyHive.LOG2:hvle:5',
      ],
    );
    const got = ours(r.bytes);
    const win = ours(windows);
    assert.deepEqual(got.values, win.values, 'tuples equal Windows 10 recovery');
    assert.deepEqual([...got.keys].sort(), [...win.keys].sort(), 'key set equal');
    const before = ours(primary);
    assert.notDeepEqual(
      before.values,
      win.values,
      'the unreplayed primary differs (the oracle is not trivial)',
    );
    // Stronger than tuples: Windows' file, base block included (6/6), is byte-identical to ours.
    assert.ok(Buffer.from(r.bytes).equals(Buffer.from(windows)), 'byte-identical to RecoveredHive_Windows10');
    assertCleanBase(r.bytes, 6);
    const hx = hivex(r.bytes);
    assert.deepEqual(hx.values, got.values, 'hivexregedit reads the same tuples from our output');
    assert.deepEqual([...hx.keys].sort(), [...got.keys].sort());
  },
);

test('OldDirtyHive + LOG1 (DIRT) recovers to the tuples Windows 7 recovered', { skip: sharedSkip() }, () => {
  const primary = load(`${OLD}OldDirtyHive.xz`);
  const windows = load(`${OLD}RecoveredHive_Windows7.xz`);
  const r = recoverHive(primary, oldLogs());
  assert.equal(r.dirty, true);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.applied.length, 1);
  const a = r.applied[0]!;
  assert.equal(a.format, 'dirt');
  assert.equal(a.sequence, 5);
  // Read by hand off `xxd -s 512 OldDirtyHive.LOG1`: the bitmap (at 0x204, 0x77000 / 512 bits = 119 bytes) has
  // ff ff at bytes 0 and 12, ff at byte 106 and ff ff ff at byte 116: 64 pages of 512 bytes in four runs.
  assert.deepEqual(a.pages, [
    { offset: 0, size: 0x2000 },
    { offset: 12 * 8 * 512, size: 0x2000 },
    { offset: 106 * 8 * 512, size: 0x1000 },
    { offset: 116 * 8 * 512, size: 0x3000 },
  ]);
  const got = ours(r.bytes);
  const win = ours(windows);
  assert.deepEqual(got.values, win.values, 'tuples equal Windows 7 recovery');
  assert.deepEqual([...got.keys].sort(), [...win.keys].sort(), 'key set equal');
  assert.notDeepEqual(ours(primary).values, win.values, 'the unreplayed primary differs');
  // Beyond the base block and the first hbin's timestamp (Windows 7 rewrote both when it saved the hive), the
  // only byte Windows changed is the largest-value-name-length field of one nk it maintained after loading.
  const diffs: number[] = [];
  for (let i = 4096; i < windows.length; i++) if (r.bytes[i] !== windows[i]) diffs.push(i);
  assert.deepEqual(
    diffs.filter((i) => i < 0x1014 || i >= 0x101c),
    [0x6bdc8],
  );
  assertCleanBase(r.bytes, 6);
  const hx = hivex(r.bytes);
  assert.deepEqual(hx.values, got.values, 'hivexregedit reads the same tuples from our output');
});

test(
  'writer policy: a clean primary above logSequenceCeiling makes the same logs inert',
  { skip: sharedSkip() },
  () => {
    const logs = newLogs();
    const ceiling = logSequenceCeiling(logs);
    assert.equal(ceiling, 5, 'LOG2 base block says 3, its last entry 5');
    const recovered = recoverHive(load(`${NEW}NewDirtyHive.xz`), logs).bytes;
    const written = recovered.slice();
    const dv = new DataView(written.buffer);
    dv.setUint32(4, ceiling + 1, true);
    dv.setUint32(8, ceiling + 1, true);
    dv.setUint32(508, baseBlockChecksum(written), true);
    const again = recoverHive(written, logs);
    assert.equal(again.dirty, false);
    assert.deepEqual(again.applied, []);
    assert.deepEqual(again.warnings, []);
    assert.ok(Buffer.from(again.bytes).equals(Buffer.from(written)), 'bytes unchanged');
    assert.notEqual(again.bytes, written, 'a new buffer');
    // The other half of the rule: the same file left dirty (secondary one lower) does replay the logs again.
    dv.setUint32(8, ceiling, true);
    dv.setUint32(508, baseBlockChecksum(written), true);
    assert.ok(recoverHive(written, logs).dirty);
  },
);

test(
  'a dirty hive without logs, or with only empty logs, comes back unchanged with a warning',
  { skip: sharedSkip() },
  () => {
    const primary = load(`${NEW}NewDirtyHive.xz`);
    for (const logs of [[], [{ name: 'NewDirtyHive.LOG1', bytes: new Uint8Array(0) }]]) {
      const r = recoverHive(primary, logs);
      assert.equal(r.dirty, true);
      assert.deepEqual(r.applied, []);
      assert.equal(r.warnings.length, 1);
      assert.match(r.warnings[0]!, /dirty/);
      assert.ok(Buffer.from(r.bytes).equals(Buffer.from(primary)));
    }
  },
);

test('a clean hive is never replayed, even with logs holding later entries', { skip: sharedSkip() }, () => {
  const windows = load(`${NEW}RecoveredHive_Windows10.xz`);
  const r = recoverHive(windows, newLogs());
  assert.equal(r.dirty, false);
  assert.deepEqual(r.applied, []);
  assert.ok(Buffer.from(r.bytes).equals(Buffer.from(windows)));
});

test(
  'a primary with a bad base-block checksum is rebuilt from the log with the latest entries',
  { skip: sharedSkip() },
  () => {
    const primary = load(`${NEW}NewDirtyHive.xz`);
    primary[0x30]! ^= 0xff; // inside the file-name field: only the checksum notices
    assert.ok(!parseBaseBlock(primary).checksumValid);
    const r = recoverHive(primary, newLogs());
    // Only LOG2 (entries 3-5) is used; its entry 4 rewrites all 0x5000 bytes of bins, so the result is again
    // Windows 10's file, base block included (rebuilt from LOG2's copy, sequences 6/6).
    assert.deepEqual(
      r.applied.map((a) => a.sequence),
      [3, 4, 5],
    );
    assert.ok(r.warnings.some((w) => /rebuilt from NewDirtyHive\.LOG2/.test(w)));
    assert.ok(Buffer.from(r.bytes).equals(Buffer.from(load(`${NEW}RecoveredHive_Windows10.xz`))));
  },
);

test(
  'an old-format log whose time stamp matches neither base block nor first hbin is not applied',
  { skip: sharedSkip() },
  () => {
    // OldDirtyHive's first hbin carries an older FILETIME than its base block; with the base block damaged
    // the spec's fallback (match against the hbin's copy) finds no applicable log, and there is no LOG2.
    const primary = load(`${OLD}OldDirtyHive.xz`);
    primary[0x30]! ^= 0xff;
    const r = recoverHive(primary, oldLogs());
    assert.deepEqual(r.applied, []);
    assert.ok(Buffer.from(r.bytes).equals(Buffer.from(primary)));
  },
);

test('the hive grows to the bins size an entry records, and the base block takes it', () => {
  // A synthetic hive of one 4 KiB bin and a log whose entry grows it to two bins.
  const primary = new Uint8Array(4096 + 4096);
  const dv = new DataView(primary.buffer);
  primary.set([0x72, 0x65, 0x67, 0x66], 0); // regf
  dv.setUint32(4, 8, true);
  dv.setUint32(8, 7, true);
  dv.setUint32(20, 1, true);
  dv.setUint32(24, 5, true);
  dv.setUint32(32, 1, true);
  dv.setUint32(36, 0x20, true);
  dv.setUint32(40, 4096, true);
  dv.setUint32(44, 1, true);
  dv.setUint32(508, baseBlockChecksum(primary), true);
  const bin = (off: number): Uint8Array => {
    const b = new Uint8Array(4096);
    const v = new DataView(b.buffer);
    b.set([0x68, 0x62, 0x69, 0x6e], 0);
    v.setUint32(4, off, true);
    v.setUint32(8, 4096, true);
    v.setInt32(32, 4096 - 32, true); // one free cell filling the bin
    return b;
  };
  primary.set(bin(0), 4096);
  const log = new Uint8Array(512 + 512 + 8192);
  log.set(primary.subarray(0, 512));
  const lv = new DataView(log.buffer);
  lv.setUint32(4, 7, true);
  lv.setUint32(8, 7, true);
  lv.setUint32(28, 6, true);
  lv.setUint32(508, baseBlockChecksum(log), true);
  const e = 512;
  log.set([0x48, 0x76, 0x4c, 0x45], e); // HvLE
  lv.setUint32(e + 4, 512 + 8192, true);
  lv.setUint32(e + 12, 7, true);
  lv.setUint32(e + 16, 8192, true);
  lv.setUint32(e + 20, 1, true);
  lv.setUint32(e + 40, 4096, true); // the page: the new second bin
  lv.setUint32(e + 44, 4096, true);
  log.set(bin(4096), e + 48);
  lv.setBigUint64(e + 24, marvin32(log.subarray(e + 40, e + 512 + 8192)), true);
  lv.setBigUint64(e + 32, marvin32(log.subarray(e, e + 32)), true);
  const r = recoverHive(primary, [{ name: 'X.LOG1', bytes: log }]);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.applied, [
    { log: 'X.LOG1', format: 'hvle', sequence: 7, pages: [{ offset: 4096, size: 4096 }] },
  ]);
  assert.equal(r.bytes.length, 4096 + 8192);
  assertCleanBase(r.bytes, 9);
  assert.equal(parseBaseBlock(r.bytes).hiveBinsDataSize, 8192);
  assert.deepEqual([parseHiveBin(r.bytes, 4096).offset, parseHiveBin(r.bytes, 8192).offset], [0, 4096]);
  assert.ok(Buffer.from(r.bytes.subarray(8192)).equals(Buffer.from(bin(4096))));
});

test('findLogSiblings picks NAME.LOG1/.LOG2/.LOG case-insensitively, in recovery order', () => {
  const listing = [
    'SYSTEM',
    'system.log',
    'SYSTEM.LOG2',
    'System.Log1',
    'SYSTEM.sav',
    'SYSTEM.LOG1.bak',
    'SOFTWARE.LOG1',
    'SYSTEMX.LOG1',
  ];
  assert.deepEqual(findLogSiblings(listing, 'SYSTEM'), ['System.Log1', 'SYSTEM.LOG2', 'system.log']);
  assert.deepEqual(findLogSiblings(['Boot/BCD.LOG', 'Boot\\BCD.LOG1'], '\\Boot\\BCD'), [
    'Boot\\BCD.LOG1',
    'Boot/BCD.LOG',
  ]);
  assert.deepEqual(findLogSiblings(listing, 'SAM'), []);
});

test('new format: the log with earlier entries goes first whatever its name', { skip: sharedSkip() }, () => {
  const [l1, l2] = newLogs();
  // LOG2's content under the name LOG1 and vice versa: Windows rotates logs, so names do not order entries.
  const swapped = recoverHive(load(`${NEW}NewDirtyHive.xz`), [
    { name: 'NewDirtyHive.LOG1', bytes: l2!.bytes },
    { name: 'NewDirtyHive.LOG2', bytes: l1!.bytes },
  ]);
  assert.deepEqual(
    swapped.applied.map((a) => `${a.log}:${a.sequence}`),
    ['NewDirtyHive.LOG2:2', 'NewDirtyHive.LOG1:3', 'NewDirtyHive.LOG1:4', 'NewDirtyHive.LOG1:5'],
  );
  assert.ok(Buffer.from(swapped.bytes).equals(Buffer.from(load(`${NEW}RecoveredHive_Windows10.xz`))));
});

test('old format: a bad LOG1 falls back to a valid LOG2, as Windows 8 does', { skip: sharedSkip() }, () => {
  const primary = load(`${OLD}OldDirtyHive.xz`);
  const good = oldLogs()[0]!.bytes;
  const bad = good.slice();
  bad[8]! ^= 1; // secondary sequence: checksum and sequence equality both broken
  const r = recoverHive(primary, [
    { name: 'OldDirtyHive.LOG1', bytes: bad },
    { name: 'OldDirtyHive.LOG2', bytes: good },
  ]);
  assert.deepEqual(
    r.applied.map((a) => `${a.log}:${a.format}`),
    ['OldDirtyHive.LOG2:dirt'],
  );
  assert.ok(r.warnings.some((w) => /OldDirtyHive\.LOG1: not a valid log/.test(w)));
  const direct = recoverHive(primary, oldLogs());
  assert.ok(Buffer.from(r.bytes).equals(Buffer.from(direct.bytes)));
});
