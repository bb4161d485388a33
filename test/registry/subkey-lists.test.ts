// lh hashes and lf hints written by Windows itself are the oracle for our reading of the list formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { testdataFile, sharedSkip } from '../helpers/testdata.js';
import { Hive } from '../../src/registry/hive.js';
import { NO_CELL } from '../../src/registry/cells/cell.js';
import { lhHash, parseSubkeyList, type SubkeyList } from '../../src/registry/cells/subkey-lists.js';
import { u32 } from '../../src/util/bytes.js';

function leaves(h: Hive, rel: number): SubkeyList[] {
  const list = parseSubkeyList(h.cell(rel));
  return list.kind === 'ri' ? list.offsets.flatMap((o) => leaves(h, o)) : [list];
}

function check(rel: string): { lh: number; lf: number; ri: number } {
  const h = new Hive(new Uint8Array(readFileSync(testdataFile(rel))));
  const seen = { lh: 0, lf: 0, ri: 0 };
  for (const { key } of h.walk()) {
    if (key.subkeyCount === 0 || key.subkeyList === NO_CELL) continue;
    if (parseSubkeyList(h.cell(key.subkeyList)).kind === 'ri') seen.ri++;
    const names: string[] = [];
    for (const leaf of leaves(h, key.subkeyList)) {
      leaf.offsets.forEach((off, i) => {
        const name = h.key(off).name;
        names.push(name);
        if (leaf.kind === 'lh') {
          seen.lh++;
          assert.equal(leaf.hints[i], lhHash(name), `lh hash of ${name}`);
        } else if (leaf.kind === 'lf') {
          seen.lf++;
          // lf hint: the first four name characters, one byte each, zero-padded.
          const hint = new Uint8Array(4);
          for (let c = 0; c < Math.min(4, name.length); c++) hint[c] = name.charCodeAt(c) & 0xff;
          assert.equal(leaf.hints[i], u32(hint, 0), `lf hint of ${name}`);
        }
      });
    }
    assert.equal(names.length, key.subkeyCount, `subkey count of ${key.name}`);
    // Lists are sorted by uppercase name.
    const up = names.map((n) => n.toUpperCase());
    for (let i = 1; i < up.length; i++) assert.ok(up[i - 1]! < up[i]!, `${up[i - 1]} before ${up[i]}`);
  }
  return seen;
}

test(
  'SYSTEM (minor 5): every lh hash is 37*H + upper(char); lists sorted; counts match',
  { skip: sharedSkip() },
  () => {
    const seen = check('hives/SYSTEM.xz');
    assert.ok(seen.lh > 1000 && seen.ri > 0, JSON.stringify(seen));
  },
);

test('BCD (minor 3): lf hints are the first 4 name characters', { skip: sharedSkip() }, () => {
  const seen = check('hives/BCD-bios.xz');
  assert.ok(seen.lf > 10, JSON.stringify(seen));
});

test('ManySubkeysHive: ri over lh leaves', { skip: sharedSkip() }, () => {
  const seen = check('hives/yarp/ManySubkeysHive.xz');
  assert.ok(seen.ri > 0, JSON.stringify(seen));
});
