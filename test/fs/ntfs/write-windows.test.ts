// The NTFS writer on copies of the three Windows-made volumes in ../shared/testdata (all clean or with a wiped
// $LogFile, so all writable): random sequences of put (new and existing files), mkdir, rm and mv, including
// Windows' own multi-level index ("Large Directory", > 2000 folders), Win32+DOS name pairs and compressed files
// (which the writer refuses to rewrite: `ntfs.unsupported`, nothing changed). The MBR disk's volume is cut out
// with dd first (the oracles' tools take bare volumes). Oracles as in the other write tests, plus security ids.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { sharedSkip, testdataFile } from '../../helpers/testdata.js';
import { run, sha256, tempDir } from '../../helpers/tools.js';
import { seeded } from './volumes.js';
import {
  assertChecksClean,
  assertNtfsresizeClean,
  copyImage,
  flsDirs,
  flsFiles,
  icatSha,
  ntfscat,
  withReader,
  withWriter,
  applyModelOps,
  modelState,
  modelOps,
} from './write-oracle.js';
import { ntfsrecoverVerdict } from '../../fixtures/inject-check.js';

const skip = sharedSkip();
let t: { dir: string; cleanup: () => void };

const VOLUMES = [
  {
    name: 'syslog',
    file: 'ntfs/windows-volume.raw.gz',
    sectors: null,
    parents: ['', '/Windows/System32/config'],
  },
  {
    name: 'largedir',
    file: 'ntfs/windows-ntfs-compressed-largedir.bin.gz',
    sectors: null,
    parents: ['', '/Large Directory', '/Directory'],
  },
  {
    name: 'mbr',
    file: 'ntfs/windows-mbr-ntfs-index.raw.gz',
    sectors: { skip: 128, count: 59392 },
    parents: ['', '/test_dir'],
  },
] as const;

before(() => {
  if (!skip) t = tempDir('winrescue-ntfs-win-');
});
after(() => t?.cleanup());

function bareVolume(v: (typeof VOLUMES)[number]): string {
  const src = testdataFile(v.file);
  if (!v.sectors) return src;
  const out = join(t.dir, `${v.name}-volume.img`);
  run('dd', [
    `if=${src}`,
    `of=${out}`,
    'bs=512',
    `skip=${v.sectors.skip}`,
    `count=${v.sectors.count}`,
    'status=none',
  ]);
  return out;
}

function securityIdOf(image: string, record: number): number {
  const m = /Security ID: (\d+)/.exec(run('istat', [image, String(record)]).toString());
  return m ? Number(m[1]) : -1;
}

const SIBLINGS_SAMPLED = 16;
const siblingCache = new Map<string, number[]>();

/** Security ids (istat) of the entries sleuthkit lists in `dir` of `image` (a sample), and of `dir` itself. */
function siblingIds(image: string, dir: string): number[] {
  const key = `${image}:${dir}`;
  const hit = siblingCache.get(key);
  if (hit) return hit;
  const inode =
    dir === ''
      ? 5
      : Number(
          run('ifind', ['-n', dir.slice(1), image])
            .toString()
            .trim(),
        );
  const records = run('fls', ['-u', image, String(inode)])
    .toString()
    .split('\n')
    .map((l) => /^\S+ (?:\* )?(\d+)-/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined)
    .slice(0, SIBLINGS_SAMPLED)
    .map(Number);
  const ids = [inode, ...records].map((r) => securityIdOf(image, r));
  siblingCache.set(key, ids);
  return ids;
}

const NAMES = ['new file.txt', 'Zeta.bin', 'a', 'Ünïcödé.txt', 'LONGER NAME THAN EIGHT.DAT'];
const SIZES = [0, 7, 800, 6000, 150000];

for (const v of VOLUMES) {
  test(`Windows-made ${v.name} volume: random put, mkdir, rm, mv`, { skip }, async () => {
    const original = bareVolume(v);
    const originalFiles = flsFiles(original);
    const originalSha = new Map<string, string>();
    for (const [p, r] of originalFiles) if (!p.startsWith('/$')) originalSha.set(p, icatSha(original, r));
    const originalDirs = flsDirs(original);
    const originalLog = ntfsrecoverVerdict({ image: original, offset: 0 });
    let seq = 0;
    await fc.assert(
      fc.asyncProperty(modelOps(NAMES, SIZES, { minLength: 2, maxLength: 8 }), async (ops) => {
        const image = copyImage(original, t.dir);
        const what = `${v.name} sequence ${seq++}: ${JSON.stringify(ops.map((o) => [o.kind, o.pick, o.parent, o.name, o.size]))}`;
        const m = modelState(new Map<string, string | null>(originalSha), originalDirs);
        const { files, dirs, newDirs, touched, created } = m;
        try {
          // A full volume refuses before creating anything; System Volume Information is not ours to touch.
          await withWriter(image, (w) =>
            applyModelOps(w, ops, m, v.parents, seeded, (p) => !p.startsWith('/System Volume Information')),
          );
          await assertChecksClean(image, what);
          assertNtfsresizeClean(image, what);
          // $LogFile as it was (ntfsrecover's verdict), and no record or index block LSN beyond its current LSN.
          assert.equal(ntfsrecoverVerdict({ image, offset: 0 }), originalLog, `${what}: $LogFile verdict`);
          await withReader(image, async (vol) => {
            const current = (await vol.info()).logfile.currentLsn;
            if (current === null) return;
            for await (const r of vol.records()) {
              if ('value' in r)
                assert.ok(r.value.lsn <= current, `${what}: record ${r.value.recordNumber} LSN`);
            }
          });
          const got = flsFiles(image);
          const user = [...got.keys()].filter((p) => !p.startsWith('/$')).sort();
          assert.deepEqual(user, [...files.keys()].sort(), `${what}: fls names`);
          assert.deepEqual([...flsDirs(image)].sort(), [...dirs].sort(), `${what}: fls directories`);
          for (const [p, h] of files) assert.equal(icatSha(image, got.get(p)!), h, `${what}: icat ${p}`);
          for (const p of touched) {
            assert.equal(sha256(ntfscat(image, p)!), files.get(p), `${what}: ntfscat ${p}`);
            const parent = p.slice(0, p.lastIndexOf('/'));
            if (created.has(p) && (parent === '' || originalDirs.has(parent))) {
              const id = securityIdOf(image, got.get(p)!);
              const siblings = siblingIds(original, parent);
              assert.ok(
                siblings.includes(id),
                `${what}: ${p} has security id ${id}, not one of its siblings' (${siblings.join(', ')})`,
              );
            }
          }
          const src = join(t.dir, 'ntfscp-src');
          writeFileSync(src, seeded(2222, 5));
          for (const [k, d] of [...v.parents, ...newDirs].entries()) {
            run('ntfscp', ['-q', image, src, `${d}/ntfs-3g ${k}.bin`]);
          }
          assert.equal(
            flsFiles(image).size,
            got.size + v.parents.length + newDirs.length,
            `${what}: ntfscp on top`,
          );
        } catch (e) {
          console.error(String(e));
          throw e;
        }
      }),
      { numRuns: 3, seed: 9009, endOnFailure: true },
    );
  });
}
