// Recursive listing from a directory: each directory's $I30 tree walked in collation order (its index
// allocation read in one piece), the records of its entries read in batches (nearby records in one device
// read), each record read once. The next directory is fetched while the current one's entries are consumed.
// Damage yields an error item and the walk moves on.
import { WinrescueError, isWinrescueError } from '../../errors.js';
import { ATTR } from './attribute.js';
import {
  parseFileName,
  FILE_NAME_LENGTH_FIELD,
  FILE_NAME_NAME_FIELD,
  FILE_NAME_NAMESPACE_FIELD,
  NAMESPACE,
  NAMESPACE_NAMES,
  type NamespaceName,
} from './attributes/file-name.js';
import { utf16 } from './le.js';
import type { MftRecord } from './mft-record.js';
import type { RecordSummary } from './record-summary.js';
import { MftScan } from './mft-scan.js';
import { ROOT_RECORD } from './mft-map.js';
import { isDirectoryFile, streamInfo, type StreamInfo } from './stat.js';
import { joinPath } from './paths.js';
import type { NtfsVolume } from './volume.js';

/** A directory's index allocation up to this size is read in one piece when listed (a 100k-entry folder's is ~12 MiB). */
const WALK_PRELOAD_LIMIT = 16 * 1024 * 1024;
/** Directories read ahead of the one being listed (each holds its entries' summaries until listed). */
const PREFETCH_DIRECTORIES = 3;

export interface WalkEntry {
  readonly path: string;
  readonly name: string;
  readonly namespace: NamespaceName;
  readonly record: number;
  readonly sequence: number;
  readonly parent: number;
  readonly type: 'file' | 'dir';
  /** Unnamed $DATA size (0 for directories). */
  readonly size: number;
  /** Every $DATA stream, the unnamed one included (name ''). */
  readonly streams: readonly StreamInfo[];
  /** Named indexes other than $I30 ($SII, $SDH, $O, $Q, $R...) with their root sizes. */
  readonly indexes: readonly { name: string; rootSize: number }[];
  /** Size of the $I30 index root value (what sleuthkit reports as a directory's size). */
  readonly indexRootSize: number;
}

export type WalkItem =
  { value: WalkEntry } | { error: WinrescueError; path: string; record?: number; offset?: number };

export interface WalkOptions {
  /** Also report DOS 8.3 names as entries of their own (default false: they repeat the Win32 name). */
  includeDos?: boolean;
  /** Walking from the root reads the whole $MFT in one sequential pass first (default); false: per folder. */
  scan?: boolean;
}

function errorItem(e: unknown, path: string, record?: number): WalkItem {
  const error = isWinrescueError(e)
    ? e
    : new WinrescueError('internal', `walk: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  const off = error.offset === undefined ? undefined : Number(error.offset);
  return {
    error,
    path,
    ...(record !== undefined ? { record } : {}),
    ...(off !== undefined ? { offset: off } : {}),
  };
}

interface Pending {
  name: string;
  namespace: NamespaceName;
  record: number;
  sequence: number;
}

interface DirFrame {
  record: number;
  path: string;
  /** Read in the parent's batch, so no directory record is read twice. */
  base?: MftRecord;
  loading?: Promise<Loaded>;
}

type Loaded =
  | {
      entries: Pending[];
      records: Map<number, { summary: RecordSummary; record?: MftRecord } | WinrescueError>;
    }
  | { error: unknown };

type Fetch = (
  numbers: number[],
) => Promise<Map<number, { summary: RecordSummary; record?: MftRecord } | WinrescueError>>;

/** Summaries from the scan where it has them; the rest (unread or damaged records) read directly. */
function fromScan(vol: NtfsVolume, scan: MftScan): Fetch {
  return async (numbers) => {
    const missing = numbers.filter((n) => !scan.has(n));
    const out = missing.length > 0 ? await vol.readRecordSummaries(missing) : new Map();
    for (const n of numbers) {
      if (!scan.has(n)) continue;
      const summary = scan.summary(n);
      const record = summary.i30RootSize >= 0 ? scan.directory(n) : undefined;
      if (record instanceof WinrescueError) out.set(n, record);
      else out.set(n, record ? { summary, record } : { summary });
    }
    return out;
  };
}

async function loadDirectory(
  vol: NtfsVolume,
  dir: DirFrame,
  options: WalkOptions,
  fetch: Fetch,
): Promise<Loaded> {
  try {
    const file = await vol.file(dir.record, dir.base);
    const tree = await vol.index(file);
    await tree.preload(WALK_PRELOAD_LIMIT);
    const entries: Pending[] = [];
    for (const e of await tree.collectEntries()) {
      // Only the name and namespace of the key are needed: read them without building a FileName object
      // (parseFileName validates, and throws, when the key does not hold a whole name).
      const k = e.key;
      const ref = e.fileReference!;
      if (ref.record === dir.record) continue;
      const namespace = k[FILE_NAME_NAMESPACE_FIELD];
      const units = k[FILE_NAME_LENGTH_FIELD];
      if (
        namespace === undefined ||
        units === undefined ||
        namespace > NAMESPACE.WIN32_AND_DOS ||
        FILE_NAME_NAME_FIELD + 2 * units > k.length
      ) {
        parseFileName(k, dir.record);
        continue;
      }
      if (namespace === NAMESPACE.DOS && !options.includeDos) continue;
      entries.push({
        name: utf16(k, FILE_NAME_NAME_FIELD, 2 * units),
        namespace: NAMESPACE_NAMES[namespace]!,
        record: ref.record,
        sequence: ref.sequence,
      });
    }
    return { entries, records: await fetch(entries.map((e) => e.record)) };
  } catch (error) {
    return { error };
  }
}

function fromSummary(s: RecordSummary, e: Pending, path: string, parent: number): WalkEntry {
  const isDir = s.i30RootSize >= 0;
  return {
    path,
    name: e.name,
    namespace: e.namespace,
    record: e.record,
    sequence: s.sequence,
    parent,
    type: isDir ? 'dir' : 'file',
    size: isDir ? 0 : (s.streams.find((x) => x.name === '')?.size ?? 0),
    streams: s.streams,
    indexes: s.indexes,
    indexRootSize: Math.max(0, s.i30RootSize),
  };
}

/** Records with an attribute list: their attributes are spread over extension records. */
async function fromFile(vol: NtfsVolume, e: Pending, path: string, parent: number): Promise<WalkEntry> {
  const file = await vol.file(e.record);
  const isDir = isDirectoryFile(file);
  const data = file.attributes.find((a) => a.type === ATTR.DATA && a.name === '');
  const i30 = file.attributes.find((a) => a.type === ATTR.INDEX_ROOT && a.name === '$I30');
  return {
    path,
    name: e.name,
    namespace: e.namespace,
    record: e.record,
    sequence: file.base.sequence,
    parent,
    type: isDir ? 'dir' : 'file',
    size: isDir ? 0 : (data?.dataSize ?? 0),
    streams: file.attributes.filter((a) => a.type === ATTR.DATA).map(streamInfo),
    indexes: file.attributes
      .filter((a) => a.type === ATTR.INDEX_ROOT && a.name !== '$I30')
      .map((a) => ({ name: a.name, rootSize: a.dataSize })),
    indexRootSize: i30?.dataSize ?? 0,
  };
}

export async function* walkBatches(
  vol: NtfsVolume,
  rootPath = '/',
  options: WalkOptions = {},
): AsyncGenerator<WalkItem[]> {
  let start;
  try {
    start = await vol.lookup(rootPath);
  } catch (e) {
    yield [errorItem(e, rootPath)];
    return;
  }
  // A listing of the whole volume reads every record anyway: one sequential pass is cheaper than per-folder
  // batches. Below the root, folders' records are fetched in batches as the walk meets them.
  const fetch: Fetch =
    start.record === ROOT_RECORD && options.scan !== false
      ? fromScan(vol, await MftScan.run(vol))
      : (numbers) => vol.readRecordSummaries(numbers);
  const visited = new Set<number>([start.record]);
  const stack: DirFrame[] = [{ record: start.record, path: start.path }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const loaded = await (dir.loading ?? loadDirectory(vol, dir, options, fetch));
    if ('error' in loaded) {
      yield [errorItem(loaded.error, dir.path, dir.record)];
      continue;
    }
    const items: WalkItem[] = [];
    const subdirs: DirFrame[] = [];
    for (const e of loaded.entries) {
      const path = joinPath(dir.path, e.name);
      const got = loaded.records.get(e.record)!;
      if (got instanceof WinrescueError) {
        items.push(errorItem(got, path, e.record));
        continue;
      }
      const rec = got.summary;
      if (!rec.inUse || rec.baseRecord !== 0 || (e.sequence !== 0 && rec.sequence !== e.sequence)) {
        const why = rec.inUse ? `has sequence ${rec.sequence}` : 'is not in use';
        items.push(
          errorItem(
            new WinrescueError(
              'ntfs.badIndex',
              `index entry ${path} points to record ${e.record} sequence ${e.sequence}, but that record ${why}`,
              {
                structure: 'ntfs.index',
                record: dir.record,
                offset: rec.offset,
                expected: e.sequence,
                actual: rec.sequence,
              },
            ),
            path,
            e.record,
          ),
        );
        continue;
      }
      let entry: WalkEntry;
      try {
        entry = rec.hasAttributeList
          ? await fromFile(vol, e, path, dir.record)
          : fromSummary(rec, e, path, dir.record);
      } catch (err) {
        items.push(errorItem(err, path, e.record));
        continue;
      }
      items.push({ value: entry });
      const isDir = entry.type === 'dir';
      if (!isDir) continue;
      if (visited.has(e.record)) {
        items.push(
          errorItem(
            new WinrescueError(
              'ntfs.indexLoop',
              `directory ${path} (record ${e.record}) is reached twice: the directory tree loops`,
              {
                record: e.record,
                structure: 'ntfs.index',
              },
            ),
            path,
            e.record,
          ),
        );
        continue;
      }
      visited.add(e.record);
      subdirs.push({ record: e.record, path, ...(got.record ? { base: got.record } : {}) });
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
    // Start reading the next directories now, so their I/O overlaps with the consumer of this one's entries.
    for (let k = 1; k <= PREFETCH_DIRECTORIES && k <= stack.length; k++) {
      const next = stack[stack.length - k]!;
      next.loading ??= loadDirectory(vol, next, options, fetch);
    }
    yield items;
  }
}

/** One item per name, in the order walkBatches gives them. */
export async function* walkVolume(
  vol: NtfsVolume,
  rootPath = '/',
  options: WalkOptions = {},
): AsyncGenerator<WalkItem> {
  for await (const batch of walkBatches(vol, rootPath, options)) yield* batch;
}
