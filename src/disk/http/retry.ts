// HTTP requests that survive a busy or flaky server: Azure Storage answers 503 "Server Busy" and 500 "Operation
// timed out" under load and expects clients to back off (Azure Storage "Performance and scalability checklist",
// retry policies; RFC 9110 §10.2.3 Retry-After). Ours, not the SDK's, so the read path's behaviour is tested here.
import { type ErrorCode, WinrescueError } from '../../errors.js';
import { redactText } from './redact.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** First backoff step; each further retry doubles it (full jitter). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** One attempt, headers and body together: a response that stalls mid-body is abandoned and retried. */
  readonly timeoutMs: number;
  /** A server asking for more than this is not waited for longer than this. */
  readonly maxRetryAfterMs: number;
}

/** Azure's own clients retry 3–5 times with exponential backoff; 6 attempts ride out a ~15 s throttling burst. */
export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  timeoutMs: 30_000,
  maxRetryAfterMs: 60_000,
};

/** Statuses that say "not now" rather than "no": timeouts, throttling, server faults. */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); null if absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Full-jitter exponential backoff (retry n waits a random time up to base·2^n, capped). */
export function backoffMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(random() * ceiling);
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

export interface RetryEvent {
  readonly attempt: number;
  readonly reason: string;
  readonly delayMs: number;
}

export interface RequestOptions {
  readonly policy: RetryPolicy;
  /** Says what is being fetched in messages; must already be redacted. */
  readonly what: string;
  readonly code?: ErrorCode;
  readonly fetch?: typeof fetch;
  /** Checks a non-retryable response; a string is a reason to retry it (e.g. a short body). */
  readonly validate?: (r: HttpResult) => string | null;
  readonly onRetry?: (e: RetryEvent) => void;
}

/** Aborts every request started so far; later requests are unaffected. */
let abandonAll = new AbortController();

/**
 * Abandons every request in flight or waiting to retry (they fail at once with `disk.http`): an interrupted
 * command stops reading before it cleans up, instead of waiting out timeouts and retries.
 */
export function abortAllRequests(): void {
  abandonAll.abort();
  abandonAll = new AbortController();
}

/**
 * One request, retried on network errors, timeouts and retryable statuses. Every other status is returned for
 * the caller to interpret (403, 404, 416 are answers, not faults). Messages never quote the URL itself.
 */
export async function requestWithRetry(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: Uint8Array },
  options: RequestOptions,
): Promise<HttpResult> {
  const doFetch = options.fetch ?? fetch;
  const { policy } = options;
  const abandoned = abandonAll.signal;
  const giveUp = () =>
    new WinrescueError(
      options.code ?? 'disk.http',
      `${options.what}: ${init.method} abandoned (interrupted)`,
      {
        structure: 'http',
      },
    );
  let lastReason = '';
  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    if (abandoned.aborted) throw giveUp();
    let waitHint: number | null = null;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), policy.timeoutMs);
    const abandon = () => controller.abort();
    abandoned.addEventListener('abort', abandon);
    try {
      const res = await doFetch(url, {
        method: init.method,
        headers: init.headers ?? {},
        ...(init.body ? { body: init.body } : {}),
        signal: controller.signal,
      });
      const body = new Uint8Array(await res.arrayBuffer());
      const result: HttpResult = { status: res.status, headers: res.headers, body };
      if (isRetryableStatus(res.status)) {
        lastReason = `HTTP ${res.status} ${res.statusText}`.trim();
        waitHint = retryAfterMs(res.headers.get('retry-after'));
      } else {
        const invalid = options.validate?.(result) ?? null;
        if (invalid === null) return result;
        lastReason = invalid;
      }
    } catch (e) {
      if (abandoned.aborted) throw giveUp();
      lastReason = controller.signal.aborted
        ? `no complete answer within ${policy.timeoutMs} ms`
        : redactText(describeNetworkError(e));
    } finally {
      clearTimeout(timer);
      abandoned.removeEventListener('abort', abandon);
    }
    if (attempt + 1 >= policy.attempts) break;
    const delayMs =
      waitHint !== null ? Math.min(waitHint, policy.maxRetryAfterMs) : backoffMs(attempt, policy);
    options.onRetry?.({ attempt: attempt + 1, reason: lastReason, delayMs });
    await sleep(delayMs, abandoned);
  }
  throw new WinrescueError(
    options.code ?? 'disk.http',
    `${options.what}: ${init.method} failed after ${policy.attempts} attempts: ${lastReason}`,
    { structure: 'http', actual: lastReason },
  );
}

function describeNetworkError(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message ?? 'network error'} (${cause})` : (err.message ?? String(e));
}

/** Resolves after `ms`, or at once when `cut` aborts (the next loop turn then gives up). */
function sleep(ms: number, cut: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      cut.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    cut.addEventListener('abort', done);
  });
}
