// `winrescue check` run as a user would: exit 0 and {clean: true, problems: []} on a healthy disk, exit 1 with
// one line a problem (record and path) on a damaged copy, exit 2 with one error line when the input is
// unreadable. The damage is confirmed by sleuthkit first, so the exit code is judged against an outside view.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { buildDisk, copyDisk, type BuiltDisk } from '../fixtures/factory.js';
import * as inject from '../fixtures/inject.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { run, tempDir } from '../helpers/tools.js';
import { writeBytes } from '../fixtures/ntfs-volume.js';
import { assertOneLineError, winrescue } from './helpers.js';

const skip = sharedSkip();
let disk: BuiltDisk;
let work: { dir: string; cleanup: () => void };

before(async () => {
  if (skip) return;
  disk = await buildDisk({ gen: 1, flavour: 'real' });
  work = tempDir('winrescue-cli-check-');
});
after(() => work?.cleanup());

interface CheckJson {
  clean: boolean;
  problems: { kind: string; record: number | null; path: string | null; detail: string }[];
}

test('check of a healthy disk: exit 0, clean JSON, and the System Reserved volume too', { skip }, () => {
  const r = winrescue(['check', '--json', disk.raw]);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as CheckJson;
  assert.equal(doc.clean, true);
  assert.deepEqual(doc.problems, []);
  const human = winrescue(['check', disk.raw, '--partition', '1']);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /^clean: \d+ records in use/m);
});

test('check of a damaged copy: exit 1, one line a problem naming record and path', { skip }, () => {
  const v = copyDisk(disk, work.dir, 'torn.raw');
  const driver = '/Windows/System32/drivers/acpi.sys';
  const inj = inject.tornRecord(v, driver);
  inj.confirm();
  const r = winrescue(['check', '--json', v.path]);
  assert.equal(r.status, 1, r.stderr);
  const doc = JSON.parse(r.stdout) as CheckJson;
  assert.equal(doc.clean, false);
  const p = doc.problems.find((x) => x.kind === 'torn-record');
  assert.ok(p, r.stdout);
  assert.equal(p.record, inj.record);
  assert.equal(p.path?.toLowerCase(), driver.toLowerCase());
  for (const q of doc.problems) assert.deepEqual(Object.keys(q).sort(), ['detail', 'kind', 'path', 'record']);
  const human = winrescue(['check', v.path]);
  assert.equal(human.status, 1);
  const line = human.stdout.split('\n').find((l) => l.includes('torn-record'));
  assert.ok(line?.startsWith(`record ${inj.record} (${p.path}): torn-record: update sequence`), human.stdout);
  assert.match(human.stdout, /problem\(s\) found/);
});

test('check of unreadable input: exit 2 and one error line', { skip }, () => {
  const notNtfs = join(work.dir, 'zeros.img');
  writeFileSync(notNtfs, new Uint8Array(1 << 20));
  assertOneLineError(winrescue(['check', notNtfs]));
  // Both boot sectors gone: nothing says where the MFT is.
  const bare = join(work.dir, 'noboot.img');
  run('cp', ['--sparse=always', testdataFile('ntfs/windows-volume.raw.gz'), bare]);
  const sectors = Number(
    run('fsstat', [bare])
      .toString()
      .match(/Total Sector Range: 0 - (\d+)/)![1],
  );
  writeBytes(bare, 0, new Uint8Array(512));
  writeBytes(bare, (sectors + 1) * 512, new Uint8Array(512));
  const r = winrescue(['check', '--json', bare]);
  assert.equal(r.status, 2);
  assert.match(JSON.parse(r.stdout).error.code, /ntfs\.badBootSector|partition\.notFound/);
});
