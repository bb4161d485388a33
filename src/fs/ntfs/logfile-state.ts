// $LogFile (record 2) restart pages and whether the log is clean: flatcap linux-ntfs ntfs/files/logfile.html;
// Linux fs/ntfs/logfile.h (RESTART_PAGE_HEADER, RESTART_AREA) and logfile.c ntfs_is_logfile_clean (rules
// only); ntfs-3g logfile.h. REFERENCE.md §5: clean if empty, no client in use, or RESTART_VOLUME_IS_CLEAN.
import { ascii, u16, u32, u64 } from '../../util/bytes.js';
import { applyFixupsOnRead } from './fixup.js';
import { WinrescueError, hex } from '../../errors.js';

export const RESTART_SIGNATURES = ['RSTR', 'CHKD'] as const;
const LOGFILE_NO_CLIENT = 0xffff;
const RESTART_VOLUME_IS_CLEAN = 0x0002;
const RESTART_AREA_MIN = 48;
/** LOG_CLIENT_RECORD: oldest LSN, client restart LSN, links, sequence, name (64 UTF-16 units). */
const LOG_CLIENT_RECORD_SIZE = 160;
/** The first restart page is read at this size; the second sits one system page further on. */
export const FIRST_PAGE_PROBE = 4096;
const MIN_PAGE = 512;
const MAX_PAGE = 65536;

export type LogfileState = 'clean' | 'dirty' | 'empty' | 'unreadable';

export interface RestartPage {
  readonly signature: string;
  readonly systemPageSize: number;
  readonly logPageSize: number;
  readonly majorVersion: number;
  readonly minorVersion: number;
  readonly currentLsn: bigint;
  readonly clientInUseList: number;
  readonly flags: number;
  readonly clean: boolean;
  /** The (in-use, else first) log client's restart LSN: its last checkpoint. */
  readonly clientRestartLsn: bigint | null;
  /** That client's oldest LSN still needed: where a replay starts reading the log. */
  readonly oldestLsn: bigint | null;
}

export interface LogfileStatus {
  readonly state: LogfileState;
  /** Which restart page decided: 0 (first) or 1 (second), null if none. */
  readonly page: 0 | 1 | null;
  readonly currentLsn: bigint | null;
  readonly clientRestartLsn: bigint | null;
  readonly oldestLsn: bigint | null;
  /** chkdsk ran and left CHKD pages. */
  readonly chkdsk: boolean;
  readonly problems: readonly string[];
}

function allFF(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0xff) return false;
  return true;
}

/** The system page size a restart page claims, or null if the bytes are not a restart page. */
export function restartPageSize(b: Uint8Array): number | null {
  if (b.length < 32 || !(RESTART_SIGNATURES as readonly string[]).includes(ascii(b, 0, 4))) return null;
  const size = u32(b, 16);
  return size >= MIN_PAGE && size <= MAX_PAGE && (size & (size - 1)) === 0 ? size : null;
}

/** Parses one restart page (a copy; fixups undone). Throws a typed error when it is damaged. */
export function parseRestartPage(page: Uint8Array, base: number): RestartPage {
  const b = page.slice();
  const signature = ascii(b, 0, 4);
  applyFixupsOnRead(b, { label: `$LogFile restart page`, structure: 'ntfs.logfileRestart', base, record: 2 });
  const restartOffset = u16(b, 24);
  if (restartOffset + RESTART_AREA_MIN > b.length) {
    throw new WinrescueError(
      'ntfs.badRecord',
      `$LogFile restart page at ${hex(base)}: restart area offset ${restartOffset} lies outside the page`,
      {
        offset: base + 24,
        structure: 'ntfs.logfileRestart',
        record: 2,
        expected: `<= ${b.length - RESTART_AREA_MIN}`,
        actual: restartOffset,
      },
    );
  }
  const clientInUseList = u16(b, restartOffset + 12);
  const clientArray = restartOffset + u16(b, restartOffset + 22);
  const client =
    clientArray + (clientInUseList === LOGFILE_NO_CLIENT ? 0 : clientInUseList) * LOG_CLIENT_RECORD_SIZE;
  const clientRestartLsn = client + 16 <= b.length ? u64(b, client + 8) : null;
  const oldestLsn = client + 16 <= b.length ? u64(b, client) : null;
  const flags = u16(b, restartOffset + 14);
  return {
    signature,
    systemPageSize: u32(b, 16),
    logPageSize: u32(b, 20),
    minorVersion: u16(b, 26),
    majorVersion: u16(b, 28),
    currentLsn: u64(b, restartOffset),
    clientInUseList,
    flags,
    clean: clientInUseList === LOGFILE_NO_CLIENT || (flags & RESTART_VOLUME_IS_CLEAN) !== 0,
    clientRestartLsn,
    oldestLsn,
  };
}

/**
 * Decides from the two restart pages. The page with the higher current LSN is the latest (Windows writes them
 * alternately); a damaged page is reported and the other one used.
 */
export function logfileStatus(first: Uint8Array, second: Uint8Array | null, base: number): LogfileStatus {
  if (allFF(first) && (second === null || allFF(second)))
    return {
      state: 'empty',
      page: null,
      currentLsn: null,
      clientRestartLsn: null,
      oldestLsn: null,
      chkdsk: false,
      problems: [],
    };
  const problems: string[] = [];
  const pages: (RestartPage | null)[] = [first, second].map((p, i) => {
    if (p === null) return null;
    if (restartPageSize(p) === null) {
      problems.push(`restart page ${i} has no RSTR/CHKD signature or an impossible page size`);
      return null;
    }
    try {
      return parseRestartPage(p, base + i * p.length);
    } catch (e) {
      problems.push(`restart page ${i}: ${(e as Error).message}`);
      return null;
    }
  });
  let pick: 0 | 1 | null = null;
  if (pages[0] && pages[1]) pick = pages[1].currentLsn > pages[0].currentLsn ? 1 : 0;
  else if (pages[0]) pick = 0;
  else if (pages[1]) pick = 1;
  if (pick === null)
    return {
      state: 'unreadable',
      page: null,
      currentLsn: null,
      clientRestartLsn: null,
      oldestLsn: null,
      chkdsk: false,
      problems,
    };
  const p = pages[pick]!;
  return {
    state: p.clean ? 'clean' : 'dirty',
    page: pick,
    currentLsn: p.currentLsn,
    clientRestartLsn: p.clientRestartLsn,
    oldestLsn: p.oldestLsn,
    chkdsk: pages.some((x) => x?.signature === 'CHKD'),
    problems,
  };
}
