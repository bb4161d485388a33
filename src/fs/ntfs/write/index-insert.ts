// Inserting into a directory's $I30 B+ tree (flatcap linux-ntfs concepts/index_record.html, index_entry.html;
// ntfs-3g layout.h INDEX_BLOCK, INDEX_HEADER, INDEX_ENTRY). Nodes are edited as lists of entry byte strings:
//  - an entry goes into the leaf where the collation ($UpCase, then length) puts it;
//  - a full block is split around its median entry: the lower half moves to a new block, the upper half stays
//    (so the parent's pointer to it stays right), and the median, pointing at the new block, goes up a level;
//  - a root that no longer fits its record moves all its entries down into a new block and keeps one end
//    entry pointing at it ($INDEX_ALLOCATION and $BITMAP "$I30" are created then).
// Blocks come from free bits of the $I30 bitmap, or the allocation grows by one block (clusters from $Bitmap).
import { WinrescueError } from '../../../errors.js';
import { setU16, setU32, setU64 } from '../../../util/bytes.js';
import { ATTR } from '../attribute.js';
import { INDEX_ROOT_HEADER } from '../attributes/index-root.js';
import { compareFileNames, equalUnits } from '../collation.js';
import { readRunsBuffer } from '../data-stream.js';
import type { NtfsFile } from '../file-record.js';
import { applyFixupsOnRead, applyFixupsOnWrite } from '../fixup.js';
import { le16, le32, le64 } from '../le.js';
import type { MftRecord } from '../mft-record.js';
import type { DataRun } from '../runlist.js';
import type { NtfsVolume } from '../volume.js';
import { mergeRuns, type ClusterBitmap } from './cluster-bitmap.js';
import {
  DirectoryIndex,
  ENTRY_HAS_CHILD,
  ENTRY_LAST,
  INDX_HEADER,
  keyUnits,
  parseRawNode,
} from './index-edit.js';
import {
  align8,
  attributeBytes,
  nonResidentAttribute,
  rebuildRecord,
  recordBytesNeeded,
  residentAttribute,
  takeAttributeId,
} from './record-builder.js';
import { writeThroughRuns } from './run-io.js';

const MAX_DEPTH = 32;
const INDX_MAGIC = [0x49, 0x4e, 0x44, 0x58];
/** INDX blocks: update sequence array at 40, after the VCN field (@16) and the node header (@24). */
const INDX_USA_OFFSET = 40;
const NODE_HEADER_LENGTH = 16;
const NODE_HAS_CHILDREN = 1;
const END_ENTRY = 16;
const CHILD_FIELD = 8;

export interface EditNode {
  /** null: the root. */
  readonly vcn: number | null;
  entries: Uint8Array[];
  hasChildren: boolean;
  /** The block bytes as read (header kept: update sequence, LSN), or a fresh header. */
  readonly template: Uint8Array | null;
}

export function entryFlags(e: Uint8Array): number {
  return le32(e, 12) & 0xffff;
}
export function isLast(e: Uint8Array): boolean {
  return (entryFlags(e) & ENTRY_LAST) !== 0;
}
export function childOf(e: Uint8Array): number | null {
  return (entryFlags(e) & ENTRY_HAS_CHILD) !== 0 ? le64(e, le16(e, 8) - CHILD_FIELD) : null;
}
export function entryKey(e: Uint8Array): Uint8Array {
  return e.subarray(16, 16 + le16(e, 10));
}
export function entryRecord(e: Uint8Array): number {
  return le32(e, 0) + le16(e, 4) * 0x100000000;
}

export function makeEntry(record: number, sequence: number, key: Uint8Array): Uint8Array {
  const e = new Uint8Array(align8(16 + key.length));
  setU32(e, 0, record % 0x100000000);
  setU16(e, 4, Math.floor(record / 0x100000000));
  setU16(e, 6, sequence);
  setU16(e, 8, e.length);
  setU16(e, 10, key.length);
  e.set(key, 16);
  return e;
}

/** The entry pointing at child `vcn` (or with no child when null). */
export function withChild(e: Uint8Array, vcn: number | null): Uint8Array {
  const had = childOf(e) !== null;
  const bodyLength = had ? e.length - CHILD_FIELD : e.length;
  const out = new Uint8Array(bodyLength + (vcn === null ? 0 : CHILD_FIELD));
  out.set(e.subarray(0, bodyLength));
  setU16(out, 8, out.length);
  const flags = (entryFlags(e) & ~ENTRY_HAS_CHILD) | (vcn === null ? 0 : ENTRY_HAS_CHILD);
  setU32(out, 12, flags);
  if (vcn !== null) setU64(out, out.length - CHILD_FIELD, vcn);
  return out;
}

export function endEntry(child: number | null): Uint8Array {
  const e = new Uint8Array(END_ENTRY);
  setU16(e, 8, END_ENTRY);
  setU32(e, 12, ENTRY_LAST);
  return withChild(e, child);
}

const sum = (l: readonly Uint8Array[]): number => l.reduce((n, e) => n + e.length, 0);

/** A directory's $I30 opened for editing; `finish()` writes the blocks and returns the new directory record. */
export class I30Editor {
  readonly root: EditNode;
  private readonly blocks = new Map<number, EditNode>();
  private readonly dirty = new Set<EditNode>();
  private allocRuns: DataRun[];
  private allocSize: number;
  private bitmap: Uint8Array;
  private readonly hadAllocation: boolean;
  private readonly rootHeader: Uint8Array;
  private readonly record: MftRecord;
  private readonly recordBytes: Uint8Array;
  private readonly index: DirectoryIndex;

  constructor(
    private readonly vol: NtfsVolume,
    readonly file: NtfsFile,
    private readonly clusters: ClusterBitmap,
    private readonly upcase: Uint16Array,
  ) {
    if (file.attributeList) {
      throw new WinrescueError(
        'ntfs.unsupported',
        `directory record ${file.record} has an attribute list; changing its index is not supported`,
        { record: file.record },
      );
    }
    this.index = new DirectoryIndex(vol, file);
    this.record = file.base;
    this.recordBytes = file.base.bytes.slice();
    const rootValue = this.record.attributes.find(
      (a) => a.type === ATTR.INDEX_ROOT && a.name === '$I30',
    )!.value!;
    this.rootHeader = rootValue.slice(0, INDEX_ROOT_HEADER);
    const rn = this.index.rootNode;
    this.root = {
      vcn: null,
      entries: rn.entries.map((e) => rn.bytes.slice(e.offset, e.offset + e.length)),
      hasChildren: (le32(rn.bytes, rn.headerAt + 12) & NODE_HAS_CHILDREN) !== 0,
      template: null,
    };
    const alloc = this.record.attributes.find((a) => a.type === ATTR.INDEX_ALLOCATION && a.name === '$I30');
    const bm = this.record.attributes.find((a) => a.type === ATTR.BITMAP && a.name === '$I30');
    if (bm && !bm.resident) {
      throw new WinrescueError(
        'ntfs.unsupported',
        `directory record ${file.record}: non-resident $I30 bitmap`,
        {
          record: file.record,
        },
      );
    }
    this.hadAllocation = alloc !== undefined;
    this.allocRuns = [...this.index.allocationRuns];
    this.allocSize = alloc?.nonResident?.dataSize ?? 0;
    this.bitmap = bm?.value ? bm.value.slice() : new Uint8Array(0);
    const bs = this.index.blockSize;
    if (bs < vol.clusterSize) {
      throw new WinrescueError(
        'ntfs.unsupported',
        `index blocks (${bs}) smaller than clusters are not supported`,
        {
          record: file.record,
        },
      );
    }
  }

  private get bs(): number {
    return this.index.blockSize;
  }

  async node(vcn: number): Promise<EditNode> {
    const hit = this.blocks.get(vcn);
    if (hit) return hit;
    const what = `$I30 block VCN ${vcn} of record ${this.file.record}`;
    const raw = (
      await readRunsBuffer(this.vol.io, this.allocRuns, vcn * this.index.vcnUnit, this.bs, {
        label: what,
        record: this.file.record,
      })
    ).slice();
    applyFixupsOnRead(raw, { label: what, structure: 'ntfs.indexBlock', base: 0, record: this.file.record });
    const parsed = parseRawNode(raw, INDX_HEADER, vcn, what);
    const n: EditNode = {
      vcn,
      entries: parsed.entries.map((e) => raw.slice(e.offset, e.offset + e.length)),
      hasChildren: (le32(raw, INDX_HEADER + 12) & NODE_HAS_CHILDREN) !== 0,
      template: raw,
    };
    this.blocks.set(vcn, n);
    return n;
  }

  /** Position of the first entry that sorts after `units` (the end entry at worst); -1 - i when entry i is equal. */
  position(node: EditNode, units: Uint16Array): number {
    for (let i = 0; i < node.entries.length; i++) {
      const e = node.entries[i]!;
      if (isLast(e)) return i;
      const c = compareFileNames(units, keyUnits(entryKey(e)), this.upcase);
      if (c < 0) return i;
      if (c === 0) return -1 - i;
    }
    return node.entries.length - 1;
  }

  /** Adds the entry for (`record`, `sequence`) with key `key` ($FILE_NAME value). */
  async insert(record: number, sequence: number, key: Uint8Array): Promise<void> {
    const units = keyUnits(key);
    const path: { node: EditNode; pos: number }[] = [];
    let node = this.root;
    for (let depth = 0; ; depth++) {
      if (depth > MAX_DEPTH)
        throw new WinrescueError('ntfs.indexLoop', `record ${this.file.record}: $I30 too deep`);
      const pos = this.position(node, units);
      if (pos < 0) {
        const other = keyUnits(entryKey(node.entries[-1 - pos]!));
        throw new WinrescueError(
          'ntfs.exists',
          `directory record ${this.file.record} already holds "${String.fromCharCode(...other)}"${equalUnits(other, units) ? '' : ' (same name, other case)'}`,
          { record: this.file.record },
        );
      }
      if (!node.hasChildren) {
        await this.insertAt(path, node, pos, makeEntry(record, sequence, key));
        return;
      }
      const child = childOf(node.entries[pos]!);
      if (child === null)
        throw new WinrescueError(
          'ntfs.badIndex',
          `record ${this.file.record}: entry without child in an index node`,
        );
      path.push({ node, pos });
      node = await this.node(child);
    }
  }

  /**
   * Removes the entry naming `record` under `units`. In a leaf it is simply taken out; in an index node it is
   * replaced by its predecessor (the last entry of the rightmost leaf below it), which keeps every leaf at one
   * depth. Nodes are left under-full (even empty leaves): the tree stays valid, only less dense.
   */
  async remove(units: Uint16Array, record: number): Promise<void> {
    const path: { node: EditNode; pos: number }[] = [];
    let node = this.root;
    let idx = -1;
    for (let depth = 0; ; depth++) {
      if (depth > MAX_DEPTH)
        throw new WinrescueError('ntfs.indexLoop', `record ${this.file.record}: $I30 too deep`);
      const pos = this.position(node, units);
      if (pos < 0) {
        idx = -1 - pos;
        break;
      }
      const child = node.hasChildren ? childOf(node.entries[pos]!) : null;
      if (child === null) break;
      path.push({ node, pos });
      node = await this.node(child);
    }
    if (idx < 0 || entryRecord(node.entries[idx]!) !== record) {
      throw new WinrescueError(
        'ntfs.notFound',
        `directory record ${this.file.record} has no entry "${String.fromCharCode(...units)}" for record ${record}`,
        { record: this.file.record },
      );
    }
    const victim = node.entries[idx]!;
    const below = childOf(victim);
    if (below === null) {
      node.entries = node.entries.filter((_, i) => i !== idx);
      this.dirty.add(node);
      return;
    }
    const direct = await this.node(below);
    if (!direct.hasChildren && direct.entries.length < 2) {
      // The child is an empty leaf: the entry and the leaf both go (the leaf's block is released).
      node.entries = node.entries.filter((_, i) => i !== idx);
      this.dirty.add(node);
      this.release(direct);
      return;
    }
    let leaf = direct;
    while (leaf.hasChildren) leaf = await this.node(childOf(leaf.entries[leaf.entries.length - 1]!)!);
    if (leaf.entries.length < 2) {
      // No predecessor: take the successor (first entry of the leftmost leaf right of the victim).
      let right = await this.node(childOf(node.entries[idx + 1]!)!);
      while (right.hasChildren) right = await this.node(childOf(right.entries[0]!)!);
      if (right.entries.length >= 2) {
        const succ = right.entries[0]!;
        right.entries = right.entries.slice(1);
        this.dirty.add(right);
        const list = [...node.entries];
        list[idx] = withChild(succ, below);
        await this.place(path, node, list);
        return;
      }
      throw new WinrescueError(
        'ntfs.unsupported',
        `directory record ${this.file.record}: the subtree left of "${String.fromCharCode(...units)}" ends in an empty leaf; removal not supported there`,
        { record: this.file.record },
      );
    }
    const pred = leaf.entries[leaf.entries.length - 2]!;
    leaf.entries = [...leaf.entries.slice(0, -2), leaf.entries[leaf.entries.length - 1]!];
    this.dirty.add(leaf);
    const list = [...node.entries];
    list[idx] = withChild(pred, below);
    await this.place(path, node, list);
  }

  /** Frees an index block that nothing points at any more (its $I30 bitmap bit is cleared). */
  private release(node: EditNode): void {
    if (node.vcn === null) return;
    const index = (node.vcn * this.index.vcnUnit) / this.bs;
    this.bitmap[index >> 3] = this.bitmap[index >> 3]! & ~(1 << (index & 7));
    this.dirty.delete(node);
    this.blocks.delete(node.vcn);
  }

  private fits(node: EditNode, entries: readonly Uint8Array[]): boolean {
    if (node.vcn !== null) return this.entriesOffset(node) + sum(entries) <= this.bs - INDX_HEADER;
    return (
      recordBytesNeeded(this.recordBytes, this.recordAttributes(entries, node.hasChildren)) <=
      this.recordBytes.length
    );
  }

  private entriesOffset(node: EditNode): number {
    return node.template ? le32(node.template, INDX_HEADER) : this.freshEntriesOffset();
  }

  private freshEntriesOffset(): number {
    return align8(INDX_USA_OFFSET + 2 * (this.bs / 512 + 1)) - INDX_HEADER;
  }

  private async insertAt(
    path: { node: EditNode; pos: number }[],
    node: EditNode,
    pos: number,
    entry: Uint8Array,
  ): Promise<void> {
    const list = [...node.entries];
    list.splice(pos, 0, entry);
    await this.place(path, node, list);
  }

  /** Gives `node` the entries `list`: as is when they fit, else by a root push-down or a split. */
  private async place(
    path: { node: EditNode; pos: number }[],
    node: EditNode,
    list: Uint8Array[],
  ): Promise<void> {
    if (this.fits(node, list)) {
      node.entries = list;
      this.dirty.add(node);
      return;
    }
    if (node.vcn === null) {
      // The root overflows its record: everything moves down into a new block.
      const down = await this.newBlock(node.hasChildren);
      node.entries = [endEntry(down.vcn)];
      node.hasChildren = true;
      this.dirty.add(node);
      if (this.fits(down, list)) {
        down.entries = list;
        this.dirty.add(down);
        return;
      }
      await this.split([{ node, pos: 0 }], down, list);
      return;
    }
    await this.split(path, node, list);
  }

  private async split(
    path: { node: EditNode; pos: number }[],
    node: EditNode,
    list: Uint8Array[],
  ): Promise<void> {
    const end = list[list.length - 1]!;
    const body = list.slice(0, -1);
    const mid = body.length >> 1;
    const median = body[mid]!;
    const left = await this.newBlock(node.hasChildren);
    left.entries = [...body.slice(0, mid), endEntry(node.hasChildren ? childOf(median) : null)];
    node.entries = [...body.slice(mid + 1), end];
    this.dirty.add(left);
    this.dirty.add(node);
    const up = path.pop();
    if (!up) throw new WinrescueError('internal', 'index split without a parent');
    await this.insertAt(path, up.node, up.pos, withChild(median, left.vcn));
  }

  private async newBlock(hasChildren: boolean): Promise<EditNode> {
    const bs = this.bs;
    const cs = this.vol.clusterSize;
    const blocks = this.allocSize / bs;
    let index = -1;
    for (let i = 0; i < blocks; i++) {
      if ((this.bitmap[i >> 3]! & (1 << (i & 7))) === 0) {
        index = i;
        break;
      }
    }
    if (index < 0) {
      index = blocks;
      const last = this.allocRuns[this.allocRuns.length - 1];
      const hint = last && last.lcn !== null ? last.lcn + last.length : 0;
      const added = this.clusters.allocate(bs / cs, this.allocSize / cs, hint);
      this.allocRuns = mergeRuns([...this.allocRuns, ...added]);
      this.allocSize += bs;
      const need = align8(Math.ceil((index + 1) / 8));
      if (this.bitmap.length < need) {
        const grown = new Uint8Array(need);
        grown.set(this.bitmap);
        this.bitmap = grown;
      }
    }
    this.bitmap[index >> 3] = this.bitmap[index >> 3]! | (1 << (index & 7));
    const vcn = (index * bs) / this.index.vcnUnit;
    const t = new Uint8Array(bs);
    t.set(INDX_MAGIC);
    setU16(t, 4, INDX_USA_OFFSET);
    setU16(t, 6, bs / 512 + 1);
    setU64(t, 16, vcn);
    setU32(t, INDX_HEADER, this.freshEntriesOffset());
    const n: EditNode = { vcn, entries: [endEntry(null)], hasChildren, template: t };
    this.blocks.set(vcn, n);
    return n;
  }

  private rootValue(entries: readonly Uint8Array[], hasChildren: boolean): Uint8Array {
    const v = new Uint8Array(INDEX_ROOT_HEADER + NODE_HEADER_LENGTH + sum(entries));
    v.set(this.rootHeader);
    const h = INDEX_ROOT_HEADER;
    setU32(v, h, NODE_HEADER_LENGTH);
    setU32(v, h + 4, NODE_HEADER_LENGTH + sum(entries));
    setU32(v, h + 8, NODE_HEADER_LENGTH + sum(entries));
    setU32(v, h + 12, hasChildren ? NODE_HAS_CHILDREN : 0);
    let at = h + NODE_HEADER_LENGTH;
    for (const e of entries) {
      v.set(e, at);
      at += e.length;
    }
    return v;
  }

  private attrId(type: number): number {
    const a = this.record.attributes.find((x) => x.type === type && x.name === '$I30');
    return a ? a.id : takeAttributeId(this.recordBytes);
  }

  private ids: { root: number; alloc: number; bitmap: number } | null = null;

  private recordAttributes(rootEntries: readonly Uint8Array[], hasChildren: boolean): Uint8Array[] {
    this.ids ??= {
      root: this.attrId(ATTR.INDEX_ROOT),
      alloc: this.hadAllocation ? this.attrId(ATTR.INDEX_ALLOCATION) : -1,
      bitmap: this.hadAllocation ? this.attrId(ATTR.BITMAP) : -1,
    };
    if (this.allocSize > 0 && this.ids.alloc < 0) {
      this.ids.alloc = takeAttributeId(this.recordBytes);
      this.ids.bitmap = takeAttributeId(this.recordBytes);
    }
    const keep = this.record.attributes
      .filter(
        (a) =>
          !(
            a.name === '$I30' &&
            (a.type === ATTR.INDEX_ROOT || a.type === ATTR.INDEX_ALLOCATION || a.type === ATTR.BITMAP)
          ),
      )
      .map((a) => attributeBytes(this.record.bytes, a.offset));
    const out = [
      ...keep,
      residentAttribute(ATTR.INDEX_ROOT, '$I30', this.ids.root, this.rootValue(rootEntries, hasChildren)),
    ];
    if (this.allocSize > 0) {
      out.push(
        nonResidentAttribute(
          ATTR.INDEX_ALLOCATION,
          '$I30',
          this.ids.alloc,
          this.allocRuns,
          this.vol.clusterSize,
          {
            dataSize: this.allocSize,
            initializedSize: this.allocSize,
          },
        ),
        residentAttribute(ATTR.BITMAP, '$I30', this.ids.bitmap, this.bitmap),
      );
    }
    return out;
  }

  /** The directory record with the new root (and allocation): built before anything is written. */
  buildRecord(): Uint8Array {
    return rebuildRecord(
      this.recordBytes,
      this.recordAttributes(this.root.entries, this.root.hasChildren),
      this.file.record,
    );
  }

  /** Writes every changed block (fixups applied); the caller writes the record from buildRecord(). */
  async writeBlocks(): Promise<void> {
    for (const n of this.dirty) {
      if (n.vcn === null) continue;
      const out = n.template!.slice();
      const eo = le32(out, INDX_HEADER);
      const used = eo + sum(n.entries);
      out.fill(0, INDX_HEADER + eo);
      setU32(out, INDX_HEADER + 4, used);
      setU32(out, INDX_HEADER + 8, this.bs - INDX_HEADER);
      setU32(out, INDX_HEADER + 12, n.hasChildren ? NODE_HAS_CHILDREN : 0);
      let at = INDX_HEADER + eo;
      for (const e of n.entries) {
        out.set(e, at);
        at += e.length;
      }
      applyFixupsOnWrite(out, {
        label: `$I30 block VCN ${n.vcn}`,
        structure: 'ntfs.indexBlock',
        base: 0,
        record: this.file.record,
      });
      await writeThroughRuns(
        this.vol.device,
        this.vol.clusterSize,
        this.allocRuns,
        n.vcn * this.index.vcnUnit,
        out,
        `$I30 block VCN ${n.vcn} of record ${this.file.record}`,
      );
    }
    this.dirty.clear();
  }
}
