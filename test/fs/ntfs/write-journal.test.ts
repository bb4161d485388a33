// The NTFS writer through the undo journal's device (openDisk with a journal): the writer needs nothing but a
// BlockDevice, so its writes are journaled like any other. After a sequence of every operation the volume is
// consistent for sleuthkit and ntfs-3g, and `undo` brings the image back to its original sha256.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { undo } from '../../../src/api/undo.js';
import { openDisk } from '../../../src/disk/open-disk.js';
import { openNtfsWriter } from '../../../src/fs/ntfs/write/index.js';
import { sha256, tempDir } from '../../helpers/tools.js';
import { buildVolume, seeded } from './volumes.js';
import { assertChecksClean, assertNtfsresizeClean, copyImage, imageSha, ntfscat } from './write-oracle.js';

let t: { dir: string; cleanup: () => void };
before(() => {
  t = tempDir('winrescue-ntfs-journal-');
});
after(() => t?.cleanup());

test('writer over a journaled raw image: consistent after, byte-identical after undo', async () => {
  const image = copyImage(buildVolume({ sizeMiB: 8, bigDir: 150, small: true }), t.dir);
  const original = imageSha(image);
  const disk = await openDisk(image, { journal: {} });
  try {
    const w = await openNtfsWriter(disk.device);
    await w.mkdir('/journaled');
    for (let i = 0; i < 40; i++) await w.writeFile(`/journaled/file ${i}.bin`, seeded(i * 300, i + 1));
    await w.writeFile('/tiny.txt', seeded(70000, 2));
    await w.rename('/journaled/file 3.bin', '/a/b/moved.bin');
    await w.unlink('/journaled/file 4.bin');
    await w.flush();
  } finally {
    await disk.device.close();
  }
  await assertChecksClean(image, 'journaled writes');
  assertNtfsresizeClean(image, 'journaled writes');
  assert.equal(sha256(ntfscat(image, '/a/b/moved.bin')!), sha256(seeded(900, 4)));
  assert.notEqual(imageSha(image), original);
  await undo(image);
  assert.equal(imageSha(image), original, 'undo restores every byte the writer changed');
});
