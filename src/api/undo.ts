// `undo`: restore every byte winrescue changed on a disk, from its undo journal (DESIGN.md "Safety model"). Works on
// the container FILE, whatever its format: the journal recorded the file's bytes, container metadata included.
import { stat as statPath } from 'node:fs/promises';
import { WinrescueError } from '../errors.js';
import { isHttpUrl, redactUrl } from '../disk/http/redact.js';
import { FileDevice, ImageFileHandle } from '../disk/file-device.js';
import {
  checkJournalPath,
  defaultJournalPath,
  fileJournalStorage,
  undoJournal,
  type JournalTarget,
  type UndoReport,
} from '../disk/journal/index.js';

export interface UndoApiOptions {
  /** Journal location; default DISK.winrescue-undo; required for a block device. */
  journalPath?: string;
  /** Restore even where the disk no longer holds what winrescue wrote (discards those later changes). */
  force?: boolean;
}

export interface UndoResult extends UndoReport {
  disk: string;
  journal: string;
}

export async function undo(diskPath: string, options: UndoApiOptions = {}): Promise<UndoResult> {
  let st;
  try {
    st = await statPath(diskPath);
  } catch {
    throw new WinrescueError('disk.notFound', `${diskPath}: no such file`, { path: diskPath });
  }
  const block = st.isBlockDevice();
  if (block && options.journalPath === undefined) {
    throw new WinrescueError(
      'journal.pathRequired',
      `${diskPath} is a block device: say where its undo journal is (--journal PATH)`,
      { path: diskPath },
    );
  }
  if (!block && !st.isFile())
    throw new WinrescueError('disk.notAFile', `${diskPath} is not a disk image`, { path: diskPath });
  const journal = options.journalPath ?? defaultJournalPath(diskPath);
  checkJournalPath(diskPath, journal);
  const openTarget = async (): Promise<JournalTarget> =>
    block ? FileDevice.open(diskPath, { readOnly: false }) : ImageFileHandle.open(diskPath, false);
  const report = await undoJournal(openTarget, fileJournalStorage(journal), diskPath, {
    force: options.force === true,
  });
  return { disk: diskPath, journal, ...report };
}

/** The command that undoes a writing session, for `repair --json`'s "undo" field and human output. */
export function undoCommand(diskPath: string, journalPath?: string): string {
  const quote = (s: string) => (/^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const custom = journalPath !== undefined && journalPath !== defaultJournalPath(diskPath);
  // A SAS URL is a credential: the hint names the disk without it (the user has the URL).
  const disk = isHttpUrl(diskPath) ? redactUrl(diskPath) : diskPath;
  return `winrescue undo ${quote(disk)}${custom ? ` --journal ${quote(journalPath)}` : ''}`;
}
