// Checks one MFT record as read from disk, leniently: every fault becomes a finding and the rest of the record
// is still used. Header and fixups per flatcap linux-ntfs ntfs/concepts/file_record.html and fixup.html,
// attributes per concepts/attribute_header.html (sorted by type, ids below the next-id field, the resident-only
// types), mapping pairs per concepts/data_runs.html (they cover exactly start VCN..last VCN); libfsntfs asciidoc
// §"The MFT entry" and §"The attribute"; ntfs-3g layout.h MFT_RECORD, ATTR_RECORD.
import { WinrescueError, isWinrescueError } from '../../../errors.js';
import { ATTR, ATTR_END, attributeTypeName, parseAttribute, type Attribute } from '../attribute.js';
import {
  FILE_NAME_LENGTH_FIELD as FILE_NAME_LENGTH,
  FILE_NAME_NAME_FIELD as FILE_NAME_NAME,
  FILE_NAME_NAMESPACE_FIELD as FILE_NAME_NAMESPACE,
  NAMESPACE,
} from '../attributes/file-name.js';
import { le16, le32 } from '../le.js';
import { checkRecordHeader, MFT_RECORD_IN_USE, MFT_RECORD_IS_DIRECTORY } from '../mft-record.js';
import type { DataRun } from '../runlist.js';
import type { ProblemKind } from './problems.js';

/** NTFS 3.1 records keep their own number at 44 when the update sequence array starts at 48 or later. */
const RECORD_NUMBER_FIELD = 44;
const HEADER_WITH_NUMBER = 48;
const BASE_REFERENCE_FIELD = 32;
const NEXT_ATTRIBUTE_ID_FIELD = 40;
/** More attributes than this in one record is corrupt (a 4 KiB record holds at most 4096 / 24). */
const MAX_ATTRIBUTES = 512;
/** Attribute types NTFS only ever stores resident (ntfs-3g $AttrDef: ATTR_DEF_RESIDENT). */
const RESIDENT_ONLY = new Set<number>([
  ATTR.STANDARD_INFORMATION,
  ATTR.FILE_NAME,
  ATTR.OBJECT_ID,
  ATTR.VOLUME_NAME,
  ATTR.VOLUME_INFORMATION,
  ATTR.INDEX_ROOT,
]);
const I30 = '$I30';
/** $STANDARD_INFORMATION: 48 bytes in NTFS 1.2, 72 in 3.x with the security id at 52 (flatcap standard_information.html). */
const SI_V12_SIZE = 48;
const SI_V3_SIZE = 72;
const SI_SECURITY_ID = 52;

export type RecordState = 'empty' | 'free' | 'damaged' | 'inUse';

/** A $FILE_NAME as the check needs it: a view of its value (valid until the record's chunk is reused). */
export interface RecordName {
  readonly parent: number;
  readonly parentSequence: number;
  readonly namespace: number;
  readonly value: Uint8Array;
  /** Name length in UTF-16 units (the name starts at FILE_NAME_NAME). */
  readonly length: number;
}

export interface ClusterClaim {
  readonly lcn: number;
  readonly length: number;
  /** "$DATA", "$INDEX_ALLOCATION:$I30", for messages. */
  readonly attribute: string;
}

export interface RecordFacts {
  readonly record: number;
  readonly state: RecordState;
  readonly sequence: number;
  readonly linkCount: number;
  /** The base record this one extends (0 for a base record, and for extensions of $MFT itself). */
  readonly baseRecord: number;
  readonly baseSequence: number;
  /**
   * A base reference of 0 means a base record, except that $MFT's own extension records point at record 0 with
   * its sequence (1): the whole 64-bit reference decides.
   */
  readonly isExtension: boolean;
  readonly isDirectoryFlag: boolean;
  readonly findings: { kind: ProblemKind; detail: string }[];
  readonly names: RecordName[];
  /** $STANDARD_INFORMATION security id (NTFS 3.x values), 0 when absent. */
  readonly securityId: number;
  readonly hasI30Root: boolean;
  /** The record's $ATTRIBUTE_LIST attribute, when it has one. */
  readonly attributeList: Attribute | null;
  /** Clusters its non-resident attributes map (in-use records only). */
  readonly claims: ClusterClaim[];
}

function isZeroHeader(raw: Uint8Array): boolean {
  return raw[0] === 0 && raw[1] === 0 && raw[2] === 0 && raw[3] === 0;
}

function bare(
  n: number,
  state: RecordState,
  findings: RecordFacts['findings'],
  raw: Uint8Array,
  sequence = 0,
): RecordFacts {
  return {
    record: n,
    state,
    sequence,
    linkCount: 0,
    baseRecord: 0,
    baseSequence: 0,
    isExtension: false,
    isDirectoryFlag: (raw[22]! & MFT_RECORD_IS_DIRECTORY) !== 0,
    findings,
    names: [],
    securityId: 0,
    hasI30Root: false,
    attributeList: null,
    claims: [],
  };
}

function kindOf(e: WinrescueError): ProblemKind {
  if (e.code === 'ntfs.tornRecord') return 'torn-record';
  if (e.code === 'ntfs.badRunlist')
    return /past the end of the volume/.test(e.message) ? 'runlist-outside-volume' : 'bad-runlist';
  if (e.code === 'ntfs.badAttribute' || e.structure === 'ntfs.attribute') return 'bad-attribute';
  return 'bad-record';
}

/** The message without its "MFT record N at 0x…: " prefix (the report names the record itself). */
function reason(e: WinrescueError): string {
  return e.message.replace(/^MFT record \d+ at 0x[0-9a-f]+:\s*/, '');
}

/**
 * Analyses record `n` (bytes as on disk: fixups are undone here, in place). `offset` is its absolute device
 * offset; `totalClusters` bounds its runs; `clusterSize` checks allocated sizes.
 */
export function checkRecord(
  raw: Uint8Array,
  n: number,
  offset: number,
  totalClusters: number,
  clusterSize: number,
): RecordFacts {
  const findings: RecordFacts['findings'] = [];
  if (isZeroHeader(raw)) return bare(n, 'empty', findings, raw);
  let header;
  try {
    header = checkRecordHeader(raw, n, offset);
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    findings.push({ kind: kindOf(e), detail: reason(e) });
    return bare(n, 'damaged', findings, raw);
  }
  if ((header.flags & MFT_RECORD_IN_USE) === 0) return bare(n, 'free', findings, raw, header.sequence);
  if (header.usaOffset >= HEADER_WITH_NUMBER) {
    const stored = le32(raw, RECORD_NUMBER_FIELD);
    // 0 is what pre-XP records and some tools leave: not a contradiction.
    if (stored !== n && stored !== 0) {
      findings.push({ kind: 'bad-record', detail: `says it is record ${stored}` });
      return bare(n, 'damaged', findings, raw, header.sequence);
    }
  }
  const baseRecord = le32(raw, BASE_REFERENCE_FIELD) + le16(raw, BASE_REFERENCE_FIELD + 4) * 0x100000000;
  const baseSequence = le16(raw, BASE_REFERENCE_FIELD + 6);
  const isExtension = baseRecord !== 0 || baseSequence !== 0;
  const nextId = le16(raw, NEXT_ATTRIBUTE_ID_FIELD);
  const names: RecordName[] = [];
  const claims: ClusterClaim[] = [];
  // A handful of attributes a record: a plain array beats a Set per record over 200,000 records.
  const ids: number[] = [];
  let securityId = 0;
  let hasI30Root = false;
  let attributeList: Attribute | null = null;
  let previousType = 0;
  const where = { base: offset, record: n, totalClusters };
  let off = header.firstAttribute;
  for (let count = 0; ; count++) {
    if (off + 4 > header.bytesUsed || count >= MAX_ATTRIBUTES) {
      findings.push({
        kind: 'bad-attribute',
        detail: `attributes run past the used size ${header.bytesUsed} without an end marker`,
      });
      break;
    }
    if (le32(raw, off) === ATTR_END) break;
    let a: Attribute;
    try {
      a = parseAttribute(raw, off, header.bytesUsed, where);
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      findings.push({ kind: 'bad-attribute', detail: reason(e) });
      break;
    }
    const label = `${attributeTypeName(a.type)}${a.name ? `:${a.name}` : ''}`;
    if (a.type < previousType)
      findings.push({
        kind: 'attribute-order',
        detail: `${label} at +${off} follows ${attributeTypeName(previousType)}: attributes must be sorted by type`,
      });
    previousType = Math.max(previousType, a.type);
    if (ids.includes(a.id))
      findings.push({ kind: 'bad-attribute', detail: `attribute id ${a.id} is used twice` });
    else if (a.id >= nextId)
      findings.push({
        kind: 'bad-attribute',
        detail: `${label} has id ${a.id}, not below the record's next attribute id ${nextId}`,
      });
    ids.push(a.id);
    if (!a.resident && RESIDENT_ONLY.has(a.type))
      findings.push({ kind: 'bad-attribute', detail: `${label} is non-resident; NTFS keeps it resident` });
    if (a.resident) residentFacts(a, label, findings, names, (id) => (securityId = id));
    else nonResidentFacts(a, label, findings, claims, clusterSize, !isExtension);
    if (a.type === ATTR.INDEX_ROOT && a.name === I30) hasI30Root = true;
    if (a.type === ATTR.ATTRIBUTE_LIST) attributeList = a;
    off += a.length;
  }
  return {
    record: n,
    state: 'inUse',
    sequence: header.sequence,
    linkCount: header.linkCount,
    baseRecord,
    baseSequence,
    isExtension,
    isDirectoryFlag: (header.flags & MFT_RECORD_IS_DIRECTORY) !== 0,
    findings,
    names,
    securityId,
    hasI30Root,
    attributeList,
    claims,
  };
}

function residentFacts(
  a: Attribute,
  label: string,
  findings: RecordFacts['findings'],
  names: RecordName[],
  setSecurityId: (id: number) => void,
): void {
  const v = a.value!;
  if (a.type === ATTR.FILE_NAME) {
    // Read in place (no strings, no objects): a volume has one or two of these per file.
    const length = v.length >= FILE_NAME_NAME ? v[FILE_NAME_LENGTH]! : 0;
    const namespace = v.length >= FILE_NAME_NAME ? v[FILE_NAME_NAMESPACE]! : 0;
    if (v.length < FILE_NAME_NAME + length * 2)
      findings.push({ kind: 'bad-attribute', detail: `${label} value of ${v.length} bytes is cut short` });
    else if (namespace > NAMESPACE.WIN32_AND_DOS)
      findings.push({ kind: 'bad-attribute', detail: `${label} namespace ${namespace} is not 0..3` });
    else if (length === 0) findings.push({ kind: 'bad-attribute', detail: `${label} has an empty name` });
    else
      names.push({
        parent: le32(v, 0) + le16(v, 4) * 0x100000000,
        parentSequence: le16(v, 6),
        namespace,
        value: v,
        length,
      });
  } else if (a.type === ATTR.STANDARD_INFORMATION) {
    // Only the security id is needed: read it directly (converting the four times costs more than the check).
    if (v.length < SI_V12_SIZE)
      findings.push({ kind: 'bad-attribute', detail: `${label} value of ${v.length} bytes is too short` });
    else if (v.length >= SI_V3_SIZE) setSecurityId(le32(v, SI_SECURITY_ID));
  }
}

function nonResidentFacts(
  a: Attribute,
  label: string,
  findings: RecordFacts['findings'],
  claims: ClusterClaim[],
  clusterSize: number,
  isBase: boolean,
): void {
  const nr = a.nonResident!;
  if (nr.runlistError) {
    findings.push({ kind: kindOf(nr.runlistError), detail: `${label}: ${reasonOfRunlist(nr.runlistError)}` });
    return;
  }
  const runs: readonly DataRun[] = nr.runs;
  let mapped = 0;
  for (const r of runs) {
    mapped += r.length;
    if (r.lcn !== null) claims.push({ lcn: r.lcn, length: r.length, attribute: label });
  }
  const covered = nr.lastVcn - nr.startVcn + 1;
  if (mapped !== covered)
    findings.push({
      kind: 'bad-runlist',
      detail: `${label}: runs map ${mapped} clusters, the header says VCN ${nr.startVcn}..${nr.lastVcn} (${covered})`,
    });
  if (nr.startVcn !== 0) return;
  if (nr.initializedSize > nr.dataSize || nr.dataSize > nr.allocatedSize)
    findings.push({
      kind: 'bad-attribute',
      detail: `${label}: sizes impossible (initialized ${nr.initializedSize}, data ${nr.dataSize}, allocated ${nr.allocatedSize})`,
    });
  // Runs never map more than the allocation (later extents, named by an attribute list, may map the rest).
  if (isBase && nr.lastVcn >= 0 && nr.allocatedSize < covered * clusterSize)
    findings.push({
      kind: 'bad-attribute',
      detail: `${label}: allocated size ${nr.allocatedSize} is less than the ${covered} clusters its runs map`,
    });
}

function reasonOfRunlist(e: WinrescueError): string {
  return e.message.replace(/^MFT record \d+ at 0x[0-9a-f]+, attribute [^:]+:\s*/, '');
}

/** True for names that exist only as the 8.3 alias of another name (they do not count as links everywhere). */
export function isDosOnly(name: RecordName): boolean {
  return name.namespace === NAMESPACE.DOS;
}
