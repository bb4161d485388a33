import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync, copyFileSync, readFileSync } from 'node:fs';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { join } from 'node:path';
import { tempDir } from '../helpers/tools.js';
import { winrescue, assertOneLineError } from './helpers.js';

test('inspect: missing file, directory and zero-length file give one clear line and exit 2', () => {
  const { dir, cleanup } = tempDir();
  try {
    const missing = assertOneLineError(winrescue(['inspect', join(dir, 'nope.vhd')]));
    assert.match(missing, /no such file/);
    mkdirSync(join(dir, 'd'));
    assert.match(assertOneLineError(winrescue(['inspect', join(dir, 'd')])), /is a directory/);
    writeFileSync(join(dir, 'empty.img'), '');
    assert.match(assertOneLineError(winrescue(['inspect', join(dir, 'empty.img')])), /empty/);
  } finally {
    cleanup();
  }
});

test('inspect --json on bad input prints one JSON error document and exits 2', () => {
  const { dir, cleanup } = tempDir();
  try {
    const r = winrescue(['inspect', '--json', join(dir, 'nope.raw')]);
    assert.equal(r.status, 2);
    const doc = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    assert.equal(doc.error.code, 'disk.notFound');
  } finally {
    cleanup();
  }
});

test('usage errors exit 2', () => {
  const r = winrescue(['inspect']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /missing required argument/);
  assert.equal(winrescue(['--help']).status, 0);
});

test('inspect: damaged containers give one clear line and exit 2', { skip: sharedSkip() }, () => {
  const { dir, cleanup } = tempDir();
  try {
    // Differencing VHDX whose parent is not there.
    const avhdx = join(dir, 'child.avhdx');
    copyFileSync(testdataFile('vhd/differencing.avhdx.gz'), avhdx);
    assert.match(assertOneLineError(winrescue(['inspect', avhdx])), /parent/i);
    // Dynamic VHD with a bad footer checksum (both copies: at 0 and at the end).
    const vhd = join(dir, 'bad.vhd');
    const bytes = readFileSync(testdataFile('vhd/dynamic.vhd.gz'));
    bytes[64] = bytes[64]! ^ 0xff;
    bytes[bytes.length - 512 + 64] = bytes[bytes.length - 512 + 64]! ^ 0xff;
    writeFileSync(vhd, bytes);
    assert.match(assertOneLineError(winrescue(['inspect', vhd])), /checksum/i);
    // Dynamic VHD cut in half: its end footer is gone and blocks are past the end.
    const cut = join(dir, 'cut.vhd');
    const whole = readFileSync(testdataFile('vhd/dynamic.vhd.gz'));
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    assertOneLineError(winrescue(['inspect', cut]));
    // VHDX truncated inside its metadata.
    const tv = join(dir, 'cut.vhdx');
    writeFileSync(tv, readFileSync(testdataFile('vhd/dynamic.vhdx.gz')).subarray(0, 300 * 1024));
    assertOneLineError(winrescue(['inspect', tv]));
  } finally {
    cleanup();
  }
});
