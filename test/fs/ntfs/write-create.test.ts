// NTFS writer, layer 3: creating files and directories (MFT record allocation, $MFT growth, $I30 insertion with
// root -> allocation and block splits). Judged by sleuthkit (fls names, icat contents, istat security ids),
// ntfs-3g (ntfscat through its own B+ tree lookup, ntfsresize cluster accounting, ntfscp writing on top) and our
// check. Every file the sequence did not touch stays byte-identical.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { isWinrescueError } from '../../../src/errors.js';
import { run, sha256, tempDir } from '../../helpers/tools.js';
import { buildVolume, seeded } from './volumes.js';
import {
  assertChecksClean,
  assertNtfsresizeClean,
  copyImage,
  flsDirs,
  flsFiles,
  icatSha,
  ntfscat,
  withWriter,
} from './write-oracle.js';

let t: { dir: string; cleanup: () => void };
let base: string;
before(() => {
  t = tempDir('winrescue-ntfs-create-');
  base = buildVolume({ sizeMiB: 8, bigDir: 150, small: true });
});
after(() => t?.cleanup());

function securityIdOf(image: string, record: number): number {
  const m = /Security ID: (\d+)/.exec(run('istat', [image, String(record)]).toString());
  return m ? Number(m[1]) : -1;
}

/** Ids below 0x100 are the system files' own; Windows gives files ids from 0x100 up. */
const FIRST_VOLUME_SECURITY_ID = 0x100;
const SIBLINGS_SAMPLED = 12;
const siblingCache = new Map<string, number[]>();

/** Security ids (istat) of up to a dozen entries of directory `dir` on the original volume ([] if it is new). */
function siblingSecurityIds(dir: string): number[] {
  const key = dir || '/';
  const hit = siblingCache.get(key);
  if (hit) return hit;
  const prefix = `${dir}/`;
  const records = [...flsFiles(base)]
    .filter(([p]) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
    .slice(0, SIBLINGS_SAMPLED)
    .map(([, r]) => r);
  const ids = records.map((r) => securityIdOf(base, r));
  siblingCache.set(key, ids);
  return ids;
}

interface Model {
  files: Map<string, Uint8Array>;
  dirs: Set<string>;
}

/** Compares the image with the original plus the model, through every oracle. */
async function judge(image: string, model: Model, what: string, sampleEvery = 1): Promise<void> {
  await assertChecksClean(image, what);
  assertNtfsresizeClean(image, what);
  const files = flsFiles(image);
  const dirs = flsDirs(image);
  const original = flsFiles(base);
  const wantFiles = new Set([...original.keys(), ...model.files.keys()]);
  assert.deepEqual([...files.keys()].sort(), [...wantFiles].sort(), `${what}: fls files`);
  const wantDirs = new Set([...flsDirs(base), ...model.dirs]);
  assert.deepEqual([...dirs].sort(), [...wantDirs].sort(), `${what}: fls directories`);
  let i = 0;
  for (const [path, data] of model.files) {
    if (i++ % sampleEvery !== 0) continue;
    assert.equal(icatSha(image, files.get(path)!), sha256(data), `${what}: icat ${path}`);
    const got = ntfscat(image, path);
    assert.ok(got, `${what}: ntfscat finds ${path}`);
    assert.equal(sha256(got), sha256(data), `${what}: ntfscat ${path}`);
    const siblings = siblingSecurityIds(path.slice(0, path.lastIndexOf('/')));
    if (siblings.length > 0) {
      const id = securityIdOf(image, files.get(path)!);
      if (siblings.some((s) => s >= FIRST_VOLUME_SECURITY_ID))
        assert.ok(
          id >= FIRST_VOLUME_SECURITY_ID,
          `${what}: security id of ${path} is ${id}, siblings have ${siblings.join(', ')}`,
        );
      else
        assert.ok(
          siblings.includes(id),
          `${what}: security id ${id} of ${path} is one of its siblings' (${siblings.join(', ')})`,
        );
    }
  }
  for (const [path, rec] of original) {
    if (path.startsWith('/$') || model.files.has(path)) continue;
    if (path.startsWith('/big/') && !path.endsWith('0 of the big directory.dat')) continue;
    assert.equal(icatSha(image, rec), icatSha(base, rec), `${what}: untouched ${path}`);
  }
}

const NAMES = ['new.txt', 'Zeta file.bin', 'aaa', 'Ünïcödé neu.txt', 'big data.dat', 'x'];
const SIZES = [0, 5, 700, 5000, 70000, 1_200_000];

test('model: random sequences of mkdir and put (new and existing names)', async () => {
  let seq = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          kind: fc.constantFrom('put', 'put', 'mkdir'),
          parent: fc.nat(),
          name: fc.constantFrom(...NAMES),
          size: fc.constantFrom(...SIZES),
          seed: fc.integer({ min: 1, max: 1e6 }),
        }),
        { minLength: 1, maxLength: 10 },
      ),
      async (ops) => {
        const image = copyImage(base, t.dir);
        const model: Model = { files: new Map(), dirs: new Set() };
        const what = `sequence ${seq++}: ${JSON.stringify(ops.map((o) => [o.kind, o.parent, o.name, o.size]))}`;
        try {
          await withWriter(image, async (w) => {
            for (const op of ops) {
              const parents = ['', '/a/b', '/big', ...model.dirs];
              const path = `${parents[op.parent % parents.length]}/${op.name}`;
              const lower = path.toLowerCase();
              const clash =
                [...model.dirs].some((d) => d.toLowerCase() === lower) ||
                [...model.files.keys()].some((f) => f.toLowerCase() === lower);
              if (op.kind === 'mkdir') {
                if (clash) {
                  await assert.rejects(
                    w.mkdir(path),
                    (e: unknown) => isWinrescueError(e) && e.code === 'ntfs.exists',
                  );
                  continue;
                }
                await w.mkdir(path);
                model.dirs.add(path);
              } else {
                if ([...model.dirs].some((d) => d.toLowerCase() === lower)) continue;
                const data = seeded(op.size, op.seed);
                await w.writeFile(path, data);
                const existing = [...model.files.keys()].find((f) => f.toLowerCase() === lower);
                model.files.set(existing ?? path, data);
              }
            }
          });
          await judge(image, model, what);
        } catch (e) {
          console.error(String(e));
          throw e;
        }
      },
    ),
    { numRuns: 3, seed: 7007, endOnFailure: true },
  );
});

test('3,000 new names in one directory: index splits, $MFT growth; ntfs-3g writes on top', async () => {
  const image = copyImage(base, t.dir);
  const model: Model = { files: new Map(), dirs: new Set(['/many']) };
  const names = Array.from(
    { length: 3000 },
    (_, i) => `entry ${String((i * 7919) % 3000).padStart(4, '0')} ${'x'.repeat(i % 40)}.txt`,
  );
  await withWriter(image, async (w) => {
    await w.mkdir('/many');
    for (const [i, n] of names.entries()) {
      const data = seeded(i % 50, i + 1);
      await w.writeFile(`/many/${n}`, data);
      model.files.set(`/many/${n}`, data);
    }
  });
  await judge(image, model, '3000 names', 97);
  const src = join(t.dir, 'by-ntfs-3g');
  writeFileSync(src, seeded(3000, 42));
  run('ntfscp', ['-q', image, src, '/many/written by ntfs-3g.bin']);
  const files = flsFiles(image);
  assert.equal(files.size, flsFiles(base).size + 3001, 'sleuthkit lists every name after ntfs-3g wrote');
  assert.equal(icatSha(image, files.get('/many/written by ntfs-3g.bin')!), sha256(seeded(3000, 42)));
});
