// FAT volumes for the tests, made and judged by independent tools: mkfs.fat, mtools, fsck.fat.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { FileDevice } from '../../../src/disk/file-device.js';
import { openFat, type FatVolume, type OpenFatOptions } from '../../../src/fs/fat/index.js';

const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLS_NO_VFAT: '' };

export interface FatSpec {
  /** 12, 16 or 32. */
  bits: 12 | 16 | 32;
  sizeMiB: number;
  sectorsPerCluster: number;
}

/** The geometries the tests cover: FAT32 with 512-byte and 4 KiB clusters (sparse), FAT16, FAT12. */
export const SPECS: Record<string, FatSpec> = {
  fat32_512: { bits: 32, sizeMiB: 34, sectorsPerCluster: 1 },
  fat32_4k: { bits: 32, sizeMiB: 260, sectorsPerCluster: 8 },
  fat16_2k: { bits: 16, sizeMiB: 16, sectorsPerCluster: 4 },
  fat12_1k: { bits: 12, sizeMiB: 2, sectorsPerCluster: 2 },
};

export function mkfat(dir: string, name: string, spec: FatSpec): string {
  const img = join(dir, name);
  writeFileSync(img, new Uint8Array(0));
  truncateSync(img, spec.sizeMiB << 20);
  execFileSync(
    'mkfs.fat',
    ['-F', String(spec.bits), '-s', String(spec.sectorsPerCluster), '-S', '512', '-i', '12345678', img],
    {
      stdio: 'pipe',
    },
  );
  return img;
}

export function mtools(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, {
    env: MTOOLS_ENV,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 1 << 28,
  }).toString('latin1');
}

/** Puts `data` at `path` (directories must exist) with mcopy. */
export function mput(img: string, dir: string, path: string, data: Uint8Array): void {
  const local = join(dir, 'mput.tmp');
  writeFileSync(local, data);
  mtools('mcopy', ['-o', '-i', img, local, `::${path}`]);
  rmSync(local);
}

/** The bytes mcopy extracts for `path`. */
export function mget(img: string, dir: string, path: string): Uint8Array {
  const local = join(dir, 'mget.tmp');
  rmSync(local, { force: true });
  mtools('mcopy', ['-n', '-i', img, `::${path}`, local]);
  const data = readFileSync(local);
  rmSync(local);
  return new Uint8Array(data);
}

/** mshowfat's cluster runs for `path`, as [first, last] pairs: "<3-5><9>" → [[3,5],[9,9]]. */
export function mshowfat(img: string, path: string): [number, number][] {
  const out = mtools('mshowfat', ['-i', img, `::${path}`]);
  return [...out.matchAll(/<(\d+)(?:-(\d+))?>/g)].map((m) => [Number(m[1]), Number(m[2] ?? m[1])]);
}

/** fsck.fat -n: exit status and what it said. Clean means status 0 and nothing but the summary line. */
export function fsck(img: string): { clean: boolean; output: string } {
  const r = spawnSync('fsck.fat', ['-n', img], { encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}`;
  const lines = output
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('fsck.fat ') && !l.includes(' files, '));
  return { clean: r.status === 0 && lines.length === 0, output };
}

export async function openImage(
  img: string,
  options: OpenFatOptions & { readOnly?: boolean } = {},
): Promise<{
  vol: FatVolume;
  close: () => Promise<void>;
}> {
  const dev = await FileDevice.open(img, { readOnly: options.readOnly ?? false });
  const vol = await openFat(dev, options);
  return { vol, close: () => dev.close() };
}

/** Deterministic filler bytes: different per seed, so a misplaced cluster shows. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * FAT32: sets FSInfo's next-free hint to "unknown" (fatgen103 §5 allows it), so mtools allocates from cluster 2
 * again and fills holes: how the tests get fragmented files.
 */
export function forgetNextFree(img: string): void {
  const fd = openSync(img, 'r+');
  try {
    const head = Buffer.alloc(512);
    readSync(fd, head, 0, 512, 0);
    if (head.readUInt16LE(22) !== 0) return; // FAT12/16: mtools already allocates first-fit
    const fsInfoSector = head.readUInt16LE(48);
    writeSync(fd, new Uint8Array([0xff, 0xff, 0xff, 0xff]), 0, 4, fsInfoSector * 512 + 492);
  } finally {
    closeSync(fd);
  }
}
