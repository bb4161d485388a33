// The injectors' own small NTFS readings, checked against sleuthkit: record offsets (via the FILE header and
// the record number field), runlist decoding (against istat's cluster lists) and the fixup round trip.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildDisk, type BuiltDisk } from '../fixtures/factory.js';
import {
  ATTR_DATA,
  decodeRuns,
  findAttribute,
  istatAttributes,
  probe,
  recordAttributes,
  recordOf,
  recordOffset,
  refixup,
  unfixup,
} from '../fixtures/ntfs-probe.js';
import { readBytes } from '../fixtures/ntfs-volume.js';
import { STUB_HIVES } from './oracles.js';

let disk: BuiltDisk;
before(async () => {
  disk = await buildDisk({
    gen: 1,
    flavour: 'synthetic',
    hives: STUB_HIVES,
    sizeMiB: 128,
    fillerComponents: 20,
  });
});

test('record offsets and runlists agree with sleuthkit for every driver', () => {
  const vol = disk.windowsVolume;
  const p = probe(vol);
  for (const drv of disk.manifest.windows.tree.drivers) {
    const n = recordOf(vol, drv.path);
    const rec = readBytes(vol.image, recordOffset(p, n), p.geometry.mftRecordSize);
    assert.equal(new TextDecoder().decode(rec.subarray(0, 4)), 'FILE');
    unfixup(rec, drv.name);
    // NTFS 3.1 records carry their own number at offset 44.
    assert.equal(new DataView(rec.buffer).getUint32(44, true), n, `${drv.name}: record number field`);
    const a = recordAttributes(rec).find((x) => x.type === ATTR_DATA && x.name === null)!;
    const clusters = decodeRuns(rec, a).runs.flatMap((r) =>
      Array.from({ length: r.length }, (_, i) => r.lcn! + i),
    );
    const tsk = findAttribute(istatAttributes(vol, n), ATTR_DATA).clusters;
    assert.deepEqual(clusters.slice(0, tsk.length), tsk, `${drv.name}: clusters`);
  }
});

test('property: refixup(unfixup(record)) restores the protected bytes exactly', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1024, maxLength: 1024 }),
      fc.integer({ min: 1, max: 0xffff }),
      (body, usn) => {
        const rec = body.slice();
        const dv = new DataView(rec.buffer);
        dv.setUint16(4, 48, true); // USA offset, as in NTFS 3.1 records
        dv.setUint16(6, 3, true); // 1 + two strides
        dv.setUint16(48, usn, true);
        const plain = rec.slice();
        refixup(rec);
        assert.equal(dv.getUint16(510, true), usn);
        assert.equal(dv.getUint16(1022, true), usn);
        unfixup(rec, 'generated');
        // Everything comes back; the array itself now holds the saved stride ends, as on disk.
        plain.set(plain.subarray(510, 512), 50);
        plain.set(plain.subarray(1022, 1024), 52);
        assert.deepEqual(rec, plain);
        dv.setUint16(1022, usn ^ 0xffff, true);
        refixup(rec);
        rec[1022] = rec[1022]! ^ 0xff;
        assert.throws(() => unfixup(rec.slice(), 'torn'));
      },
    ),
    { numRuns: 200 },
  );
});
