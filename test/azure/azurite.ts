// Azurite (Microsoft's Azure Storage emulator, a dev dependency) started per test file on a free loopback port,
// plus page-blob upload of a local disk image and read SASes made with the emulator's well-known account key.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BlobSASPermissions,
  BlobServiceClient,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
} from '@azure/storage-blob';
import { REPO_ROOT } from '../helpers/testdata.js';

/** The emulator's published development account (Azurite README, "Default Storage Account"). */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  /** http://127.0.0.1:PORT/devstoreaccount1 */
  readonly endpoint: string;
  readonly port: number;
  readonly service: BlobServiceClient;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export async function startAzurite(): Promise<Azurite> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    join(REPO_ROOT, 'node_modules', '.bin', 'azurite-blob'),
    [
      '--silent',
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--skipApiVersionCheck',
      '--loose',
    ],
    { stdio: 'ignore' },
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 20_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`azurite did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const endpoint = `http://127.0.0.1:${port}/${DEV_ACCOUNT}`;
  const service = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY));
  return { endpoint, port, service, stop };
}

/** Page blobs take writes of at most 4 MiB, in 512-byte pages. */
const PUT_PAGE_MAX = 4 * 1024 * 1024;
const SCAN_UNIT = 64 * 1024;

/**
 * Uploads a local image as a page blob, sending only its non-zero 64 KiB units (unwritten pages read as zeros,
 * which is what page blobs are for). Returns the bytes sent.
 */
export async function uploadPageBlob(
  az: Azurite,
  container: string,
  name: string,
  localPath: string,
): Promise<{ size: number; uploaded: number }> {
  const c = az.service.getContainerClient(container);
  await c.createIfNotExists();
  const fh = await open(localPath, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size % 512 !== 0) throw new Error(`${localPath}: ${size} is not a multiple of 512`);
    const blob = c.getPageBlobClient(name);
    await blob.create(size);
    let uploaded = 0;
    const buf = new Uint8Array(PUT_PAGE_MAX);
    let runStart = -1;
    let runLen = 0;
    const send = async () => {
      if (runLen > 0) {
        const data = new Uint8Array(runLen);
        await fh.read(data, 0, runLen, runStart);
        await blob.uploadPages(data, runStart, runLen);
        uploaded += runLen;
      }
      runStart = -1;
      runLen = 0;
    };
    for (let off = 0; off < size; off += PUT_PAGE_MAX) {
      const n = Math.min(PUT_PAGE_MAX, size - off);
      await fh.read(buf, 0, n, off);
      for (let u = 0; u < n; u += SCAN_UNIT) {
        const len = Math.min(SCAN_UNIT, n - u);
        if (buf.subarray(u, u + len).some((b) => b !== 0)) {
          if (runStart < 0) runStart = off + u;
          runLen += len;
          if (runLen >= PUT_PAGE_MAX) await send();
        } else await send();
      }
    }
    await send();
    return { size, uploaded };
  } finally {
    await fh.close();
  }
}

/** A blob SAS URL (read only unless `permissions` says otherwise), valid for an hour. */
export function blobSasUrl(az: Azurite, container: string, name: string, permissions = 'r'): string {
  const sas = generateBlobSASQueryParameters(
    {
      containerName: container,
      blobName: name,
      permissions: BlobSASPermissions.parse(permissions),
      startsOn: new Date(Date.now() - 60_000),
      expiresOn: new Date(Date.now() + 3_600_000),
    },
    new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY),
  );
  return `${az.endpoint}/${container}/${name}?${sas.toString()}`;
}
