// regedit .reg export in hivexregedit's style, and a flat (key, value) tuple view of a hive.
// Format: Microsoft "How to add, modify, or delete registry subkeys and values by using a .reg file"; hivexregedit(1).
import { isWinrescueError } from '../errors.js';
import type { KeyNode } from './cells/key-node.js';
import type { Hive, WalkOptions } from './hive.js';

/** REG_DWORD is printed as `dword:` only when it has exactly its natural 4 bytes. */
const REG_DWORD = 4;

export interface ValueTuple {
  /** `\` for the root key, `\A\B` below it. */
  readonly path: string;
  /** '' for the default value. */
  readonly name: string;
  readonly type: number;
  readonly data: Uint8Array;
}

/** The key's values with their data; in a lenient walk a damaged value is reported and skipped. */
function keyValues(hive: Hive, key: KeyNode, path: string, options: WalkOptions): ValueTuple[] {
  const out: ValueTuple[] = [];
  let list;
  try {
    list = hive.values(key);
  } catch (e) {
    if (options.onError && isWinrescueError(e)) {
      options.onError(e, path);
      return out;
    }
    throw e;
  }
  for (const v of list) {
    try {
      out.push({ path, name: v.name, type: v.type, data: hive.valueData(v) });
    } catch (e) {
      if (!(options.onError && isWinrescueError(e))) throw e;
      options.onError(e, path);
    }
  }
  return out;
}

export function* tuples(hive: Hive, options: WalkOptions = {}): Generator<ValueTuple> {
  for (const { path, key } of hive.walk(options)) yield* keyValues(hive, key, path, options);
}

const HEX_PAIRS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hexBytes(b: Uint8Array): string {
  // Exports of a SYSTEM hive run to tens of MB: build each line from a lookup table in one join.
  const parts = new Array<string>(b.length);
  for (let i = 0; i < b.length; i++) parts[i] = HEX_PAIRS[b[i]!]!;
  return parts.join(',');
}

export function regValueLine(name: string, type: number, data: Uint8Array): string {
  const left = name === '' ? '@' : `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  if (type === REG_DWORD && data.length === 4) {
    const v = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
    return `${left}=dword:${v.toString(16).padStart(8, '0')}`;
  }
  return `${left}=hex(${(type >>> 0).toString(16)}):${hexBytes(data)}`;
}

/** The whole hive as .reg text: `[\Key\Sub]` sections, `"name"=hex(N):..` and `dword:` values. */
export function exportReg(hive: Hive, options: WalkOptions = {}): string {
  const out: string[] = ['Windows Registry Editor Version 5.00', ''];
  for (const { path, key } of hive.walk(options)) {
    out.push(`[${path}]`);
    for (const v of keyValues(hive, key, path, options)) out.push(regValueLine(v.name, v.type, v.data));
    out.push('');
  }
  return out.join('\n');
}
