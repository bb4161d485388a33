// Windows-made test data from ../shared/testdata, decompressed once into a cache outside the repo.
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_TESTDATA =
  process.env.WINRESCUE_TESTDATA ?? resolve(REPO_ROOT, '..', 'shared', 'testdata');
export const CACHE_DIR =
  process.env.WINRESCUE_CACHE ?? join(REPO_ROOT, 'node_modules', '.cache', 'winrescue');

export const haveSharedTestdata = (): boolean => existsSync(SHARED_TESTDATA);

/** For `test(name, { skip: sharedSkip() }, ...)`: a message when ../shared/testdata is absent. */
export function sharedSkip(): string | false {
  return haveSharedTestdata() ? false : `../shared/testdata not found at ${SHARED_TESTDATA}`;
}

/**
 * Path of a decompressed copy of `relPath` (e.g. 'hives/SYSTEM.xz', 'vhd/fixed.vhd.gz', 'pe/acpi.sys').
 * Files without .xz/.gz are returned in place. The copy is shared by tests: never write to it; copy first.
 */
export function testdataFile(relPath: string): string {
  const src = join(SHARED_TESTDATA, relPath);
  if (!existsSync(src)) throw new Error(`test data missing: ${src}`);
  const m = /^(.*)\.(xz|gz)$/.exec(relPath);
  if (!m) return src;
  const out = join(CACHE_DIR, 'testdata', m[1]!);
  if (existsSync(out)) return out;
  mkdirSync(dirname(out), { recursive: true });
  const data =
    m[2] === 'gz' ? gunzipSync(readFileSync(src)) : execFileSync('xz', ['-dc', src], { maxBuffer: 1 << 30 });
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, out);
  return out;
}
