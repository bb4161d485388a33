// A read-only view of a registry hive file. Spec: msuhanov regf spec, "Format overview" and the cell sections.
import { WinrescueError, hex, isWinrescueError } from '../errors.js';
import { u32 } from '../util/bytes.js';
import { type BaseBlock, parseBaseBlock } from './base-block.js';
import { HBIN_HEADER_SIZE, type HiveBin, parseHiveBin } from './hive-bin.js';
import { BIG_DATA_SEGMENT, parseBigData } from './cells/big-data.js';
import { type Cell, BINS_START, NO_CELL, cellError, cellField, readCell, signatureOf } from './cells/cell.js';
import { type KeyNode, parseKeyNode } from './cells/key-node.js';
import { type KeyValue, parseKeyValue } from './cells/key-value.js';
import { parseSubkeyList } from './cells/subkey-lists.js';
import { upcaseName } from './upcase.js';
import { type SecurityKey, parseSecurityKey } from './cells/security-key.js';

/** ri lists hold leaves; Windows never nests deeper than one level, so a few levels is generous. */
const MAX_LIST_DEPTH = 8;
/** Registry paths are limited to 512 levels by Windows; deeper means a loop. */
const MAX_KEY_DEPTH = 512;
/** Big data (db) exists from hive version 1.4 on; earlier hives store large data in one cell. */
const BIG_DATA_MIN_MINOR = 4;

export interface WalkEntry {
  /** `\` for the root, `\A\B` below it. */
  readonly path: string;
  readonly key: KeyNode;
}

export interface WalkOptions {
  /** Lenient walk: report a damaged subtree here and go on with its siblings instead of throwing. */
  readonly onError?: (error: WinrescueError, path: string) => void;
  /** Walk only this key's subtree (`A\B`, case-insensitive); paths keep the full path from the root. */
  readonly from?: string;
}

export class Hive {
  readonly base: BaseBlock;
  readonly root: KeyNode;

  constructor(readonly bytes: Uint8Array) {
    this.base = parseBaseBlock(bytes);
    this.root = this.key(this.base.rootCell);
  }

  cell(rel: number): Cell {
    const abs = BINS_START + rel;
    const bin = this.binAround(abs);
    if (bin && abs < bin.start + HBIN_HEADER_SIZE) {
      throw cellError(abs, `offset ${hex(rel)} points into the header of the hive bin at ${hex(bin.start)}`);
    }
    // A cell never crosses into the next bin: Windows allocates inside one bin, and a size that runs over
    // would make the next bin's header and cells part of this cell.
    return readCell(this.bytes, rel, bin ? bin.end : this.binsEnd);
  }

  /** Bin starts and ends, read once from the hbin headers; a damaged header ends the map (lenient). */
  private binMap: { starts: number[]; ends: number[] } | undefined;

  private binAround(abs: number): { start: number; end: number } | undefined {
    if (!this.binMap) {
      const starts: number[] = [];
      const ends: number[] = [];
      const end = this.binsEnd;
      for (let at = BINS_START; at < end;) {
        let size: number;
        try {
          size = parseHiveBin(this.bytes, at).size;
        } catch (e) {
          if (isWinrescueError(e)) break;
          throw e;
        }
        starts.push(at);
        ends.push(Math.min(at + size, end));
        at += size;
      }
      this.binMap = { starts, ends };
    }
    const { starts, ends } = this.binMap;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! > abs) hi = mid - 1;
      else if (ends[mid]! <= abs) lo = mid + 1;
      else return { start: starts[mid]!, end: ends[mid]! };
    }
    return undefined;
  }

  /** Cells live only inside the bins the base block declares; bytes after them are slack. */
  private get binsEnd(): number {
    return Math.min(this.bytes.length, BINS_START + this.base.hiveBinsDataSize);
  }

  /** The hbin headers in file order, up to the base block's hive bins data size (or the file's end). */
  bins(): HiveBin[] {
    const end = this.binsEnd;
    const out: HiveBin[] = [];
    for (let at = BINS_START; at < end;) {
      const bin = parseHiveBin(this.bytes, at);
      out.push(bin);
      at += bin.size;
    }
    return out;
  }

  key(rel: number): KeyNode {
    return parseKeyNode(this.cell(rel));
  }

  /** Subkeys in list order; loops in the list structure are a typed regf.badCell error. */
  subkeys(key: KeyNode): KeyNode[] {
    if (key.subkeyCount === 0 || key.subkeyList === NO_CELL) return [];
    const out: KeyNode[] = [];
    this.collectList(key.subkeyList, 0, new Set(), out);
    return out;
  }

  private collectList(rel: number, depth: number, seen: Set<number>, out: KeyNode[]): void {
    const cell = this.cell(rel);
    if (depth > MAX_LIST_DEPTH || seen.has(rel)) {
      throw cellError(cell.abs, `subkey list loops or nests deeper than ${MAX_LIST_DEPTH} levels`);
    }
    seen.add(rel);
    const list = parseSubkeyList(cell);
    if (list.kind === 'ri') {
      for (const sub of list.offsets) this.collectList(sub, depth + 1, seen, out);
    } else {
      for (const off of list.offsets) out.push(this.key(off));
    }
  }

  values(key: KeyNode): KeyValue[] {
    if (key.valueCount === 0 || key.valueList === NO_CELL) return [];
    const cell = this.cell(key.valueList);
    const list = cellField(cell, 0, key.valueCount * 4, 'value list');
    const out: KeyValue[] = [];
    for (let i = 0; i < key.valueCount; i++) out.push(parseKeyValue(this.cell(u32(list, i * 4))));
    return out;
  }

  /** The value's data bytes (a copy for inline data, otherwise a view into the hive). */
  valueData(v: KeyValue): Uint8Array {
    if (v.inline) return v.inlineData.slice();
    if (v.dataSize === 0 || v.dataOffset === NO_CELL) return new Uint8Array(0);
    const cell = this.cell(v.dataOffset);
    if (
      this.base.minor >= BIG_DATA_MIN_MINOR &&
      v.dataSize > BIG_DATA_SEGMENT &&
      signatureOf(cell) === 'db'
    ) {
      return this.bigData(cell, v.dataSize);
    }
    // Like Windows and hivex, a size larger than its cell is trusted only up to the cell's end.
    return cell.data.subarray(0, Math.min(v.dataSize, cell.data.length));
  }

  private bigData(cell: Cell, size: number): Uint8Array {
    const db = parseBigData(cell);
    const listCell = this.cell(db.segmentList);
    const list = cellField(listCell, 0, db.segmentCount * 4, 'db segment list');
    const out = new Uint8Array(size);
    let done = 0;
    for (let i = 0; i < db.segmentCount && done < size; i++) {
      const seg = this.cell(u32(list, i * 4));
      const n = Math.min(BIG_DATA_SEGMENT, seg.data.length, size - done);
      out.set(seg.data.subarray(0, n), done);
      done += n;
    }
    if (done < size)
      throw cellError(cell.abs, `db segments hold ${done} of the ${size} data bytes`, size, done);
    return out;
  }

  security(key: KeyNode): SecurityKey {
    return parseSecurityKey(this.cell(key.security));
  }

  className(key: KeyNode): string | undefined {
    if (key.classOffset === NO_CELL || key.classLength === 0) return undefined;
    const cell = this.cell(key.classOffset);
    const b = cellField(cell, 0, key.classLength, 'class name');
    return new TextDecoder('utf-16le').decode(b);
  }

  /** Case-insensitive lookup of `A\B\C` (leading `\` optional); regf.notFound when absent. */
  openKey(path: string): KeyNode {
    return this.resolveKey(path).key;
  }

  /** Like openKey, also giving the key's path as stored (`\ControlSet001\Services`), `\` for the root. */
  resolveKey(path: string): { key: KeyNode; path: string } {
    let key = this.root;
    let stored = '';
    for (const part of path.split('\\').filter((p) => p !== '')) {
      const want = upcaseName(part);
      const next = this.subkeys(key).find((k) => upcaseName(k.name) === want);
      if (!next) {
        throw new WinrescueError(
          'regf.notFound',
          `registry key not found: ${path} (no '${part}' under '${key.name}')`,
          {
            path,
            structure: 'regf.nk',
          },
        );
      }
      key = next;
      stored += `\\${next.name}`;
    }
    return { key, path: stored || '\\' };
  }

  /** Depth-first walk over all keys; nk loops are typed errors (or reported, in a lenient walk). */
  *walk(options: WalkOptions = {}): Generator<WalkEntry> {
    // A key reached twice is a loop or a shared subtree; either way following it again could never end.
    const seen = new Set<number>();
    const start = options.from === undefined ? { key: this.root, path: '\\' } : this.resolveKey(options.from);
    // An explicit stack, not nested generators: each yield through nested generators costs one resume per level.
    const stack: { key: KeyNode; path: string; depth: number }[] = [{ ...start, depth: 0 }];
    for (let item = stack.pop(); item; item = stack.pop()) {
      const { key, path, depth } = item;
      seen.add(key.cell.rel);
      yield { path, key };
      let kids: KeyNode[];
      try {
        if (depth >= MAX_KEY_DEPTH)
          throw cellError(key.cell.abs, `key nesting deeper than ${MAX_KEY_DEPTH} levels`);
        kids = this.subkeys(key);
        const here = new Set<number>();
        for (const k of kids) {
          if (seen.has(k.cell.rel) || here.has(k.cell.rel)) {
            throw cellError(k.cell.abs, 'nk reached twice (loop in the key tree)');
          }
          here.add(k.cell.rel);
        }
      } catch (e) {
        if (options.onError && isWinrescueError(e)) {
          options.onError(e, path);
          continue;
        }
        throw e;
      }
      const prefix = path === '\\' ? '' : path;
      for (let i = kids.length - 1; i >= 0; i--) {
        const k = kids[i]!;
        stack.push({ key: k, path: `${prefix}\\${k.name}`, depth: depth + 1 });
      }
    }
  }
}

export function openHive(bytes: Uint8Array): Hive {
  return new Hive(bytes);
}
