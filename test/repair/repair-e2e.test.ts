// `winrescue repair` end to end on Gen1 (fixed VHD) and Gen2 (VHDX) fixtures: a boot-start driver hard-linked to
// its WinSxS twin, damaged four ways (each fault confirmed by sleuthkit first). Judged by other tools on the result:
// icat of the driver equals the chosen intact copy as the fixture manifest records it; NAME.old holds the old data
// where it was readable; every other file of the manifest is byte-identical (fls + icat); ntfsresize, fsck.fat and
// our check are clean; hivexregedit reads EMS on in the BCD and CrashDumpEnabled in SYSTEM; undo gives back the
// damaged image's sha256. Then: no candidate (nothing written), --source, --dry-run, a second run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, openSync, readSync, closeSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildDisk,
  copyDisk,
  inject,
  ensureSigningKeys,
  FIXTURES_DIR,
  type BuiltDisk,
} from '../fixtures/index.js';
import type { Injection } from '../fixtures/inject.js';
import { flsTree, icat } from '../fixtures-factory/oracles.js';
import { assertVolumesClean, extractBcd, extractSystem, hiveValues } from '../helpers/disk-oracles.js';
import { run, sha256File, tempDir } from '../helpers/tools.js';
import { winrescue } from '../cli/helpers.js';

const DRIVER = '/Windows/System32/drivers/disk.sys';
const keys = ensureSigningKeys(FIXTURES_DIR);
const BOOTMGR = '{9dea862c-5cdd-4e70-acc1-f32b344d4795}';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

type Container = 'vhd' | 'vhdx' | 'raw';

/** The damaged raw image wrapped like the fixture's containers: a fixed VHD is the raw plus the built footer. */
function wrap(disk: BuiltDisk, raw: string, container: Container, dir: string): string {
  if (container === 'raw') return raw;
  if (container === 'vhd') {
    const out = join(dir, 'disk.vhd');
    run('cp', ['--sparse=always', raw, out]);
    const fd = openSync(disk.vhd!, 'r');
    const footer = Buffer.alloc(512);
    readSync(fd, footer, 0, 512, statSync(disk.vhd!).size - 512);
    closeSync(fd);
    appendFileSync(out, footer);
    return out;
  }
  const out = join(dir, 'disk.vhdx');
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'subformat=dynamic', raw, out]);
  return out;
}

/** The container read back as raw by qemu-img (the independent reader of both formats). */
function unwrap(path: string, container: Container, dir: string): string {
  if (container === 'raw') return path;
  const out = join(dir, 'after.raw');
  run('qemu-img', ['convert', '-f', container === 'vhd' ? 'vpc' : 'vhdx', '-O', 'raw', path, out]);
  return out;
}

interface RepairJson {
  changed: boolean;
  plan: { action: string; target: string; old: unknown; new: unknown }[];
  sources: { target: string; chosen: string | null }[];
  verify: { cause: string; checkProblems: string[] } | null;
  notes: string[];
  undo: string | null;
}

function repairCli(
  disk: string,
  extra: string[] = [],
): { status: number; json: RepairJson | null; stderr: string } {
  const r = winrescue(['repair', disk, '--trust-root', keys.caPem, '--json', ...extra], {
    timeoutMs: 180_000,
  });
  return { status: r.status, json: r.stdout ? (JSON.parse(r.stdout) as RepairJson) : null, stderr: r.stderr };
}

/** Every manifest file but the ones repair may touch has the manifest's sha256 (sleuthkit reads them). */
function assertOthersIdentical(disk: BuiltDisk, raw: string, skip: readonly string[]): number {
  const tree = flsTree(raw, disk.manifest.windows.start);
  const skipped = new Set(skip.map((p) => p.toUpperCase()));
  let n = 0;
  for (const f of disk.manifest.windows.tree.files) {
    if (skipped.has(f.path.toUpperCase())) continue;
    const e = tree.get(f.path);
    assert.ok(e, `${f.path} still listed by fls`);
    assert.equal(sha(icat(raw, disk.manifest.windows.start, e.inode)), f.sha256, `${f.path} unchanged`);
    n++;
  }
  return n;
}

function assertConfigured(disk: BuiltDisk, raw: string, dir: string): void {
  const bcd = hiveValues(extractBcd(disk, raw, dir, 'BCD'));
  assert.equal(
    bcd.map.get(`\\objects\\${BOOTMGR}\\elements\\26000020\u0000element`),
    '3\u000001',
    'bootems on',
  );
  const system = hiveValues(extractSystem(disk, raw, dir, 'SYSTEM'));
  assert.equal(
    system.map.get('\\controlset001\\control\\crashcontrol\u0000crashdumpenabled'),
    '4\u000001000000',
    'CrashDumpEnabled = 1',
  );
}

interface FaultCase {
  name: string;
  inject: (v: { image: string; offset: number }) => Injection;
  /** What NAME.old must hold: the original data, the zeroed data, or nothing readable. */
  old: 'original' | 'zeros' | 'partial' | 'none';
}

const FAULTS: Record<string, FaultCase> = {
  torn: { name: 'torn record', inject: (v) => inject.tornRecord(v, DRIVER), old: 'original' },
  garbled: { name: 'garbled attribute', inject: (v) => inject.garbleAttributeHeader(v, DRIVER), old: 'none' },
  runlist: {
    name: 'runlist outside the volume',
    inject: (v) => inject.runlistOutsideVolume(v, DRIVER),
    old: 'partial',
  },
  zeroed: { name: 'zeroed data', inject: (v) => inject.zeroFileData(v, DRIVER), old: 'zeros' },
};

const CASES: { gen: 1 | 2; container: Container; fault: keyof typeof FAULTS }[] = [
  { gen: 2, container: 'vhdx', fault: 'torn' },
  { gen: 2, container: 'vhdx', fault: 'garbled' },
  { gen: 2, container: 'vhdx', fault: 'runlist' },
  { gen: 2, container: 'vhdx', fault: 'zeroed' },
  { gen: 1, container: 'vhd', fault: 'torn' },
  { gen: 1, container: 'vhd', fault: 'zeroed' },
];

for (const c of CASES) {
  const f = FAULTS[c.fault]!;
  test(`Gen${c.gen} ${c.container}, ${f.name} on disk.sys: repaired, verified by other tools, undone`, async () => {
    const disk = await buildDisk({ gen: c.gen, flavour: 'synthetic', formats: ['vhd'] });
    const driver = disk.manifest.windows.tree.drivers.find((d) => d.path === DRIVER)!;
    const { dir, cleanup } = tempDir();
    try {
      const mine = copyDisk(disk, dir);
      f.inject(mine).confirm();
      const damagedData =
        f.old === 'zeros' ? icatOrNull(mine.path, disk.manifest.windows.start, DRIVER) : null;
      const image = wrap(disk, mine.path, c.container, dir);
      const before = await sha256File(image);

      const r = repairCli(image, ['--yes']);
      assert.equal(r.status, 0, r.stderr);
      const j = r.json!;
      assert.equal(j.changed, true);
      assert.equal(j.verify?.cause, 'healthy');
      assert.deepEqual(j.verify?.checkProblems, []);
      const chosen = j.sources[0]!.chosen!;
      // The chosen copy is an intact one the manifest knows, never the hard-linked twin.
      const intact = new Map([
        [driver.older.path, driver.older.sha256],
        ...(driver.driverStore ? [[driver.driverStore, driver.sha256] as const] : []),
      ]);
      assert.ok(intact.has(chosen), `chosen ${chosen}`);
      assert.notEqual(chosen, driver.winSxS);
      assert.ok(j.notes.some((n) => n.includes('DISM /Online /Cleanup-Image /RestoreHealth')));

      const raw = unwrap(image, c.container, dir);
      const tree = flsTree(raw, disk.manifest.windows.start);
      const now = tree.get(DRIVER);
      assert.ok(now, 'fls lists the driver');
      assert.equal(
        sha(icat(raw, disk.manifest.windows.start, now.inode)),
        intact.get(chosen),
        'icat = intact copy',
      );
      const old = tree.get(`${DRIVER}.old`);
      if (f.old === 'none') assert.equal(old, undefined, '.old only when data was readable');
      else {
        assert.ok(old, 'NAME.old exists');
        const oldBytes = icat(raw, disk.manifest.windows.start, old.inode);
        if (f.old === 'original') assert.equal(sha(oldBytes), driver.sha256);
        if (f.old === 'zeros') assert.equal(sha(oldBytes), sha(damagedData!));
        if (f.old === 'partial') assert.equal(oldBytes.length, driver.size);
      }
      const compared = assertOthersIdentical(disk, raw, [
        DRIVER,
        driver.winSxS,
        '/Windows/System32/config/SYSTEM',
      ]);
      assert.ok(compared > 200, `${compared} files compared`);
      await assertVolumesClean(disk, raw, dir);
      assertConfigured(disk, raw, dir);

      // A second run finds nothing to do and writes nothing.
      const repaired = await sha256File(image);
      const again = repairCli(image, ['--yes']);
      assert.equal(again.status, 0, again.stderr);
      assert.equal(again.json!.changed, false);
      assert.equal(await sha256File(image), repaired);

      const u = winrescue(['undo', image]);
      assert.equal(u.status, 0, u.stderr);
      assert.equal(await sha256File(image), before, 'undo restores the damaged image');
    } finally {
      cleanup();
    }
  });
}

function icatOrNull(raw: string, start: number, path: string): Buffer | null {
  const e = flsTree(raw, start).get(path);
  return e ? icat(raw, start, e.inode) : null;
}

test('no good copy on the disk: a clear refusal, nothing written; --source a healthy disk repairs it; --dry-run writes nothing', async () => {
  const disk = await buildDisk({ gen: 1, flavour: 'synthetic' });
  const driver = disk.manifest.windows.tree.drivers.find((d) => d.path === DRIVER)!;
  const { dir, cleanup } = tempDir();
  try {
    const mine = copyDisk(disk, dir);
    inject.tornRecord(mine, DRIVER).confirm();
    inject.zeroFileData(mine, driver.older.path).confirm();
    if (driver.driverStore) inject.zeroFileData(mine, driver.driverStore).confirm();
    const before = await sha256File(mine.path);
    const journal = `${mine.path}.winrescue-undo`;

    const dry = repairCli(mine.path, ['--dry-run', '--source', disk.raw]);
    assert.equal(dry.status, 0, dry.stderr);
    assert.equal(dry.json!.changed, false);
    assert.ok(dry.json!.plan.some((p) => p.action === 'quarantine-record'));
    assert.equal(await sha256File(mine.path), before, 'dry run: image unchanged');
    assert.equal(existsSync(journal), false, 'dry run: no journal');

    const refused = winrescue(['repair', mine.path, '--trust-root', keys.caPem, '--yes'], {
      timeoutMs: 180_000,
    });
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /no good copy of .*disk\.sys.*--source/);
    assert.equal(await sha256File(mine.path), before, 'refusal: image unchanged');
    assert.equal(existsSync(journal), false, 'refusal: no journal');

    const noTty = winrescue(['repair', mine.path, '--trust-root', keys.caPem, '--source', disk.raw], {
      timeoutMs: 180_000,
    });
    assert.equal(noTty.status, 1);
    assert.match(noTty.stderr, /--yes/);
    assert.equal(await sha256File(mine.path), before, 'no TTY, no --yes: image unchanged');

    const r = repairCli(mine.path, ['--yes', '--source', disk.raw]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json!.verify?.cause, 'healthy');
    const e = flsTree(mine.path, disk.manifest.windows.start).get(DRIVER)!;
    assert.equal(
      sha(icat(mine.path, disk.manifest.windows.start, e.inode)),
      driver.sha256,
      "the healthy disk's copy",
    );
  } finally {
    cleanup();
  }
});

test('a hibernated Windows is refused, naming the risk; --force-hibernated repairs it', async () => {
  const disk = await buildDisk({ gen: 1, flavour: 'synthetic' });
  const { dir, cleanup } = tempDir();
  try {
    const mine = copyDisk(disk, dir);
    inject.tornRecord(mine, DRIVER).confirm();
    // wimlib leaves hiberfil.sys out of every capture: ntfs-3g puts one on the volume, cut out and put back.
    const w = disk.manifest.windows;
    const vol = join(dir, 'windows.img');
    const mib = (n: number) => String(n / 1048576);
    run('dd', [
      `if=${mine.path}`,
      `of=${vol}`,
      'bs=1M',
      `skip=${mib(w.start)}`,
      `count=${mib(w.size)}`,
      'conv=sparse',
      'status=none',
    ]);
    const hiberfil = join(dir, 'hiberfil.sys');
    writeFileSync(hiberfil, Buffer.concat([Buffer.from('HIBR'), Buffer.alloc(8188)]));
    run('ntfscp', ['-f', vol, hiberfil, '/hiberfil.sys']);
    run('dd', [
      `if=${vol}`,
      `of=${mine.path}`,
      'bs=1M',
      `seek=${mib(w.start)}`,
      'conv=notrunc,sparse',
      'status=none',
    ]);
    assert.ok(flsTree(mine.path, w.start).get('/hiberfil.sys'), 'sleuthkit sees hiberfil.sys');
    const before = await sha256File(mine.path);
    const refused = winrescue(['repair', mine.path, '--trust-root', keys.caPem, '--yes'], {
      timeoutMs: 180_000,
    });
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /hibernated.*--force-hibernated/);
    assert.equal(await sha256File(mine.path), before, 'refused: image unchanged');
    const forced = repairCli(mine.path, ['--yes', '--force-hibernated']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(forced.json!.verify?.cause, 'healthy');
  } finally {
    cleanup();
  }
});
