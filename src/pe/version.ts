// The version resource: PE Format specification §"The .rsrc Section" (resource directory tables and entries, data
// entries) to find RT_VERSION, then VS_VERSIONINFO / VS_FIXEDFILEINFO / StringFileInfo as documented under
// learn.microsoft.com/windows/win32/menurc/vs-versioninfo.
import { checkRange, u16, u32, utf16le } from '../util/bytes.js';
import { DIRECTORY_RESOURCE, parsePe, rvaToOffset } from './headers.js';

const RT_VERSION = 16;
const DIR_HEADER = 16;
const DIR_ENTRY = 8;
const SUBDIR_FLAG = 0x80000000;
const VS_FFI_SIGNATURE = 0xfeef04bd;
/** Resource trees are three levels (type, name, language): a subdirectory below the language level is a loop. */
const MAX_DEPTH = 3;
/** Bounds the walk over garbage entry counts. */
const MAX_ENTRIES = 4096;
const where = { structure: 'pe.resource', code: 'pe.badImage' as const };

export interface VersionInfo {
  readonly fileVersion: string | null;
  readonly productVersion: string | null;
  /** StringFileInfo strings of the first string table (FileVersion, ProductName, OriginalFilename...). */
  readonly strings: Readonly<Record<string, string>>;
}

function firstVersionData(bytes: Uint8Array): Uint8Array | null {
  const h = parsePe(bytes);
  const dir = h.directories[DIRECTORY_RESOURCE];
  if (!dir || dir.size === 0) return null;
  const base = rvaToOffset(h, dir.rva);
  if (base === null) return null;
  const walk = (dirOff: number, depth: number, filter: number | null): Uint8Array | null => {
    checkRange(bytes.length, dirOff, DIR_HEADER, where);
    const count = Math.min(MAX_ENTRIES, u16(bytes, dirOff + 12) + u16(bytes, dirOff + 14));
    for (let i = 0; i < count; i++) {
      const e = dirOff + DIR_HEADER + i * DIR_ENTRY;
      checkRange(bytes.length, e, DIR_ENTRY, where);
      const id = u32(bytes, e);
      const target = u32(bytes, e + 4);
      if (filter !== null && id !== filter) continue;
      if (target & SUBDIR_FLAG) {
        if (depth + 1 >= MAX_DEPTH) continue;
        const r = walk(base + (target & ~SUBDIR_FLAG), depth + 1, null);
        if (r) return r;
      } else {
        checkRange(bytes.length, base + target, 16, where);
        const off = rvaToOffset(h, u32(bytes, base + target));
        const size = u32(bytes, base + target + 4);
        if (off === null) continue;
        checkRange(bytes.length, off, size, where);
        return bytes.subarray(off, off + size);
      }
    }
    return null;
  };
  return walk(base, 0, RT_VERSION);
}

const align4 = (n: number): number => (n + 3) & ~3;

interface Block {
  key: string;
  valueLength: number;
  type: number;
  value: number; // offset of the value in the buffer
  children: number; // offset of the first child
  end: number;
}

function block(b: Uint8Array, at: number, limit: number): Block | null {
  if (at + 6 > limit) return null;
  const length = u16(b, at);
  const end = at + length;
  if (length < 6 || end > limit) return null;
  let k = at + 6;
  while (k + 1 < end && u16(b, k) !== 0) k += 2;
  const key = utf16le(b, at + 6, k - (at + 6));
  const value = align4(k + 2);
  const valueLength = u16(b, at + 2);
  const type = u16(b, at + 4);
  const valueBytes = type === 1 ? valueLength * 2 : valueLength;
  return { key, valueLength, type, value, children: align4(value + valueBytes), end };
}

function versionString(ms: number, ls: number): string {
  return `${ms >>> 16}.${ms & 0xffff}.${ls >>> 16}.${ls & 0xffff}`;
}

/** Version resource of the image, or null when it has none. Throws `pe.badImage` on broken headers. */
export function versionInfo(bytes: Uint8Array): VersionInfo | null {
  const data = firstVersionData(bytes);
  if (!data) return null;
  const root = block(data, 0, data.length);
  if (!root || root.key !== 'VS_VERSION_INFO') return null;
  let fileVersion: string | null = null;
  let productVersion: string | null = null;
  if (
    root.valueLength >= 52 &&
    root.value + 52 <= data.length &&
    u32(data, root.value) === VS_FFI_SIGNATURE
  ) {
    fileVersion = versionString(u32(data, root.value + 8), u32(data, root.value + 12));
    productVersion = versionString(u32(data, root.value + 16), u32(data, root.value + 20));
  }
  const strings: Record<string, string> = {};
  for (let c = root.children; c < root.end;) {
    const child = block(data, c, root.end);
    if (!child) break;
    if (child.key === 'StringFileInfo') {
      const table = block(data, child.children, child.end);
      for (let s = table ? table.children : child.end; table && s < table.end;) {
        const str = block(data, s, table.end);
        if (!str) break;
        const chars = Math.max(0, str.valueLength - 1);
        if (str.value + chars * 2 <= str.end)
          strings[str.key] = utf16le(data, str.value, chars * 2).replace(/\0+$/, '');
        s = align4(str.end);
      }
    }
    c = align4(child.end);
  }
  return { fileVersion, productVersion, strings };
}
