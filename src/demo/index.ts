// The bundled sample broken disk for `winrescue demo` (demo/README.md).
export {
  DEMO_DIR,
  extractSample,
  readSampleManifest,
  type ExtractedSample,
  type ExtractOptions,
} from './extract.js';
export {
  parseSampleManifest,
  SAMPLE_MANIFEST_VERSION,
  type SampleChange,
  type SampleCompression,
  type SampleFileRef,
  type SampleManifest,
} from './manifest.js';
