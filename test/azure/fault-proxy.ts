// A fault-injecting HTTP proxy in front of Azurite: answers chosen requests with 503 / 429 + Retry-After, stalls
// others mid-body or before the headers, and counts what really went over the wire (the independent measure of
// "bytes fetched"). Every request it sees is logged with its full URL, so tests can also prove what was asked.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Sends the headers and half the body, then waits `ms` before the rest. */
  | { kind: 'stall-body'; ms: number }
  /** Waits `ms` before forwarding at all. */
  | { kind: 'delay'; ms: number }
  /** Destroys the connection without an answer. */
  | { kind: 'reset' };

export interface ProxyLogEntry {
  method: string;
  url: string;
  range: string | null;
  status: number;
  bytes: number;
  fault: Fault['kind'] | null;
}

export interface FaultProxy {
  readonly port: number;
  /** `url` with its origin replaced by the proxy's. */
  via(url: string): string;
  /** Decides a fault for the n-th request (0-based); null forwards it untouched. */
  plan: (n: number, req: IncomingMessage) => Fault | null;
  readonly log: ProxyLogEntry[];
  /** Body bytes of 206 answers forwarded completely. */
  rangeBytes(): number;
  reset(): void;
  stop(): Promise<void>;
}

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  let n = 0;
  const log: ProxyLogEntry[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const proxy: FaultProxy = {
    port: 0,
    via: (url) => {
      const u = new URL(url);
      u.host = `127.0.0.1:${proxy.port}`;
      return u.toString();
    },
    plan: () => null,
    log,
    rangeBytes: () =>
      log.filter((e) => e.status === 206 && e.fault === null).reduce((a, e) => a + e.bytes, 0),
    reset: () => {
      n = 0;
      log.length = 0;
      proxy.plan = () => null;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const fault = proxy.plan(n++, req);
    const entry: ProxyLogEntry = {
      method: req.method ?? '',
      url: req.url ?? '',
      range: (req.headers['x-ms-range'] as string | undefined) ?? req.headers.range ?? null,
      status: 0,
      bytes: 0,
      fault: fault?.kind ?? null,
    };
    log.push(entry);
    if (fault?.kind === 'status') {
      req.resume();
      entry.status = fault.status;
      const headers: Record<string, string> = { 'content-type': 'application/xml' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers);
      res.end('<?xml version="1.0"?><Error><Code>ServerBusy</Code></Error>');
      return;
    }
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    const forward = () => {
      const up = httpRequest(
        {
          host: '127.0.0.1',
          port: targetPort,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: `127.0.0.1:${targetPort}` },
        },
        (upRes) => {
          entry.status = upRes.statusCode ?? 0;
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          if (fault?.kind !== 'stall-body') {
            upRes.on('data', (c: Buffer) => (entry.bytes += c.length));
            upRes.pipe(res);
            return;
          }
          const chunks: Buffer[] = [];
          upRes.on('data', (c: Buffer) => chunks.push(c));
          upRes.on('end', () => {
            const all = Buffer.concat(chunks);
            const half = Math.floor(all.length / 2);
            res.write(all.subarray(0, half));
            const t = setTimeout(() => res.end(all.subarray(half)), fault.ms);
            res.on('close', () => clearTimeout(t));
          });
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    if (fault?.kind === 'delay') {
      const t = setTimeout(forward, fault.ms);
      res.on('close', () => clearTimeout(t));
    } else forward();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  (proxy as { port: number }).port = (server.address() as { port: number }).port;
  return proxy;
}
