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
  const left = name === '' ? '@' : quoted(name);
  if (type === REG_DWORD && data.length === 4) {
    const v = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
    return `${left}=dword:${v.toString(16).padStart(8, '0')}`;
  }
  return `${left}=hex(${(type >>> 0).toString(16)}):${hexBytes(data)}`;
}

/** Growable ASCII/UTF-8 output: a SYSTEM export is ~18 MB, built far faster as bytes than as JS strings. */
class ByteSink {
  private buf = new Uint8Array(1 << 20);
  length = 0;
  private static readonly encoder = new TextEncoder();

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  text(s: string): void {
    this.room(s.length);
    const out = this.buf;
    let at = this.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        // Rare (non-ASCII names): the rest of this piece through the UTF-8 encoder.
        this.length = at;
        const b = ByteSink.encoder.encode(s.slice(i));
        this.room(b.length);
        this.buf.set(b, this.length);
        this.length += b.length;
        return;
      }
      out[at++] = c;
    }
    this.length = at;
  }

  /** The 4 little-endian bytes as 8 lowercase hex digits, most significant first, and a newline. */
  dword(d: Uint8Array): void {
    this.room(9);
    const out = this.buf;
    let at = this.length;
    for (let i = 3; i >= 0; i--) {
      out[at++] = HEX_DIGITS[d[i]! >> 4]!;
      out[at++] = HEX_DIGITS[d[i]! & 15]!;
    }
    out[at++] = 0x0a;
    this.length = at;
  }

  /** `xx,xx,...` lowercase hex pairs. */
  hex(data: Uint8Array): void {
    this.room(data.length * 3);
    const out = this.buf;
    let at = this.length;
    for (let i = 0; i < data.length; i++) {
      if (i > 0) out[at++] = 0x2c; // ','
      out[at++] = HEX_DIGITS[data[i]! >> 4]!;
      out[at++] = HEX_DIGITS[data[i]! & 15]!;
    }
    this.length = at;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** `"name"` with `\\` and `"` escaped, as regedit writes names. */
function quoted(name: string): string {
  if (name.indexOf('\\') < 0 && name.indexOf('"') < 0) return `"${name}"`;
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const HEX_PREFIXES = new Map<number, string>();
function hexPrefix(type: number): string {
  let p = HEX_PREFIXES.get(type);
  if (p === undefined) {
    p = `=hex(${(type >>> 0).toString(16)}):`;
    HEX_PREFIXES.set(type, p);
  }
  return p;
}

const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** The whole hive as .reg text in UTF-8 bytes (what the CLI writes to stdout). */
export function exportRegBytes(hive: Hive, options: WalkOptions = {}): Uint8Array {
  const out = new ByteSink();
  out.text('Windows Registry Editor Version 5.00\n\n');
  for (const { path, key } of hive.walk(options)) {
    out.text(`[${path}]\n`);
    for (const v of keyValues(hive, key, path, options)) {
      out.text(v.name === '' ? '@' : quoted(v.name));
      if (v.type === REG_DWORD && v.data.length === 4) {
        out.text('=dword:');
        out.dword(v.data);
      } else {
        out.text(hexPrefix(v.type));
        out.hex(v.data);
        out.text('\n');
      }
    }
    out.text('\n');
  }
  return out.bytes();
}

/** The whole hive as .reg text: `[\Key\Sub]` sections, `"name"=hex(N):..` and `dword:` values. */
export function exportReg(hive: Hive, options: WalkOptions = {}): string {
  return new TextDecoder().decode(exportRegBytes(hive, options));
}
