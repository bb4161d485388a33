// Marvin32 against published vectors and against the hashes Windows itself wrote into HvLE log entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { testdataFile, sharedSkip } from '../helpers/testdata.js';
import { marvin32, HVLE_MARVIN_SEED } from '../../src/registry/log/marvin32.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

// Published known answers: SymCrypt's self-test (lib/marvin32.c, default seed, "abc"), the "longer" case and the
// seed-0/1/2 table used by Microsoft's own Marvin tests (dotnet, security-utilities), taken from skeeto/marvin32.
const SEED0 = 0x004fb61a001bdbccn;
const SEED1 = 0x804fb61a001bdbccn;
const SEED2 = 0x804fb61a801bdbccn;
const VECTORS: [bigint, Uint8Array, bigint][] = [
  [0xd53cd9cecd0893b7n, ascii('abc'), 0x22c74339492769bfn],
  [0xddddeeeeffff000n, ascii('abcdefghijklmnopqrstuvwxyz'), 0xa128eb7e7260aca2n],
  [SEED0, bytes(), 0x30ed35c100cd3c7dn],
  [SEED0, bytes(0xaf), 0x48e73fc77d75ddc1n],
  [SEED0, bytes(0xe7, 0x0f), 0xb5f6e1fc485dbff8n],
  [SEED0, bytes(0x37, 0xf4, 0x95), 0xf0b07c789b8cf7e8n],
  [SEED0, bytes(0x86, 0x42, 0xdc, 0x59), 0x7008f2e87e9cf556n],
  [SEED0, bytes(0x15, 0x3f, 0xb7, 0x98, 0x26), 0xe6c08c6da2afa997n],
  [SEED0, bytes(0x09, 0x32, 0xe6, 0x24, 0x6c, 0x47), 0x6f04bf1a5ea24060n],
  [SEED0, bytes(0xab, 0x42, 0x7e, 0xa8, 0xd1, 0x0f, 0xc7), 0xe11847e4f0678c41n],
  [SEED1, bytes(), 0x10a9d5d3996fd65dn],
  [SEED1, bytes(0xaf), 0x68201f91960ebf91n],
  [SEED1, bytes(0x37, 0xf4, 0x95), 0xe1f2dfa6e5131408n],
  [SEED1, bytes(0xab, 0x42, 0x7e, 0xa8, 0xd1, 0x0f, 0xc7), 0xe203987dba252fb3n],
  [SEED2, bytes(0x00), 0xa37fb0da2ecae06cn],
  [SEED2, bytes(0xff, 0x00, 0xff, 0x00), 0xd3bec7726b057943n],
  [SEED2, bytes(0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00), 0x71876f2efb1b0ee8n],
];

test('marvin32 matches published test vectors (SymCrypt KAT, seed 0/1/2 table)', () => {
  for (const [seed, data, want] of VECTORS) {
    assert.equal(
      marvin32(data, seed),
      want,
      `seed ${seed.toString(16)} data ${Buffer.from(data).toString('hex')}`,
    );
  }
});

test('marvin32 tells an input from the same input with a trailing zero byte (the 0x80 pad marks the length)', () => {
  // A tail handled without the pad byte would hash x and x ++ 0x00 alike; the vectors above cover lengths 0-7,
  // this covers every tail length over longer inputs and arbitrary seeds.
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 64 }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      (data, seed) => {
        const withZero = new Uint8Array(data.length + 1);
        withZero.set(data);
        return marvin32(data, seed) !== marvin32(withZero, seed);
      },
    ),
    { seed: 4242, numRuns: 300 },
  );
});

/** Every HvLE entry header of a log, read with a few lines of our own (not the module under test). */
function entryHeaders(log: Uint8Array): { at: number; size: number; hash1: bigint; hash2: bigint }[] {
  const dv = new DataView(log.buffer, log.byteOffset, log.byteLength);
  const out = [];
  for (let at = 512; at + 40 <= log.length && dv.getUint32(at, false) === 0x48764c45;) {
    const size = dv.getUint32(at + 4, true);
    out.push({ at, size, hash1: dv.getBigUint64(at + 24, true), hash2: dv.getBigUint64(at + 32, true) });
    at += size;
  }
  return out;
}

const LOGS = [
  'hives/yarp/NewDirtyHive1/NewDirtyHive.LOG1.xz',
  'hives/yarp/NewDirtyHive1/NewDirtyHive.LOG2.xz',
  'hives/SYSTEM_B.LOG1.xz',
  'hives/SYSTEM_B.LOG2.xz',
];

test(
  'marvin32 with the registry seed reproduces both hashes of every entry Windows wrote',
  { skip: sharedSkip() },
  () => {
    let checked = 0;
    for (const rel of LOGS) {
      const log = new Uint8Array(readFileSync(testdataFile(rel)));
      const entries = entryHeaders(log);
      assert.ok(entries.length > 0, `${rel} has entries`);
      for (const e of entries) {
        assert.equal(
          marvin32(log.subarray(e.at + 40, e.at + e.size)),
          e.hash1,
          `${rel} entry at ${e.at} Hash-1`,
        );
        assert.equal(
          marvin32(log.subarray(e.at, e.at + 32), HVLE_MARVIN_SEED),
          e.hash2,
          `${rel} entry at ${e.at} Hash-2`,
        );
        checked++;
      }
    }
    assert.equal(checked, 1 + 3 + 4 + 20);
  },
);

test(
  'the seed is the value 0x82EF4D887A4E55C5: the byte-reversed reading fails on Windows-written hashes',
  { skip: sharedSkip() },
  () => {
    const log = new Uint8Array(readFileSync(testdataFile(LOGS[0]!)));
    const [e] = entryHeaders(log);
    assert.ok(e);
    assert.equal(HVLE_MARVIN_SEED, 0x82ef4d887a4e55c5n);
    assert.notEqual(marvin32(log.subarray(e.at, e.at + 32), 0xc5554e7a884def82n), e.hash2);
  },
);
