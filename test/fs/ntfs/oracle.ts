// Compare our NTFS reader with sleuthkit and ntfs-3g. `fls -r -p -l -u` lists one line per allocated name
// and stream; our walk gives one entry per name with its streams, so both are turned into the same lines:
//   "d <record>-144 <path> <size>"  directory ($I30 root size, which is what fls prints for a directory)
//   "r <record>-128 <path> <size>"  unnamed $DATA; "r <record>-128 <path>:<stream> <size>" named $DATA
//   "r <record>-144 <path>:<index> <size>"  named index other than $I30 ($Secure:$SII, $Extend/$Quota:$Q...)
// Filtered on purpose: fls's virtual "$OrphanFiles" folder and everything under it (orphans have no path
// in the index; our walk follows the index only), and fls's attribute id (the third number).
import { run } from '../../helpers/tools.js';
import { FileDevice } from '../../../src/disk/file-device.js';
import { WindowDevice } from '../../../src/disk/window-device.js';
import type { BlockDevice } from '../../../src/disk/block-device.js';
import { openNtfs, type NtfsVolume, type WalkEntry } from '../../../src/fs/ntfs/index.js';

export interface OpenedImage {
  vol: NtfsVolume;
  dev: BlockDevice;
  close: () => Promise<void>;
}

export async function openImage(image: string, offsetSectors = 0): Promise<OpenedImage> {
  const file = await FileDevice.open(image, { readOnly: true });
  const dev = offsetSectors
    ? new WindowDevice(file, offsetSectors * 512, file.size - offsetSectors * 512)
    : file;
  const vol = await openNtfs(dev);
  return { vol, dev, close: () => file.close() };
}

export function tskOffset(offsetSectors: number): string[] {
  return offsetSectors ? ['-o', String(offsetSectors)] : [];
}

export function flsLines(image: string, offsetSectors = 0): string[] {
  const out = run('fls', ['-r', '-p', '-l', '-u', ...tskOffset(offsetSectors), image]).toString('utf8');
  const lines: string[] = [];
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const m = /^(\S)\/(\S) (?:\* )?(\d+)-(\d+)-\d+:\t([^\t]*)\t(?:[^\t]*\t){4}(\d+)\t/.exec(line);
    if (!m) {
      if (/^V\/V \d+:\t\$OrphanFiles\t/.test(line)) continue;
      throw new Error(`unparsed fls line: ${line}`);
    }
    const path = m[5]!;
    if (path === '$OrphanFiles' || path.startsWith('$OrphanFiles/')) continue;
    lines.push(`${m[2] === 'd' ? 'd' : 'r'} ${m[3]}-${m[4]} /${path} ${m[6]}`);
  }
  return lines.sort();
}

export function entryLines(e: WalkEntry): string[] {
  const lines: string[] = [];
  if (e.type === 'dir') lines.push(`d ${e.record}-144 ${e.path} ${e.indexRootSize}`);
  for (const s of e.streams) {
    if (s.name === '' && e.type === 'dir') continue;
    lines.push(`r ${e.record}-128 ${e.path}${s.name ? ':' + s.name : ''} ${s.size}`);
  }
  for (const x of e.indexes) lines.push(`r ${e.record}-144 ${e.path}:${x.name} ${x.rootSize}`);
  return lines;
}

export async function walkAll(
  vol: NtfsVolume,
  root = '/',
): Promise<{ entries: WalkEntry[]; errors: string[] }> {
  const entries: WalkEntry[] = [];
  const errors: string[] = [];
  for await (const it of vol.walk(root)) {
    if ('error' in it) errors.push(`${it.path}: ${it.error.code} ${it.error.message}`);
    else entries.push(it.value);
  }
  return { entries, errors };
}

/** First difference between two sorted line lists, for a readable assertion message. */
export function diffLines(ours: string[], theirs: string[]): string {
  const a = new Set(ours);
  const b = new Set(theirs);
  const onlyOurs = ours.filter((x) => !b.has(x)).slice(0, 10);
  const onlyTheirs = theirs.filter((x) => !a.has(x)).slice(0, 10);
  return `only ours: ${JSON.stringify(onlyOurs)}\nonly fls: ${JSON.stringify(onlyTheirs)}`;
}

export function icat(image: string, record: number, offsetSectors = 0): Buffer {
  return run('icat', [...tskOffset(offsetSectors), image, String(record)]);
}

/** The same path with letters of alternating case, to exercise case-insensitive lookup. */
export function mixCase(path: string): string {
  let flip = false;
  return Array.from(path, (ch) => {
    const up = ch.toUpperCase();
    const low = ch.toLowerCase();
    if (up === low || up.length !== 1 || low.length !== 1) return ch;
    flip = !flip;
    return flip ? up : low;
  }).join('');
}

/**
 * ntfs-3g's recursive listing (`ntfsls -R -l -i -a -s`) as "record path size" lines ("." and ".." dropped;
 * directories show size 0 there, and so do ours in this form). For volumes sleuthkit cannot open.
 */
export function ntfslsLines(image: string): string[] {
  const out = run('ntfsls', ['-R', '-l', '-i', '-a', '-s', image]).toString('utf8');
  const lines: string[] = [];
  let dir = '/';
  for (const line of out.split('\n')) {
    const h = /^(\/.*):$/.exec(line);
    if (h) {
      dir = h[1] === '/' ? '' : h[1]!;
      continue;
    }
    const m = /^\s*(\d+)\s+(\d+)\s+\S+ +\d+ \d\d:\d\d \d+ (.*)$/.exec(line);
    if (!m || m[3] === '.' || m[3] === '..') continue;
    lines.push(`${m[1]} ${dir}/${m[3]} ${m[2]}`);
  }
  return lines.sort();
}

export function ntfslsLinesOf(entries: WalkEntry[]): string[] {
  return entries.map((e) => `${e.record} ${e.path} ${e.type === 'dir' ? 0 : e.size}`).sort();
}
