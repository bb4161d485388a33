// Bitmap fonts for the screenshot generator: GNU Unifont .hex (the VGA-like 8×16 text-mode font) and X11 PCF
// (the proportional Helvetica of xfonts-100dpi, standing in for the Recovery screen's Segoe UI).
// PCF layout: the X.Org "PCF font format" description (fontforge's pcf.txt / libXfont pcfread.c structure), read
// and re-expressed here; only the metrics, bitmaps and BDF-encodings tables are used.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface Glyph {
  readonly width: number; // advance in pixels
  readonly rows: number;
  readonly cols: number;
  /** Offset of the bitmap's left edge from the pen, and of its top from the baseline (negative = above). */
  readonly left: number;
  readonly top: number;
  readonly bits: Uint8Array; // rows*cols, 1 = ink
}

export interface BitmapFont {
  readonly ascent: number;
  readonly descent: number;
  glyph(ch: string): Glyph | undefined;
}

export const UNIFONT_HEX = '/usr/share/unifont/unifont.hex';
export const HELVETICA_DIR = '/usr/share/fonts/X11/100dpi';

/** Unifont: one line per code point, `XXXX:` then 32 hex digits (8 wide) or 64 (16 wide), 16 rows. */
export function loadUnifont(path = UNIFONT_HEX): BitmapFont {
  const glyphs = new Map<number, Glyph>();
  for (const line of readFileSync(path, 'latin1').split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const cp = parseInt(line.slice(0, colon), 16);
    if (cp > 0x7f && cp !== 0xd7) continue;
    const hex = line.slice(colon + 1).trim();
    const cols = hex.length === 32 ? 8 : 16;
    const bits = new Uint8Array(16 * cols);
    const perRow = cols / 4;
    for (let r = 0; r < 16; r++) {
      const v = parseInt(hex.slice(r * perRow, (r + 1) * perRow), 16);
      for (let c = 0; c < cols; c++) bits[r * cols + c] = (v >> (cols - 1 - c)) & 1;
    }
    glyphs.set(cp, { width: cols, rows: 16, cols, left: 0, top: -14, bits });
  }
  return { ascent: 14, descent: 2, glyph: (ch) => glyphs.get(ch.codePointAt(0) ?? 0) };
}

const PCF_METRICS = 1 << 2;
const PCF_BITMAPS = 1 << 3;
const PCF_BDF_ENCODINGS = 1 << 5;
const PCF_COMPRESSED_METRICS = 0x100;
const PCF_BYTE_MSB = 1 << 2;
const PCF_BIT_MSB = 1 << 3;

export function loadPcf(path: string): BitmapFont {
  const raw = readFileSync(path);
  const data = new Uint8Array(path.endsWith('.gz') ? gunzipSync(raw) : raw);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (dv.getUint32(0, true) !== 0x70636601) throw new TypeError(`${path}: not a PCF font`);
  const tables = new Map<number, number>();
  const count = dv.getInt32(4, true);
  for (let i = 0; i < count; i++)
    tables.set(dv.getInt32(8 + i * 16, true), dv.getInt32(8 + i * 16 + 12, true));
  const at = (type: number): { off: number; fmt: number; be: boolean } => {
    const off = tables.get(type);
    if (off === undefined) throw new TypeError(`${path}: PCF table ${type} missing`);
    const fmt = dv.getInt32(off, true);
    return { off: off + 4, fmt, be: (fmt & PCF_BYTE_MSB) !== 0 };
  };
  // Metrics
  const m = at(PCF_METRICS);
  const metrics: { lsb: number; rsb: number; width: number; ascent: number; descent: number }[] = [];
  if (m.fmt & PCF_COMPRESSED_METRICS) {
    const n = dv.getInt16(m.off, !m.be);
    for (let i = 0; i < n; i++) {
      const b = m.off + 2 + i * 5;
      const g = (k: number): number => (data[b + k] as number) - 0x80;
      metrics.push({ lsb: g(0), rsb: g(1), width: g(2), ascent: g(3), descent: g(4) });
    }
  } else {
    const n = dv.getInt32(m.off, !m.be);
    for (let i = 0; i < n; i++) {
      const b = m.off + 4 + i * 12;
      const g = (k: number): number => dv.getInt16(b + k * 2, !m.be);
      metrics.push({ lsb: g(0), rsb: g(1), width: g(2), ascent: g(3), descent: g(4) });
    }
  }
  // Bitmaps
  const bm = at(PCF_BITMAPS);
  const nGlyphs = dv.getInt32(bm.off, !bm.be);
  const offsets: number[] = [];
  for (let i = 0; i < nGlyphs; i++) offsets.push(dv.getInt32(bm.off + 4 + i * 4, !bm.be));
  const bitsStart = bm.off + 4 + nGlyphs * 4 + 16;
  const rowPad = 1 << (bm.fmt & 3);
  const scanUnit = 1 << ((bm.fmt >> 4) & 3);
  const bitMsb = (bm.fmt & PCF_BIT_MSB) !== 0;
  // Encodings
  const en = at(PCF_BDF_ENCODINGS);
  const min2 = dv.getInt16(en.off, !en.be);
  const max2 = dv.getInt16(en.off + 2, !en.be);
  const min1 = dv.getInt16(en.off + 4, !en.be);
  const cache = new Map<number, Glyph | undefined>();
  let maxAscent = 0;
  let maxDescent = 0;
  for (const x of metrics) {
    maxAscent = Math.max(maxAscent, x.ascent);
    maxDescent = Math.max(maxDescent, x.descent);
  }
  const glyphAt = (cp: number): Glyph | undefined => {
    if (cache.has(cp)) return cache.get(cp);
    let out: Glyph | undefined;
    const b1 = cp >> 8;
    const b2 = cp & 0xff;
    if (b1 === min1 && b2 >= min2 && b2 <= max2) {
      const idx = dv.getUint16(en.off + 10 + (b2 - min2) * 2, !en.be);
      const mt = metrics[idx];
      if (idx !== 0xffff && mt) {
        const cols = mt.rsb - mt.lsb;
        const rows = mt.ascent + mt.descent;
        const stride = Math.ceil(Math.ceil(cols / 8) / rowPad) * rowPad;
        const bits = new Uint8Array(Math.max(0, rows * cols));
        const base = bitsStart + (offsets[idx] as number);
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++) {
            let byteIdx = c >> 3;
            if (!bm.be && scanUnit > 1) {
              const unit = Math.floor(byteIdx / scanUnit) * scanUnit;
              byteIdx = unit + (scanUnit - 1 - (byteIdx - unit));
            }
            const byte = data[base + r * stride + byteIdx] as number;
            const bit = bitMsb ? (byte >> (7 - (c & 7))) & 1 : (byte >> (c & 7)) & 1;
            bits[r * cols + c] = bit;
          }
        }
        out = { width: mt.width, rows, cols, left: mt.lsb, top: -mt.ascent, bits };
      }
    }
    cache.set(cp, out);
    return out;
  };
  return { ascent: maxAscent, descent: maxDescent, glyph: (ch) => glyphAt(ch.codePointAt(0) ?? 0) };
}
