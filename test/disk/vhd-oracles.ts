// Test-side helpers for the VHD tests: the independent readers (qemu-img, libvhdi), random raw images, and a
// differencing-image builder written from the specification on its own (qemu-img cannot make VHD children), so
// that nothing here leans on src/disk/vhd (only the shared error type and ImageFile interface).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run, SYSTEM_PYTHON } from '../helpers/tools.js';
import { WinrescueError } from '../../src/errors.js';
import type { ImageFile } from '../../src/disk/block-device.js';

/** qemu-img's view of the whole virtual disk. `dir` receives a temporary raw file. */
export function qemuRead(path: string, dir: string): Buffer {
  const out = join(dir, `qemu-${process.hrtime.bigint()}.raw`);
  run('qemu-img', [
    'convert',
    '--image-opts',
    `driver=vpc,force_size_calc=current_size,file.filename=${path}`,
    '-O',
    'raw',
    out,
  ]);
  const data = readFileSync(out);
  run('rm', ['-f', out]);
  return data;
}

const LIBVHDI_READ = `
import pyvhdi, sys
def op(p):
    f = pyvhdi.file()
    f.open(p)
    return f
chain = [op(p) for p in sys.argv[1:]]  # keep every reference: a collected parent loses its file handle
for child, parent in reversed(list(zip(chain, chain[1:]))):
    child.set_parent(parent)
c = chain[0]
size = c.media_size
off = 0
while off < size:
    n = min(4096, size - off)  # larger reads that span several blocks of a child come back wrong (libvhdi 20210425)
    sys.stdout.buffer.write(c.read_buffer_at_offset(n, off))
    off += n
`;

/** libvhdi's view of the whole virtual disk (it honours sector bitmaps and, given them, the parent chain). */
export function libvhdiRead(path: string, ...parents: string[]): Buffer {
  return run(SYSTEM_PYTHON, ['-c', LIBVHDI_READ, path, ...parents]);
}

export function libvhdiInfo(path: string): { identifier: string; diskType: number; mediaSize: number } {
  const out = run(SYSTEM_PYTHON, [
    '-c',
    'import pyvhdi,sys,json\nf=pyvhdi.file()\nf.open(sys.argv[1])\nprint(json.dumps([f.identifier,f.disk_type,f.media_size]))',
    path,
  ]).toString();
  const [identifier, diskType, mediaSize] = JSON.parse(out) as [string, number, number];
  return { identifier, diskType, mediaSize };
}

/** A raw image of `size` bytes: random data with zero runs (so that converters leave blocks unallocated). */
export function randomRaw(size: number, zeroRuns: ReadonlyArray<[number, number]>): Uint8Array {
  const data = new Uint8Array(randomBytes(size));
  for (const [at, len] of zeroRuns) data.fill(0, at, Math.min(size, at + len));
  return data;
}

export function writeFile(path: string, data: Uint8Array): string {
  writeFileSync(path, data);
  return path;
}

// ---- a differencing VHD built from the specification's tables ----

const be = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** The spec's checksum: one's complement of the byte sum, the 4-byte field at `at` skipped. */
export function checksum(b: Uint8Array, at: number): number {
  let sum = 0;
  for (let i = 0; i < b.length; i++) if (i < at || i >= at + 4) sum = (sum + b[i]!) >>> 0;
  return ~sum >>> 0;
}

export interface ChildBlock {
  /** One boolean per 512-byte sector of the block: present in the child. */
  readonly present: readonly boolean[];
  /** blockSize bytes; clear sectors may hold garbage, a reader must not show it. */
  readonly data: Uint8Array;
}

export interface ChildSpec {
  readonly size: number;
  readonly blockSize: number;
  /** The parent's unique id (16 bytes as stored at footer offset 68) and time stamp (footer offset 24). */
  readonly parentId: Uint8Array;
  readonly parentTimeStamp: number;
  readonly parentName: string;
  /** Locators, written in this order: [code, path]. */
  readonly locators: ReadonlyArray<[string, string]>;
  readonly blocks: ReadonlyMap<number, ChildBlock>;
  /** 'differencing' (4) by default; 'dynamic' (3) makes a small-block dynamic image with the same builder. */
  readonly type?: 'differencing' | 'dynamic';
}

/** File bytes of a VHD child as the specification lays it out (footer copy, header, BAT, locators, blocks, footer). */
export function buildSparseVhd(spec: ChildSpec): Uint8Array {
  const sectors = spec.blockSize / 512;
  const bitmapBytes = Math.ceil(Math.ceil(sectors / 8) / 512) * 512;
  const entries = Math.ceil(spec.size / spec.blockSize);
  const batBytes = Math.ceil((entries * 4) / 512) * 512;
  const locatorData = spec.locators.map(([code, path]) => {
    const bytes = code === 'MacX' ? new TextEncoder().encode(path) : utf16le(path);
    return { code, bytes, space: Math.ceil(bytes.length / 512) * 512 || 512 };
  });
  let cursor = 512 + 1024 + batBytes;
  const locOffsets = locatorData.map((l) => {
    const o = cursor;
    cursor += l.space;
    return o;
  });
  const blockOrder = [...spec.blocks.keys()].sort((a, b) => b - a); // reverse: file order differs from disk order
  const blockOffsets = new Map<number, number>();
  for (const i of blockOrder) {
    blockOffsets.set(i, cursor);
    cursor += bitmapBytes + spec.blockSize;
  }
  const file = new Uint8Array(cursor + 512);

  const footer = new Uint8Array(512);
  const f = be(footer);
  footer.set(new TextEncoder().encode('conectix'), 0);
  f.setUint32(8, 2);
  f.setUint32(12, 0x10000);
  f.setBigUint64(16, 512n);
  f.setUint32(24, spec.parentTimeStamp + 100);
  footer.set(new TextEncoder().encode('test'), 28);
  f.setUint32(32, 0x10000);
  footer.set(new TextEncoder().encode('Wi2k'), 36);
  f.setBigUint64(40, BigInt(spec.size));
  f.setBigUint64(48, BigInt(spec.size));
  f.setUint32(56, 0xffff10ff); // geometry: irrelevant to readers that use the current size
  f.setUint32(60, spec.type === 'dynamic' ? 3 : 4);
  footer.set(randomBytes(16), 68);
  f.setUint32(64, checksum(footer, 64));
  file.set(footer, 0);
  file.set(footer, cursor);

  const header = new Uint8Array(1024);
  const h = be(header);
  header.set(new TextEncoder().encode('cxsparse'), 0);
  h.setBigUint64(8, 0xffffffffffffffffn);
  h.setBigUint64(16, 1536n);
  h.setUint32(24, 0x10000);
  h.setUint32(28, entries);
  h.setUint32(32, spec.blockSize);
  if (spec.type !== 'dynamic') {
    header.set(spec.parentId, 40);
    h.setUint32(56, spec.parentTimeStamp);
    for (let i = 0; i < spec.parentName.length && i < 256; i++)
      h.setUint16(64 + i * 2, spec.parentName.charCodeAt(i));
    locatorData.forEach((l, i) => {
      const o = 576 + i * 24;
      header.set(new TextEncoder().encode(l.code), o);
      h.setUint32(o + 4, l.space);
      h.setUint32(o + 8, l.bytes.length);
      h.setBigUint64(o + 16, BigInt(locOffsets[i]!));
      file.set(l.bytes, locOffsets[i]!);
    });
  }
  h.setUint32(36, checksum(header, 36));
  file.set(header, 512);

  const bat = be(file.subarray(1536, 1536 + batBytes));
  for (let i = 0; i < batBytes / 4; i++) bat.setUint32(i * 4, 0xffffffff);
  for (const [i, blk] of spec.blocks) {
    const o = blockOffsets.get(i)!;
    bat.setUint32(i * 4, o / 512);
    blk.present.forEach((p, s) => {
      if (p) file[o + (s >> 3)]! |= 0x80 >> (s & 7);
    });
    file.set(blk.data, o + bitmapBytes);
  }
  return file;
}

function utf16le(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) be(out).setUint16(i * 2, s.charCodeAt(i), true);
  return out;
}

// ---- reading a sparse VHD's layout straight from the file, for assertions ----

export interface RawLayout {
  readonly blockSize: number;
  readonly bitmapBytes: number;
  /** File offset of each block, -1 when unallocated. */
  readonly blocks: number[];
}

/** Header and BAT read with plain DataView arithmetic from the file bytes (not through src/disk/vhd). */
export function rawLayout(file: Uint8Array, size: number): RawLayout {
  const v = be(file);
  const headerAt = Number(v.getBigUint64(16));
  const tableAt = Number(v.getBigUint64(headerAt + 16));
  const blockSize = v.getUint32(headerAt + 32);
  const blocks: number[] = [];
  for (let i = 0; i < Math.ceil(size / blockSize); i++) {
    const e = v.getUint32(tableAt + i * 4);
    blocks.push(e === 0xffffffff ? -1 : e * 512);
  }
  return { blockSize, bitmapBytes: Math.ceil(Math.ceil(blockSize / 512 / 8) / 512) * 512, blocks };
}

/** An ImageFile over bytes in memory (grows on writes past its end), for fuzzing without disk I/O. */
export class MemoryImageFile implements ImageFile {
  readOnly: boolean;
  constructor(
    public bytes: Uint8Array,
    readonly path = 'memory.vhd',
    readOnly = false,
  ) {
    this.readOnly = readOnly;
  }
  get size(): number {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset + length > this.bytes.length) {
      throw new WinrescueError('disk.truncated', `${this.path}: file ends at ${this.bytes.length}`, {
        offset,
      });
    }
    return this.bytes.slice(offset, offset + length);
  }
  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw new WinrescueError('disk.readOnly', `${this.path} is read-only`);
    if (offset + data.length > this.bytes.length) {
      const grown = new Uint8Array(offset + data.length);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.set(data, offset);
  }
  async truncate(length: number): Promise<void> {
    const out = new Uint8Array(length);
    out.set(this.bytes.subarray(0, length));
    this.bytes = out;
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
