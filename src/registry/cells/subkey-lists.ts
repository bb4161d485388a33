// Subkey lists li/lf/lh/ri. Spec: msuhanov regf spec, "Subkeys list" / "Index leaf" / "Fast leaf" / "Hash leaf" / "Index root".
import { u16, view } from '../../util/bytes.js';
import { upcaseName } from '../upcase.js';
import { type Cell, cellError, cellField, signatureOf } from './cell.js';

export type SubkeyListKind = 'li' | 'lf' | 'lh' | 'ri';

export interface SubkeyList {
  readonly cell: Cell;
  readonly kind: SubkeyListKind;
  /** nk offsets for li/lf/lh; sub-list offsets for ri. */
  readonly offsets: readonly number[];
  /** lf: the name's first 4 characters as stored; lh: the name hash; empty for li/ri. */
  readonly hints: readonly number[];
}

/** lh name hash: H = 37*H + uppercase(code unit), over the UTF-16 code units, modulo 2^32. */
export function lhHash(name: string): number {
  let h = 0;
  const up = upcaseName(name);
  for (let i = 0; i < up.length; i++) h = (Math.imul(h, 37) + up.charCodeAt(i)) >>> 0;
  return h;
}

export function parseSubkeyList(cell: Cell): SubkeyList {
  const sig = signatureOf(cell);
  if (sig !== 'li' && sig !== 'lf' && sig !== 'lh' && sig !== 'ri') {
    throw cellError(
      cell.abs,
      `subkey list signature (li/lf/lh/ri) expected, found '${sig}'`,
      'li|lf|lh|ri',
      sig,
    );
  }
  const count = u16(cellField(cell, 0, 4, 'subkey list header'), 2);
  // lf and lh pair each offset with a 4-byte hint or hash.
  const stride = sig === 'lf' || sig === 'lh' ? 8 : 4;
  const body = cellField(cell, 4, count * stride, 'subkey list elements');
  const offsets: number[] = [];
  const hints: number[] = [];
  // One DataView for the whole list: the writer re-reads leaves of hundreds of entries on every insert.
  const dv = view(body);
  for (let i = 0; i < count; i++) {
    offsets.push(dv.getUint32(i * stride, true));
    if (stride === 8) hints.push(dv.getUint32(i * stride + 4, true));
  }
  return { cell, kind: sig, offsets, hints };
}
