// What the NTFS consistency check reports: one problem per fault, chkdsk-like, with the record it concerns and
// (resolved at the end) a path. The JSON shape is DESIGN.md's `check --json` contract; kinds are listed in
// docs/formats/ntfs-check.md with what finds them.

export const PROBLEM_KINDS = [
  'boot-sector', // primary damaged, backup differs or is missing
  'mft-mirror', // $MFTMirr differs from the first records of $MFT
  'torn-record', // update sequence mismatch (a torn write)
  'bad-record', // signature, header fields, record number
  'bad-attribute', // attribute header out of bounds, sizes impossible, duplicate ids, resident-only type non-resident
  'attribute-order', // attributes not sorted by type
  'bad-runlist', // undecodable mapping pairs, VCN coverage wrong
  'runlist-outside-volume', // a run past the last cluster
  'bad-attribute-list', // $ATTRIBUTE_LIST entries naming records that do not hold the attribute
  'bad-extension-record', // an extension record whose base does not claim it
  'cross-linked-clusters', // a cluster claimed by two attributes
  'lost-clusters', // $Bitmap marks clusters nobody uses
  'unmarked-clusters', // clusters in use that $Bitmap marks free
  'mft-bitmap', // the $MFT bitmap disagrees with the records' in-use flags
  'bad-index', // an $I30 node unreadable, tree shape wrong, block not in the index bitmap
  'index-order', // entries out of $UpCase collation order
  'index-bitmap', // index blocks marked in use that no node points to
  'dangling-index-entry', // an entry naming a free, unused or reused (sequence) record
  'index-entry-mismatch', // an entry whose key disagrees with the record ($FILE_NAME, parent, directory flag)
  'duplicate-index-entry', // the same name indexed twice
  'orphan-file', // an in-use file that no index names
  'missing-index-entry', // one of a file's names is not indexed (others are)
  'bad-file-name', // a $FILE_NAME whose parent is not a directory in use
  'link-count', // header link count disagrees with the $FILE_NAME attributes
  'bad-security-id', // $STANDARD_INFORMATION names a security id $Secure does not hold
  'bad-secure', // $Secure's $SII/$SDS damaged or disagreeing
  'logfile-dirty', // $LogFile has transactions Windows would replay
  'logfile-unreadable', // $LogFile restart pages damaged
  'volume-dirty', // $Volume dirty flag set: chkdsk is scheduled
  'unreadable', // a metadata structure the check needs could not be read
] as const;

export type ProblemKind = (typeof PROBLEM_KINDS)[number];

export interface Problem {
  readonly kind: ProblemKind;
  /** The MFT record concerned (the file, or the system file holding the structure), or null. */
  readonly record: number | null;
  /** A path of the record ('/'-separated, case as stored), when one could be found. */
  readonly path: string | null;
  readonly detail: string;
}

export interface CheckStats {
  readonly mftRecords: number;
  readonly recordsInUse: number;
  readonly directories: number;
  readonly indexEntries: number;
  readonly clusters: number;
  readonly clustersInUse: number;
  readonly seconds: number;
}

export interface CheckReport {
  readonly clean: boolean;
  readonly problems: readonly Problem[];
  readonly stats: CheckStats;
  /** Problems left out past the per-kind limit, by kind. */
  readonly truncated: Readonly<Record<string, number>>;
}

/** A broken volume can yield millions of identical findings: keep this many per kind and count the rest. */
export const MAX_PER_KIND = 1000;

/** A problem as found: its path is resolved at the end, from a directory and name or from the record. */
export interface Finding {
  kind: ProblemKind;
  record: number | null;
  detail: string;
  /** Set when the finder knows the path's directory record and the name in it. */
  dir?: number;
  name?: string;
  path?: string;
}

export class Findings {
  readonly list: Finding[] = [];
  private readonly perKind = new Map<ProblemKind, number>();
  readonly truncated: Record<string, number> = {};

  add(kind: ProblemKind, record: number | null, detail: string, where: Partial<Finding> = {}): void {
    const n = (this.perKind.get(kind) ?? 0) + 1;
    this.perKind.set(kind, n);
    if (n > MAX_PER_KIND) {
      this.truncated[kind] = (this.truncated[kind] ?? 0) + 1;
      return;
    }
    this.list.push({ kind, record, detail, ...where });
  }
}

/** One line a problem, like chkdsk: "record 1234 (/Windows/x.sys): torn-record: ...". */
export function formatProblem(p: Problem): string {
  const where =
    p.record === null ? (p.path ?? 'volume') : `record ${p.record}${p.path === null ? '' : ` (${p.path})`}`;
  return `${where}: ${p.kind}: ${p.detail}`;
}

/** "12-15, 40, 97-99" for sorted cluster or record numbers given as [first, count] ranges. */
export function formatRanges(ranges: readonly (readonly [number, number])[], limit = 8): string {
  const shown = ranges
    .slice(0, limit)
    .map(([a, n]) => (n === 1 ? `${a}` : `${a}-${a + n - 1}`))
    .join(', ');
  return ranges.length > limit ? `${shown} and ${ranges.length - limit} more ranges` : shown;
}
