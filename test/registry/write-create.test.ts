// createHive: a new empty hive that hivex opens, the independent checker passes, and the editor builds on;
// compared field by field with the empty hive Windows itself made (yarp EmptyHive).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHive, defaultSecurityDescriptor } from '../../src/registry/write/create.js';
import { HiveEditor } from '../../src/registry/write/editor.js';
import { Hive } from '../../src/registry/hive.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { tempDir } from '../helpers/tools.js';
import { checkHive } from './write-oracle.js';
import { hivexExport, parseReg } from './reg-parse.js';

test("an empty hive of each version: hivex opens it, the checker finds nothing, its shape is Windows' own", () => {
  const t = tempDir('create-');
  try {
    for (const minor of [3, 5, 6] as const) {
      const bytes = createHive({
        minor,
        rootName: 'NewStoreRoot',
        fileName: '\\Device\\HarddiskVolume1\\Boot\\BCD',
      });
      const report = checkHive(bytes);
      assert.deepEqual(report.problems, [], `minor ${minor}`);
      assert.equal(report.minor, minor);
      assert.equal(report.checksumOk, true);
      assert.equal(report.primary, report.secondary);
      assert.equal(report.leaks.size, 0);
      const file = join(t.dir, `empty-${minor}`);
      writeFileSync(file, bytes);
      const parsed = parseReg(hivexExport(file));
      assert.deepEqual([...parsed.keys], ['\\']);
      assert.deepEqual(parsed.values, []);
      const h = new Hive(bytes);
      assert.equal(h.root.name, 'NewStoreRoot');
      assert.equal(
        h.root.flags,
        0x2c,
        'root flags as Windows writes them (HIVE_ENTRY | NO_DELETE | COMP_NAME)',
      );
      assert.equal(h.base.fileName, 'Device\\HarddiskVolume1\\Boot\\BCD', 'the last 31 characters of the path');
    }
  } finally {
    t.cleanup();
  }
});

test(
  'Windows-made EmptyHive has the same layout: root nk then sk in the first bin, the rest one free cell',
  { skip: sharedSkip() },
  () => {
    const windows = checkHive(new Uint8Array(readFileSync(testdataFile('hives/yarp/EmptyHive.xz'))));
    const ours = checkHive(createHive({ minor: 3 }));
    const shape = (r: ReturnType<typeof checkHive>): string[] =>
      [...r.cells.entries()].filter(([rel]) => rel < 4096).map(([, c]) => (c.allocated ? 'used' : 'free'));
    assert.deepEqual(shape(ours), shape(windows));
    assert.equal(ours.sk.size, 1);
    assert.deepEqual([...ours.sk.values()][0], { refs: 1, refCount: 1 });
  },
);

test('the default security descriptor is a valid self-relative descriptor (its SIDs and ACL read back by hand)', () => {
  const sd = defaultSecurityDescriptor();
  const dv = new DataView(sd.buffer);
  assert.equal(sd[0], 1);
  assert.equal(dv.getUint16(2, true) & 0x8004, 0x8004);
  const owner = dv.getUint32(4, true);
  const group = dv.getUint32(8, true);
  const dacl = dv.getUint32(16, true);
  // Owner S-1-5-32-544, group S-1-5-18, DACL with three ACEs whose sizes add up to the ACL size.
  assert.deepEqual([...sd.subarray(owner, owner + 16)], [1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0]);
  assert.deepEqual([...sd.subarray(group, group + 12)], [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]);
  const aclSize = dv.getUint16(dacl + 2, true);
  let at = dacl + 8;
  for (let i = 0; i < dv.getUint16(dacl + 4, true); i++) at += dv.getUint16(at + 2, true);
  assert.equal(at - dacl, aclSize);
});

test('the editor grows a created hive; hivex reads the result and hivexregedit --merge can add to it', () => {
  const t = tempDir('create-edit-');
  try {
    const ed = HiveEditor.open(createHive({ minor: 5 }));
    ed.createKey('ControlSet001\\Control\\CrashControl');
    ed.setValue('ControlSet001\\Control\\CrashControl', 'CrashDumpEnabled', 4, Uint8Array.of(7, 0, 0, 0));
    ed.createKey('Select');
    for (let i = 0; i < 700; i++) ed.createKey(`ControlSet001\\Services\\svc${i}`);
    const file = join(t.dir, 'SYSTEM');
    writeFileSync(file, ed.save());
    assert.deepEqual(checkHive(new Uint8Array(readFileSync(file))).problems, []);
    const parsed = parseReg(hivexExport(file));
    assert.ok(parsed.keys.has('\\ControlSet001\\Services\\svc699'));
    assert.equal(parsed.keys.size, 1 + 4 + 700 + 1);
    writeFileSync(
      `${file}.reg`,
      'Windows Registry Editor Version 5.00\n\n[\\Select]\n"Current"=dword:00000001\n',
    );
    execFileSync('hivexregedit', ['--merge', '--prefix', '', file, `${file}.reg`]);
    assert.match(hivexExport(file, '\\Select'), /"Current"=dword:00000001/);
  } finally {
    t.cleanup();
  }
});
