// What `stat` reports about one file: every name (hard links, DOS 8.3), sizes, times, attributes, streams,
// reparse point and security id, from its records (base + extensions).
import { WinrescueError } from '../../errors.js';
import { ATTR, attributeTypeName } from './attribute.js';
import { isCompressed, isEncrypted, isSparse } from './data-stream.js';
import { findAttribute, type NtfsFile, type ResolvedAttribute } from './file-record.js';
import { parseFileName, NAMESPACE, type NamespaceName } from './attributes/file-name.js';
import {
  fileAttributeNames,
  parseStandardInformation,
  type NtfsTimes,
} from './attributes/standard-information.js';
import { parseReparsePoint, type ReparsePoint } from './attributes/reparse-point.js';
import { ROOT_RECORD } from './mft-map.js';
import type { NtfsVolume } from './volume.js';

/** Parent chains longer than this are loops (Windows paths have at most 32,767 characters). */
const MAX_PATH_DEPTH = 16384;

export interface NameInfo {
  readonly parent: number;
  readonly parentSequence: number;
  readonly name: string;
  readonly namespace: NamespaceName;
  /** Full path from the root with '/', when the parent chain could be followed. */
  readonly path?: string;
}

export interface StreamInfo {
  readonly name: string;
  readonly size: number;
  readonly allocatedSize: number;
  readonly resident: boolean;
  readonly compressed: boolean;
  readonly sparse: boolean;
  readonly encrypted: boolean;
}

export interface AttributeInfo {
  readonly type: number;
  readonly typeName: string;
  readonly name: string;
  readonly id: number;
  readonly resident: boolean;
  readonly size: number;
  readonly flags: number;
  readonly records: readonly number[];
}

export interface NtfsStat {
  readonly record: number;
  readonly sequence: number;
  readonly linkCount: number;
  readonly names: readonly NameInfo[];
  readonly type: 'file' | 'dir';
  /** Size of the unnamed $DATA (0 for directories). */
  readonly size: number;
  readonly allocatedSize: number;
  readonly times: NtfsTimes | null;
  readonly fileAttributes: number;
  readonly fileAttributeNames: readonly string[];
  readonly securityId: number | null;
  readonly streams: readonly StreamInfo[];
  readonly attributes: readonly AttributeInfo[];
  readonly reparse?: {
    tag: number;
    kind: string;
    substituteName?: string;
    printName?: string;
    wof?: ReparsePoint['wof'];
  };
  readonly extensionRecords: readonly number[];
}

export function streamInfo(a: ResolvedAttribute): StreamInfo {
  return {
    name: a.name,
    size: a.dataSize,
    allocatedSize: a.compressedSize ?? a.allocatedSize,
    resident: a.resident,
    compressed: isCompressed(a),
    sparse: isSparse(a),
    encrypted: isEncrypted(a),
  };
}

export function isDirectoryFile(file: NtfsFile): boolean {
  return findAttribute(file, ATTR.INDEX_ROOT, '$I30') !== undefined;
}

/** The path of `record` reached through its parent chain, or undefined if the chain breaks or loops. */
export async function pathOf(vol: NtfsVolume, name: string, parent: number): Promise<string | undefined> {
  const parts = [name];
  let at = parent;
  const seen = new Set<number>();
  while (at !== ROOT_RECORD) {
    if (seen.has(at) || seen.size > MAX_PATH_DEPTH) return undefined;
    seen.add(at);
    try {
      const f = await vol.file(at);
      const names = f.attributes
        .filter((a) => a.type === ATTR.FILE_NAME && a.value)
        .map((a) => parseFileName(a.value!, at));
      const best = names.find((n) => n.namespace !== NAMESPACE.DOS) ?? names[0];
      if (!best) return undefined;
      parts.push(best.name);
      at = best.parent.record;
    } catch (e) {
      if (e instanceof WinrescueError) return undefined;
      throw e;
    }
  }
  return '/' + parts.reverse().join('/');
}

export async function statFile(vol: NtfsVolume, file: NtfsFile, withPaths = true): Promise<NtfsStat> {
  const rec = file.record;
  const si = findAttribute(file, ATTR.STANDARD_INFORMATION);
  const std = si?.value ? parseStandardInformation(si.value, rec) : null;
  const names: NameInfo[] = [];
  for (const a of file.attributes) {
    if (a.type !== ATTR.FILE_NAME || !a.value) continue;
    const fn = parseFileName(a.value, rec);
    const info: NameInfo = {
      parent: fn.parent.record,
      parentSequence: fn.parent.sequence,
      name: fn.name,
      namespace: fn.namespaceName,
    };
    const path =
      withPaths && rec !== ROOT_RECORD
        ? await pathOf(vol, fn.name, fn.parent.record)
        : rec === ROOT_RECORD
          ? '/'
          : undefined;
    names.push(path === undefined ? info : { ...info, path });
  }
  const data = findAttribute(file, ATTR.DATA);
  const rpAttr = findAttribute(file, ATTR.REPARSE_POINT);
  let reparse: NtfsStat['reparse'];
  if (rpAttr?.value) {
    const rp = parseReparsePoint(rpAttr.value, rec);
    reparse = {
      tag: rp.tag,
      kind: rp.kind,
      substituteName: rp.substituteName,
      printName: rp.printName,
      wof: rp.wof,
    };
  }
  return {
    record: rec,
    sequence: file.base.sequence,
    linkCount: file.base.linkCount,
    names,
    type: isDirectoryFile(file) ? 'dir' : 'file',
    size: data?.dataSize ?? 0,
    allocatedSize: data ? (data.compressedSize ?? data.allocatedSize) : 0,
    times: std?.times ?? null,
    fileAttributes: std?.fileAttributes ?? 0,
    fileAttributeNames: fileAttributeNames(std?.fileAttributes ?? 0),
    securityId: std?.securityId ?? null,
    streams: file.attributes.filter((a) => a.type === ATTR.DATA).map(streamInfo),
    attributes: file.attributes.map((a) => ({
      type: a.type,
      typeName: attributeTypeName(a.type),
      name: a.name,
      id: a.id,
      resident: a.resident,
      size: a.dataSize,
      flags: a.flags,
      records: a.records,
    })),
    ...(reparse ? { reparse } : {}),
    extensionRecords: file.extensions.map((r) => r.recordNumber),
  };
}
