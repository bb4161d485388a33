// Editing a directory's $I30 B+ tree in place: flatcap linux-ntfs ntfs/concepts/index_record.html,
// index_entry.html, ntfs/attributes/index_root.html; ntfs-3g layout.h INDEX_HEADER, INDEX_ENTRY. Nodes are kept
// as raw bytes (fixups undone) so an entry can be changed where it lies and the node written back whole.
import { WinrescueError } from '../../../errors.js';
import { setU64 } from '../../../util/bytes.js';
import { ATTR } from '../attribute.js';
import { INDEX_ROOT_HEADER, parseIndexRoot, type IndexRoot } from '../attributes/index-root.js';
import { compareFileNames } from '../collation.js';
import { readRunsBuffer } from '../data-stream.js';
import { findAttribute, type NtfsFile } from '../file-record.js';
import { applyFixupsOnRead, applyFixupsOnWrite } from '../fixup.js';
import { le16, le32, le64 } from '../le.js';
import type { DataRun } from '../runlist.js';
import type { NtfsVolume } from '../volume.js';
import { writeThroughRuns } from './run-io.js';

/** The node header of an INDX block starts after the 24-byte block header. */
export const INDX_HEADER = 24;
export const ENTRY_HAS_CHILD = 0x01;
export const ENTRY_LAST = 0x02;
export const NODE_HAS_CHILDREN = 0x01;
/** Child pointers count 512-byte units when index blocks are smaller than clusters. */
const SMALL_BLOCK_VCN_UNIT = 512;
const MAX_DEPTH = 32;
/** $FILE_NAME key fields (flatcap attributes/file_name.html). */
export const KEY_MODIFIED = 16;
export const KEY_MFT_CHANGED = 24;
export const KEY_ACCESSED = 32;
export const KEY_ALLOCATED = 40;
export const KEY_DATA_SIZE = 48;
const KEY_NAME_LENGTH = 64;
const KEY_NAME = 66;

export interface RawEntry {
  /** Offset of the entry in the node bytes. */
  readonly offset: number;
  readonly length: number;
  readonly flags: number;
  readonly record: number;
  readonly childVcn: number | null;
  readonly last: boolean;
  /** The key ($FILE_NAME value): a view into the node bytes. */
  readonly key: Uint8Array;
}

export interface RawNode {
  /** null for the root (inside the directory's record). */
  readonly vcn: number | null;
  readonly bytes: Uint8Array;
  /** Where the node header starts in `bytes`. */
  readonly headerAt: number;
  readonly entries: RawEntry[];
}

export function keyUnits(key: Uint8Array): Uint16Array {
  const n = key[KEY_NAME_LENGTH]!;
  const u = new Uint16Array(n);
  for (let i = 0; i < n; i++) u[i] = le16(key, KEY_NAME + i * 2);
  return u;
}

/** Parses the entries of the node whose header is at `headerAt` (bounds checked against the node). */
export function parseRawNode(bytes: Uint8Array, headerAt: number, vcn: number | null, what: string): RawNode {
  const bad = (message: string): never => {
    throw new WinrescueError('ntfs.badIndex', `${what}: ${message}`, { structure: 'ntfs.indexNode' });
  };
  const first = headerAt + le32(bytes, headerAt);
  const used = headerAt + le32(bytes, headerAt + 4);
  if (used > bytes.length || first < headerAt + 16 || first > used) bad('node header out of bounds');
  const entries: RawEntry[] = [];
  for (let at = first; ;) {
    if (at + 16 > used) bad(`entry at ${at} runs past the node`);
    const length = le16(bytes, at + 8);
    const keyLength = le16(bytes, at + 10);
    const flags = le32(bytes, at + 12) & 0xffff;
    if (length < 16 || at + length > used || 16 + keyLength > length)
      bad(`entry at ${at} has length ${length}`);
    const last = (flags & ENTRY_LAST) !== 0;
    const childVcn = (flags & ENTRY_HAS_CHILD) !== 0 ? le64(bytes, at + length - 8) : null;
    entries.push({
      offset: at,
      length,
      flags,
      record: last ? 0 : le32(bytes, at) + le16(bytes, at + 4) * 0x100000000,
      childVcn,
      last,
      key: bytes.subarray(at + 16, at + 16 + keyLength),
    });
    if (last) break;
    at += length;
    if (entries.length > 4096) bad('too many entries');
  }
  return { vcn, bytes, headerAt, entries };
}

/** One directory's $I30: its root (from the record) and blocks read on demand. */
export class DirectoryIndex {
  readonly root: IndexRoot;
  readonly rootNode: RawNode;
  readonly allocationRuns: readonly DataRun[];
  readonly vcnUnit: number;

  constructor(
    private readonly vol: NtfsVolume,
    readonly file: NtfsFile,
  ) {
    const rootAttr = findAttribute(file, ATTR.INDEX_ROOT, '$I30');
    if (!rootAttr?.value) {
      throw new WinrescueError('ntfs.notADirectory', `record ${file.record} has no $I30 index root`, {
        record: file.record,
        structure: 'ntfs.indexRoot',
      });
    }
    this.root = parseIndexRoot(rootAttr.value, file.record);
    this.rootNode = parseRawNode(
      rootAttr.value.slice(),
      INDEX_ROOT_HEADER,
      null,
      `$I30 root of record ${file.record}`,
    );
    const alloc = findAttribute(file, ATTR.INDEX_ALLOCATION, '$I30');
    if (alloc?.runlistError) throw alloc.runlistError;
    this.allocationRuns = alloc ? alloc.runs : [];
    const bs = this.root.indexBlockSize;
    this.vcnUnit = bs < vol.clusterSize ? SMALL_BLOCK_VCN_UNIT : vol.clusterSize;
  }

  get blockSize(): number {
    return this.root.indexBlockSize;
  }

  async block(vcn: number): Promise<RawNode> {
    const what = `$I30 block VCN ${vcn} of record ${this.file.record}`;
    const bytes = await readRunsBuffer(this.vol.io, this.allocationRuns, vcn * this.vcnUnit, this.blockSize, {
      label: what,
      record: this.file.record,
    });
    const copy = bytes.slice();
    applyFixupsOnRead(copy, { label: what, structure: 'ntfs.indexBlock', base: 0, record: this.file.record });
    return parseRawNode(copy, INDX_HEADER, vcn, what);
  }

  /** Writes a block back (fixups applied to a copy). The root is written by the caller with the record. */
  async writeBlock(node: RawNode): Promise<void> {
    if (node.vcn === null) throw new WinrescueError('internal', 'the index root is part of the record');
    const out = node.bytes.slice();
    applyFixupsOnWrite(out, {
      label: `$I30 block VCN ${node.vcn}`,
      structure: 'ntfs.indexBlock',
      base: 0,
      record: this.file.record,
    });
    await writeThroughRuns(
      this.vol.device,
      this.vol.clusterSize,
      this.allocationRuns,
      node.vcn * this.vcnUnit,
      out,
      `$I30 block VCN ${node.vcn} of record ${this.file.record}`,
    );
  }

  /**
   * Every node holding an entry for `record` under a name that collates equal to `units`, with the entry
   * (descending by collation, so only the nodes on the search path are read).
   */
  async findEntries(units: Uint16Array, record: number): Promise<{ node: RawNode; entry: RawEntry }[]> {
    const upcase = await this.vol.upcase();
    const out: { node: RawNode; entry: RawEntry }[] = [];
    const visit = async (node: RawNode, depth: number): Promise<void> => {
      if (depth > MAX_DEPTH)
        throw new WinrescueError(
          'ntfs.indexLoop',
          `record ${this.file.record}: $I30 deeper than ${MAX_DEPTH}`,
        );
      for (const e of node.entries) {
        const c = e.last ? -1 : compareFileNames(units, keyUnits(e.key), upcase);
        if (c === 0 && e.record === record) out.push({ node, entry: e });
        if (c <= 0 && e.childVcn !== null) await visit(await this.block(e.childVcn), depth + 1);
        if (c < 0) return;
      }
    };
    await visit(this.rootNode, 0);
    return out;
  }
}

/** Copies sizes and times into an index key (the duplicated $FILE_NAME information Windows keeps in step). */
export function setKeyInfo(
  key: Uint8Array,
  info: { allocatedSize: number; dataSize: number; modified: bigint; mftChanged: bigint; accessed: bigint },
): void {
  setU64(key, KEY_MODIFIED, info.modified);
  setU64(key, KEY_MFT_CHANGED, info.mftChanged);
  setU64(key, KEY_ACCESSED, info.accessed);
  setU64(key, KEY_ALLOCATED, info.allocatedSize);
  setU64(key, KEY_DATA_SIZE, info.dataSize);
}
