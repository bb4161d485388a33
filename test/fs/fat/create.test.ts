import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../../helpers/tools.js';
import { fsck, mget, mkfat, mshowfat, mtools, mput, openImage, pattern, SPECS } from './fat-helpers.js';

const NAMES = [
  'NEW.TXT',
  'lower.txt',
  'Mixed.Txt',
  'A much longer name with spaces.data',
  'A much longer name with spaces, again.data',
  'A much longer name with spaces, third.data',
  'odd+chars;in=the name,x.bin',
  '.hidden-ish',
  'no_extension_but_long',
  'many.dots.in.this.name.x',
  'empty file',
];

for (const key of ['fat32_512', 'fat16_2k', 'fat12_1k'] as const) {
  test(`fat create (${key}): new files with plain, lower-case and long names; mdir, mcopy and fsck.fat agree`, async () => {
    const { dir, cleanup } = tempDir('fat-create-');
    try {
      const spec = SPECS[key]!;
      const cs = spec.sectorsPerCluster * 512;
      const img = mkfat(dir, 'c.img', spec);
      mtools('mmd', ['-i', img, '::/EFI', '::/EFI/Microsoft', '::/EFI/Microsoft/Boot']);
      mput(img, dir, '/EFI/Microsoft/Boot/BCD', pattern(3000, 1));
      const made = new Map<string, Uint8Array>();
      let o = await openImage(img);
      try {
        for (const [i, name] of NAMES.entries()) {
          for (const parent of ['', '/EFI/Microsoft/Boot']) {
            const data = name === 'empty file' ? new Uint8Array(0) : pattern(i * 700 + 1, i + 10);
            const r = await o.vol.writeFile(`${parent}/${name}`, data);
            assert.equal(r.created, true);
            made.set(`${parent}/${name}`, data);
          }
        }
        // Enough long names to make /EFI/Microsoft/Boot grow by several clusters.
        for (let i = 0; i < 40; i++) {
          const p = `/EFI/Microsoft/Boot/Language resource file number ${i}.mui`;
          const data = pattern((i % 5) * cs + 3, 100 + i);
          await o.vol.writeFile(p, data);
          made.set(p, data);
        }
        await assert.rejects(o.vol.writeFile('/nowhere/x.txt', new Uint8Array(1)), { code: 'fat.notFound' });
        await assert.rejects(o.vol.writeFile('/bad:name', new Uint8Array(1)), { code: 'fat.unsupported' });
        await assert.rejects(o.vol.writeFile('/trailing.', new Uint8Array(1)), { code: 'fat.unsupported' });
        await assert.rejects(o.vol.writeFile('/NEW.TXT/x', new Uint8Array(1)), { code: 'fat.notADirectory' });
      } finally {
        await o.close();
      }
      const bootDir = mshowfat(img, '/EFI/Microsoft/Boot').reduce((n, [a, b]) => n + b - a + 1, 0);
      assert.ok(bootDir * cs >= 40 * 5 * 32, `the directory grew to ${bootDir} clusters`);
      let check = fsck(img);
      assert.ok(check.clean, check.output);
      for (const [p, data] of made) assert.deepEqual(mget(img, dir, p), data, p);
      const listing = mtools('mdir', ['-i', img, '::/']);
      assert.match(listing, /^NEW\s+TXT\s+/m, 'a plain upper-case 8.3 name gets no long name');
      assert.match(listing, /^lower\s+txt\s+\d/m, 'lower case through the NT case bits');
      assert.match(
        listing,
        /^MIXED\s+TXT\s+\d.*Mixed\.Txt$/m,
        'mixed case: basis name without a tail, long name',
      );
      assert.match(listing, /^AMUCHL~1 DAT .*A much longer name with spaces\.data$/m);
      assert.match(listing, /^AMUCHL~2 DAT .*A much longer name with spaces, again\.data$/m);
      assert.match(listing, /^ODD_CH~1 BIN .*odd\+chars;in=the name,x\.bin$/m);
      // mtools writing on top of what we made, then we read again.
      mput(img, dir, '/EFI/Microsoft/Boot/added by mtools.txt', pattern(999, 5));
      mtools('mdel', ['-i', img, '::/EFI/Microsoft/Boot/A much longer name with spaces.data']);
      made.delete('/EFI/Microsoft/Boot/A much longer name with spaces.data');
      made.set('/EFI/Microsoft/Boot/added by mtools.txt', pattern(999, 5));
      check = fsck(img);
      assert.ok(check.clean, check.output);
      o = await openImage(img, { readOnly: true });
      try {
        for (const [p, data] of made) assert.deepEqual(await o.vol.readFile(p), data, p);
      } finally {
        await o.close();
      }
    } finally {
      cleanup();
    }
  });
}

test('fat create: a full FAT12/16 root directory is fat.full, and what was written before stays clean', async () => {
  const { dir, cleanup } = tempDir('fat-rootfull-');
  try {
    const img = mkfat(dir, 'r.img', SPECS.fat12_1k!);
    const o = await openImage(img);
    let made = 0;
    try {
      for (;;) {
        await o.vol.writeFile(`/root entry with a long name ${made}`, pattern(10, made));
        made++;
        assert.ok(made < 1000, 'the root directory must fill up');
      }
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'fat.full');
    } finally {
      await o.close();
    }
    assert.ok(made > 50);
    const check = fsck(img);
    assert.ok(check.clean, check.output);
    assert.match(check.output, new RegExp(`${made} files`));
    assert.deepEqual(mget(img, dir, `/root entry with a long name ${made - 1}`), pattern(10, made - 1));
  } finally {
    cleanup();
  }
});

test('fat create: a non-ASCII long name is stored as UTF-16 (our reader and fsck.fat -n)', async () => {
  const { dir, cleanup } = tempDir('fat-unicode-');
  try {
    const img = mkfat(dir, 'u.img', SPECS.fat16_2k!);
    const name = 'ünïcödé ñame €.txt';
    let o = await openImage(img);
    await o.vol.writeFile(`/${name}`, pattern(10, 1));
    await o.close();
    const check = fsck(img);
    assert.ok(check.clean, check.output);
    o = await openImage(img, { readOnly: true });
    const [entry] = await o.vol.readdir('/');
    await o.close();
    assert.equal(entry?.name, name);
    assert.match(entry?.shortName ?? '', /^[A-Z_]+~1\.TXT$/);
    assert.deepEqual(mget(img, dir, `/${entry!.shortName}`), pattern(10, 1));
  } finally {
    cleanup();
  }
});
