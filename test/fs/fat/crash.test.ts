import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { BlockDevice } from '../../../src/disk/block-device.js';
import { FileDevice } from '../../../src/disk/file-device.js';
import { WinrescueError } from '../../../src/errors.js';
import { openFat } from '../../../src/fs/fat/index.js';
import { tempDir } from '../../helpers/tools.js';
import { fsck, mget, mkfat, mtools, mput, pattern, SPECS } from './fat-helpers.js';

/** A device that drops every write after the first `limit`: a power cut at that point. */
class CutDevice implements BlockDevice {
  writes = 0;
  constructor(
    private readonly inner: BlockDevice,
    private readonly limit: number,
  ) {}
  get size(): number {
    return this.inner.size;
  }
  get sectorSize(): number {
    return this.inner.sectorSize;
  }
  readonly readOnly = false;
  readonly description = 'cut device';
  read(offset: number, length: number): Promise<Uint8Array> {
    return this.inner.read(offset, length);
  }
  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.writes++ >= this.limit) throw new WinrescueError('disk.io', 'power cut', { offset });
    await this.inner.write(offset, data);
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** What fsck.fat may find after a cut: space not yet linked or not yet freed, a size not yet matching its chain. */
const BENIGN = [
  /^\/.*\n?\s*File size is \d+ bytes, cluster chain length is >? ?\d+ bytes\./m,
  /Truncating file to \d+ bytes\./,
  /Reclaimed \d+ unused clusters? \(\d+ bytes\)( in \d+ chains?)?\./,
  // A cut between the copies: copy 0 is written first, and it is the one fsck.fat (and Windows) trusts.
  /FATs differ but appear to be intact\.\n\s+Using first FAT\./,
  /^Free cluster summary wrong \(\d+ vs\. really \d+\)/m,
  /^\s+Auto-correcting\./m,
  // Long-name entries written but not their short entry (only when the slots straddle non-adjacent clusters).
  /^Orphaned long file name part ".*"\n\s+Auto-deleting\./m,
  /^\s+Correcting\./m,
  /^Leaving filesystem unchanged\./m,
];

const CASES: { name: string; path: string; size: (cs: number) => number }[] = [
  { name: 'grow', path: '/EFI/Microsoft/Boot/BCD', size: (cs) => 9 * cs + 5 },
  { name: 'shrink', path: '/EFI/Microsoft/Boot/BCD', size: (cs) => cs - 7 },
  { name: 'shrink to 0', path: '/EFI/Microsoft/Boot/BCD', size: () => 0 },
  { name: 'create', path: '/EFI/Microsoft/Boot/A new long-named file.bin', size: (cs) => 3 * cs },
];

test('fat crash: a power cut after any write leaves bystanders intact and only benign fsck.fat findings', async () => {
  const { dir, cleanup } = tempDir('fat-crash-');
  try {
    const spec = SPECS.fat32_512!;
    const cs = 512;
    const base = mkfat(dir, 'base.img', spec);
    mtools('mmd', ['-i', base, '::/EFI', '::/EFI/Microsoft', '::/EFI/Microsoft/Boot']);
    mput(base, dir, '/EFI/Microsoft/Boot/BCD', pattern(4 * cs + 100, 1));
    mput(base, dir, '/EFI/Microsoft/Boot/bootmgfw.efi', pattern(6 * cs, 2));
    // Enough entries that creating needs a new directory cluster.
    for (let i = 0; i < 3; i++)
      mput(base, dir, `/EFI/Microsoft/Boot/resource file ${i}.mui`, pattern(50, 3 + i));
    const img = join(dir, 'cut.img');
    let cuts = 0;
    for (const c of CASES) {
      for (let limit = 0; ; limit++) {
        execFileSync('cp', ['--sparse=always', base, img]);
        const file = await FileDevice.open(img, { readOnly: false });
        const dev = new CutDevice(file, limit);
        let finished = false;
        try {
          const vol = await openFat(dev);
          await vol.writeFile(c.path, pattern(c.size(cs), 99));
          finished = true;
        } catch (e) {
          assert.ok(e instanceof WinrescueError && e.code === 'disk.io', String(e));
          cuts++;
        } finally {
          await file.close();
        }
        const r = fsck(img);
        let rest = r.output;
        for (const re of BENIGN) rest = rest.replace(new RegExp(re.source, 'gm'), '');
        const left = rest
          .split('\n')
          .filter((l) => l.trim() !== '' && !l.startsWith('fsck.fat ') && !l.includes(' files, '));
        assert.deepEqual(left, [], `${c.name}, cut after ${limit} writes:\n${r.output}`);
        assert.deepEqual(mget(img, dir, '/EFI/Microsoft/Boot/bootmgfw.efi'), pattern(6 * cs, 2));
        assert.deepEqual(mget(img, dir, '/EFI/Microsoft/Boot/resource file 1.mui'), pattern(50, 4));
        if (finished) {
          assert.ok(r.clean, r.output);
          assert.deepEqual(mget(img, dir, c.path), pattern(c.size(cs), 99));
          break;
        }
      }
    }
    assert.ok(cuts > 10, `${cuts} cut points tried`);
  } finally {
    cleanup();
  }
});
