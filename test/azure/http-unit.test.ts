// The HTTP disk's parts without a server: reads through a fake fetch that injects faults, checked against the
// bytes it serves (the model); retry timing rules; SAS redaction; the LRU cache against a list-based model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BlockCache,
  HttpImageFile,
  Limiter,
  backoffMs,
  DEFAULT_RETRY,
  redactText,
  redactUrl,
  retryAfterMs,
  totalFromContentRange,
} from '../../src/disk/http/index.js';
import { isWinrescueError } from '../../src/errors.js';

type Fault = 'ok' | '503' | '429' | 'short' | 'network';

interface FakeServer {
  fetch: typeof fetch;
  requests: { start: number; end: number; fault: Fault }[];
}

/** Serves `data` by ranges; `faults()` picks each answer's fate. */
function fakeServer(data: Uint8Array, faults: () => Fault, ignoreRange = false): FakeServer {
  const requests: FakeServer['requests'] = [];
  const f = (async (_url: string | URL | Request, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const m = /^bytes=(\d+)-(\d+)$/.exec(headers.Range ?? '');
    if (!m) return new Response('no range', { status: 400 });
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), data.length - 1);
    const fault = faults();
    requests.push({ start, end, fault });
    if (fault === 'network') throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    if (fault === '503') return new Response('busy', { status: 503 });
    if (fault === '429') return new Response('slow down', { status: 429, headers: { 'retry-after': '0' } });
    if (ignoreRange) return new Response(data.slice(), { status: 200 });
    if (start >= data.length) return new Response('', { status: 416 });
    const body = data.slice(start, fault === 'short' ? Math.max(start, end - 1) : end + 1);
    return new Response(body, {
      status: 206,
      headers: { 'content-range': `bytes ${start}-${end}/${data.length}` },
    });
  }) as typeof fetch;
  return { fetch: f, requests };
}

const FAST_RETRY = { attempts: 30, baseDelayMs: 0, maxDelayMs: 0, timeoutMs: 5_000 };

test('random reads through faults (503, 429, short bodies, dropped connections) return the served bytes', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 200_000 }),
      fc.constantFrom(512, 4096, 16384),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 70_000 })), {
        minLength: 1,
        maxLength: 25,
      }),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      async (size, blockSize, concurrency, reads, seed) => {
        const data = new Uint8Array(size).map((_, i) => (i * 31 + (i >> 9)) & 0xff);
        let s = seed;
        const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
        const fates: Fault[] = ['ok', 'ok', 'ok', '503', '429', 'short', 'network'];
        const server = fakeServer(data, () => fates[Math.floor(rand() * fates.length)]!);
        const file = await HttpImageFile.open('https://acct.example/c/d.vhd?sig=SECRET', {
          fetch: server.fetch,
          blockSize,
          concurrency,
          cacheBytes: 4 * blockSize,
          maxRequest: 8 * blockSize,
          retry: FAST_RETRY,
        });
        assert.equal(file.size, size);
        await Promise.all(
          reads.map(async ([where, len]) => {
            const offset = Math.floor(where * size);
            const length = Math.min(len, size - offset);
            const got = await file.read(offset, length);
            assert.deepEqual(got, data.subarray(offset, offset + length));
          }),
        );
        for (const r of server.requests) {
          assert.ok(r.end - r.start + 1 <= 8 * blockSize, 'no GET larger than maxRequest');
          assert.equal(r.start % blockSize, 0, 'GETs start on block boundaries');
        }
        assert.ok(!file.path.includes('SECRET'));
        await file.close();
      },
    ),
    { numRuns: 60 },
  );
});

test('reads outside the file and servers that ignore Range or give no size are typed errors', async () => {
  const data = new Uint8Array(10_000).fill(7);
  const ok = fakeServer(data, () => 'ok');
  const file = await HttpImageFile.open('https://h/x?sig=S', { fetch: ok.fetch, retry: FAST_RETRY });
  await assert.rejects(file.read(9_000, 2_000), { code: 'disk.truncated' });
  await assert.rejects(file.read(-1, 10), { code: 'disk.outOfRange' });
  await assert.rejects(file.write(0, new Uint8Array(1)), { code: 'disk.readOnly' });
  await assert.rejects(file.truncate(5), { code: 'disk.readOnly' });
  assert.equal((await file.read(10_000, 0)).length, 0);

  const whole = fakeServer(data, () => 'ok', true);
  await assert.rejects(HttpImageFile.open('https://h/x?sig=S', { fetch: whole.fetch, retry: FAST_RETRY }), {
    code: 'disk.unsupported',
  });
  const noSize = (async () =>
    new Response(new Uint8Array(10), {
      status: 206,
      headers: { 'content-range': 'bytes 0-9/*' },
    })) as typeof fetch;
  await assert.rejects(HttpImageFile.open('https://h/x?sig=S', { fetch: noSize, retry: FAST_RETRY }), {
    code: 'disk.http',
  });
  const denied = (async () => new Response('', { status: 403 })) as typeof fetch;
  await assert.rejects(
    HttpImageFile.open('https://h/x?sig=S', { fetch: denied, retry: FAST_RETRY }),
    (e) =>
      isWinrescueError(e) &&
      e.code === 'disk.http' &&
      /access denied/.test(e.message) &&
      !e.message.includes('sig=S'),
  );
});

test('Retry-After: delta seconds and HTTP dates; backoff stays within its doubling ceiling', () => {
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs(null), null);
  assert.equal(retryAfterMs('soon'), null);
  const now = Date.parse('2026-11-24T12:00:00Z');
  assert.equal(retryAfterMs('Tue, 24 Nov 2026 12:00:05 GMT', now), 5000);
  assert.equal(retryAfterMs('Tue, 24 Nov 2026 11:00:00 GMT', now), 0);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 40 }),
      fc.double({ min: 0, max: 0.999999, noNaN: true }),
      (n, r) => {
        const d = backoffMs(n, DEFAULT_RETRY, () => r);
        return d >= 0 && d <= Math.min(DEFAULT_RETRY.maxDelayMs, DEFAULT_RETRY.baseDelayMs * 2 ** n);
      },
    ),
  );
  assert.equal(totalFromContentRange('bytes 0-511/1048576'), 1048576);
  assert.equal(totalFromContentRange('bytes */1048576'), 1048576);
  assert.equal(totalFromContentRange('bytes 0-511/*'), null);
  assert.equal(totalFromContentRange(null), null);
});

test('redaction: no signature survives redactUrl or redactText, whatever its characters', () => {
  const sigChars = fc.stringMatching(/^[A-Za-z0-9%+/=]{8,60}$/);
  fc.assert(
    fc.property(sigChars, fc.boolean(), (sig, sigFirst) => {
      const q = sigFirst ? `sig=${sig}&sv=2022-11-02&sp=r` : `sv=2022-11-02&sr=b&sp=r&sig=${sig}`;
      const url = `https://md-abc.z1.blob.storage.azure.net/x1y2/abcd?${q}`;
      const shown = redactUrl(url);
      const text = redactText(`GET ${url} failed; retry "${url}"`);
      return (
        !shown.includes(sig) &&
        shown === 'https://md-abc.z1.blob.storage.azure.net/x1y2/abcd?[SAS redacted]' &&
        !text.includes(sig)
      );
    }),
  );
  assert.equal(redactUrl('https://h/p'), 'https://h/p');
  assert.equal(redactUrl('https://user:pw@h/p?sig=1'), 'https://h/p?[SAS redacted]');
  assert.ok(!redactUrl('not a url sig=abc').includes('abc'));
});

test('the block cache is an LRU bounded in bytes (model: a list in use order)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 3 })), {
        maxLength: 200,
      }),
      (ops) => {
        const cap = 8;
        const cache = new BlockCache(cap);
        let model: { k: number; n: number }[] = [];
        for (const [isSet, k, n] of ops) {
          if (isSet) {
            cache.set(k, new Uint8Array(n));
            model = model.filter((e) => e.k !== k);
            model.push({ k, n });
            while (model.reduce((a, e) => a + e.n, 0) > cap && model[0]!.k !== k) model.shift();
          } else {
            const hit = cache.get(k);
            const i = model.findIndex((e) => e.k === k);
            if ((hit !== undefined) !== i >= 0) return false;
            if (i >= 0) model.push(...model.splice(i, 1));
          }
          if (cache.bytes !== model.reduce((a, e) => a + e.n, 0)) return false;
        }
        return true;
      },
    ),
  );
});

test('the limiter never runs more than its limit at once, and runs everything', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 40 }),
      async (limit, delays) => {
        const l = new Limiter(limit);
        let running = 0;
        let peak = 0;
        const done = await Promise.all(
          delays.map((d, i) =>
            l.run(async () => {
              running++;
              peak = Math.max(peak, running);
              await new Promise((r) => setTimeout(r, d));
              running--;
              return i;
            }),
          ),
        );
        return peak <= limit && done.length === delays.length;
      },
    ),
    { numRuns: 30 },
  );
});
