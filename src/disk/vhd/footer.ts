// VHD hard disk footer, Microsoft "Virtual Hard Disk Image Format Specification" v1.0 (2006), "Hard Disk Footer
// Format"; cross-checked with libyal libvhdi "Virtual Hard Disk (VHD) image format", §2 Footer. All fields are
// big-endian. A fixed image ends with it; dynamic and differencing images also keep a copy at offset 0.
import { WinrescueError, hex } from '../../errors.js';
import { ascii, checkRange, setU16be, setU32be, setU64be, u16be, u32be, u64be } from '../../util/bytes.js';
import { vhdChecksum } from './checksum.js';

export const FOOTER_SIZE = 512;
export const FOOTER_COOKIE = 'conectix';
/** The only version the specification defines: major 1, minor 0. */
export const FOOTER_VERSION = 0x0001_0000;
/** "Reserved. This bit must always be set to 1" (spec, Features); we report, not require it. */
export const FEATURE_RESERVED = 0x2;
/** Data offset of a fixed disk: no further structure follows. */
export const NO_DATA_OFFSET = 0xffff_ffff_ffff_ffffn;
/** Time stamps count seconds from 2000-01-01 00:00:00 UTC. */
export const VHD_EPOCH_MS = Date.UTC(2000, 0, 1);

export const DiskType = { fixed: 2, dynamic: 3, differencing: 4 } as const;
export type DiskTypeValue = (typeof DiskType)[keyof typeof DiskType];

// Field offsets inside the footer.
const O_COOKIE = 0;
const O_FEATURES = 8;
const O_VERSION = 12;
export const FOOTER_DATA_OFFSET_FIELD = 16;
const O_DATA_OFFSET = FOOTER_DATA_OFFSET_FIELD;
const O_TIME_STAMP = 24;
const O_CREATOR_APP = 28;
const O_CREATOR_VERSION = 32;
const O_CREATOR_HOST = 36;
const O_ORIGINAL_SIZE = 40;
export const FOOTER_CURRENT_SIZE_FIELD = 48;
const O_CURRENT_SIZE = FOOTER_CURRENT_SIZE_FIELD;
const O_CYLINDERS = 56; // u16, then heads u8, sectors per track u8
const O_DISK_TYPE = 60;
export const FOOTER_CHECKSUM_OFFSET = 64;
const O_UNIQUE_ID = 68;
const O_SAVED_STATE = 84;
const UNIQUE_ID_SIZE = 16;

export interface VhdGeometry {
  readonly cylinders: number;
  readonly heads: number;
  readonly sectorsPerTrack: number;
}

export interface VhdFooter {
  readonly cookie: string;
  readonly features: number;
  readonly formatVersion: number;
  /** Absolute file offset of the dynamic disk header; NO_DATA_OFFSET for fixed disks. */
  readonly dataOffset: bigint;
  /** Seconds since 2000-01-01 UTC. */
  readonly timeStamp: number;
  /** Four characters: "win ", "qemu", "vpc ", "vs  ", "d2v\0"... */
  readonly creatorApplication: string;
  readonly creatorVersion: number;
  /** "Wi2k" or "Mac ". */
  readonly creatorHostOs: string;
  readonly originalSize: bigint;
  /** The virtual disk size in bytes. */
  readonly currentSize: bigint;
  readonly geometry: VhdGeometry;
  readonly diskType: number;
  readonly checksum: number;
  /** The checksum the bytes actually sum to. */
  readonly computedChecksum: number;
  /** 16 bytes shown in stored (big-endian) order, as libvhdi shows it. */
  readonly uniqueId: string;
  readonly savedState: boolean;
  /** The 512 bytes as read: written back unchanged when a dynamic image grows. */
  readonly raw: Uint8Array;
}

/** Decodes the fields without judging them (see validateFooter). */
export function decodeFooter(bytes: Uint8Array, base = 0): VhdFooter {
  checkRange(bytes.length, 0, FOOTER_SIZE, { structure: 'vhd.footer', base, code: 'disk.truncated' });
  const b = bytes.subarray(0, FOOTER_SIZE);
  return {
    cookie: ascii(b, O_COOKIE, 8),
    features: u32be(b, O_FEATURES),
    formatVersion: u32be(b, O_VERSION),
    dataOffset: u64be(b, O_DATA_OFFSET),
    timeStamp: u32be(b, O_TIME_STAMP),
    creatorApplication: ascii(b, O_CREATOR_APP, 4),
    creatorVersion: u32be(b, O_CREATOR_VERSION),
    creatorHostOs: ascii(b, O_CREATOR_HOST, 4),
    originalSize: u64be(b, O_ORIGINAL_SIZE),
    currentSize: u64be(b, O_CURRENT_SIZE),
    geometry: {
      cylinders: u16be(b, O_CYLINDERS),
      heads: b[O_CYLINDERS + 2]!,
      sectorsPerTrack: b[O_CYLINDERS + 3]!,
    },
    diskType: u32be(b, O_DISK_TYPE),
    checksum: u32be(b, FOOTER_CHECKSUM_OFFSET),
    computedChecksum: vhdChecksum(b, FOOTER_CHECKSUM_OFFSET),
    uniqueId: uuidBigEndian(b, O_UNIQUE_ID),
    savedState: b[O_SAVED_STATE] !== 0,
    raw: b.slice(),
  };
}

export function hasFooterCookie(bytes: Uint8Array): boolean {
  return bytes.length >= FOOTER_COOKIE.length && ascii(bytes, 0, FOOTER_COOKIE.length) === FOOTER_COOKIE;
}

/**
 * The checks a footer must pass before anything else of the image is trusted: cookie, checksum, version and a
 * disk type we implement. `what` names the image in messages ("VHD disk.vhd"), `base` is the footer's file offset.
 */
export function validateFooter(f: VhdFooter, what: string, base: number): void {
  const at = `${what}: footer at ${hex(base)}`;
  if (f.cookie !== FOOTER_COOKIE) {
    throw new WinrescueError(
      'disk.badSignature',
      `${at}: cookie should be "${FOOTER_COOKIE}", is ${JSON.stringify(f.cookie)}`,
      {
        offset: base + O_COOKIE,
        structure: 'vhd.footer',
        expected: FOOTER_COOKIE,
        actual: f.cookie,
      },
    );
  }
  if (f.checksum !== f.computedChecksum) {
    throw new WinrescueError(
      'disk.badChecksum',
      `${at}: checksum should be ${hex(f.computedChecksum)}, is ${hex(f.checksum)}`,
      {
        offset: base + FOOTER_CHECKSUM_OFFSET,
        structure: 'vhd.footer',
        expected: f.computedChecksum,
        actual: f.checksum,
      },
    );
  }
  if (f.formatVersion >>> 16 !== FOOTER_VERSION >>> 16) {
    throw new WinrescueError('disk.unsupported', `${at}: format version ${hex(f.formatVersion)} is not 1.x`, {
      offset: base + O_VERSION,
      structure: 'vhd.footer',
      expected: FOOTER_VERSION,
      actual: f.formatVersion,
    });
  }
  if (
    f.diskType !== DiskType.fixed &&
    f.diskType !== DiskType.dynamic &&
    f.diskType !== DiskType.differencing
  ) {
    throw new WinrescueError(
      'disk.unsupported',
      `${at}: disk type ${f.diskType} is not fixed (2), dynamic (3) or differencing (4)`,
      { offset: base + O_DISK_TYPE, structure: 'vhd.footer', expected: [2, 3, 4], actual: f.diskType },
    );
  }
}

/** decodeFooter + validateFooter. */
export function parseFooter(bytes: Uint8Array, what: string, base: number): VhdFooter {
  const f = decodeFooter(bytes, base);
  validateFooter(f, what, base);
  return f;
}

/** The 512 footer bytes for `f`, reserved bytes taken from f.raw, checksum recomputed. */
export function serializeFooter(f: VhdFooter): Uint8Array {
  const out = new Uint8Array(FOOTER_SIZE);
  out.set(f.raw.subarray(0, FOOTER_SIZE));
  for (let i = 0; i < 8; i++) out[O_COOKIE + i] = f.cookie.charCodeAt(i) & 0xff;
  setU32be(out, O_FEATURES, f.features);
  setU32be(out, O_VERSION, f.formatVersion);
  setU64be(out, O_DATA_OFFSET, f.dataOffset);
  setU32be(out, O_TIME_STAMP, f.timeStamp);
  for (let i = 0; i < 4; i++) out[O_CREATOR_APP + i] = f.creatorApplication.charCodeAt(i) & 0xff;
  setU32be(out, O_CREATOR_VERSION, f.creatorVersion);
  for (let i = 0; i < 4; i++) out[O_CREATOR_HOST + i] = f.creatorHostOs.charCodeAt(i) & 0xff;
  setU64be(out, O_ORIGINAL_SIZE, f.originalSize);
  setU64be(out, O_CURRENT_SIZE, f.currentSize);
  setU16be(out, O_CYLINDERS, f.geometry.cylinders);
  out[O_CYLINDERS + 2] = f.geometry.heads;
  out[O_CYLINDERS + 3] = f.geometry.sectorsPerTrack;
  setU32be(out, O_DISK_TYPE, f.diskType);
  const id = f.uniqueId.replace(/-/g, '');
  for (let i = 0; i < UNIQUE_ID_SIZE; i++) out[O_UNIQUE_ID + i] = parseInt(id.slice(i * 2, i * 2 + 2), 16);
  out[O_SAVED_STATE] = f.savedState ? 1 : 0;
  setU32be(out, FOOTER_CHECKSUM_OFFSET, vhdChecksum(out, FOOTER_CHECKSUM_OFFSET));
  return out;
}

export function timeStampToDate(seconds: number): Date {
  return new Date(VHD_EPOCH_MS + seconds * 1000);
}

/** 16 bytes as a GUID string in stored byte order (VHD keeps its identifiers big-endian). */
export function uuidBigEndian(b: Uint8Array, o: number): string {
  const h = Array.from(b.subarray(o, o + UNIQUE_ID_SIZE), (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
