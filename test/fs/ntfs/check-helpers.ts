// Shared by the check tests: run the NTFS check on a volume inside an image, and assert that a fault an
// independent tool confirmed is reported with the record or path it concerns.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { FileDevice } from '../../../src/disk/file-device.js';
import { WindowDevice } from '../../../src/disk/window-device.js';
import { openNtfs } from '../../../src/fs/ntfs/index.js';
import {
  checkNtfs,
  formatProblem,
  type CheckReport,
  type ProblemKind,
} from '../../../src/fs/ntfs/check/index.js';
import type { VolumeRef } from '../../fixtures/factory.js';

/** Checks the volume at `v` (size: to the end of the image, or `size` bytes). */
export async function checkVolume(v: VolumeRef, size?: number): Promise<CheckReport> {
  const file = await FileDevice.open(v.image, { readOnly: true });
  try {
    const length = size ?? statSync(v.image).size - v.offset;
    const dev = v.offset === 0 && size === undefined ? file : new WindowDevice(file, v.offset, length);
    return await checkNtfs(await openNtfs(dev));
  } finally {
    await file.close();
  }
}

export function describeReport(r: CheckReport): string {
  return r.problems.map(formatProblem).join('\n') || '(no problems)';
}

/** At least one problem of one of `kinds` names `record` (or, when given, has `path`). */
export function assertFound(
  r: CheckReport,
  kinds: readonly ProblemKind[],
  where: { record?: number | null; path?: string },
): void {
  const hit = r.problems.some(
    (p) =>
      kinds.includes(p.kind) &&
      ((where.record !== undefined && where.record !== null && p.record === where.record) ||
        (where.path !== undefined && p.path !== null && p.path.toLowerCase() === where.path.toLowerCase())),
  );
  assert.ok(hit, `expected ${kinds.join('|')} naming ${JSON.stringify(where)}; got:\n${describeReport(r)}`);
  assert.equal(r.clean, false);
}

export function assertClean(r: CheckReport, what: string): void {
  assert.ok(r.clean, `${what} should check clean; got:\n${describeReport(r)}`);
  assert.equal(r.problems.length, 0);
}
