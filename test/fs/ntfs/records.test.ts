// The lenient record scan `check` will use: every allocated MFT record, as sleuthkit's `ils -a` lists them,
// and damaged records as error items naming record and offset while the scan goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedSkip, testdataFile } from '../../helpers/testdata.js';
import { run, tempDir } from '../../helpers/tools.js';
import { buildVolume } from './volumes.js';
import { copyImage, ifind, tearRecord } from './inject.js';
import { openImage, tskOffset } from './oracle.js';

/** Allocated MFT entries per `ils -a`, without sleuthkit's virtual entries (the $OrphanFiles folder, numbered past the MFT). */
function allocatedByIls(image: string, offsetSectors = 0): number[] {
  return run('ils', ['-a', ...tskOffset(offsetSectors), image])
    .toString()
    .split('\n')
    .filter((l) => /^\d+\|a\|/.test(l))
    .map((l) => Number(l.split('|')[0]))
    .sort((a, b) => a - b)
    .slice(0, -1);
}

async function scan(
  image: string,
  offsetSectors = 0,
): Promise<{ inUse: number[]; errors: { record: number; offset: number; code: string }[] }> {
  const { vol, close } = await openImage(image, offsetSectors);
  try {
    const inUse: number[] = [];
    const errors: { record: number; offset: number; code: string }[] = [];
    for await (const it of vol.records()) {
      if ('error' in it) errors.push({ record: it.record, offset: it.offset, code: it.error.code });
      // ils lists base records only: extension records (attribute-list overflow) are left out as there.
      else if (it.value.inUse && it.value.baseReference.record === 0) inUse.push(it.value.recordNumber);
    }
    return { inUse, errors };
  } finally {
    await close();
  }
}

test(
  'records(): the allocated records are the ones ils -a lists (Windows volumes)',
  { skip: sharedSkip() },
  async () => {
    for (const [file, offset] of [
      ['ntfs/windows-ntfs-compressed-largedir.bin.gz', 0],
      ['ntfs/windows-mbr-ntfs-index.raw.gz', 128],
      ['ntfs/windows-volume.raw.gz', 0],
    ] as const) {
      const image = testdataFile(file);
      const { inUse, errors } = await scan(image, offset);
      assert.deepEqual(errors, [], file);
      assert.deepEqual(inUse, allocatedByIls(image, offset), file);
    }
  },
);

test('records(): a torn record is an error item with its number and offset; the rest still match ils', async () => {
  const t = tempDir();
  try {
    const image = copyImage(buildVolume({ sizeMiB: 48, bigDir: 2100 }), t.dir);
    const before = allocatedByIls(image);
    const n = ifind(image, '/tiny.txt');
    const { offset } = tearRecord(image, n);
    const { inUse, errors } = await scan(image);
    assert.deepEqual(errors, [{ record: n, offset, code: 'ntfs.tornRecord' }]);
    assert.deepEqual(
      inUse,
      before.filter((r) => r !== n),
    );
  } finally {
    t.cleanup();
  }
});
