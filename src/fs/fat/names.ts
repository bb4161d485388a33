// Names for new directory entries: long-name validity, the 8.3 basis name and its numeric tail, and the long-name
// entries. Source: Microsoft "FAT32 File System Specification" v1.03 (fatgen103) §6 (characters legal in a short
// name), §7 ("Name Limits and Character Sets", "Basis-Name Generation Algorithm", "Numeric-Tail Generation
// Algorithm", LDIR_* layout, 0x0000 terminator then 0xFFFF padding). The DIR_NTRes case bits are what Windows NT
// writes for an all-lower-case base or extension instead of a long name.
import { WinrescueError } from '../../errors.js';
import { setU16 } from '../../util/bytes.js';
import { DIR_ENTRY_BYTES, shortNameChecksum } from './dir-entry.js';

/** §7: a long name holds at most 255 UTF-16 characters. */
export const MAX_LONG_NAME = 255;
const CHARS_PER_LONG_ENTRY = 13;
const LONG_CHAR_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
const ATTR_LONG_NAME = 0x0f;
const LAST_LONG_ENTRY = 0x40;
/** §7: characters that no name may contain (besides controls below 0x20). */
const ILLEGAL_LONG = /["*/:<>?\\|]/;
/** Characters below 0x20 are illegal too (§7). */
const hasControl = (s: string): boolean => [...s].some((c) => c.charCodeAt(0) < 0x20);
/** §6: long names may use these, short names may not; the basis algorithm maps them to '_'. */
const ILLEGAL_SHORT = /[+,;=[\]]/;
/** Tails ~1 .. ~999999, as §7's algorithm allows. */
const MAX_TAIL = 999999;
export const NTRES_LOWER_BASE = 0x08;
export const NTRES_LOWER_EXT = 0x10;

export interface ShortName {
  /** The 11 bytes of DIR_Name. */
  readonly name11: Uint8Array;
  /** DIR_NTRes case bits. */
  readonly ntRes: number;
  /** Long-name entries are needed (the name is not a plain 8.3 name). */
  readonly needsLong: boolean;
}

export function checkLongName(name: string): void {
  const bad = (why: string): WinrescueError =>
    new WinrescueError('fat.unsupported', `"${name}" cannot be a FAT name: ${why}`, {
      structure: 'fat.dirEntry',
      actual: name,
    });
  if (name === '' || name === '.' || name === '..') throw bad('empty or a dot name');
  if (name.length > MAX_LONG_NAME) throw bad(`longer than ${MAX_LONG_NAME} characters`);
  if (ILLEGAL_LONG.test(name) || hasControl(name)) throw bad('it holds a character FAT forbids');
  // Windows strips trailing dots and spaces; storing them makes a name Windows cannot open.
  if (/[. ]$/.test(name)) throw bad('it ends with a dot or a space');
}

const isAsciiUpperable = (c: string): boolean => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) < 0x7f;

/** The name as a plain 8.3 name with case bits, or null when it is not one. */
function plainShort(name: string): ShortName | null {
  const dot = name.lastIndexOf('.');
  const base = dot === -1 ? name : name.slice(0, dot);
  const ext = dot === -1 ? '' : name.slice(dot + 1);
  if (base.length === 0 || base.length > 8 || ext.length > 3 || base.includes('.')) return null;
  if (/[ ]/.test(name) || ILLEGAL_SHORT.test(name) || ![...name].every(isAsciiUpperable)) return null;
  const caseOf = (s: string): 'upper' | 'lower' | 'mixed' =>
    s === s.toUpperCase() ? 'upper' : s === s.toLowerCase() ? 'lower' : 'mixed';
  const cb = caseOf(base);
  const ce = caseOf(ext);
  if (cb === 'mixed' || ce === 'mixed') return null;
  return {
    name11: pad11(base.toUpperCase(), ext.toUpperCase()),
    ntRes: (cb === 'lower' ? NTRES_LOWER_BASE : 0) | (ce === 'lower' && ext !== '' ? NTRES_LOWER_EXT : 0),
    needsLong: false,
  };
}

function pad11(base: string, ext: string): Uint8Array {
  const out = new Uint8Array(11).fill(0x20);
  for (let i = 0; i < base.length; i++) out[i] = base.charCodeAt(i);
  for (let i = 0; i < ext.length; i++) out[8 + i] = ext.charCodeAt(i);
  return out;
}

/**
 * The short name for a new entry called `name`, unique among `taken` (existing 11-byte names, as latin1 strings).
 * A plain 8.3 name is used as is; otherwise the §7 basis name with the first free numeric tail ~N.
 */
export function makeShortName(name: string, taken: ReadonlySet<string>): ShortName {
  const plain = plainShort(name);
  if (plain !== null) return plain;
  const toShort = (s: string): string =>
    [...s.toUpperCase()].map((c) => (!isAsciiUpperable(c) || ILLEGAL_SHORT.test(c) ? '_' : c)).join('');
  const stripped = name.replace(/ /g, '').replace(/^\.+/, '');
  const dot = stripped.lastIndexOf('.');
  const base = toShort(dot === -1 ? stripped : stripped.slice(0, dot)).replace(/\./g, '');
  const rawExt = dot === -1 ? '' : stripped.slice(dot + 1);
  const ext = toShort(rawExt).slice(0, 3);
  // §7: a basis name that lost nothing (only the case differs) is used without a tail, the long name keeps the case.
  const lossless =
    stripped === name &&
    dot !== 0 &&
    base.length <= 8 &&
    rawExt.length <= 3 &&
    base === (dot === -1 ? stripped : stripped.slice(0, dot)).toUpperCase() &&
    ext === rawExt.toUpperCase();
  if (lossless && base !== '') {
    const name11 = pad11(base, ext);
    if (!taken.has(String.fromCharCode(...name11))) return { name11, ntRes: 0, needsLong: true };
  }
  for (let n = 1; n <= MAX_TAIL; n++) {
    const tail = `~${n}`;
    const b = (base === '' ? '_' : base).slice(0, 8 - tail.length) + tail;
    const name11 = pad11(b, ext);
    if (!taken.has(String.fromCharCode(...name11))) return { name11, ntRes: 0, needsLong: true };
  }
  throw new WinrescueError('fat.exists', `no free short name for "${name}"`, { structure: 'fat.dirEntry' });
}

/** The long-name entries for `name`, in on-disk order (the 0x40-marked last part first). */
export function longNameEntries(name: string, name11: Uint8Array): Uint8Array[] {
  const count = Math.ceil(name.length / CHARS_PER_LONG_ENTRY);
  const checksum = shortNameChecksum(name11);
  const out: Uint8Array[] = [];
  for (let ord = count; ord >= 1; ord--) {
    const e = new Uint8Array(DIR_ENTRY_BYTES);
    e[0] = ord | (ord === count ? LAST_LONG_ENTRY : 0);
    e[11] = ATTR_LONG_NAME;
    e[13] = checksum;
    const start = (ord - 1) * CHARS_PER_LONG_ENTRY;
    LONG_CHAR_OFFSETS.forEach((o, i) => {
      const at = start + i;
      setU16(e, o, at < name.length ? name.charCodeAt(at) : at === name.length ? 0 : 0xffff);
    });
    out.push(e);
  }
  return out;
}
