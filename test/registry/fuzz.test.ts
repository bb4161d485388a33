// Bad input never crashes or hangs the registry engine: over 2,000 seeded mutations per run, aimed at the
// fields the parser follows (cell sizes, offsets, counts), plus truncations and garbage. Every outcome must be
// a parsed hive or a WinrescueError; a lenient export of whatever parses must never throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { testdataFile, sharedSkip } from '../helpers/testdata.js';
import { Hive } from '../../src/registry/hive.js';
import { exportReg, tuples } from '../../src/registry/export.js';
import { isWinrescueError } from '../../src/errors.js';

const load = (rel: string): Uint8Array => new Uint8Array(readFileSync(testdataFile(rel)));

/** Every cell start (file offset) in the hive, found by our own scan of the hbins, not by the parser. */
function cellStarts(b: Uint8Array): number[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = [];
  for (let bin = 4096; bin + 32 <= b.length;) {
    if (dv.getUint32(bin, false) !== 0x6862696e) break; // 'hbin'
    const size = dv.getUint32(bin + 8, true);
    if (size < 4096 || bin + size > b.length) break;
    for (let at = bin + 32; at + 4 <= bin + size;) {
      const s = Math.abs(dv.getInt32(at, true));
      if (s < 8) break;
      out.push(at);
      at += s;
    }
    bin += size;
  }
  return out;
}

/** Values that break parsers: none-markers, signs, off-by-one sizes, huge counts, offsets into the base block. */
const NASTY = [0, 1, 4, 7, 8, 0x20, 0x1000, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff, 0xfffffff0];

interface Outcome {
  parsed: number;
  failed: number;
}

function exercise(b: Uint8Array, outcome: Outcome): void {
  const t0 = Date.now();
  let hive: Hive | undefined;
  try {
    hive = new Hive(b);
    let n = 0;
    for (const t of tuples(hive)) n += t.data.length >= 0 ? 1 : 0;
    assert.ok(n >= 0);
    // Case-insensitive lookup follows the same lists again, by name this time.
    const first = hive.subkeys(hive.root)[0];
    if (first) assert.equal(hive.resolveKey(first.name.toLowerCase()).key.cell.rel, first.cell.rel);
    outcome.parsed++;
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    outcome.failed++;
  }
  if (hive) {
    const h = hive;
    exportReg(h, { onError: (err) => assert.ok(isWinrescueError(err)) });
  }
  assert.ok(Date.now() - t0 < 2000, 'one mutated hive took over 2 s');
}

for (const [rel, runs] of [
  ['hives/BCD-bios.xz', 1200],
  ['hives/yarp/ManySubkeysHive.xz', 200],
  ['hives/yarp/BigDataHive.xz', 500],
] as const) {
  test(`fuzz: ${runs} structure-aimed mutations of ${rel}`, { skip: sharedSkip() }, () => {
    const orig = load(rel);
    const cells = cellStarts(orig);
    assert.ok(cells.length > 10, `our scan found the cells (${cells.length})`);
    const outcome: Outcome = { parsed: 0, failed: 0 };
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            cell: fc.nat(cells.length - 1),
            // Field offsets inside a cell: size, then the nk/vk/list/db fields the parser follows.
            field: fc.constantFrom(0, 4, 6, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 76, 78),
            value: fc.oneof(
              fc.constantFrom(...NASTY),
              fc.nat(orig.length),
              fc.constantFrom(...cells).map((c) => c - 4096),
            ),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        (edits) => {
          const b = orig.slice();
          const dv = new DataView(b.buffer);
          for (const e of edits) {
            const at = cells[e.cell]! + e.field;
            if (at + 4 <= b.length) dv.setUint32(at, e.value >>> 0, true);
          }
          exercise(b, outcome);
        },
      ),
      { numRuns: runs, seed: 0x2e6f + runs },
    );
    assert.ok(
      outcome.failed > 0 && outcome.parsed > 0,
      `mutations exercised both paths (${outcome.failed} errors, ${outcome.parsed} results)`,
    );
  });
}

test('fuzz: 300 truncations and 200 garbage files give typed errors', { skip: sharedSkip() }, () => {
  const orig = load('hives/BCD-uefi-win10.xz');
  const outcome: Outcome = { parsed: 0, failed: 0 };
  fc.assert(
    fc.property(fc.nat(orig.length - 1), (len) => exercise(orig.slice(0, len), outcome)),
    { numRuns: 300, seed: 7 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 12288 }), fc.boolean(), (junk, withHeader) => {
      const b = junk.slice();
      // Half the garbage carries a valid-looking base block so the cell parser is reached, not just the magic check.
      if (withHeader && b.length >= 4096) b.set(orig.subarray(0, 4096));
      exercise(b, outcome);
    }),
    { numRuns: 200, seed: 8 },
  );
  assert.ok(outcome.failed >= 300, `truncated and garbage inputs were refused (${outcome.failed})`);
});
