// The entries of a directory whose names start with a prefix, found by walking the $I30 B+ tree only where the
// prefix sorts (flatcap linux-ntfs concepts/index_record.html; collation by $UpCase, collation.ts). A component
// family's few WinSxS folders cost a few index blocks instead of the megabytes of a 20,000-entry listing.
import { WinrescueError } from '../../errors.js';
import { NAMESPACE, parseFileName } from './attributes/file-name.js';
import { FILE_ATTRIBUTE } from './attributes/standard-information.js';
import { compareFileNames, toUnits } from './collation.js';
import type { IndexNode } from './index-node.js';
import { MAX_INDEX_DEPTH } from './index-tree.js';
import type { NtfsVolume } from './volume.js';

export interface PrefixEntry {
  readonly name: string;
  readonly record: number;
  readonly isDir: boolean;
}

/** Entries of directory `dirRecord` whose long name starts with `prefix` (case-insensitive), in collation order. */
export async function entriesWithPrefix(
  vol: NtfsVolume,
  dirRecord: number,
  prefix: string,
): Promise<PrefixEntry[]> {
  const upcase = await vol.upcase();
  const tree = await vol.index(await vol.file(dirRecord));
  const want = toUnits(prefix);
  const out: PrefixEntry[] = [];
  // <0: sorts before every name with the prefix; 0: has it; >0: after them all (collation is by upcased units).
  const where = (units: Uint16Array) => compareFileNames(units.subarray(0, want.length), want, upcase);
  const walk = async (node: IndexNode, depth: number): Promise<boolean> => {
    for (const e of node.entries) {
      const fn = e.last ? null : parseFileName(e.key, dirRecord);
      const w = fn === null ? 0 : where(fn.units);
      // A child holds the names between the previous entry and this one: none in range if this one is before.
      if (e.childVcn !== null && w >= 0) {
        if (depth >= MAX_INDEX_DEPTH)
          throw new WinrescueError(
            'ntfs.indexLoop',
            `directory record ${dirRecord}: index deeper than ${MAX_INDEX_DEPTH}`,
            {
              record: dirRecord,
            },
          );
        if (await walk(await tree.child(e.childVcn), depth + 1)) return true;
      }
      if (fn === null || w > 0) return w > 0;
      if (w === 0 && fn.namespace !== NAMESPACE.DOS && e.fileReference) {
        const isDir = (fn.fileAttributes & FILE_ATTRIBUTE.DUP_FILE_NAME_INDEX_PRESENT) !== 0;
        out.push({ name: fn.name, record: e.fileReference.record, isDir });
      }
    }
    return false;
  };
  await walk(tree.rootNode, 0);
  return out;
}
