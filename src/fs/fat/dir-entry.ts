// Directory entries: 8.3 short entries and VFAT long-name chains. Source: Microsoft "FAT32 File System
// Specification" v1.03 (fatgen103) §6 (DIR_Name, DIR_Attr, DIR_NTRes, times, DIR_FstClusHI/LO, DIR_FileSize;
// 0xE5 free, 0x00 end, 0x05 for a leading 0xE5; date and time encodings) and §7 (LDIR_Ord with 0x40 on the last
// entry, LDIR_Chksum over the 11-byte short name, 13 UTF-16 characters per entry, 0x0000 then 0xFFFF padding).
// DIR_NTRes bits 0x08 / 0x10 (base / extension shown lower case) follow what Windows NT and the Linux vfat driver do.
import { WinrescueError } from '../../errors.js';
import { u8, u16, u32, setU16, setU32 } from '../../util/bytes.js';

export const DIR_ENTRY_BYTES = 32;
export const ATTR_READ_ONLY = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYSTEM = 0x04;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
const ATTR_LONG_NAME = 0x0f;
const ATTR_LONG_NAME_MASK = 0x3f;
const ENTRY_END = 0x00;
const ENTRY_FREE = 0xe5;
const ENTRY_KANJI_E5 = 0x05;
const LAST_LONG_ENTRY = 0x40;
const LONG_ORDINAL_MASK = 0x3f;
/** 255 characters at 13 per entry (§7). */
const MAX_LONG_ENTRIES = 20;
const NTRES_LOWER_BASE = 0x08;
const NTRES_LOWER_EXT = 0x10;
/** Where the 13 UTF-16 characters of a long entry sit (§7: LDIR_Name1, LDIR_Name2, LDIR_Name3). */
const LONG_CHAR_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

// Offsets inside a short entry (§6).
const DIR_ATTR = 11;
const DIR_NTRES = 12;
const DIR_CRT_TIME = 14;
const DIR_CRT_DATE = 16;
const DIR_ACC_DATE = 18;
const DIR_FST_CLUS_HI = 20;
const DIR_WRT_TIME = 22;
const DIR_WRT_DATE = 24;
const DIR_FST_CLUS_LO = 26;
const DIR_FILE_SIZE = 28;

export interface DirEntry {
  /** The long name when a valid long-name chain precedes the entry, else the short name as displayed. */
  readonly name: string;
  readonly longName?: string;
  /** "NAME.EXT" (no dot when the extension is blank), upper case as stored. */
  readonly shortName: string;
  readonly attributes: number;
  readonly isDirectory: boolean;
  readonly firstCluster: number;
  readonly size: number;
  readonly modified: Date;
  readonly created: Date;
  /** Byte offset of the 32-byte short entry within the directory's contents. */
  readonly entryIndex: number;
  /** Index of the first entry of its long-name chain (equals `entryIndex` when there is none). */
  readonly firstSlot: number;
}

/** The §7 checksum of an 11-byte short name: rotate right by one, add the next byte, modulo 256. */
export function shortNameChecksum(name11: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = ((((sum & 1) << 7) | (sum >> 1)) + name11[i]!) & 0xff;
  return sum;
}

/** FAT date (§6: bits 15–9 years since 1980, 8–5 month, 4–0 day) and time (15–11 h, 10–5 min, 4–0 2-s units). */
export function decodeDateTime(date: number, time: number): Date {
  const year = 1980 + (date >> 9);
  const month = Math.max(1, (date >> 5) & 0xf) - 1;
  const day = Math.max(1, date & 0x1f);
  return new Date(year, month, day, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2);
}

/** FAT stores local time, as Windows does; years outside 1980..2107 are clamped. */
export function encodeDateTime(d: Date): { date: number; time: number } {
  const year = Math.min(2107, Math.max(1980, d.getFullYear()));
  const date = ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2);
  return { date, time };
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

function displayShortName(e: Uint8Array): { shortName: string; shown: string } {
  const raw = e.slice(0, 11);
  if (raw[0] === ENTRY_KANJI_E5) raw[0] = ENTRY_FREE;
  const base = latin1(raw.subarray(0, 8)).trimEnd();
  const ext = latin1(raw.subarray(8, 11)).trimEnd();
  const nt = u8(e, DIR_NTRES);
  const b = nt & NTRES_LOWER_BASE ? base.toLowerCase() : base;
  const x = nt & NTRES_LOWER_EXT ? ext.toLowerCase() : ext;
  return { shortName: ext === '' ? base : `${base}.${ext}`, shown: x === '' ? b : `${b}.${x}` };
}

function longChars(e: Uint8Array): { text: string; ended: boolean } {
  let text = '';
  for (const o of LONG_CHAR_OFFSETS) {
    const c = u16(e, o);
    if (c === 0) return { text, ended: true };
    text += String.fromCharCode(c);
  }
  return { text, ended: false };
}

/**
 * The entries of a directory's contents, in order, without "." and "..", volume labels, or free slots. A long-name
 * chain whose ordinals or checksum do not fit is dropped (the short name stands), as Windows and Linux do.
 * Parsing stops at the first 0x00 entry (§6: nothing in use follows it).
 */
export function parseDirectory(data: Uint8Array, fat32: boolean): DirEntry[] {
  const out: DirEntry[] = [];
  let pending: { parts: string[]; checksum: number; expect: number; first: number } | null = null;
  for (let at = 0; at + DIR_ENTRY_BYTES <= data.length; at += DIR_ENTRY_BYTES) {
    const e = data.subarray(at, at + DIR_ENTRY_BYTES);
    const lead = e[0]!;
    if (lead === ENTRY_END) break;
    if (lead === ENTRY_FREE) {
      pending = null;
      continue;
    }
    const attr = u8(e, DIR_ATTR);
    if ((attr & ATTR_LONG_NAME_MASK) === ATTR_LONG_NAME) {
      const ord = lead & LONG_ORDINAL_MASK;
      const checksum = u8(e, 13);
      if (lead & LAST_LONG_ENTRY) {
        pending =
          ord >= 1 && ord <= MAX_LONG_ENTRIES ? { parts: [], checksum, expect: ord, first: at } : null;
      } else if (pending === null || ord !== pending.expect || checksum !== pending.checksum) {
        pending = null;
        continue;
      }
      if (pending !== null) {
        pending.parts.unshift(longChars(e).text);
        pending.expect = ord - 1;
      }
      continue;
    }
    const chain = pending;
    pending = null;
    if (attr & ATTR_VOLUME_ID) continue;
    if (lead === 0x2e) continue; // "." and ".." (§6: they hold the cluster of the directory and its parent)
    const { shortName, shown } = displayShortName(e);
    let longName: string | undefined;
    if (chain !== null && chain.expect === 0 && chain.checksum === shortNameChecksum(e.subarray(0, 11))) {
      longName = chain.parts.join('');
    }
    out.push({
      name: longName ?? shown,
      ...(longName === undefined ? {} : { longName }),
      shortName,
      attributes: attr,
      isDirectory: (attr & ATTR_DIRECTORY) !== 0,
      // FAT12/16 never use DIR_FstClusHI (OS/2 kept extended-attribute handles there).
      firstCluster: (fat32 ? u16(e, DIR_FST_CLUS_HI) * 0x10000 : 0) + u16(e, DIR_FST_CLUS_LO),
      size: u32(e, DIR_FILE_SIZE),
      modified: decodeDateTime(u16(e, DIR_WRT_DATE), u16(e, DIR_WRT_TIME)),
      created: decodeDateTime(u16(e, DIR_CRT_DATE), u16(e, DIR_CRT_TIME)),
      entryIndex: at,
      firstSlot: longName === undefined ? at : chain!.first,
    });
  }
  return out;
}

/** A copy of a 32-byte short entry with only first cluster, size and write time/date changed (§6). */
export function updatedEntry(
  entry: Uint8Array,
  change: { firstCluster: number; size: number; modified: Date; fat32: boolean },
): Uint8Array {
  if (entry.length !== DIR_ENTRY_BYTES) {
    throw new WinrescueError('fat.badDirectory', 'a directory entry is 32 bytes', {
      structure: 'fat.dirEntry',
      expected: DIR_ENTRY_BYTES,
      actual: entry.length,
    });
  }
  const out = entry.slice();
  // FAT12/16 keep DIR_FstClusHI zero (it held EA data on OS/2): only FAT32 uses it.
  if (change.fat32) setU16(out, DIR_FST_CLUS_HI, change.firstCluster >>> 16);
  setU16(out, DIR_FST_CLUS_LO, change.firstCluster & 0xffff);
  setU32(out, DIR_FILE_SIZE, change.size);
  const { date, time } = encodeDateTime(change.modified);
  setU16(out, DIR_WRT_TIME, time);
  setU16(out, DIR_WRT_DATE, date);
  return out;
}

/** A new short entry (§6): times all set to `when`, DIR_CrtTimeTenth 0, DIR_LstAccDate the same day. */
export function newShortEntry(fields: {
  name11: Uint8Array;
  ntRes: number;
  attributes: number;
  firstCluster: number;
  size: number;
  when: Date;
  fat32: boolean;
}): Uint8Array {
  const e = new Uint8Array(DIR_ENTRY_BYTES);
  e.set(fields.name11, 0);
  if (e[0] === ENTRY_FREE) e[0] = ENTRY_KANJI_E5;
  e[DIR_ATTR] = fields.attributes;
  e[DIR_NTRES] = fields.ntRes;
  const { date, time } = encodeDateTime(fields.when);
  setU16(e, DIR_CRT_TIME, time);
  setU16(e, DIR_CRT_DATE, date);
  setU16(e, DIR_ACC_DATE, date);
  setU16(e, DIR_WRT_TIME, time);
  setU16(e, DIR_WRT_DATE, date);
  if (fields.fat32) setU16(e, DIR_FST_CLUS_HI, fields.firstCluster >>> 16);
  setU16(e, DIR_FST_CLUS_LO, fields.firstCluster & 0xffff);
  setU32(e, DIR_FILE_SIZE, fields.size);
  return e;
}

/** Indexes of the 32-byte slots of `raw` that are free: 0xE5, or anything from the first 0x00 entry on (§6). */
export function freeSlots(raw: Uint8Array): boolean[] {
  const out: boolean[] = [];
  let ended = false;
  for (let at = 0; at + DIR_ENTRY_BYTES <= raw.length; at += DIR_ENTRY_BYTES) {
    if (raw[at] === ENTRY_END) ended = true;
    out.push(ended || raw[at] === ENTRY_FREE);
  }
  return out;
}

/** The 11-byte names of every short entry in use (volume label included), as latin1 strings. */
export function takenShortNames(raw: Uint8Array): Set<string> {
  const out = new Set<string>();
  for (let at = 0; at + DIR_ENTRY_BYTES <= raw.length; at += DIR_ENTRY_BYTES) {
    const lead = raw[at]!;
    if (lead === ENTRY_END) break;
    if (lead === ENTRY_FREE || (raw[at + DIR_ATTR]! & ATTR_LONG_NAME_MASK) === ATTR_LONG_NAME) continue;
    const name = raw.slice(at, at + 11);
    if (name[0] === ENTRY_KANJI_E5) name[0] = ENTRY_FREE;
    out.add(String.fromCharCode(...name));
  }
  return out;
}
