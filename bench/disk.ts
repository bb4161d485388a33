// Sequential read of a ≥ 1 GiB fixed VHD and dynamic VHDX through our layer against `qemu-img convert`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDisk } from '../src/disk/open-disk.js';
import { isZero } from '../src/util/bytes.js';
import type { BenchResult } from './run.js';

const CACHE = join(process.cwd(), 'node_modules', '.cache', 'winrescue', 'bench');
const GiB = 1024 * 1024 * 1024;
const CHUNK = 4 * 1024 * 1024;

/** A 1 GiB raw image, three quarters filled with varied data, one quarter left sparse (zero). */
function sourceImage(): string {
  const raw = join(CACHE, 'bench-1g.raw');
  if (existsSync(raw)) return raw;
  mkdirSync(CACHE, { recursive: true });
  const fd = openSync(raw + '.tmp', 'w');
  const chunk = new Uint8Array(CHUNK);
  let x = 0x12345678;
  for (let off = 0; off < GiB; off += CHUNK) {
    if ((off / CHUNK) % 4 === 3) continue;
    for (let i = 0; i < CHUNK; i += 4) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      chunk[i] = x >>> 24;
      chunk[i + 1] = x >>> 16;
    }
    writeSync(fd, chunk, 0, CHUNK, off);
  }
  closeSync(fd);
  execFileSync('truncate', ['-s', String(GiB), raw + '.tmp']);
  execFileSync('mv', [raw + '.tmp', raw]);
  return raw;
}

function container(raw: string, name: string, args: string[]): string {
  const out = join(CACHE, name);
  if (!existsSync(out)) execFileSync('qemu-img', ['convert', '-f', 'raw', ...args, raw, out]);
  return out;
}

async function ours(path: string, outPath: string): Promise<number> {
  const t0 = performance.now();
  const disk = await openDisk(path, { readOnly: true });
  const out = await open(outPath, 'w');
  // Like qemu-img convert, leave zero runs as holes in the output: the comparison is of reading, not writing.
  await out.truncate(disk.device.size);
  for (let off = 0; off < disk.device.size; off += CHUNK) {
    const n = Math.min(CHUNK, disk.device.size - off);
    const data = await disk.device.read(off, n);
    if (!isZero(data)) await out.write(data, 0, n, off);
  }
  await out.close();
  await disk.device.close();
  return (performance.now() - t0) / 1000;
}

function qemu(path: string, fmt: string, outPath: string): number {
  const t0 = performance.now();
  execFileSync('qemu-img', ['convert', '-f', fmt, '-O', 'raw', path, outPath]);
  return (performance.now() - t0) / 1000;
}

export async function diskBench(): Promise<BenchResult[]> {
  const raw = sourceImage();
  const cases = [
    {
      name: 'read 1 GiB fixed VHD',
      file: container(raw, 'bench-1g-fixed.vhd', ['-O', 'vpc', '-o', 'subformat=fixed,force_size=on']),
      fmt: 'vpc',
    },
    {
      name: 'read 1 GiB dynamic VHDX',
      file: container(raw, 'bench-1g-dynamic.vhdx', ['-O', 'vhdx']),
      fmt: 'vhdx',
    },
  ];
  const results: BenchResult[] = [];
  const outPath = join(CACHE, 'out.raw');
  for (const c of cases) {
    // Warm the page cache for both with one untimed pass, then take the best of two.
    await ours(c.file, outPath);
    const o = Math.min(await ours(c.file, outPath), await ours(c.file, outPath));
    const q = Math.min(qemu(c.file, c.fmt, outPath), qemu(c.file, c.fmt, outPath));
    results.push({
      name: c.name,
      ours: o,
      theirs: q,
      tool: 'qemu-img convert',
      extra: `${(GiB / o / 1024 / 1024).toFixed(0)} MiB/s ours`,
    });
  }
  rmSync(outPath, { force: true });
  return results;
}
