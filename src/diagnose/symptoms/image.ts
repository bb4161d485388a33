// Decoding a boot-diagnostics screenshot to grey levels, and cleaning it up for OCR.
// BMP: Microsoft "BITMAPINFOHEADER structure" (wingdi.h), uncompressed 24/32-bit, bottom-up or top-down.
// PNG: W3C PNG Specification (Third Edition) §11.2 IHDR, §9 filters, §8 non-interlaced; zlib inflate is supplied by
// the caller so this module stays free of Node APIs.

import { WinrescueError } from '../../errors.js';
import { checkRange, type Where } from '../../util/bytes.js';

const W = (structure: string): Where => ({ structure, code: 'diagnose.badInput' });

export interface GreyImage {
  readonly width: number;
  readonly height: number;
  /** One byte per pixel, row-major, top row first. */
  readonly grey: Uint8Array;
}

export type ImageType = 'bmp' | 'png' | 'jpeg' | 'unknown';

const BMP_FILE_HEADER = 14;
const BMP_INFO_HEADER_MIN = 40;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Screenshots are at most a few megapixels; refuse absurd sizes from a damaged header before allocating. */
const MAX_PIXELS = 64 * 1024 * 1024;

export function sniffImage(bytes: Uint8Array): ImageType {
  if (bytes[0] === 0x42 && bytes[1] === 0x4d) return 'bmp';
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  return 'unknown';
}

function bad(message: string, offset: number, expected?: unknown, actual?: unknown): WinrescueError {
  return new WinrescueError('diagnose.badInput', message, {
    offset,
    structure: 'screenshot',
    expected,
    actual,
  });
}

function greyOf(r: number, g: number, b: number): number {
  return (r * 77 + g * 150 + b * 29) >> 8;
}

function checkDims(width: number, height: number, offset: number): void {
  if (width <= 0 || height <= 0 || width * height > MAX_PIXELS) {
    throw bad(
      `screenshot: impossible size ${width}×${height}`,
      offset,
      `1..${MAX_PIXELS} pixels`,
      width * height,
    );
  }
}

export function decodeBmp(bytes: Uint8Array): GreyImage {
  checkRange(bytes.length, 0, BMP_FILE_HEADER + BMP_INFO_HEADER_MIN, W('screenshot.bmpHeader'));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = dv.getUint32(10, true);
  const width = dv.getInt32(18, true);
  const rawHeight = dv.getInt32(22, true);
  const bpp = dv.getUint16(28, true);
  const compression = dv.getUint32(30, true);
  const height = Math.abs(rawHeight);
  checkDims(width, height, 18);
  // BI_RGB (0), or BI_BITFIELDS (3) with the usual 32-bit BGRA masks.
  if ((bpp !== 24 && bpp !== 32) || (compression !== 0 && compression !== 3)) {
    throw bad('screenshot: only uncompressed 24/32-bit BMP is supported', 28, '24 or 32 bpp, BI_RGB', {
      bpp,
      compression,
    });
  }
  const step = bpp / 8;
  const stride = Math.ceil((width * step) / 4) * 4;
  checkRange(bytes.length, dataOffset, stride * height, W('screenshot.bmpPixels'));
  const grey = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (rawHeight > 0 ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      const o = row + x * step;
      grey[y * width + x] = greyOf(bytes[o + 2] as number, bytes[o + 1] as number, bytes[o] as number);
    }
  }
  return { width, height, grey };
}

export type Inflate = (data: Uint8Array) => Uint8Array;

const PNG_CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export function decodePng(bytes: Uint8Array, inflate: Inflate): GreyImage {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = PNG_SIGNATURE.length;
  let width = 0;
  let height = 0;
  let depth = 0;
  let colour = -1;
  const idat: Uint8Array[] = [];
  let palette: Uint8Array | null = null;
  while (off + 8 <= bytes.length) {
    const len = dv.getUint32(off);
    const type = String.fromCharCode(...bytes.subarray(off + 4, off + 8));
    checkRange(bytes.length, off + 8, len + 4, W(`screenshot.png.${type}`));
    const body = bytes.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      checkRange(len, 0, 13, W('screenshot.png.IHDR'));
      width = dv.getUint32(off + 8);
      height = dv.getUint32(off + 12);
      depth = body[8] as number;
      colour = body[9] as number;
      if (body[12] !== 0) throw bad('screenshot: interlaced PNG is not supported', off + 20, 0, body[12]);
    } else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  checkDims(width, height, PNG_SIGNATURE.length + 8);
  const channels = colour === 3 ? 1 : PNG_CHANNELS[colour];
  if (depth !== 8 || channels === undefined || (colour === 3 && !palette)) {
    throw bad('screenshot: only 8-bit grey, RGB, RGBA or palette PNG is supported', 24, 'depth 8', {
      depth,
      colour,
    });
  }
  const joined = new Uint8Array(idat.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const part of idat) {
    joined.set(part, o);
    o += part.length;
  }
  const raw = inflate(joined);
  const stride = width * channels;
  checkRange(raw.length, 0, (stride + 1) * height, W('screenshot.png.pixels'));
  const prev = new Uint8Array(stride);
  const cur = new Uint8Array(stride);
  const grey = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? (cur[i - channels] as number) : 0;
      const b = prev[i] as number;
      const c = i >= channels ? (prev[i - channels] as number) : 0;
      const x = line[i] as number;
      let v: number;
      if (filter === 0) v = x;
      else if (filter === 1) v = x + a;
      else if (filter === 2) v = x + b;
      else if (filter === 3) v = x + ((a + b) >> 1);
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      } else throw bad(`screenshot: PNG row ${y} has filter ${filter}`, 0, '0..4', filter);
      cur[i] = v & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const p = x * channels;
      let g: number;
      if (colour === 3 && palette) {
        const k = (cur[p] as number) * 3;
        g = greyOf(palette[k] ?? 0, palette[k + 1] ?? 0, palette[k + 2] ?? 0);
      } else if (channels >= 3) g = greyOf(cur[p] as number, cur[p + 1] as number, cur[p + 2] as number);
      else g = cur[p] as number;
      grey[y * width + x] = g;
    }
    prev.set(cur);
  }
  return { width, height, grey };
}

/** Otsu's threshold over the grey histogram. */
export function otsuThreshold(img: GreyImage): number {
  const hist = new Float64Array(256);
  for (const v of img.grey) hist[v] = (hist[v] as number) + 1;
  const total = img.grey.length;
  let sum = 0;
  for (let i = 0; i < 256; i++) sum += i * (hist[i] as number);
  let sumB = 0;
  let wB = 0;
  let best = 0;
  let bestT = 128;
  for (let t = 0; t < 256; t++) {
    wB += hist[t] as number;
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += t * (hist[t] as number);
    const mB = sumB / wB;
    const mF = (sum - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) {
      best = between;
      bestT = t;
    }
  }
  return bestT;
}

/**
 * Ready for OCR: dark text on white (both screens are light text on dark), scaled by `scale` with bilinear
 * interpolation before thresholding so thin 8×16 strokes keep their shape.
 */
export function prepareForOcr(img: GreyImage, scale: number, binarise = true): GreyImage {
  const t = otsuThreshold(img);
  const w = Math.round(img.width * scale);
  const h = Math.round(img.height * scale);
  const out = new Uint8Array(w * h);
  const src = img.grey;
  for (let y = 0; y < h; y++) {
    const sy = Math.min(img.height - 1, Math.max(0, (y + 0.5) / scale - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(img.height - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < w; x++) {
      const sx = Math.min(img.width - 1, Math.max(0, (x + 0.5) / scale - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(img.width - 1, x0 + 1);
      const fx = sx - x0;
      const v =
        (src[y0 * img.width + x0] as number) * (1 - fx) * (1 - fy) +
        (src[y0 * img.width + x1] as number) * fx * (1 - fy) +
        (src[y1 * img.width + x0] as number) * (1 - fx) * fy +
        (src[y1 * img.width + x1] as number) * fx * fy;
      out[y * w + x] = binarise ? (v > t ? 0 : 255) : 255 - Math.round(v);
    }
  }
  return { width: w, height: h, grey: out };
}

/** Margin kept around the text when cropping, in pixels: tesseract wants some blank border. */
const CROP_MARGIN = 16;
/** A pixel this far from the background's grey level is ink. */
const INK_DISTANCE = 48;

/** The image cut to the bounding box of everything that differs from the background (the commonest grey). */
export function cropToContent(img: GreyImage): GreyImage {
  const hist = new Uint32Array(256);
  for (const v of img.grey) hist[v] = (hist[v] as number) + 1;
  let bg = 0;
  for (let i = 1; i < 256; i++) if ((hist[i] as number) > (hist[bg] as number)) bg = i;
  let x0 = img.width;
  let y0 = img.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (Math.abs((img.grey[y * img.width + x] as number) - bg) < INK_DISTANCE) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) return img;
  x0 = Math.max(0, x0 - CROP_MARGIN);
  y0 = Math.max(0, y0 - CROP_MARGIN);
  x1 = Math.min(img.width - 1, x1 + CROP_MARGIN);
  y1 = Math.min(img.height - 1, y1 + CROP_MARGIN);
  const width = x1 - x0 + 1;
  const height = y1 - y0 + 1;
  const grey = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    grey.set(img.grey.subarray((y0 + y) * img.width + x0, (y0 + y) * img.width + x0 + width), y * width);
  return { width, height, grey };
}

/** An 8-bit greyscale BMP (256-entry grey palette) of the image: the simplest thing tesseract reads. */
export function encodeGreyBmp(img: GreyImage): Uint8Array {
  const stride = Math.ceil(img.width / 4) * 4;
  const paletteBytes = 256 * 4;
  const dataOffset = BMP_FILE_HEADER + BMP_INFO_HEADER_MIN + paletteBytes;
  const out = new Uint8Array(dataOffset + stride * img.height);
  const dv = new DataView(out.buffer);
  out[0] = 0x42;
  out[1] = 0x4d;
  dv.setUint32(2, out.length, true);
  dv.setUint32(10, dataOffset, true);
  dv.setUint32(14, BMP_INFO_HEADER_MIN, true);
  dv.setInt32(18, img.width, true);
  dv.setInt32(22, -img.height, true); // top-down
  dv.setUint16(26, 1, true);
  dv.setUint16(28, 8, true);
  dv.setUint32(34, stride * img.height, true);
  dv.setUint32(46, 256, true);
  for (let i = 0; i < 256; i++) {
    const p = BMP_FILE_HEADER + BMP_INFO_HEADER_MIN + i * 4;
    out[p] = i;
    out[p + 1] = i;
    out[p + 2] = i;
  }
  for (let y = 0; y < img.height; y++)
    out.set(img.grey.subarray(y * img.width, (y + 1) * img.width), dataOffset + y * stride);
  return out;
}
