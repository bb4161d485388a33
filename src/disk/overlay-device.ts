// Copy-on-write over another device: writes land in memory pages, reads see them; the base is untouched until
// commit(). A dry run is an overlay never committed; a repair over a read-only source hands back diff().
import { type BlockDevice, checkDeviceRange } from './block-device.js';

/** Granularity of the copy: one page read from the base the first time any byte of it is written. */
const PAGE_SIZE = 4096;

export interface Extent {
  offset: number;
  data: Uint8Array;
}

export class OverlayDevice implements BlockDevice {
  readonly readOnly = false;
  private readonly pages = new Map<number, Uint8Array>();

  constructor(readonly base: BlockDevice) {}

  get size(): number {
    return this.base.size;
  }
  get sectorSize(): number {
    return this.base.sectorSize;
  }
  get description(): string {
    return `${this.base.description} (overlay)`;
  }

  /** Number of pages written so far. */
  get pageCount(): number {
    return this.pages.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkDeviceRange(this, offset, length);
    if (this.pages.size === 0) return this.base.read(offset, length);
    const out = new Uint8Array(length);
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const index = Math.floor(pos / PAGE_SIZE);
      const page = this.pages.get(index);
      if (page) {
        const inPage = pos - index * PAGE_SIZE;
        const n = Math.min(page.length - inPage, end - pos);
        out.set(page.subarray(inPage, inPage + n), pos - offset);
        pos += n;
        continue;
      }
      // Gather the longest run of untouched pages into one base read.
      let runEnd = Math.min(end, (index + 1) * PAGE_SIZE);
      while (runEnd < end && !this.pages.has(Math.floor(runEnd / PAGE_SIZE))) {
        runEnd = Math.min(end, runEnd + PAGE_SIZE);
      }
      out.set(await this.base.read(pos, runEnd - pos), pos - offset);
      pos = runEnd;
    }
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    checkDeviceRange(this, offset, data.length);
    let pos = offset;
    const end = offset + data.length;
    while (pos < end) {
      const index = Math.floor(pos / PAGE_SIZE);
      const pageStart = index * PAGE_SIZE;
      let page = this.pages.get(index);
      if (!page) {
        page = await this.base.read(pageStart, Math.min(PAGE_SIZE, this.size - pageStart));
        this.pages.set(index, page);
      }
      const inPage = pos - pageStart;
      const n = Math.min(page.length - inPage, end - pos);
      page.set(data.subarray(pos - offset, pos - offset + n), inPage);
      pos += n;
    }
  }

  /** The ranges that differ from the base, coalesced and trimmed to changed bytes, in ascending order. */
  async diff(): Promise<Extent[]> {
    const out: Extent[] = [];
    const indexes = [...this.pages.keys()].sort((a, b) => a - b);
    for (const index of indexes) {
      const page = this.pages.get(index)!;
      const original = await this.base.read(index * PAGE_SIZE, page.length);
      let i = 0;
      while (i < page.length) {
        if (page[i] === original[i]) {
          i++;
          continue;
        }
        let j = i;
        while (j < page.length && page[j] !== original[j]) j++;
        const offset = index * PAGE_SIZE + i;
        const last = out[out.length - 1];
        if (last && last.offset + last.data.length === offset) {
          const merged = new Uint8Array(last.data.length + (j - i));
          merged.set(last.data);
          merged.set(page.subarray(i, j), last.data.length);
          last.data = merged;
        } else {
          out.push({ offset, data: page.slice(i, j) });
        }
        i = j;
      }
    }
    return out;
  }

  /** Writes every changed range into `target` (the base by default) and forgets the overlay. */
  async commit(target: BlockDevice = this.base): Promise<Extent[]> {
    const extents = await this.diff();
    for (const e of extents) await target.write(e.offset, e.data);
    await target.flush();
    this.pages.clear();
    return extents;
  }

  discard(): void {
    this.pages.clear();
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.pages.clear();
  }
}
