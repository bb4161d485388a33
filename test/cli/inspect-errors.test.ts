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

test(
  'inspect: a raw volume ending in a stale fixed-VHD footer that does not fit opens as raw, with a warning',
  { skip: sharedSkip() },
  () => {
    const path = testdataFile('ntfs/windows-ntfs-compressed-largedir.bin.gz');
    // The premise: the file really ends with a VHD footer cookie.
    const bytes = readFileSync(path);
    assert.equal(bytes.subarray(bytes.length - 512, bytes.length - 504).toString('latin1'), 'conectix');
    const r = winrescue(['inspect', '--json', path]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { format: string; partitionScheme: string; warnings: string[] };
    assert.equal(doc.format, 'ntfs-volume');
    assert.equal(doc.partitionScheme, 'none');
    assert.ok(
      doc.warnings.some((w) => /footer.*opened as a raw image/.test(w)),
      doc.warnings.join('\n'),
    );
  },
);
