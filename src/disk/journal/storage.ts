// Where an undo journal lives: a file beside the disk by default (DISK.winrescue-undo), created atomically (temp
// file, fsync, link to the final name, fsync of the folder) so a journal that exists always has a whole header.
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { WinrescueError } from '../../errors.js';
import type { ImageFile } from '../block-device.js';
import { ImageFileHandle } from '../file-device.js';

export const JOURNAL_SUFFIX = '.winrescue-undo';
/** A journal whose undo finished is renamed with this suffix: the next write starts a new one. */
export const DONE_SUFFIX = '.done';

export function defaultJournalPath(diskPath: string): string {
  return diskPath + JOURNAL_SUFFIX;
}

/** Refuses a journal path that names the disk itself (the journal would overwrite what it protects). */
export function checkJournalPath(diskPath: string, journalPath: string): void {
  if (
    resolve(diskPath) === resolve(journalPath) ||
    resolve(diskPath) + DONE_SUFFIX === resolve(journalPath)
  ) {
    throw new WinrescueError(
      'journal.pathRequired',
      `the undo journal must be a file of its own, not the disk ${diskPath}`,
      { path: journalPath },
    );
  }
}

/** The journal's backing store; tests put a simulated power-loss file behind it. */
export interface JournalStorage {
  readonly path: string;
  /** The whole journal, or null when there is none. */
  load(): Promise<Uint8Array | null>;
  /** The existing journal, open for appending. */
  openForAppend(): Promise<ImageFile>;
  /** A new journal holding exactly `initial`, durable on return, open for appending. */
  create(initial: Uint8Array): Promise<ImageFile>;
  /** Moves a finished journal aside; returns where it went. */
  retire(): Promise<string>;
  /** Where a retired journal is, if there is one. */
  retired(): Promise<string | null>;
}

function ioError(path: string, what: string, e: unknown): WinrescueError {
  return new WinrescueError('journal.io', `undo journal ${path}: cannot ${what}: ${(e as Error).message}`, {
    path,
    cause: e,
  });
}

async function syncFolder(path: string): Promise<void> {
  // Makes the rename itself durable; some filesystems refuse to open a folder for sync, and then the rename is
  // as durable as they make it.
  try {
    const fh = await open(dirname(path), 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* best effort */
  }
}

/** Filesystems without hard links (FAT, some network shares) get a check-then-rename instead. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Gives `tmp` the name `path` unless `path` exists (false then). A link, not a rename: a rename would silently
 * replace a journal that appeared meanwhile (another process writing this disk) and lose its old bytes.
 */
async function linkOrRename(tmp: string, path: string): Promise<boolean> {
  try {
    await link(tmp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_LINKS.has(code)) throw e;
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (!exists) await rename(tmp, path);
    return !exists;
  }
}

export function fileJournalStorage(path: string): JournalStorage {
  return {
    path,
    async load() {
      try {
        return new Uint8Array(await readFile(path));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        if ((e as NodeJS.ErrnoException).code === 'EISDIR')
          throw new WinrescueError('journal.badFormat', `undo journal ${path} is a directory`, { path });
        throw ioError(path, 'read it', e);
      }
    },
    async openForAppend() {
      return ImageFileHandle.open(path, false);
    },
    async create(initial) {
      const tmp = `${path}.${process.pid}.tmp`;
      let created: boolean;
      try {
        const fh = await open(tmp, 'w');
        try {
          await fh.write(initial, 0, initial.length, 0);
          await fh.sync();
        } finally {
          await fh.close();
        }
        created = await linkOrRename(tmp, path);
      } catch (e) {
        throw ioError(path, 'create it', e);
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
      if (!created) {
        throw new WinrescueError(
          'journal.incomplete',
          `undo journal ${path} appeared while this session was open: is another winrescue writing this disk?`,
          { path },
        );
      }
      await syncFolder(path);
      return ImageFileHandle.open(path, false);
    },
    async retire() {
      const to = path + DONE_SUFFIX;
      try {
        await rename(path, to);
      } catch (e) {
        throw ioError(path, `rename it to ${to}`, e);
      }
      await syncFolder(path);
      return to;
    },
    async retired() {
      try {
        await stat(path + DONE_SUFFIX);
        return path + DONE_SUFFIX;
      } catch {
        return null;
      }
    },
  };
}
