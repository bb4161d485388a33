// The boot screenshot and serial log Azure keeps for a VM (REST "Virtual Machines - Retrieve Boot Diagnostics
// Data": short-lived SAS URIs to both blobs, for managed and custom storage alike), fetched with our retries.
import { WinrescueError, isWinrescueError } from '../errors.js';
import { DEFAULT_RETRY, type RetryPolicy, redactUrl, requestWithRetry } from '../disk/http/index.js';
import type { ComputeOps } from './compute.js';

/** The URIs only need to outlive the two downloads. */
const BOOT_DIAGNOSTICS_SAS_MINUTES = 10;
/** A serial log is text of a few hundred KiB at most; a screenshot a BMP of ~2 MiB: refuse anything absurd. */
const MAX_BLOB_BYTES = 64 * 1024 * 1024;

export interface BootDiagnostics {
  screenshot: Uint8Array | null;
  serialLog: string | null;
  warnings: string[];
}

export interface FetchOptions {
  fetch?: typeof fetch;
  retry?: Partial<RetryPolicy>;
}

export async function fetchBootDiagnostics(
  ops: ComputeOps,
  resourceGroup: string,
  vm: string,
  options: FetchOptions = {},
): Promise<BootDiagnostics> {
  const warnings: string[] = [];
  let uris;
  try {
    uris = await ops.bootDiagnostics(resourceGroup, vm, BOOT_DIAGNOSTICS_SAS_MINUTES);
  } catch (e) {
    // ARM refuses the call when boot diagnostics are off (409): the disk can still be read. Who and what
    // (auth, a missing VM) stay errors.
    if (!isWinrescueError(e) || e.code === 'azure.auth' || e.code === 'azure.notFound') throw e;
    warnings.push(`boot diagnostics unavailable: ${e.message}`);
    return { screenshot: null, serialLog: null, warnings };
  }
  if (uris.screenshotUri === null && uris.serialLogUri === null) {
    warnings.push(`VM ${vm} has no boot diagnostics (enable them to get the boot screenshot and serial log)`);
  }
  const get = async (uri: string | null, what: string): Promise<Uint8Array | null> => {
    if (uri === null) return null;
    try {
      return await download(uri, what, options);
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      warnings.push(e.message);
      return null;
    }
  };
  const [screenshot, log] = await Promise.all([
    get(uris.screenshotUri, 'boot screenshot'),
    get(uris.serialLogUri, 'serial log'),
  ]);
  return {
    screenshot: screenshot && screenshot.length > 0 ? screenshot : null,
    serialLog: log && log.length > 0 ? new TextDecoder('utf-8').decode(log) : null,
    warnings,
  };
}

async function download(uri: string, what: string, options: FetchOptions): Promise<Uint8Array> {
  const shown = `${what} ${redactUrl(uri)}`;
  const r = await requestWithRetry(
    uri,
    { method: 'GET', headers: { 'x-ms-version': '2021-08-06' } },
    {
      policy: { ...DEFAULT_RETRY, ...options.retry },
      what: shown,
      code: 'azure.request',
      ...(options.fetch ? { fetch: options.fetch } : {}),
    },
  );
  if (r.status === 404) {
    throw new WinrescueError('azure.notFound', `${shown}: not written yet (HTTP 404)`, {
      structure: 'azure',
    });
  }
  if (r.status !== 200) {
    throw new WinrescueError('azure.request', `${shown}: HTTP ${r.status}`, {
      structure: 'azure',
      actual: r.status,
    });
  }
  if (r.body.length > MAX_BLOB_BYTES) {
    throw new WinrescueError(
      'azure.request',
      `${shown}: ${r.body.length} bytes is not a boot diagnostics blob`,
      {
        structure: 'azure',
        expected: `<= ${MAX_BLOB_BYTES}`,
        actual: r.body.length,
      },
    );
  }
  return r.body;
}
