// Pure parsers against models and against orderings/values Windows produced: runlists (encode/decode model),
// update sequence arrays (write then read restores; a torn stride is caught), filename collation (the order
// of a Windows-made 2000-entry index), restart pages (ntfsrecover's verdict on Windows logs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { WinrescueError } from '../../../src/errors.js';
import {
  applyFixupsOnRead,
  applyFixupsOnWrite,
  compareFileNames,
  decodeRunlist,
  encodeRunlist,
  logfileStatus,
  parseFileName,
  type DataRun,
} from '../../../src/fs/ntfs/index.js';
import { sharedSkip, testdataFile } from '../../helpers/testdata.js';
import { runStatus } from '../../helpers/tools.js';
import { openImage } from './oracle.js';

const runsArb = fc
  .array(
    fc.record({
      length: fc.integer({ min: 1, max: 2 ** 40 }),
      lcn: fc.option(fc.integer({ min: 0, max: 2 ** 44 }), { nil: null }),
    }),
    {
      minLength: 0,
      maxLength: 40,
    },
  )
  .map((rs) => {
    let vcn = 0;
    return rs.map((r): DataRun => {
      const run = { vcn, lcn: r.lcn, length: r.length };
      vcn += r.length;
      return run;
    });
  });

test('runlists: decode(encode(runs)) gives the runs back, sparse runs included', () => {
  fc.assert(
    fc.property(runsArb, (runs) => {
      const bytes = encodeRunlist(runs);
      const total = Math.max(1, ...runs.map((r) => (r.lcn ?? 0) + r.length));
      assert.deepEqual(
        decodeRunlist(bytes, 0, bytes.length, 0, { base: 0, label: 't', totalClusters: total }),
        runs,
      );
    }),
    { numRuns: 500 },
  );
});

test('runlists: a run ending past the volume is ntfs.badRunlist; a missing terminator too', () => {
  fc.assert(
    fc.property(
      runsArb.filter((rs) => rs.some((r) => r.lcn !== null)),
      (runs) => {
        const bytes = encodeRunlist(runs);
        const end = Math.max(...runs.filter((r) => r.lcn !== null).map((r) => r.lcn! + r.length));
        assert.throws(
          () => decodeRunlist(bytes, 0, bytes.length, 0, { base: 0, label: 't', totalClusters: end - 1 }),
          (e: unknown) => e instanceof WinrescueError && e.code === 'ntfs.badRunlist',
        );
        assert.throws(
          () => decodeRunlist(bytes, 0, bytes.length - 1, 0, { base: 0, label: 't', totalClusters: end }),
          (e: unknown) => e instanceof WinrescueError && e.code === 'ntfs.badRunlist',
        );
      },
    ),
    { numRuns: 200 },
  );
});

test('update sequence: write then read restores every stride; a changed stride end is ntfs.tornRecord', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(1024, 4096),
      fc.uint8Array({ minLength: 4096, maxLength: 4096 }),
      fc.nat(),
      (size, fill, which) => {
        const rec = fill.slice(0, size);
        rec.set([0x46, 0x49, 0x4c, 0x45, 0x30, 0, size / 512 + 1, 0]);
        const original = rec.slice();
        const where = { label: 'MFT record 7', structure: 'ntfs.mftRecord', base: 0x1000, record: 7 };
        applyFixupsOnWrite(rec, where);
        const stride = (which % (size / 512)) + 1;
        const copy = rec.slice();
        applyFixupsOnRead(copy, where);
        const usaEnd = 0x30 + 2 * (size / 512 + 1);
        assert.deepEqual(copy.subarray(usaEnd), original.subarray(usaEnd));
        rec[stride * 512 - 2] = rec[stride * 512 - 2]! ^ 0xff;
        assert.throws(
          () => applyFixupsOnRead(rec, where),
          (e: unknown) =>
            e instanceof WinrescueError &&
            e.code === 'ntfs.tornRecord' &&
            /^MFT record 7 at 0x1000: update sequence should be/.test(e.message),
        );
      },
    ),
    { numRuns: 200 },
  );
});

test(
  'filename collation orders names exactly as Windows ordered its 2000-entry index',
  { skip: sharedSkip() },
  async () => {
    const { vol, close } = await openImage(testdataFile('ntfs/windows-ntfs-compressed-largedir.bin.gz'));
    try {
      const upcase = await vol.upcase();
      const dir = await vol.lookup('/Large Directory');
      const tree = await vol.index(await vol.file(dir.record));
      let prev: Uint16Array | null = null;
      let n = 0;
      for await (const e of tree.entries()) {
        const units = parseFileName(e.key).units;
        if (prev)
          assert.ok(
            compareFileNames(prev, units, upcase) < 0,
            `${String.fromCharCode(...prev)} < ${String.fromCharCode(...units)}`,
          );
        prev = units;
        n++;
      }
      assert.ok(n > 2000);
      // Case-insensitive: "directory 1000" and "DIRECTORY 1000" collate equal, and both find the entry.
      const a = await vol.lookup('/large directory/DIRECTORY 1000');
      assert.equal(a.path, '/Large Directory/Directory 1000');
    } finally {
      await close();
    }
  },
);

for (const [file, verdict] of [
  ['ntfs/LogFile_win7.bin.gz', 'clean'],
  ['ntfs/LogFile_win10.bin.gz', 'dirty'],
] as const) {
  test(
    `restart pages of ${file}: ${verdict}, as ntfsrecover says, and the same replay start`,
    { skip: sharedSkip() },
    () => {
      const path = testdataFile(file);
      const out = runStatus('ntfsrecover', ['-f', '-v', path]).stdout;
      const m = /Using (initial|alternate) restart page, syncing from 0x([0-9a-f]+), (clean|dirty)/.exec(out);
      assert.ok(m, out);
      assert.equal(m[3], verdict);
      const b = new Uint8Array(readFileSync(path));
      const st = logfileStatus(b.subarray(0, 4096), b.subarray(4096, 8192), 0);
      assert.equal(st.state, m[3]);
      assert.equal(st.page, m[1] === 'initial' ? 0 : 1);
      assert.equal(st.oldestLsn, BigInt('0x' + m[2]));
    },
  );
}
