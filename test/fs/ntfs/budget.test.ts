// Read budget: diagnosis runs over HTTP range reads, so opening a volume and reading one file must touch only
// the boot sector, $MFT record 0, the records and index blocks on the path and $UpCase once — never a scan.
// Figures are pinned; the device is wrapped in CountingDevice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FileDevice } from '../../../src/disk/file-device.js';
import { CountingDevice } from '../../../src/disk/counting-device.js';
import { openNtfs } from '../../../src/fs/ntfs/index.js';
import { run, sha256 } from '../../helpers/tools.js';
import { buildVolume, DRIVER } from './volumes.js';
import { buildManyFilesVolume } from '../../fixtures/many-files.js';

const KiB = 1024;
/** Boot sector, a handful of 1 KiB records, $UpCase (128 KiB) and a few 4 KiB index blocks. */
const METADATA_BUDGET = 256 * KiB;
const MAX_DEVICE_READS = 40;

async function budgetFor(
  image: string,
  path: string,
): Promise<{ bytes: number; reads: number; size: number; sha: string }> {
  const file = await FileDevice.open(image, { readOnly: true });
  const dev = new CountingDevice(file);
  try {
    const vol = await openNtfs(dev);
    const ref = await vol.lookup(path);
    const data = await (await vol.openStream(ref.record)).readAll();
    return { bytes: dev.bytesRead, reads: dev.reads, size: data.length, sha: sha256(data) };
  } finally {
    await file.close();
  }
}

test('open + lookup + read of a System32 driver reads the file plus < 256 KiB of metadata', async (t) => {
  const image = buildVolume({ sizeMiB: 48, bigDir: 2100 });
  const r = await budgetFor(image, DRIVER);
  assert.equal(r.sha, sha256(run('ntfscat', [image, DRIVER])));
  t.diagnostic(`${r.bytes - r.size} metadata bytes + ${r.size} file bytes in ${r.reads} device reads`);
  assert.ok(r.bytes - r.size <= METADATA_BUDGET, `metadata bytes ${r.bytes - r.size}`);
  assert.ok(r.reads <= MAX_DEVICE_READS, `device reads ${r.reads}`);
});

test('on a 100,000-file volume, a file in the 5,000-entry folder costs the same budget', async (t) => {
  const v = await buildManyFilesVolume(100000);
  const inHuge = v.manifest.samples.filter((s) => s.path.startsWith(v.manifest.hugeDirectory + '/'));
  const sample = inHuge.find((s) => s.path.endsWith('.sys')) ?? inHuge[0]!;
  const r = await budgetFor(v.image, sample.path);
  assert.equal(r.sha, sample.sha256);
  assert.equal(r.size, sample.size);
  t.diagnostic(`${r.bytes - r.size} metadata bytes + ${r.size} file bytes in ${r.reads} device reads`);
  assert.ok(r.bytes - r.size <= METADATA_BUDGET, `metadata bytes ${r.bytes - r.size}`);
  assert.ok(r.reads <= MAX_DEVICE_READS, `device reads ${r.reads}`);
});
