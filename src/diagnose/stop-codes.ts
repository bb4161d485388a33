// Stop-code knowledge base for boot failures.
// Sources: ../shared/docs/REFERENCE.md §1.5 (MicrosoftDocs/SupportArticles-docs, support/azure/virtual-machines/windows/*)
// and §3 (the boot error screens); NTSTATUS names from Microsoft's [MS-ERREF] §2.3.1.

/** What kind of damage a code usually points at; `diagnose` confirms it against the disk. */
export type LikelyCause =
  | 'corrupt-structure' // NTFS metadata leading to the file is damaged
  | 'corrupt-file' // the file is reachable but its content is bad
  | 'signature' // the file's Authenticode signature or catalog entry does not verify
  | 'boot-config' // BCD store or boot device wrong
  | 'missing-file' // the file is not there at all
  | 'wrong-version' // a binary from another Windows build or architecture
  | 'registry' // a registry hive is damaged
  | 'expired-image'; // a preview build past its expiry: nothing on disk to fix

/** Playbook names as `repair/` implements them (DESIGN.md). */
export type PlaybookName =
  | 'check-disk'
  | 'replace-file'
  | 'repair-bcd'
  | 'repair-hive'
  | 'restore-health'
  | 'enable-serial-console'
  | 'enable-memory-dump';

export interface StopCodeInfo {
  readonly code: number;
  readonly name: string;
  readonly meaning: string;
  /** Most likely first. */
  readonly likelyCauses: readonly LikelyCause[];
  readonly likelyCause: LikelyCause;
  /** In the order the source article applies them. */
  readonly playbooks: readonly PlaybookName[];
  /** Where the procedure comes from. */
  readonly source: string;
}

const ARTICLES = 'MicrosoftDocs/SupportArticles-docs support/azure/virtual-machines/windows/';

function entry(
  code: number,
  name: string,
  meaning: string,
  likelyCauses: readonly LikelyCause[],
  playbooks: readonly PlaybookName[],
  source: string,
): StopCodeInfo {
  return Object.freeze({
    code,
    name,
    meaning,
    likelyCauses: Object.freeze([...likelyCauses]),
    likelyCause: likelyCauses[0] ?? 'corrupt-file',
    playbooks: Object.freeze([...playbooks]),
    source,
  });
}

const ENTRIES: readonly StopCodeInfo[] = [
  entry(
    0xc0000102,
    'STATUS_FILE_CORRUPT_ERROR',
    "The file named on the screen, or the disk structure that leads to it, is corrupt and unreadable (the boot loader's NTFS reader rejected its metadata).",
    ['corrupt-structure', 'corrupt-file'],
    ['check-disk', 'replace-file', 'enable-serial-console', 'enable-memory-dump'],
    `${ARTICLES}error-code-0xC0000102-status-file-corrupt.md (REFERENCE.md §1.1, §1.5)`,
  ),
  entry(
    0xc000007b,
    'STATUS_INVALID_IMAGE_FORMAT',
    'The file was read but is not a valid image for this system: damaged PE headers, zero-filled or truncated content.',
    ['corrupt-file', 'wrong-version'],
    ['replace-file'],
    'REFERENCE.md §1.5 (no Azure article in the stored copy) and §3 (pastebin.com/4UeX8kiG screen); issue 8',
  ),
  entry(
    0xc0000221,
    'STATUS_IMAGE_CHECKSUM_MISMATCH',
    "The image's content does not match its checksum: the file is damaged or the file system under it is corrupt.",
    ['corrupt-file', 'corrupt-structure'],
    ['check-disk', 'restore-health'],
    `${ARTICLES}boot-error-0xc0000221.md (REFERENCE.md §1.5: DISM /restorehealth, sfc offline, LKGC — not the WinSxS copy)`,
  ),
  entry(
    0xc0000428,
    'STATUS_INVALID_IMAGE_HASH',
    "Windows cannot verify the file's digital signature: its hash matches neither its embedded signature nor a catalog, or (Azure article) a preview image has expired.",
    ['signature', 'expired-image'],
    ['replace-file'],
    `${ARTICLES}windows-boot-error-invalid-image-hash (REFERENCE.md §1.5, §3)`,
  ),
  entry(
    0xc000014c,
    'STATUS_REGISTRY_CORRUPT',
    'A registry hive (usually \\Windows\\System32\\config\\SYSTEM) is missing or corrupt.',
    ['registry', 'corrupt-structure'],
    ['repair-hive', 'check-disk'],
    'REFERENCE.md §3 (MS blog "Overcoming the dreaded 0xc000014c message on start", Server 2012 R2)',
  ),
  entry(
    0xc0000011,
    'STATUS_END_OF_FILE',
    'A critical system driver is missing or corrupt: typically a file version mismatch, or a file shorter than expected.',
    ['wrong-version', 'corrupt-file'],
    ['replace-file'],
    `${ARTICLES}boot-error-0xc0000011.md (REFERENCE.md §1.5)`,
  ),
  entry(
    0xc0000098,
    'STATUS_FILE_INVALID',
    'A binary from a different Windows version is on the boot path, or the file is otherwise invalid.',
    ['wrong-version', 'corrupt-file'],
    ['replace-file'],
    `${ARTICLES}boot-error-0xc0000098.md (REFERENCE.md §1.5)`,
  ),
  entry(
    0xc0000225,
    'STATUS_NOT_FOUND',
    'A required file, the boot device or the BCD entry was not found.',
    ['missing-file', 'boot-config', 'registry'],
    ['replace-file', 'repair-bcd', 'repair-hive'],
    `${ARTICLES}boot-error-status-not-found.md (REFERENCE.md §1.5: cause 1 file, 2 BCD, 3 hive)`,
  ),
  entry(
    0xc000000f,
    'STATUS_NO_SUCH_FILE',
    'The boot manager could not find a file: winload.exe or \\Boot\\BCD (boot configuration), or a driver.',
    ['boot-config', 'missing-file'],
    ['repair-bcd', 'replace-file'],
    `${ARTICLES}boot-error-0xc000000f.md (REFERENCE.md §1.5: errors 1-2 BCD, error 3 drivers)`,
  ),
  entry(
    0xc0000359,
    'STATUS_INVALID_IMAGE_WIN_32',
    'A 32-bit binary is on the boot path of a 64-bit system and must be replaced by the 64-bit one.',
    ['wrong-version'],
    ['replace-file'],
    `${ARTICLES}boot-error-0xc0000359.md (REFERENCE.md §1.5)`,
  ),
];

/** Stop code (as an unsigned 32-bit number) → what it means and what to do. */
export const STOP_CODES: ReadonlyMap<number, StopCodeInfo> = new Map(ENTRIES.map((e) => [e.code, e]));

export function lookupStopCode(code: number): StopCodeInfo | undefined {
  return STOP_CODES.get(code >>> 0);
}

/** `0xC0000102`: the spelling DESIGN.md's --json uses. */
export function formatStopCode(code: number): string {
  return '0x' + (code >>> 0).toString(16).toUpperCase().padStart(8, '0');
}
