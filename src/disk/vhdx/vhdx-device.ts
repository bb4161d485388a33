// The virtual disk of a VHDX file, [MS-VHDX] §2.4-§2.5: reads map each virtual byte through the BAT (payload block
// states §2.5.1.1, sector bitmaps §2.4 for differencing files); writes fill allocated blocks in place and append
// new 1 MiB-aligned blocks, updating the headers first (§2.2.2.1). All I/O goes through the ImageFile.
import { WinrescueError } from '../../errors.js';
import { ZERO_GUID } from '../../util/bytes.js';
import { type BlockDevice, type ImageFile, checkDeviceRange, readOnlyError } from '../block-device.js';
import {
  BAT_ENTRY_SIZE,
  type BatGeometry,
  BitmapState,
  PayloadState,
  batEntryError,
  bitmapEntryIndex,
  decodeBatEntry,
  encodeBatEntry,
  payloadEntryIndex,
} from './bat.js';
import { MIB, OBJECT_ALIGNMENT } from './constants.js';
import { updateHeaders } from './header-update.js';
import { type VhdxHeader, newGuid } from './header.js';
import type { VhdxMetadata } from './metadata-items.js';

export type VhdxFormat = 'vhdx' | 'vhdx-differencing';
export type VhdxSubformat = 'fixed' | 'dynamic' | 'differencing';

/** What openVhdx hands the device once every structure has been read and checked. */
export interface VhdxDeviceInit {
  readonly file: ImageFile;
  readonly name: string;
  readonly readOnly: boolean;
  readonly header: VhdxHeader;
  readonly metadata: VhdxMetadata;
  readonly geometry: BatGeometry;
  readonly batOffset: number;
  readonly bat: Uint8Array;
  readonly batProblems: ReadonlyMap<number, string>;
  readonly parent: BlockDevice | undefined;
  readonly creator: string;
  readonly warnings: readonly string[];
  /** True when this session already gave the file a new FileWriteGuid (log replay). */
  readonly fileWriteGuidChanged: boolean;
}

type Segment =
  | { readonly kind: 'file'; readonly at: number; readonly pos: number; len: number }
  | { readonly kind: 'parent'; readonly at: number; readonly pos: number; len: number }
  | { readonly kind: 'zero'; readonly pos: number; len: number };

export class VhdxDevice implements BlockDevice {
  readonly format: VhdxFormat;
  readonly subformat: VhdxSubformat;
  readonly size: number;
  /** The logical sector size. */
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  readonly blockSize: number;
  readonly readOnly: boolean;
  readonly description: string;
  readonly virtualDiskId: string | undefined;
  readonly creator: string;
  /** Damage found and worked around while opening (a bad header or region table copy, bad BAT entries). */
  readonly warnings: string[];

  private header: VhdxHeader;
  private headerUpdated = false;
  private fileWriteGuidChanged: boolean;
  private readonly file: ImageFile;
  private readonly name: string;
  private readonly g: BatGeometry;
  private readonly bat: Uint8Array;
  private readonly batOffset: number;
  private readonly batProblems: ReadonlyMap<number, string>;
  private readonly parent: BlockDevice | undefined;
  private readonly bitmapCache = new Map<number, Uint8Array>();
  private writing: Promise<void> = Promise.resolve();

  constructor(init: VhdxDeviceInit) {
    const m = init.metadata;
    this.file = init.file;
    this.name = init.name;
    this.readOnly = init.readOnly;
    this.header = init.header;
    this.fileWriteGuidChanged = init.fileWriteGuidChanged;
    this.g = init.geometry;
    this.bat = init.bat;
    this.batOffset = init.batOffset;
    this.batProblems = init.batProblems;
    this.parent = init.parent;
    this.size = m.virtualDiskSize;
    this.sectorSize = m.logicalSectorSize;
    this.physicalSectorSize = m.physicalSectorSize;
    this.blockSize = m.blockSize;
    this.virtualDiskId = m.virtualDiskId;
    this.creator = init.creator;
    this.warnings = [...init.warnings];
    this.format = m.hasParent ? 'vhdx-differencing' : 'vhdx';
    this.subformat = m.hasParent ? 'differencing' : m.leaveBlockAllocated ? 'fixed' : 'dynamic';
    this.description = `${this.subformat} VHDX ${init.name}`;
  }

  /** The current header's DataWriteGuid: what a child's parent_linkage names. */
  get dataWriteGuid(): string {
    return this.header.dataWriteGuid;
  }

  get fileWriteGuid(): string {
    return this.header.fileWriteGuid;
  }

  get sequenceNumber(): bigint {
    return this.header.sequenceNumber;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkDeviceRange(this, offset, length);
    const segments = await this.plan(offset, length);
    const only = segments[0];
    if (segments.length === 1 && only && only.kind === 'file') return this.file.read(only.at, only.len);
    const out = new Uint8Array(length);
    for (const s of segments) {
      if (s.kind === 'file') out.set(await this.file.read(s.at, s.len), s.pos);
      else if (s.kind === 'parent') out.set(await this.readParent(s.at, s.len), s.pos);
    }
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw readOnlyError(this, offset);
    checkDeviceRange(this, offset, data.length);
    if (data.length === 0) return;
    // One write at a time: two writes racing into one unallocated block would each append a block for it.
    const mine = this.writing.then(() => this.writeNow(offset, data));
    this.writing = mine.catch(() => undefined);
    return mine;
  }

  private async writeNow(offset: number, data: Uint8Array): Promise<void> {
    await this.beginWriting();
    const bs = this.g.blockSize;
    let pos = offset;
    const end = offset + data.length;
    while (pos < end) {
      const block = Math.floor(pos / bs);
      const inBlock = pos - block * bs;
      const n = Math.min(bs - inBlock, end - pos);
      const chunk = data.subarray(pos - offset, pos - offset + n);
      const index = payloadEntryIndex(block, this.g.chunkRatio);
      const e = this.entry(index);
      if (e.state === PayloadState.fullyPresent) {
        await this.file.write(e.offsetMB * MIB + inBlock, chunk);
      } else {
        await this.allocate(index, inBlock, chunk);
      }
      pos += n;
    }
  }

  async flush(): Promise<void> {
    await this.file.flush();
  }

  async close(): Promise<void> {
    try {
      await this.file.close();
    } finally {
      if (this.parent) await this.parent.close();
    }
  }

  /** The BAT entry at `index`, or the typed error scanBat recorded for it. */
  private entry(index: number): { state: number; offsetMB: number } {
    const problem = this.batProblems.get(index);
    if (problem !== undefined) throw batEntryError(problem, this.batOffset, index);
    return decodeBatEntry(this.bat, index);
  }

  /** Splits a virtual range into file, parent and zero pieces, merging neighbours that continue each other. */
  private async plan(offset: number, length: number): Promise<Segment[]> {
    const segments: Segment[] = [];
    const push = (s: Segment) => {
      const last = segments[segments.length - 1];
      if (
        last &&
        last.kind === s.kind &&
        last.pos + last.len === s.pos &&
        (s.kind === 'zero' || (last as { at: number }).at + last.len === (s as { at: number }).at)
      ) {
        last.len += s.len;
      } else {
        segments.push(s);
      }
    };
    const bs = this.g.blockSize;
    const differencing = this.parent !== undefined;
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const block = Math.floor(pos / bs);
      const inBlock = pos - block * bs;
      const n = Math.min(bs - inBlock, end - pos);
      const e = this.entry(payloadEntryIndex(block, this.g.chunkRatio));
      const outPos = pos - offset;
      switch (e.state) {
        case PayloadState.fullyPresent:
          push({ kind: 'file', at: e.offsetMB * MIB + inBlock, pos: outPos, len: n });
          break;
        case PayloadState.partiallyPresent:
          for (const s of await this.partialBlock(block, e.offsetMB, inBlock, n))
            push({ ...s, pos: s.pos + outPos });
          break;
        case PayloadState.notPresent:
        case PayloadState.undefined:
          // §2.5.1.1: a child defers to its parent; in other files the contents are undefined and we read zeros.
          push(
            differencing
              ? { kind: 'parent', at: pos, pos: outPos, len: n }
              : { kind: 'zero', pos: outPos, len: n },
          );
          break;
        default:
          // ZERO reads zeros; UNMAPPED may read zeros (§2.5.1.1), and that is what we choose.
          push({ kind: 'zero', pos: outPos, len: n });
      }
      pos += n;
    }
    return segments;
  }

  /** Pieces of a PARTIALLY_PRESENT block: sectors whose bitmap bit is set come from this file, others from the parent. */
  private async partialBlock(
    block: number,
    offsetMB: number,
    inBlock: number,
    n: number,
  ): Promise<Segment[]> {
    const bitmap = await this.blockBitmap(block);
    const ss = this.g.logicalSectorSize;
    const bit = (sector: number) => (bitmap[sector >>> 3]! >>> (sector & 7)) & 1;
    const out: Segment[] = [];
    const blockStart = block * this.g.blockSize;
    let at = inBlock;
    const stop = inBlock + n;
    while (at < stop) {
      const sector = Math.floor(at / ss);
      const present = bit(sector);
      let runEnd = (sector + 1) * ss;
      while (runEnd < stop && bit(runEnd / ss) === present) runEnd += ss;
      const len = Math.min(runEnd, stop) - at;
      out.push(
        present
          ? { kind: 'file', at: offsetMB * MIB + at, pos: at - inBlock, len }
          : { kind: 'parent', at: blockStart + at, pos: at - inBlock, len },
      );
      at += len;
    }
    return out;
  }

  /** The sector bitmap bits of one payload block (§2.4: bit k of the chunk's bitmap is the chunk's sector k). */
  private async blockBitmap(block: number): Promise<Uint8Array> {
    const cached = this.bitmapCache.get(block);
    if (cached) return cached;
    const chunk = Math.floor(block / this.g.chunkRatio);
    const index = bitmapEntryIndex(chunk, this.g.chunkRatio);
    const sb = this.entry(index);
    if (sb.state !== BitmapState.present) {
      throw new WinrescueError(
        'disk.badField',
        `VHDX ${this.name}: block ${block} is PARTIALLY_PRESENT but its sector bitmap (BAT entry ${index}) is not present`,
        { offset: this.batOffset + index * BAT_ENTRY_SIZE, structure: 'vhdx.bat', record: index },
      );
    }
    const bytesPerBlock = this.g.blockSize / this.g.logicalSectorSize / 8;
    const at = sb.offsetMB * MIB + (block % this.g.chunkRatio) * bytesPerBlock;
    const bits = await this.file.read(at, bytesPerBlock);
    this.bitmapCache.set(block, bits);
    return bits;
  }

  private async readParent(at: number, len: number): Promise<Uint8Array> {
    const parent = this.parent!;
    // A parent smaller than its child (§2.6.2.2 does not forbid it) reads as zeros past its end.
    const inside = Math.max(0, Math.min(len, parent.size - at));
    if (inside === len) return parent.read(at, len);
    const out = new Uint8Array(len);
    if (inside > 0) out.set(await parent.read(at, inside), 0);
    return out;
  }

  /**
   * Gives a block that has no space in the file its own: a new block at the 1 MiB-aligned end of the file, zero
   * except for `chunk`. The data is flushed before the BAT entry points at it, so a crash in between leaves at worst
   * an unreferenced block past the end of the used file.
   */
  private async allocate(index: number, inBlock: number, chunk: Uint8Array): Promise<void> {
    const bs = this.g.blockSize;
    const start = Math.ceil(this.file.size / OBJECT_ALIGNMENT) * OBJECT_ALIGNMENT;
    if (chunk.length === bs) {
      await this.file.write(start, chunk);
    } else {
      await this.file.truncate(start + bs);
      await this.file.write(start + inBlock, chunk);
    }
    await this.file.flush();
    const offsetMB = start / MIB;
    const bytes = encodeBatEntry(PayloadState.fullyPresent, offsetMB);
    await this.file.write(this.batOffset + index * BAT_ENTRY_SIZE, bytes);
    this.bat.set(bytes, index * BAT_ENTRY_SIZE);
  }

  /** §2.2.2 / §2.2.2.1: before the first change in a session, new DataWriteGuid (and FileWriteGuid) in both headers. */
  private async beginWriting(): Promise<void> {
    if (this.headerUpdated) return;
    if (this.parent)
      throw new WinrescueError(
        'disk.unsupported',
        `VHDX ${this.name}: writing to a differencing VHDX is not supported`,
      );
    const { slot: _slot, sequenceNumber: _seq, ...fields } = this.header;
    this.header = await updateHeaders(this.file, this.header, {
      ...fields,
      fileWriteGuid: this.fileWriteGuidChanged ? fields.fileWriteGuid : newGuid(),
      dataWriteGuid: newGuid(),
      // A LogGuid still set here names a log without a valid sequence: its update never reached the file, so
      // there is nothing to replay, and leaving it set would make the next opener look for one.
      logGuid: ZERO_GUID,
    });
    this.fileWriteGuidChanged = true;
    this.headerUpdated = true;
  }
}
