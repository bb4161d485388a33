// Removing and moving names: unlink (one $FILE_NAME and its index entry; the file itself when no name is
// left), rename/move. flatcap linux-ntfs concepts/links.html (a hard link is one more $FILE_NAME; the link count
// counts the names that are not DOS-only), attributes/file_name.html; ntfs-3g layout.h FILE_NAME_ATTR.
import { WinrescueError } from '../../../errors.js';
import { setU16, setU32 } from '../../../util/bytes.js';
import { ATTR } from '../attribute.js';
import { NAMESPACE, parseFileName, type FileName } from '../attributes/file-name.js';
import type { ClusterBitmap } from './cluster-bitmap.js';
import type { NtfsFile } from '../file-record.js';
import { le16 } from '../le.js';
import type { NtfsFileRef, NtfsVolume } from '../volume.js';
import { I30Editor } from './index-insert.js';
import { loadMftBitmap, setRecordUsed, type MftBitmap } from './mft-bitmap.js';
import { checkWin32Name, NAMESPACE_WIN32 } from './new-record.js';
import { attributeBytes, rebuildRecord } from './record-builder.js';

const ROOT_RECORD = 5;
const RECORD_SEQUENCE_FIELD = 16;
const RECORD_LINK_COUNT_FIELD = 18;
const RECORD_FLAGS_FIELD = 22;
const MFT_RECORD_IN_USE = 1;
const MAX_SEQUENCE = 0xffff;
/** $FILE_NAME: name length @64, namespace @65, name @66. */
const FN_NAME_LENGTH = 64;
const FN_NAMESPACE = 65;
const FN_NAME = 66;
const MAX_PATH_DEPTH = 1024;

/** What names.ts needs of the writer. */
export interface WriterCore {
  readonly volume: NtfsVolume;
  reopen(): Promise<void>;
  writeRecord(n: number, bytes: Uint8Array): Promise<void>;
  loadBitmap(): Promise<ClusterBitmap>;
  saveBitmap(bm: ClusterBitmap): Promise<void>;
  saveMftBitmap(bm: MftBitmap): Promise<void>;
  lookupOrNull(path: string): Promise<NtfsFileRef | null>;
}

interface NameAttr {
  readonly id: number;
  readonly offset: number;
  readonly fn: FileName;
}

function namesOf(file: NtfsFile): NameAttr[] {
  return file.base.attributes
    .filter((a) => a.type === ATTR.FILE_NAME && a.value)
    .map((a) => ({ id: a.id, offset: a.offset, fn: parseFileName(a.value!, file.record) }));
}

function splitPath(path: string): { parent: string; name: string } {
  const clean = path.replace(/\\/g, '/').replace(/\/+$/, '');
  const slash = clean.lastIndexOf('/');
  return { parent: clean.slice(0, slash) || '/', name: clean.slice(slash + 1) };
}

async function openFile(w: WriterCore, ref: NtfsFileRef, path: string): Promise<NtfsFile> {
  const file = await w.volume.file(ref.record);
  if (file.attributeList) {
    throw new WinrescueError(
      'ntfs.unsupported',
      `${path}: record ${ref.record} has an attribute list (names or data in extension records); not supported`,
      { path, record: ref.record },
    );
  }
  if (ref.record < 24 && ref.record !== ROOT_RECORD) {
    throw new WinrescueError('ntfs.refused', `${path} is an NTFS system file`, { path, record: ref.record });
  }
  if (ref.record === ROOT_RECORD)
    throw new WinrescueError('ntfs.refused', 'the root directory cannot be moved or removed', { path });
  return file;
}

/** The name `ref` was found under, and its DOS twin (a separate 8.3 name in the same folder), if any. */
function namesFor(file: NtfsFile, ref: NtfsFileRef, parent: number): NameAttr[] {
  const names = namesOf(file).filter((n) => n.fn.parent.record === parent);
  const main =
    names.find((n) => n.fn.name === ref.name && n.fn.namespace !== NAMESPACE.DOS) ??
    names.find((n) => n.fn.name === ref.name);
  if (!main)
    throw new WinrescueError(
      'ntfs.notFound',
      `record ${file.record} has no name "${ref.name}" in record ${parent}`,
      { record: file.record },
    );
  const twin =
    main.fn.namespace === NAMESPACE.WIN32 ? names.find((n) => n.fn.namespace === NAMESPACE.DOS) : undefined;
  return twin ? [main, twin] : [main];
}

function linkCount(names: readonly NameAttr[]): number {
  return names.filter((n) => n.fn.namespace !== NAMESPACE.DOS).length;
}

async function isEmptyDirectory(w: WriterCore, file: NtfsFile): Promise<boolean> {
  const tree = await w.volume.index(file);
  for await (const e of tree.entries()) {
    if (e.fileReference && e.fileReference.record !== file.record) return false;
  }
  return true;
}

/**
 * Removes the name `path` (with its DOS twin). When it was the file's last name, the file goes: its clusters
 * are freed, its record marked unused (sequence number bumped) and cleared in the $MFT bitmap. Directories must
 * be empty (`ntfs.notEmpty`).
 */
export async function unlinkPath(w: WriterCore, path: string): Promise<void> {
  const vol = w.volume;
  const ref = await vol.lookup(path);
  const file = await openFile(w, ref, path);
  const { parent: parentPath } = splitPath(path);
  const parentRef = await vol.lookup(parentPath);
  if (ref.isDir && !(await isEmptyDirectory(w, file))) {
    throw new WinrescueError('ntfs.notEmpty', `${path} is a directory that is not empty`, {
      path,
      record: ref.record,
    });
  }
  const removed = namesFor(file, ref, parentRef.record);
  const parent = await vol.file(parentRef.record);
  const clusters = await w.loadBitmap();
  const editor = new I30Editor(vol, parent, clusters, await vol.upcase());
  for (const n of removed) await editor.remove(n.fn.units, ref.record);
  const parentRecord = editor.buildRecord();
  const remaining = namesOf(file).filter((n) => !removed.some((r) => r.id === n.id));
  const bytes = file.base.bytes.slice();
  let record: Uint8Array;
  let mft: MftBitmap | null = null;
  if (remaining.length > 0) {
    const attrs = file.base.attributes
      .filter((a) => !removed.some((r) => r.id === a.id && a.type === ATTR.FILE_NAME))
      .map((a) => attributeBytes(bytes, a.offset));
    record = rebuildRecord(bytes, attrs, ref.record);
    setU16(record, RECORD_LINK_COUNT_FIELD, linkCount(remaining));
  } else {
    for (const a of file.attributes) {
      if (a.resident) continue;
      if (a.runlistError) throw a.runlistError;
      clusters.free(a.runs);
    }
    record = bytes;
    setU16(record, RECORD_FLAGS_FIELD, le16(record, RECORD_FLAGS_FIELD) & ~MFT_RECORD_IN_USE);
    const seq = le16(record, RECORD_SEQUENCE_FIELD);
    setU16(record, RECORD_SEQUENCE_FIELD, seq >= MAX_SEQUENCE ? 1 : seq + 1);
    mft = await loadMftBitmap(vol);
    setRecordUsed(mft, ref.record, false);
  }
  // Entries first (nothing points at the record any more), then the record and the allocations.
  await editor.writeBlocks();
  await w.writeRecord(parentRef.record, parentRecord);
  await w.writeRecord(ref.record, record);
  await w.saveBitmap(clusters);
  if (mft) await w.saveMftBitmap(mft);
  await w.reopen();
}

/** A $FILE_NAME value moved to `parent` under `name` (Win32 namespace); times, sizes and flags kept. */
function renamedValue(old: Uint8Array, parent: NtfsFileRef, name: string): Uint8Array {
  const v = new Uint8Array(FN_NAME + name.length * 2);
  v.set(old.subarray(0, FN_NAME_LENGTH));
  setU32(v, 0, parent.record % 0x100000000);
  setU16(v, 4, Math.floor(parent.record / 0x100000000));
  setU16(v, 6, parent.sequence);
  v[FN_NAME_LENGTH] = name.length;
  v[FN_NAMESPACE] = NAMESPACE_WIN32;
  for (let i = 0; i < name.length; i++) setU16(v, FN_NAME + i * 2, name.charCodeAt(i));
  return v;
}

/**
 * Moves the name `from` to `to` (another folder, another name, or only another case). The target must not
 * exist; a directory cannot move below itself. A DOS twin of the old name is dropped (the new name is Win32).
 */
export async function renamePath(w: WriterCore, from: string, to: string): Promise<void> {
  const vol = w.volume;
  const ref = await vol.lookup(from);
  const file = await openFile(w, ref, from);
  const src = splitPath(from);
  const dst = splitPath(to);
  checkWin32Name(dst.name, to);
  const srcParent = await vol.lookup(src.parent);
  const dstParent = await vol.lookup(dst.parent);
  if (!dstParent.isDir)
    throw new WinrescueError('ntfs.notADirectory', `${dst.parent} is not a directory`, { path: dst.parent });
  const existing = await w.lookupOrNull(to);
  if (existing && existing.record !== ref.record)
    throw new WinrescueError('ntfs.exists', `${to} already exists`, { path: to });
  if (ref.isDir) {
    let cur = dstParent.record;
    for (let i = 0; cur !== ROOT_RECORD; i++) {
      if (cur === ref.record || i > MAX_PATH_DEPTH) {
        throw new WinrescueError('ntfs.refused', `cannot move ${from} into itself (${to})`, { path: to });
      }
      const names = namesOf(await vol.file(cur));
      if (names.length === 0) break;
      cur = names[0]!.fn.parent.record;
    }
  }
  const removed = namesFor(file, ref, srcParent.record);
  const main = removed[0]!;
  const bytes = file.base.bytes.slice();
  const mainAttr = file.base.attributes.find((a) => a.id === main.id && a.type === ATTR.FILE_NAME)!;
  const value = renamedValue(mainAttr.value!, dstParent, dst.name);
  const clusters = await w.loadBitmap();
  const upcase = await vol.upcase();
  const srcEditor = new I30Editor(vol, await vol.file(srcParent.record), clusters, upcase);
  for (const n of removed) await srcEditor.remove(n.fn.units, ref.record);
  const same = srcParent.record === dstParent.record;
  const dstEditor = same ? srcEditor : new I30Editor(vol, await vol.file(dstParent.record), clusters, upcase);
  await dstEditor.insert(ref.record, file.base.sequence, value);
  const attrs = file.base.attributes
    .filter((a) => !(a.type === ATTR.FILE_NAME && removed.some((r) => r.id === a.id) && a.id !== main.id))
    .map((a) =>
      a.id === main.id && a.type === ATTR.FILE_NAME
        ? replaceValue(bytes, a.offset, value)
        : attributeBytes(bytes, a.offset),
    );
  const record = rebuildRecord(bytes, attrs, ref.record);
  setU16(
    record,
    RECORD_LINK_COUNT_FIELD,
    linkCount(namesOf(file).filter((n) => !removed.slice(1).some((r) => r.id === n.id))),
  );
  const srcRecord = srcEditor.buildRecord();
  const dstRecord = same ? null : dstEditor.buildRecord();
  await srcEditor.writeBlocks();
  if (!same) await dstEditor.writeBlocks();
  await w.saveBitmap(clusters);
  await w.writeRecord(ref.record, record);
  await w.writeRecord(srcParent.record, srcRecord);
  if (dstRecord) await w.writeRecord(dstParent.record, dstRecord);
  await w.reopen();
}

/** The resident attribute at `offset` with a new value (header kept: id, indexed flag). */
function replaceValue(record: Uint8Array, offset: number, value: Uint8Array): Uint8Array {
  const old = attributeBytes(record, offset);
  const valueOffset = le16(old, 20);
  const out = new Uint8Array(Math.ceil((valueOffset + value.length) / 8) * 8);
  out.set(old.subarray(0, valueOffset));
  setU32(out, 4, out.length);
  setU32(out, 16, value.length);
  out.set(value, valueOffset);
  return out;
}
