// Index nodes: the node header and entries shared by $INDEX_ROOT and INDX blocks of $INDEX_ALLOCATION:
// flatcap linux-ntfs ntfs/concepts/index_header.html, index_entry.html, index_record.html; libfsntfs
// asciidoc §"Index"; ntfs-3g layout.h INDEX_HEADER, INDEX_ENTRY, INDEX_BLOCK.
import { WinrescueError, hex } from '../../errors.js';
import { ascii, i64 } from '../../util/bytes.js';
import { le16, le32, le64, le8 } from './le.js';
import { applyFixupsOnRead } from './fixup.js';
import { parseFileReference, type FileReference } from './mft-record.js';

export const INDX_SIGNATURE = 'INDX';
/** The node header starts 24 bytes into an INDX block (after signature, USA, LSN and VCN). */
export const INDX_NODE_HEADER = 24;
const NODE_HEADER_SIZE = 16;
const ENTRY_HEADER = 16;
export const INDEX_NODE_HAS_CHILDREN = 0x01;
export const INDEX_ENTRY_HAS_CHILD = 0x01;
export const INDEX_ENTRY_LAST = 0x02;
/** A node with more entries than this is corrupt (the smallest entry is 16 bytes; nodes are <= 64 KiB). */
const MAX_ENTRIES_PER_NODE = 4096;
/** Shared by every entry without a key or data (never written to). */
const EMPTY = new Uint8Array(0);

export interface IndexEntry {
  /** $I30: the file the entry names. View indexes: null (their first 8 bytes are data offset/length). */
  readonly fileReference: FileReference | null;
  readonly dataOffset: number;
  readonly dataLength: number;
  readonly flags: number;
  readonly key: Uint8Array;
  /** Value bytes of a view index entry ($SII: the $SDS header). */
  readonly data: Uint8Array;
  /** Child node VCN when INDEX_ENTRY_HAS_CHILD. */
  readonly childVcn: number | null;
  readonly last: boolean;
  /** Offset of the entry within the node bytes given to the parser. */
  readonly offset: number;
}

export interface IndexNode {
  readonly hasChildren: boolean;
  readonly entries: readonly IndexEntry[];
}

export interface NodeWhere {
  label: string;
  /** Absolute device offset of the node bytes (for messages). */
  base: number;
  record?: number;
  /** True for $I30 (entries start with a file reference); false for view indexes. */
  fileNameIndex: boolean;
}

function bad(where: NodeWhere, at: number, message: string, expected?: unknown, actual?: unknown): never {
  throw new WinrescueError('ntfs.badIndex', `${where.label} at ${hex(where.base)}: ${message}`, {
    offset: where.base + at,
    structure: 'ntfs.indexNode',
    record: where.record,
    expected,
    actual,
  });
}

/** Parses the node header at `headerAt` and the entries it covers, all within `b`. */
export function parseIndexNode(b: Uint8Array, headerAt: number, where: NodeWhere): IndexNode {
  if (headerAt + NODE_HEADER_SIZE > b.length) bad(where, headerAt, 'node header lies outside the node');
  const entriesOffset = le32(b, headerAt);
  const used = le32(b, headerAt + 4);
  const flags = le8(b, headerAt + 12);
  const start = headerAt + entriesOffset;
  const end = headerAt + used;
  if (entriesOffset < NODE_HEADER_SIZE || end > b.length || start + ENTRY_HEADER > end) {
    bad(
      where,
      headerAt,
      `node header (entries at ${entriesOffset}, used ${used}) does not fit in ${b.length - headerAt} bytes`,
      `<= ${b.length - headerAt}`,
      used,
    );
  }
  const hasChildren = (flags & INDEX_NODE_HAS_CHILDREN) !== 0;
  const entries: IndexEntry[] = [];
  let off = start;
  for (;;) {
    if (entries.length >= MAX_ENTRIES_PER_NODE) bad(where, off, 'too many entries');
    if (off + ENTRY_HEADER > end) bad(where, off, 'entries run past the node without a last entry');
    const length = le16(b, off + 8);
    const keyLength = le16(b, off + 10);
    const eflags = le16(b, off + 12);
    const last = (eflags & INDEX_ENTRY_LAST) !== 0;
    const hasChild = (eflags & INDEX_ENTRY_HAS_CHILD) !== 0;
    const minLength = ENTRY_HEADER + (last ? 0 : keyLength) + (hasChild ? 8 : 0);
    if (length < minLength || length % 8 !== 0 || off + length > end) {
      bad(
        where,
        off,
        `entry length ${length} is impossible`,
        `8-aligned, ${minLength}..${end - off}`,
        length,
      );
    }
    if (hasChild !== hasChildren && hasChild)
      bad(where, off, 'entry points to a child in a leaf node', 'no child', 'child');
    let childVcn: number | null = null;
    if (hasChild) {
      childVcn = le64(b, off + length - 8);
      if (childVcn < 0)
        bad(
          where,
          off + length - 8,
          `child VCN ${i64(b, off + length - 8)} is impossible`,
          '>= 0',
          i64(b, off + length - 8),
        );
    }
    const key = last ? EMPTY : b.subarray(off + ENTRY_HEADER, off + ENTRY_HEADER + keyLength);
    let dataOffset = 0;
    let dataLength = 0;
    let data: Uint8Array = EMPTY;
    if (!where.fileNameIndex && !last) {
      dataOffset = le16(b, off);
      dataLength = le16(b, off + 2);
      if (dataLength > 0) {
        if (dataOffset + dataLength > length)
          bad(
            where,
            off,
            `entry data ${dataOffset}+${dataLength} overruns the entry`,
            `<= ${length}`,
            dataOffset + dataLength,
          );
        data = b.subarray(off + dataOffset, off + dataOffset + dataLength);
      }
    }
    entries.push({
      fileReference: where.fileNameIndex && !last ? parseFileReference(b, off) : null,
      dataOffset,
      dataLength,
      flags: eflags,
      key,
      data,
      childVcn,
      last,
      offset: off,
    });
    if (last) break;
    off += length;
  }
  return { hasChildren, entries };
}

/**
 * Parses an INDX block read from disk (fixups undone in place). `vcn` is the VCN we read it at: the block's
 * own VCN field must agree, or the allocation is cross-linked.
 */
export function parseIndexBlock(raw: Uint8Array, vcn: number, where: NodeWhere): IndexNode {
  const sig = ascii(raw, 0, 4);
  if (sig !== INDX_SIGNATURE)
    bad(where, 0, `signature should be "INDX", is ${JSON.stringify(sig)}`, INDX_SIGNATURE, sig);
  applyFixupsOnRead(raw, {
    label: where.label,
    structure: 'ntfs.indexBlock',
    base: where.base,
    record: where.record,
  });
  const stored = i64(raw, 16);
  if (stored !== BigInt(vcn)) bad(where, 16, `block says VCN ${stored}, read as VCN ${vcn}`, vcn, stored);
  return parseIndexNode(raw, INDX_NODE_HEADER, where);
}
