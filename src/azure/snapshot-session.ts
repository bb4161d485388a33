// Reading a VM's OS disk without touching it: an incremental snapshot of the managed disk, a short read-only SAS
// on the snapshot, the work, then the SAS revoked and the snapshot deleted — whatever step fails. Azure refuses to
// delete a snapshot whose access grant is active, so revoke always comes first. (Microsoft Learn: "Create an
// incremental snapshot for managed disks"; "Download a VHD from Azure" for grant/revoke access.)
import { WinrescueError, isWinrescueError } from '../errors.js';
import type { ComputeOps } from './compute.js';

/** Long enough for a diagnosis over a slow link; short, because the SAS is a bearer credential. */
export const DEFAULT_SAS_SECONDS = 3600;
/** An incremental snapshot of a standard disk is usually readable at once; wait at most this for its copy. */
const MAX_COPY_WAIT_MS = 10 * 60 * 1000;

export interface SnapshotSessionOptions {
  resourceGroup: string;
  vm: string;
  /** Default: <vm>-winrescue-<UTC timestamp>. */
  snapshotName?: string;
  keep?: boolean;
  sasSeconds?: number;
  pollIntervalMs?: number;
  onStep?: (message: string) => void;
}

export interface SnapshotOutcome<T> {
  result: T;
  snapshot: { name: string; kept: boolean };
  warnings: string[];
}

export function defaultSnapshotName(vm: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  // Snapshot names: 1–80 characters, letters, digits, _ . - (ARM naming rules for Microsoft.Compute).
  return `${vm}-winrescue-${stamp}`.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 80);
}

/**
 * Snapshot the VM's OS disk, grant a read SAS, run `use` with it, then clean up. A failure of `use` (or of a step)
 * is rethrown after cleanup; a failed cleanup is added to that error's message, or thrown as azure.cleanup when
 * everything else worked — either way naming what is left behind.
 */
export async function withOsDiskSnapshot<T>(
  ops: ComputeOps,
  options: SnapshotSessionOptions,
  use: (sasUrl: string) => Promise<T>,
): Promise<SnapshotOutcome<T>> {
  const { resourceGroup: rg, vm } = options;
  const step = options.onStep ?? (() => undefined);
  const facts = await ops.getVm(rg, vm);
  if (facts.osDiskId === null) {
    throw new WinrescueError(
      'azure.unsupported',
      `VM ${vm} has an unmanaged OS disk (a VHD in a storage account): give winrescue a SAS URL of that blob instead`,
      { structure: 'azure' },
    );
  }
  const name = options.snapshotName ?? defaultSnapshotName(vm);
  const keep = options.keep === true;
  let created = false;
  let granted = false;
  let outcome: { ok: true; result: T } | { ok: false; error: unknown };
  try {
    step(`creating incremental snapshot ${name} of ${facts.osDiskName ?? facts.osDiskId}`);
    // Created is set before the call returns: a create that fails after ARM accepted it may still leave one.
    created = true;
    const snap = await ops.createSnapshot(rg, name, {
      location: facts.location,
      sourceResourceId: facts.osDiskId,
    });
    await waitForCopy(ops, rg, name, snap.completionPercent, options.pollIntervalMs ?? 2000, step);
    step(`granting read access to ${name} for ${options.sasSeconds ?? DEFAULT_SAS_SECONDS} s`);
    granted = true;
    const sas = await ops.grantRead(rg, name, options.sasSeconds ?? DEFAULT_SAS_SECONDS);
    outcome = { ok: true, result: await use(sas) };
  } catch (e) {
    outcome = { ok: false, error: e };
  }
  const leftBehind: string[] = [];
  if (granted) {
    step(`revoking access to ${name}`);
    await ops.revokeAccess(rg, name).catch((e: unknown) => {
      leftBehind.push(`its read access could not be revoked (${describe(e)})`);
    });
  }
  if (created && !keep) {
    step(`deleting snapshot ${name}`);
    await ops.deleteSnapshot(rg, name).catch((e: unknown) => {
      if (isWinrescueError(e) && e.code === 'azure.notFound') return;
      leftBehind.push(`it could not be deleted (${describe(e)})`);
    });
  }
  const cleanup =
    leftBehind.length === 0
      ? null
      : `snapshot ${name} in ${rg} is left behind: ${leftBehind.join('; ')}; remove it with ` +
        `\`az snapshot revoke-access -g ${rg} -n ${name}\` and \`az snapshot delete -g ${rg} -n ${name}\``;
  if (!outcome.ok) {
    if (cleanup === null) throw outcome.error;
    const e = outcome.error;
    if (isWinrescueError(e)) {
      throw new WinrescueError(e.code, `${e.message}; ${cleanup}`, {
        ...(e.offset !== undefined ? { offset: e.offset } : {}),
        ...(e.structure !== undefined ? { structure: e.structure } : {}),
        ...(e.path !== undefined ? { path: e.path } : {}),
        cause: e,
      });
    }
    throw new WinrescueError('azure.cleanup', `${describe(e)}; ${cleanup}`, { cause: e });
  }
  if (cleanup !== null) throw new WinrescueError('azure.cleanup', cleanup, { structure: 'azure' });
  return { result: outcome.result, snapshot: { name, kept: keep }, warnings: [] };
}

async function waitForCopy(
  ops: ComputeOps,
  rg: string,
  name: string,
  percent: number | null,
  pollMs: number,
  step: (m: string) => void,
): Promise<void> {
  const deadline = Date.now() + MAX_COPY_WAIT_MS;
  while (percent !== null && percent < 100) {
    if (Date.now() > deadline) {
      throw new WinrescueError(
        'azure.request',
        `snapshot ${name} is still copying (${percent}%) after 10 minutes`,
        {
          structure: 'azure',
          actual: percent,
        },
      );
    }
    step(`snapshot ${name} copying: ${percent}%`);
    await new Promise((r) => setTimeout(r, pollMs));
    percent = (await ops.getSnapshot(rg, name)).completionPercent;
  }
}

function describe(e: unknown): string {
  return isWinrescueError(e) ? e.message : String((e as Error)?.message ?? e);
}
