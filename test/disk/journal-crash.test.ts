// Crash safety of the undo journal (issue 6): (a) a writer process SIGKILLed at 50 random points of a multi-write
// sequence, (b) 150 simulated power losses, where the disk and the journal both lose what was not flushed (writes
// kept, dropped or torn at sector boundaries, in any combination), and undos that are themselves cut short. In
// every trial `undo` must bring the image back to its original sha256.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BlockDevice } from '../../src/disk/block-device.js';
import { JournaledDevice, JournaledFile, parseJournal, undoJournal } from '../../src/disk/journal/index.js';
import { openVhd } from '../../src/disk/vhd/index.js';
import { openVhdx } from '../../src/disk/vhdx/index.js';
import { undo } from '../../src/api/undo.js';
import { REPO_ROOT } from '../helpers/testdata.js';
import { childCommand as startChild, killAfterAnnouncement } from '../helpers/child.js';
import { run, sha256, sha256File, tempDir } from '../helpers/tools.js';
import { PowerLoss, PowerLossFile, SimStorage, World, copyImage, rng } from './journal-helpers.js';

const MIB = 1024 * 1024;
let work: { dir: string; cleanup: () => void };
const base = new Map<string, string>();
/** How the child is started: a bundle when esbuild (tsx's own compiler) is there, so each trial starts in ~50 ms. */
let childCommand: string[];

before(async () => {
  work = tempDir('winrescue-journal-crash-');
  const content = new Uint8Array(4 * MIB);
  const r = rng(11);
  for (let i = 0; i < MIB; i++) content[i] = (r() * 256) | 0;
  const raw = join(work.dir, 'base.raw');
  writeFileSync(raw, content);
  base.set('raw', raw);
  const vhdx = join(work.dir, 'base.vhdx');
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'block_size=1M', raw, vhdx]);
  base.set('vhdx', vhdx);
  const vhd = join(work.dir, 'base.vhd');
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'force_size=on', raw, vhd]);
  base.set('vhd-dynamic', vhd);
  const child = join(REPO_ROOT, 'test', 'disk', 'journal-child.ts');
  childCommand = await startChild(child, work.dir);
});
after(() => work?.cleanup());

test('SIGKILL at 50 random points of a multi-write sequence: undo restores the original sha256 every time', async (t) => {
  const random = rng(20261124);
  const COUNT = 12;
  const TRIALS = 50;
  let killed = 0;
  let restored = 0;
  let unfinished = 0;
  const trial = async (n: number) => {
    const kind = n % 2 === 0 ? 'raw' : 'vhdx';
    const path = copyImage(base.get(kind)!, join(work.dir, `kill${n}.${kind}`));
    const original = await sha256File(path);
    const killAfter = Math.floor(random() * COUNT);
    const delay = Math.floor(random() * 4);
    if (await killAfterAnnouncement(childCommand, [path, String(1000 + n), String(COUNT)], killAfter, delay))
      killed++;
    const where = `trial ${n} (${kind}, killed after write ${killAfter} + ${delay} ms)`;
    if (existsSync(`${path}.winrescue-undo`)) {
      const report = await undo(path);
      assert.equal(report.verified, true, where);
      if (report.records > 0) restored++;
      if (report.warnings.some((w) => w.includes('did not finish'))) unfinished++;
    }
    assert.equal(await sha256File(path), original, where);
    run('rm', ['-f', path, `${path}.winrescue-undo.done`]);
  };
  // Two at a time: the machine has two cores.
  for (let n = 0; n < TRIALS; n += 2) await Promise.all([trial(n), trial(n + 1)]);
  t.diagnostic(`${killed} killed, ${restored} restored by undo, ${unfinished} killed mid-session`);
  assert.ok(killed >= 45, `only ${killed} of ${TRIALS} children were killed before finishing`);
  // The kills must land inside sessions, not only before the first write or after the last.
  assert.ok(
    restored >= 40 && unfinished >= 40,
    `undo restored ${restored} trials, ${unfinished} mid-session`,
  );
});

/** The writer's work: open the container through the journal, a seeded series of writes and flushes, close. */
async function scenario(kind: string, disk: PowerLossFile, storage: SimStorage): Promise<void> {
  const journaled = await JournaledFile.open(disk, { storage, diskPath: disk.path, now: () => 0 });
  let dev: BlockDevice;
  if (kind === 'raw') dev = new JournaledDevice(journaled, 512, 'sim');
  else if (kind === 'vhdx') dev = await openVhdx(journaled, { readOnly: false });
  else dev = await openVhd(journaled, { readOnly: false });
  const random = rng(kind.length * 977);
  const aligned: [number, number][] = [];
  for (let i = 0; i < 12; i++) {
    let at: number;
    let len: number;
    if (i % 3 === 2) {
      // Whole sectors written before, in an earlier flush interval: journaled as a rewrite (checksums only).
      [at, len] = aligned[Math.floor(random() * aligned.length)]!;
    } else {
      len = 1 + Math.floor(random() * 48 * 1024);
      at = Math.floor(random() * (dev.size - len));
      if (i % 3 === 1) {
        // In the first MiB, which holds data in every base image: below the floor, so journaled.
        len = Math.ceil(len / 512) * 512;
        at = Math.floor((random() * (MIB - len)) / 512) * 512;
        aligned.push([at, len]);
      }
    }
    await dev.write(at, new Uint8Array(len).fill(i + 1));
    if (i % 3 === 1 || random() < 0.3) await dev.flush();
  }
  await dev.close();
}

/** Runs `op`; a power loss ends it quietly (whatever it was wrapped in), any other failure is a test failure. */
async function untilPowerLoss(world: World, op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
  } catch (e) {
    if (!world.dead && !(e instanceof PowerLoss)) throw e;
  }
}

/** WINRESCUE_FUZZ_SCALE=N multiplies the power-loss trials for a longer soak. */
const SCALE = Math.max(1, Number(process.env.WINRESCUE_FUZZ_SCALE ?? 1) || 1);

for (const [kind, baseTrials] of [
  ['raw', 50],
  ['vhdx', 50],
  ['vhd-dynamic', 50],
] as const) {
  const trials = baseTrials * SCALE;
  test(`${kind}: power lost at ${trials} random points (writer, then undo too): undo restores the original`, async (tc) => {
    const original = new Uint8Array(readFileSync(base.get(kind)!));
    const path = `sim.${kind}`;
    // A run without a crash counts the operations, so the crash points cover the whole session.
    const dry = new World();
    const dryStorage = new SimStorage(dry);
    await scenario(kind, new PowerLossFile(original, dry, path), dryStorage);
    const total = dry.ops;
    const records = parseJournal(dryStorage.file!.bytes()).sessions[0]!.records;
    assert.ok(records.filter((r) => r.type === 'rewrite').length >= 2, 'the scenario rewrites sectors');
    const random = rng(trials * 31 + kind.length);
    const seen = { noJournal: 0, torn: 0, resumed: 0, unfinished: 0 };
    for (let t = 0; t < trials; t++) {
      const crashAt = Math.floor(random() * (total + 1));
      const world = new World(crashAt);
      const disk = new PowerLossFile(original, world, path);
      const storage = new SimStorage(world);
      await untilPowerLoss(world, () => scenario(kind, disk, storage));
      let diskBytes = disk.afterCrash(random);
      let journalBytes = storage.file?.afterCrash(random) ?? null;
      const where = `${kind} trial ${t}: power lost at operation ${crashAt} of ${total}`;
      if (!journalBytes) {
        assert.equal(
          sha256(diskBytes),
          sha256(original),
          `${where}: no journal, so no write may have happened`,
        );
        seen.noJournal++;
        continue;
      }
      // Every other trial the undo itself loses power once before the undo that completes.
      if (t % 2 === 1) {
        const count = new World();
        await undoJournal(
          async () => new PowerLossFile(diskBytes, count, path),
          new SimStorage(count, journalBytes),
          path,
        );
        const undoWorld = new World(Math.floor(random() * count.ops));
        const d = new PowerLossFile(diskBytes, undoWorld, path);
        const s = new SimStorage(undoWorld, journalBytes);
        await untilPowerLoss(undoWorld, () => undoJournal(async () => d, s, path));
        diskBytes = d.afterCrash(random);
        journalBytes = s.file?.afterCrash(random) ?? null;
        if (!journalBytes) {
          assert.equal(sha256(diskBytes), sha256(original), `${where}: undo finished before its power loss`);
          continue;
        }
      }
      const calm = new World();
      const d = new PowerLossFile(diskBytes, calm, path);
      const s = new SimStorage(calm, journalBytes);
      const report = await undoJournal(async () => d, s, path);
      assert.equal(sha256(d.bytes()), sha256(original), where);
      assert.equal(report.verified, true, where);
      if (report.tornBytes > 0) seen.torn++;
      if (report.resumed) seen.resumed++;
      if (report.warnings.some((w) => w.includes('did not finish'))) seen.unfinished++;
      assert.equal((await undoJournal(async () => d, s, path)).alreadyUndone, true, where);
    }
    tc.diagnostic(JSON.stringify(seen));
    assert.ok(seen.unfinished >= trials / 2, JSON.stringify(seen));
  });
}
