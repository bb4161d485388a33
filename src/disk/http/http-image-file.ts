// A disk image read (and, when allowed, written) over HTTP range requests: an Azure page blob or a managed disk /
// snapshot SAS URL. Azure serves such a disk as a fixed VHD (the 512-byte footer at the end: Azure "About VHDs for
// Azure VMs"), so this is an ImageFile that openDisk then detects like a local file.
// Protocol: RFC 9110 §14 (Range, 206, Content-Range); Azure Storage REST "Get Blob" (x-ms-range) and "Put Page"
// (comp=page, x-ms-page-write: update, 512-byte aligned ranges, at most 4 MiB each).
import { WinrescueError, hex } from '../../errors.js';
import type { ImageFile } from '../block-device.js';
import { readOnlyError } from '../block-device.js';
import { BlockCache, Limiter } from './block-cache.js';
import { redactUrl, sasParam } from './redact.js';
import { DEFAULT_RETRY, type HttpResult, type RetryPolicy, requestWithRetry } from './retry.js';
import { recordTransfer } from './stats.js';

/**
 * 16 KiB: an MFT record is 1 KiB, an index block 4 KiB, and a diagnosis jumps between many of them. Measured on
 * the Gen1 fixture, `diagnose` over HTTP fetched 4.0 MB in 50 GETs with 64 KiB blocks, 2.9 MB / 61 with 32 KiB and
 * 2.3 MB / 70 with 16 KiB (it reads 1.7 MB). Sequential reads still become large GETs through read-ahead.
 */
export const DEFAULT_BLOCK_SIZE = 16 * 1024;
/** 32 MiB holds the $MFT, index blocks and hives a diagnosis visits on a typical OS disk. */
export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;
/** Read-ahead doubles on each sequential read up to this (a file's data, a hive). */
export const DEFAULT_MAX_READ_AHEAD = 1024 * 1024;
/** One GET never asks for more than this: a failed request costs little to repeat. */
export const DEFAULT_MAX_REQUEST = 4 * 1024 * 1024;
/** Parallel GETs per disk; Azure serves a single blob at up to ~60 MiB/s, a few connections reach it. */
export const DEFAULT_CONCURRENCY = 8;
/** Put Page: ranges are 512-byte aligned and at most 4 MiB (Azure Storage REST, Put Page). */
const PAGE = 512;
const MAX_PUT_PAGE = 4 * 1024 * 1024;
/** A storage service version that has Put Page with x-ms-range and 206 answers to Range (any since 2011). */
const STORAGE_VERSION = '2021-08-06';

export interface HttpImageFileOptions {
  /** Writes are refused unless this is set and the SAS does not deny writing (its `sp` lacks `w`). */
  allowWrite?: boolean;
  blockSize?: number;
  cacheBytes?: number;
  maxReadAhead?: number;
  maxRequest?: number;
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
}

export interface HttpTransferStats {
  /** Body bytes of successful range responses: what the disk reads cost. */
  bytesFetched: number;
  requests: number;
  retries: number;
  cacheHits: number;
  cacheMisses: number;
  bytesWritten: number;
}

export class HttpImageFile implements ImageFile {
  /** The redacted URL: safe for messages. */
  readonly path: string;
  readonly stats: HttpTransferStats = {
    bytesFetched: 0,
    requests: 0,
    retries: 0,
    cacheHits: 0,
    cacheMisses: 0,
    bytesWritten: 0,
  };
  private readonly cache: BlockCache;
  private readonly inflight = new Map<number, Promise<Uint8Array>>();
  private readonly limiter: Limiter;
  private readonly policy: RetryPolicy;
  private readonly blockSize: number;
  private readonly maxReadAhead: number;
  private readonly maxRequest: number;
  private readAhead = 0;
  private nextSequential = -1;
  private closed = false;

  private constructor(
    private readonly url: string,
    readonly size: number,
    readonly readOnly: boolean,
    private readonly options: HttpImageFileOptions,
  ) {
    this.path = redactUrl(url);
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    this.cache = new BlockCache(options.cacheBytes ?? DEFAULT_CACHE_BYTES);
    this.limiter = new Limiter(options.concurrency ?? DEFAULT_CONCURRENCY);
    this.policy = { ...DEFAULT_RETRY, ...options.retry };
    this.maxReadAhead = options.maxReadAhead ?? DEFAULT_MAX_READ_AHEAD;
    this.maxRequest = Math.max(this.blockSize, options.maxRequest ?? DEFAULT_MAX_REQUEST);
  }

  /** Learns the size from the first block's Content-Range (one request, no HEAD: some SAS kinds allow GET only). */
  static async open(url: string, options: HttpImageFileOptions = {}): Promise<HttpImageFile> {
    const shown = redactUrl(url);
    const permissions = sasParam(url, 'sp');
    if (options.allowWrite && permissions !== null && !permissions.includes('w')) {
      throw new WinrescueError(
        'disk.readOnly',
        `${shown}: the SAS grants "${permissions}", not write; --allow-write needs a write SAS`,
        { path: shown, expected: 'sp with w', actual: permissions },
      );
    }
    const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    const probe = new HttpImageFile(url, Number.MAX_SAFE_INTEGER, true, options);
    const first = await probe.get(0, blockSize, true);
    const total = totalFromContentRange(first.headers.get('content-range'));
    if (total === null) {
      throw new WinrescueError('disk.http', `${shown}: the answer to a range request gave no total size`, {
        path: shown,
        structure: 'http',
        expected: 'Content-Range: bytes a-b/SIZE',
        actual: first.headers.get('content-range'),
      });
    }
    const file = new HttpImageFile(url, total, !options.allowWrite, options);
    Object.assign(file.stats, probe.stats);
    recordTransfer(shown, probe.stats.bytesFetched, probe.stats.requests);
    if (first.body.length === Math.min(blockSize, total)) file.cache.set(0, first.body);
    return file;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new WinrescueError('disk.outOfRange', `${this.path}: read of ${length} bytes at ${offset}`, {
        offset,
        path: this.path,
      });
    }
    if (offset + length > this.size) {
      throw new WinrescueError(
        'disk.truncated',
        `${this.path}: ends at ${this.size}, needed ${offset + length}`,
        { offset, path: this.path, expected: offset + length, actual: this.size },
      );
    }
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const B = this.blockSize;
    const first = Math.floor(offset / B);
    const last = Math.floor((offset + length - 1) / B);
    const lastBlock = Math.floor((this.size - 1) / B);
    // Sequential reads (a file's data, a hive) grow the read-ahead window; a jump resets it.
    this.readAhead =
      first === this.nextSequential ? Math.min(this.maxReadAhead, Math.max(2 * B, 2 * this.readAhead)) : 0;
    this.nextSequential = last + 1;
    const until = Math.min(lastBlock, last + Math.floor(this.readAhead / B));
    const parts = this.blocks(first, last, until);
    const datas = await Promise.all(parts);
    for (let i = first; i <= last; i++) {
      const data = datas[i - first]!;
      const blockStart = i * B;
      const from = Math.max(offset, blockStart);
      const to = Math.min(offset + length, blockStart + data.length);
      out.set(data.subarray(from - blockStart, to - blockStart), from - offset);
    }
    return out;
  }

  /** Starts fetches for every missing block in [first, until]; returns the demanded blocks [first, last]. */
  private blocks(first: number, last: number, until: number): Promise<Uint8Array>[] {
    const demanded: (Uint8Array | Promise<Uint8Array> | undefined)[] = [];
    for (let i = first; i <= last; i++) {
      const hit = this.cache.get(i);
      demanded.push(hit ?? this.inflight.get(i));
    }
    let runStart = -1;
    const maxBlocks = Math.max(1, Math.floor(this.maxRequest / this.blockSize));
    const flush = (end: number) => {
      if (runStart >= 0) this.fetchRun(runStart, end);
      runStart = -1;
    };
    for (let i = first; i <= until; i++) {
      const missing =
        i <= last ? demanded[i - first] === undefined : !this.cache.peek(i) && !this.inflight.has(i);
      if (!missing) {
        flush(i - 1);
        continue;
      }
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 >= maxBlocks) flush(i);
    }
    flush(until);
    this.stats.cacheHits = this.cache.hits;
    this.stats.cacheMisses = this.cache.misses;
    return demanded.map((d, k) => (d === undefined ? this.inflight.get(first + k)! : Promise.resolve(d)));
  }

  /** One GET for blocks [a, b]; each block's promise is in `inflight` until the answer is in the cache. */
  private fetchRun(a: number, b: number): void {
    const B = this.blockSize;
    const start = a * B;
    const end = Math.min(this.size, (b + 1) * B);
    const whole = this.limiter.run(() => this.get(start, end - start, false));
    for (let i = a; i <= b; i++) {
      const block = whole.then((r) => {
        const data = r.body.slice((i - a) * B, Math.min(r.body.length, (i - a + 1) * B));
        if (!this.closed) this.cache.set(i, data);
        return data;
      });
      // Read-ahead blocks nobody awaits must not surface as unhandled rejections; awaiting still sees the error.
      block.catch(() => undefined);
      const settled = block.finally(() => {
        if (this.inflight.get(i) === block) this.inflight.delete(i);
      });
      settled.catch(() => undefined);
      this.inflight.set(i, block);
    }
  }

  /** GET bytes [start, start+length); `open` says the total size is not known yet. */
  private async get(start: number, length: number, open: boolean): Promise<HttpResult> {
    const range = `bytes=${start}-${start + length - 1}`;
    const r = await requestWithRetry(
      this.url,
      { method: 'GET', headers: { Range: range, 'x-ms-range': range, 'x-ms-version': STORAGE_VERSION } },
      {
        policy: this.policy,
        what: `${this.path} ${range}`,
        ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
        onRetry: () => {
          this.stats.retries++;
        },
        validate: (res) => {
          if (res.status !== 206) return null;
          const expected = open ? Math.min(length, res.body.length) : length;
          return res.body.length === expected && (!open || res.body.length > 0)
            ? null
            : `short body: ${res.body.length} of ${length} bytes`;
        },
      },
    );
    this.stats.requests++;
    if (r.status === 206) {
      this.stats.bytesFetched += r.body.length;
      if (!open) recordTransfer(this.path, r.body.length, 1);
      return r;
    }
    throw this.statusError(r, start, range);
  }

  private statusError(r: HttpResult, start: number, range: string): WinrescueError {
    const where = { offset: start, path: this.path, structure: 'http', actual: r.status };
    if (r.status === 200) {
      return new WinrescueError(
        'disk.unsupported',
        `${this.path}: the server ignores range requests (answered 200 to ${range}); winrescue reads disks by ranges only`,
        { ...where, expected: 206 },
      );
    }
    if (r.status === 403 || r.status === 401) {
      return new WinrescueError(
        'disk.http',
        `${this.path}: access denied (HTTP ${r.status}): the SAS has expired, was revoked, or does not grant read`,
        where,
      );
    }
    if (r.status === 404)
      return new WinrescueError('disk.notFound', `${this.path}: no such blob (HTTP 404)`, where);
    if (r.status === 416) {
      return new WinrescueError('disk.empty', `${this.path} is empty (HTTP 416 for ${range})`, where);
    }
    return new WinrescueError('disk.http', `${this.path}: HTTP ${r.status} for ${range}`, {
      ...where,
      expected: 206,
    });
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw readOnlyError({ description: this.path }, offset);
    if (offset < 0 || offset + data.length > this.size) {
      throw new WinrescueError(
        'disk.unsupported',
        `${this.path}: a page blob does not grow by writing; write at ${hex(offset)} of ${data.length} bytes ends past ${this.size}`,
        { offset, path: this.path, expected: `<= ${this.size}`, actual: offset + data.length },
      );
    }
    if (data.length === 0) return;
    // Put Page takes whole 512-byte pages: widen to them, keeping the bytes around the write as they are.
    const start = Math.floor(offset / PAGE) * PAGE;
    const end = Math.ceil((offset + data.length) / PAGE) * PAGE;
    const pages =
      start === offset && end === offset + data.length ? data : await this.read(start, end - start);
    if (pages !== data) pages.set(data, offset - start);
    for (let at = 0; at < pages.length; at += MAX_PUT_PAGE) {
      const chunk = pages.subarray(at, Math.min(pages.length, at + MAX_PUT_PAGE));
      await this.putPages(start + at, chunk);
    }
    this.patchCache(start, pages);
  }

  private async putPages(start: number, chunk: Uint8Array): Promise<void> {
    const range = `bytes=${start}-${start + chunk.length - 1}`;
    const url = new URL(this.url);
    url.searchParams.set('comp', 'page');
    const r = await requestWithRetry(
      url.toString(),
      {
        method: 'PUT',
        headers: {
          'x-ms-page-write': 'update',
          'x-ms-range': range,
          'x-ms-version': STORAGE_VERSION,
          'Content-Length': String(chunk.length),
        },
        body: chunk,
      },
      {
        policy: this.policy,
        what: `${this.path} ${range}`,
        ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
        onRetry: () => {
          this.stats.retries++;
        },
      },
    );
    this.stats.requests++;
    if (r.status !== 201) {
      throw new WinrescueError(
        r.status === 403 ? 'disk.readOnly' : 'disk.http',
        `${this.path}: Put Page ${range} answered HTTP ${r.status}${r.status === 403 ? ' (the SAS does not grant write)' : ''}`,
        { offset: start, path: this.path, structure: 'http', expected: 201, actual: r.status },
      );
    }
    this.stats.bytesWritten += chunk.length;
  }

  private patchCache(start: number, pages: Uint8Array): void {
    const B = this.blockSize;
    for (let i = Math.floor(start / B); i * B < start + pages.length; i++) {
      // A fetch still in flight may carry the old bytes: forget the block rather than race it.
      if (this.inflight.has(i)) {
        this.cache.delete(i);
        continue;
      }
      const block = this.cache.peek(i);
      if (!block) continue;
      const from = Math.max(start, i * B);
      const to = Math.min(start + pages.length, i * B + block.length);
      block.set(pages.subarray(from - start, to - start), from - i * B);
    }
  }

  async truncate(length: number): Promise<void> {
    if (length === this.size) return;
    if (this.readOnly) throw readOnlyError({ description: this.path }, length);
    throw new WinrescueError('disk.unsupported', `${this.path}: a page blob cannot be resized by winrescue`, {
      path: this.path,
      expected: this.size,
      actual: length,
    });
  }

  /** Put Page is durable when it answers 201: nothing is held back. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    this.cache.clear();
  }
}

/** `bytes 0-65535/321913344` → 321913344 (RFC 9110 §14.4); null when absent or the size is `*`. */
export function totalFromContentRange(header: string | null): number | null {
  const m = header === null ? null : /^bytes\s+(?:\d+-\d+|\*)\/(\d+)$/i.exec(header.trim());
  if (!m) return null;
  const total = Number(m[1]);
  return Number.isSafeInteger(total) && total > 0 ? total : null;
}
