import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../../helpers/tools.js';
import {
  forgetNextFree,
  mget,
  mkfat,
  mshowfat,
  mtools,
  mput,
  openImage,
  pattern,
  SPECS,
} from './fat-helpers.js';

/** Files put by mtools: long names, case, spaces, nesting, empty files, cluster-boundary sizes. */
function populate(img: string, dir: string, clusterSize: number): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  mtools('mmd', ['-i', img, '::/EFI', '::/EFI/Microsoft', '::/EFI/Microsoft/Boot', '::/EFI/Boot']);
  mtools('mmd', ['-i', img, '::/a', '::/a/Deeply Nested Folder', '::/a/Deeply Nested Folder/x']);
  const put = (path: string, data: Uint8Array): void => {
    mput(img, dir, path, data);
    files.set(path, data);
  };
  put('/EFI/Microsoft/Boot/BCD', pattern(3 * clusterSize + 17, 1));
  put('/EFI/Microsoft/Boot/bootmgfw.efi', pattern(5 * clusterSize, 2));
  put('/EFI/Boot/bootx64.efi', pattern(clusterSize - 1, 3));
  put('/README.TXT', pattern(100, 4));
  put('/empty', new Uint8Array(0));
  put('/a/Deeply Nested Folder/x/A file with a rather long name, commas and spaces.data', pattern(7000, 5));
  put('/a/lower.txt', pattern(clusterSize + 1, 6));
  // Fragmentation: fill, delete the middle file, then a file larger than the hole.
  put('/a/f1.bin', pattern(4 * clusterSize, 7));
  put('/a/hole.bin', pattern(3 * clusterSize, 8));
  put('/a/f2.bin', pattern(2 * clusterSize, 9));
  mtools('mdel', ['-i', img, '::/a/hole.bin']);
  files.delete('/a/hole.bin');
  forgetNextFree(img);
  put('/a/Fragmented File.bin', pattern(6 * clusterSize + 5, 10));
  // Many entries: the directory spans several clusters.
  for (let i = 0; i < 40; i++) put(`/a/Deeply Nested Folder/entry number ${i}.txt`, pattern(i * 13, 100 + i));
  return files;
}

for (const [name, spec] of Object.entries(SPECS)) {
  test(`fat read (${name}): every file mcopy put reads back, names, sizes and first clusters match mtools`, async () => {
    const { dir, cleanup } = tempDir('fat-read-');
    try {
      const img = mkfat(dir, 'v.img', spec);
      const clusterSize = spec.sectorsPerCluster * 512;
      const files = populate(img, dir, clusterSize);
      const runs = mshowfat(img, '/a/Fragmented File.bin');
      assert.ok(
        runs.length > 1,
        `the fixture file must be fragmented, mshowfat says ${JSON.stringify(runs)}`,
      );
      const { vol, close } = await openImage(img, { readOnly: true });
      try {
        assert.equal(vol.type, `fat${spec.bits}`);
        assert.equal(vol.geometry.clusterSize, clusterSize);
        for (const [path, data] of files) {
          assert.deepEqual(await vol.readFile(path), data, path);
          const upper = await vol.stat(path.toUpperCase());
          assert.equal(upper.size, data.length);
          assert.equal(upper.path, path, 'the stored case comes back whatever case was asked');
          const chain = mshowfat(img, path);
          assert.equal(upper.firstCluster, chain[0]?.[0] ?? 0, `${path} first cluster per mshowfat`);
          // The short name we report reaches the same file through mtools.
          const parent = path.slice(0, path.lastIndexOf('/'));
          const viaShort = `${parent}/${upper.shortName}`;
          assert.deepEqual(mget(img, dir, viaShort), data, viaShort);
          assert.deepEqual(await vol.readFile(viaShort.toLowerCase()), data);
        }
        const listed = (await vol.readdir('/a/Deeply Nested Folder')).map((e) => e.name).sort();
        const expected = [...files.keys()]
          .filter((p) => p.startsWith('/a/Deeply Nested Folder/') && !p.slice(24).includes('/'))
          .map((p) => p.slice(24))
          .concat(['x'])
          .sort();
        assert.deepEqual(listed, expected);
        assert.deepEqual(
          (await vol.readdir('\\EFI\\microsoft\\BOOT')).map((e) => [e.name, e.type, e.size]).sort(),
          [
            ['BCD', 'file', 3 * clusterSize + 17],
            ['bootmgfw.efi', 'file', 5 * clusterSize],
          ],
        );
        assert.equal(await vol.lookup('/EFI/nope'), null);
        await assert.rejects(vol.readFile('/EFI'), { code: 'fat.isADirectory' });
        await assert.rejects(vol.readdir('/README.TXT'), { code: 'fat.notADirectory' });
        await assert.rejects(vol.readFile('/a/missing'), { code: 'fat.notFound' });
        await assert.rejects(vol.writeFile('/README.TXT', new Uint8Array(1)), { code: 'disk.readOnly' });
      } finally {
        await close();
      }
    } finally {
      cleanup();
    }
  });
}
