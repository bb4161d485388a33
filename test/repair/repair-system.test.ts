// Boot-manager files on the system partition restored from where bcdboot takes them: Gen1 `\bootmgr` on System
// Reserved (NTFS, zeroed by the injector, confirmed by icat) from `\Windows\Boot\PCAT\bootmgr`; Gen2
// `\EFI\Microsoft\Boot\bootmgfw.efi` on the ESP (FAT32, overwritten with zeros by mtools) from
// `\Windows\Boot\EFI\bootmgfw.efi`. Judged by icat / mcopy extraction against the fixture manifest, fsck.fat and
// ntfsresize; undo restores the damaged image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDisk, copyDisk, inject, ensureSigningKeys, FIXTURES_DIR } from '../fixtures/index.js';
import { flsTree, icat } from '../fixtures-factory/oracles.js';
import { assertVolumesClean } from '../helpers/disk-oracles.js';
import { runStatus, sha256File, tempDir } from '../helpers/tools.js';
import { winrescue } from '../cli/helpers.js';

const keys = ensureSigningKeys(FIXTURES_DIR);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function treeSha(files: { path: string; sha256: string }[], path: string): string {
  const f = files.find((x) => x.path.toUpperCase() === path.toUpperCase());
  assert.ok(f, `${path} in the manifest`);
  return f.sha256;
}

function repair(disk: string): {
  status: number;
  json: Record<string, unknown> & { verify: { cause: string } };
  stderr: string;
} {
  const r = winrescue(['repair', disk, '--trust-root', keys.caPem, '--yes', '--json'], {
    timeoutMs: 180_000,
  });
  return { status: r.status, json: r.stdout ? JSON.parse(r.stdout) : null, stderr: r.stderr };
}

test('Gen1: a zeroed \\bootmgr on System Reserved comes back from \\Windows\\Boot\\PCAT', async () => {
  const disk = await buildDisk({ gen: 1, flavour: 'synthetic' });
  const sr = disk.manifest.layout.partitions.find((p) => p.role === 'system-reserved')!;
  const { dir, cleanup } = tempDir();
  try {
    const mine = copyDisk(disk, dir);
    inject.zeroFileData({ image: mine.path, offset: sr.start }, '/bootmgr').confirm();
    const before = await sha256File(mine.path);
    const r = repair(mine.path);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json.verify.cause, 'healthy');
    const want = treeSha(disk.manifest.windows.tree.files, '/Windows/Boot/PCAT/bootmgr');
    const tree = flsTree(mine.path, sr.start);
    assert.equal(
      sha(icat(mine.path, sr.start, tree.get('/bootmgr')!.inode)),
      want,
      'bootmgr = the PCAT copy',
    );
    const old = icat(mine.path, sr.start, tree.get('/bootmgr.old')!.inode);
    assert.ok(old.length > 0 && old.every((b) => b === 0), 'bootmgr.old keeps the zeroed bytes');
    await assertVolumesClean(disk, mine.path, dir);
    assert.equal(winrescue(['undo', mine.path]).status, 0);
    assert.equal(await sha256File(mine.path), before);
  } finally {
    cleanup();
  }
});

test('Gen2: a zeroed bootmgfw.efi on the ESP comes back from \\Windows\\Boot\\EFI', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const esp = disk.manifest.layout.partitions.find((p) => p.role === 'esp')!;
  const { dir, cleanup } = tempDir();
  try {
    const mine = copyDisk(disk, dir);
    const target = '/EFI/Microsoft/Boot/bootmgfw.efi';
    const size = disk.manifest.boot.files.find((f) => f.path === target)!.size;
    const zeros = join(dir, 'zeros.efi');
    writeFileSync(zeros, Buffer.alloc(size));
    const img = `${mine.path}@@${esp.start}`;
    const put = runStatus('env', ['MTOOLS_SKIP_CHECK=1', 'mcopy', '-o', '-i', img, zeros, `::${target}`]);
    assert.equal(put.status, 0, put.stderr);
    const extract = (name: string): Buffer => {
      const out = join(dir, name.replaceAll('/', '_'));
      const r = runStatus('env', ['MTOOLS_SKIP_CHECK=1', 'mcopy', '-n', '-i', img, `::${name}`, out]);
      assert.equal(r.status, 0, r.stderr);
      return readFileSync(out);
    };
    assert.ok(
      extract(target).every((b) => b === 0),
      'mtools confirms the damage',
    );
    const before = await sha256File(mine.path);
    const r = repair(mine.path);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json.verify.cause, 'healthy');
    const want = treeSha(disk.manifest.windows.tree.files, '/Windows/Boot/EFI/bootmgfw.efi');
    assert.equal(sha(extract(target)), want, 'bootmgfw.efi = the \\Windows\\Boot\\EFI copy');
    assert.ok(
      extract(`${target}.old`).every((b) => b === 0),
      '.old keeps the zeroed bytes',
    );
    await assertVolumesClean(disk, mine.path, dir);
    assert.equal(winrescue(['undo', mine.path]).status, 0);
    assert.equal(await sha256File(mine.path), before);
  } finally {
    cleanup();
  }
});
