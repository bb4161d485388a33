// Reading a VM's OS disk without touching it: an incremental snapshot of the managed disk, a short read-only SAS
// on the snapshot, the work, then the SAS revoked and the snapshot deleted — whatever step fails. Azure refuses to
// delete a snapshot whose access grant is active, so revoke always comes first. (Microsoft Learn: "Create an
// incremental snapshot for managed disks"; "Download a VHD from Azure" for grant/revoke access.)
import { WinrescueError, isWinrescueError } from '../errors.js';
import { abortAllRequests } from '../disk/http/index.js';
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
  /**
   * Clean up on SIGINT/SIGTERM too (the CLI): the ARM step under way is let finish — a grant that completes after
   * its revoke would leave a live SAS — then the work is abandoned, access revoked and the snapshot deleted.
   */
  interruptible?: boolean;
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
  const interrupt = options.interruptible ? listenForInterrupt(step) : null;
  const check = () => {
    if (interrupt?.error) throw interrupt.error;
  };
  try {
    step(`creating incremental snapshot ${name} of ${facts.osDiskName ?? facts.osDiskId}`);
    // Created is set before the call returns: a create that fails after ARM accepted it may still leave one.
    created = true;
    const snap = await ops.createSnapshot(rg, name, {
      location: facts.location,
      sourceResourceId: facts.osDiskId,
    });
    check();
    await waitForCopy(ops, rg, name, snap.completionPercent, options.pollIntervalMs ?? 2000, step);
    check();
    step(`granting read access to ${name} for ${options.sasSeconds ?? DEFAULT_SAS_SECONDS} s`);
    granted = true;
    const sas = await ops.grantRead(rg, name, options.sasSeconds ?? DEFAULT_SAS_SECONDS);
    check();
    const work = use(sas);
    // Abandoned work fails once its SAS is revoked; nobody awaits it then.
    work.catch(() => undefined);
    outcome = { ok: true, result: await (interrupt ? Promise.race([work, interrupt.fired]) : work) };
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
  interrupt?.dispose();
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

interface Interrupt {
  /** Set once a signal came. */
  error: WinrescueError | null;
  /** Rejects with that error when it comes. */
  fired: Promise<never>;
  dispose(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function listenForInterrupt(step: (m: string) => void): Interrupt {
  let reject: (e: WinrescueError) => void = () => undefined;
  const fired = new Promise<never>((_, r) => (reject = r));
  fired.catch(() => undefined);
  const state: Interrupt = {
    error: null,
    fired,
    dispose: () => {
      for (const s of SIGNALS) process.off(s, handler);
    },
  };
  const handler = (signal: NodeJS.Signals) => {
    if (state.error) {
      step(`${signal}: still cleaning up, please wait (an interrupted cleanup leaves the snapshot behind)`);
      return;
    }
    step(`${signal}: stopping; the snapshot's access will be revoked and the snapshot deleted`);
    state.error = new WinrescueError('azure.request', `interrupted (${signal})`, { structure: 'azure' });
    reject(state.error);
    abortAllRequests();
  };
  for (const s of SIGNALS) process.on(s, handler);
  return state;
}

function describe(e: unknown): string {
  return isWinrescueError(e) ? e.message : String((e as Error)?.message ?? e);
}
