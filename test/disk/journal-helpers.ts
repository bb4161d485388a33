// Test doubles for the undo journal: a file that loses what was not flushed when the power goes, journal storage
// on top of it, a seeded random source, and small container images made by qemu-img.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageFile } from '../../src/disk/block-device.js';
import type { JournalStorage } from '../../src/disk/journal/index.js';
import { run } from '../helpers/tools.js';

/** mulberry32: a small seeded generator, so a failing trial can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class PowerLoss extends Error {
  constructor() {
    super('power lost');
  }
}

/** Counts operations across several files and cuts the power at the chosen one. */
export class World {
  ops = 0;
  dead = false;
  constructor(readonly crashAt = Infinity) {}
  tick(): void {
    if (this.dead) throw new PowerLoss();
    if (this.ops++ >= this.crashAt) {
      this.dead = true;
      throw new PowerLoss();
    }
  }
}

/** Disk sectors: a crash tears a write only at these boundaries. */
const SECTOR = 512;

type Op = { kind: 'write'; offset: number; data: Uint8Array } | { kind: 'truncate'; length: number };

/**
 * An ImageFile whose writes and truncates are volatile until flush(). After a power loss, `afterCrash` gives what
 * could be on the platter: the flushed state plus any subset of the later operations, each kept, dropped, or
 * (writes) torn at sector boundaries, in their order.
 */
export class PowerLossFile implements ImageFile {
  readonly readOnly = false;
  private cur: Uint8Array;
  private durable: Uint8Array;
  private pending: Op[] = [];

  constructor(
    initial: Uint8Array,
    private readonly world: World = new World(),
    readonly path = 'sim.img',
  ) {
    this.cur = initial.slice();
    this.durable = initial.slice();
  }

  get size(): number {
    return this.cur.length;
  }
  bytes(): Uint8Array {
    return this.cur.slice();
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.world.tick();
    if (offset + length > this.cur.length)
      throw new Error(`read past end ${offset}+${length} > ${this.cur.length}`);
    return this.cur.slice(offset, offset + length);
  }
  async write(offset: number, data: Uint8Array): Promise<void> {
    this.world.tick();
    this.cur = apply(this.cur, { kind: 'write', offset, data });
    this.pending.push({ kind: 'write', offset, data: data.slice() });
  }
  async truncate(length: number): Promise<void> {
    this.world.tick();
    this.cur = apply(this.cur, { kind: 'truncate', length });
    this.pending.push({ kind: 'truncate', length });
  }
  async flush(): Promise<void> {
    this.world.tick();
    for (const op of this.pending) this.durable = apply(this.durable, op);
    this.pending = [];
  }
  async close(): Promise<void> {}

  afterCrash(random: () => number): Uint8Array {
    let out: Uint8Array = this.durable.slice();
    for (const op of this.pending) {
      const r = random();
      if (r < 1 / 3) continue;
      if (op.kind === 'truncate' || r < 2 / 3) {
        out = apply(out, op);
        continue;
      }
      for (let pos = op.offset; pos < op.offset + op.data.length;) {
        const end = Math.min(op.offset + op.data.length, (Math.floor(pos / SECTOR) + 1) * SECTOR);
        if (random() < 0.5) {
          out = apply(out, {
            kind: 'write',
            offset: pos,
            data: op.data.subarray(pos - op.offset, end - op.offset),
          });
        }
        pos = end;
      }
    }
    return out;
  }
}

function apply(b: Uint8Array, op: Op): Uint8Array {
  if (op.kind === 'truncate') {
    const out = new Uint8Array(op.length);
    out.set(b.subarray(0, Math.min(b.length, op.length)));
    return out;
  }
  let out = b;
  const end = op.offset + op.data.length;
  if (end > b.length) {
    out = new Uint8Array(end);
    out.set(b);
  }
  out.set(op.data, op.offset);
  return out;
}

/** Journal storage in a PowerLossFile; create() is atomic as a rename is. */
export class SimStorage implements JournalStorage {
  file: PowerLossFile | null;
  retiredFile: PowerLossFile | null = null;

  constructor(
    private readonly world: World,
    initial: Uint8Array | null = null,
    readonly path = 'sim.img.winrescue-undo',
  ) {
    this.file = initial && new PowerLossFile(initial, world, path);
  }
  async load(): Promise<Uint8Array | null> {
    this.world.tick();
    return this.file ? this.file.bytes() : null;
  }
  async openForAppend(): Promise<ImageFile> {
    this.world.tick();
    return this.file!;
  }
  async create(initial: Uint8Array): Promise<ImageFile> {
    this.world.tick();
    this.file = new PowerLossFile(initial, this.world, this.path);
    return this.file;
  }
  async retire(): Promise<string> {
    this.world.tick();
    this.retiredFile = this.file;
    this.file = null;
    return this.path + '.done';
  }
  async retired(): Promise<string | null> {
    return this.retiredFile ? this.path + '.done' : null;
  }
}

export type ImageKind = 'raw' | 'vhd-fixed' | 'vhd-dynamic' | 'vhdx';

/** qemu-img's format name for each kind (a fixed VHD must be read as vpc, never as raw). */
export const QEMU_FORMAT: Record<ImageKind, string> = {
  raw: 'raw',
  'vhd-fixed': 'vpc',
  'vhd-dynamic': 'vpc',
  vhdx: 'vhdx',
};

/** A fresh, empty image of `kind` made by qemu-img in `dir`. */
export function makeImage(dir: string, kind: ImageKind, mib: number, name = `base-${kind}`): string {
  const path = join(dir, name);
  const size = `${mib}M`;
  if (kind === 'raw') run('qemu-img', ['create', '-q', '-f', 'raw', path, size]);
  else if (kind === 'vhd-fixed')
    run('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=fixed,force_size=on', path, size]);
  else if (kind === 'vhd-dynamic')
    run('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'force_size=on', path, size]);
  else run('qemu-img', ['create', '-q', '-f', 'vhdx', '-o', 'block_size=1M', path, size]);
  return path;
}

export function copyImage(from: string, to: string): string {
  copyFileSync(from, to);
  return to;
}

/** The virtual disk's bytes as qemu-img reads them. */
export function qemuRaw(path: string, kind: ImageKind, dir: string): Uint8Array {
  const out = join(dir, 'qemu-raw.tmp');
  run('qemu-img', ['convert', '-f', QEMU_FORMAT[kind], '-O', 'raw', path, out]);
  return new Uint8Array(readFileSync(out));
}
