// Base block checksum rules and the class-name / sk readers, checked on a model and on Windows-made SYSTEM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { testdataFile, sharedSkip } from '../helpers/testdata.js';
import { baseBlockChecksum } from '../../src/registry/base-block.js';
import { Hive } from '../../src/registry/hive.js';
import { setU32, u16 } from '../../src/util/bytes.js';

test('checksum: XOR of 127 dwords, with 0 -> 1 and 0xFFFFFFFF -> 0xFFFFFFFE', () => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 0xffffffff }), { minLength: 127, maxLength: 127 }), (words) => {
      const b = new Uint8Array(4096);
      words.forEach((w, i) => setU32(b, i * 4, w));
      let x = 0;
      for (const w of words) x = (x ^ w) >>> 0;
      const want = x === 0 ? 1 : x === 0xffffffff ? 0xfffffffe : x;
      assert.equal(baseBlockChecksum(b), want);
    }),
    { numRuns: 200 },
  );
  const zero = new Uint8Array(4096);
  assert.equal(baseBlockChecksum(zero), 1);
  const ones = new Uint8Array(4096);
  setU32(ones, 0, 0xffffffff);
  assert.equal(baseBlockChecksum(ones), 0xfffffffe);
  // The stored checksum itself (offset 508) is outside the sum.
  setU32(ones, 508, 0x12345678);
  assert.equal(baseBlockChecksum(ones), 0xfffffffe);
});

test(
  'SYSTEM: Lsa JD/Skew1/GBG/Data carry 8-hex-digit class names; sk descriptors are self-relative',
  { skip: sharedSkip() },
  () => {
    const h = new Hive(new Uint8Array(readFileSync(testdataFile('hives/SYSTEM.xz'))));
    for (const n of ['JD', 'Skew1', 'GBG', 'Data']) {
      const k = h.openKey(`ControlSet001\\Control\\Lsa\\${n}`);
      assert.match(h.className(k) ?? '', /^[0-9a-f]{8}$/, n);
    }
    assert.equal(h.className(h.root), undefined);
    const sk = h.security(h.root);
    assert.ok(sk.refCount >= 1);
    assert.equal(sk.descriptor[0], 1, 'SECURITY_DESCRIPTOR revision 1');
    assert.ok((u16(sk.descriptor, 2) & 0x8000) !== 0, 'SE_SELF_RELATIVE');
  },
);
