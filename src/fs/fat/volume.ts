// A FAT12/16/32 volume read and written through a BlockDevice: lookup, readdir, readFile, stat, and replacing a
// file's content in place, grown or shrunk. Structures: boot-sector.ts, fsinfo.ts, fat-table.ts, dir-entry.ts,
// chain.ts (Microsoft "FAT32 File System Specification" v1.03). Write order and refusals: docs/formats/fat.md.
import type { BlockDevice } from '../../disk/block-device.js';
import { WinrescueError, hex } from '../../errors.js';
import { u8 } from '../../util/bytes.js';
import { BOOT_SECTOR_BYTES, parseBootSector, type FatBootSector, type FatType } from './boot-sector.js';
import { followChain, pickFreeClusters, runsOf } from './chain.js';
import {
  ATTR_ARCHIVE,
  DIR_ENTRY_BYTES,
  freeSlots,
  newShortEntry,
  parseDirectory,
  takenShortNames,
  updatedEntry,
  type DirEntry,
} from './dir-entry.js';
import { checkLongName, longNameEntries, makeShortName } from './names.js';
import { FatTable, FREE, MAX_FAT_BYTES } from './fat-table.js';
import { FSINFO_BYTES, parseFsInfo, withFsInfo } from './fsinfo.js';

/** §6: a directory holds at most 65536 entries (2 MiB); more is damage, and a bound on what we read. */
const MAX_DIR_BYTES = 65536 * DIR_ENTRY_BYTES;
/** DIR_FileSize is 32 bits (§6). */
const MAX_FILE_BYTES = 0xffffffff;
/** BS_Reserved1 bit 0: Windows NT and Linux set it while the volume is mounted (chkdsk / fsck on next mount). */
const BS_DIRTY_FLAG = 0x01;
const BS_FLAGS_AT: Record<FatType, number> = { fat12: 37, fat16: 37, fat32: 65 };
/** An empty file has no last cluster to grow after: allocation then takes the first free run (see chain.ts). */
const NO_HINT = 1;
/** Reads of file data go out in pieces of at most this size. */
const READ_CHUNK = 4 << 20;

export interface OpenFatOptions {
  /** Write even to a volume marked dirty (not cleanly unmounted): see docs/formats/fat.md for what that risks. */
  readonly force?: boolean;
  /**
   * Read the active FAT copy only (half the bytes, no copy comparison): for readers that must touch little of a
   * disk, such as diagnose. Writing is then refused.
   */
  readonly readOnly?: boolean;
}

export interface FatStat {
  readonly path: string;
  readonly name: string;
  readonly shortName: string;
  readonly longName?: string;
  readonly type: 'file' | 'dir';
  readonly size: number;
  readonly attributes: number;
  readonly firstCluster: number;
  readonly modified: Date;
  readonly created: Date;
}

export interface WriteFileOptions {
  /** Modification time stored in the entry (local time, as FAT keeps it); default now. */
  readonly modified?: Date;
}

export interface WriteFileResult {
  /** The file did not exist and was created in its (existing) parent directory. */
  readonly created?: boolean;
  readonly oldClusters: number;
  readonly newClusters: number;
  readonly allocated: readonly number[];
  readonly freed: readonly number[];
}

/** Where a directory's entries live: the fixed FAT12/16 root region, or a cluster chain. */
type DirLocation = { readonly fixed: true } | { readonly fixed: false; readonly clusters: readonly number[] };

interface Resolved {
  readonly entry: DirEntry | null; // null: the root directory
  readonly parent: DirLocation | null;
  readonly path: string;
}

export class FatVolume {
  private constructor(
    readonly device: BlockDevice,
    readonly geometry: FatBootSector,
    private readonly fat: FatTable,
    private readonly bootSector: Uint8Array,
    private readonly options: OpenFatOptions,
    /** Clusters whose entries differ between FAT copies, found at open. */
    private readonly mismatched: ReadonlySet<number>,
  ) {}

  static async open(device: BlockDevice, options: OpenFatOptions = {}): Promise<FatVolume> {
    if (device.size < BOOT_SECTOR_BYTES) {
      throw new WinrescueError('disk.truncated', `${device.description}: too small for a FAT boot sector`, {
        structure: 'fat.bootSector',
        expected: `>= ${BOOT_SECTOR_BYTES}`,
        actual: device.size,
      });
    }
    const boot = await device.read(0, BOOT_SECTOR_BYTES);
    const g = parseBootSector(boot);
    // The FATs and the root region must be on the device; the data area may be cut short (a read there fails typed).
    const metaEnd = g.dataOffset;
    if (metaEnd > device.size) {
      throw new WinrescueError(
        'disk.truncated',
        `${device.description}: the FAT metadata ends at ${hex(metaEnd)}, past the device's ${device.size} bytes`,
        { structure: 'fat.bootSector', expected: `>= ${metaEnd}`, actual: device.size },
      );
    }
    const fatBytes = g.fatSectors * g.bytesPerSector;
    const copies = g.mirrored ? g.numFats : 1;
    if (fatBytes * copies > MAX_FAT_BYTES) {
      throw new WinrescueError(
        'fat.unsupported',
        `FATs of ${fatBytes * copies} bytes are more than we hold`,
        {
          structure: 'fat.table',
          expected: `<= ${MAX_FAT_BYTES}`,
          actual: fatBytes * copies,
        },
      );
    }
    const bytes: Uint8Array[] = [];
    const first = g.mirrored ? 0 : g.activeFat;
    for (let c = 0; c < g.numFats; c++) {
      const used = options.readOnly ? c === first : g.mirrored || c === g.activeFat;
      bytes.push(used ? await device.read(g.fatOffset + c * fatBytes, fatBytes) : new Uint8Array(0));
    }
    const fat = new FatTable(g, bytes, options.readOnly ? first : undefined);
    const mismatched = new Set(fat.disagreements(Number.MAX_SAFE_INTEGER));
    return new FatVolume(device, g, fat, boot, options, mismatched);
  }

  get type(): FatType {
    return this.geometry.type;
  }

  /** FAT[1] lacks the clean-shutdown bit, or the boot sector's dirty flag is set. */
  get dirty(): boolean {
    return this.fat.dirtyShutdown || (u8(this.bootSector, BS_FLAGS_AT[this.type]) & BS_DIRTY_FLAG) !== 0;
  }

  /** Clusters whose FAT entries differ between the copies (empty on a healthy volume). */
  get fatMismatches(): readonly number[] {
    return [...this.mismatched];
  }

  get freeClusters(): number {
    return this.fat.countFree();
  }

  /** The entry at `path` ('/EFI/Microsoft/Boot/BCD' or with backslashes; any case; long or short names). */
  async lookup(path: string): Promise<FatStat | null> {
    const r = await this.resolve(path, false);
    return r === null ? null : statOf(r);
  }

  async stat(path: string): Promise<FatStat> {
    return statOf((await this.resolve(path, true))!);
  }

  async readdir(path: string): Promise<FatStat[]> {
    const r = (await this.resolve(path, true))!;
    if (r.entry !== null && !r.entry.isDirectory) {
      throw new WinrescueError('fat.notADirectory', `${r.path} is not a directory`, { path: r.path });
    }
    const { entries } = await this.readDirectory(this.locationOf(r));
    const base = r.path === '/' ? '' : r.path;
    return entries.map((e) => statOf({ entry: e, parent: null, path: `${base}/${e.name}` }));
  }

  async readFile(path: string): Promise<Uint8Array> {
    const r = (await this.resolve(path, true))!;
    const e = this.fileEntry(r);
    const cs = this.geometry.clusterSize;
    const need = Math.ceil(e.size / cs);
    const chain = followChain(this.fat, e.firstCluster, r.path);
    if (chain.length < need) {
      throw new WinrescueError(
        'fat.badChain',
        `${r.path}: ${e.size} bytes need ${need} clusters, the chain has ${chain.length}`,
        { structure: 'fat.chain', path: r.path, expected: need, actual: chain.length },
      );
    }
    const out = new Uint8Array(need * cs);
    let at = 0;
    for (const run of runsOf(chain.slice(0, need))) {
      for (let done = 0; done < run.count * cs;) {
        const len = Math.min(READ_CHUNK, run.count * cs - done);
        out.set(await this.device.read(this.clusterOffset(run.first) + done, len), at);
        at += len;
        done += len;
      }
    }
    return out.subarray(0, e.size);
  }

  /**
   * Replaces the content of the existing file at `path` with `data`: in place when the cluster count stays, else
   * growing (free clusters, contiguous when possible, linked in every FAT copy) or shrinking (the tail freed).
   * The directory entry gets the new size and modification time; its other bytes and the long name are kept.
   */
  async writeFile(path: string, data: Uint8Array, options: WriteFileOptions = {}): Promise<WriteFileResult> {
    this.checkWritable();
    this.checkFileSize(path, data);
    const r = await this.resolve(path, false);
    if (r === null) return this.createFile(path, data, options.modified ?? new Date());
    const e = this.fileEntry(r);
    const cs = this.geometry.clusterSize;
    const old = followChain(this.fat, e.firstCluster, r.path);
    if (old.length !== Math.ceil(e.size / cs)) {
      throw new WinrescueError(
        'fat.badChain',
        `${r.path}: ${e.size} bytes but a chain of ${old.length} clusters; run fsck first`,
        { structure: 'fat.chain', path: r.path, expected: Math.ceil(e.size / cs), actual: old.length },
      );
    }
    // Every entry we read to decide and every entry we rewrite must be the same in all copies.
    this.refuseMismatch(old, r.path);
    const need = Math.ceil(data.length / cs);
    const keep = old.slice(0, Math.min(need, old.length));
    const freed = old.slice(keep.length);
    const hint = old[old.length - 1] ?? NO_HINT;
    const allocated = pickFreeClusters(this.fat, need - keep.length, hint);
    const target = [...keep, ...allocated];
    const padded = new Uint8Array(need * cs);
    padded.set(data);
    const modified = options.modified ?? new Date();
    const entryOffset = this.entryOffset(r.parent!, e.entryIndex);
    const entryBytes = await this.device.read(entryOffset, DIR_ENTRY_BYTES);
    const newEntry = updatedEntry(entryBytes, {
      firstCluster: target[0] ?? 0,
      size: data.length,
      modified,
      fat32: this.type === 'fat32',
    });

    if (allocated.length > 0) {
      // 1. Content into clusters nobody uses yet, then their chain in every FAT: a crash here loses free space only.
      await this.writeClusters(target, padded, keep.length);
      allocated.forEach((c, i) => this.fat.set(c, allocated[i + 1] ?? this.fat.eoc));
      await this.writeFat();
      await this.device.flush();
      // 2. The kept clusters' content, then the link from the old tail (or the entry) and the entry itself.
      await this.writeClusters(target.slice(0, keep.length), padded, 0, keep.length);
      if (keep.length > 0) this.fat.set(keep[keep.length - 1]!, allocated[0]!);
      await this.writeFat();
      await this.device.write(entryOffset, newEntry);
    } else {
      // Same count or fewer: content first, then the entry (size shrinks before the chain does, which fsck.fat
      // repairs by truncating the chain), then the chain's new end and the freed tail.
      await this.writeClusters(target, padded, 0);
      await this.device.write(entryOffset, newEntry);
      if (freed.length > 0) {
        await this.device.flush();
        if (keep.length > 0) this.fat.set(keep[keep.length - 1]!, this.fat.eoc);
        for (const c of freed) this.fat.set(c, FREE);
        await this.writeFat();
      }
    }
    await this.updateFsInfo(allocated);
    await this.device.flush();
    return { oldClusters: old.length, newClusters: target.length, allocated, freed };
  }

  /** Makes every write so far durable. writeFile already flushes at its own ordering points. */
  async flush(): Promise<void> {
    await this.writeFat();
    await this.device.flush();
  }

  // ---- internals ----

  private checkFileSize(path: string, data: Uint8Array): void {
    if (data.length > MAX_FILE_BYTES) {
      throw new WinrescueError('fat.unsupported', `FAT files hold at most ${MAX_FILE_BYTES} bytes`, {
        path,
        expected: `<= ${MAX_FILE_BYTES}`,
        actual: data.length,
      });
    }
  }

  /**
   * A new file in an existing directory: its clusters and chain first (lost space if interrupted), then, when the
   * directory has no run of free slots long enough, a zeroed cluster linked onto the directory, then the long-name
   * and short entries (the file appears), then FSInfo.
   */
  private async createFile(path: string, data: Uint8Array, when: Date): Promise<WriteFileResult> {
    const parts = path.split(/[\\/]+/).filter((p) => p !== '');
    const name = parts.pop();
    if (name === undefined) {
      throw new WinrescueError('fat.isADirectory', 'the root directory is not a file', { path });
    }
    checkLongName(name);
    const parent = (await this.resolve(parts.join('/'), true))!;
    if (parent.entry !== null && !parent.entry.isDirectory) {
      throw new WinrescueError('fat.notADirectory', `${parent.path} is not a directory`, {
        path: parent.path,
      });
    }
    const loc = this.locationOf(parent);
    const { raw } = await this.readDirectory(loc);
    if (!loc.fixed) this.refuseMismatch(loc.clusters, parent.path);
    const short = makeShortName(name, takenShortNames(raw));
    const slots = [
      ...(short.needsLong ? longNameEntries(name, short.name11) : []),
      newShortEntry({
        name11: short.name11,
        ntRes: short.ntRes,
        attributes: ATTR_ARCHIVE,
        firstCluster: 0,
        size: data.length,
        when,
        fat32: this.type === 'fat32',
      }),
    ];
    const cs = this.geometry.clusterSize;
    const free = freeSlots(raw);
    let start = findRun(free, slots.length);
    let dirClusters: number[] = [];
    if (start === -1) {
      if (loc.fixed) {
        throw new WinrescueError('fat.full', `the root directory has no ${slots.length} free entries`, {
          structure: 'fat.directory',
          path: parent.path,
        });
      }
      let tail = 0;
      while (tail < free.length && free[free.length - 1 - tail]) tail++;
      const more = Math.ceil(((slots.length - tail) * DIR_ENTRY_BYTES) / cs);
      if (raw.length + more * cs > MAX_DIR_BYTES) {
        throw new WinrescueError('fat.full', `${parent.path} would exceed 65536 entries`, {
          structure: 'fat.directory',
          path: parent.path,
        });
      }
      start = free.length - tail;
      dirClusters = pickFreeClusters(this.fat, more, loc.clusters[loc.clusters.length - 1]!);
      // Reserve them now, so the file's own allocation below cannot pick them too.
      dirClusters.forEach((c, i) => this.fat.set(c, dirClusters[i + 1] ?? this.fat.eoc));
    }
    const need = Math.ceil(data.length / cs);
    let fileClusters: number[];
    try {
      fileClusters = pickFreeClusters(this.fat, need, dirClusters[dirClusters.length - 1] ?? NO_HINT);
    } catch (e) {
      dirClusters.forEach((c) => this.fat.set(c, FREE));
      this.fat.takeDirty();
      throw e;
    }
    const padded = new Uint8Array(need * cs);
    padded.set(data);
    await this.writeClusters(fileClusters, padded, 0);
    fileClusters.forEach((c, i) => this.fat.set(c, fileClusters[i + 1] ?? this.fat.eoc));
    for (const c of dirClusters) await this.device.write(this.clusterOffset(c), new Uint8Array(cs));
    await this.writeFat();
    await this.device.flush();
    const dirLoc: DirLocation = loc.fixed
      ? loc
      : { fixed: false, clusters: [...loc.clusters, ...dirClusters] };
    if (!loc.fixed && dirClusters.length > 0) {
      this.fat.set(loc.clusters[loc.clusters.length - 1]!, dirClusters[0]!);
      await this.writeFat();
      await this.device.flush();
    }
    const shortEntry = slots[slots.length - 1]!;
    slots[slots.length - 1] = updatedEntry(shortEntry, {
      firstCluster: fileClusters[0] ?? 0,
      size: data.length,
      modified: when,
      fat32: this.type === 'fat32',
    });
    // One write per device-contiguous stretch of slots: all of them at once unless they straddle two directory
    // clusters that are not adjacent. A cut between two such writes leaves orphaned long-name parts, which every
    // FAT implementation ignores and fsck.fat deletes.
    let i = 0;
    while (i < slots.length) {
      const at = this.entryOffset(dirLoc, (start + i) * DIR_ENTRY_BYTES);
      let j = i + 1;
      while (
        j < slots.length &&
        this.entryOffset(dirLoc, (start + j) * DIR_ENTRY_BYTES) === at + (j - i) * DIR_ENTRY_BYTES
      ) {
        j++;
      }
      const stretch = new Uint8Array((j - i) * DIR_ENTRY_BYTES);
      slots.slice(i, j).forEach((e, k) => stretch.set(e, k * DIR_ENTRY_BYTES));
      await this.device.write(at, stretch);
      i = j;
    }
    await this.updateFsInfo([...dirClusters, ...fileClusters].sort((a, b) => a - b));
    await this.device.flush();
    return {
      created: true,
      oldClusters: 0,
      newClusters: fileClusters.length,
      allocated: fileClusters,
      freed: [],
    };
  }

  private checkWritable(): void {
    if (this.device.readOnly || this.options.readOnly) {
      throw new WinrescueError('disk.readOnly', `${this.device.description} is open read-only`, {
        structure: 'fat.volume',
      });
    }
    if (this.dirty && this.options.force !== true) {
      throw new WinrescueError(
        'fat.refused',
        'the FAT volume is marked dirty (not cleanly unmounted): run fsck.fat or chkdsk first, or force',
        { structure: 'fat.table', record: 1 },
      );
    }
  }

  private refuseMismatch(clusters: readonly number[], path: string): void {
    for (const c of clusters) {
      if (this.mismatched.has(c)) {
        throw new WinrescueError(
          'fat.refused',
          `${path}: the FAT copies disagree about cluster ${c}; run fsck.fat or chkdsk first`,
          { structure: 'fat.table', record: c, path },
        );
      }
    }
  }

  private fileEntry(r: Resolved): DirEntry {
    if (r.entry === null || r.entry.isDirectory) {
      throw new WinrescueError('fat.isADirectory', `${r.path} is a directory`, { path: r.path });
    }
    return r.entry;
  }

  private clusterOffset(n: number): number {
    return this.geometry.dataOffset + (n - 2) * this.geometry.clusterSize;
  }

  /** Writes `padded`'s clusters [from, to) to `clusters[from..to)`, one write per contiguous run. */
  private async writeClusters(
    clusters: readonly number[],
    padded: Uint8Array,
    from: number,
    to = clusters.length,
  ): Promise<void> {
    const cs = this.geometry.clusterSize;
    let i = from;
    for (const run of runsOf(clusters.slice(from, to))) {
      await this.device.write(this.clusterOffset(run.first), padded.subarray(i * cs, (i + run.count) * cs));
      i += run.count;
    }
  }

  private async writeFat(): Promise<void> {
    for (const w of this.fat.takeDirty()) await this.device.write(w.offset, w.data);
  }

  /**
   * FSInfo's free count is recomputed from the FAT we hold (exact, so fsck.fat agrees), and the next-free hint
   * points after the last cluster we allocated. An FSInfo without its signatures is left alone.
   */
  private async updateFsInfo(allocated: readonly number[]): Promise<void> {
    const g = this.geometry;
    if (g.type !== 'fat32' || g.fsInfoSector === 0) return;
    const at = g.fsInfoSector * g.bytesPerSector;
    const sector = await this.device.read(at, FSINFO_BYTES);
    const info = parseFsInfo(sector);
    if (info === null) return;
    const last = allocated[allocated.length - 1];
    const nextFree = last === undefined ? info.nextFree : last + 1 <= this.fat.maxCluster ? last + 1 : 2;
    await this.device.write(at, withFsInfo(sector, { freeCount: this.fat.countFree(), nextFree }));
  }

  private locationOf(r: Resolved): DirLocation {
    if (r.entry === null) {
      return this.type === 'fat32'
        ? { fixed: false, clusters: followChain(this.fat, this.geometry.rootCluster, '/') }
        : { fixed: true };
    }
    return { fixed: false, clusters: followChain(this.fat, r.entry.firstCluster, r.path) };
  }

  private async readDirectory(loc: DirLocation): Promise<{ entries: DirEntry[]; raw: Uint8Array }> {
    const g = this.geometry;
    let raw: Uint8Array;
    if (loc.fixed) {
      raw = await this.device.read(g.rootDirOffset, g.rootDirBytes);
    } else {
      if (loc.clusters.length * g.clusterSize > MAX_DIR_BYTES + g.clusterSize) {
        throw new WinrescueError('fat.badDirectory', `a directory of ${loc.clusters.length} clusters`, {
          structure: 'fat.directory',
          expected: `<= ${MAX_DIR_BYTES} bytes`,
          actual: loc.clusters.length * g.clusterSize,
        });
      }
      raw = new Uint8Array(loc.clusters.length * g.clusterSize);
      let at = 0;
      for (const run of runsOf(loc.clusters)) {
        raw.set(await this.device.read(this.clusterOffset(run.first), run.count * g.clusterSize), at);
        at += run.count * g.clusterSize;
      }
    }
    return { entries: parseDirectory(raw, this.type === 'fat32'), raw };
  }

  private entryOffset(loc: DirLocation, index: number): number {
    if (loc.fixed) return this.geometry.rootDirOffset + index;
    const cs = this.geometry.clusterSize;
    return this.clusterOffset(loc.clusters[Math.floor(index / cs)]!) + (index % cs);
  }

  private async resolve(path: string, mustExist: boolean): Promise<Resolved | null> {
    const parts = path.split(/[\\/]+/).filter((p) => p !== '');
    let current: Resolved = { entry: null, parent: null, path: '/' };
    for (const part of parts) {
      if (current.entry !== null && !current.entry.isDirectory) {
        throw new WinrescueError('fat.notADirectory', `${current.path} is not a directory`, {
          path: current.path,
        });
      }
      const loc = this.locationOf(current);
      const { entries } = await this.readDirectory(loc);
      const want = part.toUpperCase();
      const found =
        entries.find((e) => e.name.toUpperCase() === want) ??
        entries.find((e) => e.shortName.toUpperCase() === want);
      if (found === undefined) {
        if (!mustExist) return null;
        throw new WinrescueError('fat.notFound', `${path}: no ${part} in ${current.path}`, { path });
      }
      current = {
        entry: found,
        parent: loc,
        path: `${current.path === '/' ? '' : current.path}/${found.name}`,
      };
    }
    return current;
  }
}

function statOf(r: Resolved): FatStat {
  if (r.entry === null) {
    return {
      path: '/',
      name: '',
      shortName: '',
      type: 'dir',
      size: 0,
      attributes: 0x10,
      firstCluster: 0,
      modified: new Date(0),
      created: new Date(0),
    };
  }
  const e = r.entry;
  return {
    path: r.path,
    name: e.name,
    shortName: e.shortName,
    ...(e.longName === undefined ? {} : { longName: e.longName }),
    type: e.isDirectory ? 'dir' : 'file',
    size: e.isDirectory ? 0 : e.size,
    attributes: e.attributes,
    firstCluster: e.firstCluster,
    modified: e.modified,
    created: e.created,
  };
}

/** Opens the FAT volume on `device` (a partition window or a bare volume image). */
export function openFat(device: BlockDevice, options: OpenFatOptions = {}): Promise<FatVolume> {
  return FatVolume.open(device, options);
}

/** First index of `count` consecutive true values, or -1. */
function findRun(free: readonly boolean[], count: number): number {
  let run = 0;
  for (let i = 0; i < free.length; i++) {
    run = free[i] ? run + 1 : 0;
    if (run === count) return i - count + 1;
  }
  return -1;
}
