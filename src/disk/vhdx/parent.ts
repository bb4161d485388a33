// Finding and checking the parent of a differencing VHDX, [MS-VHDX] §2.6.2.6.3: look for the file at relative_path
// (Windows separators), then under the base name of absolute_win32_path and volume_path in the child's folder (the
// usual case once a chain has been copied off its host); the parent's DataWriteGuid must equal parent_linkage or
// parent_linkage2, and its logical sector size the child's (§2.6.2.4).
import { basename, dirname, join, resolve } from 'node:path';
import { WinrescueError, isWinrescueError } from '../../errors.js';
import type { BlockDevice } from '../block-device.js';
import { ZERO_GUID } from '../../util/bytes.js';
import { type ParentLocator, normalizeLinkage } from './parent-locator.js';

export type ParentDevice = BlockDevice & { dataWriteGuid?: string };
/** Opens a parent image read-only by path (the generic opener); throws `disk.notFound` when there is no file. */
export type OpenParent = (path: string) => Promise<ParentDevice>;

/** Places to look for the parent, in the order §2.6.2.6.3 gives, without duplicates. */
export function parentCandidates(childPath: string, locator: ParentLocator): string[] {
  const dir = dirname(childPath);
  const out: string[] = [];
  const add = (p: string) => {
    if (!out.includes(p)) out.push(p);
  };
  const relative = locator.entries.get('relative_path');
  if (relative) add(resolve(dir, relative.replace(/\\/g, '/')));
  for (const key of ['absolute_win32_path', 'volume_path']) {
    const value = locator.entries.get(key);
    const base = value ? basename(value.replace(/\\/g, '/')) : '';
    if (base) add(resolve(join(dir, base)));
  }
  return out;
}

export async function openParentOf(
  childPath: string,
  locator: ParentLocator,
  logicalSectorSize: number,
  name: string,
  openParent: OpenParent | undefined,
): Promise<ParentDevice> {
  const linkage = normalizeLinkage(locator.entries.get('parent_linkage'));
  if (!linkage) {
    throw new WinrescueError(
      'disk.badField',
      `VHDX ${name}: the parent locator has no valid parent_linkage GUID`,
      {
        structure: 'vhdx.parentLocator',
        actual: locator.entries.get('parent_linkage'),
      },
    );
  }
  const linkage2 = normalizeLinkage(locator.entries.get('parent_linkage2'));
  const accepted = [linkage, ...(linkage2 && linkage2 !== ZERO_GUID ? [linkage2] : [])];
  const candidates = parentCandidates(childPath, locator);
  const stored = ['relative_path', 'absolute_win32_path', 'volume_path']
    .filter((k) => locator.entries.has(k))
    .map((k) => `${k}=${locator.entries.get(k)}`)
    .join(', ');
  if (!openParent) {
    throw new WinrescueError(
      'disk.parentMissing',
      `VHDX ${name} is a differencing disk and no parent could be opened (no parent opener given); its parent {${linkage}} would be looked for at ${candidates.join(', ') || '(no path stored)'} (${stored})`,
      { structure: 'vhdx.parentLocator', expected: linkage },
    );
  }
  const mismatches: string[] = [];
  for (const path of candidates) {
    let parent: ParentDevice;
    try {
      parent = await openParent(path);
    } catch (e) {
      if (isWinrescueError(e) && e.code === 'disk.notFound') continue;
      throw e;
    }
    const guid = parent.dataWriteGuid?.toLowerCase();
    if (guid === undefined || !accepted.includes(guid)) {
      mismatches.push(`${path} has DataWriteGuid ${guid ?? '(none: not a VHDX)'}`);
      await parent.close();
      continue;
    }
    if (parent.sectorSize !== logicalSectorSize) {
      await parent.close();
      throw new WinrescueError(
        'disk.parentMismatch',
        `VHDX ${name}: parent ${path} has ${parent.sectorSize}-byte sectors, the child ${logicalSectorSize}-byte sectors`,
        { structure: 'vhdx.parentLocator', expected: logicalSectorSize, actual: parent.sectorSize, path },
      );
    }
    return parent;
  }
  if (mismatches.length > 0) {
    throw new WinrescueError(
      'disk.parentMismatch',
      `VHDX ${name}: the parent must have DataWriteGuid ${accepted.map((g) => `{${g}}`).join(' or ')}, but ${mismatches.join('; ')}: it was changed after the child was made, or is another disk`,
      { structure: 'vhdx.parentLocator', expected: linkage, actual: mismatches },
    );
  }
  throw new WinrescueError(
    'disk.parentMissing',
    `VHDX ${name} is a differencing disk whose parent {${linkage}} was not found; tried ${candidates.join(', ') || '(no path stored)'} (${stored})`,
    { structure: 'vhdx.parentLocator', expected: linkage, actual: candidates },
  );
}
