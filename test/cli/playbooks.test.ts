// `winrescue enable-serial-console` and `enable-memory-dump` run as a user would, on Gen1 (BCD on the System
// Reserved NTFS volume) and Gen2 (BCD on the FAT32 ESP) fixtures. Judged by other tools: the hives are cut out of
// the image with sleuthkit (fls/icat) or mtools (mcopy) and read with hivexregedit; every (key, value) before and
// after is compared, so a change anywhere but the playbook's values fails. Volumes are checked with ntfsresize,
// fsck.fat -n and our check; the image's sha256 shows a second run and a dry run write nothing, and undo restores it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { runStatus, sha256File, tempDir } from '../helpers/tools.js';
import { buildDisk, type BuiltDisk, type HiveProvider } from '../fixtures/factory.js';
import { parseBaseBlock } from '../../src/registry/base-block.js';
import { logSequenceCeiling, recoverHive } from '../../src/registry/log/index.js';
import { winrescue } from './helpers.js';
import {
  assertVolumesClean,
  cutVolume,
  extractBcd,
  extractSystem,
  hiveValues,
  type Values,
} from '../helpers/disk-oracles.js';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

function scratch(prefix: string): string {
  const t = tempDir(prefix);
  cleanups.push(t.cleanup);
  return t.dir;
}

const BOOTMGR = '{9dea862c-5cdd-4e70-acc1-f32b344d4795}';
const EMSSETTINGS = '{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}';

const REG_EXPAND_SZ = 2;
const REG_BINARY = 3;
const REG_DWORD = 4;

const valueKey = (path: string, name: string): string => `${path.toLowerCase()}\u0000${name.toLowerCase()}`;
const typed = (type: number, hex: string): string => `${type.toString(16)}\u0000${hex}`;
const utf16zHex = (s: string): string => Buffer.from(`${s}\0`, 'utf16le').toString('hex');
const le64Hex = (n: number): string => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b.toString('hex');
};

/** After = before with exactly `expected` set (added or replaced), nothing else changed; new keys exactly named. */
function assertOnlyChanged(
  before: Values,
  afterV: Values,
  expected: Map<string, string>,
  newKeys: string[],
): void {
  const want = new Map(before.map);
  for (const [k, v] of expected) want.set(k, v);
  assert.deepEqual([...afterV.map].sort(), [...want].sort());
  const keysWanted = new Set([...before.paths, ...newKeys]);
  assert.deepEqual(
    [...afterV.paths].map((p) => p.toLowerCase()).sort(),
    [...keysWanted].map((p) => p.toLowerCase()).sort(),
  );
  for (const k of newKeys) assert.ok(afterV.paths.has(k), `${k} created with exactly this name`);
}

function mustHex(v: Values, path: string, name: string): string {
  const t = v.map.get(valueKey(path, name));
  assert.ok(t, `${path}\\${name} present`);
  return t.split('\u0000')[1]!;
}

interface PlaybookJson {
  changed: boolean;
  written: boolean;
  replayed: boolean;
  plan: { action: string; target: string; old: unknown; new: unknown; status: string }[];
  undo: string | null;
  findings: { level: string; what: string; detail: string }[];
  facts?: { freeBytes: number; memoryBytes?: number };
}

function run(args: string[]): PlaybookJson {
  const r = winrescue([...args, '--json']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return JSON.parse(r.stdout) as PlaybookJson;
}

/** What enable-serial-console must leave, from the store as hivex reads it (the default loader via 23000003). */
function serialExpected(before: Values): { expected: Map<string, string>; newKeys: string[] } {
  const els = (id: string) => `\\Objects\\${id}\\Elements`;
  const defHex = mustHex(before, `${els(BOOTMGR)}\\23000003`, 'Element');
  const loader = Buffer.from(defHex, 'hex').toString('utf16le').replace(/\0.*$/s, '').toLowerCase();
  const want: [string, string, string][] = [
    [BOOTMGR, '26000020', '01'],
    [BOOTMGR, '25000004', le64Hex(5)],
    [BOOTMGR, '16000020', '01'],
    [loader, '260000b0', '01'],
    [EMSSETTINGS, '15000022', le64Hex(1)],
    [EMSSETTINGS, '15000023', le64Hex(115200)],
  ];
  const expected = new Map<string, string>();
  const newKeys: string[] = [];
  for (const [id, code, hex] of want) {
    const key = `${els(id)}\\${code}`;
    expected.set(valueKey(key, 'Element'), typed(REG_BINARY, hex));
    if (![...before.paths].some((p) => p.toLowerCase() === key.toLowerCase())) newKeys.push(key);
  }
  return { expected, newKeys };
}

/** What enable-memory-dump must leave: Select\Current's set and ControlSet001/002 where hivex sees them. */
function dumpExpected(before: Values): { expected: Map<string, string>; newKeys: string[]; sets: string[] } {
  const current = Buffer.from(mustHex(before, '\\Select', 'Current'), 'hex').readUInt32LE(0);
  const names = [`ControlSet${String(current).padStart(3, '0')}`, 'ControlSet001', 'ControlSet002'];
  const sets = [...new Set(names)].filter((n) =>
    [...before.paths].some((p) => p.toLowerCase() === `\\${n}\\control`.toLowerCase()),
  );
  const expected = new Map<string, string>();
  const newKeys: string[] = [];
  for (const cs of sets) {
    const key = `\\${cs}\\Control\\CrashControl`;
    expected.set(valueKey(key, 'CrashDumpEnabled'), typed(REG_DWORD, '01000000'));
    expected.set(valueKey(key, 'DumpFile'), typed(REG_EXPAND_SZ, utf16zHex('%SystemRoot%\\MEMORY.DMP')));
    expected.set(valueKey(key, 'NMICrashDump'), typed(REG_DWORD, '01000000'));
    if (![...before.paths].some((p) => p.toLowerCase() === key.toLowerCase())) newKeys.push(key);
  }
  return { expected, newKeys, sets };
}

/**
 * Both playbooks on a copy of `disk`: dry run writes nothing; each playbook changes exactly its values (hivex on
 * the extracted hives); volumes clean; second runs say "already set" and leave the sha256; undo restores it.
 */
async function playbooksOn(
  disk: BuiltDisk,
  label: string,
  systemBefore?: string,
  sequenceAbove = 0,
): Promise<void> {
  const dir = scratch(`playbooks-${label}-`);
  const raw = join(dir, 'disk.raw');
  copyFileSync(disk.raw, raw);
  const original = await sha256File(raw);
  const bcdBefore = hiveValues(extractBcd(disk, raw, dir, 'bcd-before'));
  const sysBefore = hiveValues(systemBefore ?? extractSystem(disk, raw, dir, 'system-before'));

  // Dry runs: the plan, nothing written (no journal either).
  const dry = run(['enable-serial-console', raw, '--dry-run']);
  assert.equal(dry.changed, true);
  assert.equal(dry.written, false);
  assert.equal(dry.plan.length, 6);
  const dryDump = run(['enable-memory-dump', raw, '--dry-run', '--memory-size', '4']);
  assert.equal(dryDump.written, false);
  assert.equal(dryDump.facts?.memoryBytes, 4 * 1024 ** 3);
  // The free space the findings use is ntfs-3g's count of free clusters.
  const win = disk.manifest.windows;
  const info = runStatus('ntfsinfo', ['-m', cutVolume(raw, win.start, win.size, dir, 'win-before.img')]);
  const free = /Free Clusters: (\d+)/.exec(info.stdout);
  const cluster = /Cluster Size: (\d+)/.exec(info.stdout);
  assert.ok(free && cluster, info.stdout + info.stderr);
  assert.equal(dryDump.facts?.freeBytes, Number(free[1]) * Number(cluster[1]));
  assert.equal(await sha256File(raw), original, 'dry runs write nothing');
  assert.equal(runStatus('test', ['-e', `${raw}.winrescue-undo`]).status, 1, 'dry runs make no journal');

  const serial = run(['enable-serial-console', raw]);
  assert.equal(serial.written, true);
  assert.equal(serial.undo, `winrescue undo ${raw}`);
  const bcdAfter = hiveValues(extractBcd(disk, raw, dir, 'bcd-after'));
  const s = serialExpected(bcdBefore);
  assertOnlyChanged(bcdBefore, bcdAfter, s.expected, s.newKeys);

  const dump = run(['enable-memory-dump', raw]);
  assert.equal(dump.written, true);
  assert.ok(dump.findings.some((f) => f.what === 'free space'));
  const sysFile = extractSystem(disk, raw, dir, 'system-after');
  const sysAfter = hiveValues(sysFile);
  const d = dumpExpected(sysBefore);
  assert.ok(d.sets.length > 0);
  assert.equal(dump.plan.length, 3 * d.sets.length);
  assertOnlyChanged(sysBefore, sysAfter, d.expected, d.newKeys);
  const base = parseBaseBlock(new Uint8Array(readFileSync(sysFile)));
  assert.equal(base.primarySequence, base.secondarySequence, 'SYSTEM saved clean');
  assert.ok(base.primarySequence > sequenceAbove, 'sequence numbers above the logs: Windows ignores them');

  await assertVolumesClean(disk, raw, dir);

  // Second runs: everything already set, not a byte written.
  const written = await sha256File(raw);
  for (const cmd of ['enable-serial-console', 'enable-memory-dump']) {
    const again = run([cmd, raw]);
    assert.equal(again.changed, false, cmd);
    assert.equal(again.written, false, cmd);
    assert.ok(
      again.plan.every((p) => p.status === 'already set'),
      cmd,
    );
  }
  assert.equal(await sha256File(raw), written, 'second runs write nothing');

  const undo = winrescue(['undo', raw]);
  assert.equal(undo.status, 0, undo.stderr);
  assert.equal(await sha256File(raw), original, 'undo restores the image');
}

/** The Windows-made dirty SYSTEM_B with both logs, and Windows' BIOS store (the fixture reg.test.ts also uses). */
const DIRTY_PROVIDER: HiveProvider = {
  id: 'system-b-with-logs',
  provide: () => ({
    system: readFileSync(testdataFile('hives/SYSTEM_B.xz')),
    systemLog1: readFileSync(testdataFile('hives/SYSTEM_B.LOG1.xz')),
    systemLog2: readFileSync(testdataFile('hives/SYSTEM_B.LOG2.xz')),
    bcd: readFileSync(testdataFile('hives/BCD-bios.xz')),
  }),
};

test('Gen1 synthetic: BCD on System Reserved (NTFS), SYSTEM on the Windows volume', async () => {
  await playbooksOn(await buildDisk({ gen: 1, flavour: 'synthetic' }), 'gen1');
});

test('Gen2 synthetic: BCD on the FAT32 ESP', async () => {
  await playbooksOn(await buildDisk({ gen: 2, flavour: 'synthetic' }), 'gen2');
});

test('Gen2 real flavour: the Windows-made store and SYSTEM', { skip: sharedSkip() }, async () => {
  await playbooksOn(await buildDisk({ gen: 2, flavour: 'real' }), 'real');
});

test(
  'Gen1 with the dirty SYSTEM_B and its logs: replayed first, saved clean above the logs',
  { skip: sharedSkip() },
  async () => {
    const disk = await buildDisk({ gen: 1, flavour: 'synthetic', hives: DIRTY_PROVIDER });
    // hivex does not replay logs: "before" is the hive as replayed (recovery is judged against Windows elsewhere).
    const dir = scratch('playbooks-dirty-');
    const logs = [
      { name: 'SYSTEM.LOG1', bytes: new Uint8Array(readFileSync(testdataFile('hives/SYSTEM_B.LOG1.xz'))) },
      { name: 'SYSTEM.LOG2', bytes: new Uint8Array(readFileSync(testdataFile('hives/SYSTEM_B.LOG2.xz'))) },
    ];
    const recovered = recoverHive(new Uint8Array(readFileSync(testdataFile('hives/SYSTEM_B.xz'))), logs);
    assert.ok(recovered.applied.length > 0, 'SYSTEM_B has log entries to replay');
    const before = join(dir, 'SYSTEM-replayed');
    writeFileSync(before, recovered.bytes);
    const dry = run(['enable-memory-dump', disk.raw, '--dry-run']);
    assert.equal(dry.replayed, true);
    await playbooksOn(disk, 'dirty', before, logSequenceCeiling(logs));
  },
);

test(
  'a dirty SYSTEM whose logs are gone is refused (exit 1, nothing written) unless --force',
  { skip: sharedSkip() },
  async () => {
    const disk = await buildDisk({ gen: 1, flavour: 'synthetic', hives: DIRTY_PROVIDER });
    const dir = scratch('playbooks-stale-');
    const raw = join(dir, 'disk.raw');
    copyFileSync(disk.raw, raw);
    for (const log of ['SYSTEM.LOG1', 'SYSTEM.LOG2']) {
      const rm = winrescue(['rm', raw, `/Windows/System32/config/${log}`]);
      assert.equal(rm.status, 0, rm.stderr);
    }
    const before = await sha256File(raw);
    const refused = winrescue(['enable-memory-dump', raw, '--json']);
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.equal((JSON.parse(refused.stdout) as { error: { code: string } }).error.code, 'regf.dirty');
    assert.equal(await sha256File(raw), before, 'refused: nothing written');
    const forced = run(['enable-memory-dump', raw, '--force']);
    assert.equal(forced.written, true);
    const base = parseBaseBlock(new Uint8Array(readFileSync(extractSystem(disk, raw, dir, 'SYSTEM'))));
    assert.equal(base.primarySequence, base.secondarySequence, 'saved clean');
  },
);

test('refusals and bad input: --memory-size must be a number; a disk with no Windows is a clear error', () => {
  const dir = scratch('playbooks-bad-');
  const junk = join(dir, 'junk.raw');
  writeFileSync(junk, Buffer.alloc(1 << 20));
  const r = winrescue(['enable-memory-dump', junk, '--memory-size', 'lots']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  const s = winrescue(['enable-serial-console', junk, '--json']);
  assert.notEqual(s.status, 0);
  assert.ok((JSON.parse(s.stdout) as { error: { code: string } }).error.code);
  assert.doesNotMatch(s.stderr, /\bat .*\.(ts|js):\d+/);
});
