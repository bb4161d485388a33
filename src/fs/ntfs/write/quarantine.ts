// Quarantining a record that is itself corrupt (torn, garbled attributes): it cannot be opened as a file, so it
// cannot be renamed or unlinked by name. Its index entries are found by scanning every directory, its clusters
// are read from whatever of its runlists still decodes (fixups restored without the torn-write check), and a
// cluster is freed only when no other in-use record claims it (a cross-linked cluster stays with its other
// owner). The record is then rewritten as an unused FILE record (sequence bumped) and cleared in the $MFT
// bitmap; its old bytes remain recoverable only through the undo journal. flatcap linux-ntfs
// concepts/file_record.html, concepts/fixup.html, files/bitmap.html.
import { WinrescueError, isWinrescueError } from '../../../errors.js';
import { setU16 } from '../../../util/bytes.js';
import { parseFileName } from '../attributes/file-name.js';
import { le16 } from '../le.js';
import { salvageRecord } from '../salvage.js';
import { I30Editor } from './index-insert.js';
import { FIRST_USER_RECORD, loadMftBitmap, setRecordUsed } from './mft-bitmap.js';
import type { WriterCore } from './names.js';
import { emptyRecord } from './new-record.js';

const MAX_SEQUENCE = 0xffff;

export interface QuarantineReport {
  readonly record: number;
  /** Index entries removed: directory record and the name the entry carried. */
  readonly entriesRemoved: readonly { directory: number; name: string }[];
  readonly clustersFreed: number;
  /** Clusters the record's runlists name that another record also claims: left allocated. */
  readonly clustersKeptShared: number;
  /** With `freeUnclaimed`: clusters marked in use that no in-use record claims, freed (lost clusters). */
  readonly lostClustersFreed: number;
}

export interface QuarantineOptions {
  /**
   * Also free every cluster $Bitmap marks in use that no other in-use record claims. A record whose runlist is
   * garbled or points outside the volume leaves its real clusters unnamed: nothing can reach them, and chkdsk
   * frees them the same way ("lost clusters").
   */
  readonly freeUnclaimed?: boolean;
}

export async function quarantineRecord(
  w: WriterCore,
  n: number,
  options: QuarantineOptions = {},
): Promise<QuarantineReport> {
  const vol = w.volume;
  if (!Number.isSafeInteger(n) || n < FIRST_USER_RECORD || n >= vol.mftRecordCount) {
    throw new WinrescueError(
      'ntfs.refused',
      `record ${n} is a system record or outside $MFT; not quarantined`,
      {
        record: n,
        expected: `${FIRST_USER_RECORD}..${vol.mftRecordCount - 1}`,
        actual: n,
      },
    );
  }
  const total = vol.boot.totalClusters;
  const claimed = new Uint8Array(Math.ceil(total / 8));
  const directories: number[] = [];
  // One pass over $MFT: clusters claimed by every other in-use record, and the directories to search.
  for await (const item of vol.records()) {
    if (!('value' in item)) continue;
    const r = item.value;
    if (!r.inUse || r.recordNumber === n) continue;
    if (r.isDirectory && r.baseReference.record === 0) directories.push(r.recordNumber);
    for (const a of r.attributes) {
      if (!a.nonResident || a.nonResident.runlistError) continue;
      for (const run of a.nonResident.runs) {
        if (run.lcn === null) continue;
        for (let c = run.lcn; c < run.lcn + run.length && c < total; c++)
          claimed[c >> 3] = claimed[c >> 3]! | (1 << (c & 7));
      }
    }
  }
  const raw = await vol.readMftBytes(n, 1);
  const own = salvageRecord(raw, n, total).runs;
  const clusters = await w.loadBitmap();
  let freed = 0;
  let shared = 0;
  for (const run of own) {
    if (run.lcn === null) continue;
    for (let c = run.lcn; c < run.lcn + run.length && c < total; c++) {
      if ((claimed[c >> 3]! & (1 << (c & 7))) !== 0) shared++;
      else if (clusters.isUsed(c)) {
        clusters.free([{ vcn: 0, lcn: c, length: 1 }]);
        freed++;
      }
    }
  }
  let lost = 0;
  if (options.freeUnclaimed) {
    for (let c = 0; c < total; c++) {
      if ((claimed[c >> 3]! & (1 << (c & 7))) === 0 && clusters.isUsed(c)) {
        let end = c + 1;
        while (end < total && (claimed[end >> 3]! & (1 << (end & 7))) === 0 && clusters.isUsed(end)) end++;
        clusters.free([{ vcn: 0, lcn: c, length: end - c }]);
        lost += end - c;
        c = end;
      }
    }
  }
  const upcase = await vol.upcase();
  const editors: I30Editor[] = [];
  const removed: { directory: number; name: string }[] = [];
  for (const d of directories) {
    let names: { units: Uint16Array; name: string }[];
    let file;
    try {
      file = await vol.file(d);
      names = [];
      for await (const e of (await vol.index(file)).entries()) {
        if (e.fileReference?.record !== n) continue;
        const fn = parseFileName(e.key, d);
        names.push({ units: fn.units, name: fn.name });
      }
    } catch (e) {
      if (isWinrescueError(e)) continue;
      throw e;
    }
    if (names.length === 0) continue;
    const editor = new I30Editor(vol, file, clusters, upcase);
    for (const x of names) {
      await editor.remove(x.units, n);
      removed.push({ directory: d, name: x.name });
    }
    editors.push(editor);
  }
  const records = editors.map((e) => ({ n: e.file.record, bytes: e.buildRecord() }));
  const mft = await loadMftBitmap(vol);
  setRecordUsed(mft, n, false);
  const oldSequence = raw[0] === 0x46 ? le16(raw, 16) : 0;
  const replacement = emptyRecord(
    vol.recordSize,
    n,
    oldSequence >= MAX_SEQUENCE ? 1 : oldSequence + 1,
    false,
  );
  setU16(replacement, 22, 0);
  setU16(replacement, 18, 0);
  for (const e of editors) await e.writeBlocks();
  for (const r of records) await w.writeRecord(r.n, r.bytes);
  await w.writeRecord(n, replacement);
  await w.saveBitmap(clusters);
  await w.saveMftBitmap(mft);
  await w.reopen();
  return {
    record: n,
    entriesRemoved: removed,
    clustersFreed: freed,
    clustersKeptShared: shared,
    lostClustersFreed: lost,
  };
}
