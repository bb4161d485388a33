// Our tuples against hivexregedit's export (an independent parser) for every Windows-made hive hivex opens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { testdataFile, sharedSkip } from '../helpers/testdata.js';
import { Hive } from '../../src/registry/hive.js';
import { tuples, exportReg } from '../../src/registry/export.js';
import { hexOf, hivexExport, parseReg, tupleKey } from './reg-parse.js';

const HIVES = [
  'hives/BCD-bios.xz',
  'hives/BCD-efi-small.xz',
  'hives/BCD-uefi-win10.xz',
  'hives/SYSTEM.xz',
  'hives/SYSTEM_B.xz',
  'hives/SYSTEM_2.xz',
  'hives/SYSTEM_WIN_10_1709.xz',
  'hives/yarp/BigDataHive.xz',
  'hives/yarp/EmptyHive.xz',
  'hives/yarp/ManySubkeysHive.xz',
  'hives/yarp/MultiSzHive.xz',
  'hives/yarp/StringValuesHive.xz',
  'hives/yarp/UnicodeHive.xz',
];

for (const rel of HIVES) {
  test(`tuples equal hivexregedit --export for ${rel}`, { skip: sharedSkip() }, () => {
    const file = testdataFile(rel);
    const hive = new Hive(new Uint8Array(readFileSync(file)));
    const want = parseReg(hivexExport(file));
    const got: string[] = [];
    for (const t of tuples(hive)) got.push(tupleKey(t.path, t.name, t.type, hexOf(t.data)));
    const gotKeys = new Set<string>();
    for (const { path } of hive.walk()) gotKeys.add(path);
    assert.equal(gotKeys.size, want.keys.size, 'key count');
    for (const k of want.keys) assert.ok(gotKeys.has(k), `key ${k} missing`);
    assert.equal(got.length, want.values.length, 'value count');
    got.sort();
    want.values.sort();
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== want.values[i]) assert.equal(got[i]!.slice(0, 300), want.values[i]!.slice(0, 300));
    }
    // Our own .reg text parses back to the same tuples.
    const ours = parseReg(exportReg(hive));
    assert.equal(ours.values.length, got.length);
    ours.values.sort();
    for (let i = 0; i < got.length; i++) if (ours.values[i] !== got[i]) assert.equal(ours.values[i], got[i]);
  });
}
