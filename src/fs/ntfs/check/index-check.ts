// Checks every directory's $I30 B+ tree: node shape (all leaves at one depth, index nodes pointing down from
// every entry), blocks in the $I30 bitmap and reached once, entries in $UpCase collation order, and each entry
// against the record it names (in use, same sequence, a $FILE_NAME with that name and parent). flatcap
// linux-ntfs ntfs/concepts/index_record.html, index_header.html, index_entry.html, collation.html; libfsntfs
// asciidoc §"Index"; child VCN units as ntfs-3g index.c (512-byte units when blocks are smaller than clusters).
import { isWinrescueError } from '../../../errors.js';
import { ATTR } from '../attribute.js';
import {
  FILE_NAME_LENGTH_FIELD as KEY_NAME_LENGTH,
  FILE_NAME_NAME_FIELD as KEY_NAME,
  FILE_NAME_NAMESPACE_FIELD as KEY_NAMESPACE,
} from '../attributes/file-name.js';
import { le16, le32, utf16 } from '../le.js';
import { COLLATION, INDEX_ROOT_HEADER, parseIndexRoot } from '../attributes/index-root.js';
import { FILE_ATTRIBUTE } from '../attributes/standard-information.js';
import { AttributeStream } from '../data-stream.js';
import { findAttribute, type NtfsFile, type ResolvedAttribute } from '../file-record.js';
import { parseIndexBlock, parseIndexNode, type IndexEntry, type IndexNode } from '../index-node.js';
import { MAX_INDEX_DEPTH } from '../index-tree.js';
import type { NtfsVolume } from '../volume.js';
import type { Findings } from './problems.js';
import {
  BIT_INCOMPLETE,
  STATE_DAMAGED,
  STATE_IN_USE,
  type NameTable,
  type RecordTable,
} from './record-table.js';

const I30 = '$I30';
/** File attributes in a $FILE_NAME value (the directory bit lives there). */
const KEY_FILE_ATTRIBUTES = 56;
const SMALL_BLOCK_VCN_UNIT = 512;
/** Allocations up to this size are read in one go (a listing-sized read); bigger ones block by block. */
const PRELOAD_LIMIT = 16 * 1024 * 1024;
/** An $I30 bitmap has one bit per block: more than this is corrupt (2^27 blocks of 4 KiB = 512 GiB of index). */
const MAX_INDEX_BITMAP = 16 * 1024 * 1024;

export interface IndexPassState {
  readonly vol: NtfsVolume;
  readonly table: RecordTable;
  readonly names: NameTable;
  readonly findings: Findings;
  readonly upcase: Uint16Array;
  /** For damaged records: a directory entry naming them (for their path). */
  readonly damagedNames: Map<number, { dir: number; name: string }>;
  entries: number;
}

function describe(e: unknown): string {
  return isWinrescueError(e) ? e.message : String(e);
}

/** The whole $I30 allocation read ahead of its turn, or the error reading it gave (thrown when it is used). */
export type Prefetched = Promise<{ bytes: Uint8Array } | { error: unknown }>;

/**
 * Starts reading directory `file`'s allocation (when small enough to be read whole), so the next directories'
 * reads overlap the checking of this one.
 */
export function prefetchAllocation(vol: NtfsVolume, file: NtfsFile): Prefetched | undefined {
  const alloc = findAttribute(file, ATTR.INDEX_ALLOCATION, I30);
  if (!alloc || alloc.runlistError || alloc.dataSize > PRELOAD_LIMIT) return undefined;
  try {
    const stream = new AttributeStream(vol.clusterIo, alloc, {
      label: `record ${file.record} $I30 allocation`,
      record: file.record,
    });
    return stream.readAll().then(
      (bytes) => ({ bytes }),
      (error: unknown) => ({ error }),
    );
  } catch {
    return undefined;
  }
}

/** Checks directory `d` (its file, base and extensions joined). Marks it incomplete when a part is unreadable. */
export async function checkDirectory(
  s: IndexPassState,
  d: number,
  file: NtfsFile,
  prefetched?: Prefetched,
): Promise<void> {
  const walker = new DirectoryWalk(s, d, file, prefetched);
  try {
    await walker.run();
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    walker.fail(`index unreadable: ${describe(e)}`);
  }
}

class DirectoryWalk {
  private readonly visited = new Set<number>();
  private leafDepth = -1;
  private prev: Uint8Array | null = null;
  private blockSize = 0;
  private vcnUnit = 0;
  private allocation: AttributeStream | null = null;
  private preloaded: Uint8Array | null = null;
  private bitmap: Uint8Array | null = null;
  private incomplete = false;
  private reportedShape = false;
  private reportedOrder = 0;

  constructor(
    private readonly s: IndexPassState,
    private readonly d: number,
    private readonly file: NtfsFile,
    private readonly prefetched?: Prefetched,
  ) {}

  fail(detail: string): void {
    this.incomplete = true;
    this.s.table.flag(this.d, BIT_INCOMPLETE);
    this.s.findings.add('bad-index', this.d, detail);
  }

  async run(): Promise<void> {
    const rootAttr = findAttribute(this.file, ATTR.INDEX_ROOT, I30);
    if (!rootAttr?.value) return this.fail('$I30 index root is missing or non-resident');
    const root = parseIndexRoot(rootAttr.value, this.d);
    if (root.indexedType !== ATTR.FILE_NAME || root.collation !== COLLATION.FILENAME)
      return this.fail(
        `$I30 root indexes type 0x${root.indexedType.toString(16)} with collation ${root.collation}, not $FILE_NAME by file name`,
      );
    const bs = root.indexBlockSize;
    if (bs < 512 || (bs & (bs - 1)) !== 0 || bs > 2 * 1024 * 1024)
      return this.fail(`index block size ${bs} is impossible`);
    this.blockSize = bs;
    this.vcnUnit = bs < this.s.vol.clusterSize ? SMALL_BLOCK_VCN_UNIT : this.s.vol.clusterSize;
    const rootNode = parseIndexNode(rootAttr.value, INDEX_ROOT_HEADER, {
      label: `$I30 root of record ${this.d}`,
      base: rootAttr.offset,
      record: this.d,
      fileNameIndex: true,
    });
    await this.openAllocation(rootNode);
    await this.walk(rootNode);
    this.unreferencedBlocks();
    if (this.incomplete) this.s.table.flag(this.d, BIT_INCOMPLETE);
  }

  private async openAllocation(rootNode: IndexNode): Promise<void> {
    const alloc = findAttribute(this.file, ATTR.INDEX_ALLOCATION, I30);
    const bitmapAttr = findAttribute(this.file, ATTR.BITMAP, I30);
    if (!alloc) {
      if (rootNode.hasChildren) this.fail('the root has children but there is no $I30 index allocation');
      return;
    }
    const label = { label: `record ${this.d} $I30 allocation`, record: this.d };
    this.allocation = new AttributeStream(this.s.vol.clusterIo, alloc, label);
    const early = this.prefetched ? await this.prefetched : undefined;
    if (early && 'error' in early) throw early.error;
    if (early) this.preloaded = early.bytes;
    else if (this.allocation.size <= PRELOAD_LIMIT) this.preloaded = await this.allocation.readAll();
    if (!bitmapAttr) {
      this.fail('$I30 index allocation without its $BITMAP');
      return;
    }
    this.bitmap = await this.readBitmap(bitmapAttr);
  }

  private async readBitmap(a: ResolvedAttribute): Promise<Uint8Array> {
    if (a.resident) return a.value!;
    return new AttributeStream(this.s.vol.clusterIo, a, {
      label: `record ${this.d} $I30 bitmap`,
      record: this.d,
    }).readAllAtMost(MAX_INDEX_BITMAP, '$I30 bitmap');
  }

  private inBitmap(block: number): boolean {
    const b = this.bitmap?.[block >> 3];
    return b !== undefined && (b & (1 << (block & 7))) !== 0;
  }

  /** In-order walk: a child subtree, then the entry that points to it. */
  private async walk(rootNode: IndexNode): Promise<void> {
    type Frame = { node: IndexNode; i: number; depth: number; down: boolean };
    this.shape(rootNode, 0, 'the root');
    const stack: Frame[] = [{ node: rootNode, i: 0, depth: 0, down: false }];
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      const e = f.node.entries[f.i];
      if (!e) {
        stack.pop();
        continue;
      }
      if (e.childVcn !== null && !f.down) {
        f.down = true;
        const child = await this.child(e.childVcn, f.depth + 1);
        if (child) stack.push({ node: child, i: 0, depth: f.depth + 1, down: false });
        continue;
      }
      f.down = false;
      f.i++;
      if (!e.last) this.entry(e);
    }
  }

  private shape(node: IndexNode, depth: number, where: string): void {
    if (node.hasChildren) {
      if (node.entries.some((e) => e.childVcn === null) && !this.reportedShape) {
        this.reportedShape = true;
        this.s.findings.add('bad-index', this.d, `${where} is an index node with an entry that has no child`);
      }
      return;
    }
    if (this.leafDepth < 0) this.leafDepth = depth;
    else if (this.leafDepth !== depth && !this.reportedShape) {
      this.reportedShape = true;
      this.s.findings.add(
        'bad-index',
        this.d,
        `leaves at depths ${this.leafDepth} and ${depth}: the B+ tree is not balanced`,
      );
    }
  }

  private async child(vcn: number, depth: number): Promise<IndexNode | null> {
    const bs = this.blockSize;
    const where = `child VCN ${vcn}`;
    if (!this.allocation) return null;
    const offset = vcn * this.vcnUnit;
    if (!Number.isSafeInteger(offset) || offset % bs !== 0 || offset + bs > this.allocation.size) {
      this.fail(`${where} lies outside the ${this.allocation.size}-byte index allocation`);
      return null;
    }
    const block = offset / bs;
    if (this.visited.has(block)) {
      this.fail(`${where} is reached twice (the index loops or shares a block)`);
      return null;
    }
    if (depth > MAX_INDEX_DEPTH) {
      this.fail(`deeper than ${MAX_INDEX_DEPTH} levels`);
      return null;
    }
    this.visited.add(block);
    if (!this.inBitmap(block))
      this.s.findings.add('bad-index', this.d, `${where} is in use but not marked in the $I30 bitmap`);
    const raw = this.preloaded
      ? this.preloaded.subarray(offset, offset + bs)
      : await this.allocation.read(offset, bs);
    let node: IndexNode;
    try {
      node = parseIndexBlock(raw, vcn, {
        label: `index block VCN ${vcn} of record ${this.d}`,
        base: this.file.base.offset,
        record: this.d,
        fileNameIndex: true,
      });
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      this.fail(e.message);
      return null;
    }
    this.shape(node, depth, `index block VCN ${vcn}`);
    return node;
  }

  private unreferencedBlocks(): void {
    if (!this.allocation || !this.bitmap || this.incomplete) return;
    const blocks = Math.floor(this.allocation.size / this.blockSize);
    const lost: number[] = [];
    for (let b = 0; b < blocks; b++) if (this.inBitmap(b) && !this.visited.has(b)) lost.push(b);
    if (lost.length > 0)
      this.s.findings.add(
        'index-bitmap',
        this.d,
        `${lost.length} index block(s) marked in use in the $I30 bitmap are not in the tree (VCN ${lost
          .slice(0, 8)
          .map((b) => (b * this.blockSize) / this.vcnUnit)
          .join(', ')})`,
      );
  }

  private entry(e: IndexEntry): void {
    const s = this.s;
    const d = this.d;
    s.entries++;
    // The key is a $FILE_NAME value: read in place (200,000 entries must not become 200,000 objects).
    const key = e.key;
    const length = key.length >= KEY_NAME ? key[KEY_NAME_LENGTH]! : 0;
    if (key.length < KEY_NAME + 2 * length || length === 0 || key[KEY_NAMESPACE]! > 3) {
      this.fail(`entry at +${e.offset}: key of ${key.length} bytes is not a $FILE_NAME`);
      return;
    }
    const name = utf16(key, KEY_NAME, length * 2);
    const at = { dir: d, name };
    if (this.prev) {
      const c = compareKeys(this.prev, key, s.upcase);
      if (c >= 0 && this.reportedOrder++ < 4)
        s.findings.add(
          'index-order',
          d,
          `"${name}" follows "${utf16(this.prev, KEY_NAME, this.prev[KEY_NAME_LENGTH]! * 2)}" in the $I30 index: entries are not in collation order`,
          at,
        );
    }
    this.prev = key;
    const ref = e.fileReference!;
    const r = ref.record;
    const t = s.table;
    const parent = le32(key, 0) + le16(key, 4) * 0x100000000;
    const parentSequence = le16(key, 6);
    if (parent !== d)
      s.findings.add(
        'index-entry-mismatch',
        d,
        `entry "${name}" says its parent is record ${parent}, it sits in record ${d}`,
        at,
      );
    else if (parentSequence !== 0 && parentSequence !== t.sequence[d])
      s.findings.add(
        'index-entry-mismatch',
        d,
        `entry "${name}" names its directory with sequence ${parentSequence}, the directory has ${t.sequence[d]}`,
        at,
      );
    if (r < t.count && t.state[r] === STATE_DAMAGED) {
      if (!s.damagedNames.has(r)) s.damagedNames.set(r, at);
      return;
    }
    if (!t.inUseBase(r)) {
      s.findings.add(
        'dangling-index-entry',
        d,
        `entry "${name}" names record ${r}, which is ${t.describe(r)}`,
        at,
      );
      return;
    }
    if (ref.sequence !== 0 && ref.sequence !== t.sequence[r]) {
      s.findings.add(
        'dangling-index-entry',
        d,
        `entry "${name}" names record ${r} with sequence ${ref.sequence}, the record has sequence ${t.sequence[r]} (reused)`,
        at,
      );
      return;
    }
    const i = s.names.find(r, d, key);
    if (i < 0) {
      s.findings.add(
        'index-entry-mismatch',
        d,
        `entry "${name}" names record ${r}, which has no $FILE_NAME "${name}" in this directory`,
        at,
      );
      return;
    }
    if (++s.names.hits[i]! === 1) t.indexed[r]!++;
    else s.findings.add('duplicate-index-entry', d, `"${name}" (record ${r}) is indexed twice`, at);
    const isDir = (le32(key, KEY_FILE_ATTRIBUTES) & FILE_ATTRIBUTE.DUP_FILE_NAME_INDEX_PRESENT) !== 0;
    if (isDir !== t.isDirectory(r) && t.state[r] === STATE_IN_USE)
      s.findings.add(
        'index-entry-mismatch',
        d,
        `entry "${name}" says record ${r} is ${isDir ? '' : 'not '}a directory; the record says otherwise`,
        at,
      );
  }
}

/** COLLATION_FILENAME on two keys: units through $UpCase, then length; equal names by their exact units. */
function compareKeys(a: Uint8Array, b: Uint8Array, upcase: Uint16Array): number {
  const na = a[KEY_NAME_LENGTH]!;
  const nb = b[KEY_NAME_LENGTH]!;
  const n = Math.min(na, nb);
  let exact = 0;
  for (let i = 0; i < n; i++) {
    const x = a[KEY_NAME + 2 * i]! | (a[KEY_NAME + 2 * i + 1]! << 8);
    const y = b[KEY_NAME + 2 * i]! | (b[KEY_NAME + 2 * i + 1]! << 8);
    if (x === y) continue;
    const ux = upcase[x]!;
    const uy = upcase[y]!;
    if (ux !== uy) return ux - uy;
    if (exact === 0) exact = x - y;
  }
  return na !== nb ? na - nb : exact;
}
