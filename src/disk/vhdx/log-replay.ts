// VHDX log sequence and replay, [MS-VHDX] §2.3.2 and §2.3.3: find the newest valid and complete sequence (the
// "active sequence") by the scan the specification lays out, then apply its entries' descriptors in order from the
// tail entry, and make the file at least LastFileOffset long. Applied either to the file itself (writable open) or
// to an in-memory view of it (read-only open, footnote 5 of §2.3.3).
import { WinrescueError, hex } from '../../errors.js';
import type { ImageFile } from '../block-device.js';
import { readOnlyError } from '../block-device.js';
import { LOG_SECTOR_SIZE, REGION_TABLE_OFFSETS } from './constants.js';
import { type LogEntry, type LogWrite, checkLogEntry } from './log-entry.js';

export interface ActiveSequence {
  /** Tail entry first, head entry last. */
  readonly entries: readonly LogEntry[];
  readonly head: LogEntry;
}

/** §2.3.3 steps 1-7. Undefined when the log holds no valid sequence. */
export function findActiveSequence(log: Uint8Array, logGuid: string): ActiveSequence | undefined {
  const cache = new Map<number, LogEntry | undefined>();
  const entryAt = (pos: number): LogEntry | undefined => {
    if (!cache.has(pos)) {
      const r = checkLogEntry(log, pos, logGuid);
      cache.set(pos, 'entry' in r ? r.entry : undefined);
    }
    return cache.get(pos);
  };
  let candidate: ActiveSequence | undefined;
  let currentTail = 0;
  let oldTail = 0;
  // Each round moves the tail forward by at least one sector, so the scan ends within one pass of the ring.
  for (let round = 0; round <= log.length / LOG_SECTOR_SIZE; round++) {
    const current: LogEntry[] = [];
    let head = currentTail;
    let covered = 0;
    while (covered < log.length) {
      const e = entryAt(head);
      if (!e) break;
      const last = current[current.length - 1];
      if (last && e.sequenceNumber !== last.sequenceNumber + 1n) break;
      current.push(e);
      covered += e.entryLength;
      head = (head + e.entryLength) % log.length;
    }
    const headEntry = current[current.length - 1];
    const tailIndex = headEntry ? current.findIndex((e) => e.position === headEntry.tail) : -1;
    const valid = headEntry !== undefined && tailIndex >= 0;
    if (valid && (!candidate || headEntry.sequenceNumber > candidate.head.sequenceNumber)) {
      candidate = { entries: current.slice(tailIndex), head: headEntry };
    }
    if (!valid) {
      currentTail += LOG_SECTOR_SIZE;
      if (currentTail >= log.length) currentTail = 0;
    } else {
      currentTail = head;
    }
    if (currentTail < oldTail) break;
    oldTail = currentTail;
  }
  return candidate;
}

/** The writes of a sequence in replay order; refuses writes into the file identifier or the headers. */
export function sequenceWrites(seq: ActiveSequence, name: string): LogWrite[] {
  const writes: LogWrite[] = [];
  for (const e of seq.entries) {
    for (const w of e.writes) {
      // §2.2.1 and §2.2.2: the identifier is never rewritten and headers are never updated through the log.
      if (w.fileOffset < REGION_TABLE_OFFSETS[0] && w.length > 0) {
        throw new WinrescueError(
          'disk.badField',
          `VHDX ${name}: log entry ${e.sequenceNumber} at log offset ${hex(e.position)} writes to ${hex(w.fileOffset)}, inside the file identifier or headers`,
          {
            offset: w.fileOffset,
            structure: 'vhdx.log',
            expected: `>= ${hex(REGION_TABLE_OFFSETS[0])}`,
            actual: w.fileOffset,
          },
        );
      }
      writes.push(w);
    }
  }
  return writes;
}

/** Applies the writes to the file itself, then extends it to `minSize`. The caller flushes. */
export async function applyLogWrites(
  file: ImageFile,
  writes: readonly LogWrite[],
  minSize: number,
): Promise<void> {
  const ZERO_CHUNK = 1 << 20;
  for (const w of writes) {
    if (w.data) {
      await file.write(w.fileOffset, w.data);
      continue;
    }
    for (let done = 0; done < w.length; done += ZERO_CHUNK) {
      await file.write(w.fileOffset + done, new Uint8Array(Math.min(ZERO_CHUNK, w.length - done)));
    }
  }
  if (file.size < minSize) await file.truncate(minSize);
}

/**
 * A read-only view of an image file with a log replayed in memory: reads see the file as replay would leave it,
 * the file itself is never touched.
 */
export class ReplayedImageFile implements ImageFile {
  readonly readOnly = true;
  readonly size: number;

  constructor(
    private readonly base: ImageFile,
    private readonly writes: readonly LogWrite[],
    minSize: number,
  ) {
    this.size = writes.reduce((n, w) => Math.max(n, w.fileOffset + w.length), Math.max(base.size, minSize));
  }

  get path(): string {
    return this.base.path;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset + length > this.size) {
      throw new WinrescueError(
        'disk.truncated',
        `${this.path}: file ends at ${this.size}, needed ${offset + length}`,
        {
          offset: this.size,
          expected: offset + length,
          actual: this.size,
        },
      );
    }
    const fromBase = Math.max(0, Math.min(length, this.base.size - offset));
    const out = new Uint8Array(length);
    if (fromBase > 0) out.set(await this.base.read(offset, fromBase), 0);
    const end = offset + length;
    for (const w of this.writes) {
      const start = Math.max(offset, w.fileOffset);
      const stop = Math.min(end, w.fileOffset + w.length);
      if (start >= stop) continue;
      if (w.data) out.set(w.data.subarray(start - w.fileOffset, stop - w.fileOffset), start - offset);
      else out.fill(0, start - offset, stop - offset);
    }
    return out;
  }

  async write(offset: number): Promise<void> {
    throw readOnlyError({ description: this.path }, offset);
  }

  async truncate(length: number): Promise<void> {
    throw readOnlyError({ description: this.path }, length);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    await this.base.close();
  }
}
