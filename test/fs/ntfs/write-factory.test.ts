// The NTFS writer on the fixture factory's Windows volume (Gen1, "real" flavour: a Windows-like tree of 500+
// files, WinSxS, drivers, hives; 256 MiB, cut out of the disk as a bare volume): random sequences of put
// (0 B to 8 MiB, new and existing files), mkdir, rm and mv, judged by our check, ntfsresize, fls (names exactly
// the model's), icat (touched files and a sample of the rest), ntfscat (every touched path) and ntfscp on top.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildDisk, extractWindowsVolume } from '../../fixtures/factory.js';
import { sharedSkip } from '../../helpers/testdata.js';
import { run, sha256, tempDir } from '../../helpers/tools.js';
import { seeded } from './volumes.js';
import {
  assertChecksClean,
  assertNtfsresizeClean,
  flsDirs,
  flsFiles,
  icatSha,
  ntfscat,
  withWriter,
  applyModelOps,
  modelState,
  modelOps,
} from './write-oracle.js';

const skip = sharedSkip();
let t: { dir: string; cleanup: () => void };
before(() => {
  if (!skip) t = tempDir('winrescue-ntfs-factory-');
});
after(() => t?.cleanup());

const PARENTS = ['', '/Windows/System32/drivers', '/Windows/System32/config', '/Users/Public/Documents'];
const NAMES = ['new.sys', 'Repair Log.txt', 'x', 'ÄÖÜ.bin'];
const SIZES = [0, 600, 4096, 100000, 8 * 1024 * 1024];
const SAMPLE = 40;

test('factory Windows volume: random put (to 8 MiB), overwrite, mkdir, rm, mv', { skip }, async () => {
  const original = join(t.dir, 'original.img');
  extractWindowsVolume(await buildDisk({ gen: 1, flavour: 'real' }), original);
  const originalFiles = flsFiles(original);
  const originalDirs = flsDirs(original);
  const userFiles = [...originalFiles.keys()].filter((p) => !p.startsWith('/$'));
  let seq = 0;
  await fc.assert(
    fc.asyncProperty(modelOps(NAMES, SIZES, { minLength: 3, maxLength: 10 }), async (ops) => {
      const image = join(t.dir, `copy-${seq}.img`);
      run('cp', ['--sparse=always', original, image]);
      const what = `sequence ${seq++}: ${JSON.stringify(ops.map((o) => [o.kind, o.pick, o.parent, o.name, o.size]))}`;
      // path -> sha256 for files whose content the model knows; null: as in the original volume.
      const m = modelState(new Map<string, string | null>(userFiles.map((p) => [p, null])), originalDirs);
      const { files, origin, dirs, newDirs, touched } = m;
      try {
        await withWriter(image, (w) => applyModelOps(w, ops, m, PARENTS, seeded));
        await assertChecksClean(image, what);
        assertNtfsresizeClean(image, what);
        const got = flsFiles(image);
        const user = [...got.keys()].filter((p) => !p.startsWith('/$')).sort();
        assert.deepEqual(user, [...files.keys()].sort(), `${what}: fls names`);
        assert.deepEqual([...flsDirs(image)].sort(), [...dirs].sort(), `${what}: fls directories`);
        const sample = [...files.keys()].filter(
          (p, i) => touched.has(p) || i % Math.ceil(files.size / SAMPLE) === 0,
        );
        for (const p of sample) {
          const want = files.get(p) ?? icatSha(original, originalFiles.get(origin.get(p)!)!);
          assert.equal(icatSha(image, got.get(p)!), want, `${what}: icat ${p}`);
          if (touched.has(p)) assert.equal(sha256(ntfscat(image, p)!), want, `${what}: ntfscat ${p}`);
        }
        const src = join(t.dir, 'ntfscp-src');
        writeFileSync(src, seeded(3333, 6));
        for (const [k, d] of [...PARENTS, ...newDirs].entries())
          run('ntfscp', ['-q', image, src, `${d}/ntfs-3g ${k}.bin`]);
        assert.equal(
          flsFiles(image).size,
          got.size + PARENTS.length + newDirs.length,
          `${what}: ntfscp on top`,
        );
      } catch (e) {
        console.error(String(e));
        throw e;
      } finally {
        run('rm', ['-f', image]);
      }
    }),
    { numRuns: 3, seed: 1010, endOnFailure: true },
  );
});
