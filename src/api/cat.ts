// `cat`: the bytes of one file's data stream, handed out in chunks so a multi-GiB file never sits in memory.
import { openVolume, type OpenVolumeOptions } from './open-volume.js';

/** Big enough that a System32 folder's worth of drivers is a handful of reads, small enough to stay cheap. */
export const CAT_CHUNK_BYTES = 4 * 1024 * 1024;

export interface CatOptions extends OpenVolumeOptions {
  /** Named $DATA stream ('' or absent = the file's contents). */
  stream?: string;
}

/**
 * Reads `path` (its unnamed stream, or `stream`) and gives each chunk to `sink` in order, awaiting it (so a
 * slow consumer paces the reads). `sink` returning false stops early (the reader went away). Returns the
 * number of bytes handed over.
 */
export async function cat(
  diskPath: string,
  path: string,
  sink: (chunk: Uint8Array) => Promise<boolean>,
  options: CatOptions = {},
): Promise<number> {
  const opened = await openVolume(diskPath, options);
  try {
    const vol = opened.volume;
    const ref = await vol.lookup(path);
    const stream = await vol.openStream(ref.record, options.stream ?? '');
    let done = 0;
    while (done < stream.size) {
      const chunk = await stream.read(done, Math.min(CAT_CHUNK_BYTES, stream.size - done));
      if (chunk.length === 0) break;
      done += chunk.length;
      if (!(await sink(chunk))) break;
    }
    return done;
  } finally {
    await opened.close();
  }
}
