// Opens any supported disk by its content (never its name): raw image or block device, VHD, VHDX.
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { WinrescueError, isWinrescueError } from '../errors.js';
import type { BlockDevice, ImageFile } from './block-device.js';
import { FileDevice, ImageFileHandle } from './file-device.js';
import { isHttpUrl, openRemoteDisk } from './http/index.js';
import {
  JournaledDevice,
  JournaledFile,
  checkJournalPath,
  defaultJournalPath,
  fileJournalStorage,
} from './journal/index.js';
import { detectVhd, openVhd } from './vhd/index.js';
import { detectVhdx, openVhdx } from './vhdx/index.js';

export type DiskFormat =
  'raw' | 'vhd-fixed' | 'vhd-dynamic' | 'vhd-differencing' | 'vhdx' | 'vhdx-differencing';

export interface OpenDiskOptions {
  readOnly?: boolean;
  /**
   * Write through the undo journal (implies readOnly: false): every write's old bytes are journaled and flushed
   * first. `path` defaults to DISK.winrescue-undo; a block device requires it.
   */
  journal?: { path?: string };
  /** http(s) URLs only: may the remote disk be written (the CLI's --allow-write)? Default: the CLI flag. */
  allowWrite?: boolean;
}

export interface OpenedDisk {
  device: BlockDevice;
  format: DiskFormat;
  path: string;
  warnings: string[];
  /** Where the undo journal is, when opened with `journal`. */
  journalPath?: string;
}

/** Differencing chains deeper than this are refused: real checkpoint chains are short, a loop is not. */
const MAX_PARENT_DEPTH = 32;

export async function openDisk(path: string, options: OpenDiskOptions = {}): Promise<OpenedDisk> {
  // A page blob or disk SAS URL: `path` of the result is the URL without its SAS.
  if (isHttpUrl(path)) {
    return openRemoteDisk(path, {
      readOnly: options.journal ? false : (options.readOnly ?? true),
      ...(options.journal ? { journal: options.journal } : {}),
      ...(options.allowWrite !== undefined ? { allowWrite: options.allowWrite } : {}),
    });
  }
  if (options.journal) return openAt(path, false, 0, options.journal);
  return openAt(path, options.readOnly ?? true, 0);
}

async function openAt(
  path: string,
  readOnly: boolean,
  depth: number,
  journal?: { path?: string },
): Promise<OpenedDisk> {
  if (depth > MAX_PARENT_DEPTH) {
    throw new WinrescueError(
      'disk.badField',
      `${path}: differencing chain deeper than ${MAX_PARENT_DEPTH} images`,
      {
        path,
        expected: `<= ${MAX_PARENT_DEPTH}`,
        actual: depth,
      },
    );
  }
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new WinrescueError('disk.notFound', `${path}: no such file`, { path });
  }
  if (st.isDirectory())
    throw new WinrescueError('disk.notAFile', `${path} is a directory, not a disk image`, { path });
  if (st.isBlockDevice()) {
    if (journal && journal.path === undefined) {
      throw new WinrescueError(
        'journal.pathRequired',
        `${path} is a block device: say where its undo journal goes (--journal PATH)`,
        { path },
      );
    }
    const device = await FileDevice.open(path, { readOnly });
    if (!journal) return { device, format: 'raw', path, warnings: [] };
    const journaled = await openJournaled(device, path, journal.path!).catch(async (e: unknown) => {
      await device.close();
      throw e;
    });
    const wrapped = new JournaledDevice(journaled, device.sectorSize, device.description);
    return { device: wrapped, format: 'raw', path, warnings: [], journalPath: journaled.journalPath };
  }
  const handle = await ImageFileHandle.open(path, readOnly);
  const file: ImageFile = journal
    ? await openJournaled(handle, path, journal.path ?? defaultJournalPath(path)).catch(
        async (e: unknown) => {
          await handle.close();
          throw e;
        },
      )
    : handle;
  const journalPath = file instanceof JournaledFile ? { journalPath: file.journalPath } : {};
  const openParent = async (parentPath: string) => {
    const parent = await openAt(resolve(dirname(path), parentPath), true, depth + 1);
    return parent.device as BlockDevice & { dataWriteGuid?: string };
  };
  try {
    if (await detectVhdx(file)) {
      const device = await openVhdx(file, { readOnly, openParent });
      return { device, format: device.format, path, warnings: [...(device.warnings ?? [])], ...journalPath };
    }
    if (await detectVhd(file)) {
      try {
        const device = await openVhd(file, { readOnly, openParent });
        return { device, format: device.format, path, warnings: [...device.warnings], ...journalPath };
      } catch (e) {
        // A raw image may end with a stale fixed-VHD footer (an image once converted, then cut back to its
        // volume): if no footer copy heads the file and the footer does not fit, the bytes are still a disk.
        // Read-only only: writing would make the stale footer look valid to other tools.
        const fixedCandidate = !(await startsWithVhdCookie(file));
        if (!(isWinrescueError(e) && e.code === 'disk.truncated' && fixedCandidate && readOnly)) throw e;
        await file.close();
        const device = await FileDevice.open(path, { readOnly });
        return { device, format: 'raw', path, warnings: [`${e.message}; opened as a raw image instead`] };
      }
    }
  } catch (e) {
    await file.close().catch(() => undefined);
    throw e;
  }
  if (file instanceof JournaledFile) {
    const device = new JournaledDevice(file, 512, basename(path));
    return { device, format: 'raw', path, warnings: rawWarnings(path, device.size), ...journalPath };
  }
  await file.close();
  const device = await FileDevice.open(path, { readOnly });
  const warnings =
    device.size % 512 === 0 ? [] : [`${path}: size ${device.size} is not a multiple of 512 bytes`];
  return { device, format: 'raw', path, warnings };
}

const VHD_COOKIE = 'conectix';

function rawWarnings(path: string, size: number): string[] {
  return size % 512 === 0 ? [] : [`${path}: size ${size} is not a multiple of 512 bytes`];
}

function openJournaled(
  target: ImageFileHandle | FileDevice,
  diskPath: string,
  journalPath: string,
): Promise<JournaledFile> {
  checkJournalPath(diskPath, journalPath);
  return JournaledFile.open(target, { storage: fileJournalStorage(journalPath), diskPath });
}

async function startsWithVhdCookie(file: ImageFile): Promise<boolean> {
  if (file.size < VHD_COOKIE.length) return false;
  const head = await file.read(0, VHD_COOKIE.length);
  return String.fromCharCode(...head) === VHD_COOKIE;
}
