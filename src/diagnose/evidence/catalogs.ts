// The security catalogs of System32\CatRoot (the driver-signing database's system catalog folder), for files
// without a trusted embedded signature. Read lazily and bounded: a real CatRoot holds thousands of catalogs.
import { isWinrescueError } from '../../errors.js';
import type { NtfsVolume } from '../../fs/ntfs/index.js';
import { parseCatalog, type Catalog } from '../../pe/index.js';

/** The catalog folder of the system catalog database (its GUID is fixed by Windows). */
export const CATROOT = '/Windows/System32/CatRoot/{F750E6C3-38EE-11D1-85E5-00C04FC295EE}';
/** A real CatRoot holds a few thousand catalogs (~200 MB); the lookup reads no more than this. */
export const MAX_CATALOG_BYTES = 64 * 1024 * 1024;

/** Catalogs of CatRoot, read once and only when a file's embedded signature does not settle it. */
export function lazyCatalogs(vol: NtfsVolume, warnings: string[]): () => Promise<readonly Catalog[]> {
  let loaded: Promise<Catalog[]> | null = null;
  const load = async (): Promise<Catalog[]> => {
    const out: Catalog[] = [];
    let dir;
    try {
      dir = await vol.lookup(CATROOT);
    } catch (e) {
      if (isWinrescueError(e)) return out;
      throw e;
    }
    let budget = MAX_CATALOG_BYTES;
    for await (const entry of vol.readdir(dir.record)) {
      if (!/\.cat$/i.test(entry.name) || entry.isDir) continue;
      if (entry.size > budget) {
        warnings.push(`catalog lookup stopped after ${MAX_CATALOG_BYTES} bytes of CatRoot`);
        break;
      }
      budget -= entry.size;
      try {
        out.push(parseCatalog(await (await vol.openStream(entry.record)).readAll()));
      } catch (e) {
        if (!isWinrescueError(e)) throw e;
        warnings.push(`catalog ${entry.name} unreadable: ${e.message}`);
      }
    }
    return out;
  };
  return () => (loaded ??= load());
}
