// The configuration playbooks on their own (DESIGN.md "The CLI contract"): enable-serial-console (BCD) and
// enable-memory-dump (SYSTEM). Plan from the hive as Windows would load it (dirty hives replayed from their logs),
// then, unless a dry run, one journaled write of the hive file: the NTFS writer for \Boot\BCD and SYSTEM, the FAT
// writer for the Gen2 ESP's store. The hive is saved clean with sequence numbers above its logs', as `reg set` does.
import { WinrescueError } from '../errors.js';
import { openDisk } from '../disk/open-disk.js';
import { readPartitions } from '../partition/index.js';
import { openFat } from '../fs/fat/index.js';
import { logSequenceCeiling } from '../registry/log/index.js';
import type { NtfsWriteForce } from '../fs/ntfs/write/index.js';
import { applyHiveChanges, type HivePlan, type PlaybookStep } from '../playbooks/plan.js';
import { planSerialConsole } from '../playbooks/serial-console.js';
import { planMemoryDump, type Finding } from '../playbooks/memory-dump.js';
import { loadBcd } from './bcd.js';
import { loadHive, type LoadedHive } from './reg.js';
import { openVolume } from './open-volume.js';
import { undoCommand } from './undo.js';

const SYSTEM_HIVE = '/Windows/System32/config/SYSTEM';
/** $Bitmap's MFT record number (fixed by NTFS). */
const BITMAP_RECORD = 6;
const GiB = 1024 ** 3;
const BITS_SET = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let x = b; x !== 0; x >>= 1) n += x & 1;
  return n;
});

export interface PlaybookOptions {
  /** Windows volume (1-based) for enable-memory-dump; default: the one holding SYSTEM. */
  partition?: number;
  journalPath?: string;
  dryRun?: boolean;
  /** Write a dirty hive whose logs could not be replayed (what Windows committed only to them is lost). */
  force?: boolean;
  ntfsForce?: NtfsWriteForce;
  /** Write on an NTFS volume although our check finds structural problems there. */
  forceDamaged?: boolean;
}

export interface PlaybookResult {
  playbook: 'enable-serial-console' | 'enable-memory-dump';
  disk: string;
  /** The hive changed (or would, with --dry-run). */
  changed: boolean;
  dryRun: boolean;
  written: boolean;
  /** DISK:PATH of the hive the playbook read and writes. */
  hive: string;
  dirty: boolean;
  replayed: boolean;
  plan: PlaybookStep[];
  undo: string | null;
  findings: Finding[];
  /** enable-memory-dump: free bytes on the Windows volume, and --memory-size in bytes when given. */
  facts?: { freeBytes: number; memoryBytes?: number };
  warnings: string[];
}

function refuseStale(loaded: LoadedHive, label: string, force: boolean | undefined): void {
  if (loaded.stale && !force) {
    throw new WinrescueError(
      'regf.dirty',
      `${label} is dirty and its transaction logs could not be replayed; writing it would drop what Windows ` +
        `committed only to the logs. Put its .LOG1/.LOG2 beside it, or pass --force to accept that loss`,
      { path: label },
    );
  }
}

/** The hive file's new bytes, or null when nothing needs writing (a replayed hive is written to make it durable). */
function newHiveBytes(loaded: LoadedHive, plan: HivePlan): Uint8Array | null {
  if (plan.changes.length === 0 && !loaded.replayed) return null;
  return applyHiveChanges(loaded.hive.bytes, plan.changes, {
    minSequence: logSequenceCeiling(loaded.source.logs),
    force: loaded.stale,
  });
}

async function writeOnNtfs(
  disk: string,
  loaded: LoadedHive,
  bytes: Uint8Array,
  options: PlaybookOptions,
): Promise<{ undo: string | null; warnings: string[] }> {
  const { putFile } = await import('./ntfs-write.js');
  const w = await putFile(disk, loaded.source.innerPath!, bytes, {
    ...(loaded.source.partition != null ? { partition: loaded.source.partition } : {}),
    ...(options.journalPath !== undefined ? { journalPath: options.journalPath } : {}),
    ...(options.ntfsForce ? { force: options.ntfsForce } : {}),
    ...(options.forceDamaged ? { forceDamaged: true } : {}),
  });
  return {
    undo: w.undo,
    warnings: [...w.warnings, ...w.checkProblems.map((p) => `check after writing: ${p}`)],
  };
}

async function writeOnFat(
  disk: string,
  partition: number | null,
  path: string,
  bytes: Uint8Array,
  options: PlaybookOptions,
): Promise<{ undo: string; warnings: string[] }> {
  const opened = await openDisk(disk, { journal: options.journalPath ? { path: options.journalPath } : {} });
  try {
    const table = await readPartitions(opened.device);
    const dev =
      partition === null ? opened.device : table.partitions.find((p) => p.index === partition)?.device;
    if (dev === undefined) {
      throw new WinrescueError('partition.notFound', `${disk}: partition ${partition} is gone`, {
        path: disk,
      });
    }
    const fat = await openFat(dev);
    // writeFile would create a missing file: the store was read a moment ago, so its absence now is an error.
    if ((await fat.lookup(path)) === null) {
      throw new WinrescueError('fat.notFound', `${disk}: ${path} is no longer on the ESP`, { path });
    }
    await fat.writeFile(path, bytes);
    await fat.flush();
    return {
      undo: undoCommand(disk, options.journalPath),
      warnings: [...opened.warnings, ...table.warnings],
    };
  } finally {
    await opened.device.close();
  }
}

export async function enableSerialConsole(
  disk: string,
  options: PlaybookOptions = {},
): Promise<PlaybookResult> {
  const b = await loadBcd(disk);
  if (b.location === undefined) {
    throw new WinrescueError('cli.usage', `${disk}: give the disk, not a hive file`, { path: disk });
  }
  const loaded = b.loaded;
  refuseStale(loaded, b.hiveSpec, options.force);
  const plan = planSerialConsole(b.store);
  const bytes = newHiveBytes(loaded, plan);
  const result: PlaybookResult = {
    playbook: 'enable-serial-console',
    disk,
    changed: bytes !== null,
    dryRun: options.dryRun === true,
    written: false,
    hive: b.hiveSpec,
    dirty: loaded.dirty,
    replayed: loaded.replayed,
    plan: plan.steps,
    undo: null,
    findings: [],
    warnings: [...loaded.warnings, ...b.location.warnings],
  };
  if (bytes === null || options.dryRun) return result;
  const bcd = b.location.bcd!;
  const w =
    bcd.filesystem === 'ntfs'
      ? await writeOnNtfs(disk, loaded, bytes, options)
      : await writeOnFat(disk, bcd.partition, loaded.source.innerPath!, bytes, options);
  result.written = true;
  result.undo = w.undo;
  result.warnings.push(...w.warnings);
  // Read back from the disk: what Windows will load must need no further change.
  const again = planSerialConsole((await loadBcd(disk)).store);
  if (again.changes.length > 0) {
    throw new WinrescueError(
      'internal',
      `after writing, the store still differs: ${again.steps.find((s) => s.status === 'change')?.target}`,
    );
  }
  return result;
}

/** Free bytes on the Windows volume, counted from $Bitmap. */
async function freeBytes(disk: string, partition: number | null | undefined): Promise<number> {
  const opened = await openVolume(disk, { readOnly: true, ...(partition != null ? { partition } : {}) });
  try {
    const info = await opened.volume.info();
    const stream = await opened.volume.openStream(BITMAP_RECORD);
    const bits = await stream.read(0, Math.min(stream.size, Math.ceil(info.totalClusters / 8)));
    // Whole bytes by a bit-count table (a 1 TiB volume has 2^28 clusters), then the last partial byte bit by bit.
    const full = Math.floor(info.totalClusters / 8);
    let used = 0;
    for (let i = 0; i < full; i++) used += BITS_SET[bits[i]!]!;
    for (let c = full * 8; c < info.totalClusters; c++) if ((bits[c >> 3]! >> (c & 7)) & 1) used++;
    return (info.totalClusters - used) * info.clusterSize;
  } finally {
    await opened.close();
  }
}

export interface MemoryDumpOptions extends PlaybookOptions {
  /** The VM's memory in GiB, to compare with the free space and the page file. */
  memoryGiB?: number;
}

export async function enableMemoryDump(
  disk: string,
  options: MemoryDumpOptions = {},
): Promise<PlaybookResult> {
  const spec = `${disk}:${SYSTEM_HIVE}`;
  const loaded = await loadHive(
    spec,
    options.partition !== undefined ? { partition: options.partition } : {},
  );
  refuseStale(loaded, spec, options.force);
  const facts = {
    freeBytes: await freeBytes(disk, loaded.source.partition),
    ...(options.memoryGiB !== undefined ? { memoryBytes: Math.round(options.memoryGiB * GiB) } : {}),
  };
  const plan = planMemoryDump(loaded.hive, facts);
  const bytes = newHiveBytes(loaded, plan);
  const result: PlaybookResult = {
    playbook: 'enable-memory-dump',
    disk,
    changed: bytes !== null,
    dryRun: options.dryRun === true,
    written: false,
    hive: spec,
    dirty: loaded.dirty,
    replayed: loaded.replayed,
    plan: plan.steps,
    undo: null,
    findings: plan.findings,
    facts,
    warnings: [...loaded.warnings],
  };
  if (bytes === null || options.dryRun) return result;
  const w = await writeOnNtfs(disk, loaded, bytes, options);
  result.written = true;
  result.undo = w.undo;
  result.warnings.push(...w.warnings);
  const reread = await loadHive(
    spec,
    options.partition !== undefined ? { partition: options.partition } : {},
  );
  if (planMemoryDump(reread.hive).changes.length > 0) {
    throw new WinrescueError('internal', `after writing, ${spec} still differs from the plan`);
  }
  return result;
}
