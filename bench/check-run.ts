// Benchmark child (not part of `npm test`): `check` of the many-files volume, compiled, in its own process so its
// wall time and peak RSS are its own. Prints one JSON document. Run: node <bench-build>/bench/check-run.js [count]
import { FileDevice } from '../src/disk/file-device.js';
import { CountingDevice } from '../src/disk/counting-device.js';
import { openNtfs } from '../src/fs/ntfs/index.js';
import { checkNtfs } from '../src/fs/ntfs/check/index.js';
import { buildManyFilesVolume } from '../test/fixtures/many-files.js';
import { measure } from './measure.js';

const count = Number(process.argv[2] ?? 200000);
const v = await buildManyFilesVolume(count);

const file = await FileDevice.open(v.image, { readOnly: true });
const dev = new CountingDevice(file);
const { result: report, ms, peakRssMiB } = await measure(async () => checkNtfs(await openNtfs(dev)));
await file.close();

console.log(
  JSON.stringify({
    image: v.image,
    files: count,
    ms: Math.round(ms),
    peakRssMiB,
    clean: report.clean,
    problems: report.problems.length,
    stats: report.stats,
    deviceReads: dev.reads,
    deviceMiB: Math.round(dev.bytesRead / 1048576),
  }),
);
