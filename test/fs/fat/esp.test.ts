import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { undo } from '../../../src/api/undo.js';
import { openDisk } from '../../../src/disk/open-disk.js';
import { openFat } from '../../../src/fs/fat/index.js';
import { readPartitions } from '../../../src/partition/index.js';
import { buildDisk, copyDisk } from '../../fixtures/factory.js';
import { sharedSkip } from '../../helpers/testdata.js';
import { sha256, sha256File, tempDir } from '../../helpers/tools.js';
import { fsck, mget, pattern } from './fat-helpers.js';

const MiB = 1 << 20;

test(
  'fat on a Gen2 ESP: BCD replaced bigger then smaller through the undo journal; mcopy, fsck.fat, undo agree',
  { skip: sharedSkip() },
  async () => {
    const built = await buildDisk({ gen: 2, flavour: 'real' });
    const { dir, cleanup } = tempDir('fat-esp-');
    try {
      const copy = copyDisk(built, dir);
      const original = await sha256File(copy.path);
      const boot = built.manifest.boot;
      assert.equal(boot.filesystem, 'fat32');
      const espInfo = built.manifest.layout.partitions.find((p) => p.index === boot.partition)!;
      const bcdPath = '/' + built.manifest.bcd.path.replace(/\\/g, '/').replace(/^\/+/, '');
      const espImage = join(dir, 'esp.img');
      const cutEsp = (): void => {
        execFileSync('dd', [
          `if=${copy.path}`,
          `of=${espImage}`,
          'bs=1M',
          `skip=${espInfo.start / MiB}`,
          `count=${espInfo.size / MiB}`,
          'conv=sparse',
          'status=none',
        ]);
      };
      const others = boot.files.filter((f) => f.path.toUpperCase() !== bcdPath.toUpperCase());
      const checkVolume = (bcd: Uint8Array): void => {
        cutEsp();
        const r = fsck(espImage);
        assert.ok(r.clean, r.output);
        assert.deepEqual(mget(espImage, dir, bcdPath), bcd);
        for (const f of others) assert.equal(sha256(mget(espImage, dir, f.path)), f.sha256, f.path);
      };

      const opened = await openDisk(copy.path, { journal: {} });
      let bigger: Uint8Array;
      let smaller: Uint8Array;
      try {
        const table = await readPartitions(opened.device);
        const part = table.partitions.find((p) => p.index === boot.partition)!;
        const vol = await openFat(part.device);
        assert.equal(vol.type, 'fat32');
        const old = await vol.readFile(bcdPath.replace(/\//g, '\\'));
        const listed = boot.files.find((f) => f.path.toUpperCase() === bcdPath.toUpperCase());
        assert.equal(sha256(old), listed?.sha256, 'the BCD we read is the one the factory put');
        bigger = new Uint8Array(old.length + 300_000);
        bigger.set(old);
        bigger.set(pattern(300_000, 42), old.length);
        await vol.writeFile(bcdPath, bigger);
        await vol.flush();
        checkVolume(bigger);
        smaller = old.slice(0, Math.max(1, old.length >> 2));
        await vol.writeFile(bcdPath.toLowerCase(), smaller);
        await vol.flush();
        checkVolume(smaller);
      } finally {
        await opened.device.close();
      }
      assert.notEqual(await sha256File(copy.path), original);
      await undo(copy.path);
      assert.equal(await sha256File(copy.path), original, 'undo brings the image back byte for byte');
    } finally {
      cleanup();
    }
  },
);
