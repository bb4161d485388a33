// Growing $MFT when no record is free (flatcap linux-ntfs files/mft.html; ntfs-3g mft.c describes the same
// steps): more clusters for $MFT's $DATA (preferably right after its last run, in the MFT zone), the new records
// formatted as unused FILE records (header and update sequence valid, not in use), and $MFT's $BITMAP grown to
// cover them (zero bits). Record 0 is rewritten (and mirrored) last, so until then the volume is unchanged.
import { WinrescueError } from '../../../errors.js';
import { setU16 } from '../../../util/bytes.js';
import { ATTR } from '../attribute.js';
import { applyFixupsOnWrite } from '../fixup.js';
import type { DataRun } from '../runlist.js';
import type { NtfsVolume } from '../volume.js';
import { mergeRuns, type ClusterBitmap } from './cluster-bitmap.js';
import { emptyRecord } from './new-record.js';
import {
  align8,
  attributeBytes,
  nonResidentAttribute,
  rebuildRecord,
  residentAttribute,
} from './record-builder.js';
import { writeThroughRuns } from './run-io.js';

/** Records added at a time: enough that a burst of creations does not rewrite record 0 for each. */
export const MFT_GROWTH_RECORDS = 256;
const RECORD_FLAGS_FIELD = 22;
const RECORD_LINK_COUNT_FIELD = 18;

export interface MftExtension {
  /** Record 0 with the grown $DATA and $BITMAP. */
  readonly record0: Uint8Array;
  /** Writes to do before record 0: formatted records, zeroed bitmap bytes. */
  readonly writes: { runs: readonly DataRun[]; offset: number; bytes: Uint8Array; label: string }[];
}

/** Plans the growth of $MFT by about `MFT_GROWTH_RECORDS` records (clusters taken from `clusters`). */
export async function planMftExtension(vol: NtfsVolume, clusters: ClusterBitmap): Promise<MftExtension> {
  const mft = await vol.file(0);
  if (mft.attributeList) {
    throw new WinrescueError(
      'ntfs.full',
      '$MFT is full and spread over extension records; extending it is not supported',
      {
        record: 0,
        structure: 'ntfs.mftRecord',
      },
    );
  }
  const rec = mft.base;
  const bytes = rec.bytes.slice();
  const data = rec.attributes.find((a) => a.type === ATTR.DATA && a.name === '');
  const bitmap = rec.attributes.find((a) => a.type === ATTR.BITMAP && a.name === '');
  if (!data?.nonResident || !bitmap) {
    throw new WinrescueError('ntfs.badAttribute', '$MFT lacks a non-resident $DATA or a $BITMAP', {
      record: 0,
    });
  }
  if (data.nonResident.runlistError) throw data.nonResident.runlistError;
  const cs = vol.clusterSize;
  const rs = vol.recordSize;
  const oldSize = data.nonResident.dataSize;
  const oldRecords = Math.floor(oldSize / rs);
  const newSize = Math.ceil((oldSize + MFT_GROWTH_RECORDS * rs) / cs) * cs;
  const newRecords = Math.floor(newSize / rs);
  const runs = [...data.nonResident.runs];
  const have = runs.reduce((n, r) => n + r.length, 0);
  const need = newSize / cs;
  if (need > have) {
    const last = runs[runs.length - 1];
    const hint = last && last.lcn !== null ? last.lcn + last.length : 0;
    runs.push(...clusters.allocate(need - have, have, hint));
  }
  const dataRuns = mergeRuns(runs);
  const writes: MftExtension['writes'] = [];
  const formatted = new Uint8Array(newSize - oldRecords * rs);
  for (let n = oldRecords; n < newRecords; n++) {
    const r = emptyRecord(rs, n, 1, false);
    setU16(r, RECORD_FLAGS_FIELD, 0);
    setU16(r, RECORD_LINK_COUNT_FIELD, 0);
    applyFixupsOnWrite(r, { label: `MFT record ${n}`, structure: 'ntfs.mftRecord', base: 0, record: n });
    formatted.set(r, (n - oldRecords) * rs);
  }
  writes.push({
    runs: dataRuns,
    offset: oldRecords * rs,
    bytes: formatted,
    label: `new MFT records ${oldRecords}..${newRecords - 1}`,
  });

  // $BITMAP: bytes stay a multiple of 8, new bits zero.
  const bitmapBytes = align8(Math.ceil(newRecords / 8));
  let bitmapAttr: Uint8Array;
  if (bitmap.resident) {
    const v = new Uint8Array(Math.max(bitmapBytes, bitmap.value!.length));
    v.set(bitmap.value!);
    bitmapAttr = residentAttribute(ATTR.BITMAP, '', bitmap.id, v);
  } else {
    const nr = bitmap.nonResident!;
    if (nr.runlistError) throw nr.runlistError;
    const bmRuns = [...nr.runs];
    const size = Math.max(bitmapBytes, nr.dataSize);
    const haveB = bmRuns.reduce((n, r) => n + r.length, 0);
    const needB = Math.ceil(size / cs);
    if (needB > haveB) {
      const last = bmRuns[bmRuns.length - 1];
      const hint = last && last.lcn !== null ? last.lcn + last.length : 0;
      bmRuns.push(...clusters.allocate(needB - haveB, haveB, hint));
    }
    const merged = mergeRuns(bmRuns);
    // Bytes past the old initialized size may hold anything: they become zeros before they count.
    if (size > nr.initializedSize) {
      writes.push({
        runs: merged,
        offset: nr.initializedSize,
        bytes: new Uint8Array(size - nr.initializedSize),
        label: '$MFT bitmap growth',
      });
    }
    bitmapAttr = nonResidentAttribute(ATTR.BITMAP, '', bitmap.id, merged, cs, {
      dataSize: size,
      initializedSize: size,
    });
  }
  const attrs = rec.attributes.map((a) =>
    a === data
      ? nonResidentAttribute(ATTR.DATA, '', a.id, dataRuns, cs, {
          dataSize: newSize,
          initializedSize: newSize,
        })
      : a === bitmap
        ? bitmapAttr
        : attributeBytes(bytes, a.offset),
  );
  return { record0: rebuildRecord(bytes, attrs, 0), writes };
}

export async function applyWrites(vol: NtfsVolume, ext: MftExtension): Promise<void> {
  for (const w of ext.writes)
    await writeThroughRuns(vol.device, vol.clusterSize, w.runs, w.offset, w.bytes, w.label);
}
