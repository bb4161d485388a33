// Fuzz: random byte mutations of a small volume's boot sector, MFT records and index blocks. Every case
// (open, lookups, a read, a full walk) must end in a result or a WinrescueError within 5 s: never another
// exception, never a hang. Runs in memory over a MemoryDevice; the seed is fixed so failures replay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { MemoryDevice } from '../../../src/disk/memory-device.js';
import { WinrescueError } from '../../../src/errors.js';
import { openNtfs } from '../../../src/fs/ntfs/index.js';
import { buildVolume, DRIVER } from './volumes.js';
import { geometry, ifind, istatClusters } from './inject.js';

const CASES = 2000;
const CASE_TIMEOUT_MS = 5000;
/** Records holding the system files, the tree's directories and a first share of its files. */
const MFT_RECORDS_FUZZED = 120;
/** A walk of the fixture yields ~200 items; a mutated one that yields this many has gone wrong. */
const MAX_WALK_ITEMS = 5000;
const PATHS = [
  '/tiny.txt',
  DRIVER,
  '/big/entry 00042 of the big directory.dat',
  '/unicode',
  '/a/b/c/d/e/deep.txt',
];

async function exercise(bytes: Uint8Array): Promise<string> {
  // MemoryDevice.read copies, so a case never sees another case's bytes through a cached view.
  const dev = new MemoryDevice(bytes, { readOnly: true });
  const vol = await openNtfs(dev, { cacheBytes: 256 * 1024 });
  const outcome = `open ok (${vol.warnings.length} warnings)`;
  for (const p of PATHS) {
    try {
      const ref = await vol.lookup(p);
      await vol.stat(ref.record);
      if (!ref.isDir) await (await vol.openStream(ref.record)).read(0, 1024 * 1024);
    } catch (e) {
      if (!(e instanceof WinrescueError)) throw e;
    }
  }
  let items = 0;
  for await (const it of vol.walk('/')) {
    items++;
    if ('error' in it) assert.ok(it.error instanceof WinrescueError);
    assert.ok(items < MAX_WALK_ITEMS, 'walk does not end');
  }
  try {
    await vol.info();
  } catch (e) {
    if (!(e instanceof WinrescueError)) throw e;
  }
  return `${outcome}, walk ${items}`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`case took more than ${ms} ms`)), ms);
    }),
  ]);
}

test(`fuzz: ${CASES} mutated volumes end in a result or a WinrescueError within 5 s each`, async () => {
  const image = buildVolume({ sizeMiB: 8, bigDir: 150, small: true });
  const bytes = new Uint8Array(readFileSync(image));
  const g = geometry(image);
  const mftStart = istatClusters(image, 0, 0x80)[0]! * g.clusterSize;
  const indexClusters = [
    ...istatClusters(image, 5, 0xa0, '$I30'),
    ...istatClusters(image, ifind(image, '/big'), 0xa0, '$I30'),
  ];
  assert.ok(indexClusters.length >= 2, 'root and /big have index blocks');
  const regions: { start: number; length: number }[] = [
    { start: 0, length: 512 },
    { start: mftStart, length: MFT_RECORDS_FUZZED * g.recordSize },
    ...indexClusters.map((c) => ({ start: c * g.clusterSize, length: g.clusterSize })),
  ];
  const mutation = fc.record({
    region: fc.nat({ max: regions.length - 1 }),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
    width: fc.constantFrom(1, 1, 1, 2, 4, 8),
  });
  // Weight MFT records: two thirds of the mutations land there.
  const pick = fc.oneof(
    { weight: 2, arbitrary: mutation.map((m) => ({ ...m, region: 1 })) },
    { weight: 1, arbitrary: mutation },
  );
  const outcomes = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(fc.array(pick, { minLength: 1, maxLength: 8 }), async (muts) => {
      // Mutate in place and put the bytes back afterwards: copying 8 MiB per case would dominate the run.
      const undo: [number, number][] = [];
      for (const m of muts) {
        const r = regions[m.region]!;
        const at = r.start + (m.at % r.length);
        for (let i = 0; i < m.width && at + i < bytes.length; i++) {
          undo.push([at + i, bytes[at + i]!]);
          bytes[at + i] = i === 0 ? m.value : (m.value ^ (0x5a * i)) & 0xff;
        }
      }
      try {
        await withTimeout(exercise(bytes), CASE_TIMEOUT_MS);
        outcomes.set('opened', (outcomes.get('opened') ?? 0) + 1);
      } catch (e) {
        if (!(e instanceof WinrescueError)) throw e;
        outcomes.set(e.code, (outcomes.get(e.code) ?? 0) + 1);
      } finally {
        for (let i = undo.length - 1; i >= 0; i--) bytes[undo[i]![0]] = undo[i]![1];
      }
    }),
    { numRuns: CASES, seed: 20261124, endOnFailure: true },
  );
  // Most cases must get past open, or the fuzzer only ever tests the boot sector.
  assert.ok((outcomes.get('opened') ?? 0) > CASES / 2, JSON.stringify([...outcomes]));
});
