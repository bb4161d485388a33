// demo/manifest.json: what the bundled sample broken disk is, how it was made, and what a repair must give back.
// Written by scripts/make-demo.ts, read by extractSample; demo/README.md explains each field in prose.
// Parsing is pure (JSON value in, readonly object out); the file I/O is in extract.ts.
import { WinrescueError } from '../errors.js';

/** Bump when a field changes meaning, so an old loader refuses a newer sample instead of misreading it. */
export const SAMPLE_MANIFEST_VERSION = 1;

export type SampleCompression = 'brotli' | 'gzip';

export interface SampleChange {
  /** Byte offset in the decompressed VHD (a fixed VHD keeps the raw disk's offsets; its footer follows). */
  readonly offset: number;
  readonly old: string;
  readonly new: string;
  readonly what: string;
}

export interface SampleFileRef {
  /** '/'-separated from the Windows volume's root, as `winrescue ls --json` prints it. */
  readonly path: string;
  readonly version: string;
  readonly size: number;
  readonly sha256: string;
}

export interface SampleManifest {
  readonly manifestVersion: number;
  readonly disk: {
    /** Name of the compressed disk in the sample folder. */
    readonly file: string;
    readonly compression: SampleCompression;
    readonly compressedSize: number;
    readonly compressedSha256: string;
    readonly format: 'vhd-fixed';
    /** Decompressed VHD: virtual size plus the 512-byte footer. */
    readonly size: number;
    readonly sha256: string;
    readonly virtualSize: number;
    readonly generation: 1 | 2;
    readonly partitionScheme: 'mbr' | 'gpt';
    readonly windowsPartition: { readonly index: number; readonly start: number; readonly size: number };
  };
  readonly fault: {
    readonly kind: string;
    /** The damaged file (one of the record's names). */
    readonly path: string;
    /** MFT record number of the damaged file. */
    readonly record: number;
    readonly details: Readonly<Record<string, unknown>>;
    readonly changes: readonly SampleChange[];
    /** What the independent tool (sleuthkit istat) said about the record when the sample was made. */
    readonly evidence: string;
  };
  readonly driver: SampleFileRef & {
    readonly name: string;
    /** The path as the boot screen prints it. */
    readonly windowsPath: string;
    /** Every name of the damaged record (the driver and its WinSxS twin are one record). */
    readonly links: readonly string[];
    readonly winSxS: string;
    /** An intact older version in its own component folder, signed by the sample's trust root. */
    readonly older: SampleFileRef;
    /** An intact copy of the same version in the driver store, when the driver has an inf. */
    readonly driverStore: SampleFileRef | null;
  };
  readonly expected: {
    /** As the boot screen prints it: '0xC0000102'. */
    readonly stopCode: string;
    readonly stopCodeName: string;
    readonly file: string;
  };
  readonly screenshot: {
    readonly file: string;
    readonly sha256: string;
    readonly size: number;
    readonly kind: 'boot-manager' | 'recovery';
    readonly width: number;
    readonly height: number;
  };
  readonly trustRoot: {
    readonly file: string;
    readonly sha256: string;
    readonly subject: string;
    /** SHA-256 of the certificate's DER bytes, as `openssl x509 -fingerprint -sha256` prints it. */
    readonly fingerprintSha256: string;
  };
  /** Provenance: tool versions, factory version and spec, compression measurements. Free-form. */
  readonly made: Readonly<Record<string, unknown>>;
}

/** Asset names are plain file names inside the sample folder: nothing that could climb out of it. */
const SAFE_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

function bad(field: string, expected: string, actual: unknown): WinrescueError {
  return new WinrescueError('demo.badSample', `demo/manifest.json: ${field} should be ${expected}`, {
    structure: 'demo.manifest',
    expected,
    actual: typeof actual === 'object' ? JSON.stringify(actual)?.slice(0, 200) : actual,
  });
}

type Json = Record<string, unknown>;

function object(v: unknown, field: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(field, 'an object', v);
  return v as Json;
}

function str(o: Json, key: string, field: string, pattern?: RegExp): string {
  const v = o[key];
  if (typeof v !== 'string' || (pattern && !pattern.test(v)))
    throw bad(`${field}.${key}`, pattern ? `a string matching ${pattern.source}` : 'a string', v);
  return v;
}

function count(o: Json, key: string, field: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw bad(`${field}.${key}`, 'a non-negative safe integer', v);
  return v;
}

function fileRef(v: unknown, field: string): SampleFileRef {
  const o = object(v, field);
  return {
    path: str(o, 'path', field),
    version: str(o, 'version', field),
    size: count(o, 'size', field),
    sha256: str(o, 'sha256', field, SHA256_HEX),
  };
}

function changes(v: unknown, field: string): SampleChange[] {
  if (!Array.isArray(v)) throw bad(field, 'an array', v);
  return v.map((c, i) => {
    const o = object(c, `${field}[${i}]`);
    return {
      offset: count(o, 'offset', `${field}[${i}]`),
      old: str(o, 'old', `${field}[${i}]`, /^[0-9a-f]*$/),
      new: str(o, 'new', `${field}[${i}]`, /^[0-9a-f]*$/),
      what: str(o, 'what', `${field}[${i}]`),
    };
  });
}

/** Validates a parsed demo/manifest.json; throws demo.badSample naming the first field that is wrong. */
export function parseSampleManifest(json: unknown): SampleManifest {
  const m = object(json, 'manifest');
  const version = count(m, 'manifestVersion', 'manifest');
  if (version !== SAMPLE_MANIFEST_VERSION)
    throw bad('manifest.manifestVersion', String(SAMPLE_MANIFEST_VERSION), version);

  const d = object(m.disk, 'disk');
  const compression = str(d, 'compression', 'disk', /^(brotli|gzip)$/) as SampleCompression;
  const generation = count(d, 'generation', 'disk');
  if (generation !== 1 && generation !== 2) throw bad('disk.generation', '1 or 2', generation);
  const wp = object(d.windowsPartition, 'disk.windowsPartition');
  const disk: SampleManifest['disk'] = {
    file: str(d, 'file', 'disk', SAFE_FILE_NAME),
    compression,
    compressedSize: count(d, 'compressedSize', 'disk'),
    compressedSha256: str(d, 'compressedSha256', 'disk', SHA256_HEX),
    format: str(d, 'format', 'disk', /^vhd-fixed$/) as 'vhd-fixed',
    size: count(d, 'size', 'disk'),
    sha256: str(d, 'sha256', 'disk', SHA256_HEX),
    virtualSize: count(d, 'virtualSize', 'disk'),
    generation,
    partitionScheme: str(d, 'partitionScheme', 'disk', /^(mbr|gpt)$/) as 'mbr' | 'gpt',
    windowsPartition: {
      index: count(wp, 'index', 'disk.windowsPartition'),
      start: count(wp, 'start', 'disk.windowsPartition'),
      size: count(wp, 'size', 'disk.windowsPartition'),
    },
  };
  if (disk.windowsPartition.start + disk.windowsPartition.size > disk.virtualSize)
    throw bad('disk.windowsPartition', `inside the ${disk.virtualSize}-byte disk`, disk.windowsPartition);

  const f = object(m.fault, 'fault');
  const fault: SampleManifest['fault'] = {
    kind: str(f, 'kind', 'fault'),
    path: str(f, 'path', 'fault'),
    record: count(f, 'record', 'fault'),
    details: object(f.details, 'fault.details'),
    changes: changes(f.changes, 'fault.changes'),
    evidence: str(f, 'evidence', 'fault'),
  };
  for (const c of fault.changes) {
    if (c.offset + c.old.length / 2 > disk.virtualSize)
      throw bad('fault.changes.offset', `inside the ${disk.virtualSize}-byte disk`, c.offset);
  }

  const dr = object(m.driver, 'driver');
  const links = dr.links;
  if (!Array.isArray(links) || !links.every((l) => typeof l === 'string'))
    throw bad('driver.links', 'an array of paths', links);
  const driver: SampleManifest['driver'] = {
    ...fileRef(dr, 'driver'),
    name: str(dr, 'name', 'driver'),
    windowsPath: str(dr, 'windowsPath', 'driver'),
    links: links as string[],
    winSxS: str(dr, 'winSxS', 'driver'),
    older: fileRef(dr.older, 'driver.older'),
    driverStore: dr.driverStore === null ? null : fileRef(dr.driverStore, 'driver.driverStore'),
  };

  const e = object(m.expected, 'expected');
  const expected = {
    stopCode: str(e, 'stopCode', 'expected', /^0x[0-9A-Fa-f]{8}$/),
    stopCodeName: str(e, 'stopCodeName', 'expected'),
    file: str(e, 'file', 'expected'),
  };

  const s = object(m.screenshot, 'screenshot');
  const screenshot: SampleManifest['screenshot'] = {
    file: str(s, 'file', 'screenshot', SAFE_FILE_NAME),
    sha256: str(s, 'sha256', 'screenshot', SHA256_HEX),
    size: count(s, 'size', 'screenshot'),
    kind: str(s, 'kind', 'screenshot', /^(boot-manager|recovery)$/) as 'boot-manager' | 'recovery',
    width: count(s, 'width', 'screenshot'),
    height: count(s, 'height', 'screenshot'),
  };

  const t = object(m.trustRoot, 'trustRoot');
  const trustRoot = {
    file: str(t, 'file', 'trustRoot', SAFE_FILE_NAME),
    sha256: str(t, 'sha256', 'trustRoot', SHA256_HEX),
    subject: str(t, 'subject', 'trustRoot'),
    fingerprintSha256: str(t, 'fingerprintSha256', 'trustRoot', SHA256_HEX),
  };

  return {
    manifestVersion: version,
    disk,
    fault,
    driver,
    expected,
    screenshot,
    trustRoot,
    made: object(m.made, 'made'),
  };
}
