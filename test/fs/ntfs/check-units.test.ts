// The check's parts against models (fast-check) and the whole check under fuzzing:
// - ClusterMap/RangeBuilder against a Set model of claimed clusters: union, clusters claimed twice, lost and
//   unmarked clusters against a random on-disk bitmap;
// - NameTable against a Map model;
// - healthy volumes of other geometries (4 KiB sectors, 64 KiB and 512-byte clusters) check clean;
// - mutated volumes: the check ends in a report (or, when the volume cannot be opened, a WinrescueError), never
//   another exception, never a hang; and a report is never "clean" when the mutation hit a record's fixups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { MemoryDevice } from '../../../src/disk/memory-device.js';
import { WinrescueError } from '../../../src/errors.js';
import { openNtfs } from '../../../src/fs/ntfs/index.js';
import { checkNtfs } from '../../../src/fs/ntfs/check/index.js';
import { ClusterMap, RangeBuilder } from '../../../src/fs/ntfs/check/cluster-map.js';
import { NameTable } from '../../../src/fs/ntfs/check/record-table.js';
import { buildVolume } from './volumes.js';
import { geometry, istatClusters } from './inject.js';
import { assertClean, checkVolume } from './check-helpers.js';

test('ClusterMap: claimed clusters, clashes, lost and unmarked match a Set model', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 300 }),
      fc.array(fc.tuple(fc.nat(320), fc.integer({ min: 1, max: 40 })), { maxLength: 20 }),
      fc.uint8Array({ minLength: 40, maxLength: 40 }),
      (total, claims, disk) => {
        const map = new ClusterMap(total);
        const seen = new Set<number>();
        const twice = new Set<number>();
        for (const [lcn, len] of claims) {
          if (lcn >= total) continue;
          let clash = false;
          for (let c = lcn; c < Math.min(lcn + len, total); c++) {
            if (seen.has(c)) {
              twice.add(c);
              clash = true;
            }
            seen.add(c);
          }
          assert.equal(map.claim(lcn, len), clash);
        }
        assert.equal(map.claimedCount, seen.size);
        for (let c = 0; c < total; c++) {
          assert.equal(((map.claimed[c >> 3]! >> (c & 7)) & 1) === 1, seen.has(c));
          assert.equal(((map.conflicts?.[c >> 3] ?? 0) >> (c & 7)) & 1, twice.has(c) ? 1 : 0);
        }
        const lost = new RangeBuilder(1000);
        const unmarked = new RangeBuilder(1000, total);
        map.compareChunk(disk, 0, lost, unmarked);
        const onDisk = (c: number) => ((disk[c >> 3]! >> (c & 7)) & 1) === 1;
        const expand = (r: RangeBuilder) =>
          r.ranges.flatMap(([a, n]) => Array.from({ length: n }, (_, i) => a + i));
        const all = Array.from({ length: total }, (_, c) => c);
        assert.deepEqual(
          expand(lost),
          all.filter((c) => onDisk(c) && !seen.has(c)),
        );
        assert.deepEqual(
          expand(unmarked),
          all.filter((c) => !onDisk(c) && seen.has(c)),
        );
        assert.equal(unmarked.total, expand(unmarked).length);
      },
    ),
    { seed: 5, numRuns: 300 },
  );
});

/** A $FILE_NAME-shaped value holding `name` (length @64, units @66). */
function fileNameValue(name: string): Uint8Array {
  const v = new Uint8Array(66 + name.length * 2);
  v[64] = name.length;
  for (let i = 0; i < name.length; i++) {
    v[66 + 2 * i] = name.charCodeAt(i) & 0xff;
    v[67 + 2 * i] = name.charCodeAt(i) >> 8;
  }
  return v;
}

test('NameTable: every name added is found at its index, absent ones are not', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(5000), fc.nat(50), fc.string({ minLength: 1, maxLength: 12 })), {
        maxLength: 3000,
      }),
      fc.array(fc.tuple(fc.nat(5000), fc.nat(50), fc.string({ minLength: 1, maxLength: 12 })), {
        maxLength: 50,
      }),
      (added, probes) => {
        const t = new NameTable();
        const model = new Map<string, number>();
        for (const [owner, parent, name] of added) {
          const k = `${owner}/${parent}/${name}`;
          t.add(owner, {
            parent,
            parentSequence: 1,
            namespace: 1,
            value: fileNameValue(name),
            length: name.length,
          });
          if (!model.has(k)) model.set(k, model.size);
        }
        assert.equal(t.size, model.size);
        for (const [k, i] of model) {
          const [owner, parent, ...rest] = k.split('/');
          const found = t.find(Number(owner), Number(parent), fileNameValue(rest.join('/')));
          assert.equal(found, i);
          assert.equal(t.owner[found], Number(owner));
        }
        for (const [owner, parent, name] of probes) {
          if (model.has(`${owner}/${parent}/${name}`)) continue;
          assert.equal(t.find(owner, parent, fileNameValue(name)), -1);
        }
      },
    ),
    { seed: 7, numRuns: 40 },
  );
});

for (const spec of [
  { name: '4096-byte sectors', sizeMiB: 48, sectorSize: 4096, bigDir: 300 },
  { name: '64 KiB clusters', sizeMiB: 96, clusterSize: 65536, bigDir: 300 },
  { name: '512-byte clusters', sizeMiB: 48, clusterSize: 512, bigDir: 300 },
]) {
  test(`a healthy volume with ${spec.name} checks clean`, async () => {
    const { name: _name, ...volumeSpec } = spec;
    assertClean(await checkVolume({ image: buildVolume(volumeSpec), offset: 0 }), spec.name);
  });
}

const FUZZ_CASES = 1000;
const CASE_TIMEOUT_MS = 5000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`case took more than ${ms} ms`)), ms);
    }),
  ]);
}

test(`fuzz: ${FUZZ_CASES} mutated volumes give a report or a WinrescueError, within 5 s each`, async (t) => {
  const image = buildVolume({ sizeMiB: 8, bigDir: 150, small: true });
  const bytes = new Uint8Array(readFileSync(image));
  const g = geometry(image);
  const mftStart = istatClusters(image, 0, 0x80)[0]! * g.clusterSize;
  const clean = await checkNtfs(await openNtfs(new MemoryDevice(bytes, { readOnly: true })));
  assert.ok(clean.clean, 'the fuzz fixture itself is healthy');
  const region = fc.oneof(
    fc.integer({ min: 0, max: 511 }),
    fc.integer({ min: mftStart, max: mftStart + 120 * g.recordSize - 1 }),
  );
  let reports = 0;
  let dirtyFound = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(region, fc.nat(255)), { minLength: 1, maxLength: 8 }),
      async (muts) => {
        const saved = muts.map(([at]) => bytes[at]!);
        for (const [at, v] of muts) bytes[at] = v;
        try {
          const dev = new MemoryDevice(bytes, { readOnly: true });
          const r = await withTimeout(
            (async () => checkNtfs(await openNtfs(dev, { cacheBytes: 256 * 1024 })))(),
            CASE_TIMEOUT_MS,
          );
          reports++;
          if (!r.clean) dirtyFound++;
          // A changed stride end of a written record (FILE magic intact) is a torn write: never "clean".
          for (const [at, v] of muts) {
            if (at < mftStart || (at - mftStart) % 512 < 510) continue;
            const base = mftStart + Math.floor((at - mftStart) / g.recordSize) * g.recordSize;
            const magicIntact = !muts.some(([m]) => m >= base && m < base + 4);
            const wasFile = String.fromCharCode(...bytes.subarray(base, base + 4)) === 'FILE';
            const changed = v !== saved[muts.findIndex((m) => m[0] === at)];
            if (magicIntact && wasFile && changed)
              assert.equal(r.clean, false, `torn record at ${base} unreported`);
          }
        } catch (e) {
          if (!(e instanceof WinrescueError)) throw e;
        } finally {
          for (let i = muts.length - 1; i >= 0; i--) bytes[muts[i]![0]] = saved[i]!;
        }
      },
    ),
    { seed: 11, numRuns: FUZZ_CASES },
  );
  assert.ok(reports > FUZZ_CASES / 2, `most mutated volumes still open (${reports})`);
  assert.ok(dirtyFound > FUZZ_CASES / 4, `most mutations are reported (${dirtyFound} of ${reports})`);
  t.diagnostic(`${reports} reports, ${dirtyFound} with problems`);
});
