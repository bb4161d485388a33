// Keeping a key's subkey list sorted while subkeys come and go. Spec: msuhanov regf spec, "Index leaf", "Fast leaf",
// "Hash leaf" (used when the minor version is above 4), "Index root" (notes 1-3: one level, sorted as a whole).
import { WinrescueError } from '../../errors.js';
import { setU32, u16, u32 } from '../../util/bytes.js';
import { NO_CELL, cellError, cellField, signatureOf } from '../cells/cell.js';
import { type SubkeyList, parseSubkeyList } from '../cells/subkey-lists.js';
import type { CellAllocator } from './allocator.js';
import { compareUpcased, lfHint, nameHash } from './names.js';
import {
  type LeafEntry,
  type LeafKind,
  LIST_HEADER,
  leafPayloadSize,
  serializeIndexRoot,
  serializeLeaf,
} from './records.js';

/**
 * Most entries one leaf holds before it is split under an index root: an lf/lh leaf of 507 entries
 * (4 + 4 + 507·8 = 4064 bytes) fills one 4 KiB bin after its 32-byte header exactly, and it is where Windows 7
 * split (SYSTEM's CriticalDeviceDatabase: lh leaves of 507). Smaller leaves keep each insert's rewrite small.
 */
export const LEAF_CAP = 507;
/** Hash leaves exist from hive version 1.5 on; older hives use fast leaves. */
const LH_MIN_MINOR = 5;
/** The ri element count is a u16. */
const MAX_RI_LEAVES = 0xffff;

export interface SubkeyContext {
  readonly alloc: CellAllocator;
  readonly minor: number;
  /** Stored name of the key node at `nk`. */
  name(nk: number): string;
  /** Upcased name of the key node at `nk` (the sort key). */
  upper(nk: number): string;
}

/** The leaf kind for a new list in this hive version. */
export function defaultLeafKind(minor: number): LeafKind {
  return minor >= LH_MIN_MINOR ? 'lh' : 'lf';
}

/** Keep lf and lh where the version allows them; li (no hints) and a misplaced lh become the default kind. */
function rewriteKind(ctx: SubkeyContext, kind: string): LeafKind {
  if (kind === 'lf') return 'lf';
  if (kind === 'lh' && ctx.minor >= LH_MIN_MINOR) return 'lh';
  return defaultLeafKind(ctx.minor);
}

function readList(ctx: SubkeyContext, rel: number): SubkeyList {
  return parseSubkeyList(ctx.alloc.cell(rel));
}

/** Writes a leaf into `rel` (grown or moved as needed) or a new cell; returns where it now lives. */
function writeLeaf(ctx: SubkeyContext, kind: LeafKind, nks: readonly number[], rel?: number): number {
  const payload = leafPayloadSize(kind, nks.length);
  const at = rel === undefined ? ctx.alloc.alloc(payload) : ctx.alloc.realloc(rel, payload);
  const entries: LeafEntry[] = nks.map((nk) => ({
    nk,
    hint: kind === 'lh' ? nameHash(ctx.name(nk)) : kind === 'lf' ? lfHint(ctx.name(nk)) : 0,
  }));
  const cell = ctx.alloc.cell(at);
  cell.data.fill(0);
  serializeLeaf(kind, entries, cell.data, 0);
  return at;
}

function writeIndexRoot(ctx: SubkeyContext, leaves: readonly number[], rel?: number): number {
  if (leaves.length > MAX_RI_LEAVES) {
    throw new WinrescueError(
      'regf.full',
      `subkey index root would need ${leaves.length} leaves (at most ${MAX_RI_LEAVES})`,
      {
        structure: 'regf.ri',
      },
    );
  }
  const payload = LIST_HEADER + leaves.length * 4;
  const at = rel === undefined ? ctx.alloc.alloc(payload) : ctx.alloc.realloc(rel, payload);
  const cell = ctx.alloc.cell(at);
  cell.data.fill(0);
  serializeIndexRoot(leaves, cell.data, 0);
  return at;
}

/** The last key node of a leaf, read without parsing the whole leaf (inserts probe every leaf of an ri). */
function lastEntry(ctx: SubkeyContext, leafRel: number): number | undefined {
  const cell = ctx.alloc.cell(leafRel);
  const head = cellField(cell, 0, LIST_HEADER, 'subkey list header');
  const kind = signatureOf(cell);
  const count = u16(head, 2);
  if (count === 0) return undefined;
  const stride = kind === 'lf' || kind === 'lh' ? 8 : 4;
  return u32(cellField(cell, LIST_HEADER + (count - 1) * stride, 4, 'subkey list element'), 0);
}

/** Position at which `upper` goes into a sorted run of key nodes. */
function insertionPoint(ctx: SubkeyContext, nks: readonly number[], upper: string): number {
  let lo = 0;
  let hi = nks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareUpcased(ctx.upper(nks[mid]!), upper) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts `nk` into `leaf`, splitting it in two when it would exceed LEAF_CAP; returns the leaf offsets. */
function insertIntoLeaf(ctx: SubkeyContext, leaf: SubkeyList, nk: number, upper: string): number[] {
  const kind = rewriteKind(ctx, leaf.kind);
  const nks = [...leaf.offsets];
  nks.splice(insertionPoint(ctx, nks, upper), 0, nk);
  if (nks.length <= LEAF_CAP) return [writeLeaf(ctx, kind, nks, leaf.cell.rel)];
  const half = nks.length >>> 1;
  return [writeLeaf(ctx, kind, nks.slice(0, half), leaf.cell.rel), writeLeaf(ctx, kind, nks.slice(half))];
}

/** Adds `nk` (named `upper` when upcased) to the list at `listRel` (NO_CELL: none yet); returns the list's offset. */
export function insertSubkey(ctx: SubkeyContext, listRel: number, nk: number, upper: string): number {
  if (listRel === NO_CELL) return writeLeaf(ctx, defaultLeafKind(ctx.minor), [nk]);
  const root = readList(ctx, listRel);
  if (root.kind !== 'ri') {
    const leaves = insertIntoLeaf(ctx, root, nk, upper);
    return leaves.length === 1 ? leaves[0]! : writeIndexRoot(ctx, leaves);
  }
  // The first leaf whose last key sorts after the new one takes it; past every leaf, the last one does.
  const leafRels = [...root.offsets];
  if (leafRels.length === 0) throw cellError(root.cell.abs, 'index root without leaves');
  let i = 0;
  for (; i < leafRels.length - 1; i++) {
    const last = lastEntry(ctx, leafRels[i]!);
    if (last !== undefined && compareUpcased(upper, ctx.upper(last)) < 0) break;
  }
  const leaf = readList(ctx, leafRels[i]!);
  if (leaf.kind === 'ri') throw cellError(leaf.cell.abs, 'index root points to another index root');
  const written = insertIntoLeaf(ctx, leaf, nk, upper);
  if (written.length === 1 && written[0] === leafRels[i]) return listRel;
  leafRels.splice(i, 1, ...written);
  return writeIndexRoot(ctx, leafRels, listRel);
}

/** Removes `nk` from the list at `listRel`; returns the list's offset, or NO_CELL once it is empty (and freed). */
export function removeSubkey(ctx: SubkeyContext, listRel: number, nk: number): number {
  const root = readList(ctx, listRel);
  if (root.kind !== 'ri') {
    const nks = root.offsets.filter((o) => o !== nk);
    if (nks.length === root.offsets.length)
      throw cellError(root.cell.abs, `subkey list does not hold the key node at ${nk}`);
    if (nks.length === 0) {
      ctx.alloc.free(listRel);
      return NO_CELL;
    }
    return writeLeaf(ctx, rewriteKind(ctx, root.kind), nks, listRel);
  }
  const leafRels = [...root.offsets];
  for (let i = 0; i < leafRels.length; i++) {
    const leaf = readList(ctx, leafRels[i]!);
    if (leaf.kind === 'ri' || !leaf.offsets.includes(nk)) continue;
    const nks = leaf.offsets.filter((o) => o !== nk);
    if (nks.length > 0) {
      const at = writeLeaf(ctx, rewriteKind(ctx, leaf.kind), nks, leafRels[i]);
      if (at !== leafRels[i]) setU32(ctx.alloc.cell(listRel).data, LIST_HEADER + i * 4, at);
      return listRel;
    }
    ctx.alloc.free(leafRels[i]!);
    leafRels.splice(i, 1);
    if (leafRels.length === 0) {
      ctx.alloc.free(listRel);
      return NO_CELL;
    }
    return writeIndexRoot(ctx, leafRels, listRel);
  }
  throw cellError(root.cell.abs, `subkey index root does not hold the key node at ${nk}`);
}

/** The key node named `upper` (upcased) in the list, if any. */
export function findSubkey(ctx: SubkeyContext, listRel: number, upper: string): number | undefined {
  for (const nk of subkeyNodes(ctx, listRel)) if (ctx.upper(nk) === upper) return nk;
  return undefined;
}

/** Every key node of the list, in list order. */
export function subkeyNodes(ctx: SubkeyContext, listRel: number): number[] {
  if (listRel === NO_CELL) return [];
  const root = readList(ctx, listRel);
  if (root.kind !== 'ri') return [...root.offsets];
  const out: number[] = [];
  for (const rel of root.offsets) {
    const leaf = readList(ctx, rel);
    if (leaf.kind === 'ri') throw cellError(leaf.cell.abs, 'index root points to another index root');
    out.push(...leaf.offsets);
  }
  return out;
}

/** Every cell of the list structure (the root, and the leaves under an index root). */
export function listCells(ctx: SubkeyContext, listRel: number): number[] {
  if (listRel === NO_CELL) return [];
  const root = readList(ctx, listRel);
  return root.kind === 'ri' ? [listRel, ...root.offsets] : [listRel];
}
