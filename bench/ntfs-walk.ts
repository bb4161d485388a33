// Benchmark (not part of `npm test`): full recursive listing (names, records, sizes) of the many-files volume
// against `fls -r -p` on the same image. Goal: <= 0.5x fls's wall time, peak RSS < 150 MiB.
// Run: npx tsx bench/ntfs-walk.ts [count]   (default 200000; the volume comes from the fixture factory)
import { spawnSync } from 'node:child_process';
import { FileDevice } from '../src/disk/file-device.js';
import { openNtfs } from '../src/fs/ntfs/index.js';
import { CountingDevice } from '../src/disk/counting-device.js';
import { buildManyFilesVolume } from '../test/fixtures/many-files.js';
import { measure } from './measure.js';

const count = Number(process.argv[2] ?? 200000);
const v = await buildManyFilesVolume(count);

const file = await FileDevice.open(v.image, { readOnly: true });
const dev = new CountingDevice(file);
let vol: Awaited<ReturnType<typeof openNtfs>> | undefined;
let entries = 0;
let errors = 0;
let bytes = 0;
// BENCH_SCAN=0: no sequential $MFT pass; BENCH_BATCHES=1: consume walkBatches (one array per folder).
const scan = process.env.BENCH_SCAN !== '0';
const count1 = (it: { error: unknown } | { value: { size: number } }): void => {
  if ('error' in it) errors++;
  else {
    entries++;
    bytes += it.value.size;
  }
};
const { ms: ours, peakRssMiB } = await measure(async () => {
  // Opening is part of the job, as it is for fls.
  vol = await openNtfs(dev);
  if (process.env.BENCH_BATCHES === '1') {
    for await (const batch of vol.walkBatches('/', { scan })) for (const it of batch) count1(it);
  } else {
    for await (const it of vol.walk('/', { scan })) count1(it);
  }
});
await file.close();

const t1 = performance.now();
const fls = spawnSync('fls', ['-r', '-p', v.image], { maxBuffer: 1 << 30 });
const theirs = performance.now() - t1;
const flsLines = fls.stdout
  .toString()
  .split('\n')
  .filter((l) => l && !l.includes('$OrphanFiles')).length;

console.log(
  JSON.stringify(
    {
      files: count,
      mode: `${process.env.BENCH_BATCHES === '1' ? 'walkBatches' : 'walk'}${scan ? ' + scan' : ''}`,
      ourEntries: entries,
      ourErrors: errors,
      dataBytes: bytes,
      ourMs: Math.round(ours),
      flsLines,
      flsMs: Math.round(theirs),
      ratio: +(ours / theirs).toFixed(3),
      peakRssMiB,
      deviceReads: dev.reads,
      deviceMiB: Math.round(dev.bytesRead / 1048576),
      cacheHits: vol!.cache.hits,
      cacheMisses: vol!.cache.misses,
    },
    null,
    1,
  ),
);
