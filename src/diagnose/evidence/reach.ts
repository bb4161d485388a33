// Can the boot loader's NTFS reader reach a file? The same steps it takes — the parent directory, the $I30
// entry, the MFT record (fixups), its attributes and attribute list, the runlist, the data — each one a place
// where STATUS_FILE_CORRUPT_ERROR (0xC0000102) comes from (REFERENCE.md §1.5, flatcap linux-ntfs concepts/).
// Only the records and clusters of this one file and its directories are read: no volume-wide scan.
import { WinrescueError, isWinrescueError } from '../../errors.js';
import { NAMESPACE, type NtfsVolume } from '../../fs/ntfs/index.js';
import { salvageRecord } from '../../fs/ntfs/salvage.js';
import type { FatVolume } from '../../fs/fat/index.js';

export type StructureFaultKind =
  | 'torn-record' // update sequence array does not match a stride's end: a torn or garbled write
  | 'bad-record' // FILE header, sizes or record number wrong
  | 'bad-attribute' // an attribute header runs outside the record or is malformed
  | 'bad-attribute-list' // $ATTRIBUTE_LIST entries or the records they name are broken
  | 'bad-runlist' // the data runs cannot be decoded or point outside the volume
  | 'dangling-index-entry' // the directory names a record that is free or has moved on
  | 'bad-index' // the directory's own index is damaged
  | 'unreadable'; // anything else the NTFS reader rejected

export interface StructureFault {
  readonly kind: StructureFaultKind;
  /** The MFT record at fault (the file's, or the directory's for index faults). */
  readonly record: number | null;
  /** A dangling entry's own record number: the free or reused record the directory still names. */
  readonly entryRecord?: number;
  /** The reader's error code and message, as evidence. */
  readonly code: string;
  readonly detail: string;
}

export type Reach =
  | {
      readonly status: 'ok';
      /** Null on FAT, which has no file records. */
      readonly record: number | null;
      readonly sequence: number;
      /** Every hard-link name of the record, '/'-separated from the volume root. */
      readonly names: readonly string[];
      readonly bytes: Uint8Array;
    }
  | { readonly status: 'missing'; readonly detail: string }
  | { readonly status: 'unsupported'; readonly record: number; readonly detail: string }
  | { readonly status: 'structure'; readonly fault: StructureFault; readonly names: readonly string[] };

/** Boot files are megabytes; a "file" claiming more is read no further than this. */
const MAX_READ = 512 * 1024 * 1024;

function kindOf(e: WinrescueError): StructureFaultKind {
  if (e.structure === 'ntfs.attributeList') return 'bad-attribute-list';
  switch (e.code) {
    case 'ntfs.tornRecord':
      return 'torn-record';
    case 'ntfs.badRecord':
      return 'bad-record';
    case 'ntfs.badAttribute':
      return 'bad-attribute';
    case 'ntfs.badRunlist':
    case 'disk.outOfRange':
      return 'bad-runlist';
    case 'ntfs.badIndex':
    case 'ntfs.indexLoop':
      return 'bad-index';
    default:
      return 'unreadable';
  }
}

function fault(e: WinrescueError, record: number | null, kind = kindOf(e)): StructureFault {
  return { kind, record: e.record ?? record, code: e.code, detail: e.message };
}

function split(path: string): { dir: string; name: string } {
  const parts = path.split(/[\\/]+/).filter((p) => p !== '');
  const name = parts.pop() ?? '';
  return { dir: '/' + parts.join('/'), name };
}

/** Hard-link names of a record; from what survives of its $FILE_NAME attributes when it cannot be opened. */
async function namesOf(vol: NtfsVolume, record: number): Promise<string[]> {
  try {
    const st = await vol.stat(record, { paths: true });
    return st.names.filter((n) => n.namespace !== 'dos').map((n) => n.path ?? n.name);
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
  }
  try {
    const raw = await vol.readMftBytes(record, 1);
    const out: string[] = [];
    for (const fn of salvageRecord(raw, record, vol.boot.totalClusters).names) {
      if (fn.namespace === NAMESPACE.DOS) continue;
      const parent = await vol.stat(fn.parent.record, { paths: true });
      const dir = parent.names.find((n) => n.path !== undefined)?.path;
      out.push(dir === undefined ? fn.name : `${dir === '/' ? '' : dir}/${fn.name}`);
    }
    return out;
  } catch (e) {
    if (isWinrescueError(e)) return [];
    throw e;
  }
}

/** Walks to `path` the way the loader does and reads its data; a typed verdict, never a throw for damage. */
export async function reachFile(vol: NtfsVolume, path: string): Promise<Reach> {
  const { dir, name } = split(path);
  let dirRecord: number | null = null;
  try {
    const parent = await vol.lookup(dir);
    dirRecord = parent.record;
    const dirFile = await vol.file(parent.record);
    const hit = await vol.findInDirectory(dirFile, name);
    if (!hit) return { status: 'missing', detail: `${dir} has no entry "${name}"` };
    let base;
    try {
      base = await vol.readRecord(hit.record);
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      return { status: 'structure', fault: fault(e, hit.record), names: await namesOf(vol, hit.record) };
    }
    if (!base.inUse || (hit.sequence !== 0 && base.sequence !== hit.sequence)) {
      return {
        status: 'structure',
        fault: {
          kind: 'dangling-index-entry',
          record: parent.record,
          entryRecord: hit.record,
          code: 'ntfs.badIndex',
          detail: `the entry "${hit.entry.name}" in directory record ${parent.record} names record ${hit.record} sequence ${hit.sequence}, but that record ${base.inUse ? `has sequence ${base.sequence}` : 'is not in use'}`,
        },
        names: [],
      };
    }
    let bytes: Uint8Array;
    try {
      const stream = await vol.openStream(hit.record);
      if (stream.size > MAX_READ) {
        throw new WinrescueError(
          'ntfs.badAttribute',
          `record ${hit.record} claims ${stream.size} bytes of data`,
          {
            record: hit.record,
            structure: 'ntfs.attribute',
            expected: `<= ${MAX_READ}`,
            actual: stream.size,
          },
        );
      }
      bytes = await stream.readAll();
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      if (e.code === 'ntfs.unsupported')
        return { status: 'unsupported', record: hit.record, detail: e.message };
      return { status: 'structure', fault: fault(e, hit.record), names: await namesOf(vol, hit.record) };
    }
    return {
      status: 'ok',
      record: hit.record,
      sequence: base.sequence,
      names: await namesOf(vol, hit.record),
      bytes,
    };
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    if (e.code === 'ntfs.notFound' || e.code === 'ntfs.notADirectory')
      return { status: 'missing', detail: e.message };
    return { status: 'structure', fault: fault(e, dirRecord), names: [] };
  }
}

/** The ESP's files: FAT has no records to tear, so any read error is the directory or the chain at fault. */
export async function reachFatFile(fat: FatVolume, path: string): Promise<Reach> {
  const p = path.replaceAll('\\', '/');
  try {
    if (!(await fat.lookup(p))) return { status: 'missing', detail: `no ${path} on the FAT volume` };
    return { status: 'ok', record: null, sequence: 0, names: [p], bytes: await fat.readFile(p) };
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    return {
      status: 'structure',
      fault: { kind: 'unreadable', record: null, code: e.code, detail: e.message },
      names: [],
    };
  }
}
