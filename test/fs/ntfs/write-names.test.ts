// NTFS writer, layer 4: unlink (files, empty directories, one name of a hard-linked file), rename and move.
// A model of the whole tree (names -> content hash) is compared with sleuthkit (fls -u names, icat contents,
// istat link counts), ntfs-3g (ntfscat finds every moved or written path; ntfsresize cluster accounting; ntfscp
// writes into changed directories afterwards) and our check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { isWinrescueError } from '../../../src/errors.js';
import { run, sha256, tempDir } from '../../helpers/tools.js';
import { buildVolume, DRIVER, DRIVER_TWIN, seeded } from './volumes.js';
import {
  assertChecksClean,
  assertNtfsresizeClean,
  copyImage,
  flsDirs,
  flsFiles,
  icatSha,
  imageSha,
  ntfscat,
  withWriter,
} from './write-oracle.js';

let t: { dir: string; cleanup: () => void };
let base: string;
let originalSha: Map<string, string>;
before(() => {
  t = tempDir('winrescue-ntfs-names-');
  base = buildVolume({ sizeMiB: 8, bigDir: 150, small: true });
  originalSha = new Map();
  for (const [p, r] of flsFiles(base)) if (!p.startsWith('/$')) originalSha.set(p, icatSha(base, r));
});
after(() => t?.cleanup());

function linksOf(image: string, record: number): number {
  return Number(/Links: (\d+)/.exec(run('istat', [image, String(record)]).toString())![1]);
}

test('unlink one name of a hard-linked file: the other name keeps the data, link count drops to 1', async () => {
  const image = copyImage(base, t.dir);
  const before = flsFiles(image);
  const rec = before.get(DRIVER)!;
  assert.equal(before.get(DRIVER_TWIN), rec, 'the fixture has the two names on one record');
  assert.equal(linksOf(image, rec), 2);
  const data = icatSha(image, rec);
  await withWriter(image, (w) => w.unlink(DRIVER));
  const after = flsFiles(image);
  assert.equal(after.has(DRIVER), false);
  assert.equal(after.get(DRIVER_TWIN), rec);
  assert.equal(linksOf(image, rec), 1);
  assert.equal(icatSha(image, rec), data);
  assert.equal(sha256(ntfscat(image, DRIVER_TWIN)!), data);
  await assertChecksClean(image, 'hard link unlinked');
  assertNtfsresizeClean(image, 'hard link unlinked');
  // The last name goes: the file goes, its clusters are freed (ntfsresize would see them otherwise).
  await withWriter(image, (w) => w.unlink(DRIVER_TWIN));
  assert.equal(flsFiles(image).has(DRIVER_TWIN), false);
  await assertChecksClean(image, 'both names unlinked');
  assertNtfsresizeClean(image, 'both names unlinked');
});

test('a directory that is not empty is not removed, nothing written', async () => {
  const image = copyImage(base, t.dir);
  const sha = imageSha(image);
  await assert.rejects(
    withWriter(image, (w) => w.unlink('/a/b')),
    (e: unknown) => isWinrescueError(e) && e.code === 'ntfs.notEmpty',
  );
  await assert.rejects(
    withWriter(image, (w) => w.rename('/a', '/a/b/c/inside')),
    (e: unknown) => isWinrescueError(e) && e.code === 'ntfs.refused',
  );
  assert.equal(imageSha(image), sha);
});

const NEW_NAMES = ['moved.txt', 'Other Name.bin', 'z', 'ä neu.txt'];
const PARENTS = ['', '/a/b', '/big', '/Windows/System32'];

test('model: random sequences of put, mkdir, rm, mv', async () => {
  let seq = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          kind: fc.constantFrom('put', 'mkdir', 'rm', 'mv', 'mv', 'rmdir'),
          pick: fc.nat(),
          parent: fc.nat(),
          name: fc.constantFrom(...NEW_NAMES),
          size: fc.constantFrom(0, 10, 900, 9000, 200000),
          seed: fc.integer({ min: 1, max: 1e6 }),
        }),
        { minLength: 1, maxLength: 12 },
      ),
      async (ops) => {
        const image = copyImage(base, t.dir);
        const files = new Map<string, string>(originalSha);
        const dirs = new Set(flsDirs(base));
        const newDirs = new Set<string>();
        const touched = new Set<string>();
        const changedDirs = new Set<string>();
        const what = `sequence ${seq++}: ${JSON.stringify(ops.map((o) => [o.kind, o.pick, o.parent, o.name, o.size]))}`;
        const taken = (p: string): boolean =>
          [...files.keys(), ...dirs].some((x) => x.toLowerCase() === p.toLowerCase());
        try {
          await withWriter(image, async (w) => {
            for (const op of ops) {
              const parents = [...PARENTS, ...newDirs];
              const parent = parents[op.parent % parents.length]!;
              const target = `${parent}/${op.name}`;
              const names = [...files.keys()].filter(
                (p) => !p.startsWith('/$') && p !== DRIVER && p !== DRIVER_TWIN,
              );
              const pick = names[op.pick % names.length]!;
              if (op.kind === 'put') {
                if (dirs.has(target) || (taken(target) && !files.has(target))) continue;
                const data = seeded(op.size, op.seed);
                await w.writeFile(target, data);
                files.set(target, sha256(data));
                touched.add(target);
              } else if (op.kind === 'mkdir') {
                if (taken(target)) continue;
                await w.mkdir(target);
                dirs.add(target);
                newDirs.add(target);
              } else if (op.kind === 'rm') {
                await w.unlink(pick);
                files.delete(pick);
                touched.delete(pick);
              } else if (op.kind === 'mv') {
                if (taken(target)) continue;
                await w.rename(pick, target);
                files.set(target, files.get(pick)!);
                files.delete(pick);
                touched.delete(pick);
                touched.add(target);
              } else {
                const empty = [...newDirs].find(
                  (d) => ![...files.keys(), ...dirs].some((x) => x.startsWith(`${d}/`)),
                );
                if (!empty) continue;
                await w.unlink(empty);
                dirs.delete(empty);
                newDirs.delete(empty);
              }
              changedDirs.add(parent || '/');
            }
          });
          await assertChecksClean(image, what);
          assertNtfsresizeClean(image, what);
          const got = flsFiles(image);
          const gotUser = [...got.keys()]
            .filter((p) => !p.startsWith('/$') && !p.startsWith('/big/entry'))
            .sort();
          const want = [...files.keys(), DRIVER, DRIVER_TWIN]
            .filter((p) => !p.startsWith('/big/entry'))
            .sort();
          assert.deepEqual(gotUser, [...new Set(want)].sort(), `${what}: fls names`);
          assert.deepEqual([...flsDirs(image)].sort(), [...dirs].sort(), `${what}: fls directories`);
          for (const [p, h] of files) {
            // The 150 look-alikes of /big are compared by name above; their contents only when moved or written.
            if (p.startsWith('/big/entry') && !touched.has(p)) continue;
            assert.equal(icatSha(image, got.get(p)!), h, `${what}: icat ${p}`);
          }
          for (const p of touched)
            assert.equal(sha256(ntfscat(image, p)!), files.get(p), `${what}: ntfscat ${p}`);
          // ntfs-3g writes into every directory we changed; sleuthkit still reads everything.
          const src = join(t.dir, 'ntfscp-src');
          writeFileSync(src, seeded(1234, 99));
          let k = 0;
          for (const d of changedDirs) {
            if (d !== '/' && !dirs.has(d)) continue;
            run('ntfscp', ['-q', image, src, `${d === '/' ? '' : d}/ntfs-3g wrote ${k++}.bin`]);
          }
          assert.equal(flsFiles(image).size, got.size + k, `${what}: sleuthkit lists ntfs-3g's files too`);
        } catch (e) {
          console.error(String(e));
          throw e;
        }
      },
    ),
    { numRuns: 5, seed: 8008, endOnFailure: true },
  );
});

test('1,200 names created, 1,100 removed in random order: entries leave index nodes and empty leaves go', async () => {
  const image = copyImage(base, t.dir);
  const n = 1200;
  const names = Array.from(
    { length: n },
    (_, i) => `entry ${String((i * 7919) % n).padStart(4, '0')} ${'x'.repeat(i % 40)}.txt`,
  );
  const order = names
    .map((name, i) => [seeded(4, i + 1).reduce((a, b) => a * 256 + b, 0), name] as const)
    .sort((a, b) => a[0] - b[0])
    .map((a) => a[1]);
  const gone = new Set(order.slice(0, 1100));
  await withWriter(image, async (w) => {
    await w.mkdir('/many');
    for (const name of names) await w.writeFile(`/many/${name}`, seeded(5, 1));
    for (const name of gone) await w.unlink(`/many/${name}`);
  });
  await assertChecksClean(image, 'removals');
  assertNtfsresizeClean(image, 'removals');
  const left = [...flsFiles(image).keys()].filter((p) => p.startsWith('/many/')).sort();
  assert.deepEqual(
    left,
    names
      .filter((x) => !gone.has(x))
      .map((x) => `/many/${x}`)
      .sort(),
  );
  for (const p of left) assert.ok(ntfscat(image, p), `ntfscat finds ${p}`);
});
