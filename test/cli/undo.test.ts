// `winrescue undo` run as a user would: exit 0 and the report after restoring (sha256 of the image as the oracle),
// exit 0 "nothing to undo" the second time, exit 1 with one line when the disk changed since (and --force then
// restores), exit 2 with one line for a missing or garbage journal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openDisk } from '../../src/disk/open-disk.js';
import { undoCommand } from '../../src/api/undo.js';
import { REPO_ROOT } from '../helpers/testdata.js';
import { sha256File, tempDir } from '../helpers/tools.js';
import { writeBytes } from '../fixtures/ntfs-volume.js';
import { assertOneLineError, winrescue } from './helpers.js';

const MIB = 1024 * 1024;
let work: { dir: string; cleanup: () => void };
let base: string;
let n = 0;

before(() => {
  work = tempDir('winrescue-cli-undo-');
  base = join(work.dir, 'base.raw');
  writeFileSync(
    base,
    new Uint8Array(4 * MIB).map((_, i) => (i * 31 + (i >> 9)) & 0xff),
  );
});
after(() => work?.cleanup());

async function written(journalPath?: string): Promise<string> {
  const path = join(work.dir, `d${n++}.raw`);
  writeFileSync(path, readFileSync(base));
  const disk = await openDisk(path, { journal: journalPath ? { path: journalPath } : {} });
  await disk.device.write(2 * MIB, new Uint8Array(8192).fill(0xee));
  await disk.device.close();
  return path;
}

test('undo --json: exit 0, the report, the original bytes; a second undo says there is nothing to undo', async () => {
  const original = await sha256File(base);
  const path = await written();
  assert.notEqual(await sha256File(path), original);
  const r = winrescue(['undo', '--json', path]);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.alreadyUndone, false);
  assert.equal(doc.sessions, 1);
  assert.equal(doc.records, 1);
  assert.equal(doc.bytes, 8192);
  assert.equal(doc.verified, true);
  assert.equal(doc.journal, `${path}.winrescue-undo`);
  assert.equal(doc.retiredTo, `${path}.winrescue-undo.done`);
  assert.equal(await sha256File(path), original);
  const again = winrescue(['undo', path]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /^nothing to undo: .* was already undone/);
  assert.equal(await sha256File(path), original);
});

test('undo --journal PATH: a journal kept elsewhere', async () => {
  const journal = join(work.dir, 'elsewhere.journal');
  const path = await written(journal);
  const r = winrescue(['undo', path, '--journal', journal]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^restored 1 range\(s\), 8192 bytes/);
  assert.equal(await sha256File(path), await sha256File(base));
});

test('undo after a foreign change: exit 1, one line, nothing written; --force restores', async () => {
  const path = await written();
  writeBytes(path, 2 * MIB + 100, new Uint8Array([1, 2, 3]));
  const changed = await sha256File(path);
  const r = winrescue(['undo', path]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /changed since.*--force/);
  const j = winrescue(['undo', '--json', path]);
  assert.equal(j.status, 1);
  assert.equal(JSON.parse(j.stdout).error.code, 'journal.diskChanged');
  assert.equal(await sha256File(path), changed);
  const forced = winrescue(['undo', '--force', '--json', path]);
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(JSON.parse(forced.stdout).forced, true);
  assert.equal(await sha256File(path), await sha256File(base));
});

test('undo without a journal, or with garbage: exit 2 and one line', async () => {
  const path = join(work.dir, 'plain.raw');
  writeFileSync(path, new Uint8Array(MIB));
  assert.match(assertOneLineError(winrescue(['undo', path])), /no undo journal/);
  writeFileSync(`${path}.winrescue-undo`, 'not a journal at all, just text that is long enough to be read');
  assert.match(assertOneLineError(winrescue(['undo', path])), /journal/);
  assert.match(assertOneLineError(winrescue(['undo', join(work.dir, 'missing.raw')])), /no such file/);
});

test('undoCommand: the shell runs the printed command as is, quotes and custom journal included', async () => {
  const journal = join(work.dir, "it's here.journal");
  const path = await written(journal);
  const spaced = join(work.dir, 'with space.raw');
  writeFileSync(spaced, readFileSync(path));
  const command = undoCommand(spaced, journal);
  assert.match(command, /^winrescue undo '.*with space\.raw' --journal '.*'/);
  const r = spawnSync(
    'sh',
    ['-c', command.replace(/^winrescue/, `${process.execPath} ${join(REPO_ROOT, 'bin', 'winrescue.js')}`)],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(await sha256File(spaced), await sha256File(base));
});
