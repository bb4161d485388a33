// The few Azure Compute operations winrescue uses, behind a small interface so the flows above them are plain
// code: REST reference "Virtual Machines - Get / Retrieve Boot Diagnostics Data", "Snapshots - Create Or Update /
// Grant Access / Revoke Access / Delete / Get". The adapter below drives them through @azure/arm-compute, whose
// pipeline polls long-running operations (Azure-AsyncOperation, then Location) and retries 429 after Retry-After.
import type { ComputeManagementClient } from '@azure/arm-compute';
import { WinrescueError, type ErrorCode } from '../errors.js';
import { redactText } from '../disk/http/index.js';

export interface VmFacts {
  readonly location: string;
  /** ARM id of the managed OS disk; null for an unmanaged (storage-account VHD) disk. */
  readonly osDiskId: string | null;
  readonly osDiskName: string | null;
}

export interface BootDiagnosticsUris {
  readonly screenshotUri: string | null;
  readonly serialLogUri: string | null;
}

export interface SnapshotFacts {
  readonly id: string | null;
  /** Incremental snapshots copy in the background; absent means "ready". */
  readonly completionPercent: number | null;
  readonly provisioningState: string | null;
}

export interface ComputeOps {
  getVm(resourceGroup: string, vm: string): Promise<VmFacts>;
  bootDiagnostics(resourceGroup: string, vm: string, sasMinutes: number): Promise<BootDiagnosticsUris>;
  createSnapshot(
    resourceGroup: string,
    name: string,
    spec: { location: string; sourceResourceId: string },
  ): Promise<SnapshotFacts>;
  getSnapshot(resourceGroup: string, name: string): Promise<SnapshotFacts>;
  /** A read SAS URL of the snapshot, valid `seconds`. */
  grantRead(resourceGroup: string, name: string, seconds: number): Promise<string>;
  revokeAccess(resourceGroup: string, name: string): Promise<void>;
  deleteSnapshot(resourceGroup: string, name: string): Promise<void>;
}

/** ARM's own answer statuses that mean "who are you" / "not there". */
const AUTH_STATUSES = new Set([401, 403]);
const NOT_FOUND = 404;

/** Any failure of an ARM call as our typed error, with ARM's code and message and never a SAS. */
export function armError(operation: string, e: unknown): WinrescueError {
  if (e instanceof WinrescueError) return e;
  const err = e as { statusCode?: number; code?: string; message?: string; name?: string };
  const status = err.statusCode;
  const credentialProblem =
    err.name === 'CredentialUnavailableError' ||
    err.name === 'AuthenticationRequiredError' ||
    err.name === 'AggregateAuthenticationError';
  const code: ErrorCode = credentialProblem
    ? 'azure.auth'
    : status !== undefined && AUTH_STATUSES.has(status)
      ? 'azure.auth'
      : status === NOT_FOUND
        ? 'azure.notFound'
        : 'azure.request';
  const what = credentialProblem
    ? 'no Azure credential (run `az login`, or set the AZURE_* variables of DefaultAzureCredential)'
    : [status !== undefined ? `HTTP ${status}` : null, err.code ?? null].filter((x) => x !== null).join(' ');
  const detail = redactText(String(err.message ?? e).split('\n')[0] ?? '');
  return new WinrescueError(code, `${operation}: ${what}${what ? ': ' : ''}${detail}`, {
    structure: 'azure',
    ...(status !== undefined ? { actual: status } : {}),
    cause: e,
  });
}

async function call<T>(operation: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw armError(operation, e);
  }
}

/** The adapter over @azure/arm-compute; `pollIntervalMs` paces long-running operations. */
export function sdkComputeOps(client: ComputeManagementClient, pollIntervalMs: number): ComputeOps {
  const lro = { updateIntervalInMs: pollIntervalMs };
  return {
    getVm: (rg, vm) =>
      call(`virtualMachines.get ${rg}/${vm}`, async () => {
        const v = await client.virtualMachines.get(rg, vm);
        const os = v.storageProfile?.osDisk;
        return {
          location: v.location,
          osDiskId: os?.managedDisk?.id ?? null,
          osDiskName: os?.name ?? null,
        };
      }),
    bootDiagnostics: (rg, vm, sasMinutes) =>
      call(`virtualMachines.retrieveBootDiagnosticsData ${rg}/${vm}`, async () => {
        const r = await client.virtualMachines.retrieveBootDiagnosticsData(rg, vm, {
          sasUriExpirationTimeInMinutes: sasMinutes,
        });
        return {
          screenshotUri: r.consoleScreenshotBlobUri ?? null,
          serialLogUri: r.serialConsoleLogBlobUri ?? null,
        };
      }),
    createSnapshot: (rg, name, spec) =>
      call(`snapshots.createOrUpdate ${rg}/${name}`, async () =>
        snapshotFacts(
          await client.snapshots.createOrUpdate(
            rg,
            name,
            {
              location: spec.location,
              incremental: true,
              creationData: { createOption: 'Copy', sourceResourceId: spec.sourceResourceId },
            },
            lro,
          ),
        ),
      ),
    getSnapshot: (rg, name) =>
      call(`snapshots.get ${rg}/${name}`, async () => snapshotFacts(await client.snapshots.get(rg, name))),
    grantRead: (rg, name, seconds) =>
      call(`snapshots.grantAccess ${rg}/${name}`, async () => {
        const r = await client.snapshots.grantAccess(
          rg,
          name,
          { access: 'Read', durationInSeconds: seconds },
          lro,
        );
        if (!r?.accessSAS) {
          throw new WinrescueError(
            'azure.request',
            `snapshots.grantAccess ${rg}/${name}: no accessSAS in the answer`,
            {
              structure: 'azure',
            },
          );
        }
        return r.accessSAS;
      }),
    revokeAccess: (rg, name) =>
      call(`snapshots.revokeAccess ${rg}/${name}`, async () => {
        await client.snapshots.revokeAccess(rg, name, lro);
      }),
    deleteSnapshot: (rg, name) =>
      call(`snapshots.delete ${rg}/${name}`, async () => {
        await client.snapshots.delete(rg, name, lro);
      }),
  };
}

function snapshotFacts(s: {
  id?: string;
  completionPercent?: number;
  provisioningState?: string;
}): SnapshotFacts {
  return {
    id: s.id ?? null,
    completionPercent: s.completionPercent ?? null,
    provisioningState: s.provisioningState ?? null,
  };
}
