// VHDX log replay. No tool makes VHDX logs on demand, so the entries are built here byte by byte from [MS-VHDX]
// §2.3.1 (entry header, data and zero descriptors, data sectors, CRC-32C) into a qemu-made image. qemu-img
// replays logs when it opens an image read-write (`qemu-img check -r all`): it is the oracle for the result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ImageFileHandle } from '../../src/disk/file-device.js';
import { openVhdx, type VhdxDevice } from '../../src/disk/vhdx/index.js';
import { WinrescueError } from '../../src/errors.js';
import { crc32c } from '../../src/util/crc.js';
import { SYSTEM_PYTHON, run, runStatus, sha256, sha256File, tempDir } from '../helpers/tools.js';

const MIB = 1 << 20;
const SIZE = 4 * MIB;
const SECTOR = 4096;
const LOG_OFFSET = MIB; // qemu puts its 1 MiB log here; checked from the header below

type Descriptor =
  | { kind: 'data'; fileOffset: number; data: Uint8Array }
  | { kind: 'zero'; fileOffset: number; length: number };

/** §2.3.1: one log entry, descriptors after the 64-byte header, then one data sector per data descriptor. */
function logEntry(e: {
  seq: bigint;
  tail: number;
  logGuid: Uint8Array;
  flushed: number;
  last: number;
  descriptors: Descriptor[];
}): Buffer {
  const descSectors = Math.ceil((64 + 32 * e.descriptors.length) / SECTOR);
  const dataCount = e.descriptors.filter((d) => d.kind === 'data').length;
  const b = Buffer.alloc((descSectors + dataCount) * SECTOR);
  b.write('loge', 0, 'latin1');
  b.writeUInt32LE(b.length, 8);
  b.writeUInt32LE(e.tail, 12);
  b.writeBigUInt64LE(e.seq, 16);
  b.writeUInt32LE(e.descriptors.length, 24);
  b.set(e.logGuid, 32);
  b.writeBigUInt64LE(BigInt(e.flushed), 48);
  b.writeBigUInt64LE(BigInt(e.last), 56);
  let sector = descSectors;
  e.descriptors.forEach((d, i) => {
    const o = 64 + 32 * i;
    if (d.kind === 'zero') {
      b.write('zero', o, 'latin1');
      b.writeBigUInt64LE(BigInt(d.length), o + 8);
    } else {
      b.write('desc', o, 'latin1');
      b.set(d.data.subarray(4092, 4096), o + 4); // trailing bytes
      b.set(d.data.subarray(0, 8), o + 8); // leading bytes
      const s = sector++ * SECTOR;
      b.write('data', s, 'latin1');
      b.writeUInt32LE(Number(e.seq >> 32n), s + 4);
      b.set(d.data.subarray(8, 4092), s + 8);
      b.writeUInt32LE(Number(e.seq & 0xffffffffn), s + 4092);
    }
    b.writeBigUInt64LE(BigInt(d.fileOffset), o + 16);
    b.writeBigUInt64LE(e.seq, o + 24);
  });
  b.writeUInt32LE(crc32c(b), 4);
  return b;
}

function pread(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  const b = Buffer.alloc(length);
  readSync(fd, b, 0, length, offset);
  closeSync(fd);
  return b;
}

function pwrite(path: string, offset: number, data: Uint8Array): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, data, 0, data.length, offset);
  closeSync(fd);
}

/** Rewrites both headers (§2.2.2) with a LogGuid (and optionally a LogVersion), CRC-32C recomputed by hand. */
function setLog(path: string, logGuid: Uint8Array, logVersion = 0): void {
  for (const at of [64 * 1024, 128 * 1024]) {
    const h = pread(path, at, 4096);
    h.set(logGuid, 48);
    h.writeUInt16LE(logVersion, 64);
    h.writeUInt32LE(0, 4);
    h.writeUInt32LE(crc32c(h), 4);
    pwrite(path, at, h);
  }
}

interface Dirty {
  path: string;
  model: Uint8Array;
  grownTo: number;
}

/**
 * A qemu-made image (blocks 0 and 2 hold data, 1 and 3 are zero) with an unreplayed log: a newly appended payload
 * block for virtual block 1 whose BAT update exists only in the log (entry 10), then entry 11 zeroing 8 KiB of block
 * 2 and rewriting the first 4 KiB of block 0. Around them: a stale older sequence (seq 3) that would wreck the BAT,
 * and an entry with a foreign LogGuid and a higher sequence number. Neither may be replayed.
 */
function makeDirty(dir: string, opts: { flushedExtra?: number } = {}): Dirty {
  const raw = new Uint8Array(randomBytes(SIZE));
  raw.fill(0, MIB, 2 * MIB);
  raw.fill(0, 3 * MIB, 4 * MIB);
  writeFileSync(join(dir, 'in.raw'), raw);
  const path = join(dir, 'dirty.vhdx');
  run('qemu-img', [
    'convert',
    '-f',
    'raw',
    '-O',
    'vhdx',
    '-o',
    'subformat=dynamic,block_size=1M',
    join(dir, 'in.raw'),
    path,
  ]);
  const header = pread(path, 64 * 1024, 4096);
  assert.equal(Number(header.readBigUInt64LE(72)), LOG_OFFSET);
  const logLength = header.readUInt32LE(68);
  const regions = pread(path, 192 * 1024, 64 * 1024);
  let bat = -1;
  for (let i = 0; i < regions.readUInt32LE(8); i++) {
    if (regions.readUInt32LE(16 + 32 * i) === 0x2dc27766) bat = Number(regions.readBigUInt64LE(32 + 32 * i));
  }
  const batSector = pread(path, bat, SECTOR);
  const entryOffset = (i: number) => Number(batSector.readBigUInt64LE(i * 8) >> 20n) * MIB;
  const block0 = entryOffset(0);
  const block2 = entryOffset(2);
  assert.equal(batSector.readBigUInt64LE(0) & 7n, 6n, 'block 0 is FULLY_PRESENT');
  assert.notEqual(batSector.readBigUInt64LE(8) & 7n, 6n, 'block 1 is not allocated');

  const end = statSync(path).size;
  assert.equal(end % MIB, 0);
  const newBlock = new Uint8Array(randomBytes(MIB));
  pwrite(path, end, newBlock); // payload is never logged (§2.3): written in place before the BAT update
  const newBat = Buffer.from(batSector);
  newBat.writeBigUInt64LE((BigInt(end / MIB) << 20n) | 6n, 8);
  const first4k = new Uint8Array(randomBytes(SECTOR));

  const guid = randomBytes(16);
  const flushed = end + MIB + (opts.flushedExtra ?? 0);
  const grownTo = end + 3 * MIB; // LastFileOffset of the head: the file must grow to it
  const stale = logEntry({
    seq: 3n,
    tail: 0,
    logGuid: guid,
    flushed,
    last: flushed,
    descriptors: [{ kind: 'data', fileOffset: bat, data: new Uint8Array(SECTOR).fill(0xee) }],
  });
  const a = logEntry({
    seq: 10n,
    tail: stale.length,
    logGuid: guid,
    flushed,
    last: end + MIB,
    descriptors: [{ kind: 'data', fileOffset: bat, data: newBat }],
  });
  const b = logEntry({
    seq: 11n,
    tail: stale.length,
    logGuid: guid,
    flushed,
    last: grownTo,
    descriptors: [
      { kind: 'zero', fileOffset: block2 + SECTOR, length: 2 * SECTOR },
      { kind: 'data', fileOffset: block0, data: first4k },
    ],
  });
  const foreign = logEntry({
    seq: 12n,
    tail: stale.length,
    logGuid: randomBytes(16),
    flushed,
    last: flushed,
    descriptors: [{ kind: 'zero', fileOffset: bat, length: SECTOR }],
  });
  const log = Buffer.concat([stale, a, b, foreign]);
  assert.ok(log.length <= logLength);
  pwrite(path, LOG_OFFSET, log);
  setLog(path, guid);

  const model = raw.slice();
  model.set(newBlock, MIB);
  model.fill(0, 2 * MIB + SECTOR, 2 * MIB + 3 * SECTOR);
  model.set(first4k, 0);
  return { path, model, grownTo };
}

async function openPath(path: string, readOnly: boolean): Promise<VhdxDevice> {
  const file = await ImageFileHandle.open(path, readOnly);
  try {
    return await openVhdx(file, { readOnly });
  } catch (e) {
    await file.close();
    throw e;
  }
}

function headersLogGuids(path: string): string[] {
  return [64 * 1024, 128 * 1024].map((at) => pread(path, at + 48, 16).toString('hex'));
}

test('a hand-built log is replayed: in memory when read-only, into the file when writable; qemu-img agrees', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const dirty = makeDirty(dir);
    // The injected log is real: qemu refuses a read-only open of the image until it is replayed.
    const ro = runStatus('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', dirty.path, join(dir, 'x.raw')]);
    assert.notEqual(ro.status, 0);
    assert.match(ro.stderr, /log/i);

    const byQemu = join(dir, 'qemu.vhdx');
    copyFileSync(dirty.path, byQemu);
    const check = runStatus('qemu-img', ['check', '-r', 'all', '-f', 'vhdx', byQemu]);
    assert.equal(check.status, 0, check.stdout + check.stderr);
    run('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', byQemu, join(dir, 'qemu.raw')]);
    assert.equal(await sha256File(join(dir, 'qemu.raw')), sha256(dirty.model), 'qemu replays to the model');

    // Read-only: replayed in memory, the file untouched.
    const before = await sha256File(dirty.path);
    const dev = await openPath(dirty.path, true);
    assert.equal(sha256(await dev.read(0, SIZE)), sha256(dirty.model));
    assert.ok(
      dev.warnings.some((w) => /replayed 2 log entries .*in memory/.test(w)),
      dev.warnings.join('\n'),
    );
    await dev.close();
    assert.equal(await sha256File(dirty.path), before);

    // Writable: replayed into the file, log marked empty, file grown to LastFileOffset.
    const w = await openPath(dirty.path, false);
    assert.ok(w.warnings.some((x) => /into the file/.test(x)));
    assert.equal(sha256(await w.read(0, SIZE)), sha256(dirty.model));
    await w.close();
    assert.deepEqual(headersLogGuids(dirty.path), ['00'.repeat(16), '00'.repeat(16)]);
    assert.ok(statSync(dirty.path).size >= dirty.grownTo);
    const clean = runStatus('qemu-img', ['check', '-f', 'vhdx', dirty.path]);
    assert.equal(clean.status, 0, clean.stdout + clean.stderr);
    run('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', dirty.path, join(dir, 'ours.raw')]);
    assert.equal(
      await sha256File(join(dir, 'ours.raw')),
      sha256(dirty.model),
      'qemu reads our replayed file as the model',
    );
    const lv = run(SYSTEM_PYTHON, [
      '-c',
      'import pyvhdi,sys,hashlib; f=pyvhdi.file(); f.open(sys.argv[1]); print(hashlib.sha256(f.read_buffer_at_offset(f.get_media_size(),0)).hexdigest())',
      dirty.path,
    ]);
    assert.equal(lv.toString().trim(), sha256(dirty.model));
  } finally {
    cleanup();
  }
});

test('log edge cases: truncated file, unknown log version, LogGuid without a valid sequence', async () => {
  const { dir, cleanup } = tempDir();
  try {
    // FlushedFileOffset past the end of the file: §2.3.3 says the file was truncated and must not be opened.
    const t = makeDirty(dir, { flushedExtra: 16 * MIB });
    await assert.rejects(
      openPath(t.path, true),
      (e: unknown) =>
        e instanceof WinrescueError && e.code === 'disk.truncated' && /truncated/.test(e.message),
    );

    const v = makeDirty(dir);
    setLog(v.path, pread(v.path, 64 * 1024 + 48, 16), 1);
    await assert.rejects(
      openPath(v.path, true),
      (e: unknown) => e instanceof WinrescueError && e.code === 'disk.logPending' && e.exitCode === 1,
    );

    // A LogGuid matching no entry: nothing to replay; reading works, a write clears the LogGuid.
    const n = makeDirty(dir);
    const raw = readFileSync(join(dir, 'in.raw'));
    setLog(n.path, randomBytes(16));
    const dev = await openPath(n.path, false);
    assert.ok(dev.warnings.some((w) => /no valid sequence/.test(w)));
    const expected = new Uint8Array(raw);
    assert.deepEqual(await dev.read(2 * MIB, MIB), expected.subarray(2 * MIB, 3 * MIB));
    await dev.write(5, new Uint8Array([1]));
    await dev.close();
    assert.deepEqual(headersLogGuids(n.path), ['00'.repeat(16), '00'.repeat(16)]);
    const check = runStatus('qemu-img', ['check', '-f', 'vhdx', n.path]);
    assert.equal(check.status, 0, check.stdout + check.stderr);
  } finally {
    cleanup();
  }
});
