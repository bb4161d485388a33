// A file as the sum of its base record and extension records: the attribute list (flatcap linux-ntfs
// ntfs/attributes/attribute_list.html) says which record holds each attribute extent; extents of one
// non-resident attribute are joined in VCN order into one runlist (libfsntfs asciidoc §"Attribute list").
import { WinrescueError, hex } from '../../errors.js';
import { ATTR, attributeTypeName, type Attribute, type NonResidentInfo } from './attribute.js';
import { parseAttributeList, type AttributeListEntry } from './attributes/attribute-list.js';
import type { MftRecord } from './mft-record.js';
import type { DataRun } from './runlist.js';

/** One logical attribute: resident value, or non-resident extents joined. */
export interface ResolvedAttribute {
  readonly type: number;
  readonly name: string;
  readonly flags: number;
  readonly id: number;
  readonly resident: boolean;
  readonly value: Uint8Array | null;
  /** Non-resident only (from the extent starting at VCN 0). */
  readonly allocatedSize: number;
  readonly dataSize: number;
  readonly initializedSize: number;
  readonly compressionUnit: number;
  readonly compressedSize: number | null;
  readonly runs: readonly DataRun[];
  /** The first damaged runlist among the extents: reading the data throws it. */
  readonly runlistError: WinrescueError | null;
  /** Records holding the attribute's extents, base first. */
  readonly records: readonly number[];
  /** Absolute offset of the (first) attribute header, for messages. */
  readonly offset: number;
}

export interface NtfsFile {
  readonly record: number;
  readonly base: MftRecord;
  readonly extensions: readonly MftRecord[];
  readonly attributeList: readonly AttributeListEntry[] | null;
  readonly attributes: readonly ResolvedAttribute[];
}

/** Enough extension records for any real file; more means a looping or forged attribute list. */
export const MAX_EXTENSION_RECORDS = 4096;

function fromExtent(a: Attribute, rec: MftRecord): ResolvedAttribute {
  return new ExtentAttribute(a, rec);
}

/** One extent as a resolved attribute; a class so its lazy `runs` getter lives on the prototype. */
class ExtentAttribute implements ResolvedAttribute {
  readonly type: number;
  readonly name: string;
  readonly flags: number;
  readonly id: number;
  readonly resident: boolean;
  readonly value: Uint8Array | null;
  readonly allocatedSize: number;
  readonly dataSize: number;
  readonly initializedSize: number;
  readonly compressionUnit: number;
  readonly compressedSize: number | null;
  readonly records: readonly number[];
  readonly offset: number;
  private readonly nr: NonResidentInfo | null;

  constructor(a: Attribute, rec: MftRecord) {
    const nr = a.nonResident;
    const size = a.value?.length ?? 0;
    this.type = a.type;
    this.name = a.name;
    this.flags = a.flags;
    this.id = a.id;
    this.resident = a.resident;
    this.value = a.value;
    this.allocatedSize = nr ? nr.allocatedSize : size;
    this.dataSize = nr ? nr.dataSize : size;
    this.initializedSize = nr ? nr.initializedSize : size;
    this.compressionUnit = nr ? nr.compressionUnit : 0;
    this.compressedSize = nr ? nr.compressedSize : null;
    this.records = [rec.recordNumber];
    this.offset = rec.offset + a.offset;
    this.nr = nr;
  }

  get runs(): readonly DataRun[] {
    return this.nr ? this.nr.runs : [];
  }

  get runlistError(): WinrescueError | null {
    return this.nr ? this.nr.runlistError : null;
  }
}

function badList(base: MftRecord, message: string, actual?: unknown): never {
  throw new WinrescueError(
    'ntfs.badAttribute',
    `MFT record ${base.recordNumber} at ${hex(base.offset)}: attribute list: ${message}`,
    {
      offset: base.offset,
      structure: 'ntfs.attributeList',
      record: base.recordNumber,
      actual,
    },
  );
}

/** Joins a later extent (start VCN > 0) onto the attribute holding the earlier VCNs (extents are rare: eager). */
function join(into: ResolvedAttribute, ext: Attribute, rec: MftRecord, base: MftRecord): ResolvedAttribute {
  const nr = ext.nonResident!;
  let error = into.runlistError ?? nr.runlistError;
  const lastRun = into.runs[into.runs.length - 1];
  const nextVcn = lastRun ? lastRun.vcn + lastRun.length : 0;
  if (!error && nr.startVcn !== nextVcn) {
    error = new WinrescueError(
      'ntfs.badRunlist',
      `MFT record ${base.recordNumber}: ${attributeTypeName(ext.type)} extent in record ${rec.recordNumber} starts at VCN ${nr.startVcn}, expected ${nextVcn}`,
      {
        offset: rec.offset + ext.offset,
        structure: 'ntfs.attributeList',
        record: base.recordNumber,
        expected: nextVcn,
        actual: nr.startVcn,
      },
    );
  }
  return {
    type: into.type,
    name: into.name,
    flags: into.flags,
    id: into.id,
    resident: into.resident,
    value: into.value,
    allocatedSize: into.allocatedSize,
    dataSize: into.dataSize,
    initializedSize: into.initializedSize,
    compressionUnit: into.compressionUnit,
    compressedSize: into.compressedSize,
    runs: error ? [] : [...into.runs, ...nr.runs],
    runlistError: error,
    records: into.records.includes(rec.recordNumber) ? into.records : [...into.records, rec.recordNumber],
    offset: into.offset,
  };
}

/** Flattens a record's attributes; extents with start VCN > 0 join the preceding extent of the same type/name. */
function collect(pieces: readonly { a: Attribute; rec: MftRecord }[], base: MftRecord): ResolvedAttribute[] {
  const out: ResolvedAttribute[] = [];
  const open = new Map<string, number>();
  for (const { a, rec } of pieces) {
    const key = `${a.type}:${a.name}`;
    if (a.nonResident && a.nonResident.startVcn > 0) {
      const i = open.get(key);
      if (i === undefined)
        badList(
          base,
          `${attributeTypeName(a.type)} extent at VCN ${a.nonResident.startVcn} in record ${rec.recordNumber} has no first extent`,
        );
      out[i] = join(out[i]!, a, rec, base);
      continue;
    }
    if (!a.resident) open.set(key, out.length);
    out.push(fromExtent(a, rec));
  }
  return out;
}

/** The attribute list's value: resident in the base record, or read through `readNonResident`. */
export async function resolveFile(
  base: MftRecord,
  loadRecord: (n: number) => Promise<MftRecord>,
  readNonResident: (attr: ResolvedAttribute) => Promise<Uint8Array>,
): Promise<NtfsFile> {
  const listAttr = base.attributes.find((a) => a.type === ATTR.ATTRIBUTE_LIST);
  if (!listAttr) {
    return {
      record: base.recordNumber,
      base,
      extensions: [],
      attributeList: null,
      attributes: collect(
        base.attributes.map((a) => ({ a, rec: base })),
        base,
      ),
    };
  }
  const listBytes = listAttr.resident ? listAttr.value! : await readNonResident(fromExtent(listAttr, base));
  const list = parseAttributeList(listBytes, base.recordNumber);
  const records = new Map<number, MftRecord>([[base.recordNumber, base]]);
  const extensions: MftRecord[] = [];
  for (const e of list) {
    const n = e.reference.record;
    if (records.has(n)) continue;
    if (extensions.length >= MAX_EXTENSION_RECORDS)
      badList(base, `more than ${MAX_EXTENSION_RECORDS} extension records`);
    const rec = await loadRecord(n);
    if (rec.baseReference.record !== base.recordNumber || !rec.inUse) {
      badList(
        base,
        `extension record ${n} belongs to record ${rec.baseReference.record}${rec.inUse ? '' : ' and is not in use'}`,
        rec.baseReference.record,
      );
    }
    if (e.reference.sequence !== 0 && rec.sequence !== e.reference.sequence) {
      badList(
        base,
        `extension record ${n} has sequence ${rec.sequence}, the list says ${e.reference.sequence}`,
        rec.sequence,
      );
    }
    records.set(n, rec);
    extensions.push(rec);
  }
  const pieces: { a: Attribute; rec: MftRecord }[] = [];
  for (const e of list) {
    const rec = records.get(e.reference.record)!;
    const a = rec.attributes.find((x) => x.type === e.type && x.id === e.id && x.name === e.name);
    if (!a)
      badList(base, `${attributeTypeName(e.type)} id ${e.id} is not in record ${rec.recordNumber}`, e.id);
    pieces.push({ a, rec });
  }
  return {
    record: base.recordNumber,
    base,
    extensions,
    attributeList: list,
    attributes: collect(pieces, base),
  };
}

export function findAttribute(file: NtfsFile, type: number, name = ''): ResolvedAttribute | undefined {
  return file.attributes.find((a) => a.type === type && a.name === name);
}
