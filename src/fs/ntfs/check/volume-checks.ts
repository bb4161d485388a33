// Whole-volume checks around the MFT pass: the boot sector against its backup (flatcap linux-ntfs
// ntfs/files/boot.html), $MFTMirr against $MFT (files/mftmirr.html), $Bitmap against the clusters the records
// claim (files/bitmap.html), the $MFT bitmap against the records in use (files/mft.html), the $LogFile restart
// state and the $Volume dirty flag (REFERENCE.md §5; Linux fs/ntfs/logfile.c rules), $Secure ids
// (files/secure.html).
import { isWinrescueError } from '../../../errors.js';
import { equalBytes } from '../../../util/bytes.js';
import { ATTR } from '../attribute.js';
import { BOOT_SECTOR_SIZE, parseBootSector } from '../boot-sector.js';
import { checkBackupBootSector } from '../boot-read.js';
import { AttributeStream } from '../data-stream.js';
import { findAttribute } from '../file-record.js';
import { applyFixupsOnRead } from '../fixup.js';
import { le32 } from '../le.js';
import type { NtfsVolume } from '../volume.js';
import { ClusterMap, RangeBuilder } from './cluster-map.js';
import { MIRRORED_RECORDS } from './mft-pass.js';
import { formatRanges, type Findings } from './problems.js';
import { STATE_DAMAGED, STATE_EMPTY, STATE_IN_USE, type RecordTable } from './record-table.js';
import { parseSdsHeader } from '../secure.js';

const MFTMIRR_RECORD = 1;
const LOGFILE_RECORD = 2;
const VOLUME_RECORD = 3;
const BITMAP_RECORD = 6;
const BOOT_RECORD = 7;
const SECURE_RECORD = 9;
/** $Bitmap is compared in pieces of this many bytes (32 Mi clusters each). */
const BITMAP_CHUNK = 4 * 1024 * 1024;
/** $SDS is read whole up to this size to cross-check $SII (real ones are a few MiB). */
const MAX_SDS_READ = 64 * 1024 * 1024;
const SDS_HEADER = 20;
/** Records 16..23 are reserved for future system files; 24 is the first ordinary one. */
const FIRST_RESERVED = 16;
const FIRST_USER_RECORD = 24;
/** Cluster ranges kept for messages. */
const RANGE_LIMIT = 64;
/** The $MFT bitmap grows in 8-byte steps and may run ahead of the records: allow that much beyond them. */
const MFT_BITMAP_SLACK = 64 * 1024;

/** The primary boot sector parses, and the backup in the volume's last sector is present and agrees. */
export async function checkBootSectors(vol: NtfsVolume, f: Findings): Promise<void> {
  try {
    parseBootSector(await vol.device.read(0, BOOT_SECTOR_SIZE), 0);
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    f.add('boot-sector', BOOT_RECORD, `primary boot sector is damaged (${e.message}); the backup was used`);
    return;
  }
  const volumeBytes = vol.boot.totalSectors * vol.boot.bytesPerSector;
  if (vol.device.size < volumeBytes)
    f.add(
      'boot-sector',
      BOOT_RECORD,
      `the boot sector says the volume is ${volumeBytes} bytes, the device holds ${vol.device.size}`,
    );
  let state: string;
  try {
    state = await checkBackupBootSector(vol.device, vol.boot);
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    state = 'damaged';
  }
  const at = vol.boot.totalSectors * vol.boot.bytesPerSector;
  if (state === 'differs')
    f.add('boot-sector', BOOT_RECORD, `backup boot sector at ${at} differs from the primary`);
  else if (state === 'damaged') f.add('boot-sector', BOOT_RECORD, `backup boot sector at ${at} is damaged`);
  else if (state === 'beyond-device')
    f.add('boot-sector', BOOT_RECORD, `backup boot sector at ${at} lies past the end of the image`);
}

/** Records 0..3 as $MFTMirr holds them (bytes as on disk), or nulls when the mirror cannot be read. */
export async function readMirror(vol: NtfsVolume, f: Findings): Promise<(Uint8Array | null)[]> {
  const rs = vol.recordSize;
  try {
    const buf = await vol.device.read(vol.boot.mftMirrLcn * vol.clusterSize, MIRRORED_RECORDS * rs);
    return Array.from({ length: MIRRORED_RECORDS }, (_, i) => buf.slice(i * rs, (i + 1) * rs));
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    f.add('mft-mirror', MFTMIRR_RECORD, `$MFTMirr cannot be read: ${e.message}`);
    return Array.from({ length: MIRRORED_RECORDS }, () => null);
  }
}

/** Used bytes of a record with fixups undone, or null when it is not a valid record. */
function usedBytes(raw: Uint8Array, n: number): Uint8Array | null {
  const b = raw.slice();
  if (b[0] !== 0x46 || b[1] !== 0x49 || b[2] !== 0x4c || b[3] !== 0x45) return null;
  try {
    applyFixupsOnRead(b, { label: `record ${n}`, structure: 'ntfs.mftRecord', base: 0 });
  } catch {
    return null;
  }
  const used = le32(b, 24);
  return used <= b.length ? b.subarray(0, used) : null;
}

/** $MFTMirr must hold the same first records as $MFT (compared as NTFS compares them: used bytes). */
export async function checkMirror(
  vol: NtfsVolume,
  mirror: (Uint8Array | null)[],
  f: Findings,
): Promise<void> {
  let mft: Uint8Array;
  try {
    mft = await vol.readMftBytes(0, MIRRORED_RECORDS);
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    return;
  }
  const rs = vol.recordSize;
  for (let n = 0; n < MIRRORED_RECORDS; n++) {
    const m = mirror[n];
    if (!m) continue;
    const a = usedBytes(mft.subarray(n * rs, (n + 1) * rs), n);
    const b = usedBytes(m, n);
    if (a && b && equalBytes(a, b)) continue;
    const what = !a
      ? 'is damaged in $MFT'
      : !b
        ? 'is damaged in $MFTMirr'
        : 'differs between $MFT and $MFTMirr';
    f.add('mft-mirror', n, `record ${n} ${what}`);
  }
}

/** Reads $Bitmap and compares it with the claimed clusters; returns the clusters in use but marked free. */
export async function checkBitmap(
  vol: NtfsVolume,
  clusters: ClusterMap,
  f: Findings,
  damagedRecords = 0,
): Promise<RangeBuilder | null> {
  let stream: AttributeStream;
  try {
    stream = await vol.openStream(BITMAP_RECORD);
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    f.add('unreadable', BITMAP_RECORD, `$Bitmap cannot be read, cluster accounting skipped: ${e.message}`);
    return null;
  }
  const need = clusters.claimed.length;
  if (stream.size < need)
    f.add('bad-attribute', BITMAP_RECORD, `$Bitmap holds ${stream.size} bytes, the volume needs ${need}`);
  const lost = new RangeBuilder(RANGE_LIMIT);
  const unmarked = new RangeBuilder(RANGE_LIMIT, clusters.totalClusters);
  for (let at = 0; at < Math.min(need, stream.size); at += BITMAP_CHUNK) {
    let bytes: Uint8Array;
    try {
      bytes = await stream.read(at, Math.min(BITMAP_CHUNK, need - at));
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      f.add('unreadable', BITMAP_RECORD, `$Bitmap bytes ${at}.. cannot be read: ${e.message}`);
      return null;
    }
    clusters.compareChunk(bytes, at, lost, unmarked);
  }
  if (lost.total > 0)
    f.add(
      'lost-clusters',
      BITMAP_RECORD,
      `${lost.total} cluster(s) marked in use in $Bitmap belong to no file: ${formatRanges(lost.ranges)}` +
        (damagedRecords > 0 ? ` (${damagedRecords} damaged record(s) may own some of them)` : ''),
    );
  return unmarked.total > 0 ? unmarked : null;
}

/** The $MFT bitmap ($BITMAP of record 0) against the records' in-use flags. */
export async function checkMftBitmap(vol: NtfsVolume, table: RecordTable, f: Findings): Promise<void> {
  let bits: Uint8Array;
  try {
    const mft = await vol.file(0);
    const a = findAttribute(mft, ATTR.BITMAP);
    if (!a) {
      f.add('bad-record', 0, '$MFT has no $BITMAP attribute');
      return;
    }
    bits = a.resident
      ? a.value!
      : await new AttributeStream(vol.clusterIo, a, { label: '$MFT bitmap', record: 0 }).readAllAtMost(
          Math.ceil(vol.mftRecordCount / 8) + MFT_BITMAP_SLACK,
          '$MFT bitmap',
        );
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    f.add('unreadable', 0, `the $MFT bitmap cannot be read: ${e.message}`);
    return;
  }
  const freeButMarked: number[] = [];
  const usedButClear: number[] = [];
  for (let n = 0; n < table.count; n++) {
    const set = ((bits[n >> 3] ?? 0) & (1 << (n & 7))) !== 0;
    const st = table.state[n];
    if (st === STATE_DAMAGED) continue;
    // Format may mark the reserved records 16..23 allocated without ever using them.
    if (set && st !== STATE_IN_USE && !(n >= FIRST_RESERVED && n < FIRST_USER_RECORD)) freeButMarked.push(n);
    else if (!set && st === STATE_IN_USE) usedButClear.push(n);
  }
  for (const n of freeButMarked.slice(0, 100))
    f.add(
      'mft-bitmap',
      n,
      `marked in use in the $MFT bitmap, but the record is ${table.state[n] === STATE_EMPTY ? 'zeroed' : 'free'}`,
    );
  for (const n of usedButClear.slice(0, 100))
    f.add('mft-bitmap', n, 'the record is in use but marked free in the $MFT bitmap');
}

/** $LogFile must be clean (or empty) and $Volume's dirty flag clear: otherwise Windows replays or runs chkdsk. */
export async function checkLogAndDirty(vol: NtfsVolume, f: Findings): Promise<void> {
  const info = await vol.info();
  const log = info.logfile;
  if (log.state === 'dirty')
    f.add(
      'logfile-dirty',
      LOGFILE_RECORD,
      `$LogFile holds transactions not yet applied (restart page ${log.page}, current LSN ${log.currentLsn}); Windows will replay them`,
    );
  else if (log.state === 'unreadable')
    f.add(
      'logfile-unreadable',
      LOGFILE_RECORD,
      `$LogFile restart pages are damaged: ${log.problems.join('; ')}`,
    );
  if (info.dirty)
    f.add('volume-dirty', VOLUME_RECORD, 'the $Volume dirty flag is set: Windows will run chkdsk at boot');
}

/** Every security id in use must be in $SII, and each $SII entry must point at its own $SDS entry. */
export async function checkSecure(
  vol: NtfsVolume,
  used: Map<number, { count: number; first: number }>,
  f: Findings,
): Promise<void> {
  if (used.size === 0) return;
  const known = new Set<number>();
  try {
    const secure = await vol.file(SECURE_RECORD);
    const sii = await vol.index(secure, '$SII');
    const entries = await sii.collectEntries();
    const sdsAttr = findAttribute(secure, ATTR.DATA, '$SDS');
    const sds =
      sdsAttr && sdsAttr.dataSize <= MAX_SDS_READ
        ? await new AttributeStream(vol.clusterIo, sdsAttr, {
            label: '$Secure:$SDS',
            record: SECURE_RECORD,
          }).readAll()
        : null;
    let bad = 0;
    for (const e of entries) {
      if (e.key.length < 4) continue;
      const id = le32(e.key, 0);
      known.add(id);
      if (!sds) continue;
      const h = parseSdsHeader(e.data);
      const ok =
        h.securityId === id &&
        h.offset >= 0 &&
        h.offset + SDS_HEADER <= sds.length &&
        h.length >= SDS_HEADER &&
        h.offset + h.length <= sds.length &&
        le32(sds, h.offset + 4) === id;
      if (!ok && bad++ < 10)
        f.add(
          'bad-secure',
          SECURE_RECORD,
          `$SII entry for security id ${id} does not match its $SDS entry (at ${h.offset})`,
        );
    }
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
    f.add('bad-secure', SECURE_RECORD, `$Secure cannot be read: ${e.message}`);
    return;
  }
  for (const [id, u] of used) {
    if (known.has(id)) continue;
    f.add(
      'bad-security-id',
      u.first,
      `security id ${id} (used by ${u.count} record(s)) is not in $Secure:$SII`,
    );
  }
}
