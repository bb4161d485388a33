// Recursive listing from a directory: each directory's $I30 tree walked in collation order, the records of
// its entries read in batches (nearby records in one device read), each record read once. Damage yields an
// error item and the walk moves on.
import { WinrescueError, isWinrescueError } from '../../errors.js';
import { ATTR } from './attribute.js';
import { parseFileName, NAMESPACE, type NamespaceName } from './attributes/file-name.js';
import type { MftRecord } from './mft-record.js';
import { isDirectoryFile, streamInfo, type StreamInfo } from './stat.js';
import { joinPath } from './paths.js';
import type { NtfsVolume } from './volume.js';

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

export async function* walkVolume(
  vol: NtfsVolume,
  rootPath = '/',
  options: WalkOptions = {},
): AsyncGenerator<WalkItem> {
  let start;
  try {
    start = await vol.lookup(rootPath);
  } catch (e) {
    yield errorItem(e, rootPath);
    return;
  }
  const visited = new Set<number>([start.record]);
  const stack: { record: number; path: string }[] = [{ record: start.record, path: start.path }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    type Pending = {
      name: string;
      namespace: NamespaceName;
      record: number;
      sequence: number;
      parent: number;
    };
    const entries: Pending[] = [];
    try {
      const file = await vol.file(dir.record);
      const tree = await vol.index(file);
      for await (const e of tree.entries()) {
        const fn = parseFileName(e.key, dir.record);
        if (fn.namespace === NAMESPACE.DOS && !options.includeDos) continue;
        const ref = e.fileReference!;
        if (ref.record === dir.record) continue;
        entries.push({
          name: fn.name,
          namespace: fn.namespaceName,
          record: ref.record,
          sequence: ref.sequence,
          parent: dir.record,
        });
      }
    } catch (e) {
      yield errorItem(e, dir.path, dir.record);
      continue;
    }
    const records = await vol.readRecords(entries.map((e) => e.record));
    const subdirs: { record: number; path: string }[] = [];
    for (const e of entries) {
      const path = joinPath(dir.path, e.name);
      const rec = records.get(e.record)!;
      if (!(rec as MftRecord).attributes) {
        yield errorItem(rec, path, e.record);
        continue;
      }
      const base = rec as MftRecord;
      if (
        !base.inUse ||
        base.baseReference.record !== 0 ||
        (e.sequence !== 0 && base.sequence !== e.sequence)
      ) {
        yield errorItem(
          new WinrescueError(
            'ntfs.badIndex',
            `index entry ${path} points to record ${e.record} sequence ${e.sequence}, but that record ${base.inUse ? `has sequence ${base.sequence}` : 'is not in use'}`,
            {
              structure: 'ntfs.index',
              record: dir.record,
              offset: base.offset,
              expected: e.sequence,
              actual: base.sequence,
            },
          ),
          path,
          e.record,
        );
        continue;
      }
      let file;
      try {
        file = await vol.file(e.record, base);
      } catch (err) {
        yield errorItem(err, path, e.record);
        continue;
      }
      const isDir = isDirectoryFile(file);
      const data = file.attributes.find((a) => a.type === ATTR.DATA && a.name === '');
      const i30 = file.attributes.find((a) => a.type === ATTR.INDEX_ROOT && a.name === '$I30');
      yield {
        value: {
          path,
          name: e.name,
          namespace: e.namespace,
          record: e.record,
          sequence: base.sequence,
          parent: e.parent,
          type: isDir ? 'dir' : 'file',
          size: isDir ? 0 : (data?.dataSize ?? 0),
          streams: file.attributes.filter((a) => a.type === ATTR.DATA).map(streamInfo),
          indexes: file.attributes
            .filter((a) => a.type === ATTR.INDEX_ROOT && a.name !== '$I30')
            .map((a) => ({ name: a.name, rootSize: a.dataSize })),
          indexRootSize: i30?.dataSize ?? 0,
        },
      };
      if (isDir) {
        if (visited.has(e.record)) {
          yield errorItem(
            new WinrescueError(
              'ntfs.indexLoop',
              `directory ${path} (record ${e.record}) is reached twice: the directory tree loops`,
              { record: e.record, structure: 'ntfs.index' },
            ),
            path,
            e.record,
          );
          continue;
        }
        visited.add(e.record);
        subdirs.push({ record: e.record, path });
      }
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
}
