// Whole-volume reads against sleuthkit (fls listing, icat contents) and ntfs-3g (ntfscat lookups by path,
// its own B+ tree walk), on Windows-made volumes and on volumes built here with mkntfs + wimlib.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sharedSkip, testdataFile } from '../../helpers/testdata.js';
import { run, sha256 } from '../../helpers/tools.js';
import {
  buildVolume,
  ADS_BYTES,
  ADS_FILE,
  ADS_NAME,
  EXTENDED_FILE,
  EXTENDED_SIZE,
  seeded,
} from './volumes.js';
import {
  diffLines,
  entryLines,
  flsLines,
  icat,
  mixCase,
  ntfslsLines,
  ntfslsLinesOf,
  openImage,
  walkAll,
} from './oracle.js';
import type { WalkEntry } from '../../../src/fs/ntfs/index.js';
import { buildManyFilesVolume } from '../../fixtures/many-files.js';

/** Files hashed against icat per volume: all of them on small volumes, a sample of the big directory. */
const BIG_DIR_SAMPLE_EVERY = 97;
const NTFSCAT_SAMPLES = 12;

function sampleFiles(entries: WalkEntry[]): WalkEntry[] {
  let i = 0;
  return entries.filter(
    (e) =>
      e.type === 'file' &&
      e.streams.some((s) => s.name === '') &&
      (!e.path.startsWith('/big/') || i++ % BIG_DIR_SAMPLE_EVERY === 0),
  );
}

/** `sleuthkit = false`: the volume is one sleuthkit cannot open (2 MiB clusters): ntfs-3g is the only oracle. */
async function checkVolume(
  image: string,
  offsetSectors = 0,
  sleuthkit = true,
): Promise<{ entries: WalkEntry[] }> {
  const { vol, close } = await openImage(image, offsetSectors);
  try {
    const { entries, errors } = await walkAll(vol);
    assert.deepEqual(errors, []);
    const ours = sleuthkit ? entries.flatMap(entryLines).sort() : ntfslsLinesOf(entries);
    const theirs = sleuthkit ? flsLines(image, offsetSectors) : ntfslsLines(image);
    assert.deepEqual(ours, theirs, diffLines(ours, theirs));
    for (const e of sampleFiles(entries)) {
      // ntfscat -i 0/1 prints $MFT and $MFTMirr from ntfs-3g's memory, fixups undone: not the disk bytes.
      if (!sleuthkit && e.record <= 1) continue;
      const data = await (await vol.openStream(e.record)).readAll();
      assert.equal(data.length, e.size, e.path);
      const oracle = sleuthkit
        ? icat(image, e.record, offsetSectors)
        : run('ntfscat', ['-i', String(e.record), image]);
      assert.equal(
        sha256(data),
        createHash('sha256').update(oracle).digest('hex'),
        `${e.path} (record ${e.record})`,
      );
    }
    // ntfs-3g looks each path up through its own B+ tree walk; we look up the mixed-case spelling.
    const files = entries.filter(
      (e) => e.type === 'file' && e.streams.some((s) => s.name === '') && !e.name.startsWith('$'),
    );
    const step = Math.max(1, Math.floor(files.length / NTFSCAT_SAMPLES));
    for (let i = 0; i < files.length; i += step) {
      const e = files[i]!;
      const ref = await vol.lookup(mixCase(e.path));
      assert.equal(ref.record, e.record, e.path);
      assert.equal(ref.path, e.path);
      const ours = await (await vol.openStream(ref.record)).readAll();
      const theirs = offsetSectors ? null : run('ntfscat', [image, e.path]);
      if (theirs) assert.equal(sha256(ours), sha256(theirs), `ntfscat ${e.path}`);
    }
    return { entries };
  } finally {
    await close();
  }
}

test(
  'Windows volume with LZNT1-compressed files and a 2000-folder directory',
  { skip: sharedSkip() },
  async () => {
    const { entries } = await checkVolume(testdataFile('ntfs/windows-ntfs-compressed-largedir.bin.gz'));
    const compressed = entries.filter((e) => e.streams.some((s) => s.compressed));
    assert.ok(compressed.length >= 2, `compressed files: ${compressed.map((e) => e.path).join(', ')}`);
    assert.ok(entries.filter((e) => e.path.startsWith('/Large Directory/')).length > 2000);
  },
);

test(
  'Windows MBR disk, NTFS at sector 128, index allocation with long names',
  { skip: sharedSkip() },
  async () => {
    await checkVolume(testdataFile('ntfs/windows-mbr-ntfs-index.raw.gz'), 128);
  },
);

test('Windows volume holding Windows/System32/config/syslog', { skip: sharedSkip() }, async () => {
  const image = testdataFile('ntfs/windows-volume.raw.gz');
  await checkVolume(image);
  const { vol, close } = await openImage(image);
  try {
    const data = await vol.readFile('\\WINDOWS\\system32\\CONFIG\\SysLog');
    assert.equal(sha256(data), sha256(run('ntfscat', [image, '/Windows/System32/config/syslog'])));
  } finally {
    await close();
  }
});

for (const spec of [
  { name: 'mkntfs defaults (4 KiB clusters, 512 B sectors)', sizeMiB: 48, bigDir: 2100 },
  { name: '4096-byte sectors', sizeMiB: 48, sectorSize: 4096, bigDir: 300 },
  { name: '64 KiB clusters', sizeMiB: 96, clusterSize: 65536, bigDir: 300 },
  { name: '512-byte clusters', sizeMiB: 48, clusterSize: 512, bigDir: 300 },
  // sleuthkit 4.12 cannot open 2 MiB clusters ("Cannot determine file system type"): ntfs-3g judges that one.
  { name: '2 MiB clusters', sizeMiB: 1024, clusterSize: 2 * 1024 * 1024, bigDir: 50, sleuthkit: false },
]) {
  test(`generated volume: ${spec.name}`, async () => {
    const image = buildVolume(spec);
    const { entries } = await checkVolume(image, 0, spec.sleuthkit ?? true);
    const { vol, close } = await openImage(image);
    try {
      // Named stream written by ntfscp -N; data size 300000 with only 5000 bytes initialized (ntfstruncate).
      const host = await vol.lookup(ADS_FILE);
      assert.deepEqual(await (await vol.openStream(host.record, ADS_NAME)).readAll(), ADS_BYTES);
      const grown = await (await vol.openStream((await vol.lookup(EXTENDED_FILE)).record)).readAll();
      assert.equal(grown.length, EXTENDED_SIZE);
      assert.deepEqual(grown.subarray(0, 5000), seeded(5000, 4));
      assert.ok(grown.subarray(5000).every((b) => b === 0));
      const sparse = entries.find((e) => e.path === '/sparse/holes.bin')!;
      // The hole spans 2 MiB - 8 KiB: with 2 MiB clusters no whole cluster is empty, so nothing is sparse.
      if ((spec.clusterSize ?? 4096) < 1024 * 1024)
        assert.ok(sparse.streams[0]!.sparse, 'wimlib keeps holes: the $DATA is sparse');
      assert.equal(entries.filter((e) => e.path.startsWith('/big/')).length, spec.bigDir);
    } finally {
      await close();
    }
  });
}

test('100,000-file factory volume (fragmented $MFT, 5,000-entry folder, 1,000 hard links): walk equals fls', async () => {
  const v = await buildManyFilesVolume(100000);
  const { vol, close } = await openImage(v.image);
  try {
    const { entries, errors } = await walkAll(vol);
    assert.deepEqual(errors, []);
    const ours = entries.flatMap(entryLines).sort();
    const theirs = flsLines(v.image);
    assert.deepEqual(ours, theirs, diffLines(ours, theirs));
    for (const s of v.manifest.samples.slice(0, 20)) {
      const data = await (await vol.openStream((await vol.lookup(mixCase(s.path))).record)).readAll();
      assert.equal(sha256(data), s.sha256, s.path);
    }
  } finally {
    await close();
  }
});
