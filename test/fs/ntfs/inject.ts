// Fault injection into copies of volumes, at offsets found with sleuthkit (istat cluster lists, ifind) and
// the boot sector. Each injector returns what it changed; tests confirm each fault with an independent tool.
import { copyFileSync, openSync, closeSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { run, runStatus } from '../../helpers/tools.js';
import { applyFixupsOnRead, parseIndexNode } from '../../../src/fs/ntfs/index.js';

export interface Geometry {
  clusterSize: number;
  recordSize: number;
  mftLcn: number;
  mftMirrLcn: number;
  totalSectors: number;
  sectorSize: number;
}

export function readAt(image: string, offset: number, length: number): Uint8Array {
  const fd = openSync(image, 'r');
  try {
    const b = new Uint8Array(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

export function writeAt(image: string, offset: number, data: Uint8Array): void {
  const fd = openSync(image, 'r+');
  try {
    writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Geometry straight from the boot sector bytes (flatcap ntfs/files/boot.html), not from our parser. */
export function geometry(image: string): Geometry {
  const b = Buffer.from(readAt(image, 0, 512));
  const sectorSize = b.readUInt16LE(11);
  const spc = b[13]! >= 0xf4 ? 2 ** (256 - b[13]!) : b[13]!;
  const clusterSize = sectorSize * spc;
  const code = b.readInt8(64);
  return {
    clusterSize,
    recordSize: code > 0 ? code * clusterSize : 2 ** -code,
    mftLcn: Number(b.readBigInt64LE(48)),
    mftMirrLcn: Number(b.readBigInt64LE(56)),
    totalSectors: Number(b.readBigInt64LE(40)),
    sectorSize,
  };
}

/** Clusters of a record's attribute (type, optional name) as istat lists them, in VCN order. */
export function istatClusters(
  image: string,
  record: number,
  type: number,
  name: string | null = null,
): number[] {
  const out = run('istat', [image, String(record)]).toString('utf8');
  const lines = out.slice(out.indexOf('\nAttributes:')).split('\n');
  let on = false;
  const clusters: number[] = [];
  for (const line of lines) {
    const m = /^Type: \S+ \((\d+)-\d+\)\s+Name: (.*?)\s+(Resident|Non-Resident)/.exec(line);
    if (m) {
      on = Number(m[1]) === type && (name === null ? m[2] === 'N/A' : m[2] === name);
      continue;
    }
    if (on && /^[\d ]+$/.test(line.trim()) && line.trim())
      clusters.push(...line.trim().split(/\s+/).map(Number));
  }
  return clusters;
}

/** Absolute offset of MFT record `n`, through $MFT's own cluster list (istat 0). */
export function recordOffset(image: string, n: number): number {
  const g = geometry(image);
  const clusters = istatClusters(image, 0, 0x80);
  const byte = n * g.recordSize;
  return clusters[Math.floor(byte / g.clusterSize)]! * g.clusterSize + (byte % g.clusterSize);
}

export function ifind(image: string, path: string): number {
  return Number(
    run('ifind', ['-n', path.replace(/^\//, ''), image])
      .toString()
      .trim(),
  );
}

export function copyImage(image: string, dir: string, name = 'damaged.img'): string {
  const dest = join(dir, name);
  copyFileSync(image, dest);
  return dest;
}

/** Makes stride `stride` of record `n` end in a different word than the update sequence number. */
export function tearRecord(
  image: string,
  n: number,
  stride = 1,
): { offset: number; expected: number; actual: number } {
  const at = recordOffset(image, n);
  const rec = readAt(image, at, 512);
  const usaOffset = rec[4]! | (rec[5]! << 8);
  const usn = rec[usaOffset]! | (rec[usaOffset + 1]! << 8);
  const actual = usn === 0xaa55 ? 0x55aa : 0xaa55;
  const end = at + stride * 512 - 2;
  writeAt(image, end, Uint8Array.of(actual & 0xff, actual >> 8));
  return { offset: at, expected: usn, actual };
}

/**
 * Points the first run of record `n`'s unnamed $DATA past the end of the volume: the run's LCN field becomes
 * the largest positive value of its width.
 */
export function runlistPastEnd(image: string, n: number): { runlistAt: number } {
  const g = geometry(image);
  const at = recordOffset(image, n);
  const rec = readAt(image, at, g.recordSize);
  applyFixupsOnRead(rec, { label: 'inject', structure: 'inject', base: at });
  const dv = new DataView(rec.buffer);
  let off = dv.getUint16(20, true);
  while (dv.getUint32(off, true) !== 0xffffffff) {
    if (dv.getUint32(off, true) === 0x80 && rec[off + 8] === 1 && rec[off + 9] === 0) {
      const runlist = off + dv.getUint16(off + 32, true);
      const header = rec[runlist]!;
      const lenBytes = header & 15;
      const offBytes = header >> 4;
      const field = runlist + 1 + lenBytes;
      const bytes = new Uint8Array(offBytes).fill(0xff);
      bytes[offBytes - 1] = 0x7f;
      if (
        Math.floor(field / 512) !== Math.floor((field + offBytes - 1) / 512) ||
        (field + offBytes - 1) % 512 >= 510
      ) {
        throw new Error('run offset field straddles a fixup word');
      }
      writeAt(image, at + field, bytes);
      return { runlistAt: at + runlist };
    }
    off += dv.getUint32(off + 4, true);
  }
  throw new Error(`record ${n} has no non-resident unnamed $DATA`);
}

/**
 * In directory record `dir`, makes the first child pointer of the INDX block at `vcn` point back to `vcn`
 * itself (a node that is its own descendant). The block must have children.
 */
export function loopIndexBlock(image: string, dir: number, vcn: number): { offset: number } {
  const g = geometry(image);
  const clusters = istatClusters(image, dir, 0xa0, '$I30');
  const blockSize = 4096;
  const byte = vcn * (blockSize < g.clusterSize ? 512 : g.clusterSize);
  const at = clusters[Math.floor(byte / g.clusterSize)]! * g.clusterSize + (byte % g.clusterSize);
  const block = readAt(image, at, blockSize);
  const fixed = block.slice();
  applyFixupsOnRead(fixed, { label: 'inject', structure: 'inject', base: at });
  const node = parseIndexNode(fixed, 24, { label: 'inject', base: at, fileNameIndex: true });
  if (!node.hasChildren) throw new Error(`INDX VCN ${vcn} of record ${dir} has no children`);
  for (const e of node.entries) {
    if (e.childVcn === null) continue;
    const field = e.offset + (new DataView(fixed.buffer).getUint16(e.offset + 8, true) - 8);
    if (Math.floor(field / 512) !== Math.floor((field + 7) / 512) || (field + 7) % 512 >= 510) continue;
    const v = new Uint8Array(8);
    new DataView(v.buffer).setBigUint64(0, BigInt(vcn), true);
    writeAt(image, at + field, v);
    return { offset: at + field };
  }
  throw new Error('no child pointer clear of the fixup words');
}

/** Exit status and output of a command run under `timeout` (ntfs-3g tools may loop on looping indexes). */
export function bounded(
  cmd: string,
  args: string[],
  seconds = 10,
): { status: number; stdout: string; stderr: string } {
  return runStatus('timeout', [String(seconds), cmd, ...args]);
}

/**
 * Edits MFT record `n` in place: the update sequence is undone, `edit` changes the bytes, the sequence is
 * stamped again (same USN, so only the edited bytes change on disk).
 */
export function editRecord(
  image: string,
  n: number,
  edit: (rec: Uint8Array, view: DataView) => void,
): number {
  const g = geometry(image);
  const at = recordOffset(image, n);
  const rec = readAt(image, at, g.recordSize);
  const view = new DataView(rec.buffer);
  const usa = view.getUint16(4, true);
  const count = view.getUint16(6, true);
  const usn = view.getUint16(usa, true);
  for (let i = 1; i < count; i++) view.setUint16(i * 512 - 2, view.getUint16(usa + 2 * i, true), true);
  edit(rec, view);
  for (let i = 1; i < count; i++) {
    view.setUint16(usa + 2 * i, view.getUint16(i * 512 - 2, true), true);
    view.setUint16(i * 512 - 2, usn, true);
  }
  writeAt(image, at, rec);
  // Records 0-3 have a copy in $MFTMirr that ntfs-3g compares with: keep it equal.
  if (n < 4) writeAt(image, g.mftMirrLcn * g.clusterSize + n * g.recordSize, rec);
  return at;
}

/** Offset of the first attribute of `type` in an (update-sequence-free) record, or -1. */
export function findAttr(view: DataView, type: number): number {
  let off = view.getUint16(20, true);
  while (off + 8 <= view.byteLength && view.getUint32(off, true) !== 0xffffffff) {
    if (view.getUint32(off, true) === type) return off;
    off += view.getUint32(off + 4, true);
  }
  return -1;
}

/** Appends a resident attribute (type, value) before the end marker of record `n`. */
export function appendResidentAttribute(image: string, n: number, type: number, value: Uint8Array): void {
  editRecord(image, n, (rec, view) => {
    const end = findAttr(view, 0xffffffff) >= 0 ? -1 : endMarker(view);
    const length = (24 + value.length + 7) & ~7;
    const used = view.getUint32(24, true);
    if (used + length > view.getUint32(28, true)) throw new Error('record full');
    const id = view.getUint16(40, true);
    rec.fill(0, end, end + length);
    view.setUint32(end, type, true);
    view.setUint32(end + 4, length, true);
    view.setUint16(end + 14, id, true);
    view.setUint32(end + 16, value.length, true);
    view.setUint16(end + 20, 24, true);
    rec.set(value, end + 24);
    view.setUint32(end + length, 0xffffffff, true);
    view.setUint32(end + length + 4, 0, true);
    view.setUint32(24, used + length, true);
    view.setUint16(40, id + 1, true);
  });
}

function endMarker(view: DataView): number {
  let off = view.getUint16(20, true);
  while (view.getUint32(off, true) !== 0xffffffff) off += view.getUint32(off + 4, true);
  return off;
}
