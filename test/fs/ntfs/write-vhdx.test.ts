// The NTFS writer inside a dynamic VHDX, through the undo journal and a partition window: the factory's Gen2
// disk (GPT, Windows volume of 256 MiB). qemu-img converts the result to raw for the oracles (our check,
// ntfsresize, fls/icat, ntfscat on the volume cut out with dd); then `undo` restores the VHDX's sha256 (container
// metadata - BAT entries for newly allocated blocks - included).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { undo } from '../../../src/api/undo.js';
import { openDisk } from '../../../src/disk/open-disk.js';
import { WindowDevice } from '../../../src/disk/window-device.js';
import { openNtfsWriter } from '../../../src/fs/ntfs/write/index.js';
import { buildDisk } from '../../fixtures/factory.js';
import { sharedSkip } from '../../helpers/testdata.js';
import { run, sha256, tempDir } from '../../helpers/tools.js';
import { seeded } from './volumes.js';
import {
  assertChecksClean,
  assertNtfsresizeClean,
  flsFiles,
  icatSha,
  imageSha,
  ntfscat,
} from './write-oracle.js';

const skip = sharedSkip();
let t: { dir: string; cleanup: () => void };
before(() => {
  if (!skip) t = tempDir('winrescue-ntfs-vhdx-');
});
after(() => t?.cleanup());

test(
  'writer in a dynamic VHDX through the journal: consistent volume, undo restores the container',
  { skip },
  async () => {
    const d = await buildDisk({ gen: 2, flavour: 'real', formats: ['vhdx'] });
    const vhdx = join(t.dir, 'disk.vhdx');
    run('cp', ['--sparse=always', d.vhdx!, vhdx]);
    const original = imageSha(vhdx);
    const { start, size } = d.manifest.windows;
    const big = seeded(3 * 1024 * 1024 + 5, 11);
    const disk = await openDisk(vhdx, { journal: {} });
    try {
      const w = await openNtfsWriter(new WindowDevice(disk.device, start, size));
      await w.mkdir('/winrescue');
      await w.writeFile('/winrescue/big.bin', big);
      for (let i = 0; i < 30; i++) await w.writeFile(`/winrescue/small ${i}.txt`, seeded(i * 50, i + 1));
      await w.rename('/winrescue/small 7.txt', '/Windows/small 7.txt');
      await w.unlink('/winrescue/small 8.txt');
      await w.flush();
    } finally {
      await disk.device.close();
    }
    const raw = join(t.dir, 'disk.raw');
    run('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', vhdx, raw]);
    const vol = join(t.dir, 'windows.img');
    run('dd', [
      `if=${raw}`,
      `of=${vol}`,
      'bs=1M',
      `skip=${start}`,
      `count=${size}`,
      'iflag=skip_bytes,count_bytes',
      'conv=sparse',
      'status=none',
    ]);
    await assertChecksClean(vol, 'VHDX volume');
    assertNtfsresizeClean(vol, 'VHDX volume');
    assert.equal(sha256(ntfscat(vol, '/winrescue/big.bin')!), sha256(big));
    assert.equal(sha256(ntfscat(vol, '/Windows/small 7.txt')!), sha256(seeded(350, 8)));
    const files = flsFiles(vol);
    assert.equal(icatSha(vol, files.get('/winrescue/big.bin')!), sha256(big));
    assert.equal(files.has('/winrescue/small 8.txt'), false);
    assert.equal([...files.keys()].filter((p) => p.startsWith('/winrescue/')).length, 29);
    await undo(vhdx);
    assert.equal(imageSha(vhdx), original, 'undo restores the VHDX byte for byte');
  },
);
