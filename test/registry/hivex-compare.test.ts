// Our tuples against hivexregedit's export (an independent parser) for every Windows-made hive hivex opens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { testdataFile, sharedSkip } from '../helpers/testdata.js';
import { Hive } from '../../src/registry/hive.js';
import { tuples, exportReg } from '../../src/registry/export.js';

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

/** One comparable string per value: path, name, type and data as hex. */
const tupleKey = (path: string, name: string, type: number, hex: string): string =>
  `${path}\u0000${name}\u0000${(type >>> 0).toString(16)}\u0000${hex}`;

function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Parse hivexregedit's .reg into keys and value tuples. */
function parseReg(text: string): { keys: Set<string>; values: string[] } {
  const keys = new Set<string>();
  const values: string[] = [];
  let path = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('[') && line.endsWith(']')) {
      path = line.slice(1, -1);
      keys.add(path);
      continue;
    }
    let m = /^(@|"((?:[^"\\]|\\.)*)")=(.*)$/s.exec(line);
    if (!m) continue;
    const name = m[1] === '@' ? '' : m[2]!.replace(/\\(.)/g, '$1');
    const rhs = m[3]!;
    if ((m = /^dword:([0-9a-f]{8})$/.exec(rhs))) {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(parseInt(m[1]!, 16));
      values.push(tupleKey(path, name, 4, b.toString('hex')));
    } else if ((m = /^hex\(([0-9a-f]+)\):(.*)$/.exec(rhs))) {
      values.push(tupleKey(path, name, parseInt(m[1]!, 16), m[2]!.replace(/,/g, '')));
    } else {
      throw new Error(`unparsed .reg line: ${line.slice(0, 80)}`);
    }
  }
  return { keys, values };
}

function hivexExport(file: string): string {
  return execFileSync('hivexregedit', ['--export', '--prefix', '', file, '\\'], {
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString('utf8');
}

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
