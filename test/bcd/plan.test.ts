// planElementChange, the playbooks' old → new step, on a copy of a Windows-made store: the change is applied
// with our hive writer and judged by hivexregedit (the bytes bcdedit would store, nothing else changed), and a
// second plan says "already set".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isWinrescueError } from '../../src/errors.js';
import { Hive } from '../../src/registry/hive.js';
import { HiveEditor } from '../../src/registry/write/editor.js';
import { planElementChange, readBcdStore, type BcdValue } from '../../src/bcd/index.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { tempDir } from '../helpers/tools.js';
import { hivexExport, parseReg } from '../registry/reg-parse.js';

test(
  'serial-console settings planned, applied, judged by hivex, then already set',
  { skip: sharedSkip() },
  () => {
    const src = testdataFile('hives/BCD-bios.xz');
    const bytes = new Uint8Array(readFileSync(src));
    const store = readBcdStore(new Hive(bytes));
    const wants: [string, string, BcdValue][] = [
      ['{bootmgr}', 'displaybootmenu', { format: 'boolean', value: true }],
      ['{bootmgr}', 'timeout', { format: 'integer', value: 5n }],
      ['{bootmgr}', 'bootems', { format: 'boolean', value: true }],
      ['{default}', 'ems', { format: 'boolean', value: true }],
      ['{emssettings}', 'emsport', { format: 'integer', value: 1n }],
      ['{emssettings}', 'emsbaudrate', { format: 'integer', value: 115200n }],
    ];
    const plans = wants.map(([o, n, v]) => planElementChange(store, o, n, v));
    assert.deepEqual(
      plans.map((p) => [p.keyPath.split('\\').pop(), p.changed, p.old === undefined]),
      [
        ['26000020', true, true],
        ['25000004', true, false], // 30 → 5
        ['16000020', true, true],
        ['260000b0', true, true],
        ['15000022', true, true],
        ['15000023', true, true],
      ],
    );
    assert.equal(plans[1]!.old!.value.format === 'integer' && plans[1]!.old!.value.value, 30n);
    const ed = HiveEditor.open(bytes);
    for (const p of plans) {
      ed.createKey(p.keyPath);
      ed.setValue(p.keyPath, p.valueName, p.type, p.data);
    }
    const t = tempDir();
    try {
      const out = join(t.dir, 'BCD');
      writeFileSync(out, ed.save());
      const before = new Set(parseReg(hivexExport(src)).values);
      const after = new Set(parseReg(hivexExport(out)).values);
      const added = [...after].filter((v) => !before.has(v)).map((v) => v.split('\u0000'));
      const removed = [...before].filter((v) => !after.has(v)).map((v) => v.split('\u0000'));
      const loader = '{1b67bffd-e290-11eb-8ffa-f459a0d9b879}';
      const bm = '\\Objects\\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\\Elements';
      const ems = '\\Objects\\{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}\\Elements';
      assert.deepEqual(
        added.sort(),
        [
          [`${ems}\\15000022`, 'Element', '3', '0100000000000000'],
          [`${ems}\\15000023`, 'Element', '3', '00c2010000000000'],
          [`${bm}\\16000020`, 'Element', '3', '01'],
          [`${bm}\\25000004`, 'Element', '3', '0500000000000000'],
          [`${bm}\\26000020`, 'Element', '3', '01'],
          [`\\Objects\\${loader}\\Elements\\260000b0`, 'Element', '3', '01'],
        ].sort(),
      );
      // Only the old timeout (30) went away; {emssettings} bootems (No) stays: the playbook sets it on {bootmgr}.
      assert.deepEqual(removed, [[`${bm}\\25000004`, 'Element', '3', '1e00000000000000']]);
      const again = readBcdStore(new Hive(new Uint8Array(readFileSync(out))));
      for (const [o, n, v] of wants)
        assert.equal(planElementChange(again, o, n, v).changed, false, `${o} ${n}`);
    } finally {
      t.cleanup();
    }
  },
);

test(
  'plans refuse a name of another object kind and a value of the wrong format',
  { skip: sharedSkip() },
  () => {
    const store = readBcdStore(new Hive(new Uint8Array(readFileSync(testdataFile('hives/BCD-bios.xz')))));
    assert.throws(
      () => planElementChange(store, '{default}', 'displaybootmenu', { format: 'boolean', value: true }),
      (e) => isWinrescueError(e) && e.code === 'bcd.notFound',
    );
    assert.throws(
      () => planElementChange(store, '{bootmgr}', 'timeout', { format: 'boolean', value: true }),
      (e) => isWinrescueError(e) && e.code === 'bcd.badStore',
    );
  },
);
