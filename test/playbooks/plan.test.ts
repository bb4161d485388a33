// The playbooks' planning on hives the CLI fixtures do not cover: a Windows-made store without {emssettings}, a
// SYSTEM hive whose control sets are odd (Current = 3, ControlSet001 without Control, no ControlSet002), and the
// dump-feasibility findings. Applied hives are judged by hivexregedit; the "second run plans nothing" property by
// fast-check over random starting CrashControl contents.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { hivexExport, parseReg, tupleKey } from '../registry/reg-parse.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { tempDir } from '../helpers/tools.js';
import { Hive } from '../../src/registry/hive.js';
import { HiveEditor } from '../../src/registry/write/editor.js';
import { createHive } from '../../src/registry/write/create.js';
import { readBcdStore } from '../../src/bcd/store.js';
import { applyHiveChanges } from '../../src/playbooks/plan.js';
import { planSerialConsole } from '../../src/playbooks/serial-console.js';
import { planMemoryDump } from '../../src/playbooks/memory-dump.js';

const t = tempDir('playbooks-plan-');
after(t.cleanup);

const EMS = '{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}';
const REG_SZ = 1;
const REG_EXPAND_SZ = 2;
const REG_DWORD = 4;
const REG_MULTI_SZ = 7;
const APPLY = { minSequence: 0, force: false };

const utf16z = (s: string): Uint8Array => new Uint8Array(Buffer.from(`${s}\0`, 'utf16le'));
const dword = (n: number): Uint8Array => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return new Uint8Array(b);
};

function hivex(bytes: Uint8Array, name: string): { keys: Set<string>; values: Set<string> } {
  const file = join(t.dir, name);
  writeFileSync(file, bytes);
  const r = parseReg(hivexExport(file));
  return { keys: r.keys, values: new Set(r.values) };
}

test(
  'a Windows-made store without {emssettings}: the object is created as bcdedit would, found by its GUID',
  { skip: sharedSkip() },
  () => {
    const ed = HiveEditor.open(new Uint8Array(readFileSync(testdataFile('hives/BCD-bios.xz'))));
    assert.equal(ed.deleteKey(`Objects\\${EMS}`, { recursive: true }), true);
    const without = ed.save();
    const plan = planSerialConsole(readBcdStore(new Hive(without)));
    assert.equal(plan.steps[0]!.action, 'create-object');
    assert.ok(plan.steps.every((s) => s.status === 'change' || s.target.startsWith('{bootmgr}')));
    const applied = applyHiveChanges(without, plan.changes, APPLY);
    const h = hivex(applied, 'bcd-ems');
    const key = `\\Objects\\${EMS}`;
    assert.ok(h.values.has(tupleKey(`${key}\\Description`, 'Type', REG_DWORD, '00001020')));
    assert.ok(h.values.has(tupleKey(`${key}\\Elements\\15000022`, 'Element', 3, '0100000000000000')));
    assert.ok(h.values.has(tupleKey(`${key}\\Elements\\15000023`, 'Element', 3, '00c2010000000000')));
    assert.deepEqual([...h.keys].filter((k) => k.startsWith(key)).sort(), [
      key,
      `${key}\\Description`,
      `${key}\\Elements`,
      `${key}\\Elements\\15000022`,
      `${key}\\Elements\\15000023`,
    ]);
    // Our reader sees the new object under its alias, and a second plan has nothing to do.
    const again = planSerialConsole(readBcdStore(new Hive(applied)));
    assert.deepEqual(again.changes, []);
  },
);

/** Select\Current = 3; ControlSet001 without Control; ControlSet003 with Memory Management; no ControlSet002. */
function oddSystem(pagingFiles: string[] | null, dedicated?: string): Uint8Array {
  const ed = HiveEditor.open(createHive({ minor: 6, rootName: 'ROOT', fileName: 'SYSTEM' }));
  ed.createKey('Select');
  ed.setValue('Select', 'Current', REG_DWORD, dword(3));
  ed.createKey('ControlSet001\\Services');
  ed.createKey('ControlSet003\\Control\\Session Manager\\Memory Management');
  if (pagingFiles !== null) {
    const multi = new Uint8Array(Buffer.from(pagingFiles.map((p) => `${p}\0`).join('') + '\0', 'utf16le'));
    ed.setValue(
      'ControlSet003\\Control\\Session Manager\\Memory Management',
      'PagingFiles',
      REG_MULTI_SZ,
      multi,
    );
  }
  if (dedicated !== undefined) {
    ed.createKey('ControlSet003\\Control\\CrashControl');
    ed.setValue('ControlSet003\\Control\\CrashControl', 'DedicatedDumpFile', REG_SZ, utf16z(dedicated));
  }
  return ed.save();
}

test('memory dump: the current set is changed, a set without Control is left alone, none is created', () => {
  const before = oddSystem(['?:\\pagefile.sys']);
  const plan = planMemoryDump(new Hive(before));
  assert.deepEqual(plan.controlSets, ['ControlSet003', 'ControlSet001']);
  assert.ok(plan.findings.some((f) => f.what === 'ControlSet001' && /left alone/.test(f.detail)));
  const b = hivex(before, 'odd-before');
  const a = hivex(applyHiveChanges(before, plan.changes, APPLY), 'odd-after');
  const cc = '\\ControlSet003\\Control\\CrashControl';
  const added = [
    tupleKey(cc, 'CrashDumpEnabled', REG_DWORD, '01000000'),
    tupleKey(cc, 'DumpFile', REG_EXPAND_SZ, Buffer.from(utf16z('%SystemRoot%\\MEMORY.DMP')).toString('hex')),
    tupleKey(cc, 'NMICrashDump', REG_DWORD, '01000000'),
  ];
  assert.deepEqual([...a.values].sort(), [...b.values, ...added].sort());
  assert.deepEqual([...a.keys].sort(), [...b.keys, cc].sort());
});

test('memory dump findings: page file on D: only, none at all, too small, a dedicated dump file, free space', () => {
  const findings = (sys: Uint8Array, facts = {}) => planMemoryDump(new Hive(sys), facts).findings;
  const problems = (sys: Uint8Array, facts = {}) =>
    findings(sys, facts)
      .filter((f) => f.level === 'problem')
      .map((f) => f.what);
  assert.deepEqual(problems(oddSystem(['D:\\pagefile.sys'])), ['PagingFiles']);
  assert.deepEqual(problems(oddSystem(null)), ['PagingFiles']);
  assert.deepEqual(problems(oddSystem(['C:\\pagefile.sys 0 0'])), []);
  const GiB = 1024 ** 3;
  assert.deepEqual(problems(oddSystem(['C:\\pagefile.sys 1024 2048']), { memoryBytes: 4 * GiB }), [
    'PagingFiles',
  ]);
  assert.deepEqual(problems(oddSystem(['C:\\pagefile.sys 1024 8192']), { memoryBytes: 4 * GiB }), []);
  // A dedicated dump file makes the page file irrelevant.
  const dedicated = oddSystem(null, 'E:\\dedicated.sys');
  assert.deepEqual(problems(dedicated), []);
  assert.ok(
    findings(dedicated).some((f) => f.what === 'DedicatedDumpFile' && /E:\\dedicated\.sys/.test(f.detail)),
  );
  const space = (free: number) =>
    findings(oddSystem(['?:\\pagefile.sys']), { freeBytes: free, memoryBytes: 4 * GiB }).find(
      (f) => f.what === 'free space',
    )!.level;
  assert.equal(space(2 * GiB), 'problem');
  assert.equal(space(8 * GiB), 'info');
});

test('property: whatever CrashControl held, one apply leaves nothing to plan and only the three values differ', () => {
  const valueArb = fc.record({
    name: fc.constantFrom('CrashDumpEnabled', 'DumpFile', 'NMICrashDump', 'AutoReboot'),
    type: fc.constantFrom(REG_SZ, REG_EXPAND_SZ, REG_DWORD, 3),
    data: fc.uint8Array({ maxLength: 12 }),
  });
  fc.assert(
    fc.property(fc.array(valueArb, { maxLength: 6 }), fc.boolean(), (values, withKey) => {
      const ed = HiveEditor.open(oddSystem(['?:\\pagefile.sys']));
      if (withKey || values.length > 0) ed.createKey('ControlSet003\\Control\\CrashControl');
      for (const v of values) ed.setValue('ControlSet003\\Control\\CrashControl', v.name, v.type, v.data);
      const before = ed.save();
      const applied = applyHiveChanges(before, planMemoryDump(new Hive(before)).changes, APPLY);
      assert.deepEqual(planMemoryDump(new Hive(applied)).changes, []);
      const h = new Hive(applied);
      const vals = h.values(h.openKey('ControlSet003\\Control\\CrashControl'));
      const last = new Map(values.map((v) => [v.name, v]));
      const auto = last.get('AutoReboot');
      const got = vals.find((v) => v.name === 'AutoReboot');
      assert.equal(got === undefined, auto === undefined);
      if (auto && got) assert.deepEqual([got.type, [...h.valueData(got)]], [auto.type, [...auto.data]]);
      assert.equal(vals.length, 3 + (auto ? 1 : 0));
    }),
    { numRuns: 60 },
  );
});
