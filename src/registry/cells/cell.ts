// Hive cells. Spec: msuhanov "Windows registry file format specification", section "Cells"; libregf REGF "Hive bin cell".
import { WinrescueError, hex } from '../../errors.js';
import { i32 } from '../../util/bytes.js';

/** Cell offsets are relative to the first hive bin, which follows the 4096-byte base block. */
export const BINS_START = 4096;
/** The "no cell" marker for cell offsets. */
export const NO_CELL = 0xffffffff;
/** Cell sizes are multiples of 8 (the allocation granularity of the hive allocator). */
const CELL_ALIGN = 8;
/** The size field itself: the smallest possible cell. */
const CELL_HEADER = 4;

export interface Cell {
  /** Offset relative to the start of hive bins. */
  readonly rel: number;
  /** Absolute file offset of the cell (its size field). */
  readonly abs: number;
  readonly allocated: boolean;
  /** Total cell size including the size field. */
  readonly size: number;
  /** Cell payload (after the size field). */
  readonly data: Uint8Array;
}

export function cellError(
  abs: number,
  message: string,
  expected?: unknown,
  actual?: unknown,
): WinrescueError {
  return new WinrescueError('regf.badCell', `hive cell at ${hex(abs)}: ${message}`, {
    offset: abs,
    structure: 'regf.cell',
    expected,
    actual,
  });
}

/**
 * The one bounds helper for every cell read: the cell at `rel` must lie inside `hive`, be 8-aligned and
 * allocated (free cells hold stale data and are never followed).
 */
export function readCell(hive: Uint8Array, rel: number, limit: number = hive.length): Cell {
  const abs = BINS_START + rel;
  if (!Number.isSafeInteger(rel) || rel < 0 || rel % CELL_ALIGN !== 0 || abs + CELL_HEADER > limit) {
    throw cellError(abs, `offset ${hex(rel)} lies outside the hive bins or is not 8-aligned`);
  }
  const raw = i32(hive, abs);
  const size = Math.abs(raw);
  if (raw === 0) throw cellError(abs, 'cell size 0 (not a cell)', '< 0', raw);
  if (raw > 0) throw cellError(abs, `cell is free (size ${raw}), expected an allocated cell`, '< 0', raw);
  if (size < CELL_HEADER + 4 || size % CELL_ALIGN !== 0 || abs + size > limit) {
    throw cellError(
      abs,
      `cell size ${size} is not 8-aligned or runs past the hive bins`,
      'aligned, in bounds',
      size,
    );
  }
  return { rel, abs, allocated: true, size, data: hive.subarray(abs + CELL_HEADER, abs + size) };
}

/** A field of `len` bytes at `off` inside a cell payload, or a typed error naming the cell. */
export function cellField(cell: Cell, off: number, len: number, what: string): Uint8Array {
  if (
    !Number.isSafeInteger(off) ||
    !Number.isSafeInteger(len) ||
    off < 0 ||
    len < 0 ||
    off + len > cell.data.length
  ) {
    throw cellError(cell.abs, `${what} (${off}+${len}) runs past the cell's ${cell.data.length} bytes`);
  }
  return cell.data.subarray(off, off + len);
}

/** The two-byte signature of a cell as text, for messages. */
export function signatureOf(cell: Cell): string {
  if (cell.data.length < 2) return '';
  return String.fromCharCode(cell.data[0]!, cell.data[1]!);
}

export function expectSignature(cell: Cell, sig: string, what: string): void {
  const found = signatureOf(cell);
  if (found !== sig) {
    const shown = /^[\x20-\x7e]{2}$/.test(found) ? `'${found}'` : hex(cell.data[0] ?? 0);
    throw cellError(cell.abs, `${what} signature expected, found ${shown}`, sig, found);
  }
}
