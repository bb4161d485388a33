// The one error type of winrescue: every failure says what, where (absolute device offset), expected and actual.
// Codes are grouped by layer; add a code to its layer's list rather than reusing a vague one.

export const DISK_CODES = [
  'disk.notFound', // the path does not exist
  'disk.notAFile', // a directory or other non-image
  'disk.empty', // zero-length image
  'disk.mounted', // block device is mounted: refused
  'disk.outOfRange', // read/write beyond the device
  'disk.readOnly', // write to a read-only device
  'disk.truncated', // the image is shorter than its own metadata says
  'disk.io', // the OS reported an I/O error
  'disk.unknownFormat', // content matches no supported format
  'disk.badChecksum', // a container checksum does not match
  'disk.badSignature', // a container magic/cookie is wrong
  'disk.badField', // a container field holds an impossible value
  'disk.unsupported', // valid but not supported by us (says what)
  'disk.parentMissing', // differencing image whose parent cannot be found
  'disk.parentMismatch', // parent found but not the one the child was made from
  'disk.logPending', // VHDX log must be replayed first
  'disk.http', // remote block device failure
  'journal.badFormat', // undo journal unreadable
  'journal.diskChanged', // disk is not what the journal expects
  'journal.io',
  'journal.notFound', // no undo journal at the path (and no .done one either)
  'journal.incomplete', // a previous session or undo did not finish: undo (again) before writing
  'journal.pathRequired', // the disk is not a regular file: --journal PATH must say where the journal goes
] as const;

export const PARTITION_CODES = [
  'partition.badMbr',
  'partition.badGpt',
  'partition.overlap',
  'partition.outOfDisk',
  'partition.notFound', // --partition N does not exist
] as const;

export const FS_CODES = [
  'ntfs.badBootSector',
  'ntfs.badRecord',
  'ntfs.tornRecord',
  'ntfs.badAttribute',
  'ntfs.badRunlist',
  'ntfs.badIndex',
  'ntfs.indexLoop',
  'ntfs.notFound',
  'ntfs.notADirectory',
  'ntfs.isADirectory',
  'ntfs.unsupported',
  'ntfs.badCompression',
  'ntfs.refused', // unsafe to write (dirty log, hibernated, BitLocker)
  'ntfs.full',
  'ntfs.exists',
  'ntfs.notEmpty', // rmdir of a directory that still has entries
  'ntfs.bitlocker', // BitLocker-encrypted volume (-FVE-FS-): cannot be read without its key
  'fat.badBootSector',
  'fat.badChain',
  'fat.notFound',
  'fat.full',
  'fat.exists',
  'fat.unsupported',
  'fat.refused', // unsafe to write: volume marked dirty, or its FAT copies disagree where we would write
  'fat.badDirectory', // a directory entry or long-name chain that cannot be right
  'fat.notADirectory',
  'fat.isADirectory',
] as const;

export const REGISTRY_CODES = [
  'regf.badBaseBlock',
  'regf.badChecksum',
  'regf.badBin',
  'regf.badCell',
  'regf.badLog',
  'regf.dirty', // dirty hive without logs: refused for writing
  'regf.notFound',
  'regf.unsupported',
  'regf.badValue',
  'regf.full',
  'regf.badPath', // empty or malformed key path component
  'regf.nameTooLong', // key name > 255 or value name > 16383 characters
  'regf.tooLarge', // value data too large for the hive version
  'regf.refused', // deleting the root key, or a key with subkeys without recursive
] as const;

export const UPPER_CODES = [
  'bcd.badStore',
  'bcd.notFound',
  'windows.notFound',
  'pe.badImage',
  'pe.badSignature', // an Authenticode signature or catalog that cannot be parsed (PKCS#7, certificate table)
  'diagnose.badInput',
  'demo.badSample', // the bundled sample disk is missing, or does not match its manifest
  'repair.noCandidate',
  'repair.refused',
  'repair.unsupported', // damage the file playbook cannot fix (directory index, attribute list): structure repair
  'repair.needsConfirmation', // no TTY to ask and no --yes
  'azure.request',
  'cli.usage',
  'internal',
] as const;

/** The Azure read side (docs/azure.md): ARM calls, credentials, and what a failed cleanup leaves behind. */
export const AZURE_CODES = [
  'azure.auth', // no usable credential, or ARM answered 401/403
  'azure.notFound', // the VM, resource group or snapshot does not exist (ARM 404)
  'azure.unsupported', // e.g. an unmanaged (storage-account VHD) OS disk
  'azure.cleanup', // a snapshot or its access grant could not be removed: the message names it
] as const;

export type ErrorCode =
  | (typeof DISK_CODES)[number]
  | (typeof PARTITION_CODES)[number]
  | (typeof FS_CODES)[number]
  | (typeof REGISTRY_CODES)[number]
  | (typeof UPPER_CODES)[number]
  | (typeof AZURE_CODES)[number];

/** Codes that mean "we could, but it would not be safe": exit 1 (refused), not 2 (bad input). */
const REFUSAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'disk.mounted',
  'disk.readOnly',
  'disk.logPending',
  'journal.diskChanged',
  'journal.incomplete',
  'ntfs.refused',
  'fat.refused',
  'regf.dirty',
  'repair.refused',
  'repair.noCandidate',
  'repair.unsupported',
  'repair.needsConfirmation',
]);

export interface ErrorDetails {
  /** Absolute byte offset on the device (or in the file) where the fault is. */
  offset?: number | bigint;
  /** The on-disk structure, dotted: 'vhd.footer', 'ntfs.mftRecord'. */
  structure?: string;
  expected?: unknown;
  actual?: unknown;
  /** Record number, cell offset or similar identity of the structure, when it has one. */
  record?: number;
  path?: string;
  cause?: unknown;
}

export class WinrescueError extends Error {
  readonly code: ErrorCode;
  readonly offset: number | bigint | undefined;
  readonly structure: string | undefined;
  readonly expected: unknown;
  readonly actual: unknown;
  readonly record: number | undefined;
  readonly path: string | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'WinrescueError';
    this.code = code;
    this.offset = details.offset;
    this.structure = details.structure;
    this.expected = details.expected;
    this.actual = details.actual;
    this.record = details.record;
    this.path = details.path;
  }

  /** 1 for refusals (unsafe to proceed), 2 for bad input or usage. */
  get exitCode(): 1 | 2 {
    return REFUSAL_CODES.has(this.code) ? 1 : 2;
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.offset !== undefined) out.offset = Number(this.offset);
    if (this.structure !== undefined) out.structure = this.structure;
    if (this.expected !== undefined) out.expected = jsonable(this.expected);
    if (this.actual !== undefined) out.actual = jsonable(this.actual);
    if (this.record !== undefined) out.record = this.record;
    if (this.path !== undefined) out.path = this.path;
    return out;
  }
}

function jsonable(v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

export function isWinrescueError(e: unknown): e is WinrescueError {
  return e instanceof WinrescueError;
}

/** Hex for messages: 0x1a2b000. */
export function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}
