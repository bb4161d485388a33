// BCD device element values (format 1). Spec: REFERENCE.md §2.5 (checked against real stores); ReactOS
// boot/environ/include/bl.h BL_DEVICE_DESCRIPTOR / BL_LOCAL_DEVICE / BL_PARTITION_DEVICE; DiscUtils
// DeviceElementValue/DeviceRecord/PartitionRecord. Layout: a 16-byte associated object GUID, then the descriptor:
//   +0x00 u32 device type, +0x04 u32 flags, +0x08 u32 descriptor size (from +0x00), +0x0c u32 reserved,
//   +0x10.. type-specific (offsets below are from the start of the element value).
import { WinrescueError } from '../errors.js';
import {
  guidFromString,
  guidToString,
  isZero,
  setU32,
  setU64,
  slice,
  u32,
  u64,
  toSafeNumber,
  utf16le,
} from '../util/bytes.js';

const PARENT_SIZE = 16; // associated object GUID before the descriptor
const DESCRIPTOR_HEADER = 16; // type, flags, size, reserved
/** Partition and boot descriptors are 0x48 bytes: 88-byte values, as bcdedit writes them. */
export const PARTITION_DESCRIPTOR_SIZE = 0x48;
export const PARTITION_VALUE_SIZE = PARENT_SIZE + PARTITION_DESCRIPTOR_SIZE;

export const DEVICE_TYPE = {
  disk: 0,
  legacyPartition: 2,
  serial: 3,
  udp: 4,
  boot: 5,
  partition: 6,
  locate: 8,
} as const;
/** Partition style at +0x34 (MBR partitions are named by byte offset, GPT ones by their unique GUID). */
const STYLE_GPT = 0;
const STYLE_MBR = 1;
/** Local device type of a DeviceType 0 descriptor that is a RAM disk (WinRE's Winre.wim). */
const LOCAL_RAMDISK = 3;
/** Locate type 0: search every volume for the path held by another element of the same object. */
const LOCATE_BY_ELEMENT = 0;
/** Nested descriptors (ramdisk over partition) are one level deep in practice; more means garbage. */
const MAX_NESTING = 4;

const OFF = {
  type: 0x10,
  flags: 0x14,
  size: 0x18,
  partitionId: 0x20, // GPT: partition unique GUID; MBR: u64 byte offset of the partition
  style: 0x34,
  diskId: 0x38, // GPT: disk GUID; MBR: u32 disk signature
  localType: 0x20,
  ramdiskFile: 0x38, // u32 ?, u32 length, u32 ?, then the nested descriptor
  ramdiskNested: 0x44,
  locateType: 0x20,
  locateElement: 0x24,
  locateString: 0x2c,
} as const;

export type BcdDevice =
  | {
      readonly kind: 'partition';
      readonly style: 'mbr';
      readonly diskSignature: number;
      /** Byte offset of the partition on its disk. */
      readonly offset: number;
      readonly parent: string | null;
    }
  | {
      readonly kind: 'partition';
      readonly style: 'gpt';
      readonly diskGuid: string;
      readonly partitionGuid: string;
      readonly parent: string | null;
    }
  | { readonly kind: 'boot'; readonly parent: string | null }
  | {
      readonly kind: 'locate';
      readonly locateType: number;
      /** Locate by element: the element (of the same object) holding the path to look for. */
      readonly element?: number;
      readonly path?: string;
      readonly parent: string | null;
    }
  | {
      readonly kind: 'ramdisk';
      readonly path: string;
      readonly source: BcdDevice;
      readonly parent: string | null;
    }
  | { readonly kind: 'unknown'; readonly deviceType: number; readonly parent: string | null };

const bad = (what: string, actual: unknown): WinrescueError =>
  new WinrescueError('bcd.badStore', `device element: ${what}`, { structure: 'bcd.device', actual });

const W = { structure: 'bcd.device', code: 'bcd.badStore' } as const;

/** Decodes a device element value; typed bcd.badStore when it is too short or inconsistent. */
export function decodeDevice(data: Uint8Array): BcdDevice {
  const head = slice(data, 0, PARENT_SIZE, W);
  const parent = isZero(head) ? null : `{${guidToString(head, 0)}}`;
  return decodeDescriptor(data, OFF.type, parent, 0);
}

/** `at` is where the descriptor (device type) starts; offsets in OFF are relative to at - 0x10. */
function decodeDescriptor(data: Uint8Array, at: number, parent: string | null, depth: number): BcdDevice {
  if (depth > MAX_NESTING) throw bad('nested too deep', depth);
  const base = at - OFF.type;
  const head = slice(data, at, DESCRIPTOR_HEADER, W);
  const type = u32(head, 0);
  const size = u32(head, OFF.size - OFF.type);
  const body = slice(data, at, Math.max(size, DESCRIPTOR_HEADER), W);
  const rel = (o: number) => o - OFF.type;
  switch (type) {
    case DEVICE_TYPE.boot:
      return { kind: 'boot', parent };
    case DEVICE_TYPE.partition: {
      slice(body, 0, rel(OFF.diskId) + 16, W);
      const style = u32(body, rel(OFF.style));
      if (style === STYLE_MBR) {
        const offset = toSafeNumber(u64(body, rel(OFF.partitionId)), { ...W, base: base + OFF.partitionId });
        return { kind: 'partition', style: 'mbr', diskSignature: u32(body, rel(OFF.diskId)), offset, parent };
      }
      if (style === STYLE_GPT) {
        return {
          kind: 'partition',
          style: 'gpt',
          partitionGuid: `{${guidToString(body, rel(OFF.partitionId))}}`,
          diskGuid: `{${guidToString(body, rel(OFF.diskId))}}`,
          parent,
        };
      }
      return { kind: 'unknown', deviceType: type, parent };
    }
    case DEVICE_TYPE.locate: {
      slice(body, 0, rel(OFF.locateString), W);
      const locateType = u32(body, rel(OFF.locateType));
      const element = u32(body, rel(OFF.locateElement));
      const path = cString(body, rel(OFF.locateString));
      return locateType === LOCATE_BY_ELEMENT && element !== 0
        ? { kind: 'locate', locateType, element, parent }
        : { kind: 'locate', locateType, path, parent };
    }
    case DEVICE_TYPE.disk: {
      slice(body, 0, rel(OFF.localType) + 4, W);
      if (u32(body, rel(OFF.localType)) !== LOCAL_RAMDISK)
        return { kind: 'unknown', deviceType: type, parent };
      const nestedAt = at + rel(OFF.ramdiskNested);
      const nestedSize = u32(slice(data, nestedAt, DESCRIPTOR_HEADER, W), OFF.size - OFF.type);
      const source = decodeDescriptor(data, nestedAt, null, depth + 1);
      const pathAt = nestedAt + nestedSize;
      const end = at + size;
      slice(data, pathAt, end - pathAt, W);
      return { kind: 'ramdisk', path: cString(data.subarray(0, end), pathAt), source, parent };
    }
    default:
      return { kind: 'unknown', deviceType: type, parent };
  }
}

/** UTF-16LE up to its NUL or the end of `b`. */
function cString(b: Uint8Array, at: number): string {
  if (at >= b.length) return '';
  const s = utf16le(b, at, (b.length - at) & ~1);
  const nul = s.indexOf('\0');
  return nul >= 0 ? s.slice(0, nul) : s;
}

/**
 * How a device reads offline. Without a running system there is no volume number (bcdedit's
 * `partition=\Device\HarddiskVolume1` or `C:`), so the partition is named by what the store holds:
 * `partition=<mbr disk 0x1a2b3c4d, offset 1048576>` or `partition=<gpt disk {…}, partition {…}>`.
 */
export function formatDevice(d: BcdDevice): string {
  switch (d.kind) {
    case 'partition':
      return `partition=${partitionText(d)}`;
    case 'boot':
      return 'boot';
    case 'locate':
      return d.element !== undefined
        ? `locate=custom:${d.element.toString(16).padStart(8, '0')}`
        : `locate=${d.path ?? ''}`;
    case 'ramdisk': {
      const src = d.source.kind === 'partition' ? partitionText(d.source) : formatDevice(d.source);
      return `ramdisk=[${src}]${d.path}${d.parent === null ? '' : `,${d.parent}`}`;
    }
    case 'unknown':
      return `unknown (device type ${d.deviceType})`;
  }
}

function partitionText(d: Extract<BcdDevice, { kind: 'partition' }>): string {
  return d.style === 'mbr'
    ? `<mbr disk 0x${d.diskSignature.toString(16).padStart(8, '0')}, offset ${d.offset}>`
    : `<gpt disk ${d.diskGuid}, partition ${d.partitionGuid}>`;
}

/** An 88-byte partition device as bcdedit writes it (REFERENCE.md §2.5). */
export function encodePartitionDevice(
  d:
    | { style: 'mbr'; diskSignature: number; offset: number }
    | { style: 'gpt'; diskGuid: string; partitionGuid: string },
): Uint8Array {
  const b = new Uint8Array(PARTITION_VALUE_SIZE);
  setU32(b, OFF.type, DEVICE_TYPE.partition);
  setU32(b, OFF.size, PARTITION_DESCRIPTOR_SIZE);
  if (d.style === 'mbr') {
    setU64(b, OFF.partitionId, BigInt(d.offset));
    setU32(b, OFF.style, STYLE_MBR);
    setU32(b, OFF.diskId, d.diskSignature);
  } else {
    b.set(guidFromString(d.partitionGuid), OFF.partitionId);
    setU32(b, OFF.style, STYLE_GPT);
    b.set(guidFromString(d.diskGuid), OFF.diskId);
  }
  return b;
}

/** The "boot" device (the volume the boot manager was loaded from): a header and zeros. */
export function encodeBootDevice(): Uint8Array {
  const b = new Uint8Array(PARTITION_VALUE_SIZE);
  setU32(b, OFF.type, DEVICE_TYPE.boot);
  setU32(b, OFF.size, PARTITION_DESCRIPTOR_SIZE);
  return b;
}
