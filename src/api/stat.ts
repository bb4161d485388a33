// `stat`: what the MFT says about one file: record, every name (hard links and DOS 8.3 aliases), sizes,
// times, attributes, streams, security id.
import type { NtfsStat, NameInfo, StreamInfo, AttributeInfo } from '../fs/ntfs/index.js';
import { openVolume, type OpenVolumeOptions } from './open-volume.js';

export interface StatTimes {
  created: string | null;
  modified: string | null;
  mftModified: string | null;
  accessed: string | null;
}

export interface StatResult {
  partition: number | null;
  record: number;
  sequence: number;
  /** Paths of the file's Win32/POSIX names ('/'-separated, from the volume root); one per hard link. */
  names: string[];
  /** Paths spelled with the DOS 8.3 names. */
  dosNames: string[];
  /** Each $FILE_NAME as stored: parent record, name, namespace, path. */
  links: NameInfo[];
  linkCount: number;
  type: 'file' | 'dir';
  size: number;
  allocatedSize: number;
  times: StatTimes | null;
  fileAttributes: number;
  fileAttributeNames: string[];
  securityId: number | null;
  streams: StreamInfo[];
  attributes: AttributeInfo[];
  reparse?: NtfsStat['reparse'];
  extensionRecords: number[];
  warnings: string[];
}

export async function stat(
  diskPath: string,
  path: string,
  options: OpenVolumeOptions = {},
): Promise<StatResult> {
  const opened = await openVolume(diskPath, options);
  try {
    const vol = opened.volume;
    const ref = await vol.lookup(path);
    const st = await vol.stat(ref.record);
    const pathOf = (n: NameInfo) => n.path ?? `<record ${n.parent}>/${n.name}`;
    const result: StatResult = {
      partition: opened.partition,
      record: st.record,
      sequence: st.sequence,
      names: st.names.filter((n) => n.namespace !== 'dos').map(pathOf),
      dosNames: st.names.filter((n) => n.namespace === 'dos').map(pathOf),
      links: [...st.names],
      linkCount: st.linkCount,
      type: st.type,
      size: st.size,
      allocatedSize: st.allocatedSize,
      times: st.times && {
        created: st.times.created.iso,
        modified: st.times.modified.iso,
        mftModified: st.times.mftModified.iso,
        accessed: st.times.accessed.iso,
      },
      fileAttributes: st.fileAttributes,
      fileAttributeNames: [...st.fileAttributeNames],
      securityId: st.securityId,
      streams: [...st.streams],
      attributes: [...st.attributes],
      extensionRecords: [...st.extensionRecords],
      warnings: opened.warnings,
    };
    if (st.reparse) result.reparse = st.reparse;
    return result;
  } finally {
    await opened.close();
  }
}
