// What the undo journal refuses, and damage it survives: a disk changed behind our back (undo refuses with
// journal.diskChanged and writes nothing; --force restores), a journal of another disk, an unfinished session, a
// torn last record (ignored), garbage and mutated journals (journal.badFormat, never another exception).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDisk } from '../../src/disk/open-disk.js';
import { MemoryDevice } from '../../src/disk/memory-device.js';
import { JournaledDevice, JournaledFile, parseJournal, undoJournal } from '../../src/disk/journal/index.js';
import { undo } from '../../src/api/undo.js';
import { WinrescueError } from '../../src/errors.js';
import { writeBytes } from '../fixtures/ntfs-volume.js';
import { run, sha256File, tempDir } from '../helpers/tools.js';
import { PowerLossFile, SimStorage, World, copyImage, rng } from './journal-helpers.js';

const MIB = 1024 * 1024;
let work: { dir: string; cleanup: () => void };
let raw: string;
let vhdx: string;
let n = 0;

before(() => {
  work = tempDir('winrescue-journal-errors-');
  const content = new Uint8Array(4 * MIB);
  const r = rng(3);
  for (let i = 0; i < content.length; i++) content[i] = (r() * 256) | 0;
  raw = join(work.dir, 'base.raw');
  writeFileSync(raw, content);
  vhdx = join(work.dir, 'base.vhdx');
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'block_size=1M', raw, vhdx]);
});
after(() => work?.cleanup());

const isCode = (code: string) => (e: unknown) => e instanceof WinrescueError && e.code === code;

/** A copy of `from` written through the journal: three writes, one growing a VHDX. */
async function written(from: string): Promise<string> {
  const path = copyImage(from, join(work.dir, `d${n++}`));
  const disk = await openDisk(path, { journal: {} });
  await disk.device.write(512 * 1024, new Uint8Array(10_000).fill(0xa5));
  await disk.device.flush();
  await disk.device.write(3 * MIB + 100, new Uint8Array(3000).fill(0x5a));
  await disk.device.write(600_000, new Uint8Array(70).fill(0x11));
  await disk.device.write(2 * MIB - 300, new Uint8Array(900).fill(0x22));
  await disk.device.close();
  return path;
}

function writeRecords(path: string) {
  const j = parseJournal(new Uint8Array(readFileSync(`${path}.winrescue-undo`)));
  return j.sessions.flatMap((s) => s.records).filter((r) => r.type === 'write');
}

for (const [kind, image] of [
  ['raw', () => raw],
  ['vhdx', () => vhdx],
] as const) {
  test(`${kind}: a byte we wrote changed behind our back: undo refuses, writes nothing; --force restores`, async () => {
    const original = await sha256File(image());
    const path = await written(image());
    // Flip the last byte of a written range outside the identity window (first and last MiB of the file), so the
    // rehearsal's sector check, not the identity check, must notice.
    const size = readFileSync(path).length;
    const rec = writeRecords(path).find((r) => r.offset >= MIB && r.offset + r.old.length <= size - MIB);
    assert.ok(rec, 'a write record outside the identity window');
    const at = rec.offset + rec.old.length - 1;
    const byte = readFileSync(path).subarray(at, at + 1);
    writeBytes(path, at, new Uint8Array([byte[0]! ^ 0xff]));
    const changed = await sha256File(path);
    await assert.rejects(undo(path), (e: unknown) => {
      assert.ok(e instanceof WinrescueError && e.code === 'journal.diskChanged', String(e));
      assert.equal(e.exitCode, 1);
      assert.equal(e.record, rec.seq, 'the sector check names the record');
      assert.equal(e.offset, Math.max(rec.offset, at - (at % 512)), 'the sector holding the changed byte');
      return true;
    });
    assert.equal(await sha256File(path), changed, 'refused undo wrote nothing');
    assert.ok(existsSync(`${path}.winrescue-undo`), 'journal kept for a later --force');
    const r = await undo(path, { force: true });
    assert.equal(r.forced, true);
    assert.equal(r.verified, true);
    assert.equal(await sha256File(path), original);
  });
}

test('a change outside our ranges but inside the identity window is refused too; --force restores our ranges', async () => {
  const path = await written(raw);
  const before = readFileSync(path);
  writeBytes(path, 10, new Uint8Array([before[10]! ^ 1]));
  await assert.rejects(undo(path), isCode('journal.diskChanged'));
  // And a new writing session is refused the same way.
  await assert.rejects(openDisk(path, { journal: {} }), isCode('journal.diskChanged'));
  const r = await undo(path, { force: true });
  assert.equal(r.verified, false, 'the foreign byte is still there, so the identity differs');
  const after = readFileSync(path);
  const orig = readFileSync(raw);
  assert.equal(after[10], before[10]! ^ 1);
  after[10] = orig[10]!;
  assert.ok(after.equals(orig), 'every byte we wrote is restored');
});

test('the journal of another disk is refused for writing and for undo; the disk is untouched', async () => {
  const a = await written(raw);
  const b = copyImage(vhdx, join(work.dir, 'other.vhdx'));
  copyFileSync(`${a}.winrescue-undo`, `${b}.winrescue-undo`);
  const shaB = await sha256File(b);
  await assert.rejects(openDisk(b, { journal: {} }), isCode('journal.diskChanged'));
  await assert.rejects(undo(b), isCode('journal.diskChanged'));
  assert.equal(await sha256File(b), shaB);
});

test('a second session appends to the journal; undo restores both, newest first', async () => {
  const original = await sha256File(vhdx);
  const path = await written(vhdx);
  const disk = await openDisk(path, { journal: {} });
  await disk.device.write(512 * 1024 + 5000, new Uint8Array(20_000).fill(0x77));
  await disk.device.write(2 * MIB + 7, new Uint8Array(5).fill(0x78));
  await disk.device.close();
  assert.equal(parseJournal(new Uint8Array(readFileSync(`${path}.winrescue-undo`))).sessions.length, 2);
  const r = await undo(path);
  assert.equal(r.sessions, 2);
  assert.equal(await sha256File(path), original);
});

test('an unfinished session (or undo) is refused for writing: undo first', async () => {
  const original = await sha256File(raw);
  const path = await written(raw);
  const journal = `${path}.winrescue-undo`;
  const bytes = readFileSync(journal);
  const end = parseJournal(new Uint8Array(bytes)).sessions[0]!.end!;
  // Without its end record the session looks killed.
  writeFileSync(journal, bytes.subarray(0, end.at));
  await assert.rejects(openDisk(path, { journal: {} }), (e: unknown) => {
    assert.ok(e instanceof WinrescueError && e.code === 'journal.incomplete');
    assert.equal(e.exitCode, 1);
    return true;
  });
  const r = await undo(path);
  assert.match(r.warnings.join('\n'), /did not finish/);
  assert.equal(await sha256File(path), original);
});

test('a torn last record is ignored: its write never happened', async () => {
  const original = await sha256File(raw);
  const path = await written(raw);
  const journal = `${path}.winrescue-undo`;
  const bytes = readFileSync(journal);
  const last = parseJournal(new Uint8Array(bytes)).sessions[0]!.records.at(-1)!;
  // A copy of the start of an earlier record: what a crash in the middle of an append leaves.
  appendFileSync(journal, bytes.subarray(last.at, last.at + 40));
  const parsed = parseJournal(new Uint8Array(readFileSync(journal)));
  assert.equal(parsed.tornBytes, 40);
  const r = await undo(path);
  assert.equal(r.tornBytes, 40);
  assert.equal(await sha256File(path), original);
});

test('garbage journals: typed journal.badFormat (exit 2), nothing written', async () => {
  const path = await written(raw);
  const sha = await sha256File(path);
  const journal = `${path}.winrescue-undo`;
  const good = readFileSync(journal);
  const cases: [string, Uint8Array][] = [
    ['random bytes', new Uint8Array(4096).map((_, i) => (i * 131) & 0xff)],
    ['empty', new Uint8Array(0)],
    [
      'header only, bad checksum',
      (() => {
        const b = new Uint8Array(good.subarray(0, 512));
        b[30]! ^= 1;
        return b;
      })(),
    ],
    // A damaged record with intact ones after it is not a torn append: refuse rather than undo half.
    [
      'damaged middle record',
      (() => {
        const b = new Uint8Array(good);
        b[512 + 30]! ^= 1;
        return b;
      })(),
    ],
  ];
  for (const [what, bytes] of cases) {
    writeFileSync(journal, bytes);
    await assert.rejects(undo(path), (e: unknown) => {
      assert.ok(e instanceof WinrescueError && e.code === 'journal.badFormat', `${what}: ${String(e)}`);
      assert.equal(e.exitCode, 2);
      return true;
    });
    assert.equal(await sha256File(path), sha, what);
  }
});

test('fuzz: 1000 mutated journals parse or fail with journal.badFormat, never another exception', async () => {
  const path = await written(vhdx);
  const good = new Uint8Array(readFileSync(`${path}.winrescue-undo`));
  const random = rng(99);
  let torn = 0;
  let refused = 0;
  for (let i = 0; i < 1000; i++) {
    let b = good.slice();
    const kind = i % 4;
    if (kind === 0) b = b.subarray(0, Math.floor(random() * b.length));
    else if (kind === 1)
      for (let k = 0; k < 1 + random() * 8; k++) b[Math.floor(random() * b.length)] = (random() * 256) | 0;
    else if (kind === 2) {
      // Lengths and sequence numbers of a random record header, where a parser is most easily misled.
      const at = 512 + 8 * Math.floor((random() * (b.length - 512)) / 8);
      b[at + 8 + Math.floor(random() * 12)] = (random() * 256) | 0;
    } else
      b = new Uint8Array([
        ...b,
        ...new Uint8Array(Math.floor(random() * 300)).map(() => (random() * 256) | 0),
      ]);
    try {
      if (parseJournal(b).tornBytes > 0) torn++;
    } catch (e) {
      assert.ok(e instanceof WinrescueError && e.code === 'journal.badFormat', `case ${i}: ${String(e)}`);
      refused++;
    }
  }
  assert.ok(torn > 100 && refused > 100, `torn tails ${torn}, refused ${refused}`);
});

test('fuzz: undo of 300 mutated journals over an in-memory disk reports or fails typed, never another exception', async () => {
  const path = await written(vhdx);
  const good = new Uint8Array(readFileSync(`${path}.winrescue-undo`));
  const disk = new Uint8Array(readFileSync(path));
  const random = rng(123);
  let undone = 0;
  for (let i = 0; i < 300; i++) {
    let b = good.slice();
    if (i % 2 === 0) b = b.subarray(0, 512 + Math.floor(random() * (b.length - 512)));
    else for (let k = 0; k < 1 + random() * 4; k++) b[Math.floor(random() * b.length)] = (random() * 256) | 0;
    const world = new World();
    const file = new PowerLossFile(disk, world, 'fuzz.vhdx');
    try {
      await undoJournal(async () => file, new SimStorage(world, b), 'fuzz.vhdx');
      undone++;
    } catch (e) {
      assert.ok(e instanceof WinrescueError, `case ${i}: ${String(e)}`);
    }
  }
  assert.ok(undone > 50, `${undone} undos ran`);
});

test('a journal path naming the disk itself is refused, for writing and for undo', async () => {
  const path = copyImage(raw, join(work.dir, 'self.raw'));
  const sha = await sha256File(path);
  await assert.rejects(openDisk(path, { journal: { path } }), isCode('journal.pathRequired'));
  await assert.rejects(undo(path, { journalPath: path }), isCode('journal.pathRequired'));
  assert.equal(await sha256File(path), sha);
});

test('a journal with size changes is refused on a device that cannot change size, before anything is written', async () => {
  const empty = join(work.dir, 'empty.vhdx');
  run('qemu-img', ['create', '-q', '-f', 'vhdx', '-o', 'block_size=1M', empty, '4M']);
  const path = await written(empty);
  const journal = new Uint8Array(readFileSync(`${path}.winrescue-undo`));
  assert.ok(
    parseJournal(journal).sessions[0]!.records.some((r) => r.type === 'grow'),
    'the VHDX grew',
  );
  const bytes = new Uint8Array(readFileSync(path));
  const device = new MemoryDevice(bytes.slice());
  const world = new World();
  await assert.rejects(
    undoJournal(async () => device, new SimStorage(world, journal), path),
    isCode('disk.unsupported'),
  );
  assert.deepEqual(device.bytes, bytes);
});

test("two sessions opened at once: the second cannot replace the first one's new journal", async () => {
  const original = await sha256File(raw);
  const path = copyImage(raw, join(work.dir, 'twice.raw'));
  const first = await openDisk(path, { journal: {} });
  const second = await openDisk(path, { journal: {} });
  await first.device.write(MIB + 512, new Uint8Array(4096).fill(1));
  await first.device.close();
  await second.device.write(2 * MIB, new Uint8Array(4096).fill(2));
  await assert.rejects(second.device.flush(), isCode('journal.incomplete'));
  await second.device.close().catch(() => undefined);
  assert.equal(parseJournal(new Uint8Array(readFileSync(`${path}.winrescue-undo`))).sessions.length, 1);
  await undo(path);
  assert.equal(await sha256File(path), original, "the second session's refused write never reached the disk");
});

test('sectors written again in a later flush interval are journaled as a rewrite, and still checked', async () => {
  const original = await sha256File(raw);
  const path = copyImage(raw, join(work.dir, 'rewrite.raw'));
  const disk = await openDisk(path, { journal: {} });
  await disk.device.write(2 * MIB, new Uint8Array(8192).fill(1));
  await disk.device.flush();
  await disk.device.write(2 * MIB, new Uint8Array(8192).fill(2));
  await disk.device.close();
  const records = parseJournal(new Uint8Array(readFileSync(`${path}.winrescue-undo`))).sessions[0]!.records;
  assert.deepEqual(
    records.map((r) => r.type),
    ['write', 'rewrite'],
    'the second write keeps no second copy of the old bytes',
  );
  // A byte changed inside the rewritten sectors is neither ours nor the old one.
  writeBytes(path, 2 * MIB + 5000, new Uint8Array([9]));
  await assert.rejects(undo(path), (e: unknown) => {
    assert.ok(e instanceof WinrescueError && e.code === 'journal.diskChanged', String(e));
    assert.equal(e.offset, 2 * MIB + 4608, 'the sector holding the changed byte');
    return true;
  });
  const r = await undo(path, { force: true });
  assert.equal(r.records, 1);
  assert.equal(await sha256File(path), original);
});

test('a torn last append may leave its later records intact: still a torn tail; earlier appends decide', async () => {
  const path = await written(raw);
  const good = new Uint8Array(readFileSync(`${path}.winrescue-undo`));
  const records = parseJournal(good).sessions[0]!.records;
  // The journal's first append is its header, the session start and the first write record; the second write
  // record starts the next append.
  const firstAppendEnd = records[1]!.at;
  const torn = good.slice(0, firstAppendEnd);
  torn[512 + 30]! ^= 1; // the session start record: sectors of one write persisted out of order
  const parsed = parseJournal(torn);
  assert.equal(parsed.sessions.length, 0);
  assert.equal(parsed.tornBytes, firstAppendEnd - 512);
  // The same damage with a later append after it cannot be a crash while appending.
  const damaged = good.slice();
  damaged[512 + 30]! ^= 1;
  assert.throws(() => parseJournal(damaged), isCode('journal.badFormat'));
});

test('writes waiting beyond maxPendingBytes are applied early, each batch journaled first', async () => {
  const original = new Uint8Array(readFileSync(raw));
  const world = new World();
  const disk = new PowerLossFile(original, world, 'pending.raw');
  const storage = new SimStorage(world);
  const journaled = await JournaledFile.open(disk, {
    storage,
    diskPath: 'pending.raw',
    maxPendingBytes: 10_000,
  });
  const dev = new JournaledDevice(journaled, 512, 'pending.raw');
  for (let i = 0; i < 8; i++) await dev.write(i * 100_000, new Uint8Array(4000).fill(i + 1));
  // Three writes exceed the limit: the first six are on the file before any flush.
  assert.equal(disk.bytes()[5 * 100_000], 6);
  assert.equal(disk.bytes()[6 * 100_000], original[6 * 100_000]);
  await dev.close();
  const report = await undoJournal(async () => disk, storage, 'pending.raw');
  assert.equal(report.records, 8);
  assert.deepEqual(disk.bytes(), original);
});
