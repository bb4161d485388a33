// Crash safety of NTFS writes (issue 6): a multi-file write through the NTFS writer and the undo journal is
// (a) SIGKILLed at 50 random points in a child process, (b) cut by 50 simulated power losses that drop, keep or tear
// whatever was not flushed on the volume and in the journal. In every trial `undo` restores the original sha256,
// and a run that is not interrupted leaves a volume that sleuthkit reads as the scenario wrote it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JournaledDevice, JournaledFile, undoJournal } from '../../../src/disk/journal/index.js';
import { openNtfsWriter } from '../../../src/fs/ntfs/write/index.js';
import { undo } from '../../../src/api/undo.js';
import { REPO_ROOT } from '../../helpers/testdata.js';
import { childCommand as startChild, killAfterAnnouncement } from '../../helpers/child.js';
import { sha256, sha256File, tempDir } from '../../helpers/tools.js';
import { PowerLoss, PowerLossFile, SimStorage, World, rng } from '../../disk/journal-helpers.js';
import { buildVolume, inodeOf } from './volumes.js';
import { CRASH_STEPS, crashScenario } from './write-crash-scenario.js';

let work: { dir: string; cleanup: () => void };
let volume: string;
let childCommand: string[];

before(async () => {
  work = tempDir('winrescue-ntfs-crash-');
  volume = buildVolume({ sizeMiB: 16, small: true });
  const child = join(REPO_ROOT, 'test', 'fs', 'ntfs', 'write-crash-child.ts');
  childCommand = await startChild(child, work.dir);
});
after(() => work?.cleanup());

test('SIGKILL at 50 random points of a multi-file NTFS write: undo restores the original every time', async (t) => {
  const original = await sha256File(volume);
  const random = rng(6);
  let killed = 0;
  let restored = 0;
  const trial = async (n: number): Promise<void> => {
    const path = join(work.dir, `kill${n}.img`);
    copyFileSync(volume, path);
    // Kill after any announced step (or before the first: -1 means as soon as the child has started writing).
    const killAfter = Math.floor(random() * CRASH_STEPS) - 1;
    const delay = Math.floor(random() * 30);
    if (await killAfterAnnouncement(childCommand, [path, String(100 + n)], Math.max(0, killAfter), delay))
      killed++;
    const where = `trial ${n} (killed after step ${killAfter} + ${delay} ms)`;
    if (existsSync(`${path}.winrescue-undo`)) {
      const r = await undo(path);
      assert.equal(r.verified, true, where);
      if (r.records > 0) restored++;
    }
    assert.equal(await sha256File(path), original, where);
    rmSync(path, { force: true });
    rmSync(`${path}.winrescue-undo.done`, { force: true });
  };
  for (let n = 0; n < 50; n += 2) await Promise.all([trial(n), trial(n + 1)]);
  t.diagnostic(`${killed} killed, ${restored} restored by undo`);
  assert.ok(killed >= 40, `only ${killed} of 50 children were killed before finishing`);
  assert.ok(restored >= 35, `undo had something to restore in only ${restored} trials`);
});

/** The scenario over an in-memory volume whose disk and journal lose unflushed writes when `world` dies. */
async function scenario(disk: PowerLossFile, storage: SimStorage): Promise<void> {
  const journaled = await JournaledFile.open(disk, { storage, diskPath: disk.path, now: () => 0 });
  const dev = new JournaledDevice(journaled, 512, 'sim');
  const w = await openNtfsWriter(dev, { now: () => new Date(Date.UTC(2026, 10, 24)) });
  await crashScenario(w, 7, () => undefined);
  await dev.close();
}

test('power lost at 50 random points of a multi-file NTFS write: undo restores the original', async () => {
  const original = new Uint8Array(readFileSync(volume));
  const path = 'sim.img';
  const dry = new World();
  const dryStorage = new SimStorage(dry);
  const dryDisk = new PowerLossFile(original, dry, path);
  await scenario(dryDisk, dryStorage);
  const total = dry.ops;
  assert.ok(total > 20, `the scenario is many operations (${total})`);
  // The uninterrupted run really wrote: sleuthkit finds the renamed file in the result.
  const done = join(work.dir, 'done.img');
  writeFileSync(done, dryDisk.bytes());
  assert.ok(inodeOf(done, 'crash/renamed.bin') > 0);

  const random = rng(50 * 31);
  let withJournal = 0;
  for (let t = 0; t < 50; t++) {
    const crashAt = Math.floor(random() * (total + 1));
    const world = new World(crashAt);
    const disk = new PowerLossFile(original, world, path);
    const storage = new SimStorage(world);
    try {
      await scenario(disk, storage);
    } catch (e) {
      if (!world.dead && !(e instanceof PowerLoss)) throw e;
    }
    const diskBytes = disk.afterCrash(random);
    const journalBytes = storage.file?.afterCrash(random) ?? null;
    const where = `trial ${t}: power lost at operation ${crashAt} of ${total}`;
    if (!journalBytes) {
      assert.equal(
        sha256(diskBytes),
        sha256(original),
        `${where}: no journal, so no write may have happened`,
      );
      continue;
    }
    withJournal++;
    const calm = new World();
    const d = new PowerLossFile(diskBytes, calm, path);
    const report = await undoJournal(async () => d, new SimStorage(calm, journalBytes), path);
    assert.equal(sha256(d.bytes()), sha256(original), where);
    assert.equal(report.verified, true, where);
  }
  assert.ok(withJournal >= 35, `most crashes land inside the session (${withJournal} of 50)`);
});
