// The writer on damaged hives: seeded byte mutations of a Windows-made BCD store, then a fixed set of edits.
// Every failure must be a WinrescueError (never a RangeError, TypeError or stack overflow), never a hang, and an
// edit that throws must leave the bytes exactly as they were (damage is found before the first write).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { testdataFile, sharedSkip } from '../helpers/testdata.js';
import { HiveEditor } from '../../src/registry/write/index.js';
import { isWinrescueError } from '../../src/errors.js';

const ITERATIONS = 1500;
/** Per iteration: opening, six edits and a save of a 20 KB hive take milliseconds; seconds mean a loop. */
const TIME_LIMIT_MS = 2000;

test(
  `${ITERATIONS} mutated BCD stores: only typed errors, no hang, a refused edit changes nothing`,
  { skip: sharedSkip() },
  (t) => {
    const original = new Uint8Array(readFileSync(testdataFile('hives/BCD-bios.xz')));
    const binsSize = new DataView(original.buffer, original.byteOffset).getUint32(40, true);
    let seed = Number(process.env.WINRESCUE_FUZZ_SEED ?? 0x2545f491) | 0 || 1;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const kinds = new Map<string, number>();
    let refused = 0;
    let opened = 0;
    for (let it = 0; it < ITERATIONS; it++) {
      const bytes = original.slice();
      const flips = 1 + rand(8);
      for (let f = 0; f < flips; f++) {
        // Mostly dword-aligned words in the bins (cell sizes, offsets), sometimes any bin byte or a base block byte.
        const r = rand(8);
        const at = r === 0 ? rand(512) : r === 1 ? 4096 + rand(binsSize) : 4096 + 4 * rand(binsSize / 4);
        bytes[at] = rand(256);
      }
      const t0 = performance.now();
      let editor: HiveEditor;
      try {
        editor = HiveEditor.open(bytes, { force: true });
        opened++;
      } catch (e) {
        if (!isWinrescueError(e))
          assert.fail(`open, iteration ${it}: ${e instanceof Error ? e.stack : String(e)}`);
        kinds.set(e.code, (kinds.get(e.code) ?? 0) + 1);
        continue;
      }
      const ops: Array<() => unknown> = [
        () => editor.createKey('Fuzz\\Deep\\Key'),
        () => editor.setValue('Objects', 'v', 3, new Uint8Array(100).fill(1)),
        () => editor.setValue('', 'big', 3, new Uint8Array(20000).fill(2)),
        () => editor.deleteValue('Description', 'KeyName'),
        () => editor.deleteKey('Objects\\{9dea862c-5cdd-4e70-acc1-f32b344d4795}', { recursive: true }),
        () => editor.deleteKey('Objects', { recursive: true }),
        () => editor.save({ minSequence: 5 }),
      ];
      for (const op of ops) {
        let before: Uint8Array | undefined;
        try {
          before = editor.hive.bytes.slice();
        } catch (e) {
          if (!isWinrescueError(e))
            assert.fail(`view, iteration ${it}: ${e instanceof Error ? e.stack : String(e)}`);
        }
        try {
          op();
        } catch (e) {
          if (!isWinrescueError(e))
            assert.fail(`iteration ${it}: ${e instanceof Error ? e.stack : String(e)}`);
          kinds.set(e.code, (kinds.get(e.code) ?? 0) + 1);
          refused++;
          if (before)
            assert.ok(
              Buffer.from(before).equals(editor.hive.bytes),
              `iteration ${it}: a refused edit changed bytes`,
            );
        }
      }
      assert.ok(performance.now() - t0 < TIME_LIMIT_MS, `iteration ${it} took ${performance.now() - t0} ms`);
    }
    t.diagnostic(
      `opened ${opened} of ${ITERATIONS}, refused edits ${refused}: ${JSON.stringify([...kinds])}`,
    );
    // The mutations must actually bite, or this test proves nothing.
    assert.ok(
      opened > 50 && refused > 20,
      `opened ${opened}, refused edits ${refused}, ${JSON.stringify([...kinds])}`,
    );
  },
);
