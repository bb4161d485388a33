// The bundled sample broken disk (demo/, made by scripts/make-demo.ts): decompress it into a private file with
// Node's own zlib (brotli or gzip; the package needs no xz), check it against demo/manifest.json, and hand back
// the paths `winrescue demo` works on. The committed assets are never written.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBrotliDecompress, createGunzip } from 'node:zlib';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WinrescueError } from '../errors.js';
import { parseSampleManifest, type SampleManifest } from './manifest.js';

/**
 * demo/ at the package root: two levels above this module both as src/demo/extract.ts (tsx) and as
 * dist/demo/extract.js (built with rootDir src).
 */
export const DEMO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'demo');

const MANIFEST_FILE = 'manifest.json';
/** Decompressed pieces; an all-zero piece is skipped, leaving a hole (most of the sample disk is zeros). */
const CHUNK = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

export interface ExtractedSample {
  /** The private, writable copy of the broken disk (a fixed VHD). */
  readonly disk: string;
  /** The boot screen that goes with it (in the sample folder: read it, do not write it). */
  readonly screenshot: string;
  /** The test CA certificate that signed the disk's synthetic drivers (public PEM only). */
  readonly trustRoot: string;
  readonly manifest: SampleManifest;
}

export interface ExtractOptions {
  /** Where the committed assets are (default DEMO_DIR). */
  readonly sampleDir?: string;
  /** File name of the extracted disk in destDir (default 'demo-disk.vhd'). */
  readonly diskName?: string;
}

function badSample(message: string, details: ConstructorParameters<typeof WinrescueError>[2] = {}) {
  return new WinrescueError('demo.badSample', message, { structure: 'demo.sample', ...details });
}

const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

async function readAsset(dir: string, name: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, name));
  } catch (e) {
    throw badSample(`the sample's ${name} cannot be read in ${dir}`, { path: join(dir, name), cause: e });
  }
}

/** demo/manifest.json, validated. */
export async function readSampleManifest(sampleDir: string = DEMO_DIR): Promise<SampleManifest> {
  const text = (await readAsset(sampleDir, MANIFEST_FILE)).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw badSample(`${join(sampleDir, MANIFEST_FILE)} is not JSON`, { cause: e });
  }
  return parseSampleManifest(json);
}

/** A small asset whose bytes must be the ones the manifest names. */
async function checkedAsset(dir: string, name: string, sha256: string): Promise<string> {
  const actual = sha256Hex(await readAsset(dir, name));
  if (actual !== sha256)
    throw badSample(`the sample's ${name} is not the one demo/manifest.json describes`, {
      path: join(dir, name),
      expected: sha256,
      actual,
    });
  return join(dir, name);
}

function decompressor(kind: SampleManifest['disk']['compression']): Transform {
  return kind === 'brotli'
    ? createBrotliDecompress({ chunkSize: CHUNK })
    : createGunzip({ chunkSize: CHUNK });
}

/**
 * Streams the compressed disk into `out`, writing only pieces that hold a non-zero byte; stops as soon as the
 * output would outgrow the manifest's size, so a damaged or hostile file cannot fill the disk.
 */
async function inflateSparse(
  source: string,
  out: string,
  m: SampleManifest['disk'],
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  const fh = await open(out, 'w');
  let at = 0;
  try {
    // pipeline: a read error or a decompression error ends the loop instead of leaving it waiting.
    await pipeline(
      createReadStream(source),
      decompressor(m.compression),
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) {
          if (at + chunk.length > m.size) {
            throw badSample(`${source} decompresses to more than the manifest's ${m.size} bytes`, {
              offset: at,
              expected: m.size,
              actual: at + chunk.length,
            });
          }
          hash.update(chunk);
          if (!chunk.equals(ZEROS.subarray(0, chunk.length))) await fh.write(chunk, 0, chunk.length, at);
          at += chunk.length;
        }
      },
    ).catch((e: unknown) => {
      if (e instanceof WinrescueError) throw e;
      throw badSample(`${source} cannot be decompressed (${m.compression}): ${(e as Error).message}`, {
        offset: at,
        cause: e,
      });
    });
    // Trailing zeros were skipped: the length comes from truncate, the bytes read back as zeros.
    await fh.truncate(at);
  } finally {
    await fh.close();
  }
  return { size: at, sha256: hash.digest('hex') };
}

/**
 * Decompresses the sample disk into `destDir` and checks it byte for byte (sha256) against the manifest;
 * also checks the screenshot and the trust root. A mismatch removes the extracted file and throws demo.badSample.
 */
export async function extractSample(destDir: string, options: ExtractOptions = {}): Promise<ExtractedSample> {
  const dir = options.sampleDir ?? DEMO_DIR;
  const manifest = await readSampleManifest(dir);
  const screenshot = await checkedAsset(dir, manifest.screenshot.file, manifest.screenshot.sha256);
  const trustRoot = await checkedAsset(dir, manifest.trustRoot.file, manifest.trustRoot.sha256);

  const compressed = join(dir, manifest.disk.file);
  const onDisk = await stat(compressed).catch((e: unknown) => {
    throw badSample(`the sample disk ${compressed} cannot be read`, { path: compressed, cause: e });
  });
  if (onDisk.size !== manifest.disk.compressedSize) {
    // A Git LFS pointer or a partial download: say so before unpacking anything.
    throw badSample(
      `the sample disk ${compressed} is ${onDisk.size} bytes, its manifest says ${manifest.disk.compressedSize}`,
      {
        path: compressed,
        expected: manifest.disk.compressedSize,
        actual: onDisk.size,
      },
    );
  }
  await mkdir(destDir, { recursive: true });
  const disk = join(destDir, options.diskName ?? 'demo-disk.vhd');
  let got: { size: number; sha256: string };
  try {
    got = await inflateSparse(compressed, disk, manifest.disk);
  } catch (e) {
    await rm(disk, { force: true });
    if (e instanceof WinrescueError) throw e;
    throw badSample(`cannot extract the sample disk to ${disk}: ${(e as Error).message}`, { cause: e });
  }
  if (got.size !== manifest.disk.size || got.sha256 !== manifest.disk.sha256) {
    await rm(disk, { force: true });
    throw badSample(
      `the sample disk ${manifest.disk.file} does not decompress to the disk its manifest names`,
      {
        path: join(dir, manifest.disk.file),
        expected: { size: manifest.disk.size, sha256: manifest.disk.sha256 },
        actual: got,
      },
    );
  }
  return { disk, screenshot, trustRoot, manifest };
}
