// A new file made "like" another one (the replacement of a broken driver keeps the original's attributes and
// security): which $STANDARD_INFORMATION file attributes and security id it gets, or which $SECURITY_DESCRIPTOR
// it carries. flatcap linux-ntfs attributes/standard_information.html (flags, security id @52),
// attributes/security_descriptor.html, files/secure.html ($SII by id); [MS-DTYP] 2.4.6 (self-relative form).
// Policy and fallbacks: docs/formats/ntfs-write.md, "Files made like another".
import { isWinrescueError } from '../../../errors.js';
import { ATTR } from '../attribute.js';
import { parseSecurityDescriptor } from '../attributes/security-descriptor.js';
import { FILE_ATTRIBUTE, parseStandardInformation } from '../attributes/standard-information.js';
import { AttributeStream } from '../data-stream.js';
import { findAttribute, type NtfsFile } from '../file-record.js';
import type { NtfsVolume } from '../volume.js';
import { FILE_ATTRIBUTES_NEW_FILE } from './new-record.js';

/** What a new file copies from another: its attribute flags, and its security (by id, or as a descriptor). */
export interface FileLike {
  fileAttributes?: number;
  securityId?: number;
  securityDescriptor?: Uint8Array;
}

export interface WriteFileOptions {
  /** For a file that does not exist yet: take these attributes and this security (ignored for existing files). */
  like?: FileLike;
}

export interface WriteFileReport {
  readonly record: number;
  readonly created: boolean;
  /** The security id written into $STANDARD_INFORMATION (0 when a $SECURITY_DESCRIPTOR attribute was stored). */
  readonly securityId: number;
  /** True when the file carries its own $SECURITY_DESCRIPTOR attribute. */
  readonly securityDescriptorStored: boolean;
  /** Parts of `like` that could not be honoured, and what was done instead. */
  readonly warnings: readonly string[];
}

/**
 * The persistent flags a new regular, uncompressed, unencrypted, non-sparse file may carry. Left out: DIRECTORY,
 * DEVICE, the state bits NTFS derives from attributes (SPARSE_FILE, REPARSE_POINT, COMPRESSED, ENCRYPTED:
 * claiming them without the matching attribute misleads readers), TEMPORARY and OFFLINE (behaviour, not
 * identity), NORMAL (only meaningful alone; NTFS stores 0 for it) and the $FILE_NAME-only DUP_* bits.
 */
export const LIKE_ATTRIBUTE_MASK =
  FILE_ATTRIBUTE.READONLY |
  FILE_ATTRIBUTE.HIDDEN |
  FILE_ATTRIBUTE.SYSTEM |
  FILE_ATTRIBUTE.ARCHIVE |
  FILE_ATTRIBUTE.NOT_CONTENT_INDEXED;

/** $Secure ids of real descriptors start at 0x100; 0 means "none, see the $SECURITY_DESCRIPTOR attribute". */
const NO_SECURITY_ID = 0;
/** A descriptor must leave room in a 1 KiB record for the names and resident data; real ones are ~100-300 B. */
const MAX_DESCRIPTOR_FRACTION = 2;
/** A non-resident $SECURITY_DESCRIPTOR larger than this is not a descriptor ($SDS entries are bounded alike). */
const MAX_DESCRIPTOR_BYTES = 256 * 1024;

export interface NewFileIdentity {
  readonly fileAttributes: number;
  readonly securityId: number;
  /** Stored as a resident $SECURITY_DESCRIPTOR when set (then securityId is 0). */
  readonly securityDescriptor: Uint8Array | null;
  readonly warnings: string[];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Decides the attributes and security of a new file made like `like`. `siblingId` gives the writer's usual
 * choice (a sibling's security id), used when `like` names no usable security. Nothing is written here.
 */
export async function resolveLike(
  vol: NtfsVolume,
  like: FileLike,
  recordSize: number,
  siblingId: () => Promise<number>,
): Promise<NewFileIdentity> {
  const warnings: string[] = [];
  let fileAttributes: number = FILE_ATTRIBUTES_NEW_FILE;
  if (like.fileAttributes !== undefined) {
    fileAttributes = like.fileAttributes & LIKE_ATTRIBUTE_MASK;
    const dropped = like.fileAttributes & ~LIKE_ATTRIBUTE_MASK;
    if (dropped !== 0)
      warnings.push(
        `file attributes 0x${dropped.toString(16)} not carried over (not valid on a new plain file)`,
      );
  }
  let descriptor: Uint8Array | null = null;
  if (like.securityDescriptor !== undefined) {
    try {
      parseSecurityDescriptor(like.securityDescriptor);
      if (like.securityDescriptor.length > recordSize / MAX_DESCRIPTOR_FRACTION) {
        warnings.push(
          `security descriptor of ${like.securityDescriptor.length} bytes is too large to keep in the record`,
        );
      } else descriptor = like.securityDescriptor.slice();
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      warnings.push(`security descriptor not used: ${e.message}`);
    }
  }
  if (like.securityId !== undefined && like.securityId !== NO_SECURITY_ID) {
    const id = like.securityId;
    let known: Uint8Array | null = null;
    try {
      known = (await vol.securityDescriptor(id))?.bytes ?? null;
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      warnings.push(`$Secure could not be read for security id ${id}: ${e.message}`);
    }
    // With both an id and a descriptor, the id is trusted only when $Secure holds that very descriptor: an id
    // taken from another volume may name a different ACL here.
    if (known && (!descriptor || sameBytes(known, descriptor))) {
      return { fileAttributes, securityId: id, securityDescriptor: null, warnings };
    }
    warnings.push(
      known
        ? `security id ${id} names another descriptor on this volume; the given descriptor is stored instead`
        : `security id ${id} is not in this volume's $Secure`,
    );
  }
  if (descriptor)
    return { fileAttributes, securityId: NO_SECURITY_ID, securityDescriptor: descriptor, warnings };
  const fallback = await siblingId();
  if (like.securityId !== undefined || like.securityDescriptor !== undefined)
    warnings.push(`security id ${fallback} of the folder's files used instead`);
  return { fileAttributes, securityId: fallback, securityDescriptor: null, warnings };
}

/**
 * The FileLike of an existing, readable, in-use record: its $STANDARD_INFORMATION flags and security id (when
 * not 0), and its descriptor (the $SECURITY_DESCRIPTOR attribute, else the one $Secure holds for its id). Null
 * when the record cannot be read or is not in use.
 */
export async function readFileLike(vol: NtfsVolume, record: number): Promise<FileLike | null> {
  try {
    const file = await vol.file(record);
    if (!file.base.inUse) return null;
    const like: FileLike = {};
    const si = findAttribute(file, ATTR.STANDARD_INFORMATION);
    if (si?.value) {
      const parsed = parseStandardInformation(si.value, record);
      like.fileAttributes = parsed.fileAttributes;
      if (parsed.securityId !== null && parsed.securityId !== NO_SECURITY_ID)
        like.securityId = parsed.securityId;
    }
    const descriptor = await readDescriptor(vol, record, file, like.securityId);
    if (descriptor) like.securityDescriptor = descriptor;
    return like;
  } catch (e) {
    if (isWinrescueError(e)) return null;
    throw e;
  }
}

/** The record's own $SECURITY_DESCRIPTOR, else $Secure's for `securityId`; null when neither reads and parses. */
async function readDescriptor(
  vol: NtfsVolume,
  record: number,
  file: NtfsFile,
  securityId: number | undefined,
): Promise<Uint8Array | null> {
  try {
    const sd = findAttribute(file, ATTR.SECURITY_DESCRIPTOR);
    if (sd) {
      const bytes = sd.resident
        ? sd.value!.slice()
        : await new AttributeStream(vol.clusterIo, sd, {
            label: `record ${record} $SECURITY_DESCRIPTOR`,
            record,
          }).readAllAtMost(MAX_DESCRIPTOR_BYTES, 'a security descriptor');
      parseSecurityDescriptor(bytes);
      return bytes;
    }
    if (securityId === undefined) return null;
    return (await vol.securityDescriptor(securityId))?.bytes.slice() ?? null;
  } catch (e) {
    // A damaged descriptor does not make the file unusable as a model: its flags and id still are.
    if (isWinrescueError(e)) return null;
    throw e;
  }
}

/** The report of a writeFile that replaced an existing file's data (its identity is never changed). */
export function existingFileReport(file: NtfsFile, path: string, likeGiven: boolean): WriteFileReport {
  const si = findAttribute(file, ATTR.STANDARD_INFORMATION);
  return {
    record: file.record,
    created: false,
    securityId: si?.value ? (parseStandardInformation(si.value, file.record).securityId ?? 0) : 0,
    securityDescriptorStored: findAttribute(file, ATTR.SECURITY_DESCRIPTOR) !== undefined,
    warnings: likeGiven ? [`${path} exists: its attributes and security are kept, "like" is ignored`] : [],
  };
}
