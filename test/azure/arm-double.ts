// A TEST DOUBLE of Azure Resource Manager (Microsoft.Compute), not an emulator: just the operations winrescue
// calls, answering the way ARM documents them (REST API reference, and "Azure-AsyncOperation" / "Location"
// long-running operation headers), recording every call so tests can check order and bodies, and failing on
// demand. HTTPS with a throw-away self-signed certificate, because the SDK sends bearer tokens over TLS only.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tools.js';

export interface ArmCall {
  method: string;
  /** Path without the query. */
  path: string;
  apiVersion: string | null;
  query: Record<string, string>;
  body: unknown;
  authorization: string | null;
}

/** Where a test wants ARM to fail: the request itself (HTTP error) or the long-running operation (status Failed). */
export type ArmStep = 'vm' | 'bootDiagnostics' | 'create' | 'grant' | 'revoke' | 'delete';

export interface ArmDoubleOptions {
  location?: string;
  osDiskId?: string | null;
  screenshotUri?: string | null;
  serialLogUri?: string | null;
  /** The SAS URL grantAccess hands out. */
  accessSas: string;
  /** Answer this step's request with an HTTP error. */
  failRequest?: ArmStep;
  /** Let this step's request be accepted, then report the operation as Failed. */
  failOperation?: ArmStep;
  /** Answer the first request of this step with 429 Retry-After: 1. */
  throttle?: ArmStep;
  /** How many polls say InProgress before Succeeded. */
  pollsBeforeDone?: number;
  completionPercent?: number;
}

export interface ArmDouble {
  readonly endpoint: string;
  /** The certificate to trust (PEM). */
  readonly ca: string;
  readonly caFile: string;
  readonly calls: ArmCall[];
  /** Resource calls only (no operation polls), as "METHOD last-path-segment". */
  steps(): string[];
  /** Snapshots that exist now, and those with an active access grant. */
  readonly snapshots: Map<string, { body: unknown; granted: boolean }>;
  options: ArmDoubleOptions;
  stop(): Promise<void>;
}

const PROVIDER = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/(.+)$/i;

export async function startArmDouble(options: ArmDoubleOptions): Promise<ArmDouble> {
  const t = tempDir('winrescue-arm-double-');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(t.dir, 'key.pem'),
      '-out',
      join(t.dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const key = readFileSync(join(t.dir, 'key.pem'));
  const cert = readFileSync(join(t.dir, 'cert.pem'), 'utf8');
  const calls: ArmCall[] = [];
  const snapshots = new Map<string, { body: unknown; granted: boolean }>();
  /** Long-running operations: polls left, outcome, and the result served at their Location. */
  const operations = new Map<string, { polls: number; failed: boolean; result: unknown }>();
  const throttled = new Set<ArmStep>();
  let opCounter = 0;
  let port = 0;

  const double: ArmDouble = {
    endpoint: '',
    ca: cert,
    caFile: join(t.dir, 'cert.pem'),
    calls,
    snapshots,
    options,
    steps: () =>
      calls
        .filter((c) => !c.path.startsWith('/operations/'))
        .map((c) => `${c.method} ${c.path.split('/').slice(-1)[0]}`),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => {
          t.cleanup();
          resolve();
        });
      }),
  };

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const armError = (res: ServerResponse, status: number, code: string, message: string) =>
    json(res, status, { error: { code, message } });

  /** Starts a long-running operation: 201/202 with Azure-AsyncOperation (and Location for POSTs). */
  const accepted = (
    res: ServerResponse,
    status: 201 | 202,
    step: ArmStep,
    result: unknown,
    body?: unknown,
  ) => {
    const id = `op${++opCounter}`;
    operations.set(id, {
      polls: double.options.pollsBeforeDone ?? 1,
      failed: double.options.failOperation === step,
      result,
    });
    const base = `https://127.0.0.1:${port}/operations/${id}`;
    json(res, status, body, {
      'azure-asyncoperation': `${base}?api-version=2025-01-02`,
      location: `${base}/result?api-version=2025-01-02`,
      'retry-after': '0',
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const url = new URL(req.url ?? '/', `https://127.0.0.1:${port}`);
    let body: unknown = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    calls.push({
      method: req.method ?? '',
      path: url.pathname,
      apiVersion: url.searchParams.get('api-version'),
      query: Object.fromEntries(url.searchParams),
      body,
      authorization: (req.headers.authorization as string | undefined) ?? null,
    });
    if (!req.headers.authorization?.startsWith('Bearer ')) {
      return armError(res, 401, 'AuthenticationFailed', 'no bearer token');
    }
    const op = /^\/operations\/([^/]+)(\/result)?$/.exec(url.pathname);
    if (op) {
      const o = operations.get(op[1]!);
      if (!o) return armError(res, 404, 'NotFound', 'no such operation');
      if (op[2]) return json(res, 200, o.result);
      if (o.polls > 0) {
        o.polls--;
        return json(res, 200, { status: 'InProgress' }, { 'retry-after': '0' });
      }
      return json(
        res,
        200,
        o.failed
          ? {
              status: 'Failed',
              error: { code: 'InternalOperationError', message: 'the double was told to fail' },
            }
          : { status: 'Succeeded' },
      );
    }
    const m = PROVIDER.exec(url.pathname);
    if (!m) return armError(res, 404, 'InvalidResourceType', url.pathname);
    const [, sub, rg, rest] = m as unknown as [string, string, string, string];
    const parts = rest.split('/');
    const step: ArmStep | null =
      parts[0] === 'virtualMachines'
        ? parts[2] === 'retrieveBootDiagnosticsData'
          ? 'bootDiagnostics'
          : 'vm'
        : parts[2] === 'beginGetAccess'
          ? 'grant'
          : parts[2] === 'endGetAccess'
            ? 'revoke'
            : req.method === 'PUT'
              ? 'create'
              : req.method === 'DELETE'
                ? 'delete'
                : null;
    if (step && double.options.throttle === step && !throttled.has(step)) {
      throttled.add(step);
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { code: 'TooManyRequests', message: 'throttled' } }));
    }
    if (step && double.options.failRequest === step) {
      return armError(res, 409, 'OperationNotAllowed', `the double was told to refuse ${step}`);
    }
    const o = double.options;
    if (parts[0] === 'virtualMachines') {
      const vm = parts[1]!;
      if (vm === 'missing') return armError(res, 404, 'ResourceNotFound', `VM ${vm} not found`);
      if (step === 'bootDiagnostics' && req.method === 'POST') {
        return json(res, 200, {
          ...(o.screenshotUri ? { consoleScreenshotBlobUri: o.screenshotUri } : {}),
          ...(o.serialLogUri ? { serialConsoleLogBlobUri: o.serialLogUri } : {}),
        });
      }
      if (req.method === 'GET' && parts.length === 2) {
        const diskId =
          o.osDiskId === undefined
            ? `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/disks/${vm}_OsDisk_1`
            : o.osDiskId;
        return json(res, 200, {
          id: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${vm}`,
          name: vm,
          location: o.location ?? 'westeurope',
          properties: {
            storageProfile: {
              osDisk: diskId
                ? { name: `${vm}_OsDisk_1`, osType: 'Windows', managedDisk: { id: diskId } }
                : {
                    name: `${vm}_OsDisk_1`,
                    osType: 'Windows',
                    vhd: { uri: 'https://acct.blob.core.windows.net/vhds/os.vhd' },
                  },
            },
          },
        });
      }
    }
    if (parts[0] === 'snapshots') {
      const name = parts[1]!;
      const resource = () => ({
        id: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/snapshots/${name}`,
        name,
        location: o.location ?? 'westeurope',
        properties: {
          ...((snapshots.get(name)?.body as { properties?: object } | undefined)?.properties ?? {}),
          provisioningState: 'Succeeded',
          ...(o.completionPercent !== undefined ? { completionPercent: o.completionPercent } : {}),
        },
      });
      if (req.method === 'PUT' && parts.length === 2) {
        snapshots.set(name, { body, granted: false });
        return accepted(res, 201, 'create', null, {
          ...resource(),
          properties: { provisioningState: 'Updating' },
        });
      }
      if (req.method === 'GET' && parts.length === 2) {
        if (!snapshots.has(name)) return armError(res, 404, 'ResourceNotFound', `snapshot ${name}`);
        return json(res, 200, resource());
      }
      if (step === 'grant') {
        const s = snapshots.get(name);
        if (!s) return armError(res, 404, 'ResourceNotFound', `snapshot ${name}`);
        if (o.failOperation !== 'grant') s.granted = true;
        return accepted(res, 202, 'grant', { accessSAS: o.accessSas });
      }
      if (step === 'revoke') {
        const s = snapshots.get(name);
        if (s && o.failOperation !== 'revoke') s.granted = false;
        return accepted(res, 202, 'revoke', null);
      }
      if (step === 'delete') {
        const s = snapshots.get(name);
        if (!s) return json(res, 204, undefined);
        if (s.granted) {
          return armError(
            res,
            409,
            'OperationNotAllowed',
            `snapshot ${name} has an active SAS; revoke it first`,
          );
        }
        if (o.failOperation !== 'delete') snapshots.delete(name);
        return accepted(res, 202, 'delete', null);
      }
    }
    return armError(res, 404, 'NotFound', `${req.method} ${url.pathname}`);
  };

  const server: Server = createServer({ key, cert }, (req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => handle(req, res, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as { port: number }).port;
  (double as { endpoint: string }).endpoint = `https://127.0.0.1:${port}`;
  return double;
}
