// Names as the writer stores, sorts and hashes them, judged by what Windows itself wrote: the $UpCase table of a
// Windows-made NTFS volume (read with sleuthkit's icat), and the lh hashes, lf hints and list order in Windows-made hives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { testdataFile, sharedSkip } from '../helpers/testdata.js';
import { Hive } from '../../src/registry/hive.js';
import { NO_CELL } from '../../src/registry/cells/cell.js';
import { parseSubkeyList, type SubkeyList } from '../../src/registry/cells/subkey-lists.js';
import { WinrescueError } from '../../src/errors.js';
import {
  compareUpcased,
  encodeName,
  lfHint,
  nameHash,
  splitKeyPath,
  upcaseName,
  upcaseUnit,
} from '../../src/registry/write/names.js';
import { windowsUpcase } from './write-oracle.js';

test(
  "upcaseUnit equals Windows' upcase table ($UpCase of a Windows-made volume) for all 65,536 units",
  { skip: sharedSkip() },
  () => {
    const table = windowsUpcase();
    const wrong: string[] = [];
    for (let c = 0; c < 0x10000; c++) {
      if (upcaseUnit(c) !== table[c])
        wrong.push(`U+${c.toString(16)}: ${upcaseUnit(c).toString(16)} vs ${table[c]!.toString(16)}`);
    }
    assert.deepEqual(wrong.slice(0, 10), []);
    // The exceptions matter: JS alone would get these wrong.
    assert.equal(upcaseUnit(0xb5), 0xb5, 'µ stays');
    assert.equal(upcaseUnit(0x1f80), 0x1f88, 'ᾀ → ᾈ');
  },
);

function leaves(h: Hive, rel: number): SubkeyList[] {
  const list = parseSubkeyList(h.cell(rel));
  return list.kind === 'ri' ? list.offsets.flatMap((o) => leaves(h, o)) : [list];
}

for (const rel of [
  'hives/SYSTEM.xz',
  'hives/SYSTEM_B.xz',
  'hives/BCD-uefi-win10.xz',
  'hives/yarp/ManySubkeysHive.xz',
  'hives/yarp/UnicodeHive.xz',
]) {
  test(
    `${rel}: nameHash/lfHint equal every hash and hint Windows wrote; every list is in compareUpcased order`,
    { skip: sharedSkip() },
    () => {
      const h = new Hive(new Uint8Array(readFileSync(testdataFile(rel))));
      let hashes = 0;
      let hints = 0;
      let lists = 0;
      for (const { key } of h.walk()) {
        if (key.subkeyCount === 0 || key.subkeyList === NO_CELL) continue;
        const names: string[] = [];
        for (const leaf of leaves(h, key.subkeyList)) {
          leaf.offsets.forEach((off, i) => {
            const name = h.key(off).name;
            names.push(name);
            if (leaf.kind === 'lh') {
              hashes++;
              assert.equal(nameHash(name), leaf.hints[i], `lh hash of ${name}`);
            } else if (leaf.kind === 'lf') {
              hints++;
              assert.equal(lfHint(name), leaf.hints[i], `lf hint of ${name}`);
            }
          });
        }
        lists++;
        for (let i = 1; i < names.length; i++) {
          assert.equal(
            compareUpcased(upcaseName(names[i - 1]!), upcaseName(names[i]!)),
            -1,
            `${names[i - 1]} before ${names[i]}`,
          );
        }
      }
      assert.ok(lists > 0 && hashes + hints > 0, `${lists} lists, ${hashes} hashes, ${hints} hints`);
    },
  );
}

test('encodeName: one byte per character exactly when every unit is below 0x100, else UTF-16LE', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
      const e = encodeName(s);
      const latin = [...s].every((ch) => [...Array(ch.length).keys()].every((i) => ch.charCodeAt(i) < 0x100));
      assert.equal(e.compressed, latin);
      const back = e.compressed
        ? String.fromCharCode(...e.bytes)
        : new TextDecoder('utf-16le').decode(e.bytes);
      if (e.compressed || !/[\ud800-\udfff]/.test(s)) assert.equal(back, s);
      assert.equal(e.bytes.length, e.compressed ? s.length : s.length * 2);
    }),
  );
  assert.equal(lfHint('ab'), 0x6261);
  assert.equal(lfHint('Ключ') & 0xff, 0, 'no hint when a character does not fit a byte');
  assert.equal(nameHash('abc'), nameHash('ABC'));
});

test('splitKeyPath: leading and trailing separators are optional, empty inner components are regf.badPath', () => {
  assert.deepEqual(splitKeyPath(''), []);
  assert.deepEqual(splitKeyPath('\\'), []);
  assert.deepEqual(splitKeyPath('\\A\\B\\'), ['A', 'B']);
  assert.deepEqual(splitKeyPath('A\\B'), ['A', 'B']);
  for (const bad of ['A\\\\B', '\\\\A', 'A\\\\']) {
    assert.throws(
      () => splitKeyPath(bad),
      (e: unknown) => e instanceof WinrescueError && e.code === 'regf.badPath',
      bad,
    );
  }
});
