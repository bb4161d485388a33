// NTFS writer, layer 1: refusals (nothing written: image sha256 unchanged) and replacing the data of existing
// files (overwrite in place, grow and shrink, resident <-> non-resident). Judged by sleuthkit (icat of every file,
// the fls listing), ntfs-3g (ntfscat through its own B+ tree lookup, ntfsresize cluster accounting) and our check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { isWinrescueError } from '../../../src/errors.js';
import { dirtyLogFile, ntfsrecoverVerdict } from '../../fixtures/inject-check.js';
import { run, sha256, tempDir } from '../../helpers/tools.js';
import { buildVolume, seeded } from './volumes.js';
import {
  assertChecksClean,
  assertNtfsresizeClean,
  copyImage,
  flsFiles,
  icatSha,
  imageSha,
  ntfscat,
  withReader,
  withWriter,
} from './write-oracle.js';

let t: { dir: string; cleanup: () => void };
let base: string;
before(() => {
  t = tempDir('winrescue-ntfs-write-');
  base = buildVolume({ sizeMiB: 8, bigDir: 150, small: true });
});
after(() => t?.cleanup());

async function assertRefused(image: string, what: string): Promise<void> {
  const before = imageSha(image);
  await assert.rejects(
    withWriter(image, async (w) => w.writeFile('/tiny.txt', new Uint8Array([1, 2, 3]))),
    (e: unknown) => isWinrescueError(e) && e.code === 'ntfs.refused' && e.exitCode === 1,
    what,
  );
  assert.equal(imageSha(image), before, `${what}: the image must be unchanged`);
}

test('a dirty $LogFile is refused, nothing written; forcing writes', async () => {
  const image = copyImage(base, t.dir);
  dirtyLogFile({ image, offset: 0 }).confirm();
  await assertRefused(image, 'dirty log');
  await withWriter(image, (w) => w.writeFile('/tiny.txt', new Uint8Array([7])), {
    force: { dirtyLog: true },
  });
  assert.deepEqual([...ntfscat(image, '/tiny.txt')!], [7]);
  // Forcing discarded the log: it is reset (all 0xFF), so ntfsrecover no longer finds a dirty restart page.
  assert.notEqual(ntfsrecoverVerdict({ image, offset: 0 }), 'dirty');
  await withReader(image, async (vol) => assert.equal((await vol.info()).logfile.state, 'empty'));
  await assertChecksClean(image, 'forced dirty log');
});

test('a hibernated Windows (hiberfil.sys "HIBR", written by ntfscp) is refused, nothing written', async () => {
  const image = copyImage(base, t.dir);
  const hib = join(t.dir, 'hiberfil');
  writeFileSync(hib, new Uint8Array([...new TextEncoder().encode('HIBR'), ...seeded(8188, 9)]));
  run('ntfscp', ['-q', image, hib, '/hiberfil.sys']);
  await assertRefused(image, 'hibernated');
});

test('a BitLocker volume is refused before anything is read past its boot sector', async () => {
  const image = copyImage(base, t.dir);
  const fd = new TextEncoder().encode('-FVE-FS-');
  const b = run('dd', [`if=${image}`, 'bs=512', 'count=1', 'status=none']);
  b.set(fd, 3);
  writeFileSync(join(t.dir, 'boot'), b);
  run('dd', [`if=${join(t.dir, 'boot')}`, `of=${image}`, 'conv=notrunc', 'status=none']);
  await assertRefused(image, 'BitLocker');
});

/** Sizes on both sides of the resident limit, of a cluster, and a few clusters to a couple of MiB. */
const SIZES = [0, 1, 300, 600, 900, 4095, 4096, 4097, 20000, 300000, 1_500_000];
const TARGETS = [
  '/tiny.txt',
  '/empty.txt',
  '/a/b/c/d/e/deep.txt',
  '/Windows/System32/drivers/drv03.sys',
  '/Windows/System32/config/SYSTEM',
];

test('model: random sequences of data replacements (grow, shrink, resident <-> non-resident)', async () => {
  const originalFiles = flsFiles(base);
  const originalSha = new Map([...originalFiles].map(([p, r]) => [p, icatSha(base, r)]));
  let seq = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          target: fc.constantFrom(...TARGETS),
          size: fc.constantFrom(...SIZES),
          seed: fc.integer({ min: 1, max: 1e6 }),
        }),
        {
          minLength: 1,
          maxLength: 8,
        },
      ),
      async (ops) => {
        try {
          await runSequence(ops);
        } catch (e) {
          console.error(String(e));
          throw e;
        }
      },
    ),
    { numRuns: 5, seed: 6006 },
  );
  async function runSequence(ops: { target: string; size: number; seed: number }[]): Promise<void> {
    const image = copyImage(base, t.dir);
    const what = `sequence ${seq++}: ${ops.map((o) => `${o.target}=${o.size}`).join(', ')}`;
    const model = new Map<string, Uint8Array>();
    await withWriter(image, async (w) => {
      for (const op of ops) {
        const data = seeded(op.size, op.seed);
        await w.writeFile(op.target, data);
        model.set(op.target, data);
      }
    });
    await assertChecksClean(image, what);
    assertNtfsresizeClean(image, what);
    const files = flsFiles(image);
    assert.deepEqual([...files.keys()].sort(), [...originalFiles.keys()].sort(), `${what}: fls names`);
    for (const [path, rec] of files) {
      // Metadata files ($MFT, $Bitmap, ...) change with every write; user files must not.
      if (path.startsWith('/$')) continue;
      // The 150 look-alike files of /big: a few suffice (icat per file dominates the run time).
      if (path.startsWith('/big/') && !path.endsWith('0 of the big directory.dat')) continue;
      const want = model.has(path) ? sha256(model.get(path)!) : originalSha.get(path);
      assert.equal(icatSha(image, rec), want, `${what}: icat ${path}`);
    }
    // The parent's index entry carries the new size (the duplicated $FILE_NAME information).
    await withReader(image, async (vol) => {
      for (const [path, data] of model) {
        const slash = path.lastIndexOf('/');
        const dir = await vol.lookup(path.slice(0, slash) || '/');
        let size = -1;
        for await (const e of vol.readdir(dir.record)) if (e.name === path.slice(slash + 1)) size = e.size;
        assert.equal(size, data.length, `${what}: index copy of the size of ${path}`);
      }
    });
    for (const [path, data] of model) {
      const got = ntfscat(image, path);
      assert.ok(got, `${what}: ntfscat finds ${path}`);
      assert.equal(sha256(got), sha256(data), `${what}: ntfscat ${path}`);
    }
  }
});

test('8 MiB: a new file, an existing 3 MiB file grown to 8 MiB, then shrunk into its record', async () => {
  const image = copyImage(buildVolume({ sizeMiB: 48, bigDir: 2100 }), t.dir);
  const eight = seeded(8 * 1024 * 1024, 77);
  const grown = seeded(8 * 1024 * 1024 - 3, 78);
  await withWriter(image, async (w) => {
    await w.writeFile('/eight.bin', eight);
    await w.writeFile('/Windows/System32/ntoskrnl.exe', grown);
  });
  await assertChecksClean(image, '8 MiB writes');
  assertNtfsresizeClean(image, '8 MiB writes');
  assert.equal(sha256(ntfscat(image, '/eight.bin')!), sha256(eight));
  assert.equal(sha256(ntfscat(image, '/Windows/System32/ntoskrnl.exe')!), sha256(grown));
  const files = flsFiles(image);
  assert.equal(icatSha(image, files.get('/eight.bin')!), sha256(eight));
  await withWriter(image, (w) => w.writeFile('/Windows/System32/ntoskrnl.exe', seeded(100, 79)));
  await assertChecksClean(image, 'shrunk');
  assertNtfsresizeClean(image, 'shrunk');
  assert.equal(sha256(ntfscat(image, '/Windows/System32/ntoskrnl.exe')!), sha256(seeded(100, 79)));
});
