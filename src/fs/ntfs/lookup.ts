// Path lookup as Windows does it: from the root, each component found by descending the directory's $I30
// B+ tree by COLLATION_FILENAME (flatcap linux-ntfs ntfs/concepts/collation.html), case-insensitive through
// the volume's $UpCase, exact case preferred; the entry's sequence number must match the record it names.
import { WinrescueError } from '../../errors.js';
import { ATTR } from './attribute.js';
import { compareFileNames, equalUnits, toUnits } from './collation.js';
import { findAttribute, type NtfsFile } from './file-record.js';
import { parseFileName, type FileName } from './attributes/file-name.js';
import { ROOT_RECORD } from './mft-map.js';
import { joinPath, splitPath } from './paths.js';
import type { NtfsFileRef, NtfsVolume } from './volume.js';

/** Path components deeper than this are refused (Windows paths are at most 32,767 characters). */
const MAX_PATH_COMPONENTS = 16384;

/** Finds `name` in directory `dir` by walking its $I30 B+ tree (case-insensitive, exact case preferred). */
export async function findInDirectory(
  vol: NtfsVolume,
  dir: NtfsFile,
  name: string,
): Promise<{ entry: FileName; record: number; sequence: number } | null> {
  const upcase = await vol.upcase();
  const tree = await vol.index(dir);
  const units = toUnits(name);
  type Hit = { entry: FileName; record: number; sequence: number };
  let exact = null as Hit | null;
  let loose = null as Hit | null;
  // The comparator records every case-insensitive match met on the way; an exact-case match wins.
  await tree.find((e) => {
    const fn = parseFileName(e.key, dir.record);
    const c = compareFileNames(units, fn.units, upcase);
    if (c === 0) {
      const hit = { entry: fn, record: e.fileReference!.record, sequence: e.fileReference!.sequence };
      if (equalUnits(units, fn.units)) exact = hit;
      else loose ??= hit;
      return exact ? 0 : 1;
    }
    return c;
  });
  return exact ?? loose;
}

/** Resolves a path ('/' or '\\' separated, case-insensitive) from the root directory. */
export async function lookupPath(vol: NtfsVolume, path: string): Promise<NtfsFileRef> {
  const parts = splitPath(path);
  if (parts.length > MAX_PATH_COMPONENTS)
    throw new WinrescueError('ntfs.notFound', `path has ${parts.length} components`, { path });
  let file = await vol.file(ROOT_RECORD);
  let ref: NtfsFileRef = {
    record: ROOT_RECORD,
    sequence: file.base.sequence,
    path: '/',
    name: '',
    isDir: true,
  };
  for (const [i, part] of parts.entries()) {
    if (!findAttribute(file, ATTR.INDEX_ROOT, '$I30')) {
      throw new WinrescueError('ntfs.notADirectory', `${ref.path} is not a directory`, {
        path: ref.path,
        record: ref.record,
      });
    }
    const hit = await findInDirectory(vol, file, part);
    if (!hit) {
      throw new WinrescueError(
        'ntfs.notFound',
        `${joinPath(ref.path, part)} not found${i < parts.length - 1 ? '' : ''}`,
        {
          path: joinPath(ref.path, part),
          record: ref.record,
        },
      );
    }
    const base = await vol.readRecord(hit.record);
    if (!base.inUse || (hit.sequence !== 0 && base.sequence !== hit.sequence)) {
      throw new WinrescueError(
        'ntfs.badIndex',
        `index entry "${hit.entry.name}" in record ${ref.record} points to record ${hit.record} sequence ${hit.sequence}, but that record ${base.inUse ? `has sequence ${base.sequence}` : 'is not in use'}`,
        {
          structure: 'ntfs.index',
          record: ref.record,
          offset: base.offset,
          expected: hit.sequence,
          actual: base.sequence,
        },
      );
    }
    file = await vol.file(hit.record, base);
    ref = {
      record: hit.record,
      sequence: base.sequence,
      path: joinPath(ref.path, hit.entry.name),
      name: hit.entry.name,
      isDir: findAttribute(file, ATTR.INDEX_ROOT, '$I30') !== undefined,
    };
  }
  return ref;
}
