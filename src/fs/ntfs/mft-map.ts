// Where the MFT itself lives: record 0 ($MFT) at the boot sector's $MFT LCN, its unnamed $DATA runlist,
// possibly continued in extension records named by its attribute list (a fragmented $MFT), and the
// $MFTMirr copy of records 0-3 when record 0 is damaged. flatcap linux-ntfs ntfs/files/mft.html, mftmirr.html.
import { WinrescueError, hex, isWinrescueError } from '../../errors.js';
import { ATTR, type Attribute } from './attribute.js';
import type { BootSector } from './boot-sector.js';
import { AttributeStream, readRuns, type ClusterIo } from './data-stream.js';
import { parseAttributeList } from './attributes/attribute-list.js';
import { parseMftRecord, type MftRecord } from './mft-record.js';
import type { DataRun } from './runlist.js';

/** $MFT's attribute list names one entry per extent: 16 MiB is far beyond any real volume. */
const MAX_MFT_ATTRIBUTE_LIST = 16 * 1024 * 1024;

export const MFT_RECORD = 0;
export const MFTMIRR_RECORD = 1;
export const LOGFILE_RECORD = 2;
export const VOLUME_RECORD = 3;
export const ROOT_RECORD = 5;
export const SECURE_RECORD = 9;
export const UPCASE_RECORD = 10;

export interface MftMap {
  readonly runs: readonly DataRun[];
  readonly recordCount: number;
  readonly record0: MftRecord;
  /** Record 0's bytes as on disk (fixups in place), from wherever record0 came from. */
  readonly record0Raw: Uint8Array;
}

const rawCopies = new WeakMap<MftRecord, Uint8Array>();

async function readRecordAt(io: ClusterIo, boot: BootSector, lcn: number, what: string): Promise<MftRecord> {
  const at = lcn * boot.clusterSize;
  const raw = await io.device.read(at, boot.mftRecordSize);
  const rec = parseMftRecord(raw.slice(), MFT_RECORD, at, boot.totalClusters);
  rawCopies.set(rec, raw);
  if (!rec.inUse || rec.baseReference.record !== 0) {
    throw new WinrescueError('ntfs.badRecord', `${what} at ${hex(at)} is not an in-use base record`, {
      offset: at,
      record: 0,
      structure: 'ntfs.mftRecord',
    });
  }
  return rec;
}

function dataExtents(rec: MftRecord): Attribute[] {
  return rec.attributes.filter((a) => a.type === ATTR.DATA && a.name === '' && a.nonResident);
}

function bad(message: string, record0: MftRecord, actual?: unknown): never {
  throw new WinrescueError('ntfs.badRecord', `$MFT (record 0 at ${hex(record0.offset)}): ${message}`, {
    offset: record0.offset,
    record: 0,
    structure: 'ntfs.mftRecord',
    actual,
  });
}

export async function decodeMftMap(io: ClusterIo, boot: BootSector, warnings: string[]): Promise<MftMap> {
  let record0: MftRecord;
  try {
    record0 = await readRecordAt(io, boot, boot.mftLcn, 'MFT record 0');
  } catch (e) {
    if (!isWinrescueError(e) || e.code.startsWith('disk.')) throw e;
    let mirror: MftRecord;
    try {
      mirror = await readRecordAt(io, boot, boot.mftMirrLcn, '$MFTMirr copy of record 0');
    } catch (e2) {
      throw new WinrescueError(
        'ntfs.badRecord',
        `MFT record 0 is damaged (${e.message}) and so is its $MFTMirr copy (${(e2 as Error).message})`,
        {
          offset: boot.mftLcn * boot.clusterSize,
          record: 0,
          structure: 'ntfs.mftRecord',
          cause: e,
        },
      );
    }
    warnings.push(
      `MFT record 0 at ${hex(boot.mftLcn * boot.clusterSize)} is damaged (${e.message}); using its copy in $MFTMirr at ${hex(boot.mftMirrLcn * boot.clusterSize)}`,
    );
    record0 = mirror;
  }
  const first = dataExtents(record0).find((a) => a.nonResident!.startVcn === 0);
  if (!first) bad('has no non-resident unnamed $DATA starting at VCN 0', record0);
  const nr = first.nonResident!;
  for (const a of dataExtents(record0)) if (a.nonResident!.runlistError) throw a.nonResident!.runlistError;
  let runs: DataRun[] = [...nr.runs];
  for (const a of dataExtents(record0)) if (a !== first) runs.push(...a.nonResident!.runs);
  const listAttr = record0.attributes.find((a) => a.type === ATTR.ATTRIBUTE_LIST);
  if (listAttr) {
    const bytes = listAttr.resident
      ? listAttr.value!
      : await new AttributeStream(
          io,
          {
            type: listAttr.type,
            name: '',
            flags: listAttr.flags,
            id: listAttr.id,
            resident: false,
            value: null,
            allocatedSize: listAttr.nonResident!.allocatedSize,
            dataSize: listAttr.nonResident!.dataSize,
            initializedSize: listAttr.nonResident!.initializedSize,
            compressionUnit: 0,
            compressedSize: null,
            runs: listAttr.nonResident!.runs,
            runlistError: listAttr.nonResident!.runlistError,
            records: [0],
            offset: record0.offset + listAttr.offset,
          },
          { label: '$MFT attribute list', record: 0 },
        ).readAllAtMost(MAX_MFT_ATTRIBUTE_LIST, 'attribute list');
    const seen = new Set<number>([0]);
    for (const e of parseAttributeList(bytes, 0)) {
      if (e.type !== ATTR.DATA || e.name !== '' || seen.has(e.reference.record)) continue;
      seen.add(e.reference.record);
      const n = e.reference.record;
      // The extension record must lie in the part of the MFT mapped so far.
      const raw = new Uint8Array(boot.mftRecordSize);
      runs.sort((x, y) => x.vcn - y.vcn);
      await readRuns(io, runs, n * boot.mftRecordSize, raw, {
        label: `$MFT extension record ${n}`,
        record: n,
      });
      const vcnAt = Math.floor((n * boot.mftRecordSize) / boot.clusterSize);
      const run = runs.find((r) => vcnAt >= r.vcn && vcnAt < r.vcn + r.length)!;
      const ext = parseMftRecord(
        raw,
        n,
        run.lcn! * boot.clusterSize + (n * boot.mftRecordSize - run.vcn * boot.clusterSize),
        boot.totalClusters,
      );
      if (ext.baseReference.record !== 0)
        bad(
          `extension record ${n} belongs to record ${ext.baseReference.record}`,
          record0,
          ext.baseReference.record,
        );
      for (const a of dataExtents(ext)) {
        if (a.nonResident!.runlistError) throw a.nonResident!.runlistError;
        runs.push(...a.nonResident!.runs);
      }
    }
  }
  runs.sort((x, y) => x.vcn - y.vcn);
  let vcn = 0;
  for (const r of runs) {
    if (r.vcn !== vcn)
      bad(`$DATA runs leave a gap or overlap at VCN ${vcn} (next run starts at ${r.vcn})`, record0, r.vcn);
    if (r.lcn === null) bad(`$DATA has a sparse run at VCN ${r.vcn}`, record0, r.vcn);
    vcn += r.length;
  }
  runs = runs.filter((r) => r.length > 0);
  const mapped = vcn * boot.clusterSize;
  const usable = Math.min(nr.dataSize, nr.initializedSize, mapped);
  if (usable < nr.dataSize)
    warnings.push(
      `$MFT runs map ${mapped} bytes of its ${nr.dataSize}; records past ${Math.floor(usable / boot.mftRecordSize)} are unreachable`,
    );
  return {
    runs,
    recordCount: Math.floor(usable / boot.mftRecordSize),
    record0,
    record0Raw: rawCopies.get(record0)!,
  };
}
