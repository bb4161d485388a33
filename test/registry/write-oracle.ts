// An independent structural checker for hives the writer produced: written from the msuhanov regf spec for the
// tests alone (it imports nothing from src/registry), so a shared misreading cannot pass both sides.
// It scans the hbins, walks everything reachable from the root, and reports what it finds instead of trusting counts.

import { execFileSync } from 'node:child_process';
import { testdataFile } from '../helpers/testdata.js';

const BINS = 4096;
const NONE = 0xffffffff;
const SEGMENT = 16344;

export interface CellInfo {
  readonly size: number;
  readonly allocated: boolean;
}

export interface HiveReport {
  readonly minor: number;
  readonly primary: number;
  readonly secondary: number;
  readonly checksumOk: boolean;
  readonly binsSize: number;
  /** Every cell found by scanning the bins, by offset relative to the first bin. */
  readonly cells: Map<number, CellInfo>;
  /** Bins as [rel, size]. */
  readonly bins: Array<[number, number]>;
  /** Reachable non-sk cells with the number of references found to each. */
  readonly refs: Map<number, number>;
  /** sk cells: references from key nodes, and the stored refcount. */
  readonly sk: Map<number, { refs: number; refCount: number }>;
  /** Allocated cells that nothing reaches. */
  readonly leaks: Set<number>;
  /** Leaf kinds seen (li/lf/lh/ri) and db records seen. */
  readonly kinds: Record<string, number>;
  /** Entries in the largest leaf. */
  readonly maxLeaf: number;
  /** Problems found; empty for a consistent hive. */
  readonly problems: string[];
  /** Key paths (`\A\B`) with their nk offsets. */
  readonly keys: Map<string, number>;
}

let upcaseTable: Uint16Array | undefined;

/**
 * The kernel's upcase table, as Windows wrote it into $UpCase (MFT record 10) of the Windows-made NTFS volume in
 * testdata, read with sleuthkit's icat: 65,536 UTF-16 units, each unit's uppercase.
 */
export function windowsUpcase(): Uint16Array {
  if (!upcaseTable) {
    const raw = execFileSync('icat', [testdataFile('ntfs/windows-volume.raw.gz'), '10'], {
      maxBuffer: 1 << 20,
    });
    upcaseTable = new Uint16Array(65536);
    for (let i = 0; i < 65536; i++) upcaseTable[i] = raw.readUInt16LE(i * 2);
  }
  return upcaseTable;
}

/** A name uppercased one UTF-16 unit at a time through Windows' table: what subkey lists sort and hash by. */
export function upcaseWindows(name: string): string {
  const t = windowsUpcase();
  let s = '';
  for (let i = 0; i < name.length; i++) s += String.fromCharCode(t[name.charCodeAt(i)]!);
  return s;
}

const up = upcaseWindows;

function hash(name: string): number {
  const u = up(name);
  let h = 0;
  for (let i = 0; i < u.length; i++) h = (Math.imul(h, 37) + u.charCodeAt(i)) >>> 0;
  return h;
}

export function checkHive(bytes: Uint8Array): HiveReport {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r32 = (o: number): number => dv.getUint32(o, true);
  const problems: string[] = [];
  let x = 0;
  for (let i = 0; i < 508; i += 4) x ^= r32(i);
  x >>>= 0;
  const want = x === 0 ? 1 : x === 0xffffffff ? 0xfffffffe : x;
  const minor = r32(24);
  const binsSize = r32(40);
  const cells = new Map<number, CellInfo>();
  const bins: Array<[number, number]> = [];
  // Bins must tile the declared size, and cells must tile each bin.
  let at = 0;
  while (at < binsSize) {
    const abs = BINS + at;
    const sig = String.fromCharCode(...bytes.subarray(abs, abs + 4));
    const size = r32(abs + 8);
    if (sig !== 'hbin' || r32(abs + 4) !== at || size === 0 || size % 4096 !== 0) {
      problems.push(`bad hbin at ${at}`);
      break;
    }
    bins.push([at, size]);
    let c = at + 32;
    while (c < at + size) {
      const raw = dv.getInt32(BINS + c, true);
      const s = Math.abs(raw);
      if (raw === 0 || s % 8 !== 0 || c + s > at + size) {
        problems.push(`cell at ${c} does not tile bin ${at}`);
        break;
      }
      cells.set(c, { size: s, allocated: raw < 0 });
      c += s;
    }
    at += size;
  }
  if (at !== binsSize) problems.push(`bins end at ${at}, declared ${binsSize}`);

  const refs = new Map<number, number>();
  const sk = new Map<number, { refs: number; refCount: number }>();
  const kinds: Record<string, number> = {};
  const keys = new Map<string, number>();
  let maxLeaf = 0;
  const payload = (rel: number, what: string): { abs: number; len: number } | undefined => {
    const c = cells.get(rel);
    if (!c || !c.allocated) {
      problems.push(`${what} at ${rel} is not an allocated cell`);
      return undefined;
    }
    return { abs: BINS + rel + 4, len: c.size - 4 };
  };
  const mark = (rel: number, what: string): { abs: number; len: number } | undefined => {
    refs.set(rel, (refs.get(rel) ?? 0) + 1);
    return payload(rel, what);
  };
  const sig = (abs: number): string => String.fromCharCode(bytes[abs]!, bytes[abs + 1]!);
  const nameAt = (abs: number, len: number, compressed: boolean): string =>
    compressed
      ? String.fromCharCode(...bytes.subarray(abs, abs + len))
      : new TextDecoder('utf-16le').decode(bytes.subarray(abs, abs + len));

  const visit = (rel: number, path: string, parent: number | undefined): void => {
    const p = mark(rel, `nk ${path}`);
    if (!p) return;
    if (sig(p.abs) !== 'nk') return void problems.push(`${path}: not nk`);
    keys.set(path, rel);
    const flags = dv.getUint16(p.abs + 2, true);
    if (parent !== undefined && r32(p.abs + 16) !== parent) problems.push(`${path}: parent pointer wrong`);
    const skRel = r32(p.abs + 44);
    const skp = payload(skRel, `sk of ${path}`);
    if (skp) {
      if (sig(skp.abs) !== 'sk') problems.push(`${path}: security is not sk`);
      const e = sk.get(skRel) ?? { refs: 0, refCount: r32(skp.abs + 12) };
      e.refs++;
      sk.set(skRel, e);
    }
    const classOff = r32(p.abs + 48);
    if (classOff !== NONE && dv.getUint16(p.abs + 74, true) > 0) mark(classOff, `class of ${path}`);
    // Values.
    const nValues = r32(p.abs + 36);
    let maxVn = 0;
    let maxVd = 0;
    if (nValues > 0) {
      const list = mark(r32(p.abs + 40), `value list of ${path}`);
      if (list) {
        for (let i = 0; i < nValues; i++) {
          const vrel = r32(list.abs + i * 4);
          const v = mark(vrel, `vk of ${path}`);
          if (!v) continue;
          if (sig(v.abs) !== 'vk') problems.push(`${path}: value ${i} not vk`);
          const nameLen = dv.getUint16(v.abs + 2, true);
          const vname = nameAt(v.abs + 20, nameLen, (dv.getUint16(v.abs + 16, true) & 1) !== 0);
          maxVn = Math.max(maxVn, vname.length * 2);
          const rawSize = r32(v.abs + 4);
          const size = rawSize & 0x7fffffff;
          maxVd = Math.max(maxVd, size);
          if (rawSize & 0x80000000 || size === 0) continue;
          const dataRel = r32(v.abs + 8);
          const d = mark(dataRel, `data of ${path}\\${vname}`);
          if (!d) continue;
          if (minor >= 4 && size > SEGMENT && sig(d.abs) === 'db') {
            kinds.db = (kinds.db ?? 0) + 1;
            const n = dv.getUint16(d.abs + 2, true);
            const segs = mark(r32(d.abs + 4), `db list of ${path}\\${vname}`);
            if (segs)
              for (let s = 0; s < n; s++) mark(r32(segs.abs + s * 4), `db segment of ${path}\\${vname}`);
            if (n !== Math.ceil(size / SEGMENT))
              problems.push(`${path}\\${vname}: ${n} db segments for ${size} bytes`);
          } else if (d.len < size) {
            problems.push(`${path}\\${vname}: ${size} data bytes in a ${d.len}-byte cell`);
          }
        }
      }
    }
    if (r32(p.abs + 60) >>> 0 < maxVn)
      problems.push(`${path}: largest value name ${r32(p.abs + 60)} < ${maxVn}`);
    if (r32(p.abs + 64) >>> 0 < maxVd)
      problems.push(`${path}: largest value data ${r32(p.abs + 64)} < ${maxVd}`);
    // Subkeys: leaves (under at most one ri), sorted as a whole, hints and hashes right.
    const nSub = r32(p.abs + 20);
    if (nSub === 0) return;
    const children: Array<{ rel: number; name: string }> = [];
    const leaf = (lrel: number, top: boolean): void => {
      const l = mark(lrel, `subkey list of ${path}`);
      if (!l) return;
      const kind = sig(l.abs);
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      const n = dv.getUint16(l.abs + 2, true);
      if (kind === 'ri') {
        if (!top) return void problems.push(`${path}: ri under ri`);
        for (let i = 0; i < n; i++) leaf(r32(l.abs + 4 + i * 4), false);
        return;
      }
      maxLeaf = Math.max(maxLeaf, n);
      if (kind === 'lh' && minor < 5) problems.push(`${path}: lh in a 1.${minor} hive`);
      const stride = kind === 'li' ? 4 : 8;
      if (kind !== 'li' && kind !== 'lf' && kind !== 'lh')
        return void problems.push(`${path}: list kind ${kind}`);
      for (let i = 0; i < n; i++) {
        const crel = r32(l.abs + 4 + i * stride);
        const cp = payload(crel, `subkey of ${path}`);
        if (!cp) continue;
        const cname = nameAt(
          cp.abs + 76,
          dv.getUint16(cp.abs + 72, true),
          (dv.getUint16(cp.abs + 2, true) & 0x20) !== 0,
        );
        children.push({ rel: crel, name: cname });
        if (kind === 'lh' && r32(l.abs + 8 + i * 8) !== hash(cname))
          problems.push(`${path}\\${cname}: lh hash`);
        if (kind === 'lf') {
          const hint = bytes.subarray(l.abs + 8 + i * 8, l.abs + 12 + i * 8);
          const wide = [...cname.slice(0, 4)].some((c) => c.charCodeAt(0) > 255);
          const ok = wide
            ? hint[0] === 0
            : [0, 1, 2, 3].every((j) => hint[j] === (j < cname.length ? cname.charCodeAt(j) : 0));
          if (!ok) problems.push(`${path}\\${cname}: lf hint`);
        }
      }
    };
    leaf(r32(p.abs + 28), true);
    if (children.length !== nSub)
      problems.push(`${path}: ${nSub} subkeys counted, ${children.length} listed`);
    let maxSub = 0;
    for (let i = 0; i < children.length; i++) {
      maxSub = Math.max(maxSub, children[i]!.name.length * 2);
      if (i > 0 && !(up(children[i - 1]!.name) < up(children[i]!.name))) {
        problems.push(`${path}: '${children[i - 1]!.name}' not before '${children[i]!.name}'`);
      }
    }
    if ((r32(p.abs + 52) & 0xffff) < maxSub)
      problems.push(`${path}: largest subkey name ${r32(p.abs + 52) & 0xffff} < ${maxSub}`);
    void flags;
    for (const c of children) visit(c.rel, path === '\\' ? `\\${c.name}` : `${path}\\${c.name}`, rel);
  };
  const root = r32(36);
  visit(root, '\\', undefined);

  // The sk list: walk flink from the root's sk, checking blink back-links; every sk on it is reached once.
  const rootSk = payload(root, 'root') ? r32(BINS + root + 4 + 44) : NONE;
  let cur = rootSk;
  for (let n = 0; n < 100000; n++) {
    const c = mark(cur, 'sk list entry');
    if (!c) break;
    const next = r32(c.abs + 4);
    const nc = payload(next, 'sk flink');
    if (!nc) break;
    if (r32(nc.abs + 8) !== cur) problems.push(`sk at ${next}: blink does not point back to ${cur}`);
    cur = next;
    if (cur === rootSk) break;
  }
  for (const [rel] of sk)
    if (!refs.has(rel)) problems.push(`sk at ${rel} used by keys but not on the sk list`);
  for (const [rel, n] of refs) if (n !== 1) problems.push(`cell at ${rel} reached ${n} times`);

  const leaks = new Set<number>();
  for (const [rel, c] of cells) if (c.allocated && !refs.has(rel)) leaks.add(rel);
  return {
    minor,
    primary: r32(4),
    secondary: r32(8),
    checksumOk: r32(508) === want,
    binsSize,
    cells,
    bins,
    refs,
    sk,
    leaks,
    kinds,
    maxLeaf,
    problems,
    keys,
  };
}
