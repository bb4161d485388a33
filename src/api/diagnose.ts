// `winrescue diagnose`: read the symptom (screenshot, serial log), examine the files the boot path loads on the
// disk, and conclude (src/diagnose/conclude.ts). Reads only the metadata and data of those files — a few MB —
// through a CountingDevice, so the report says how much of the disk it touched.
import { readFile } from 'node:fs/promises';
import { WinrescueError, isWinrescueError } from '../errors.js';
import { openDisk } from '../disk/open-disk.js';
import { CountingDevice } from '../disk/counting-device.js';
import { readPartitions } from '../partition/index.js';
import { openNtfs, type NtfsVolume } from '../fs/ntfs/index.js';
import { openFat, type FatVolume } from '../fs/fat/index.js';
import { Hive } from '../registry/hive.js';
import { readBcdStore } from '../bcd/store.js';
import { locateWindows, currentControlSet, architecture, type WindowsLocation } from '../windows/index.js';
import { bootFileList, type BootFile } from '../windows/boot-files.js';
import { reachFatFile, reachFile } from '../diagnose/evidence/reach.js';
import { lazyCatalogs } from '../diagnose/evidence/catalogs.js';
import {
  checkMachines,
  examineFile,
  type FileSource,
  type TrustContext,
} from '../diagnose/evidence/examine.js';
import { conclude, type Diagnosis, type ExaminedFile } from '../diagnose/conclude.js';
import type { Symptom } from '../diagnose/symptoms/types.js';
import { readHiveOnVolume } from './hive-source.js';
import { loadHiveFromSource } from './reg.js';

export interface DiagnoseOptions {
  screenshot?: string;
  serialLog?: string;
  /** --trust-root certificate files (PEM or DER). */
  trustRoots?: readonly string[];
  /** Windows volume (1-based); default: the one holding SYSTEM. */
  partition?: number;
  /** Called before each file is examined (for progress on a TTY). */
  onFile?: (done: number, total: number, path: string) => void;
}

export type ReportedFile = Omit<ExaminedFile, 'bytes'>;

export interface DiagnoseReport extends Diagnosis {
  disk: string | null;
  symptom: Symptom | null;
  /** Every boot file examined, in load order, with its verdict. */
  files: ReportedFile[];
  generation: 1 | 2 | null;
  /** PROCESSOR_ARCHITECTURE of the install (AMD64, x86, ARM64), from SYSTEM; null when unreadable. */
  architecture: string | null;
  /** Bytes read from the disk, and its virtual size: the diagnosis touches a small fraction. */
  bytesRead: number;
  reads: number;
  diskSize: number | null;
  warnings: string[];
}

/** The machine field of images built for each PROCESSOR_ARCHITECTURE. */
const MACHINES: Readonly<Record<string, number>> = { AMD64: 0x8664, X86: 0x14c, ARM64: 0xaa64 };
const BCD_PATH_ELEMENT = 0x12000002;
const STATUS_NO_SUCH_FILE = 0xc000000f;

async function readSymptom(options: DiagnoseOptions, candidates: readonly string[]): Promise<Symptom | null> {
  const found: Symptom[] = [];
  if (options.serialLog !== undefined) {
    const { readSerialLog } = await import('../diagnose/symptoms/serial-log.js');
    found.push(readSerialLog(await readInput(options.serialLog, 'serial log')));
  }
  if (options.screenshot !== undefined) {
    const { readScreenshot, closeOcr } = await import('../diagnose/symptoms/screenshot.js');
    try {
      const bytes = await readBinary(options.screenshot, 'screenshot');
      found.push(await readScreenshot(bytes, candidates.length > 0 ? { candidates } : {}));
    } finally {
      await closeOcr();
    }
  }
  // The clearest reading wins: a stop code first, then a path, then confidence.
  found.sort(
    (a, b) =>
      Number(b.stopCode !== null) - Number(a.stopCode !== null) ||
      Number(b.path !== null) - Number(a.path !== null) ||
      b.confidence - a.confidence,
  );
  const best = found[0];
  if (!best) return null;
  const path = best.path ?? found.find((s) => s.path !== null)?.path ?? null;
  return { ...best, path };
}

async function readBinary(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new WinrescueError('diagnose.badInput', `${what} ${path}: ${(e as Error).message}`, { path });
  }
}

async function readInput(path: string, what: string): Promise<string> {
  return Buffer.from(await readBinary(path, what)).toString('utf8');
}

function ntfsSource(vol: NtfsVolume, label: string): FileSource {
  return { label, reach: (p) => reachFile(vol, p) };
}

function fatSource(fat: FatVolume, label: string): FileSource {
  return { label, reach: (p) => reachFatFile(fat, p) };
}

interface Volumes {
  windows: NtfsVolume | null;
  windowsPartition: number | null;
  system: FileSource | null;
  systemFiles: BootFile[];
  bcdHive: Hive | null;
}

async function openVolumes(
  device: CountingDevice,
  where: WindowsLocation,
  wanted: number | undefined,
  warnings: string[],
): Promise<Volumes> {
  const table = await readPartitions(device);
  const deviceOf = (partition: number | null) =>
    partition === null ? device : table.partitions.find((p) => p.index === partition)?.device;
  const install = wanted !== undefined ? { partition: wanted } : where.installs[0];
  let windows: NtfsVolume | null = null;
  let windowsPartition: number | null = null;
  // No SYSTEM found (it may be the broken file): fall back to the NTFS volume with a \Windows folder.
  const tries = install
    ? [install.partition]
    : table.scheme === 'none'
      ? [null]
      : table.partitions.map((p) => p.index);
  for (const p of tries) {
    const dev = deviceOf(p);
    if (!dev) continue;
    try {
      const vol = await openNtfs(dev);
      if (!install) await vol.lookup('/Windows');
      windows = vol;
      windowsPartition = p;
      warnings.push(...vol.warnings);
      break;
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      if (install) warnings.push(`the Windows volume cannot be opened: ${e.message}`);
    }
  }
  let system: FileSource | null = null;
  let systemFiles: BootFile[] = [];
  let bcdHive: Hive | null = null;
  const sp = where.systemPartition;
  if (sp && sp.partition !== windowsPartition) {
    const dev = deviceOf(sp.partition);
    const label = `partition ${sp.partition}`;
    try {
      if (dev && sp.filesystem === 'ntfs') {
        const vol = await openNtfs(dev);
        system = ntfsSource(vol, label);
        systemFiles = [
          { path: '\\bootmgr', role: 'boot-loader', reason: 'BIOS boot manager', optional: false },
          {
            path: '\\Boot\\BCD',
            role: 'system-hive',
            reason: 'the boot configuration store',
            optional: false,
          },
        ];
        bcdHive = await hiveOf(vol.readFile('/Boot/BCD'));
      } else if (dev && sp.filesystem === 'fat32') {
        const fat = await openFat(dev, { readOnly: true });
        system = fatSource(fat, label);
        systemFiles = [
          {
            path: '\\EFI\\Microsoft\\Boot\\bootmgfw.efi',
            role: 'boot-loader',
            reason: 'UEFI boot manager',
            optional: false,
          },
          {
            path: '\\EFI\\Microsoft\\Boot\\BCD',
            role: 'system-hive',
            reason: 'the boot configuration store',
            optional: false,
          },
        ];
        bcdHive = await hiveOf(fat.readFile('/EFI/Microsoft/Boot/BCD'));
      }
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      warnings.push(`system partition ${sp.partition}: ${e.message}`);
    }
  } else if (windows && where.bcd?.role === 'windows') {
    bcdHive = await hiveOf(windows.readFile('/Boot/BCD')).catch(() => null);
  }
  return { windows, windowsPartition, system, systemFiles, bcdHive };
}

async function hiveOf(bytes: Promise<Uint8Array>): Promise<Hive | null> {
  try {
    return new Hive(await bytes);
  } catch (e) {
    if (isWinrescueError(e)) return null;
    throw e;
  }
}

/** The {default} loader's path element, as a volume path (\Windows\system32\winload.efi). */
function loaderPath(bcd: Hive | null): string | null {
  if (!bcd) return null;
  try {
    const store = readBcdStore(bcd);
    const el = store.find('{default}')?.elements.find((e) => e.code === BCD_PATH_ELEMENT);
    return el?.value.format === 'string' ? el.value.value : null;
  } catch (e) {
    if (isWinrescueError(e)) return null;
    throw e;
  }
}

export async function diagnose(
  diskPath: string | null,
  options: DiagnoseOptions = {},
): Promise<DiagnoseReport> {
  if (diskPath === null) {
    if (options.screenshot === undefined && options.serialLog === undefined) {
      throw new WinrescueError('cli.usage', 'diagnose needs a DISK, a --screenshot or a --serial-log');
    }
    const symptom = await readSymptom(options, []);
    return {
      ...conclude(symptom, null),
      disk: null,
      symptom,
      files: [],
      generation: null,
      architecture: null,
      bytesRead: 0,
      reads: 0,
      diskSize: null,
      warnings: [],
    };
  }
  const trustRoots = await Promise.all((options.trustRoots ?? []).map((p) => readBinary(p, 'trust root')));
  const opened = await openDisk(diskPath, { readOnly: true });
  const device = new CountingDevice(opened.device);
  try {
    const warnings = [...opened.warnings];
    const where = await locateWindows(device);
    warnings.push(...where.warnings);
    const vols = await openVolumes(device, where, options.partition, warnings);
    if (!vols.windows) {
      throw new WinrescueError(
        'windows.notFound',
        `${opened.path}: no readable NTFS volume with a Windows install`,
        {
          path: opened.path,
        },
      );
    }
    const vol = vols.windows;
    let system: Hive | null = null;
    let controlSet: string | null = null;
    let machine: number | null = null;
    let arch: string | null = null;
    try {
      const read = await readHiveOnVolume(vol, '/Windows/System32/config/SYSTEM', 'SYSTEM');
      const loaded = loadHiveFromSource({ kind: 'disk', label: 'SYSTEM', file: opened.path, ...read });
      warnings.push(...loaded.warnings);
      system = loaded.hive;
      controlSet = currentControlSet(system).current;
      arch = architecture(system, controlSet);
      machine = MACHINES[arch.toUpperCase()] ?? null;
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      warnings.push(`SYSTEM hive unusable (${e.message}): boot-start drivers and NLS files not listed`);
    }
    const windowsFiles = bootFileList(system, controlSet, {
      generation: where.generation,
      loaderPath: loaderPath(vols.bcdHive),
    });
    // Only OCR needs the names to snap a misread path to; a serial log or no symptom reads no listings.
    const candidates = [...windowsFiles.map((f) => f.path)];
    for (const dir of options.screenshot !== undefined
      ? ['/Windows/System32/drivers', '/Windows/System32']
      : []) {
      try {
        const d = await vol.lookup(dir);
        for await (const e of vol.readdir(d.record)) {
          if (!e.isDir) candidates.push(`${dir}/${e.name}`.replaceAll('/', '\\'));
        }
      } catch (e) {
        if (!isWinrescueError(e)) throw e;
      }
    }
    const symptom = await readSymptom(options, candidates);
    if (symptom?.path && !windowsFiles.some((f) => f.path.toUpperCase() === symptom.path!.toUpperCase())) {
      windowsFiles.push({
        path: symptom.path,
        role: 'symptom',
        reason: 'named by the boot screen',
        optional: false,
      });
    }
    const trust: TrustContext = { roots: trustRoots, catalogs: lazyCatalogs(vol, warnings) };
    const windowsSource = ntfsSource(vol, `partition ${vols.windowsPartition ?? '(volume)'}`);
    const work: { source: FileSource; file: BootFile; volume: 'windows' | 'system' }[] = [
      ...(vols.system
        ? vols.systemFiles.map((file) => ({ source: vols.system!, file, volume: 'system' as const }))
        : []),
      ...windowsFiles.map((file) => ({ source: windowsSource, file, volume: 'windows' as const })),
    ];
    let files: ExaminedFile[] = [];
    for (const [i, w] of work.entries()) {
      options.onFile?.(i, work.length, w.file.path);
      files.push({ ...(await examineFile(w.source, w.file, trust)), volume: w.volume });
    }
    files = checkMachines(files, machine);
    // Both microcode updates missing is a finding; one of them is normal (the other CPU vendor's).
    const mc = files.filter((f) => /mcupdate_/i.test(f.path));
    if (mc.length > 0 && mc.every((f) => f.verdict === 'missing')) {
      const first = mc[0]!;
      files[files.indexOf(first)] = { ...first, optional: false, stopCode: STATUS_NO_SUCH_FILE };
    }
    return {
      ...conclude(symptom, files),
      // The opened path: for a SAS URL, the redacted one.
      disk: opened.path,
      symptom,
      files,
      generation: where.generation,
      architecture: arch,
      bytesRead: device.bytesRead,
      reads: device.reads,
      diskSize: device.size,
      warnings,
    };
  } finally {
    await opened.device.close();
  }
}
