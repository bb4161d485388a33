// `winrescue diagnose` as a user runs it: with a boot screenshot (OCR) and/or a serial log, with and without a
// disk; exit codes 0 healthy / 1 damage or unknown / 2 bad input; the --json shape of DESIGN.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDisk, copyDisk, inject, ensureSigningKeys, FIXTURES_DIR } from '../fixtures/index.js';
import { renderScreen } from '../diagnose/screens/screens.js';
import { tempDir } from '../helpers/tools.js';
import { assertOneLineError, winrescue } from './helpers.js';

const keys = ensureSigningKeys(FIXTURES_DIR);
const DRIVER = '\\Windows\\System32\\drivers\\disk.sys';

function screenshot(dir: string, path: string, code = 0xc0000102): string {
  const file = join(dir, 'screen.png');
  writeFileSync(
    file,
    renderScreen({
      id: 1,
      kind: 'boot-manager',
      width: 800,
      height: 600,
      code,
      path,
      blur: 0,
      noise: 0,
      jpeg: 0,
      format: 'png',
    }),
  );
  return file;
}

test('a screenshot naming a driver that is intact on the disk: healthy, with the next step, exit 0', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const { dir, cleanup } = tempDir();
  try {
    // OCR may misread a letter; the path is snapped to the disk's own spelling.
    const shot = screenshot(dir, DRIVER);
    const r = winrescue(['diagnose', disk.raw, '--screenshot', shot, '--trust-root', keys.caPem, '--json'], {
      timeoutMs: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.cause, 'healthy');
    assert.equal(j.stopCode, '0xC0000102');
    assert.equal(j.file, DRIVER);
    assert.deepEqual(j.findings, []);
    assert.deepEqual(j.plan, []);
    assert.match(j.nextSteps.join(' '), /intact on this disk/);
    assert.equal(j.symptom.kind, 'boot-manager');
    for (const k of ['stopCode', 'file', 'cause', 'findings', 'plan']) assert.ok(k in j, k);
  } finally {
    cleanup();
  }
});

test('a torn driver record with its screenshot: corrupt-structure, evidence and plan in text, exit 1', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const { dir, cleanup } = tempDir();
  try {
    const mine = copyDisk(disk, dir);
    inject.tornRecord(mine, DRIVER.replaceAll('\\', '/')).confirm();
    const shot = screenshot(dir, DRIVER);
    const r = winrescue(['diagnose', mine.path, '--screenshot', shot, '--trust-root', keys.caPem], {
      timeoutMs: 120_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^symptom: 0xC0000102 on \\Windows\\System32\\drivers\\disk\.sys/m);
    assert.match(r.stdout, /^cause: {3}corrupt-structure \(0xC0000102\)/m);
    assert.match(r.stdout, /torn-record in MFT record \d+/);
    assert.match(r.stdout, /hard link: \/Windows\/WinSxS\/amd64_dual_disk\.inf_[^/]+\/disk\.sys/);
    assert.match(r.stdout, /^ {2}1\. quarantine-record \\Windows\\System32\\drivers\\disk\.sys/m);
    assert.match(r.stdout, /^run: winrescue repair /m);
  } finally {
    cleanup();
  }
});

test('symptom only: a serial log, or a screenshot, without a disk gives the unconfirmed likely cause', () => {
  const { dir, cleanup } = tempDir();
  try {
    const log = join(dir, 'serial.log');
    writeFileSync(
      log,
      "Windows Boot Manager\r\nWindows failed to start.\r\nFile: \\Windows\\System32\\drivers\\volmgr.sys\r\nStatus: 0xc000007b\r\nInfo: The application or operating system couldn't be loaded.\r\n",
    );
    const r = winrescue(['diagnose', '--serial-log', log, '--json']);
    assert.equal(r.status, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.stopCode, '0xC000007B');
    assert.equal(j.file, '\\Windows\\System32\\drivers\\volmgr.sys');
    assert.equal(j.cause, 'corrupt-file');
    assert.equal(j.disk, null);
    assert.match(j.summary, /not confirmed/);
  } finally {
    cleanup();
  }
});

test('bad input: exit 2 with one line, nothing written', () => {
  const { dir, cleanup } = tempDir();
  try {
    const junk = join(dir, 'junk.img');
    writeFileSync(junk, Buffer.alloc(4096, 0x41));
    assert.match(assertOneLineError(winrescue(['diagnose', junk])), /junk\.img/);
    assert.match(
      assertOneLineError(winrescue(['diagnose', '--screenshot', join(dir, 'missing.png')])),
      /missing\.png/,
    );
    const notImage = join(dir, 'notes.txt');
    writeFileSync(notImage, 'hello');
    assert.match(
      assertOneLineError(winrescue(['diagnose', '--screenshot', notImage])),
      /not a BMP, PNG or JPEG/,
    );
    assertOneLineError(winrescue(['diagnose']));
  } finally {
    cleanup();
  }
});
