// The check on the many-files volumes: healthy ones check clean where ntfsresize's cluster accounting also
// passes, and faults in the huge folder (a multi-level $I30 of thousands of names) are found. The 200,000-file
// volume is checked only with WINRESCUE_BIG_FIXTURES=1 (building it takes ~30-60 s; the bench uses it too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { buildManyFilesVolume } from '../../fixtures/many-files.js';
import * as inject from '../../fixtures/inject.js';
import { run, runStatus, tempDir } from '../../helpers/tools.js';
import { assertClean, assertFound, checkVolume } from './check-helpers.js';

const BIG = process.env.WINRESCUE_BIG_FIXTURES === '1';
const HUGE = '/Windows/WinSxS/Manifests';

test('2,500-file volume: clean (ntfsresize agrees); faults in its huge folder are found', async () => {
  const v = await buildManyFilesVolume(2500);
  const resize = runStatus('ntfsresize', ['-i', '-f', '-P', v.image]);
  assert.equal(resize.status, 0, 'the oracle sees a healthy volume');
  const r = await checkVolume(v.volume);
  assertClean(r, '2,500-file volume');
  assert.ok(r.stats.indexEntries >= 2500, `${r.stats.indexEntries} index entries`);
  const names = readFileSync(join(v.dir, v.manifest.listing), 'utf8')
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([p, , link]) => p?.startsWith(HUGE + '/') && !link)
    .map(([p]) => p!);
  const t = tempDir('winrescue-check-many-');
  try {
    const image = join(t.dir, 'volume.img');
    run('cp', ['--sparse=always', v.image, image]);
    const copy = { image, offset: 0 };
    const swap = inject.swapIndexEntries(copy, HUGE);
    const orphan = inject.orphanFile(copy, names[Math.floor(names.length / 2)]!);
    swap.confirm();
    orphan.confirm();
    const found = await checkVolume(copy);
    assertFound(found, ['index-order'], { path: HUGE });
    assertFound(found, ['orphan-file'], { record: orphan.record });
  } finally {
    t.cleanup();
  }
});

test('200,000-file volume checks clean', { skip: BIG ? false : 'set WINRESCUE_BIG_FIXTURES=1' }, async () => {
  const v = await buildManyFilesVolume(200000);
  assert.equal(runStatus('ntfsresize', ['-i', '-f', '-P', v.image]).status, 0);
  const r = await checkVolume(v.volume);
  assertClean(r, '200,000-file volume');
  assert.ok(r.stats.recordsInUse > 200000);
});
