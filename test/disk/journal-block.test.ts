// The journal over a real block device: a loop device over a temporary image (skipped where losetup is not
// allowed). A block device needs an explicit journal path; writes through it are undone byte for byte, judged by
// the sha256 of the backing file after the loop device is detached.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDisk } from '../../src/disk/open-disk.js';
import { undo } from '../../src/api/undo.js';
import { WinrescueError } from '../../src/errors.js';
import { runStatus, sha256File, tempDir } from '../helpers/tools.js';
import { rng } from './journal-helpers.js';

const MIB = 1024 * 1024;
let work: { dir: string; cleanup: () => void } | undefined;
let image = '';
let loop = '';
let skip: string | false = false;

before(() => {
  work = tempDir('winrescue-journal-block-');
  image = join(work.dir, 'backing.img');
  const r = rng(5);
  writeFileSync(
    image,
    new Uint8Array(4 * MIB).map(() => (r() * 256) | 0),
  );
  const attach = runStatus('losetup', ['-f', '--show', image]);
  if (attach.status !== 0) skip = `losetup is not allowed here: ${attach.stderr.trim()}`;
  else loop = attach.stdout.trim();
});
after(() => {
  if (loop) runStatus('losetup', ['-d', loop]);
  work?.cleanup();
});

const isCode = (code: string) => (e: unknown) => e instanceof WinrescueError && e.code === code;

test('block device: journal path required; journaled writes undone; backing file byte-identical', async (t) => {
  if (skip) return t.skip(skip);
  const original = await sha256File(image);
  await assert.rejects(openDisk(loop, { journal: {} }), isCode('journal.pathRequired'));
  await assert.rejects(undo(loop), isCode('journal.pathRequired'));
  const journal = join(work!.dir, 'loop.journal');
  const disk = await openDisk(loop, { journal: { path: journal } });
  assert.equal(disk.format, 'raw');
  assert.equal(disk.device.size, 4 * MIB);
  await disk.device.write(0, new Uint8Array(512).fill(0x55));
  await disk.device.write(2 * MIB + 4096, new Uint8Array(64 * 1024).fill(0x66));
  await disk.device.flush();
  await disk.device.write(2 * MIB + 8192, new Uint8Array(100).fill(0x77));
  await assert.rejects(disk.device.write(4 * MIB - 10, new Uint8Array(20)), isCode('disk.outOfRange'));
  await disk.device.close();
  assert.notEqual(await sha256File(image), original, 'the writes reached the backing file');
  const r = await undo(loop, { journalPath: journal });
  assert.equal(r.verified, true);
  assert.equal(r.sizeChanges, 0);
  assert.equal(runStatus('losetup', ['-d', loop]).status, 0);
  loop = '';
  assert.equal(await sha256File(image), original);
});
