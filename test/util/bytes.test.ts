import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isZero } from '../../src/util/bytes.js';

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
