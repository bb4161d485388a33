// Paths for the report, built from $FILE_NAME parent references (flatcap linux-ntfs ntfs/attributes/file_name.html)
// rather than from indexes, so a file no index names still gets one. Only records with a problem are read.
import { isWinrescueError } from '../../../errors.js';
import { ATTR } from '../attribute.js';
import { parseFileName, NAMESPACE } from '../attributes/file-name.js';
import type { NtfsVolume } from '../volume.js';

const ROOT = 5;
/** Deeper than any real tree; a parent chain longer than this loops. */
const MAX_DEPTH = 256;

export class PathResolver {
  private readonly cache = new Map<number, string | null>();

  constructor(private readonly vol: NtfsVolume) {}

  /** The record's first Win32 (else any) name and its parent, or null when the record cannot be read. */
  private async nameOf(n: number): Promise<{ parent: number; name: string } | null> {
    try {
      const rec = await this.vol.readRecord(n);
      let best: { parent: number; name: string } | null = null;
      for (const a of rec.attributes) {
        if (a.type !== ATTR.FILE_NAME || !a.value) continue;
        const fn = parseFileName(a.value, n);
        if (fn.namespace === NAMESPACE.DOS && best) continue;
        best = { parent: fn.parent.record, name: fn.name };
        if (fn.namespace !== NAMESPACE.DOS) break;
      }
      return best;
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      return null;
    }
  }

  /** '/'-separated path from the root, or null. */
  async path(n: number): Promise<string | null> {
    if (n === ROOT) return '/';
    const hit = this.cache.get(n);
    if (hit !== undefined) return hit;
    const parts: string[] = [];
    const seen = new Set<number>();
    let cur = n;
    let result: string | null = null;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      if (seen.has(cur)) break;
      seen.add(cur);
      const known = this.cache.get(cur);
      if (known !== undefined) {
        result = known === null ? null : join(known, parts);
        break;
      }
      const me = await this.nameOf(cur);
      if (!me) break;
      parts.unshift(me.name);
      if (me.parent === ROOT) {
        result = join('/', parts);
        break;
      }
      cur = me.parent;
    }
    this.cache.set(n, result);
    return result;
  }

  async inDirectory(dir: number, name: string): Promise<string | null> {
    const d = await this.path(dir);
    return d === null ? null : join(d, [name]);
  }
}

function join(dir: string, parts: string[]): string {
  return (dir.endsWith('/') ? dir : dir + '/') + parts.join('/');
}
