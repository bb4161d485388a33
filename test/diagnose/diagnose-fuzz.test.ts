// diagnose on damage nobody planned: random bytes changed in the MFT records of the boot files, in the SYSTEM hive
// and in the BCD. Whatever the bytes, diagnose returns a report or a typed error — never another exception, never
// a hang — and it never writes (the image's mtime is unchanged).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { buildDisk, copyDisk, ensureSigningKeys, FIXTURES_DIR } from '../fixtures/index.js';
import { flsTree } from '../fixtures-factory/oracles.js';
import { run, tempDir } from '../helpers/tools.js';
import { diagnose } from '../../src/api/diagnose.js';
import { WinrescueError } from '../../src/errors.js';

const keys = ensureSigningKeys(FIXTURES_DIR);

/** Byte ranges worth damaging: the boot files' MFT records, and the first 64 KiB of SYSTEM's data. */
function targets(image: string, start: number, records: number[], mftOffset: number, recordSize: number) {
  const out = records.map((r) => ({ at: start + mftOffset + r * recordSize, len: recordSize }));
  const sys = flsTree(image, start).get('/Windows/System32/config/SYSTEM')!;
  const istat = run('istat', ['-o', String(start / 512), image, String(sys.inode)]).toString();
  const firstCluster = Number(/\n(\d+) /.exec(istat.slice(istat.indexOf('$DATA')))?.[1] ?? NaN);
  return { records: out, systemAt: Number.isNaN(firstCluster) ? null : firstCluster };
}

test('fuzz: 40 random damages to boot-file records and the SYSTEM hive never escape as untyped errors or writes', async () => {
  const disk = await buildDisk({ gen: 1, flavour: 'synthetic' });
  const { dir, cleanup } = tempDir();
  try {
    const mine = copyDisk(disk, dir);
    const healthy = await diagnose(mine.path, { trustRoots: [keys.caPem] });
    assert.equal(healthy.cause, 'healthy');
    const g = disk.manifest.windows.geometry;
    const records = healthy.files
      .filter((f) => f.volume === 'windows' && f.record !== null)
      .map((f) => f.record!);
    const t = targets(mine.path, mine.offset, records, g.mftLcn * g.clusterSize, g.mftRecordSize);
    const regions = [
      ...t.records,
      ...(t.systemAt !== null ? [{ at: mine.offset + t.systemAt * g.clusterSize, len: 65536 }] : []),
    ];
    const outcomes = new Map<string, number>();
    const fd = openSync(mine.path, 'r+');
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: regions.length - 1 }),
          fc.array(fc.record({ pos: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
            minLength: 1,
            maxLength: 8,
          }),
          async (which, edits) => {
            const region = regions[which]!;
            const saved = edits.map((e) => {
              const at = region.at + (e.pos % region.len);
              const old = Buffer.alloc(1);
              readSync(fd, old, 0, 1, at);
              writeSync(fd, Buffer.from([e.value]), 0, 1, at);
              return { at, old };
            });
            const before = statSync(mine.path, { bigint: true }).mtimeNs;
            const t0 = Date.now();
            try {
              const r = await diagnose(mine.path, { trustRoots: [keys.caPem] });
              outcomes.set(r.cause, (outcomes.get(r.cause) ?? 0) + 1);
            } catch (e) {
              if (!(e instanceof WinrescueError)) throw e;
              outcomes.set(e.code, (outcomes.get(e.code) ?? 0) + 1);
            } finally {
              assert.ok(Date.now() - t0 < 15_000, 'one diagnosis took more than 15 s');
              assert.equal(
                statSync(mine.path, { bigint: true }).mtimeNs,
                before,
                'diagnose wrote to the disk',
              );
              for (const s of saved.reverse()) writeSync(fd, s.old, 0, 1, s.at);
            }
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      closeSync(fd);
    }
    console.log(`outcomes: ${JSON.stringify([...outcomes])}`);
    // The damage was seen: not every case can have come back healthy.
    assert.ok(
      [...outcomes.keys()].some((k) => k !== 'healthy'),
      JSON.stringify([...outcomes]),
    );
  } finally {
    cleanup();
  }
});
