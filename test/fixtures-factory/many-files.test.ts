// The many-files volume judged by sleuthkit (listing, hard links, content) and ntfs-3g (B+ tree lookups in
// the huge folder, cluster accounting). The 200,000-file size is built only on request (it takes ~30 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildManyFilesVolume } from '../fixtures/many-files.js';
import { run, runStatus, sha256 } from '../helpers/tools.js';
import { flsTree, icat } from './oracles.js';

const BIG = process.env.WINRESCUE_BIG_FIXTURES === '1';

function check(count: number, v: Awaited<ReturnType<typeof buildManyFilesVolume>>): void {
  const fls = flsTree(v.image, 0);
  const listing = readFileSync(join(v.dir, v.manifest.listing), 'utf8').trim().split('\n');
  assert.equal(listing.length, count);
  let files = 0;
  for (const line of listing) {
    const [path, size, linkTo] = line.split('\t') as [string, string, string];
    const e = fls.get(path);
    assert.ok(e && e.type === 'r/r', `fls lists ${path}`);
    if (linkTo) assert.equal(e.inode, fls.get(linkTo)?.inode, `${path} is a hard link of ${linkTo}`);
    else files++;
    void size;
  }
  assert.equal(files + v.manifest.hardLinks, count);
  for (const s of v.manifest.samples) {
    assert.equal(sha256(icat(v.image, 0, fls.get(s.path)!.inode)), s.sha256, s.path);
  }
  const r = runStatus('ntfsresize', ['-i', '-f', '-P', v.image]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
}

test('many-files volume (small): every listed file is where fls finds it, links share records', async () => {
  const count = 2500;
  const v = await buildManyFilesVolume(count);
  check(count, v);
  // ntfs-3g walks the huge folder's B+ tree by collation: names from its start, middle and end resolve.
  const huge = readFileSync(join(v.dir, v.manifest.listing), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${v.manifest.hugeDirectory}/`))
    .map((l) => l.split('\t')[0]!);
  assert.ok(huge.length >= 100, `huge folder holds ${huge.length} names`);
  for (const p of [huge[0]!, huge[Math.floor(huge.length / 2)]!, huge[huge.length - 1]!]) {
    const out = run('ntfsinfo', ['-F', p, v.image]).toString();
    assert.match(out, /Dumping Inode/, p);
  }
});

test(
  'many-files volume: 200,000 files (WINRESCUE_BIG_FIXTURES=1)',
  { skip: BIG ? false : 'set WINRESCUE_BIG_FIXTURES=1' },
  async () => {
    const v = await buildManyFilesVolume(200_000);
    check(200_000, v);
  },
);
