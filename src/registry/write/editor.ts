// Editing a registry hive offline: values, keys, and a clean base block on save. Spec: msuhanov regf spec,
// "Base block" (sequence numbers, checksum), "Key node", "Key value", "Key values list", "Key security" (notes 1-4).
import { WinrescueError } from '../../errors.js';
import { setU16, setU32, setU64, u32, u64 } from '../../util/bytes.js';
import { baseBlockChecksum, parseBaseBlock } from '../base-block.js';
import { Hive } from '../hive.js';
import { BINS_START, NO_CELL, cellError, cellField } from '../cells/cell.js';
import { type KeyNode, parseKeyNode } from '../cells/key-node.js';
import { parseKeyValue } from '../cells/key-value.js';
import { type SecurityKey, parseSecurityKey } from '../cells/security-key.js';
import { CellAllocator } from './allocator.js';
import { checkValueName, encodeName, splitKeyPath, upcaseName } from './names.js';
import { NK, NK_FIXED, SK, VK, VK_FIXED, serializeKeyNode, serializeKeyValue } from './records.js';
import {
  type SubkeyContext,
  findSubkey,
  insertSubkey,
  listCells,
  removeSubkey,
  subkeyNodes,
} from './subkey-index.js';
import { checkDataSize, dataCells, storeData } from './value-store.js';

/** Base block fields rewritten on save. */
const BB = { primary: 4, secondary: 8, lastWritten: 12, rootCell: 36, checksum: 508 } as const;
/** The first hbin's timestamp, a backup of the base block's last-written time. */
const FIRST_BIN_TIMESTAMP = BINS_START + 20;
/** Sequence numbers and value types are u32. */
const MAX_U32 = 0xffffffff;
/** The largest-subkey-name field keeps its length in the low 16 bits; the high bits are flags (Vista+). */
const MAX_SUBKEY_NAME_MASK = 0xffff;
/** Registry paths are limited to 512 levels by Windows; deeper means a loop. */
const MAX_KEY_DEPTH = 512;
/** FILETIME of the Unix epoch, and FILETIME ticks (100 ns) per millisecond. */
const FILETIME_UNIX_EPOCH = 116444736000000000n;
const TICKS_PER_MS = 10000n;

export interface HiveEditorOptions {
  /** Edit a dirty hive anyway (what only its logs hold is lost). */
  readonly force?: boolean;
  /** FILETIME source, for tests. */
  readonly now?: () => bigint;
}

export interface SaveOptions {
  /** The saved sequence numbers exceed this, so log entries up to it become inert (see logSequenceCeiling). */
  readonly minSequence?: number;
}

export interface DeleteKeyOptions {
  readonly recursive?: boolean;
}

function nowFiletime(): bigint {
  return BigInt(Date.now()) * TICKS_PER_MS + FILETIME_UNIX_EPOCH;
}

export class HiveEditor {
  private readonly alloc: CellAllocator;
  private readonly minor: number;
  private readonly now: () => bigint;
  private readonly originalSequence: number;
  private readonly originalLastWritten: bigint;
  private readonly names = new Map<number, { name: string; upper: string }>();
  private view: Hive | undefined;
  private dirtied = false;
  private readonly ctx: SubkeyContext;

  private constructor(bytes: Uint8Array, options: HiveEditorOptions) {
    const base = parseBaseBlock(bytes);
    if (base.isDirty && !options.force) {
      throw new WinrescueError(
        'regf.dirty',
        `hive is dirty (sequence numbers ${base.primarySequence}/${base.secondarySequence}, checksum ${base.checksumValid ? 'valid' : 'wrong'}): replay its transaction logs before writing`,
        {
          offset: BB.primary,
          structure: 'regf.baseBlock',
          expected: 'equal sequence numbers and a valid checksum',
          actual: {
            primary: base.primarySequence,
            secondary: base.secondarySequence,
            checksumValid: base.checksumValid,
          },
        },
      );
    }
    this.minor = base.minor;
    this.originalSequence = Math.max(base.primarySequence, base.secondarySequence);
    this.originalLastWritten = base.lastWritten;
    this.now = options.now ?? nowFiletime;
    this.alloc = new CellAllocator(bytes);
    parseKeyNode(this.alloc.cell(base.rootCell));
    const names = this.names;
    const alloc = this.alloc;
    const entry = (nk: number): { name: string; upper: string } => {
      let e = names.get(nk);
      if (!e) {
        const name = parseKeyNode(alloc.cell(nk)).name;
        e = { name, upper: upcaseName(name) };
        names.set(nk, e);
      }
      return e;
    };
    this.ctx = { alloc, minor: base.minor, name: (nk) => entry(nk).name, upper: (nk) => entry(nk).upper };
  }

  /** Refuses a dirty hive (sequence numbers differ or bad checksum) with regf.dirty unless force: callers replay logs first. */
  static open(bytes: Uint8Array, options: HiveEditorOptions = {}): HiveEditor {
    return new HiveEditor(bytes, options);
  }

  /** A read view of the current state (src/registry Hive), valid until the next mutation. */
  get hive(): Hive {
    this.view ??= new Hive(this.alloc.bytes);
    return this.view;
  }

  get changed(): boolean {
    return this.dirtied;
  }

  /** Set or replace a value of any type (unknown types too); the key must exist (regf.notFound). */
  setValue(keyPath: string, name: string, type: number, data: Uint8Array): void {
    checkValueName(name, keyPath);
    if (!Number.isInteger(type) || type < 0 || type > MAX_U32) {
      throw new WinrescueError(
        'regf.badValue',
        `value type ${type} of '${name}' is not a 32-bit unsigned number`,
        {
          path: keyPath,
          structure: 'regf.vk',
          expected: '0..0xffffffff',
          actual: type,
        },
      );
    }
    checkDataSize(this.minor, data.length, keyPath, name);
    const keyRel = this.resolve(keyPath);
    const key = this.key(keyRel);
    const values = this.valueRels(key);
    const existing = this.findValue(values, name);
    const oldData = existing === undefined ? [] : this.ownedData(existing, key);
    this.touch();
    // The old data goes first so that its space can take the new data.
    for (const cell of oldData) this.alloc.free(cell);
    const stored = storeData(this.alloc, this.minor, data);
    if (existing !== undefined) {
      const p = this.alloc.payloadAbs(existing);
      const b = this.alloc.bytes;
      setU32(b, p + VK.dataSize, stored.dataSizeField);
      setU32(b, p + VK.dataOffset, stored.dataOffsetField);
      setU32(b, p + VK.type, type);
    } else {
      const enc = encodeName(name);
      const vk = this.alloc.alloc(VK_FIXED + enc.bytes.length);
      serializeKeyValue({ name: enc, ...stored, type }, this.alloc.cell(vk).data, 0);
      const list =
        key.valueCount === 0 || key.valueList === NO_CELL || !this.alloc.isAllocated(key.valueList)
          ? this.alloc.alloc(4)
          : this.alloc.realloc(key.valueList, (values.length + 1) * 4);
      setU32(this.alloc.cell(list).data, values.length * 4, vk);
      this.setNk(keyRel, NK.valueCount, values.length + 1);
      this.setNk(keyRel, NK.valueList, list);
    }
    this.raiseNk(keyRel, NK.maxValueName, name.length * 2);
    this.raiseNk(keyRel, NK.maxValueData, data.length);
    this.stamp(keyRel);
  }

  /** Removes a value; false when the key has no value of that name (the key itself must exist). */
  deleteValue(keyPath: string, name: string): boolean {
    const keyRel = this.resolve(keyPath);
    const key = this.key(keyRel);
    const values = this.valueRels(key);
    const existing = this.findValue(values, name);
    if (existing === undefined) return false;
    const oldData = this.ownedData(existing, key);
    this.touch();
    for (const cell of oldData) this.alloc.free(cell);
    this.alloc.free(existing);
    const rest = values.filter((v) => v !== existing);
    if (rest.length === 0) {
      if (this.alloc.isAllocated(key.valueList)) this.alloc.free(key.valueList);
      this.setNk(keyRel, NK.valueList, NO_CELL);
    } else {
      const list = this.alloc.cell(key.valueList).data;
      list.fill(0);
      rest.forEach((v, i) => setU32(list, i * 4, v));
    }
    this.setNk(keyRel, NK.valueCount, rest.length);
    this.stamp(keyRel);
    return true;
  }

  /** Creates missing ancestors; an existing key is left alone. Returns whether anything was created. */
  createKey(path: string): boolean {
    let at = this.rootRel();
    let created = false;
    for (const part of splitKeyPath(path)) {
      const key = this.key(at);
      const upper = upcaseName(part);
      const found = key.subkeyCount === 0 ? undefined : findSubkey(this.ctx, key.subkeyList, upper);
      if (found !== undefined) {
        at = found;
        continue;
      }
      this.touch();
      at = this.addSubkey(at, part, upper);
      created = true;
    }
    return created;
  }

  /** Deletes the key (and its subtree with recursive; otherwise a key with subkeys is refused). Root refused. */
  deleteKey(path: string, options: DeleteKeyOptions = {}): boolean {
    const parts = splitKeyPath(path);
    if (parts.length === 0) {
      throw new WinrescueError('regf.refused', 'the root key of a hive cannot be deleted', {
        path,
        structure: 'regf.nk',
      });
    }
    let parent = this.rootRel();
    for (const part of parts.slice(0, -1)) {
      const next = this.child(parent, part);
      if (next === undefined) return false;
      parent = next;
    }
    const target = this.child(parent, parts[parts.length - 1]!);
    if (target === undefined) return false;
    const key = this.key(target);
    if (key.subkeyCount > 0 && !options.recursive) {
      throw new WinrescueError(
        'regf.refused',
        `registry key ${path} has ${key.subkeyCount} subkeys: delete them first or delete recursively`,
        {
          path,
          structure: 'regf.nk',
          offset: key.cell.abs,
        },
      );
    }
    const owned = this.subtreeCells(target);
    this.touch();
    const parentKey = this.key(parent);
    this.setNk(parent, NK.subkeyList, removeSubkey(this.ctx, parentKey.subkeyList, target));
    this.setNk(parent, NK.subkeyCount, parentKey.subkeyCount - 1);
    this.stamp(parent);
    for (const cell of owned.cells) {
      this.alloc.free(cell);
      this.names.delete(cell);
    }
    for (const [sk, count] of owned.securities) this.releaseSecurity(sk, count);
    return true;
  }

  /**
   * The whole new hive file: clean base block, primary = secondary sequence = max(old primary, old secondary,
   * minSequence) + 1, last-written time, checksum.
   */
  save(options: SaveOptions = {}): Uint8Array {
    const min = options.minSequence ?? 0;
    if (!Number.isInteger(min) || min < 0) {
      throw new WinrescueError('internal', `minSequence must be a non-negative integer, got ${min}`, {
        structure: 'regf.baseBlock',
        actual: min,
      });
    }
    const out = this.alloc.bytes.slice();
    // From the sequences at open, so saving twice gives the same numbers.
    const seq = Math.max(this.originalSequence, min) + 1;
    if (seq > MAX_U32) {
      throw new WinrescueError('regf.unsupported', `hive sequence number would pass ${MAX_U32}`, {
        offset: BB.primary,
        structure: 'regf.baseBlock',
        actual: seq,
      });
    }
    const when = this.now();
    setU32(out, BB.primary, seq);
    setU32(out, BB.secondary, seq);
    setU64(out, BB.lastWritten, when);
    // The first bin's timestamp backs up the base block's; keep it in step where Windows kept it so.
    if (u64(out, FIRST_BIN_TIMESTAMP) === this.originalLastWritten) setU64(out, FIRST_BIN_TIMESTAMP, when);
    setU32(out, BB.checksum, baseBlockChecksum(out));
    return out;
  }

  // ---- keys ----

  private rootRel(): number {
    return u32(this.alloc.bytes, BB.rootCell);
  }

  private key(rel: number): KeyNode {
    return parseKeyNode(this.alloc.cell(rel));
  }

  private child(parent: number, name: string): number | undefined {
    const key = this.key(parent);
    return key.subkeyCount === 0 ? undefined : findSubkey(this.ctx, key.subkeyList, upcaseName(name));
  }

  private resolve(path: string): number {
    let at = this.rootRel();
    for (const part of splitKeyPath(path)) {
      const next = this.child(at, part);
      if (next === undefined) {
        throw new WinrescueError('regf.notFound', `registry key not found: ${path} (no '${part}')`, {
          path,
          structure: 'regf.nk',
        });
      }
      at = next;
    }
    return at;
  }

  private addSubkey(parent: number, name: string, upper: string): number {
    const p = this.key(parent);
    const sk = parseSecurityKey(this.alloc.cell(p.security));
    const enc = encodeName(name);
    const nk = this.alloc.alloc(NK_FIXED + enc.bytes.length);
    serializeKeyNode(
      { name: enc, lastWritten: this.now(), parent, security: sk.cell.rel },
      this.alloc.cell(nk).data,
      0,
    );
    setU32(this.alloc.cell(sk.cell.rel).data, SK.refCount, sk.refCount + 1);
    this.names.set(nk, { name, upper });
    const list = p.subkeyCount === 0 ? NO_CELL : p.subkeyList;
    this.setNk(parent, NK.subkeyList, insertSubkey(this.ctx, list, nk, upper));
    this.setNk(parent, NK.subkeyCount, p.subkeyCount + 1);
    this.raiseNk(parent, NK.maxSubkeyName, name.length * 2, MAX_SUBKEY_NAME_MASK);
    this.stamp(parent);
    return nk;
  }

  /**
   * Everything the subtree at `rel` owns (key nodes, lists, values, data, class names) and the sk references it
   * holds, gathered and checked before anything is freed, so a damaged subtree is refused without a half-done delete.
   */
  private subtreeCells(rel: number): { cells: number[]; securities: Map<number, number> } {
    const cells: number[] = [];
    const securities = new Map<number, number>();
    const seen = new Set<number>();
    const take = (cell: number, what: string): void => {
      if (seen.has(cell) || !this.alloc.isAllocated(cell)) {
        throw cellError(
          BINS_START + cell,
          `${what} is not a cell of its own (reached twice, or not an allocated cell)`,
        );
      }
      seen.add(cell);
      cells.push(cell);
    };
    const visit = (nk: number, depth: number): void => {
      if (depth > MAX_KEY_DEPTH)
        throw cellError(BINS_START + nk, `key nesting deeper than ${MAX_KEY_DEPTH} levels`);
      const key = this.key(nk);
      take(nk, 'key node');
      securities.set(key.security, (securities.get(key.security) ?? 0) + 1);
      if (key.subkeyCount > 0) {
        for (const list of listCells(this.ctx, key.subkeyList)) take(list, 'subkey list');
        for (const child of subkeyNodes(this.ctx, key.subkeyList)) visit(child, depth + 1);
      }
      const values = this.valueRels(key);
      for (const v of values) {
        take(v, 'key value');
        for (const d of dataCells(this.alloc, this.minor, parseKeyValue(this.alloc.cell(v))))
          take(d, 'value data');
      }
      if (values.length > 0) take(key.valueList, 'value list');
      if (key.classOffset !== NO_CELL && key.classLength > 0 && this.alloc.isAllocated(key.classOffset)) {
        take(key.classOffset, 'class name');
      }
    };
    visit(rel, 0);
    this.checkRelease(securities, new Set(cells));
    return { cells, securities };
  }

  /**
   * The sk cells losing references, and the list neighbours of those losing their last one, must be sound and
   * outside the cells being freed, with flink/blink pointing back, so the unlinking cannot fail halfway.
   */
  private checkRelease(securities: ReadonlyMap<number, number>, freeing: ReadonlySet<number>): void {
    const sk = (rel: number): SecurityKey => {
      if (freeing.has(rel))
        throw cellError(BINS_START + rel, 'security cell is also owned by the key being deleted');
      return parseSecurityKey(this.alloc.cell(rel));
    };
    for (const [rel, count] of securities) {
      const s = sk(rel);
      if (s.refCount > count) continue;
      if (s.flink === rel || s.blink === rel) {
        throw cellError(s.cell.abs, 'the last security descriptor of the hive would be freed');
      }
      if (sk(s.flink).blink !== rel || sk(s.blink).flink !== rel) {
        throw cellError(s.cell.abs, 'sk list links do not point back to this sk', rel);
      }
    }
  }

  /** `count` keys fewer use the sk; when none is left it is unlinked from the flink/blink list and freed. */
  private releaseSecurity(rel: number, count: number): void {
    const sk = parseSecurityKey(this.alloc.cell(rel));
    if (sk.refCount > count) {
      setU32(this.alloc.cell(rel).data, SK.refCount, sk.refCount - count);
      return;
    }
    setU32(this.alloc.cell(sk.blink).data, SK.flink, sk.flink);
    setU32(this.alloc.cell(sk.flink).data, SK.blink, sk.blink);
    this.alloc.free(rel);
  }

  // ---- values ----

  private valueRels(key: KeyNode): number[] {
    if (key.valueCount === 0 || key.valueList === NO_CELL) return [];
    const list = cellField(this.alloc.cell(key.valueList), 0, key.valueCount * 4, 'value list');
    const out: number[] = [];
    for (let i = 0; i < key.valueCount; i++) out.push(u32(list, i * 4));
    return out;
  }

  /** The data cells of a value, refused when damage makes them overlap the value or its list. */
  private ownedData(vk: number, key: KeyNode): number[] {
    const cells = dataCells(this.alloc, this.minor, parseKeyValue(this.alloc.cell(vk)));
    if (cells.includes(vk) || cells.includes(key.valueList)) {
      throw cellError(BINS_START + vk, 'value data points at the value itself or at its value list');
    }
    return cells;
  }

  private findValue(values: readonly number[], name: string): number | undefined {
    const upper = upcaseName(name);
    for (const rel of values) if (upcaseName(parseKeyValue(this.alloc.cell(rel)).name) === upper) return rel;
    return undefined;
  }

  // ---- nk fields ----

  private setNk(rel: number, field: number, value: number): void {
    setU32(this.alloc.bytes, this.alloc.payloadAbs(rel) + field, value);
  }

  /** Raises a "largest ..." field (in the bits of `mask`) to at least `value`; like Windows, never lowers it. */
  private raiseNk(rel: number, field: number, value: number, mask = MAX_U32): void {
    const at = this.alloc.payloadAbs(rel) + field;
    const b = this.alloc.bytes;
    const cur = u32(b, at);
    if ((cur & mask) >>> 0 >= value) return;
    if (mask === MAX_SUBKEY_NAME_MASK) setU16(b, at, value);
    else setU32(b, at, value);
  }

  private stamp(rel: number): void {
    setU64(this.alloc.bytes, this.alloc.payloadAbs(rel) + NK.lastWritten, this.now());
  }

  private touch(): void {
    this.dirtied = true;
    this.view = undefined;
  }
}
