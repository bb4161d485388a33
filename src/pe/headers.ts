// PE/COFF headers, after Microsoft's "PE Format" specification (learn.microsoft.com/windows/win32/debug/pe-format):
// §"MS-DOS Stub" (e_lfanew at 0x3c), §"COFF File Header", §"Optional Header" (standard and Windows-specific
// fields, PE32 vs PE32+), §"Optional Header Data Directories", §"Section Table (Section Headers)".
import { WinrescueError, hex } from '../errors.js';
import { ascii, checkRange, u16, u32, type Where } from '../util/bytes.js';

const STRUCTURE = 'pe.headers';
const where = (base = 0): Where => ({ structure: STRUCTURE, code: 'pe.badImage', base });

const MZ = 0x5a4d;
/** Offset of e_lfanew in the MS-DOS header. */
const E_LFANEW = 0x3c;
const DOS_HEADER_SIZE = 0x40;
const PE_SIGNATURE = 0x00004550; // 'PE\0\0'
const COFF_HEADER_SIZE = 20;
export const SECTION_HEADER_SIZE = 40;
export const PE32_MAGIC = 0x10b;
export const PE32_PLUS_MAGIC = 0x20b;
/** The optional header's CheckSum sits at the same offset in PE32 and PE32+. */
export const CHECKSUM_FIELD = 64;
/** Where the data directory array starts in each optional header flavour. */
const DIRECTORIES_PE32 = 96;
const DIRECTORIES_PE32_PLUS = 112;
const DIRECTORY_ENTRY_SIZE = 8;
/** The spec defines 16 directories; more is how garbage looks. */
const MAX_DIRECTORIES = 16;
/** The loader refuses more sections than this (the COFF field is 16-bit, the loader caps it lower). */
const MAX_SECTIONS = 96;
/** e_lfanew beyond this is not a PE a loader would accept (keeps garbage from pointing anywhere). */
const MAX_LFANEW = 0x10000000;

export const DIRECTORY_RESOURCE = 2;
/** The certificate table: its "RVA" is a file offset, and the bytes are not mapped. */
export const DIRECTORY_SECURITY = 4;

export interface DataDirectory {
  readonly rva: number;
  readonly size: number;
}

export interface SectionHeader {
  readonly name: string;
  readonly virtualSize: number;
  readonly virtualAddress: number;
  readonly sizeOfRawData: number;
  readonly pointerToRawData: number;
  readonly characteristics: number;
  /** Offset of this header in the file. */
  readonly headerOffset: number;
}

export interface PeHeaders {
  readonly peOffset: number;
  readonly machine: number;
  readonly numberOfSections: number;
  readonly timeDateStamp: number;
  readonly characteristics: number;
  readonly magic: number;
  readonly isPe32Plus: boolean;
  readonly optionalHeaderOffset: number;
  readonly sizeOfOptionalHeader: number;
  readonly sectionAlignment: number;
  readonly fileAlignment: number;
  readonly sizeOfImage: number;
  readonly sizeOfHeaders: number;
  /** File offset of OptionalHeader.CheckSum. */
  readonly checksumOffset: number;
  readonly checksum: number;
  readonly subsystem: number;
  readonly dllCharacteristics: number;
  readonly directories: readonly DataDirectory[];
  /** File offset of the data directory array (the certificate table entry is index 4). */
  readonly directoriesOffset: number;
  readonly sectionTableOffset: number;
  readonly sections: readonly SectionHeader[];
}

function bad(message: string, offset: number, expected?: unknown, actual?: unknown): WinrescueError {
  return new WinrescueError('pe.badImage', message, { offset, structure: STRUCTURE, expected, actual });
}

/**
 * Headers and section table of a PE image. Throws `pe.badImage` when the bytes are not a PE or a header or the
 * section table lies outside the file; content past the headers (section data) is judged by `checkPe`.
 */
export function parsePe(bytes: Uint8Array): PeHeaders {
  checkRange(bytes.length, 0, DOS_HEADER_SIZE, where());
  if (u16(bytes, 0) !== MZ) throw bad('not a PE image: no MZ signature', 0, hex(MZ), hex(u16(bytes, 0)));
  const peOffset = u32(bytes, E_LFANEW);
  if (peOffset > MAX_LFANEW || peOffset < DOS_HEADER_SIZE - 4) {
    throw bad(`e_lfanew ${hex(peOffset)} is not a plausible header offset`, E_LFANEW, undefined, peOffset);
  }
  checkRange(bytes.length, peOffset, 4 + COFF_HEADER_SIZE, where());
  if (u32(bytes, peOffset) !== PE_SIGNATURE) {
    throw bad(`no PE signature at ${hex(peOffset)}`, peOffset, 'PE\\0\\0', hex(u32(bytes, peOffset)));
  }
  const coff = peOffset + 4;
  const machine = u16(bytes, coff);
  const numberOfSections = u16(bytes, coff + 2);
  const timeDateStamp = u32(bytes, coff + 4);
  const sizeOfOptionalHeader = u16(bytes, coff + 16);
  const characteristics = u16(bytes, coff + 18);
  if (numberOfSections > MAX_SECTIONS) {
    throw bad(`${numberOfSections} sections`, coff + 2, `<= ${MAX_SECTIONS}`, numberOfSections);
  }
  const opt = coff + COFF_HEADER_SIZE;
  checkRange(bytes.length, opt, sizeOfOptionalHeader, where());
  if (sizeOfOptionalHeader < 2) throw bad('no optional header', coff + 16, '>= 2', sizeOfOptionalHeader);
  const magic = u16(bytes, opt);
  if (magic !== PE32_MAGIC && magic !== PE32_PLUS_MAGIC) {
    throw bad(`optional header magic ${hex(magic)}`, opt, '0x10b or 0x20b', hex(magic));
  }
  const isPe32Plus = magic === PE32_PLUS_MAGIC;
  const dirsAt = isPe32Plus ? DIRECTORIES_PE32_PLUS : DIRECTORIES_PE32;
  if (sizeOfOptionalHeader < dirsAt) {
    throw bad('optional header too short', coff + 16, `>= ${dirsAt}`, sizeOfOptionalHeader);
  }
  const count = u32(bytes, opt + dirsAt - 4); // NumberOfRvaAndSizes
  if (count > MAX_DIRECTORIES || dirsAt + count * DIRECTORY_ENTRY_SIZE > sizeOfOptionalHeader) {
    throw bad(`${count} data directories do not fit the optional header`, opt + dirsAt - 4, '<= 16', count);
  }
  const directories: DataDirectory[] = [];
  for (let i = 0; i < count; i++) {
    const at = opt + dirsAt + i * DIRECTORY_ENTRY_SIZE;
    directories.push({ rva: u32(bytes, at), size: u32(bytes, at + 4) });
  }
  const sectionTableOffset = opt + sizeOfOptionalHeader;
  const tableWhere = { ...where(), structure: 'pe.sectionTable' };
  checkRange(bytes.length, sectionTableOffset, numberOfSections * SECTION_HEADER_SIZE, tableWhere);
  const sections: SectionHeader[] = [];
  for (let s = 0; s < numberOfSections; s++) {
    const at = sectionTableOffset + s * SECTION_HEADER_SIZE;
    sections.push({
      name: ascii(bytes, at, 8).replace(/\0.*$/s, ''),
      virtualSize: u32(bytes, at + 8),
      virtualAddress: u32(bytes, at + 12),
      sizeOfRawData: u32(bytes, at + 16),
      pointerToRawData: u32(bytes, at + 20),
      characteristics: u32(bytes, at + 36),
      headerOffset: at,
    });
  }
  return {
    peOffset,
    machine,
    numberOfSections,
    timeDateStamp,
    characteristics,
    magic,
    isPe32Plus,
    optionalHeaderOffset: opt,
    sizeOfOptionalHeader,
    sectionAlignment: u32(bytes, opt + 32),
    fileAlignment: u32(bytes, opt + 36),
    sizeOfImage: u32(bytes, opt + 56),
    sizeOfHeaders: u32(bytes, opt + 60),
    checksumOffset: opt + CHECKSUM_FIELD,
    checksum: u32(bytes, opt + CHECKSUM_FIELD),
    subsystem: u16(bytes, opt + 68),
    dllCharacteristics: u16(bytes, opt + 70),
    directories,
    directoriesOffset: opt + dirsAt,
    sectionTableOffset,
    sections,
  };
}

/** File offset of a relative virtual address, through the section that maps it; null when none does. */
export function rvaToOffset(h: PeHeaders, rva: number): number | null {
  for (const s of h.sections) {
    const span = Math.max(s.virtualSize, s.sizeOfRawData);
    if (rva >= s.virtualAddress && rva < s.virtualAddress + span) {
      const delta = rva - s.virtualAddress;
      return delta < s.sizeOfRawData ? s.pointerToRawData + delta : null;
    }
  }
  return rva < h.sizeOfHeaders ? rva : null;
}
