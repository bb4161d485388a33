// Read a boot-diagnostics screenshot (BMP as Azure serves it, PNG, JPEG) with tesseract.js and the bundled English
// data (@tesseract.js-data/eng): nothing is downloaded at run time. This is the I/O edge; the parsing is pure
// (parse-text.ts). Screens: ../shared/docs/REFERENCE.md §3.

import { inflateSync } from 'node:zlib';
// @ts-expect-error -- the package ships no types; its default export is { langPath, gzip }.
import eng from '@tesseract.js-data/eng';
import { createWorker, type Worker } from 'tesseract.js';
import { WinrescueError } from '../../errors.js';
import {
  cropToContent,
  decodeBmp,
  decodePng,
  encodeGreyBmp,
  prepareForOcr,
  sniffImage,
  type GreyImage,
} from './image.js';
import { STOP_CODES } from '../stop-codes.js';
import { parseSymptomText } from './parse-text.js';
import { snapPathDetailed } from './snap-path.js';
import type { Symptom } from './types.js';

/*
 * Measured on the generated screens (test/diagnose/screens): inverted grey at the original scale, cropped to the
 * text, reads best and fastest; enlarging ×1.5-2.5 or binarising with Otsu before OCR made tesseract worse.
 */

let worker: Promise<Worker> | null = null;

function getWorker(): Promise<Worker> {
  worker ??= createWorker('eng', 1, {
    langPath: (eng as unknown as { langPath: string }).langPath,
    gzip: true,
    cacheMethod: 'none',
  });
  return worker;
}

/** End the process-wide OCR worker (tests and the CLI call this before exiting). */
export async function closeOcr(): Promise<void> {
  if (worker === null) return;
  const w = worker;
  worker = null;
  await (await w).terminate();
}

export function decodeScreenshot(bytes: Uint8Array): GreyImage | null {
  const type = sniffImage(bytes);
  if (type === 'bmp') return decodeBmp(bytes);
  if (type === 'png') return decodePng(bytes, (d) => new Uint8Array(inflateSync(d)));
  return null;
}

const RETRY_SCALE = 2;

interface OcrPass {
  readonly symptom: Symptom;
  readonly ocrConfidence: number;
}

async function ocr(image: Uint8Array): Promise<OcrPass> {
  const w = await getWorker();
  const result = await w.recognize(Buffer.from(image.buffer, image.byteOffset, image.byteLength));
  return { symptom: parseSymptomText(result.data.text), ocrConfidence: result.data.confidence };
}

/** Fields the first pass missed, taken from the second. */
function merge(a: OcrPass, b: OcrPass): OcrPass {
  const s = a.symptom;
  const t = b.symptom;
  // A code the knowledge base knows beats one it does not: OCR slips rarely land on a known code.
  const known = (c: number | null): boolean => c !== null && STOP_CODES.has(c);
  const takeSecond = s.stopCode === null || (!known(s.stopCode) && known(t.stopCode));
  return {
    symptom: {
      ...s,
      kind: s.kind === 'unknown' ? t.kind : s.kind,
      stopCode: takeSecond ? t.stopCode : s.stopCode,
      stopCodeText: takeSecond ? t.stopCodeText : s.stopCodeText,
      path: s.path ?? t.path,
      info: s.info ?? t.info,
      rawText: s.rawText + '\n' + t.rawText,
      confidence: Math.min(s.confidence, t.confidence),
    },
    ocrConfidence: Math.min(a.ocrConfidence, b.ocrConfidence),
  };
}

export interface ReadScreenshotOptions {
  /** Paths that exist on the disk: the OCR'd path is snapped to the closest one. */
  readonly candidates?: Iterable<string>;
}

export async function readScreenshot(
  bytes: Uint8Array,
  options: ReadScreenshotOptions = {},
): Promise<Symptom> {
  const type = sniffImage(bytes);
  if (type === 'unknown') {
    throw new WinrescueError('diagnose.badInput', 'screenshot: not a BMP, PNG or JPEG image', {
      offset: 0,
      structure: 'screenshot',
      expected: 'BM, \\x89PNG or \\xff\\xd8',
      actual: Array.from(bytes.subarray(0, 4)),
    });
  }
  const img = decodeScreenshot(bytes);
  const cropped = img ? cropToContent(img) : null;
  // JPEG goes to tesseract as is (its Leptonica decodes it); the others are cleaned up first.
  let pass = await ocr(cropped ? encodeGreyBmp(prepareForOcr(cropped, 1, false)) : bytes);
  const code = pass.symptom.stopCode;
  if (
    cropped &&
    (code === null || !STOP_CODES.has(code) || pass.symptom.path === null || pass.symptom.kind === 'unknown')
  ) {
    // A second look, enlarged: runs of zeros in the 8×16 font merge at its own size.
    const second = await ocr(encodeGreyBmp(prepareForOcr(cropped, RETRY_SCALE, false)));
    pass = merge(pass, second);
  }
  let symptom: Symptom = {
    ...pass.symptom,
    confidence: pass.symptom.confidence * (pass.ocrConfidence / 100),
  };
  if (symptom.path !== null && options.candidates) {
    const snapped = snapPathDetailed(symptom.path, options.candidates);
    if (snapped) symptom = { ...symptom, path: snapped.path };
  }
  return symptom;
}
