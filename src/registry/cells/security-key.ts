// Security key (sk). Spec: msuhanov regf spec, "Key security".
import { u32 } from '../../util/bytes.js';
import { type Cell, cellField, expectSignature } from './cell.js';

export interface SecurityKey {
  readonly cell: Cell;
  readonly flink: number;
  readonly blink: number;
  readonly refCount: number;
  /** Self-relative SECURITY_DESCRIPTOR. */
  readonly descriptor: Uint8Array;
}

export function parseSecurityKey(cell: Cell): SecurityKey {
  expectSignature(cell, 'sk', 'sk');
  const f = cellField(cell, 0, 20, 'sk header');
  const len = u32(f, 16);
  return {
    cell,
    flink: u32(f, 4),
    blink: u32(f, 8),
    refCount: u32(f, 12),
    descriptor: cellField(cell, 20, len, 'sk descriptor'),
  };
}
