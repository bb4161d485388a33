// `bcd URL` and `reg get URL:PATH`: hive commands read a disk served as a page blob (Azurite) like a local disk —
// same output as for the local file — and the SAS signature appears nowhere in what they print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDisk } from '../fixtures/index.js';
import { blobSasUrl, startAzurite, uploadPageBlob } from './azurite.js';
import { allText, winrescueAsync } from './cli.js';
import { sasParam } from '../../src/disk/http/redact.js';

test('bcd and reg get over a SAS URL equal the local disk; no signature in the output', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic', formats: ['vhd'] });
  const az = await startAzurite();
  try {
    await uploadPageBlob(az, 'disks', 'gen2.vhd', disk.vhd!);
    const url = blobSasUrl(az, 'disks', 'gen2.vhd');
    const sig = sasParam(url, 'sig')!;
    assert.ok(sig.length > 10);
    const key = 'ControlSet001\\Control\\CrashControl';
    const runs = await Promise.all([
      winrescueAsync(['bcd', url, '--json']),
      winrescueAsync(['bcd', disk.vhd!, '--json']),
      winrescueAsync(['reg', 'get', `${url}:/Windows/System32/config/SYSTEM`, key, '--json']),
      winrescueAsync(['reg', 'get', `${disk.vhd!}:/Windows/System32/config/SYSTEM`, key, '--json']),
    ]);
    for (const r of runs) assert.equal(r.status, 0, r.stderr);
    const [bcdUrl, bcdLocal, regUrl, regLocal] = runs.map((r) => JSON.parse(r.stdout));
    assert.deepEqual(bcdUrl.objects, bcdLocal.objects);
    assert.ok(bcdUrl.objects.length >= 5);
    assert.deepEqual(regUrl.values ?? regUrl, regLocal.values ?? regLocal);
    assert.equal(allText(runs).includes(sig), false, 'no SAS signature in any output');
    assert.equal(allText(runs).includes(encodeURIComponent(sig)), false);
  } finally {
    await az.stop();
  }
});
