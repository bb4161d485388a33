import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { i32, isZero, u16, u32, u8 } from '../../src/util/bytes.js';

test('isZero: every length and alignment, a single set byte anywhere is seen, neighbours are not', () => {
  for (let n = 0; n < 40; n++) {
    for (let off = 0; off < 9; off++) {
      for (let pos = -1; pos < n; pos++) {
        const buf = new Uint8Array(n + off + 3);
        const v = buf.subarray(off, off + n);
        if (pos >= 0) v[pos] = 1;
        buf[off + n] = 7;
        if (off > 0) buf[off - 1] = 7;
        assert.equal(isZero(v), pos < 0, `n=${n} off=${off} pos=${pos}`);
      }
    }
  }
});

test('u8/u16/u32/i32 equal DataView for every offset, and throw its RangeError outside the bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), fc.integer({ min: -6, max: 46 }), (b, o) => {
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const cases: [(x: Uint8Array, o: number) => number, () => number][] = [
        [u8, () => dv.getUint8(o)],
        [u16, () => dv.getUint16(o, true)],
        [u32, () => dv.getUint32(o, true)],
        [i32, () => dv.getInt32(o, true)],
      ];
      for (const [ours, theirs] of cases) {
        let expected: number | RangeError;
        try {
          expected = theirs();
        } catch (e) {
          expected = e as RangeError;
        }
        if (expected instanceof RangeError) assert.throws(() => ours(b, o), RangeError);
        else assert.equal(ours(b, o), expected);
      }
    }),
    { numRuns: 3000 },
  );
});
