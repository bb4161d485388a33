// `winrescue reg export|get|set` run as a user would. Oracles: hivexregedit's export of the same file (reads),
// hivexregedit --merge of the same value into another copy (an independent writer and encoder), Windows' own
// recovered hive for a dirty hive with logs, and hivex opening every file we wrote.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { flsTree, icat } from '../fixtures-factory/oracles.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { sha256File, tempDir } from '../helpers/tools.js';
import { buildDisk, type HiveProvider } from '../fixtures/factory.js';
import { Hive } from '../../src/registry/hive.js';
import { parseBaseBlock } from '../../src/registry/base-block.js';
import { assertOneLineError, winrescue } from './helpers.js';

const skip = sharedSkip();
const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

function scratch(prefix: string): string {
  const t = tempDir(prefix);
  cleanups.push(t.cleanup);
  return t.dir;
}

/** hivexregedit's export as sorted "[section] line" strings: order-free, exact in every byte of data. */
function hivexLines(file: string, key = '\\'): string[] {
  const r = spawnSync('hivexregedit', ['--export', '--prefix', '', file, key], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  assert.equal(r.status, 0, `hivex opens ${file}: ${r.stderr}`);
  return sectionLines(r.stdout);
}

function sectionLines(text: string): string[] {
  const out: string[] = [];
  let section = '';
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('Windows Registry Editor')) continue;
    if (line.startsWith('[')) {
      section = line;
      out.push(line);
    } else out.push(`${section} ${line}`);
  }
  return out.sort();
}

/** A writable copy of a test hive in its own folder (optionally with logs beside it). */
function copyHive(rel: string, name: string, logs: [string, string][] = []): { dir: string; file: string } {
  const dir = scratch('reg-');
  const file = join(dir, name);
  copyFileSync(testdataFile(rel), file);
  chmodSync(file, 0o644);
  for (const [logRel, logName] of logs) {
    copyFileSync(testdataFile(logRel), join(dir, logName));
    chmodSync(join(dir, logName), 0o644);
  }
  return { dir, file };
}

function hivexMerge(file: string, regText: string): void {
  const reg = `${file}.merge.reg`;
  writeFileSync(reg, `Windows Registry Editor Version 5.00\n\n${regText}\n`);
  const r = spawnSync('hivexregedit', ['--merge', '--prefix', '', file, reg], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

test('reg export of SYSTEM and of one subtree equals hivexregedit --export', { skip }, () => {
  const file = testdataFile('hives/SYSTEM.xz');
  const all = winrescue(['reg', 'export', file]);
  assert.equal(all.status, 0, all.stderr);
  assert.ok(all.stdout.startsWith('Windows Registry Editor Version 5.00\n'));
  const ours = sectionLines(all.stdout);
  assert.ok(ours.length > 10000, `a SYSTEM hive has many lines (${ours.length})`);
  assert.deepEqual(ours, hivexLines(file));
  // A subtree, named in another case: paths keep the stored case, like hivex's.
  const sub = winrescue(['reg', 'export', file, 'controlset001\\control\\crashcontrol']);
  assert.equal(sub.status, 0, sub.stderr);
  assert.deepEqual(sectionLines(sub.stdout), hivexLines(file, '\\ControlSet001\\Control\\CrashControl'));
  assert.match(sub.stdout, /^\[\\ControlSet001\\Control\\CrashControl\]$/m);
});

test('reg get --json decodes values as hivex stores them', { skip }, () => {
  const file = testdataFile('hives/SYSTEM.xz');
  const r = winrescue(['reg', 'get', file, 'Select', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as {
    key: string;
    values: { name: string; type: number; typeName: string; value: unknown; text: string }[];
  };
  assert.equal(doc.key, '\\Select');
  const lines = hivexLines(file, '\\Select').filter((l) => l.startsWith('[\\Select] '));
  assert.equal(doc.values.length, lines.length);
  for (const v of doc.values) {
    const line = lines.find((l) => l.startsWith(`[\\Select] "${v.name}"=`));
    assert.ok(line, `hivex has ${v.name}`);
    const m = /=dword:([0-9a-f]{8})$/.exec(line);
    assert.ok(m, `Select values are DWORDs in hivex (${line})`);
    assert.equal(v.typeName, 'REG_DWORD');
    assert.equal(v.value, parseInt(m[1]!, 16));
  }
  // Text mode: reg query's layout, the value in 0x hex.
  const t = winrescue(['reg', 'get', file, 'Select', 'Current']);
  assert.equal(t.status, 0, t.stderr);
  const current = doc.values.find((v) => v.name === 'Current')!;
  assert.equal(
    t.stdout,
    `\\Select\n    Current    REG_DWORD    0x${(current.value as number).toString(16)}\n`,
  );
});

const SET_CASES: { type: string; data: string[]; merge: string; name: string }[] = [
  {
    name: 'Sz',
    type: 'REG_SZ',
    data: ['C:\\Windows\\MEMORY.DMP'],
    merge: '"Sz"="C:\\\\Windows\\\\MEMORY.DMP"',
  },
  {
    name: 'Expand',
    type: 'REG_EXPAND_SZ',
    data: ['%SystemRoot%\\MEMORY.DMP'],
    merge: '"Expand"=str(2):"%SystemRoot%\\\\MEMORY.DMP"',
  },
  { name: 'Dword', type: 'REG_DWORD', data: ['0x1c200'], merge: '"Dword"=dword:0001c200' },
  {
    name: 'Qword',
    type: 'REG_QWORD',
    data: ['0x0102030405060708'],
    merge: '"Qword"=hex(b):08,07,06,05,04,03,02,01',
  },
  { name: 'Binary', type: 'REG_BINARY', data: ['01,a0,ff,00,7f'], merge: '"Binary"=hex:01,a0,ff,00,7f' },
  {
    name: 'Multi',
    type: 'REG_MULTI_SZ',
    data: ['ab', 'c'],
    merge: '"Multi"=hex(7):61,00,62,00,00,00,63,00,00,00,00,00',
  },
  {
    name: 'Big',
    type: 'REG_BINARY',
    data: ['ab'.repeat(20000)],
    merge: `"Big"=hex:${Array(20000).fill('ab').join(',')}`,
  },
];

test(
  'reg set writes what hivexregedit --merge writes, for every value type, in a 1.3 BCD and in SYSTEM',
  { skip },
  async () => {
    for (const rel of ['hives/BCD-bios.xz', 'hives/SYSTEM.xz']) {
      const ours = copyHive(rel, 'HIVE');
      const theirs = copyHive(rel, 'HIVE');
      const key = rel.includes('BCD') ? '\\Description' : '\\ControlSet001\\Control\\CrashControl';
      // Every type in the 1.3 BCD; in the 12 MB SYSTEM (1.5, db big data) the shapes that differ there.
      const cases = rel.includes('BCD')
        ? SET_CASES
        : SET_CASES.filter((c) => ['Dword', 'Multi', 'Big'].includes(c.name));
      for (const c of cases) {
        const r = winrescue(['reg', 'set', ours.file, key, c.name, c.type, ...c.data, '--json']);
        assert.equal(r.status, 0, r.stderr);
        const doc = JSON.parse(r.stdout) as { changed: boolean; written: boolean; old: unknown };
        assert.deepEqual([doc.changed, doc.written, doc.old], [true, true, null]);
        hivexMerge(theirs.file, `[${key}]\n${c.merge}`);
      }
      assert.deepEqual(
        hivexLines(ours.file),
        hivexLines(theirs.file),
        `${rel}: same tuples as hivex's merge`,
      );
      const h = new Hive(new Uint8Array(readFileSync(ours.file)));
      assert.equal(h.base.checksumValid, true);
      assert.equal(h.base.primarySequence, h.base.secondarySequence);
      // The original is kept once, byte for byte.
      assert.equal(await sha256File(`${ours.file}.winrescue-orig`), await sha256File(testdataFile(rel)));
    }
  },
);

test(
  'a second identical reg set changes nothing; --dry-run writes nothing and shows old -> new',
  { skip },
  async () => {
    const { file } = copyHive('hives/SYSTEM.xz', 'SYSTEM');
    const args = [
      'reg',
      'set',
      file,
      'ControlSet001\\Control\\CrashControl',
      'CrashDumpEnabled',
      'REG_DWORD',
      '1',
    ];
    const before = await sha256File(file);
    const dry = winrescue([...args, '--dry-run']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.equal(await sha256File(file), before);
    assert.match(dry.stdout, /CrashDumpEnabled: REG_DWORD 0x\w+ -> REG_DWORD 0x1 \(/);
    assert.equal(winrescue(args).status, 0);
    const once = await sha256File(file);
    assert.notEqual(once, before);
    const again = winrescue([...args, '--json']);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(
      (({ changed, written }) => ({ changed, written }))(
        JSON.parse(again.stdout) as { changed: boolean; written: boolean },
      ),
      { changed: false, written: false },
    );
    assert.equal(await sha256File(file), once);
    assert.equal(
      await sha256File(`${file}.winrescue-orig`),
      before,
      'the first original survives later runs',
    );
  },
);

test(
  'a dirty hive with logs is replayed first (Windows 10 recovery as the oracle) and saved clean',
  { skip },
  () => {
    const { dir, file } = copyHive('hives/yarp/NewDirtyHive1/NewDirtyHive.xz', 'NewDirtyHive', [
      ['hives/yarp/NewDirtyHive1/NewDirtyHive.LOG1.xz', 'NewDirtyHive.LOG1'],
      ['hives/yarp/NewDirtyHive1/NewDirtyHive.LOG2.xz', 'NewDirtyHive.LOG2'],
    ]);
    const windows = testdataFile('hives/yarp/NewDirtyHive1/RecoveredHive_Windows10.xz');
    const ex = winrescue(['reg', 'export', file]);
    assert.equal(ex.status, 0, ex.stderr);
    assert.match(ex.stderr, /dirty: replayed \d+ log entries/);
    assert.deepEqual(sectionLines(ex.stdout), hivexLines(windows));
    // Set a value in the root key: the result is Windows' recovery plus our value, clean, above the logs.
    const set = winrescue(['reg', 'set', file, '\\', 'Added', 'REG_SZ', 'yes', '--json']);
    assert.equal(set.status, 0, set.stderr);
    const doc = JSON.parse(set.stdout) as { dirty: boolean; replayed: boolean; written: boolean };
    assert.deepEqual([doc.dirty, doc.replayed, doc.written], [true, true, true]);
    const expected = copyHive('hives/yarp/NewDirtyHive1/RecoveredHive_Windows10.xz', 'R');
    hivexMerge(expected.file, '[\\]\n"Added"="yes"');
    assert.deepEqual(hivexLines(file), hivexLines(expected.file));
    const h = new Hive(new Uint8Array(readFileSync(file)));
    assert.equal(h.base.isDirty, false);
    for (const log of ['NewDirtyHive.LOG1', 'NewDirtyHive.LOG2']) {
      const logSeq = parseBaseBlock(new Uint8Array(readFileSync(join(dir, log))));
      assert.ok(h.base.primarySequence > Math.max(logSeq.primarySequence, logSeq.secondarySequence));
    }
    // Read again with the stale logs still beside it: clean, nothing replayed, same content.
    const again = winrescue(['reg', 'get', file, '\\', 'Added', '--json']);
    assert.equal(again.status, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { replayed: boolean }).replayed, false);
  },
);

test('a dirty hive without logs is refused for writing (exit 1) unless --force', { skip }, async () => {
  const { file } = copyHive('hives/SYSTEM_2.xz', 'SYSTEM');
  const before = await sha256File(file);
  const args = ['reg', 'set', file, 'Select', 'Forced', 'REG_DWORD', '5'];
  const r = winrescue(args);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /dirty.*--force/);
  assert.equal(await sha256File(file), before);
  assert.equal(existsSync(`${file}.winrescue-orig`), false);
  const forced = winrescue([...args, '--force']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(new Hive(new Uint8Array(readFileSync(file))).base.isDirty, false);
  hivexLines(file);
});

test(
  'DISK:PATH reads the hive inside a fixture disk with its logs, and writes it through the journal',
  { skip },
  async () => {
    const provider: HiveProvider = {
      id: 'system-b-with-logs',
      provide: () => ({
        system: readFileSync(testdataFile('hives/SYSTEM_B.xz')),
        systemLog1: readFileSync(testdataFile('hives/SYSTEM_B.LOG1.xz')),
        systemLog2: readFileSync(testdataFile('hives/SYSTEM_B.LOG2.xz')),
        bcd: readFileSync(testdataFile('hives/BCD-bios.xz')),
      }),
    };
    const disk = await buildDisk({ gen: 1, flavour: 'synthetic', hives: provider, formats: ['vhd'] });
    const onDisk = winrescue(['reg', 'export', `${disk.vhd}:/Windows/System32/config/SYSTEM`, 'Select']);
    assert.equal(onDisk.status, 0, onDisk.stderr);
    assert.match(onDisk.stderr, /dirty: replayed/);
    // The same hive and logs as local files give the same replayed export.
    const local = copyHive('hives/SYSTEM_B.xz', 'SYSTEM', [
      ['hives/SYSTEM_B.LOG1.xz', 'SYSTEM.LOG1'],
      ['hives/SYSTEM_B.LOG2.xz', 'SYSTEM.LOG2'],
    ]);
    const fromFile = winrescue(['reg', 'export', local.file, 'Select']);
    assert.equal(fromFile.stdout, onDisk.stdout);
    // Writing inside a (fixed VHD) disk: through the NTFS writer and the journal, then read back with sleuthkit.
    const dir = scratch('reg-disk-');
    const vhd = join(dir, 'disk.vhd');
    copyFileSync(disk.vhd!, vhd);
    const before = await sha256File(vhd);
    const spec = `${vhd}:/Windows/System32/config/SYSTEM`;
    const write = winrescue(['reg', 'set', spec, 'Select', 'Winrescue', 'REG_DWORD', '7', '--json']);
    assert.equal(write.status, 0, write.stderr);
    const doc = JSON.parse(write.stdout) as { written: boolean; replayed: boolean; undo: string };
    assert.deepEqual([doc.written, doc.replayed, doc.undo], [true, true, `winrescue undo ${vhd}`]);
    const raw = join(dir, 'disk.raw');
    const conv = spawnSync('qemu-img', ['convert', '-f', 'vpc', '-O', 'raw', vhd, raw]);
    assert.equal(conv.status, 0, conv.stderr?.toString());
    const entry = flsTree(raw, disk.manifest.windows.start).get('/Windows/System32/config/SYSTEM');
    assert.ok(entry, 'fls finds SYSTEM');
    const extracted = join(dir, 'SYSTEM');
    writeFileSync(extracted, icat(raw, disk.manifest.windows.start, entry.inode));
    // What sleuthkit reads back equals, for hivex, the same change made to the same hive and logs as local files.
    const setLocal = winrescue(['reg', 'set', local.file, 'Select', 'Winrescue', 'REG_DWORD', '7']);
    assert.equal(setLocal.status, 0, setLocal.stderr);
    assert.deepEqual(hivexLines(extracted), hivexLines(local.file));
    assert.ok(hivexLines(extracted).includes('[\\Select] "Winrescue"=dword:00000007'));
    assert.equal(new Hive(new Uint8Array(readFileSync(extracted))).base.isDirty, false);
    const undo = winrescue(['undo', vhd]);
    assert.equal(undo.status, 0, undo.stderr);
    assert.equal(await sha256File(vhd), before, 'undo restores the VHD');
  },
);

test(
  'bad input: garbage, a missing key, an unknown type, a missing file — one line, exit 2',
  { skip },
  () => {
    const dir = scratch('reg-bad-');
    const junk = join(dir, 'junk');
    writeFileSync(junk, Buffer.alloc(8192, 0x41));
    assert.match(assertOneLineError(winrescue(['reg', 'export', junk])), /regf/);
    const file = testdataFile('hives/BCD-bios.xz');
    assert.match(assertOneLineError(winrescue(['reg', 'get', file, 'NoSuchKey'])), /not found/);
    const copy = copyHive('hives/BCD-bios.xz', 'BCD');
    assert.match(
      assertOneLineError(winrescue(['reg', 'set', copy.file, 'Description', 'x', 'REG_WHAT', '1'])),
      /unknown value type/,
    );
    assert.match(
      assertOneLineError(winrescue(['reg', 'set', copy.file, 'Description', 'x', 'REG_DWORD', 'ten'])),
      /not a 32-bit/,
    );
    assert.match(assertOneLineError(winrescue(['reg', 'get', join(dir, 'none'), 'x'])), /no such hive file/);
    const json = winrescue(['reg', 'get', file, 'NoSuchKey', '--json']);
    assert.equal(json.status, 2);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'regf.notFound');
  },
);
