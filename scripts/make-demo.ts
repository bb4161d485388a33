// npx tsx scripts/make-demo.ts           regenerate demo/ (the sample broken disk of `winrescue demo`)
// npx tsx scripts/make-demo.ts --check   check that the committed demo/ is consistent with itself and the factory
//
// The sample is a synthetic Gen2 disk from the fixture factory (docs/fixtures.md) whose boot-start driver
// disk.sys has a torn MFT record, stored as a fixed VHD like Azure's and compressed with Node's zlib; its boot
// screen is rendered by the test screen generator, its trust root is the test CA that signed its drivers.
// demo/README.md says what is broken and how it was made. Byte-reproducibility is impossible (see checkDemo).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import { WinrescueError, isWinrescueError } from '../src/errors.js';
import { formatStopCode, lookupStopCode } from '../src/diagnose/stop-codes.js';
import { closeOcr, readScreenshot } from '../src/diagnose/symptoms/index.js';
import { DEMO_DIR, extractSample, readSampleManifest, type SampleManifest } from '../src/demo/index.js';
import { buildDisk, copyDisk, ensureSigningKeys, FIXTURES_DIR, inject } from '../test/fixtures/index.js';
import type { DiskSpec } from '../test/fixtures/index.js';
import { FACTORY_VERSION } from '../test/fixtures/factory.js';
import { renderScreen, type ScreenCase } from '../test/diagnose/screens/screens.js';

/**
 * A 64 MiB Windows volume: the compressed size depends on the files (about 4 MB), hardly on the volume size, and
 * 64 MiB keeps a realistic NTFS geometry (4 KiB clusters, 1 KiB records) with room for a repair's writes.
 */
const SPEC: DiskSpec = { gen: 2, flavour: 'synthetic', sizeMiB: 64 };
/**
 * disk.sys: a boot-start storage driver (Start=0 in the synthetic SYSTEM hive) whose record is also its WinSxS
 * twin, with an older signed copy and a same-version DriverStore copy, and a name the boot screen shows whole.
 */
const DRIVER_NAME = 'disk.sys';
const STOP_CODE = 0xc0000102;
/** Azure boot diagnostics of a Windows Server VM: the text-mode Boot Manager screen (Legacy policy), 800×600. */
const SCREEN = { kind: 'boot-manager', width: 800, height: 600 } as const;
const FILES = {
  disk: 'disk.vhd',
  screenshot: 'boot-screen.png',
  trustRoot: 'test-root.pem',
  manifest: 'manifest.json',
} as const;
/** What a newcomer waits for at most while the demo unpacks the disk. */
const MAX_DECOMPRESS_MS = 3000;
/** brotli's largest window (16 MiB): runs of similar sectors far apart still match. */
const BROTLI_LGWIN = 24;
const SECTOR = 512;

function fail(message: string, details: ConstructorParameters<typeof WinrescueError>[2] = {}): never {
  throw new WinrescueError('internal', `make-demo: ${message}`, { structure: 'demo.make', ...details });
}

const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

function run(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) fail(`cannot run ${cmd}: ${r.error.message}`);
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function mustRun(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

function binary(cmd: string, args: string[]): Buffer {
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 28 });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString().trim()}`);
  return r.stdout;
}

function toolVersion(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  return (r.stdout + '\n' + r.stderr).split('\n').find((l) => l.trim() !== '') ?? '?';
}

/** sleuthkit on the Windows volume of a raw image or fixed VHD (a fixed VHD keeps the raw offsets). */
const tskOffset = (start: number): string[] => ['-o', String(start / SECTOR)];

function recordOfPath(image: string, start: number, path: string): number {
  const out = mustRun('ifind', [...tskOffset(start), '-n', path.replace(/^\/+/, ''), image]).trim();
  const n = Number(out);
  if (out === '' || !Number.isSafeInteger(n)) fail(`ifind cannot find ${path}: ${out}`);
  return n;
}

/** The test CA: subject and SHA-256 fingerprint, as openssl prints them. */
function certificateFacts(pem: string): { subject: string; fingerprintSha256: string } {
  const out = mustRun('openssl', ['x509', '-in', pem, '-noout', '-subject', '-fingerprint', '-sha256']);
  const subject = /subject=\s*(.+)/.exec(out)?.[1]?.trim() ?? fail(`no subject in ${out}`);
  const fp = /Fingerprint=([0-9A-F:]+)/i.exec(out)?.[1] ?? fail(`no fingerprint in ${out}`);
  return { subject, fingerprintSha256: fp.replace(/:/g, '').toLowerCase() };
}

/** osslsigncode verify with the given CA file: the independent judge of the drivers' signatures. */
function signatureVerifies(file: string, caPem: string): { ok: boolean; output: string } {
  const r = run('osslsigncode', ['verify', '-CAfile', caPem, '-in', file]);
  const output = r.stdout + r.stderr;
  return { ok: r.status === 0 && /Signature verification: ok/.test(output), output };
}

export function screenCase(m: Pick<SampleManifest, 'screenshot' | 'expected'>): ScreenCase {
  return {
    id: 0,
    kind: m.screenshot.kind,
    width: m.screenshot.width,
    height: m.screenshot.height,
    code: Number(m.expected.stopCode),
    path: m.expected.file,
    blur: 0,
    noise: 0,
    jpeg: 0,
    format: 'png',
  };
}

interface Measured {
  format: 'gzip' | 'brotli';
  level: number;
  size: number;
  compressMs: number;
  decompressMs: number;
}

function compressAll(data: Buffer): { measured: Measured[]; best: Measured; bytes: Buffer } {
  const candidates: {
    format: Measured['format'];
    level: number;
    make: () => Buffer;
    undo: (b: Buffer) => Buffer;
  }[] = [
    { format: 'gzip', level: 9, make: () => gzipSync(data, { level: 9 }), undo: (b) => gunzipSync(b) },
    ...[9, 11].map((level) => ({
      format: 'brotli' as const,
      level,
      make: () =>
        brotliCompressSync(data, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: level,
            [constants.BROTLI_PARAM_LGWIN]: BROTLI_LGWIN,
            [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
          },
        }),
      undo: (b: Buffer) => brotliDecompressSync(b),
    })),
  ];
  let best: { m: Measured; bytes: Buffer } | null = null;
  const measured: Measured[] = [];
  for (const c of candidates) {
    let t = Date.now();
    const bytes = c.make();
    const compressMs = Date.now() - t;
    t = Date.now();
    const back = c.undo(bytes);
    const decompressMs = Date.now() - t;
    if (!back.equals(data)) fail(`${c.format} ${c.level} does not round-trip`);
    const m: Measured = { format: c.format, level: c.level, size: bytes.length, compressMs, decompressMs };
    measured.push(m);
    console.log(
      `  ${c.format} ${c.level}: ${bytes.length} bytes, ${compressMs} ms, unpack ${decompressMs} ms`,
    );
    if (decompressMs < MAX_DECOMPRESS_MS && (!best || m.size < best.m.size)) best = { m, bytes };
  }
  if (!best) fail(`no compression decompresses in under ${MAX_DECOMPRESS_MS} ms`);
  return { measured, best: best.m, bytes: best.bytes };
}

/** Builds the damaged disk, its screen and its manifest into `outDir` (normally demo/). */
export async function makeDemo(outDir: string): Promise<SampleManifest> {
  const tmp = mkdtempSync(join(tmpdir(), 'winrescue-make-demo-'));
  try {
    const built = await buildDisk(SPEC);
    const fm = built.manifest;
    const driver = fm.windows.tree.drivers.find((d) => d.name === DRIVER_NAME) ?? fail(`no ${DRIVER_NAME}`);
    if (driver.source !== 'synthetic' || !driver.winSxS || !driver.older)
      fail(`${DRIVER_NAME} should be synthetic with a WinSxS twin and an older copy`, { actual: driver });
    const start = fm.windows.start;
    const links = fm.windows.tree.hardLinks.find((g) => g.includes(driver.path)) ?? [driver.path];
    if (!links.includes(driver.winSxS)) fail(`${driver.path} is not hard-linked to ${driver.winSxS}`);
    const storeFile = driver.driverStore
      ? fm.windows.tree.files.find((f) => f.path === driver.driverStore)
      : undefined;

    console.log(`fixture ${fm.key} (factory v${FACTORY_VERSION}), tearing the record of ${driver.path}`);
    const mine = copyDisk(built, tmp);
    const fault = inject.tornRecord(mine, driver.path);
    const evidence = fault.confirm();

    // The older copy must be intact on the damaged disk, and signed by the CA we are about to commit.
    const keys = ensureSigningKeys(FIXTURES_DIR);
    const olderRecord = recordOfPath(mine.path, start, driver.older.path);
    const olderFile = join(tmp, 'older.sys');
    const olderBytes = binary('icat', [...tskOffset(start), mine.path, String(olderRecord)]);
    writeFileSync(olderFile, olderBytes);
    if (sha256Hex(olderBytes) !== driver.older.sha256) fail('the older copy changed');
    const sig = signatureVerifies(olderFile, keys.caPem);
    if (!sig.ok) fail(`the older copy does not verify with ${keys.caPem}: ${sig.output}`);

    const vhd = join(tmp, FILES.disk);
    // As the factory makes disk.vhd: force_size keeps the virtual size exactly the raw (1 MiB aligned) size.
    mustRun('qemu-img', [
      'convert',
      '-f',
      'raw',
      '-O',
      'vpc',
      '-o',
      'subformat=fixed,force_size=on',
      mine.path,
      vhd,
    ]);
    const info = JSON.parse(mustRun('qemu-img', ['info', '-f', 'vpc', '--output=json', vhd])) as {
      'virtual-size': number;
    };
    if (info['virtual-size'] !== fm.layout.sizeBytes)
      fail('the VHD has the wrong virtual size', {
        expected: fm.layout.sizeBytes,
        actual: info['virtual-size'],
      });
    const vhdBytes = readFileSync(vhd);
    if (vhdBytes.length !== fm.layout.sizeBytes + SECTOR) fail('the VHD is not raw + a 512-byte footer');

    console.log('compressing');
    const { measured, best, bytes } = compressAll(vhdBytes);
    const compressedName = `${FILES.disk}.${best.format === 'brotli' ? 'br' : 'gz'}`;

    const windowsPath = driver.path.replace(/\//g, '\\');
    const code = lookupStopCode(STOP_CODE) ?? fail('the stop-code KB has no 0xC0000102');
    const expected = { stopCode: formatStopCode(STOP_CODE), stopCodeName: code.name, file: windowsPath };
    const screenMeta = { file: FILES.screenshot, ...SCREEN };
    const png = renderScreen(screenCase({ screenshot: { ...screenMeta, sha256: '', size: 0 }, expected }));
    const read = await readScreenshot(png);
    if (read.stopCode !== STOP_CODE || read.path !== windowsPath)
      fail('the rendered screen does not OCR to its code and path', {
        expected,
        actual: { stopCode: read.stopCode, path: read.path },
      });

    const pem = readFileSync(keys.caPem, 'utf8');
    if (/PRIVATE KEY/.test(pem)) fail(`${keys.caPem} holds a private key`);

    const manifest: SampleManifest = {
      manifestVersion: 1,
      disk: {
        file: compressedName,
        compression: best.format,
        compressedSize: bytes.length,
        compressedSha256: sha256Hex(bytes),
        format: 'vhd-fixed',
        size: vhdBytes.length,
        sha256: sha256Hex(vhdBytes),
        virtualSize: fm.layout.sizeBytes,
        generation: fm.gen,
        partitionScheme: fm.layout.scheme,
        windowsPartition: { index: fm.windows.partition, start, size: fm.windows.size },
      },
      fault: {
        kind: fault.fault,
        path: driver.path,
        record: fault.record ?? fail('tornRecord named no record'),
        details: fault.details,
        changes: fault.changes,
        evidence: evidence.trim(),
      },
      driver: {
        name: driver.name,
        path: driver.path,
        windowsPath,
        version: driver.version,
        size: driver.size,
        sha256: driver.sha256,
        links,
        winSxS: driver.winSxS,
        older: {
          path: driver.older.path,
          version: driver.older.version,
          size: olderBytes.length,
          sha256: driver.older.sha256,
        },
        driverStore: storeFile
          ? { path: storeFile.path, version: driver.version, size: storeFile.size, sha256: storeFile.sha256 }
          : null,
      },
      expected,
      screenshot: { ...screenMeta, sha256: sha256Hex(png), size: png.length },
      trustRoot: { file: FILES.trustRoot, sha256: sha256Hex(pem), ...certificateFacts(keys.caPem) },
      made: {
        by: 'scripts/make-demo.ts',
        command: 'npx tsx scripts/make-demo.ts',
        date: new Date().toISOString(),
        factoryVersion: FACTORY_VERSION,
        fixtureSpec: fm.spec,
        fixtureKey: fm.key,
        vhd: 'qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on (damaged raw + 512-byte footer)',
        screenshot: 'renderScreen (test/diagnose/screens/screens.ts), no blur, noise or JPEG; OCR-checked',
        compression: { chosen: best, measured, brotliWindowBits: BROTLI_LGWIN },
        tools: {
          node: process.version,
          qemuImg: toolVersion('qemu-img', ['--version']),
          mkntfs: toolVersion('mkntfs', ['-V']),
          wimlib: toolVersion('wimlib-imagex', ['--version']),
          sleuthkit: toolVersion('istat', ['-V']),
          osslsigncode: toolVersion('osslsigncode', ['--version']),
          openssl: toolVersion('openssl', ['version']),
        },
      },
    };

    mkdirSync(outDir, { recursive: true });
    rmSync(join(outDir, `${FILES.disk}.br`), { force: true });
    rmSync(join(outDir, `${FILES.disk}.gz`), { force: true });
    writeFileSync(join(outDir, compressedName), bytes);
    writeFileSync(join(outDir, FILES.screenshot), png);
    copyFileSync(keys.caPem, join(outDir, FILES.trustRoot));
    writeFileSync(join(outDir, FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
    console.log(`wrote ${outDir}: ${compressedName} ${bytes.length} bytes (${best.format} ${best.level})`);
    return manifest;
  } finally {
    await closeOcr();
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface CheckItem {
  check: string;
  ok: boolean;
  detail: string;
}

/** fls -r -p of the Windows volume: allocated names only, NTFS metadata files left out. */
function listFiles(image: string, start: number): Set<string> {
  const out = mustRun('fls', [...tskOffset(start), '-r', '-p', '-u', image]);
  const names = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /^[-rdvl]\/[-rdvl]\s+\d+(?:-\d+-\d+)?:\t(.+)$/.exec(line);
    if (!m || m[1]!.startsWith('$')) continue;
    names.add('/' + m[1]!);
  }
  return names;
}

/**
 * What can be checked, since byte-reproducibility cannot be: mkntfs, wimlib and mtools stamp the current time,
 * osslsigncode signs with the current time, qemu-img writes a timestamp and a random UUID in the VHD footer, and
 * the test CA is made fresh in each machine's fixture cache. So: the assets agree with the manifest and with each
 * other, the fault is really there, and the disk has the layout today's factory makes for the same spec.
 */
export async function checkDemo(sampleDir: string, options: { ocr?: boolean } = {}): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  const add = (check: string, ok: boolean, detail: string): void => {
    items.push({ check, ok, detail });
  };
  const tmp = mkdtempSync(join(tmpdir(), 'winrescue-check-demo-'));
  try {
    const m = await readSampleManifest(sampleDir);
    const compressed = readFileSync(join(sampleDir, m.disk.file));
    add(
      'compressed disk matches the manifest',
      compressed.length === m.disk.compressedSize && sha256Hex(compressed) === m.disk.compressedSha256,
      `${m.disk.file}: ${compressed.length} bytes`,
    );
    const sample = await extractSample(tmp, { sampleDir });
    add('disk decompresses to the manifest sha256', true, `${m.disk.size} bytes, sha256 ${m.disk.sha256}`);
    const start = m.disk.windowsPartition.start;

    const istat = run('istat', [...tskOffset(start), sample.disk, String(m.fault.record)]);
    add(
      'the fault is there (istat)',
      /update sequence/i.test(istat.stdout + istat.stderr),
      (istat.stderr || istat.stdout).trim().split('\n')[0] ?? '',
    );
    const fh = readFileSync(sample.disk);
    const changed = m.fault.changes.every(
      (c) => fh.subarray(c.offset, c.offset + c.new.length / 2).toString('hex') === c.new,
    );
    add('the changed bytes are the manifest’s', changed, `${m.fault.changes.length} change(s)`);
    const records = m.driver.links.map((p) => recordOfPath(sample.disk, start, p));
    add(
      'driver and WinSxS twin are the torn record',
      records.every((r) => r === m.fault.record) && m.driver.links.includes(m.driver.winSxS),
      `${m.driver.links.join(', ')} → ${records.join(', ')}`,
    );
    for (const ref of [m.driver.older, ...(m.driver.driverStore ? [m.driver.driverStore] : [])]) {
      const bytes = binary('icat', [
        ...tskOffset(start),
        sample.disk,
        String(recordOfPath(sample.disk, start, ref.path)),
      ]);
      add(
        `intact copy ${ref.path}`,
        sha256Hex(bytes) === ref.sha256 && bytes.length === ref.size,
        ref.sha256,
      );
      if (ref === m.driver.older) {
        const f = join(tmp, 'older.sys');
        writeFileSync(f, bytes);
        const v = signatureVerifies(f, sample.trustRoot);
        add(
          'the trust root verifies the older copy (osslsigncode)',
          v.ok,
          v.ok ? 'Signature verification: ok' : v.output,
        );
      }
    }

    const pem = readFileSync(sample.trustRoot, 'utf8');
    const facts = certificateFacts(sample.trustRoot);
    add(
      'trust root is a public certificate as described',
      !/PRIVATE KEY/.test(pem) &&
        facts.subject === m.trustRoot.subject &&
        facts.fingerprintSha256 === m.trustRoot.fingerprintSha256,
      `${facts.subject}, sha256 ${facts.fingerprintSha256}`,
    );
    const local = ensureSigningKeys(FIXTURES_DIR);
    add(
      'note: this machine’s fixture CA',
      true,
      readFileSync(local.caPem, 'utf8') === pem
        ? 'is the committed trust root (this machine made the sample)'
        : 'differs from the committed trust root (made elsewhere; expected)',
    );

    const png = readFileSync(sample.screenshot);
    add(
      'screenshot re-renders byte for byte',
      Buffer.from(renderScreen(screenCase(m))).equals(png),
      `${m.screenshot.kind} ${m.screenshot.width}x${m.screenshot.height}`,
    );
    if (options.ocr !== false) {
      const s = await readScreenshot(png);
      add(
        'screenshot OCRs to the expected code and path',
        s.stopCode !== null &&
          formatStopCode(s.stopCode) === m.expected.stopCode &&
          s.path === m.expected.file,
        `${s.stopCode === null ? 'no code' : formatStopCode(s.stopCode)} ${s.path ?? 'no path'}`,
      );
    }

    add(
      'made by the current factory version',
      m.made.factoryVersion === FACTORY_VERSION,
      `sample v${String(m.made.factoryVersion)}, factory v${FACTORY_VERSION}`,
    );
    const built = await buildDisk(SPEC);
    const fm = built.manifest;
    const d = fm.windows.tree.drivers.find((x) => x.name === m.driver.name);
    add(
      'the factory still makes this driver layout',
      d !== undefined &&
        d.path === m.driver.path &&
        d.version === m.driver.version &&
        d.winSxS === m.driver.winSxS &&
        d.older?.path === m.driver.older.path &&
        recordOfPath(built.raw, fm.windows.start, d.path) === m.fault.record,
      `${m.driver.path} record ${m.fault.record}`,
    );
    add(
      'same partition layout as the factory’s',
      fm.layout.sizeBytes === m.disk.virtualSize &&
        fm.windows.start === start &&
        fm.windows.size === m.disk.windowsPartition.size,
      `${fm.layout.scheme}, Windows at ${start}`,
    );
    const ours = listFiles(sample.disk, start);
    const theirs = new Set<string>();
    // The factory lists the folders it makes explicitly; their parents exist too.
    for (const p of [...fm.windows.tree.files.map((f) => f.path), ...fm.windows.tree.dirs]) {
      for (let at = p; at !== ''; at = at.slice(0, at.lastIndexOf('/'))) theirs.add(at);
    }
    const missing = [...theirs].filter((p) => !ours.has(p));
    const extra = [...ours].filter((p) => !theirs.has(p));
    add(
      'same files and folders as the factory’s tree (fls)',
      missing.length === 0 && extra.length === 0,
      `${ours.size} names; missing ${missing.slice(0, 3).join(', ') || 'none'}; extra ${extra.slice(0, 3).join(', ') || 'none'}`,
    );
    return items;
  } finally {
    await closeOcr();
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  const dirFlag = argv.indexOf('--dir');
  const dir = dirFlag >= 0 ? resolve(argv[dirFlag + 1] ?? fail('--dir needs a folder')) : DEMO_DIR;
  if (argv.includes('--check')) {
    const items = await checkDemo(dir, { ocr: !argv.includes('--no-ocr') });
    if (argv.includes('--json'))
      console.log(JSON.stringify({ ok: items.every((i) => i.ok), items }, null, 1));
    else for (const i of items) console.log(`${i.ok ? 'ok  ' : 'FAIL'} ${i.check}: ${i.detail}`);
    return items.every((i) => i.ok) ? 0 : 1;
  }
  const m = await makeDemo(dir);
  console.log(
    `sample: ${m.driver.path} (record ${m.fault.record}) torn; ${statSync(join(dir, m.disk.file)).size} bytes`,
  );
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(isWinrescueError(e) ? `make-demo: ${e.message}` : e);
      process.exit(2);
    },
  );
}
