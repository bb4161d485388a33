// Where value data lives: inline in the vk, one data cell, or big data (db). Spec: msuhanov regf spec, "Key value"
// ("Data size": MSB = inline, 4 bytes or less), "Big data" (minor version above 3, segments of at most 16344 bytes).
import { WinrescueError } from '../../errors.js';
import { setU32, u32 } from '../../util/bytes.js';
import { BIG_DATA_SEGMENT, parseBigData } from '../cells/big-data.js';
import { NO_CELL, cellField, signatureOf } from '../cells/cell.js';
import { DATA_INLINE, type KeyValue } from '../cells/key-value.js';
import type { CellAllocator } from './allocator.js';
import { DB_SIZE, serializeBigData } from './records.js';

/** Data of up to 4 bytes is kept in the vk's data-offset field. */
export const INLINE_MAX = 4;
/** Big data exists from hive version 1.4 on; a 1.3 hive (most BCD stores) keeps any size in one cell. */
const BIG_DATA_MIN_MINOR = 4;
/** The db segment count is a u16. */
const MAX_SEGMENTS = 0xffff;
/** A 1.3 hive has no big data; one cell has to fit in a hive Windows still loads (< 2 GiB), so we stop at 1 GiB. */
const MAX_SINGLE_CELL_DATA = 0x4000_0000;

/** Largest value data the hive version can hold. */
export function maxValueData(minor: number): number {
  return minor >= BIG_DATA_MIN_MINOR ? MAX_SEGMENTS * BIG_DATA_SEGMENT : MAX_SINGLE_CELL_DATA;
}

export function checkDataSize(minor: number, size: number, keyPath: string, name: string): void {
  const max = maxValueData(minor);
  if (size > max) {
    throw new WinrescueError(
      'regf.tooLarge',
      `value '${name}' of ${keyPath}: ${size} data bytes, a version 1.${minor} hive holds at most ${max}`,
      { path: keyPath, structure: 'regf.vk', expected: `<= ${max}`, actual: size },
    );
  }
}

/** The two vk fields that say where data is. */
export interface StoredData {
  readonly dataSizeField: number;
  readonly dataOffsetField: number;
}

/** Stores `data` and returns the vk fields pointing to it. */
export function storeData(alloc: CellAllocator, minor: number, data: Uint8Array): StoredData {
  if (data.length <= INLINE_MAX) {
    const b = new Uint8Array(4);
    b.set(data);
    return { dataSizeField: (DATA_INLINE | data.length) >>> 0, dataOffsetField: u32(b, 0) };
  }
  if (minor < BIG_DATA_MIN_MINOR || data.length <= BIG_DATA_SEGMENT) {
    const rel = alloc.alloc(data.length);
    alloc.cell(rel).data.set(data);
    return { dataSizeField: data.length, dataOffsetField: rel };
  }
  const count = Math.ceil(data.length / BIG_DATA_SEGMENT);
  const segments: number[] = [];
  for (let i = 0; i < count; i++) {
    const part = data.subarray(i * BIG_DATA_SEGMENT, Math.min(data.length, (i + 1) * BIG_DATA_SEGMENT));
    const rel = alloc.alloc(part.length);
    alloc.cell(rel).data.set(part);
    segments.push(rel);
  }
  const list = alloc.alloc(count * 4);
  const listData = alloc.cell(list).data;
  segments.forEach((rel, i) => setU32(listData, i * 4, rel));
  const db = alloc.alloc(DB_SIZE);
  serializeBigData(count, list, alloc.cell(db).data, 0);
  return { dataSizeField: data.length, dataOffsetField: db };
}

/**
 * The cells holding a value's data (segments, segment list and db record, or the one data cell), recognising db the
 * way the reader does (minor ≥ 4, size > 16344, 'db' signature). Only cells known to be allocated are listed, so a
 * stray offset never frees someone else's cell; the caller frees them.
 */
export function dataCells(alloc: CellAllocator, minor: number, v: KeyValue): number[] {
  if (v.inline || v.dataSize === 0 || v.dataOffset === NO_CELL || !alloc.isAllocated(v.dataOffset)) return [];
  const cell = alloc.cell(v.dataOffset);
  // A set: in a damaged db the same cell may be listed twice, and it must be freed once.
  const out = new Set<number>();
  if (minor >= BIG_DATA_MIN_MINOR && v.dataSize > BIG_DATA_SEGMENT && signatureOf(cell) === 'db') {
    const db = parseBigData(cell);
    if (alloc.isAllocated(db.segmentList)) {
      const list = cellField(alloc.cell(db.segmentList), 0, db.segmentCount * 4, 'db segment list');
      for (let i = 0; i < db.segmentCount; i++) {
        const seg = u32(list, i * 4);
        if (alloc.isAllocated(seg)) out.add(seg);
      }
      out.add(db.segmentList);
    }
  }
  out.add(v.dataOffset);
  return [...out];
}
