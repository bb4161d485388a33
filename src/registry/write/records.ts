// Serializers for the cell records the writer creates. Spec: msuhanov regf spec, "Key node", "Key value",
// "Fast leaf", "Hash leaf", "Index root", "Big data" (offsets are into the cell payload, after the size field).
import { setU16, setU32, setU64, view } from '../../util/bytes.js';
import { NO_CELL } from '../cells/cell.js';
import { KEY_COMP_NAME } from '../cells/key-node.js';
import { VALUE_COMP_NAME } from '../cells/key-value.js';
import type { EncodedName } from './names.js';

/** nk fixed part before the name. */
export const NK_FIXED = 76;
/** vk fixed part before the name. */
export const VK_FIXED = 20;
/** li/lf/lh/ri and db share a 4-byte header: signature and element count. */
export const LIST_HEADER = 4;
/** db record: signature, segment count, segment list offset. */
export const DB_SIZE = 8;

/** nk field offsets used when the writer updates a key in place. */
export const NK = {
  flags: 2,
  lastWritten: 4,
  parent: 16,
  subkeyCount: 20,
  subkeyList: 28,
  valueCount: 36,
  valueList: 40,
  security: 44,
  classOffset: 48,
  maxSubkeyName: 52,
  maxValueName: 60,
  maxValueData: 64,
} as const;

/** vk field offsets used when a value is replaced in place. */
export const VK = { dataSize: 4, dataOffset: 8, type: 12 } as const;

/** sk field offsets: list links and reference count. */
export const SK = { flink: 4, blink: 8, refCount: 12 } as const;

export interface NewKeyNode {
  readonly name: EncodedName;
  readonly lastWritten: bigint;
  readonly parent: number;
  readonly security: number;
}

/** A fresh key: no subkeys, values or class; "largest" fields zero; volatile list none (never on disk). */
export function serializeKeyNode(k: NewKeyNode, out: Uint8Array, at: number): void {
  out[at] = 0x6e; // 'n'
  out[at + 1] = 0x6b; // 'k'
  setU16(out, at + NK.flags, k.name.compressed ? KEY_COMP_NAME : 0);
  setU64(out, at + NK.lastWritten, k.lastWritten);
  setU32(out, at + NK.parent, k.parent);
  setU32(out, at + NK.subkeyList, NO_CELL);
  setU32(out, at + 32, NO_CELL); // volatile subkeys list
  setU32(out, at + NK.valueList, NO_CELL);
  setU32(out, at + NK.security, k.security);
  setU32(out, at + NK.classOffset, NO_CELL);
  setU16(out, at + 72, k.name.bytes.length);
  out.set(k.name.bytes, at + NK_FIXED);
}

export interface NewKeyValue {
  readonly name: EncodedName;
  /** The data size field as stored: MSB set for inline data. */
  readonly dataSizeField: number;
  /** The data offset field as stored: a cell offset, or up to 4 inline data bytes. */
  readonly dataOffsetField: number;
  readonly type: number;
}

export function serializeKeyValue(v: NewKeyValue, out: Uint8Array, at: number): void {
  out[at] = 0x76; // 'v'
  out[at + 1] = 0x6b; // 'k'
  setU16(out, at + 2, v.name.bytes.length);
  setU32(out, at + VK.dataSize, v.dataSizeField);
  setU32(out, at + VK.dataOffset, v.dataOffsetField);
  setU32(out, at + VK.type, v.type);
  setU16(out, at + 16, v.name.compressed ? VALUE_COMP_NAME : 0);
  out.set(v.name.bytes, at + VK_FIXED);
}

export type LeafKind = 'li' | 'lf' | 'lh';

export interface LeafEntry {
  readonly nk: number;
  /** lf hint or lh hash; ignored for li. */
  readonly hint: number;
}

export function leafPayloadSize(kind: LeafKind, count: number): number {
  return LIST_HEADER + count * (kind === 'li' ? 4 : 8);
}

export function serializeLeaf(
  kind: LeafKind,
  entries: readonly LeafEntry[],
  out: Uint8Array,
  at: number,
): void {
  out[at] = kind.charCodeAt(0);
  out[at + 1] = kind.charCodeAt(1);
  setU16(out, at + 2, entries.length);
  const stride = kind === 'li' ? 4 : 8;
  const dv = view(out);
  entries.forEach((e, i) => {
    dv.setUint32(at + LIST_HEADER + i * stride, e.nk, true);
    if (stride === 8) dv.setUint32(at + LIST_HEADER + i * stride + 4, e.hint, true);
  });
}

export function serializeIndexRoot(leaves: readonly number[], out: Uint8Array, at: number): void {
  out[at] = 0x72; // 'r'
  out[at + 1] = 0x69; // 'i'
  setU16(out, at + 2, leaves.length);
  const dv = view(out);
  leaves.forEach((rel, i) => dv.setUint32(at + LIST_HEADER + i * 4, rel, true));
}

export function serializeBigData(segments: number, segmentList: number, out: Uint8Array, at: number): void {
  out[at] = 0x64; // 'd'
  out[at + 1] = 0x62; // 'b'
  setU16(out, at + 2, segments);
  setU32(out, at + 4, segmentList);
}
