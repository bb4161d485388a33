// An RGB raster for the screenshot generator: text from a bitmap font, blur, noise, simulated JPEG artefacts,
// and BMP (24-bit, bottom-up, as Azure boot diagnostics serves) and PNG writers (zlib from node:zlib).
// BMP: Microsoft BITMAPFILEHEADER/BITMAPINFOHEADER; PNG: W3C PNG spec §11 (IHDR, IDAT, IEND), CRC-32 of §D.

import { deflateSync } from 'node:zlib';
import { crc32 } from '../../../src/util/crc.js';
import type { BitmapFont } from './fonts.js';

export type Rgb = readonly [number, number, number];

export class Raster {
  readonly px: Float32Array;
  constructor(
    readonly width: number,
    readonly height: number,
    bg: Rgb,
  ) {
    this.px = new Float32Array(width * height * 3);
    this.fillRect(0, 0, width, height, bg);
  }

  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let j = Math.max(0, y); j < Math.min(this.height, y + h); j++) {
      for (let i = Math.max(0, x); i < Math.min(this.width, x + w); i++) this.set(i, j, c);
    }
  }

  set(x: number, y: number, c: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 3;
    this.px[o] = c[0];
    this.px[o + 1] = c[1];
    this.px[o + 2] = c[2];
  }

  /** Draw `text` with its baseline at y; `scale` repeats each font pixel. Returns the pen's x after the text. */
  text(font: BitmapFont, text: string, x: number, baseline: number, c: Rgb, scale = 1): number {
    let pen = x;
    for (const ch of text) {
      const g = font.glyph(ch) ?? font.glyph('?');
      if (!g) continue;
      for (let r = 0; r < g.rows; r++) {
        for (let col = 0; col < g.cols; col++) {
          if (!g.bits[r * g.cols + col]) continue;
          for (let sy = 0; sy < scale; sy++) {
            for (let sx = 0; sx < scale; sx++) {
              this.set(pen + (g.left + col) * scale + sx, baseline + (g.top + r) * scale + sy, c);
            }
          }
        }
      }
      pen += g.width * scale;
    }
    return pen;
  }

  measure(font: BitmapFont, text: string, scale = 1): number {
    let w = 0;
    for (const ch of text) w += (font.glyph(ch) ?? font.glyph('?'))?.width ?? 0;
    return w * scale;
  }

  /** Separable box blur of the given radius (a cheap stand-in for a Gaussian; twice ≈ Gaussian). */
  boxBlur(radius: number): void {
    if (radius <= 0) return;
    const { width: w, height: h } = this;
    const tmp = new Float32Array(this.px.length);
    const pass = (src: Float32Array, dst: Float32Array, horizontal: boolean): void => {
      const n = horizontal ? w : h;
      const m = horizontal ? h : w;
      for (let a = 0; a < m; a++) {
        for (let ch = 0; ch < 3; ch++) {
          for (let b = 0; b < n; b++) {
            let s = 0;
            let k = 0;
            for (let d = -radius; d <= radius; d++) {
              const bb = b + d;
              if (bb < 0 || bb >= n) continue;
              const idx = horizontal ? (a * w + bb) * 3 + ch : (bb * w + a) * 3 + ch;
              s += src[idx] as number;
              k++;
            }
            dst[horizontal ? (a * w + b) * 3 + ch : (b * w + a) * 3 + ch] = s / k;
          }
        }
      }
    };
    pass(this.px, tmp, true);
    pass(tmp, this.px, false);
  }

  /** Additive Gaussian-ish noise (sum of uniforms) of standard deviation `sigma`, from a seeded generator. */
  noise(sigma: number, rand: () => number): void {
    for (let i = 0; i < this.px.length; i++) {
      const g = (rand() + rand() + rand() - 1.5) * 2;
      this.px[i] = (this.px[i] as number) + g * sigma;
    }
  }

  /**
   * Simulated JPEG artefacts (we write no JPEG encoder): per 8×8 block of the luma, a DCT, quantisation by the
   * ITU-T T.81 Annex K luminance table scaled for `quality`, and the inverse DCT — the ringing and blockiness a
   * JPEG at that quality shows. Chroma is left alone.
   */
  jpegArtefacts(quality: number): void {
    const scale = quality < 50 ? 5000 / quality : 200 - quality * 2;
    const q = LUMA_Q.map((v) => Math.max(1, Math.floor((v * scale + 50) / 100)));
    const block = new Float64Array(64);
    const coef = new Float64Array(64);
    for (let by = 0; by + 8 <= this.height; by += 8) {
      for (let bx = 0; bx + 8 <= this.width; bx += 8) {
        for (let y = 0; y < 8; y++) {
          for (let x = 0; x < 8; x++) {
            const o = ((by + y) * this.width + bx + x) * 3;
            block[y * 8 + x] = luma(this.px, o) - 128;
          }
        }
        dct(block, coef);
        for (let i = 0; i < 64; i++)
          coef[i] = Math.round((coef[i] as number) / (q[i] as number)) * (q[i] as number);
        idct(coef, block);
        for (let y = 0; y < 8; y++) {
          for (let x = 0; x < 8; x++) {
            const o = ((by + y) * this.width + bx + x) * 3;
            const delta = (block[y * 8 + x] as number) + 128 - luma(this.px, o);
            for (let ch = 0; ch < 3; ch++) this.px[o + ch] = (this.px[o + ch] as number) + delta;
          }
        }
      }
    }
  }

  private bytesRgb(): Uint8Array {
    const out = new Uint8Array(this.px.length);
    for (let i = 0; i < out.length; i++)
      out[i] = Math.max(0, Math.min(255, Math.round(this.px[i] as number)));
    return out;
  }

  toBmp(): Uint8Array {
    const rgb = this.bytesRgb();
    const stride = Math.ceil((this.width * 3) / 4) * 4;
    const size = 54 + stride * this.height;
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    out[0] = 0x42;
    out[1] = 0x4d;
    dv.setUint32(2, size, true);
    dv.setUint32(10, 54, true);
    dv.setUint32(14, 40, true);
    dv.setInt32(18, this.width, true);
    dv.setInt32(22, this.height, true); // positive: bottom-up rows
    dv.setUint16(26, 1, true);
    dv.setUint16(28, 24, true);
    dv.setUint32(34, stride * this.height, true);
    dv.setInt32(38, 3780, true);
    dv.setInt32(42, 3780, true);
    for (let y = 0; y < this.height; y++) {
      const row = 54 + (this.height - 1 - y) * stride;
      for (let x = 0; x < this.width; x++) {
        const s = (y * this.width + x) * 3;
        out[row + x * 3] = rgb[s + 2] as number;
        out[row + x * 3 + 1] = rgb[s + 1] as number;
        out[row + x * 3 + 2] = rgb[s] as number;
      }
    }
    return out;
  }

  toPng(): Uint8Array {
    const rgb = this.bytesRgb();
    const raw = new Uint8Array((this.width * 3 + 1) * this.height);
    for (let y = 0; y < this.height; y++) {
      raw[y * (this.width * 3 + 1)] = 0; // filter: None
      raw.set(rgb.subarray(y * this.width * 3, (y + 1) * this.width * 3), y * (this.width * 3 + 1) + 1);
    }
    const ihdr = new Uint8Array(13);
    const dv = new DataView(ihdr.buffer);
    dv.setUint32(0, this.width);
    dv.setUint32(4, this.height);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // colour type: truecolour
    const chunks = [
      chunk('IHDR', ihdr),
      chunk('IDAT', new Uint8Array(deflateSync(raw))),
      chunk('IEND', new Uint8Array(0)),
    ];
    const sig = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const total = sig.length + chunks.reduce((a, c) => a + c.length, 0);
    const out = new Uint8Array(total);
    out.set(sig, 0);
    let o = sig.length;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)) >>> 0);
  return out;
}

function luma(px: Float32Array, o: number): number {
  return 0.299 * (px[o] as number) + 0.587 * (px[o + 1] as number) + 0.114 * (px[o + 2] as number);
}

const LUMA_Q = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

const COS = new Float64Array(64);
for (let x = 0; x < 8; x++)
  for (let u = 0; u < 8; u++) COS[x * 8 + u] = Math.cos(((2 * x + 1) * u * Math.PI) / 16);
const cu = (u: number): number => (u === 0 ? Math.SQRT1_2 : 1);

function dct(src: Float64Array, dst: Float64Array): void {
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++)
          s += (src[y * 8 + x] as number) * (COS[x * 8 + u] as number) * (COS[y * 8 + v] as number);
      }
      dst[v * 8 + u] = 0.25 * cu(u) * cu(v) * s;
    }
  }
}

function idct(src: Float64Array, dst: Float64Array): void {
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let v = 0; v < 8; v++) {
        for (let u = 0; u < 8; u++) {
          s +=
            cu(u) *
            cu(v) *
            (src[v * 8 + u] as number) *
            (COS[x * 8 + u] as number) *
            (COS[y * 8 + v] as number);
        }
      }
      dst[y * 8 + x] = 0.25 * s;
    }
  }
}
