// openDisk for an http(s) URL: the same content detection as for a local file (VHDX, VHD, else raw) over an
// HttpImageFile. Read-only unless writing was asked for explicitly (--allow-write) and the SAS does not deny it.
import { WinrescueError } from '../../errors.js';
import type { BlockDevice, ImageFile } from '../block-device.js';
import { JournaledDevice, JournaledFile, checkJournalPath, fileJournalStorage } from '../journal/index.js';
import type { OpenedDisk } from '../open-disk.js';
import { detectVhd, openVhd } from '../vhd/index.js';
import { detectVhdx, openVhdx } from '../vhdx/index.js';
import { HttpImageFile, type HttpImageFileOptions } from './http-image-file.js';
import { ImageFileDevice } from './image-file-device.js';
import { redactUrl } from './redact.js';

let writesAllowed = false;

/** The CLI's --allow-write: without it no remote disk is opened writable, whatever the command wants. */
export function allowRemoteWrites(allowed: boolean): void {
  writesAllowed = allowed;
}

export interface OpenRemoteOptions {
  readOnly: boolean;
  journal?: { path?: string };
  /** Overrides the process-wide --allow-write. */
  allowWrite?: boolean;
  http?: HttpImageFileOptions;
}

export async function openRemoteDisk(url: string, options: OpenRemoteOptions): Promise<OpenedDisk> {
  const shown = redactUrl(url);
  const writable = !options.readOnly || options.journal !== undefined;
  if (writable && !(options.allowWrite ?? writesAllowed)) {
    throw new WinrescueError(
      'disk.readOnly',
      `${shown} is a remote disk, opened read-only: writing to it needs --allow-write and a SAS that grants write`,
      { path: shown },
    );
  }
  if (options.journal && options.journal.path === undefined) {
    throw new WinrescueError(
      'journal.pathRequired',
      `${shown} is a remote disk: say where its undo journal goes (--journal PATH)`,
      { path: shown },
    );
  }
  const http = await HttpImageFile.open(url, { ...options.http, allowWrite: writable });
  let file: ImageFile = http;
  let journalPath: { journalPath?: string } = {};
  if (options.journal) {
    const path = options.journal.path!;
    try {
      checkJournalPath(shown, path);
      const journaled = await JournaledFile.open(http, {
        storage: fileJournalStorage(path),
        diskPath: shown,
      });
      file = journaled;
      journalPath = { journalPath: journaled.journalPath };
    } catch (e) {
      await http.close();
      throw e;
    }
  }
  const openParent = (parentPath: string): Promise<BlockDevice> => {
    throw new WinrescueError(
      'disk.unsupported',
      `${shown} is a differencing image; its parent ${parentPath} cannot be located from a URL`,
      { path: shown },
    );
  };
  const readOnly = !writable;
  try {
    if (await detectVhdx(file)) {
      const device = await openVhdx(file, { readOnly, openParent });
      return {
        device,
        format: device.format,
        path: shown,
        warnings: [...(device.warnings ?? [])],
        ...journalPath,
      };
    }
    if (await detectVhd(file)) {
      const device = await openVhd(file, { readOnly, openParent });
      return { device, format: device.format, path: shown, warnings: [...device.warnings], ...journalPath };
    }
  } catch (e) {
    await file.close().catch(() => undefined);
    throw e;
  }
  const device =
    file instanceof JournaledFile ? new JournaledDevice(file, 512, shown) : new ImageFileDevice(file, shown);
  const warnings =
    device.size % 512 === 0 ? [] : [`${shown}: size ${device.size} is not a multiple of 512 bytes`];
  return { device, format: 'raw', path: shown, warnings, ...journalPath };
}
