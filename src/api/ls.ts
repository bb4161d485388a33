// `ls`: the entries of a folder (or a whole subtree) of the chosen NTFS volume, with record numbers and sizes.
import type { NtfsVolume, WalkItem } from '../fs/ntfs/index.js';
import { openVolume, type OpenVolumeOptions } from './open-volume.js';

export interface LsEntry {
  /** From the volume root, '/'-separated, case as stored. */
  path: string;
  record: number;
  type: 'file' | 'dir';
  /** Unnamed $DATA size from the file record (0 for directories). */
  size: number;
}

export interface LsError {
  path: string;
  record?: number;
  code: string;
  message: string;
}

export interface LsOptions extends OpenVolumeOptions {
  recursive?: boolean;
}

export interface LsResult {
  partition: number | null;
  entries: LsEntry[];
  errors: LsError[];
  warnings: string[];
}

export type LsBatch = { entries: LsEntry[]; errors: LsError[] };

/**
 * The listing in batches (one per folder). A file lists itself; a folder lists its children, or with
 * `recursive` its whole subtree (from the root this is one sequential pass over $MFT). A missing path
 * throws `ntfs.notFound`; damage met further down becomes an error in the batch and the listing continues.
 */
export async function* lsBatches(
  vol: NtfsVolume,
  path: string,
  options: { recursive?: boolean } = {},
): AsyncGenerator<LsBatch> {
  const ref = await vol.lookup(path);
  if (!ref.isDir) {
    const st = await vol.stat(ref.record, { paths: false });
    yield { entries: [{ path: ref.path, record: ref.record, type: st.type, size: st.size }], errors: [] };
    return;
  }
  // Below the root the per-folder fetch reads only what is listed; from the root a full scan pays off only
  // when the whole tree is wanted.
  const walker = vol.walkBatches(ref.path, options.recursive ? {} : { scan: false });
  try {
    for await (const items of walker) {
      yield toBatch(items);
      if (!options.recursive) break;
    }
  } finally {
    await walker.return(undefined);
  }
}

function toBatch(items: readonly WalkItem[]): LsBatch {
  const batch: LsBatch = { entries: [], errors: [] };
  for (const it of items) {
    if ('error' in it) {
      batch.errors.push({
        path: it.path,
        ...(it.record !== undefined ? { record: it.record } : {}),
        code: it.error.code,
        message: it.error.message,
      });
    } else {
      const v = it.value;
      batch.entries.push({ path: v.path, record: v.record, type: v.type, size: v.size });
    }
  }
  return batch;
}

export async function ls(diskPath: string, path: string, options: LsOptions = {}): Promise<LsResult> {
  const opened = await openVolume(diskPath, options);
  try {
    const result: LsResult = {
      partition: opened.partition,
      entries: [],
      errors: [],
      warnings: opened.warnings,
    };
    for await (const b of lsBatches(opened.volume, path, options)) {
      for (const e of b.entries) result.entries.push(e);
      for (const e of b.errors) result.errors.push(e);
    }
    return result;
  } finally {
    await opened.close();
  }
}
