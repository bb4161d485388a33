// Screenshot decoding. Oracles: the BMP and PNG writers of the generator agree pixel for pixel after our decoders
// (two formats, two independent decode paths, one source raster), and damaged files give only WinrescueError.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { decodeBmp, decodePng, sniffImage, cropToContent } from '../../src/diagnose/symptoms/image.js';
import { readScreenshot } from '../../src/diagnose/symptoms/screenshot.js';
import { isWinrescueError } from '../../src/errors.js';
import { Raster } from './screens/raster.js';

const inflate = (d: Uint8Array): Uint8Array => new Uint8Array(inflateSync(d));

function sample(): Raster {
  const r = new Raster(37, 21, [0, 84, 166]);
  r.fillRect(5, 3, 20, 9, [255, 255, 255]);
  r.fillRect(30, 15, 4, 4, [200, 10, 40]);
  r.noise(20, () => 0.3);
  return r;
}

test('BMP (bottom-up, padded rows) and PNG of one raster decode to the same grey image', () => {
  const r = sample();
  const bmp = r.toBmp();
  const png = r.toPng();
  assert.equal(sniffImage(bmp), 'bmp');
  assert.equal(sniffImage(png), 'png');
  assert.equal(sniffImage(new Uint8Array([0xff, 0xd8, 0xff])), 'jpeg');
  const a = decodeBmp(bmp);
  const b = decodePng(png, inflate);
  assert.equal(a.width, 37);
  assert.equal(a.height, 21);
  assert.deepEqual(a.grey, b.grey);
  assert.ok(a.grey[4 * 37 + 6]! > 200 && a.grey[0]! < 100); // white box on blue: top row is the top
  const c = cropToContent(a);
  assert.ok(c.width < a.width || c.height < a.height || c.width === a.width);
});

test('damaged screenshots: only WinrescueError, never another exception', async () => {
  const bmp = sample().toBmp();
  const png = sample().toPng();
  fc.assert(
    fc.property(fc.boolean(), fc.nat(), fc.nat(255), fc.nat(), (isPng, at, value, cut) => {
      const src = isPng ? png : bmp;
      const b = src.slice(0, Math.max(8, src.length - (cut % src.length)));
      b[at % b.length] = value;
      try {
        if (isPng) decodePng(b, inflate);
        else decodeBmp(b);
      } catch (e) {
        // zlib reports corrupt streams with its own Error; everything we parse ourselves must be typed.
        if (!isWinrescueError(e) && !(e instanceof Error && 'errno' in e)) throw e;
      }
    }),
    { numRuns: 300 },
  );
  await assert.rejects(
    readScreenshot(new Uint8Array([1, 2, 3, 4])),
    (e) => isWinrescueError(e) && e.code === 'diagnose.badInput',
  );
});
