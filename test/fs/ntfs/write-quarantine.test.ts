// NTFS writer, layer 5: quarantine of a corrupt record (a torn write made by the fixture injector and confirmed
// by sleuthkit's istat). Afterwards our check is clean, ntfsresize's cluster accounting passes (the record's
// clusters were freed), fls no longer lists the name and every other file reads as before. With clusters
// cross-linked to another file, those clusters stay allocated for their other owner.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FileDevice } from '../../../src/disk/file-device.js';
import { openNtfs } from '../../../src/fs/ntfs/index.js';
import { checkNtfs } from '../../../src/fs/ntfs/check/index.js';
import { isWinrescueError } from '../../../src/errors.js';
import { crossLinkedClusters } from '../../fixtures/inject-check.js';
import { tornRecord } from '../../fixtures/inject.js';
import { tempDir } from '../../helpers/tools.js';
import { buildVolume } from './volumes.js';
import {
  assertChecksClean,
  assertNtfsresizeClean,
  copyImage,
  flsFiles,
  icatSha,
  imageSha,
  withWriter,
} from './write-oracle.js';

let t: { dir: string; cleanup: () => void };
let base: string;
before(() => {
  t = tempDir('winrescue-ntfs-quarantine-');
  base = buildVolume({ sizeMiB: 8, bigDir: 150, small: true });
});
after(() => t?.cleanup());

const VICTIM = '/Windows/System32/drivers/drv05.sys';
const NEIGHBOUR = '/Windows/System32/drivers/drv10.sys';

function untouchedSha(image: string, skip: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [p, r] of flsFiles(image)) {
    if (
      p.startsWith('/$') ||
      p === skip ||
      (p.startsWith('/big/') && !p.endsWith('0 of the big directory.dat'))
    )
      continue;
    out.set(p, icatSha(image, r));
  }
  return out;
}

test('a torn record is quarantined: entries, clusters and record freed, everything else unchanged', async () => {
  const image = copyImage(base, t.dir);
  const before = untouchedSha(image, VICTIM);
  const inj = tornRecord({ image, offset: 0 }, VICTIM);
  inj.confirm();
  const n = inj.record!;
  await assert.rejects(
    withWriter(image, (w) => w.unlink(VICTIM)),
    (e: unknown) => isWinrescueError(e) && e.code === 'ntfs.tornRecord',
    'a torn record cannot be unlinked by name',
  );
  const report = await withWriter(image, (w) => w.quarantine(n));
  assert.deepEqual(
    report.entriesRemoved.map((e) => e.name),
    ['drv05.sys'],
  );
  assert.equal(report.clustersFreed, 2, 'a 5,485-byte file holds 2 clusters of 4 KiB');
  assert.equal(report.clustersKeptShared, 0);
  await assertChecksClean(image, 'after quarantine');
  assertNtfsresizeClean(image, 'after quarantine');
  const files = flsFiles(image);
  assert.equal(files.has(VICTIM), false);
  assert.deepEqual(untouchedSha(image, VICTIM), before);
});

test('quarantine keeps clusters another record claims (cross-linked), frees nothing else of theirs', async () => {
  const image = copyImage(base, t.dir);
  const neighbour = flsFiles(image).get(NEIGHBOUR)!;
  const data = icatSha(image, neighbour);
  crossLinkedClusters({ image, offset: 0 }, NEIGHBOUR, VICTIM).confirm();
  const inj = tornRecord({ image, offset: 0 }, VICTIM);
  const report = await withWriter(image, (w) => w.quarantine(inj.record!));
  assert.equal(report.clustersFreed, 0);
  assert.equal(report.clustersKeptShared, 2);
  assert.equal(icatSha(image, neighbour), data);
  const dev = await FileDevice.open(image, { readOnly: true });
  try {
    const r = await checkNtfs(await openNtfs(dev));
    // Only the clusters the injector orphaned (the victim's old run) remain: nothing unmarked, nothing cross-linked.
    assert.deepEqual([...new Set(r.problems.map((p) => p.kind))], ['lost-clusters']);
  } finally {
    await dev.close();
  }
});

test('system records are not quarantined, nothing written', async () => {
  const image = copyImage(base, t.dir);
  const sha = imageSha(image);
  await assert.rejects(
    withWriter(image, (w) => w.quarantine(6)),
    (e: unknown) => isWinrescueError(e) && e.code === 'ntfs.refused',
  );
  assert.equal(imageSha(image), sha);
});
