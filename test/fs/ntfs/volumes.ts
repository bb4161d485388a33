// Test volumes for the NTFS reader, built with the real tools: `mkntfs -F -Q` on a plain file, a temp tree
// captured by `wimlib-imagex capture` and applied into the image, then ntfs-3g's own tools for what wimlib
// cannot carry from a Linux tree (named streams via `ntfscp -N`, a data size beyond the initialized size via
// `ntfstruncate`). Images are cached by their spec under node_modules/.cache; tests copy before damaging.
import { createHash } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  openSync,
  closeSync,
  ftruncateSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR } from '../../helpers/testdata.js';
import { run, tempDir } from '../../helpers/tools.js';

export interface VolumeSpec {
  /** Volume size in MiB. */
  sizeMiB: number;
  sectorSize?: number;
  clusterSize?: number;
  /** Files in the one big directory (multi-level $I30). */
  bigDir?: number;
  /** Extra named stream and extended (initialized < data size) files. */
  extras?: boolean;
  /** Leave out the multi-MiB files (for the fuzz fixture, copied thousands of times in memory). */
  small?: boolean;
  /** Put a hiberfil.sys in the root starting with these 4 bytes ('HIBR', 'wake', ...). */
  hiberfil?: string;
}

/** Deterministic pseudo-random bytes (xorshift), so cached images are reproducible. */
export function seeded(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const UNICODE_NAMES = [
  'Привет мир.txt',
  '日本語のファイル名.txt',
  'emoji 😀 name.txt',
  'Ünïcödé façade.TXT',
];
export const LONG_NAME = 'L' + 'ong name '.repeat(25).trim() + '.txt';
export const ADS_FILE = '/streams/host.txt';
export const ADS_NAME = 'Zone.Identifier';
export const ADS_BYTES = new TextEncoder().encode('[ZoneTransfer]\r\nZoneId=3\r\n');
export const EXTENDED_FILE = '/extended/grown.bin';
export const EXTENDED_SIZE = 300000;
export const ISLANDS = 300;
export const HARD_LINK_TARGET = '/links/target.bin';
export const HARD_LINKS = 80;
export const DRIVER = '/Windows/System32/drivers/acpi.sys';
export const DRIVER_TWIN =
  '/Windows/WinSxS/amd64_acpi.inf_31bf3856ad364e35_10.0.17763.1_none_5a4ef4c1b0d4c1e4/acpi.sys';

function makeTree(root: string, spec: VolumeSpec): void {
  const file = (rel: string, data: Uint8Array | string): void => {
    const p = join(root, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, data);
  };
  file('Windows/System32/config/SYSTEM', seeded(65536 + 123, 1));
  file(DRIVER_TWIN.slice(1), seeded(40000, 2));
  mkdirSync(join(root, 'Windows/System32/drivers'), { recursive: true });
  linkSync(join(root, DRIVER_TWIN.slice(1)), join(root, DRIVER.slice(1)));
  for (let i = 0; i < 30; i++)
    file(`Windows/System32/drivers/drv${String(i).padStart(2, '0')}.sys`, seeded(500 + i * 997, 100 + i));
  file('Windows/System32/ntoskrnl.exe', seeded(spec.small ? 70000 : 3 * 1024 * 1024 + 17, 3));
  file('empty.txt', '');
  file('tiny.txt', 'hello\n');
  file('a/b/c/d/e/deep.txt', 'deep file\n');
  file(LONG_NAME, 'long\n');
  for (const [i, n] of UNICODE_NAMES.entries()) file(`unicode/${n}`, `unicode ${i}\n`);
  file('streams/host.txt', 'host of a named stream\n');
  file('extended/grown.bin', seeded(5000, 4));
  // A file with a hole: if wimlib keeps sparseness the volume gets a sparse $DATA.
  const sp = join(root, 'sparse/holes.bin');
  mkdirSync(join(sp, '..'), { recursive: true });
  const fd = openSync(sp, 'w');
  writeSync(fd, seeded(8192, 5), 0, 8192, 0);
  const far = spec.small ? 64 * 1024 : 2 * 1024 * 1024;
  writeSync(fd, seeded(8192, 6), 0, 8192, far);
  ftruncateSync(fd, far + 1024 * 1024);
  closeSync(fd);
  if (!spec.small) {
    // 300 data islands between holes: wimlib writes ~600 runs, more than a record holds, so ntfs-3g moves
    // $DATA extents (and names) to extension records under a non-resident $ATTRIBUTE_LIST.
    const isl = openSync(join(root, 'islands.bin'), 'w');
    for (let k = 0; k < ISLANDS; k++) writeSync(isl, seeded(4096, 1000 + k), 0, 4096, k * 8192);
    ftruncateSync(isl, ISLANDS * 8192);
    closeSync(isl);
    // 80 names for one file: the $FILE_NAME attributes overflow the record into extension records too.
    file(HARD_LINK_TARGET.slice(1), seeded(1000, 7));
    for (let i = 1; i <= HARD_LINKS; i++)
      linkSync(
        join(root, HARD_LINK_TARGET.slice(1)),
        join(root, `links/hard link number ${i} with a fairly long name.bin`),
      );
  }
  for (let i = 0; i < (spec.bigDir ?? 0); i++)
    file(`big/entry ${String(i).padStart(5, '0')} of the big directory.dat`, `#${i}\n`);
}

/** Path of a cached volume image built to `spec` (built on first use). */
export function buildVolume(spec: VolumeSpec): string {
  const key = createHash('sha256')
    .update(JSON.stringify({ v: 5, ...spec }))
    .digest('hex')
    .slice(0, 16);
  const dir = join(CACHE_DIR, 'ntfs-reader');
  const image = join(dir, `vol-${key}.img`);
  if (existsSync(image)) return image;
  mkdirSync(dir, { recursive: true });
  const t = tempDir('winrescue-ntfs-build-');
  try {
    const tree = join(t.dir, 'tree');
    makeTree(tree, spec);
    const img = join(t.dir, 'vol.img');
    closeSync(openSync(img, 'w'));
    ftruncateSync(openSync(img, 'r+'), spec.sizeMiB * 1024 * 1024);
    const args = ['-F', '-Q', '-q', '-L', 'WINRESCUE'];
    if (spec.sectorSize) args.push('-s', String(spec.sectorSize));
    if (spec.clusterSize) args.push('-c', String(spec.clusterSize));
    run('mkntfs', [...args, img]);
    const wim = join(t.dir, 'x.wim');
    run('wimlib-imagex', ['capture', tree, wim, '--compress=none', '--no-acls']);
    run('wimlib-imagex', ['apply', wim, '1', img]);
    // wimlib's capture leaves hiberfil.sys out (its default exclusions): ntfs-3g writes it instead.
    if (spec.hiberfil) {
      const src = join(t.dir, 'hiberfil');
      writeFileSync(
        src,
        new Uint8Array([...new TextEncoder().encode(spec.hiberfil), ...new Uint8Array(8188)]),
      );
      run('ntfscp', ['-q', img, src, '/hiberfil.sys']);
    }
    if (spec.extras !== false) {
      const src = join(t.dir, 'ads');
      writeFileSync(src, ADS_BYTES);
      run('ntfscp', ['-q', '-N', ADS_NAME, img, src, ADS_FILE]);
      run('ntfstruncate', [img, String(ntfsInodeOf(img, EXTENDED_FILE)), String(EXTENDED_SIZE)]);
    }
    renameSync(img, image);
  } finally {
    t.cleanup();
  }
  return image;
}

/** sleuthkit's record number for a path. */
export function inodeOf(image: string, path: string, offsetSectors = 0): number {
  const args = offsetSectors ? ['-o', String(offsetSectors)] : [];
  return Number(
    run('ifind', [...args, '-n', path.replace(/^\//, ''), image])
      .toString()
      .trim(),
  );
}

/** ntfs-3g's record number for a path (works where sleuthkit does not, e.g. 2 MiB clusters). */
export function ntfsInodeOf(image: string, path: string): number {
  const m = /Dumping Inode (\d+)/.exec(run('ntfsinfo', ['-F', path, image]).toString());
  if (!m) throw new Error(`ntfsinfo -F ${path}: no inode`);
  return Number(m[1]);
}

export function removeFile(path: string): void {
  rmSync(path, { force: true });
}
