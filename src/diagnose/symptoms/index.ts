export type { Symptom, SymptomKind } from './types.js';
export { parseSymptomText, normalisePath, cleanConsoleText, foldForMatch } from './parse-text.js';
export { snapPath, snapPathDetailed, ocrDistance, type SnappedPath } from './snap-path.js';
export { readSerialLog } from './serial-log.js';
export { readScreenshot, closeOcr, decodeScreenshot, type ReadScreenshotOptions } from './screenshot.js';
export { decodeBmp, decodePng, sniffImage, cropToContent, prepareForOcr, type GreyImage } from './image.js';
