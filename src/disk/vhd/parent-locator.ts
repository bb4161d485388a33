// VHD parent locator entries, Microsoft "Virtual Hard Disk Image Format Specification" v1.0 (2006), "Dynamic Disk
// Header Format" → Parent Locator Entries; libyal libvhdi "Virtual Hard Disk (VHD) image format", §3.1. Each of the
// 8 entries in the dynamic disk header points at a file region holding one way of naming the parent image.
import { posix } from 'node:path';
import { WinrescueError, hex } from '../../errors.js';
import { ascii, u32be, u64be } from '../../util/bytes.js';

export const PARENT_LOCATOR_ENTRY_SIZE = 24;
/**
 * Longest locator we read: a Windows path is at most 32767 UTF-16 units. Anything longer is damage, and the
 * length is about to become an allocation.
 */
export const MAX_LOCATOR_DATA = 65536;

/** Platform codes (big-endian four-character codes). */
export const PlatformCode = {
  none: '',
  /** Windows path relative to the child, UTF-16LE (Hyper-V, Virtual PC 2004+). */
  windowsRelative: 'W2ru',
  /** Absolute Windows path, UTF-16LE. */
  windowsAbsolute: 'W2ku',
  /** Deprecated single-byte variants of the two above. */
  windowsRelativeAnsi: 'Wi2r',
  windowsAbsoluteAnsi: 'Wi2k',
  /** Mac OS alias record: opaque, not usable here. */
  macAlias: 'Mac ',
  /** RFC 2396 file URL, UTF-8. */
  macUrl: 'MacX',
} as const;

export interface ParentLocatorEntry {
  readonly index: number;
  /** Four characters, or '' for an unused entry (code 0). */
  readonly platformCode: string;
  /** Space reserved in the file: sectors per the spec, bytes in images Windows writes. Not relied upon. */
  readonly platformDataSpace: number;
  /** Bytes of locator data actually used. */
  readonly platformDataLength: number;
  /** Absolute file offset of the locator data. */
  readonly platformDataOffset: bigint;
  /** File offset of this entry, for messages. */
  readonly entryOffset: number;
}

export function decodeParentLocatorEntry(
  b: Uint8Array,
  index: number,
  entryOffset: number,
): ParentLocatorEntry {
  const code = u32be(b, 0);
  return {
    index,
    platformCode: code === 0 ? '' : ascii(b, 0, 4),
    platformDataSpace: u32be(b, 4),
    platformDataLength: u32be(b, 8),
    platformDataOffset: u64be(b, 16),
    entryOffset,
  };
}

/** Whether we know how to turn this entry's data into a path. */
export function isPathLocator(e: ParentLocatorEntry): boolean {
  return (
    e.platformCode === PlatformCode.windowsRelative ||
    e.platformCode === PlatformCode.windowsAbsolute ||
    e.platformCode === PlatformCode.windowsRelativeAnsi ||
    e.platformCode === PlatformCode.windowsAbsoluteAnsi ||
    e.platformCode === PlatformCode.macUrl
  );
}

/**
 * The file range [offset, offset+length) of a path locator's data, or a typed error when it lies outside
 * [0, limit) or is implausibly long. `what` names the image for messages.
 */
export function locatorDataRange(
  e: ParentLocatorEntry,
  limit: number,
  what: string,
): { offset: number; length: number } {
  const len = e.platformDataLength;
  const off = e.platformDataOffset;
  const inside = len <= MAX_LOCATOR_DATA && off <= BigInt(limit) && Number(off) + len <= limit;
  if (!inside) {
    throw new WinrescueError(
      'disk.badField',
      `${what}: parent locator ${e.index} (${e.platformCode}) data at ${hex(off)} of ${len} bytes lies outside the metadata area (${hex(limit)} bytes)`,
      {
        offset: e.entryOffset,
        structure: 'vhd.parentLocator',
        record: e.index,
        expected: `<= ${hex(limit)}`,
        actual: off + BigInt(len),
      },
    );
  }
  return { offset: Number(off), length: len };
}

export interface LocatorPath {
  readonly platformCode: string;
  /** As stored, separators untouched. */
  readonly path: string;
}

/** The path a locator's data holds, or undefined for kinds we cannot use (Mac alias) or empty data. */
export function decodeLocatorPath(e: ParentLocatorEntry, data: Uint8Array): LocatorPath | undefined {
  let path: string;
  switch (e.platformCode) {
    case PlatformCode.windowsRelative:
    case PlatformCode.windowsAbsolute:
      path = new TextDecoder('utf-16le').decode(data.subarray(0, data.length & ~1));
      break;
    case PlatformCode.windowsRelativeAnsi:
    case PlatformCode.windowsAbsoluteAnsi:
      path = new TextDecoder('latin1').decode(data);
      break;
    case PlatformCode.macUrl:
      path = fileUrlPath(new TextDecoder('utf-8').decode(data));
      break;
    default:
      return undefined;
  }
  // Windows pads the region with NULs after the terminator.
  const nul = path.indexOf('\0');
  if (nul >= 0) path = path.slice(0, nul);
  return path === '' ? undefined : { platformCode: e.platformCode, path };
}

function fileUrlPath(url: string): string {
  const m = /^file:\/\/[^/]*(\/.*)$/i.exec(url.replace(/\0+$/, ''));
  if (!m) return url;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1]!;
  }
}

const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;

/**
 * Where to look for the parent, best first, without duplicates: relative locators resolved from the child's
 * folder ('\' read as '/'), Mac URLs as absolute paths, then the base name of every locator and of the header's
 * parent name in the child's folder (a copied chain keeps its names but not its absolute paths). Absolute Windows
 * paths (C:\...) cannot exist here and are used for their base name only.
 */
export function parentCandidates(
  childPath: string,
  locators: readonly LocatorPath[],
  parentUnicodeName: string,
): string[] {
  const dir = posix.dirname(posix.resolve(childPath));
  const out: string[] = [];
  const add = (p: string) => {
    if (!out.includes(p)) out.push(p);
  };
  for (const l of locators) {
    const p = l.path.replace(/\\/g, '/');
    if (
      l.platformCode === PlatformCode.windowsRelative ||
      l.platformCode === PlatformCode.windowsRelativeAnsi
    ) {
      add(posix.resolve(dir, p));
    } else if (
      l.platformCode === PlatformCode.macUrl ||
      (!WINDOWS_DRIVE.test(l.path) && p.startsWith('/') && !p.startsWith('//'))
    ) {
      add(posix.resolve(p));
    }
  }
  for (const name of [...locators.map((l) => l.path), parentUnicodeName]) {
    const base = posix.basename(name.replace(/\\/g, '/'));
    if (base !== '' && base !== '.' && base !== '..') add(posix.join(dir, base));
  }
  return out;
}
