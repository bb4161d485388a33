// Who winrescue is in Azure and which subscription it works in: DefaultAzureCredential (so an `az login` session,
// a managed identity or the AZURE_* service-principal variables all work), a bearer token handed over in
// WINRESCUE_AZURE_TOKEN (`az account get-access-token --query accessToken -o tsv`), and an ARM endpoint for
// sovereign clouds (or a test double).
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ComputeManagementClient, ComputeManagementClientOptionalParams } from '@azure/arm-compute';
import { WinrescueError } from '../errors.js';
import { type ComputeOps, sdkComputeOps } from './compute.js';

export type TokenCredentialLike = ConstructorParameters<typeof ComputeManagementClient>[0];

/** Long-running ARM operations are polled at this pace unless the service says otherwise (Retry-After). */
export const DEFAULT_POLL_INTERVAL_MS = 2_000;
/** A token handed over from outside is trusted for this long; ARM tokens live 60–90 minutes. */
const STATIC_TOKEN_LIFETIME_MS = 45 * 60 * 1000;

export interface ArmConnection {
  subscriptionId: string;
  credential?: TokenCredentialLike;
  /** https://management.azure.com unless given (sovereign clouds, a test double). */
  endpoint?: string;
  /** Passed to the SDK client: retry options, TLS settings. */
  clientOptions?: ComputeManagementClientOptionalParams;
  pollIntervalMs?: number;
}

/** A credential that always returns the same token. */
export function staticTokenCredential(token: string): TokenCredentialLike {
  return {
    getToken: async () => ({ token, expiresOnTimestamp: Date.now() + STATIC_TOKEN_LIFETIME_MS }),
  };
}

/** WINRESCUE_AZURE_TOKEN if set, else DefaultAzureCredential (loaded only when needed: it is large). */
export async function defaultCredential(): Promise<TokenCredentialLike> {
  const token = process.env.WINRESCUE_AZURE_TOKEN;
  if (token) return staticTokenCredential(token.trim());
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

/** --subscription, else AZURE_SUBSCRIPTION_ID, else the Azure CLI's default subscription. */
export async function resolveSubscription(explicit?: string): Promise<string> {
  const id = explicit ?? process.env.AZURE_SUBSCRIPTION_ID ?? (await azureCliDefaultSubscription());
  if (!id) {
    throw new WinrescueError(
      'azure.auth',
      'no subscription: pass --subscription ID, set AZURE_SUBSCRIPTION_ID, or choose one with `az account set`',
    );
  }
  return id;
}

async function azureCliDefaultSubscription(): Promise<string | undefined> {
  const dir = process.env.AZURE_CONFIG_DIR ?? join(homedir(), '.azure');
  try {
    // The CLI writes this file with a byte-order mark.
    const text = (await readFile(join(dir, 'azureProfile.json'), 'utf8')).replace(/^\uFEFF/, '');
    const profile = JSON.parse(text) as { subscriptions?: { id?: string; isDefault?: boolean }[] };
    return profile.subscriptions?.find((s) => s.isDefault)?.id;
  } catch {
    return undefined;
  }
}

export async function connectCompute(conn: ArmConnection): Promise<ComputeOps> {
  const { ComputeManagementClient } = await import('@azure/arm-compute');
  const credential = conn.credential ?? (await defaultCredential());
  const client = new ComputeManagementClient(credential, conn.subscriptionId, {
    ...conn.clientOptions,
    ...(conn.endpoint !== undefined ? { endpoint: conn.endpoint } : {}),
  });
  return sdkComputeOps(client, conn.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
}
