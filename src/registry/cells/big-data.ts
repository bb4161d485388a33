// Big data (db). Spec: msuhanov regf spec, "Big data"; used only when the hive's minor version is above 3.
import { u16, u32 } from '../../util/bytes.js';
import { type Cell, cellField, expectSignature } from './cell.js';

/** Largest data a single cell carries; bigger values are split into db segments of this size. */
export const BIG_DATA_SEGMENT = 16344;

export interface BigData {
  readonly cell: Cell;
  readonly segmentCount: number;
  readonly segmentList: number;
}

export function parseBigData(cell: Cell): BigData {
  expectSignature(cell, 'db', 'db');
  const f = cellField(cell, 0, 8, 'db header');
  return { cell, segmentCount: u16(f, 2), segmentList: u32(f, 4) };
}
