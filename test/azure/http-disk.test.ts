// A disk read over HTTP range requests from Azurite (Microsoft's storage emulator) through a fault-injecting proxy.
// Oracles: the local image files (sha256 of everything read back), the same CLI commands run on the local file
// (identical JSON), the proxy's own count of bytes on the wire, and the Azure SDK's download of what we wrote.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildDisk, type BuiltDisk } from '../fixtures/index.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { sha256, sha256File, tempDir } from '../helpers/tools.js';
import { type Azurite, blobSasUrl, startAzurite, uploadPageBlob } from './azurite.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { type CliResult, allText, winrescueAsync } from './cli.js';
import { HttpImageFile, redactUrl } from '../../src/disk/http/index.js';
import { openDisk } from '../../src/disk/open-disk.js';
import { fileJournalStorage, undoJournal } from '../../src/disk/journal/index.js';
import { isWinrescueError } from '../../src/errors.js';

let az: Azurite;
let proxy: FaultProxy;
let disk: BuiltDisk;
/** The SAS URL of the Gen1 synthetic fixed VHD, through the proxy. */
let vhdUrl: string;
const outputs: CliResult[] = [];
const sigs: string[] = [];

before(async () => {
  disk = await buildDisk({ gen: 1, flavour: 'synthetic', formats: ['vhd'] });
  az = await startAzurite();
  proxy = await startFaultProxy(az.port);
  const up = await uploadPageBlob(az, 'disks', 'disk.vhd', disk.vhd!);
  assert.ok(up.uploaded < up.size / 10, 'only the written ranges are uploaded');
  vhdUrl = proxy.via(blobSasUrl(az, 'disks', 'disk.vhd'));
  sigs.push(new URL(vhdUrl).searchParams.get('sig')!);
});

after(async () => {
  await proxy?.stop();
  await az?.stop();
});

async function cli(args: string[]): Promise<CliResult> {
  const r = await winrescueAsync(args);
  outputs.push(r);
  return r;
}

/** What may differ between a URL and a local file: the DISK as given, and check's timing. */
function withoutPath(doc: Record<string, unknown>): Record<string, unknown> {
  const { path: _path, ...rest } = doc;
  if (rest.stats && typeof rest.stats === 'object') rest.stats = { ...rest.stats, seconds: 0 };
  return rest;
}

async function sha256OfReads(
  read: (o: number, n: number) => Promise<Uint8Array>,
  size: number,
): Promise<string> {
  const h = createHash('sha256');
  const step = 4 * 1024 * 1024;
  for (let o = 0; o < size; o += step) h.update(await read(o, Math.min(step, size - o)));
  return h.digest('hex');
}

test('a fixed VHD page blob reads back with the sha256 of the local file; the disk inside is the raw image', async () => {
  // The whole file straight from Azurite (the proxy adds nothing to prove here and costs seconds).
  const direct = await HttpImageFile.open(blobSasUrl(az, 'disks', 'disk.vhd'));
  try {
    assert.equal(direct.size, statSync(disk.vhd!).size);
    assert.equal(await sha256OfReads((o, n) => direct.read(o, n), direct.size), await sha256File(disk.vhd!));
  } finally {
    await direct.close();
  }
  proxy.reset();
  const opened = await openDisk(vhdUrl);
  try {
    assert.equal(opened.format, 'vhd-fixed');
    assert.equal(opened.device.readOnly, true);
    assert.equal(opened.device.size, statSync(disk.raw).size);
    const d = opened.device;
    const span = 48 * 1024 * 1024;
    const raw = readFileSync(disk.raw).subarray(0, span);
    assert.equal(await sha256OfReads((o, n) => d.read(o, n), span), sha256(raw));
    assert.ok(!opened.path.includes(sigs[0]!) && !d.description.includes(sigs[0]!));
    const file = (d as unknown as { file?: HttpImageFile }).file;
    if (file instanceof HttpImageFile) assert.equal(file.stats.bytesFetched, proxy.rangeBytes());
  } finally {
    await opened.device.close();
  }
});

test('inspect, ls and check of the blob URL print what they print for the local file, for <1% of the disk', async () => {
  const size = statSync(disk.vhd!).size;
  const runs: [string, string[]][] = [
    ['inspect', ['inspect', '%', '--json']],
    ['ls', ['ls', '%', '/Windows/System32/drivers', '--json']],
    ['check', ['check', '%', '--json']],
  ];
  for (const [name, args] of runs) {
    const local = await cli(args.map((a) => (a === '%' ? disk.vhd! : a)));
    proxy.reset();
    const remote = await cli(args.map((a) => (a === '%' ? vhdUrl : a)));
    assert.equal(remote.status, local.status, remote.stderr);
    assert.equal(local.status, 0, local.stderr);
    const [l, r] = [JSON.parse(local.stdout), JSON.parse(remote.stdout)] as Record<string, unknown>[];
    assert.deepEqual(withoutPath(r!), withoutPath(l!));
    if (name === 'inspect') assert.equal(r!.path, redactUrl(vhdUrl));
    const fraction = proxy.rangeBytes() / size;
    console.log(
      `${name} over HTTP: ${proxy.rangeBytes()} bytes in ${proxy.log.length} requests = ${(fraction * 100).toFixed(3)}% of ${size}`,
    );
    if (name !== 'check') assert.ok(fraction < 0.01, `${name} fetched ${fraction * 100}% of the disk`);
  }
});

test('diagnose of the blob URL gives the findings of the local file, for <1% of the disk', async () => {
  const size = statSync(disk.vhd!).size;
  const local = await cli(['diagnose', disk.vhd!, '--json']);
  proxy.reset();
  const remote = await cli(['diagnose', vhdUrl, '--json']);
  assert.equal(remote.status, local.status, remote.stderr);
  const [l, r] = [JSON.parse(local.stdout), JSON.parse(remote.stdout)] as Record<string, unknown>[];
  const { disk: _l, ...lRest } = l!;
  const { disk: _r, ...rRest } = r!;
  assert.deepEqual(rRest, lRest);
  assert.equal(r!.disk, redactUrl(vhdUrl));
  assert.ok(Array.isArray(r!.files) && (r!.files as unknown[]).length > 10, 'boot files were examined');
  const fraction = proxy.rangeBytes() / size;
  console.log(
    `diagnose over HTTP: ${proxy.rangeBytes()} bytes in ${proxy.log.length} requests = ${(fraction * 100).toFixed(3)}% ` +
      `of ${size} (it read ${String(r!.bytesRead)} bytes)`,
  );
  assert.ok(fraction < 0.01, `diagnose fetched ${fraction * 100}% of the disk`);
});

test('503s, a 429 with Retry-After and dropped connections are retried: inspect still gives the local answer', async () => {
  const local = JSON.parse((await cli(['inspect', disk.vhd!, '--json'])).stdout) as Record<string, unknown>;
  proxy.reset();
  proxy.plan = (n) =>
    n === 1
      ? { kind: 'status', status: 429, retryAfter: '1' }
      : n === 4
        ? { kind: 'reset' }
        : n % 3 === 0
          ? { kind: 'status', status: 503 }
          : null;
  const t0 = Date.now();
  const r = await cli(['inspect', vhdUrl, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(withoutPath(JSON.parse(r.stdout) as Record<string, unknown>), withoutPath(local));
  const faults = proxy.log.filter((e) => e.fault !== null);
  assert.ok(faults.length >= 3, `faults injected: ${faults.length}`);
  assert.ok(Date.now() - t0 >= 1000, 'the 429 Retry-After: 1 was waited for');
  // Each faulted request was asked again for the same range and then answered.
  for (const f of faults) {
    assert.ok(
      proxy.log.some((e) => e.fault === null && e.range === f.range && e.status === 206),
      `range ${f.range} was retried`,
    );
  }
});

test('a response stalled mid-body or before its headers is abandoned after the timeout and asked again', async () => {
  proxy.reset();
  proxy.plan = (n) =>
    n === 1 ? { kind: 'stall-body', ms: 5000 } : n === 2 ? { kind: 'delay', ms: 5000 } : null;
  const file = await HttpImageFile.open(vhdUrl, { retry: { timeoutMs: 400, baseDelayMs: 10 } });
  try {
    const at = 1024 * 1024;
    const got = await file.read(at, 200_000);
    const local = readFileSync(disk.vhd!).subarray(at, at + 200_000);
    assert.equal(sha256(got), sha256(local));
    assert.equal(file.stats.retries, 2);
  } finally {
    await file.close();
  }
});

test('retries end: a server that keeps answering 503 gives disk.http naming the attempts, without the SAS', async () => {
  proxy.reset();
  proxy.plan = () => ({ kind: 'status', status: 503 });
  await assert.rejects(
    HttpImageFile.open(vhdUrl, { retry: { attempts: 3, baseDelayMs: 5 } }),
    (e: unknown) =>
      isWinrescueError(e) &&
      e.code === 'disk.http' &&
      /after 3 attempts: HTTP 503/.test(e.message) &&
      !JSON.stringify(e.toJSON()).includes(sigs[0]!),
  );
  assert.equal(proxy.log.length, 3);
});

test('the block cache: a region read twice is fetched once; past the cache bound it is fetched again', async () => {
  proxy.reset();
  const file = await HttpImageFile.open(vhdUrl, {
    blockSize: 65536,
    cacheBytes: 256 * 1024,
    maxReadAhead: 0,
  });
  try {
    const at = 3 * 1024 * 1024;
    await file.read(at, 4096);
    const once = proxy.rangeBytes();
    await file.read(at + 100, 1000);
    assert.equal(proxy.rangeBytes(), once, 'second read served from the cache');
    for (let i = 0; i < 8; i++) await file.read(at + (i + 1) * 65536 * 2, 512);
    await file.read(at, 4096);
    assert.equal(proxy.rangeBytes(), once + 8 * 65536 + 65536, 'evicted block fetched again');
    assert.ok(file.stats.cacheHits >= 1);
  } finally {
    await file.close();
  }
});

test('writes: refused without --allow-write and with a read SAS; with a write SAS they land, as the SDK reads back', async () => {
  const c = az.service.getContainerClient('disks');
  const blob = c.getPageBlobClient('scratch.raw');
  const size = 1024 * 1024;
  const original = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
  await blob.create(size);
  await blob.uploadPages(original, 0, size);
  const readUrl = proxy.via(blobSasUrl(az, 'disks', 'scratch.raw', 'r'));
  const writeUrl = proxy.via(blobSasUrl(az, 'disks', 'scratch.raw', 'rw'));
  sigs.push(new URL(readUrl).searchParams.get('sig')!, new URL(writeUrl).searchParams.get('sig')!);
  const t = tempDir();
  try {
    await assert.rejects(openDisk(writeUrl, { journal: { path: join(t.dir, 'j') } }), {
      code: 'disk.readOnly',
    });
    await assert.rejects(HttpImageFile.open(readUrl, { allowWrite: true }), { code: 'disk.readOnly' });
    const ro = await openDisk(writeUrl);
    await assert.rejects(ro.device.write(0, new Uint8Array(512)), { code: 'disk.readOnly' });
    await ro.device.close();

    const file = await HttpImageFile.open(writeUrl, { allowWrite: true });
    const patch = new Uint8Array(1000).fill(0xab);
    await file.read(12_000, 2000); // cached before the write: the write must update the cache too
    await file.write(12_345, patch);
    const expected = original.slice();
    expected.set(patch, 12_345);
    assert.equal(sha256(await file.read(0, size)), sha256(expected), 'our own read-back');
    await assert.rejects(file.write(size - 10, new Uint8Array(20)), { code: 'disk.unsupported' });
    await file.close();
    const downloaded = await blob.downloadToBuffer(0, size);
    assert.equal(sha256(downloaded), sha256(expected), 'the SDK download sees the write');

    // Through openDisk, the undo journal and a raw device: the journal restores what was there.
    const j = join(t.dir, 'scratch.winrescue-undo');
    const rw = await openDisk(writeUrl, { journal: { path: j }, allowWrite: true });
    assert.equal(rw.format, 'raw');
    await rw.device.write(4096, new Uint8Array(4096).fill(1));
    await rw.device.flush();
    await rw.device.close();
    assert.equal(
      (await blob.downloadToBuffer(4096, 4096)).every((b) => b === 1),
      true,
    );
    const undone = await undoJournal(
      () => HttpImageFile.open(writeUrl, { allowWrite: true }),
      fileJournalStorage(j),
      'scratch.raw',
    );
    assert.equal(undone.verified, true);
    assert.equal(sha256(await blob.downloadToBuffer(0, size)), sha256(expected), 'undo restored the blob');

    // The CLI: a writing command on a URL is refused without --allow-write, and with a read SAS.
    const refused = await cli(['mkdir', writeUrl, '/x', '--journal', join(t.dir, 'k')]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /remote disk, opened read-only: writing to it needs --allow-write/);
    const readOnly = await cli(['mkdir', readUrl, '/x', '--journal', join(t.dir, 'k'), '--allow-write']);
    assert.equal(readOnly.status, 1);
    assert.match(readOnly.stderr, /the SAS grants "r", not write/);
  } finally {
    t.cleanup();
  }
});

test(
  'a Windows-made fixed VHDX and a raw MBR disk read over HTTP like the local files',
  { skip: sharedSkip() },
  async () => {
    for (const [name, rel, format] of [
      ['w.vhdx', 'vhd/fixed.vhdx.gz', 'vhdx'],
      ['w.raw', 'ntfs/windows-mbr-ntfs-index.raw.gz', 'raw'],
    ] as const) {
      const local = testdataFile(rel);
      await uploadPageBlob(az, 'disks', name, local);
      const url = proxy.via(blobSasUrl(az, 'disks', name));
      sigs.push(new URL(url).searchParams.get('sig')!);
      const opened = await openDisk(url);
      const localOpened = await openDisk(local);
      try {
        assert.equal(opened.format, format);
        assert.equal(opened.device.size, localOpened.device.size);
        const d = opened.device;
        const ld = localOpened.device;
        assert.equal(
          await sha256OfReads((o, n) => d.read(o, n), d.size),
          await sha256OfReads((o, n) => ld.read(o, n), ld.size),
        );
      } finally {
        await opened.device.close();
        await localOpened.device.close();
      }
      const l = await cli(['ls', local, '/', '-r', '--json']);
      const r = await cli(['ls', url, '/', '-r', '--json']);
      assert.equal(r.status, l.status, r.stderr);
      assert.equal(r.stdout, l.stdout);
    }
  },
);

test('errors name the blob without its SAS: a bad signature (403), a missing blob (404)', async () => {
  proxy.reset();
  const bad = vhdUrl.replace(/sig=[^&]+/, 'sig=AAAAsecretAAAA');
  sigs.push('AAAAsecretAAAA');
  const r403 = await cli(['inspect', bad, '--json']);
  assert.equal(r403.status, 2);
  assert.equal((JSON.parse(r403.stdout) as { error: { code: string } }).error.code, 'disk.http');
  const missing = proxy.via(blobSasUrl(az, 'disks', 'nope.vhd'));
  sigs.push(new URL(missing).searchParams.get('sig')!);
  const r404 = await cli(['ls', missing, '/']);
  assert.equal(r404.status, 2);
  assert.match(r404.stderr, /^winrescue: .*nope\.vhd\?\[SAS redacted\]: no such blob/);
});

test('no SAS signature in any output of any command above (stdout, stderr, JSON)', () => {
  const text = allText(outputs);
  assert.ok(outputs.length >= 8);
  for (const sig of sigs) {
    for (const form of new Set([sig, encodeURIComponent(sig), decodeURIComponent(sig)])) {
      assert.ok(
        !text.includes(form),
        `signature ${form.slice(0, 6)}… leaked: ${text.slice(Math.max(0, text.indexOf(form) - 300), text.indexOf(form) + 20)}`,
      );
    }
  }
});
