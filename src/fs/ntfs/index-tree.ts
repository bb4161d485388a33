// Walking an index B+ tree ($I30 directories, $Secure:$SII, ...): the root node in $INDEX_ROOT, child nodes
// in INDX blocks of $INDEX_ALLOCATION marked in use by the $BITMAP of the same name. flatcap linux-ntfs
// ntfs/concepts/index_record.html, ntfs/attributes/index_root.html, index_allocation.html; libfsntfs asciidoc
// §"Index"; child VCN units per ntfs-3g index.c (512-byte units when blocks are smaller than a cluster).
import { WinrescueError } from '../../errors.js';
import { ATTR } from './attribute.js';
import { INDEX_ROOT_HEADER, parseIndexRoot, type IndexRoot } from './attributes/index-root.js';
import { AttributeStream, type ClusterIo } from './data-stream.js';
import { findAttribute, type NtfsFile, type ResolvedAttribute } from './file-record.js';
import { parseIndexBlock, parseIndexNode, type IndexEntry, type IndexNode } from './index-node.js';
import type { ByteLru } from './cache.js';

/** Deeper than any real index (a 32-level B+ tree of 4 KiB nodes would index more names than exist). */
export const MAX_INDEX_DEPTH = 32;
/** Child pointers count 512-byte units when index blocks are smaller than clusters. */
const SMALL_BLOCK_VCN_UNIT = 512;

export interface IndexTreeHost extends ClusterIo {
  readonly cache: ByteLru<unknown>;
}

export class IndexTree {
  readonly root: IndexRoot;
  readonly rootNode: IndexNode;
  private readonly allocation: AttributeStream | null;
  private readonly bitmapAttr: ResolvedAttribute | undefined;
  private bitmap: Uint8Array | null = null;
  /** The whole allocation, when a listing asked for it up front (one device read instead of one per block). */
  private preloaded: Uint8Array | null = null;
  private readonly preloadedNodes = new Map<number, IndexNode>();
  private readonly vcnUnit: number;
  readonly fileNameIndex: boolean;

  constructor(
    private readonly host: IndexTreeHost,
    readonly file: NtfsFile,
    readonly indexName: string,
  ) {
    const rootAttr = findAttribute(file, ATTR.INDEX_ROOT, indexName);
    const rec = file.record;
    if (!rootAttr || !rootAttr.resident || !rootAttr.value) {
      throw new WinrescueError('ntfs.notADirectory', `record ${rec} has no ${indexName} index root`, {
        structure: 'ntfs.indexRoot',
        record: rec,
      });
    }
    this.root = parseIndexRoot(rootAttr.value, rec);
    this.fileNameIndex = this.root.indexedType === ATTR.FILE_NAME;
    // $I30 entries are read as file names with references: a root claiming another indexed type is damage.
    if (indexName === '$I30' && !this.fileNameIndex) {
      throw new WinrescueError(
        'ntfs.badIndex',
        `record ${rec}: $I30 index root indexes type 0x${this.root.indexedType.toString(16)}, not $FILE_NAME`,
        { structure: 'ntfs.indexRoot', record: rec, expected: ATTR.FILE_NAME, actual: this.root.indexedType },
      );
    }
    this.rootNode = parseIndexNode(rootAttr.value, INDEX_ROOT_HEADER, {
      label: `index root ${indexName} of record ${rec}`,
      base: rootAttr.offset,
      record: rec,
      fileNameIndex: this.fileNameIndex,
    });
    const alloc = findAttribute(file, ATTR.INDEX_ALLOCATION, indexName);
    this.allocation = alloc
      ? new AttributeStream(host, alloc, { label: `record ${rec} ${indexName} allocation`, record: rec })
      : null;
    this.bitmapAttr = findAttribute(file, ATTR.BITMAP, indexName);
    const bs = this.root.indexBlockSize;
    if (bs < 512 || (bs & (bs - 1)) !== 0 || bs > 2 * 1024 * 1024) {
      throw new WinrescueError('ntfs.badIndex', `record ${rec}: index block size ${bs} is impossible`, {
        structure: 'ntfs.indexRoot',
        record: rec,
        actual: bs,
      });
    }
    this.vcnUnit = bs < host.clusterSize ? SMALL_BLOCK_VCN_UNIT : host.clusterSize;
  }

  private bad(code: 'ntfs.badIndex' | 'ntfs.indexLoop', message: string, actual?: unknown): never {
    throw new WinrescueError(code, `record ${this.file.record} index ${this.indexName}: ${message}`, {
      structure: 'ntfs.index',
      record: this.file.record,
      offset: this.file.base.offset,
      actual,
    });
  }

  private async inUse(blockIndex: number): Promise<boolean> {
    if (!this.bitmapAttr) return true;
    if (this.bitmap === null) {
      // One bit per index block: the bitmap can be no larger than the allocation allows.
      const limit = Math.ceil((this.allocation?.size ?? 0) / this.root.indexBlockSize / 8) + 8;
      this.bitmap = await new AttributeStream(this.host, this.bitmapAttr, {
        label: `record ${this.file.record} ${this.indexName} bitmap`,
        record: this.file.record,
      }).readAllAtMost(limit, `${this.indexName} bitmap`);
    }
    const byte = this.bitmap[blockIndex >> 3];
    return byte !== undefined && (byte & (1 << (blockIndex & 7))) !== 0;
  }

  /**
   * Reads the whole index allocation at once if it is at most `limit` bytes: a listing visits every block
   * anyway, and one large read beats thousands of small ones (over HTTP above all).
   */
  async preload(limit: number): Promise<void> {
    if (!this.allocation || this.preloaded || this.allocation.size > limit) return;
    this.preloaded = await this.allocation.readAll();
  }

  /** The child node at `vcn`, read through the volume cache. */
  async child(vcn: number): Promise<IndexNode> {
    if (!this.allocation)
      this.bad('ntfs.badIndex', `entry points to child VCN ${vcn} but there is no index allocation`, vcn);
    const bs = this.root.indexBlockSize;
    const offset = vcn * this.vcnUnit;
    if (!Number.isSafeInteger(offset) || offset % bs !== 0 || offset + bs > this.allocation.size) {
      this.bad(
        'ntfs.badIndex',
        `child VCN ${vcn} lies outside the ${this.allocation.size}-byte index allocation`,
        vcn,
      );
    }
    const key = `i:${this.file.record}:${this.indexName}:${vcn}`;
    const cached = this.preloaded
      ? this.preloadedNodes.get(vcn)
      : (this.host.cache.get(key) as IndexNode | undefined);
    if (cached) return cached;
    if (!(await this.inUse(offset / bs)))
      this.bad('ntfs.badIndex', `child VCN ${vcn} is not marked in use in the ${this.indexName} bitmap`, vcn);
    // A view into the preloaded allocation: its fixups are undone in place, once (parsed nodes are kept).
    const raw = this.preloaded
      ? this.preloaded.subarray(offset, offset + bs)
      : await this.allocation.read(offset, bs);
    const node = parseIndexBlock(raw, vcn, {
      label: `index block VCN ${vcn} of record ${this.file.record} ${this.indexName}`,
      base: this.file.base.offset,
      record: this.file.record,
      fileNameIndex: this.fileNameIndex,
    });
    if (this.preloaded) this.preloadedNodes.set(vcn, node);
    else this.host.cache.set(key, node, bs);
    return node;
  }

  /**
   * Descends by `compare(entry)` (<0: the key sorts before the entry) and returns the first entry that
   * compares equal, or null. `seen` guards against child pointers that loop.
   */
  async find(compare: (e: IndexEntry) => number): Promise<IndexEntry | null> {
    let node = this.rootNode;
    const seen = new Set<number>();
    for (let depth = 0; ; depth++) {
      let next: number | null = null;
      let decided = false;
      for (const e of node.entries) {
        const c = e.last ? -1 : compare(e);
        if (c === 0) return e;
        if (c < 0) {
          next = e.childVcn;
          decided = true;
          break;
        }
      }
      if (!decided || next === null) return null;
      this.guard(seen, next, depth + 1);
      node = await this.child(next);
    }
  }

  private guard(seen: Set<number>, vcn: number, depth: number): void {
    if (seen.has(vcn))
      this.bad('ntfs.indexLoop', `child VCN ${vcn} is reached twice on one walk (the index loops)`, vcn);
    if (depth > MAX_INDEX_DEPTH)
      this.bad('ntfs.indexLoop', `deeper than ${MAX_INDEX_DEPTH} levels (the index loops)`, depth);
    seen.add(vcn);
  }

  /**
   * Every entry in collation order, as an array: the same walk as entries() but awaiting only per node, not
   * per entry (a listing of 200,000 names would otherwise spend more time in promise hand-offs than parsing).
   */
  async collectEntries(): Promise<IndexEntry[]> {
    const out: IndexEntry[] = [];
    const seen = new Set<number>();
    const nodes: IndexNode[] = [this.rootNode];
    const index: number[] = [0];
    const down: boolean[] = [false];
    while (nodes.length > 0) {
      const top = nodes.length - 1;
      const e = nodes[top]!.entries[index[top]!];
      if (!e) {
        nodes.pop();
        index.pop();
        down.pop();
        continue;
      }
      if (e.childVcn !== null && !down[top]) {
        down[top] = true;
        this.guard(seen, e.childVcn, top + 1);
        nodes.push(await this.child(e.childVcn));
        index.push(0);
        down.push(false);
        continue;
      }
      down[top] = false;
      index[top]!++;
      if (!e.last) out.push(e);
    }
    return out;
  }

  /** Every entry in collation order (in-order walk), each node read once. */
  async *entries(): AsyncGenerator<IndexEntry> {
    const seen = new Set<number>();
    // `down`: the current entry's child subtree has been walked, so the entry itself is next.
    type Frame = { node: IndexNode; i: number; depth: number; down: boolean };
    const stack: Frame[] = [{ node: this.rootNode, i: 0, depth: 0, down: false }];
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      const e = f.node.entries[f.i];
      if (!e) {
        stack.pop();
        continue;
      }
      if (e.childVcn !== null && !f.down) {
        f.down = true;
        this.guard(seen, e.childVcn, f.depth + 1);
        stack.push({ node: await this.child(e.childVcn), i: 0, depth: f.depth + 1, down: false });
        continue;
      }
      f.down = false;
      f.i++;
      if (!e.last) yield e;
    }
  }
}
