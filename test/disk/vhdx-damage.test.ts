// Damaged VHDX files give the right typed error (or a warning when a second copy saves the day), never another
// exception. Each injected fault is first confirmed by qemu-img. Then a fuzz loop: random mutations of header,
// region table, metadata and BAT bytes (CRCs recomputed half of the time so parsing goes deeper) must end in a
// result or a WinrescueError, within a time bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageFile } from '../../src/disk/block-device.js';
import { detectVhdx, openVhdx } from '../../src/disk/vhdx/index.js';
import { WinrescueError, type ErrorCode } from '../../src/errors.js';
import { crc32c } from '../../src/util/crc.js';
import { run, runStatus, sha256, tempDir } from '../helpers/tools.js';

const MIB = 1 << 20;
const KIB = 1024;
const SIZE = 4 * MIB;
// Where qemu-img 7.2 puts things in a 1 MiB-block dynamic image (asserted in makeBase).
const BAT = 2 * MIB;
const METADATA = 3 * MIB;

/** An ImageFile over bytes in memory, so the fuzz loop needs no disk I/O. */
class MemoryImageFile implements ImageFile {
  readonly path: string;
  constructor(
    public bytes: Uint8Array,
    readonly readOnly = true,
    name = 'damaged.vhdx',
  ) {
    this.path = `/mem/${name}`;
  }
  get size(): number {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset + length > this.bytes.length) {
      throw new WinrescueError('disk.truncated', `${this.path}: ends at ${this.bytes.length}`, { offset });
    }
    return this.bytes.slice(offset, offset + length);
  }
  async write(offset: number, data: Uint8Array): Promise<void> {
    if (offset + data.length > this.bytes.length) await this.truncate(offset + data.length);
    this.bytes.set(data, offset);
  }
  async truncate(length: number): Promise<void> {
    const next = new Uint8Array(length);
    next.set(this.bytes.subarray(0, Math.min(length, this.bytes.length)));
    this.bytes = next;
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

interface Base {
  bytes: Uint8Array;
  raw: Uint8Array;
  dir: string;
}

function makeBase(dir: string): Base {
  const raw = new Uint8Array(randomBytes(SIZE));
  raw.fill(0, 2 * MIB, 3 * MIB);
  writeFileSync(join(dir, 'in.raw'), raw);
  run('qemu-img', [
    'convert',
    '-f',
    'raw',
    '-O',
    'vhdx',
    '-o',
    'subformat=dynamic,block_size=1M',
    join(dir, 'in.raw'),
    join(dir, 'base.vhdx'),
  ]);
  const bytes = new Uint8Array(readFileSync(join(dir, 'base.vhdx')));
  const dv = new DataView(bytes.buffer);
  assert.equal(Number(dv.getBigUint64(192 * KIB + 16 + 16, true)), BAT, 'qemu layout: BAT at 2 MiB');
  assert.equal(
    Number(dv.getBigUint64(192 * KIB + 48 + 16, true)),
    METADATA,
    'qemu layout: metadata at 3 MiB',
  );
  return { bytes, raw, dir };
}

/** Recomputes a header's (4 KiB) or region table's (64 KiB) CRC-32C at `at`, as a careful forger would. */
/**
 * Where the fuzz reads: the first 8 MiB, the first eight blocks (the mutated BAT entries map
 * them, whatever block size the mutated metadata declares) and the last MiB. Reading a whole
 * mutated disk would scale with its declared size, up to 64 TiB of sparse zeros.
 */
function probeOffsets(size: number, blockSize: number): number[] {
  const at = new Set<number>();
  for (let o = 0; o < Math.min(size, 8 * MIB); o += MIB) at.add(o);
  for (let i = 0; i < 8 && i * blockSize < size; i++) at.add(i * blockSize);
  at.add(Math.max(0, size - MIB));
  return [...at].sort((a, b) => a - b);
}

function fixCrc(b: Uint8Array, at: number, length: number): void {
  const dv = new DataView(b.buffer, b.byteOffset);
  dv.setUint32(at + 4, 0, true);
  dv.setUint32(at + 4, crc32c(b.subarray(at, at + length)), true);
}

/** qemu-img's verdict on bytes written to a file: the independent confirmation of a fault. */
function qemuCheck(base: Base, bytes: Uint8Array): { status: number; out: string } {
  const path = join(base.dir, 'fault.vhdx');
  writeFileSync(path, bytes);
  const r = runStatus('qemu-img', ['check', '-f', 'vhdx', path]);
  return { status: r.status, out: r.stdout + r.stderr };
}

async function expectCode(bytes: Uint8Array, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(openVhdx(new MemoryImageFile(bytes), { readOnly: true }), (e: unknown) => {
    assert.ok(e instanceof WinrescueError, `expected WinrescueError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test('damaged files: the right typed error, or a warning when the other copy is good', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const base = makeBase(dir);
    const copy = () => base.bytes.slice();

    // Zero-length and non-VHDX files.
    assert.equal(await detectVhdx(new MemoryImageFile(new Uint8Array(0))), false);
    await expectCode(new Uint8Array(0), 'disk.empty');
    await expectCode(new Uint8Array(3 * MIB), 'disk.badSignature', /"vhdxfile"/);

    // Truncated inside the header section.
    const short = base.bytes.slice(0, 512 * KIB);
    assert.notEqual(qemuCheck(base, short).status, 0);
    await expectCode(short, 'disk.truncated', /1 MiB header section/);

    // Both headers' CRCs broken.
    const both = copy();
    both[64 * KIB + 300]! ^= 1;
    both[128 * KIB + 300]! ^= 1;
    assert.match(qemuCheck(base, both).out, /No valid VHDX header/);
    await expectCode(both, 'disk.badChecksum', /no valid header/);

    // One header broken: the other is used, with a warning; contents unchanged.
    for (const at of [64 * KIB, 128 * KIB]) {
      const one = copy();
      one[at + 200]! ^= 0x40;
      const dev = await openVhdx(new MemoryImageFile(one), { readOnly: true });
      assert.equal(dev.warnings.length, 1);
      assert.match(dev.warnings[0]!, /CRC-32C/);
      assert.equal(sha256(await dev.read(0, SIZE)), sha256(base.raw));
    }

    // Region table CRC: both copies broken → error; only copy 1 (the one qemu reads) → qemu fails, we warn.
    const rt = copy();
    rt[192 * KIB + 1000]! ^= 2;
    assert.notEqual(qemuCheck(base, rt).status, 0);
    const dev = await openVhdx(new MemoryImageFile(rt.slice()), { readOnly: true });
    assert.match(dev.warnings.join('\n'), /region table 1 .*CRC-32C/);
    assert.equal(sha256(await dev.read(0, SIZE)), sha256(base.raw));
    rt[256 * KIB + 1000]! ^= 2;
    await expectCode(rt, 'disk.badChecksum', /no valid region table/);

    // BAT entry 3 → FULLY_PRESENT at 0x5500000, far past the end: opens with a warning; block 3 fails to read.
    const far = copy();
    new DataView(far.buffer).setBigUint64(BAT + 3 * 8, (0x55n << 20n) | 6n, true);
    assert.match(qemuCheck(base, far).out, /BAT entry 3 start offset .* points after end of file/);
    const fdev = await openVhdx(new MemoryImageFile(far), { readOnly: true });
    const expected = `VHDX damaged.vhdx: BAT entry 3 (block 3) points at 0x5500000, past the end of the file (${'0x' + far.length.toString(16)} bytes)`;
    assert.deepEqual(fdev.warnings, [expected]);
    assert.deepEqual(
      await fdev.read(0, 3 * MIB),
      base.raw.subarray(0, 3 * MIB),
      'the other blocks stay readable',
    );
    await assert.rejects(
      fdev.read(3 * MIB, 1),
      (e: unknown) =>
        e instanceof WinrescueError && e.code === 'disk.badField' && e.message === expected && e.record === 3,
    );

    // File truncated inside the last payload block.
    const cut = base.bytes.slice(0, base.bytes.length - MIB / 2);
    assert.match(qemuCheck(base, cut).out, /points after end of file/);
    const cdev = await openVhdx(new MemoryImageFile(cut), { readOnly: true });
    assert.match(cdev.warnings.join('\n'), /past the end of the file/);
    await assert.rejects(
      cdev.read(0, SIZE),
      (e: unknown) => e instanceof WinrescueError && e.code === 'disk.badField',
    );
    // A writable open refuses to write over that entry too, instead of cross-linking a new block with it.
    const wdev = await openVhdx(new MemoryImageFile(cut.slice(), false), { readOnly: false });
    await assert.rejects(
      wdev.write(SIZE - 10, new Uint8Array(5)),
      (e: unknown) => e instanceof WinrescueError && e.code === 'disk.badField',
    );

    // Two BAT entries sharing one block.
    const shared = copy();
    const dv = new DataView(shared.buffer);
    dv.setBigUint64(BAT + 1 * 8, dv.getBigUint64(BAT, true), true);
    const sdev = await openVhdx(new MemoryImageFile(shared), { readOnly: true });
    assert.match(sdev.warnings.join('\n'), /BAT entry 1 points at .*which BAT entry 0 also uses/);

    // An unknown metadata item marked required; an unknown region marked required.
    const meta = copy();
    meta[METADATA + 32]! ^= 0xff; // first entry's item GUID: no longer File Parameters, still IsRequired
    await expectCode(meta, 'disk.unsupported', /marked required/);
    const region = copy();
    const rv = new DataView(region.buffer);
    for (const t of [192 * KIB, 256 * KIB]) {
      // A third entry: an unknown region GUID at 8 MiB, Required = 1 (qemu itself writes Required = 0).
      rv.setUint32(t + 8, 3, true);
      region.set(randomBytes(16), t + 16 + 2 * 32);
      rv.setBigUint64(t + 16 + 2 * 32 + 16, BigInt(8 * MIB), true);
      rv.setUint32(t + 16 + 2 * 32 + 24, MIB, true);
      rv.setUint32(t + 16 + 2 * 32 + 28, 1, true);
      fixCrc(region, t, 64 * KIB);
    }
    await expectCode(region, 'disk.unsupported', /region .* marked required/);

    // Block size 3 MiB: not a power of two.
    const bs = copy();
    const fpEntry = METADATA + 32; // qemu writes File Parameters first
    const fpOffset = new DataView(bs.buffer).getUint32(fpEntry + 16, true);
    new DataView(bs.buffer).setUint32(METADATA + fpOffset, 3 * MIB, true);
    await expectCode(bs, 'disk.badField', /block size/);
  } finally {
    cleanup();
  }
});

test('fuzz: 400 random mutations of header, region table, metadata and BAT bytes never escape as untyped errors', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const base = makeBase(dir);
    const metaItems = METADATA + 64 * KIB;
    const targets = [
      { at: 0, len: 16, crc: undefined },
      { at: 64 * KIB, len: 80, crc: 4 * KIB },
      { at: 128 * KIB, len: 80, crc: 4 * KIB },
      { at: 192 * KIB, len: 80, crc: 64 * KIB },
      { at: 256 * KIB, len: 80, crc: 64 * KIB },
      { at: METADATA, len: 32 * 7, crc: undefined },
      { at: metaItems, len: 64, crc: undefined },
      { at: BAT, len: 6 * 8, crc: undefined },
    ] as const;
    const started = Date.now();
    const outcomes = new Map<string, number>();
    const property = fc.asyncProperty(
      fc.array(
        fc.record({
          target: fc.integer({ min: 0, max: targets.length - 1 }),
          pos: fc.nat(),
          value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0xff, 0x80, 0x7f, 1)),
        }),
        { minLength: 1, maxLength: 6 },
      ),
      fc.boolean(),
      fc.boolean(),
      async (mutations, fixCrcs, writable) => {
        const bytes = base.bytes.slice();
        for (const m of mutations) {
          const t = targets[m.target]!;
          bytes[t.at + (m.pos % t.len)] = m.value;
        }
        if (fixCrcs) for (const t of targets) if (t.crc) fixCrc(bytes, t.at, t.crc);
        const t0 = Date.now();
        let outcome = 'ok';
        try {
          const dev = await openVhdx(new MemoryImageFile(bytes, !writable), { readOnly: !writable });
          for (const o of probeOffsets(dev.size, dev.blockSize)) {
            try {
              await dev.read(o, Math.min(MIB, dev.size - o));
            } catch (e) {
              if (!(e instanceof WinrescueError)) throw e;
            }
          }
          if (writable) {
            try {
              await dev.write(Math.floor(dev.size / 2), new Uint8Array(5000).fill(7));
            } catch (e) {
              if (!(e instanceof WinrescueError)) throw e;
            }
          }
          await dev.close();
        } catch (e) {
          if (!(e instanceof WinrescueError)) throw e;
          outcome = e.code;
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        assert.ok(Date.now() - t0 < 5000, 'one case took more than 5 s');
      },
    );
    await fc.assert(property, { numRuns: 400 });
    // Seed 15502811 once declared a 36 GiB sparse disk (metadata byte 12 set to 9) and the old
    // loop read all of it, 1 MiB at a time; replay that case so the probe stays bounded.
    await fc.assert(property, {
      seed: 15502811,
      path: '286:39:36:36:36:36:38:43:40:35:37:40',
      endOnFailure: true,
    });
    assert.ok(Date.now() - started < 40000, `fuzz loop took ${Date.now() - started} ms`);
    // The loop reached both failures and successful opens.
    assert.ok((outcomes.get('ok') ?? 0) > 20, JSON.stringify([...outcomes]));
    assert.ok(outcomes.size > 3, JSON.stringify([...outcomes]));
  } finally {
    cleanup();
  }
});
