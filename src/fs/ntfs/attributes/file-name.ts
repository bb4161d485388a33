// $FILE_NAME (0x30), also the key of $I30 index entries: flatcap linux-ntfs ntfs/attributes/file_name.html;
// libfsntfs asciidoc §"The file name attribute"; ntfs-3g layout.h FILE_NAME_ATTR.
import { WinrescueError } from '../../../errors.js';
import { le16, le32, le64, le8, utf16 } from '../le.js';
import { parseFileReference, type FileReference } from '../mft-record.js';
import { parseTimes, type NtfsTimes } from './standard-information.js';
import { tooShort } from './common.js';

const NAME_FIELD = 66;
export const FILE_NAME_LENGTH_FIELD = 64;
export const FILE_NAME_NAMESPACE_FIELD = 65;
export const FILE_NAME_NAME_FIELD = NAME_FIELD;

export const NAMESPACE = { POSIX: 0, WIN32: 1, DOS: 2, WIN32_AND_DOS: 3 } as const;
export type NamespaceName = 'posix' | 'win32' | 'dos' | 'win32+dos';
export const NAMESPACE_NAMES: readonly NamespaceName[] = ['posix', 'win32', 'dos', 'win32+dos'];

export interface FileName {
  readonly parent: FileReference;
  readonly times: NtfsTimes;
  /** Sizes as last copied into the name (Windows updates them lazily; the $DATA attribute is authoritative). */
  readonly allocatedSize: number;
  readonly dataSize: number;
  readonly fileAttributes: number;
  readonly reparseTag: number;
  readonly namespace: number;
  readonly namespaceName: NamespaceName;
  readonly name: string;
  /** UTF-16 code units of the name, for collation. */
  readonly units: Uint16Array;
}

export function parseFileName(v: Uint8Array, record?: number): FileName {
  if (v.length < NAME_FIELD) tooShort('ntfs.fileName', NAME_FIELD, v.length, record);
  const nameLength = le8(v, 64);
  if (NAME_FIELD + nameLength * 2 > v.length)
    tooShort('ntfs.fileName', NAME_FIELD + nameLength * 2, v.length, record);
  const namespace = le8(v, 65);
  if (namespace > 3) {
    throw new WinrescueError('ntfs.badAttribute', `$FILE_NAME namespace ${namespace} is not 0..3`, {
      structure: 'ntfs.fileName',
      record,
      expected: '0..3',
      actual: namespace,
    });
  }
  return new FileNameValue(v, nameLength, namespace);
}

/** A class, not an object literal with getters: V8 keeps one shape for the thousands a listing makes. */
class FileNameValue implements FileName {
  readonly parent: FileReference;
  readonly allocatedSize: number;
  readonly dataSize: number;
  readonly fileAttributes: number;
  readonly reparseTag: number;
  readonly namespaceName: NamespaceName;
  readonly name: string;

  constructor(
    private readonly v: Uint8Array,
    private readonly nameLength: number,
    readonly namespace: number,
  ) {
    this.parent = parseFileReference(v, 0);
    this.allocatedSize = Math.max(0, le64(v, 40));
    this.dataSize = Math.max(0, le64(v, 48));
    this.fileAttributes = le32(v, 56);
    this.reparseTag = le32(v, 60);
    this.namespaceName = NAMESPACE_NAMES[namespace]!;
    this.name = utf16(v, NAME_FIELD, nameLength * 2);
  }

  /** Four FILETIMEs per name: converted only when asked for (a walk reads thousands of names, not their times). */
  get times(): NtfsTimes {
    return parseTimes(this.v, 8);
  }

  get units(): Uint16Array {
    const units = new Uint16Array(this.nameLength);
    for (let i = 0; i < this.nameLength; i++) units[i] = le16(this.v, NAME_FIELD + i * 2);
    return units;
  }
}
