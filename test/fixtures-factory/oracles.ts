// Readings of the built images by independent tools, shared by the fixture-factory tests.
import { run } from '../helpers/tools.js';
import type { HiveProvider } from '../fixtures/factory.js';

/** Stand-in hives until the registry writer exists: opaque bytes, enough to test everything else. */
export const STUB_HIVES: HiveProvider = {
  id: 'test-stub-v1',
  provide: (ctx) => ({
    system: new TextEncoder().encode(`regf stub SYSTEM for ${ctx.drivers.map((d) => d.name).join(',')}`),
    bcd: new TextEncoder().encode(`regf stub BCD gen${ctx.gen} ${ctx.layout.diskId}`),
  }),
};

export interface FlsEntry {
  type: string;
  inode: number;
  deleted: boolean;
}

/** `fls -r -p` as a map from '/'-rooted path to entry; alternate data streams and deleted names are left out. */
export function flsTree(image: string, offsetBytes: number): Map<string, FlsEntry> {
  const out = run('fls', ['-r', '-p', '-o', String(offsetBytes / 512), image]).toString();
  const map = new Map<string, FlsEntry>();
  for (const line of out.split('\n')) {
    const m = /^(\S+) (\*\s)?(\d+)(?:-\d+-\d+)?(?:\(realloc\))?:\t(.*)$/.exec(line);
    if (!m || m[2]) continue;
    // Windows names cannot hold ':'; fls writes named streams as path:stream.
    if (m[4]!.includes(':')) continue;
    map.set('/' + m[4]!, { type: m[1]!, inode: Number(m[3]), deleted: false });
  }
  return map;
}

/** `istat` as text. */
export function istat(image: string, offsetBytes: number, inode: number): string {
  return run('istat', ['-o', String(offsetBytes / 512), image, String(inode)]).toString();
}

/** `icat` bytes. */
export function icat(image: string, offsetBytes: number, inode: number): Buffer {
  return run('icat', ['-o', String(offsetBytes / 512), image, String(inode)]);
}

/**
 * ntfs-3g's view of a bare volume: `ntfsls -R -i` as path → inode, plus the set of directories it listed.
 * The fallback oracle where sleuthkit cannot read the volume (clusters above 64 KiB).
 */
export function ntfslsTree(volume: string): { files: Map<string, number>; dirs: Set<string> } {
  const out = run('ntfsls', ['-R', '-i', volume]).toString();
  const files = new Map<string, number>();
  const dirs = new Set<string>();
  let current = '/';
  for (const line of out.split('\n')) {
    const header = /^(\/.*):$/.exec(line);
    if (header) {
      current = header[1]!;
      dirs.add(current);
      continue;
    }
    const m = /^\s*(\d+) (.+)$/.exec(line);
    if (!m || m[2] === '.' || m[2] === '..') continue;
    files.set(`${current === '/' ? '' : current}/${m[2]}`, Number(m[1]));
  }
  return { files, dirs };
}
