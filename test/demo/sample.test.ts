// The bundled sample broken disk (demo/): extracted with src/demo, judged by sleuthkit, qemu-img, osslsigncode,
// openssl and OCR — not by winrescue's own NTFS reader, except where `check` itself is what is being asked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  symlinkSync,
  copyFileSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { check } from '../../src/api/check.js';
import { DEMO_DIR, extractSample, parseSampleManifest, type ExtractedSample } from '../../src/demo/index.js';
import { closeOcr, readScreenshot } from '../../src/diagnose/symptoms/index.js';
import { formatStopCode } from '../../src/diagnose/stop-codes.js';
import { WinrescueError } from '../../src/errors.js';
import { REPO_ROOT } from '../helpers/testdata.js';
import { run, runStatus, sha256, sha256File, tempDir } from '../helpers/tools.js';

const SECTOR = 512;

/** demo/manifest.json as plain JSON, for mangling. */
interface Doc {
  disk: Record<string, unknown>;
  screenshot: Record<string, unknown>;
  [key: string]: unknown;
}

let tmp: { dir: string; cleanup: () => void };
let sample: ExtractedSample;
let tsk: string[];

before(async () => {
  tmp = tempDir('winrescue-demo-test-');
  sample = await extractSample(tmp.dir);
  tsk = ['-o', String(sample.manifest.disk.windowsPartition.start / SECTOR)];
});

after(async () => {
  await closeOcr();
  tmp.cleanup();
});

const ifind = (image: string, path: string): number =>
  Number(
    run('ifind', [...tsk, '-n', path.replace(/^\/+/, ''), image])
      .toString()
      .trim(),
  );

/** The data clusters istat lists for a record (its non-resident $DATA runs). */
function istatClusters(image: string, record: number): number[] {
  const out = run('istat', [...tsk, image, String(record)]).toString();
  const data = out.split(/\nType: \$DATA \(128-\d+\)[^\n]*\n/)[1] ?? '';
  return (data.split(/\nType: /)[0] ?? '')
    .split(/\s+/)
    .filter((w) => /^\d+$/.test(w))
    .map(Number);
}

test('extractSample: a sparse fixed VHD whose bytes are the manifest sha256; qemu-img agrees on the size', async () => {
  const m = sample.manifest;
  assert.equal(await sha256File(sample.disk), m.disk.sha256);
  const st = statSync(sample.disk);
  assert.equal(st.size, m.disk.size);
  assert.equal(
    m.disk.size,
    m.disk.virtualSize + SECTOR,
    'a fixed VHD is the raw disk plus a 512-byte footer',
  );
  assert.ok(
    st.blocks * 512 < st.size / 4,
    `holes left for zeros (${st.blocks * 512} of ${st.size} bytes used)`,
  );
  const info = JSON.parse(
    run('qemu-img', ['info', '-f', 'vpc', '--output=json', sample.disk]).toString(),
  ) as {
    'virtual-size': number;
  };
  assert.equal(info['virtual-size'], m.disk.virtualSize);
  const committed = readFileSync(join(DEMO_DIR, m.disk.file));
  assert.equal(committed.length, m.disk.compressedSize);
  assert.ok(committed.length <= 6 * 1024 * 1024, `committed disk ${committed.length} bytes`);
  assert.equal(sha256(committed), m.disk.compressedSha256);
});

test('mmls finds the Windows partition where the manifest says', () => {
  const m = sample.manifest.disk;
  const out = run('mmls', [sample.disk]).toString();
  assert.match(out, /GUID Partition Table/);
  const row = out.split('\n').find((l) => /Basic data partition/.test(l));
  assert.ok(row, out);
  const [, start, , length] = row.trim().split(/\s+/).slice(1);
  assert.equal(Number(start) * SECTOR, m.windowsPartition.start);
  assert.equal(Number(length) * SECTOR, m.windowsPartition.size);
});

test('the fault is there: istat says "Incorrect update sequence" for the driver record, and only there', () => {
  const m = sample.manifest;
  assert.equal(m.fault.kind, 'tornRecord');
  const torn = runStatus('istat', [...tsk, sample.disk, String(m.fault.record)]);
  assert.match(torn.stdout + torn.stderr, /Incorrect update sequence/);
  const older = runStatus('istat', [...tsk, sample.disk, String(ifind(sample.disk, m.driver.older.path))]);
  assert.equal(older.status, 0, older.stderr);
  const bytes = readFileSync(sample.disk);
  for (const c of m.fault.changes) {
    assert.equal(bytes.subarray(c.offset, c.offset + c.new.length / 2).toString('hex'), c.new);
    assert.notEqual(c.new, c.old);
  }
});

test('driver and WinSxS twin are the torn record; the older and DriverStore copies are intact (fls, ifind, icat)', () => {
  const m = sample.manifest;
  assert.ok(m.driver.links.includes(m.driver.path) && m.driver.links.includes(m.driver.winSxS));
  assert.match(m.driver.winSxS, /^\/Windows\/WinSxS\/amd64_[^/]+\/disk\.sys$/);
  for (const p of m.driver.links) assert.equal(ifind(sample.disk, p), m.fault.record, p);
  const listing = run('fls', [...tsk, '-r', '-p', sample.disk]).toString();
  const copies = [m.driver.older, ...(m.driver.driverStore ? [m.driver.driverStore] : [])];
  for (const ref of [...m.driver.links.map((path) => ({ path })), ...copies])
    assert.ok(listing.includes(`\t${ref.path.slice(1)}\n`), `fls lists ${ref.path}`);
  for (const ref of copies) {
    const n = ifind(sample.disk, ref.path);
    assert.notEqual(n, m.fault.record);
    const data = run('icat', [...tsk, sample.disk, String(n)]);
    assert.equal(data.length, ref.size);
    assert.equal(sha256(data), ref.sha256, ref.path);
  }
  assert.notEqual(m.driver.older.version, m.driver.version);
});

test('the committed trust root is a public certificate that verifies the older copy (osslsigncode)', () => {
  const m = sample.manifest;
  const pem = readFileSync(sample.trustRoot, 'utf8');
  assert.doesNotMatch(pem, /PRIVATE KEY/);
  const facts = run('openssl', [
    'x509',
    '-in',
    sample.trustRoot,
    '-noout',
    '-subject',
    '-fingerprint',
    '-sha256',
  ])
    .toString()
    .replace(/:/g, '');
  assert.ok(facts.toLowerCase().includes(m.trustRoot.fingerprintSha256), facts);
  const older = join(tmp.dir, 'older.sys');
  writeFileSync(older, run('icat', [...tsk, sample.disk, String(ifind(sample.disk, m.driver.older.path))]));
  const ok = runStatus('osslsigncode', ['verify', '-CAfile', sample.trustRoot, '-in', older]);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /Signature verification: ok/);
  // The oracle can say no: one byte changed in the signed image breaks it.
  const bad = readFileSync(older);
  bad[0x400] = bad[0x400]! ^ 0xff;
  writeFileSync(older, bad);
  const tampered = runStatus('osslsigncode', ['verify', '-CAfile', sample.trustRoot, '-in', older]);
  assert.notEqual(tampered.status, 0);
});

test('undoing the manifest change restores the driver bytes, and check() then finds a clean volume', async () => {
  const m = sample.manifest;
  const fixed = join(tmp.dir, 'restored.vhd');
  run('cp', ['--sparse=always', sample.disk, fixed]);
  try {
    const fd = openSync(fixed, 'r+');
    for (const c of m.fault.changes) writeSync(fd, Buffer.from(c.old, 'hex'), 0, c.old.length / 2, c.offset);
    closeSync(fd);
    const driver = run('icat', [...tsk, fixed, String(m.fault.record)]);
    assert.equal(sha256(driver), m.driver.sha256);
    const report = await check(fixed);
    assert.equal(report.clean, true, JSON.stringify(report.problems));
  } finally {
    rmSync(fixed, { force: true });
  }
});

test('check() on the sample: the torn driver record, and nothing but what that record hides', async () => {
  const m = sample.manifest;
  // The record's clusters come from sleuthkit on a copy with the tear undone (on the sample istat refuses it).
  const fixed = join(tmp.dir, 'clusters.vhd');
  run('cp', ['--sparse=always', sample.disk, fixed]);
  const fd = openSync(fixed, 'r+');
  for (const c of m.fault.changes) writeSync(fd, Buffer.from(c.old, 'hex'), 0, c.old.length / 2, c.offset);
  closeSync(fd);
  const clusters = istatClusters(fixed, m.fault.record);
  rmSync(fixed, { force: true });
  assert.ok(clusters.length > 0);

  const report = await check(sample.disk);
  assert.equal(report.clean, false);
  const torn = report.problems.filter((p) => p.record === m.fault.record);
  assert.ok(torn.length >= 1, JSON.stringify(report.problems));
  assert.ok(torn.some((p) => p.path === m.driver.path || m.driver.links.includes(p.path ?? '')));
  for (const p of report.problems) {
    if (p.record === m.fault.record) continue;
    // With the record unreadable, its clusters are marked in use by nobody: that and only that is allowed.
    assert.equal(p.kind, 'lost-clusters', JSON.stringify(p));
    const list = /belong to no file: ([\d, -]+)/.exec(p.detail)?.[1];
    assert.ok(list, p.detail);
    const lost = new Set<number>();
    for (const r of list.split(',')) {
      const [a, b] = r.trim().split('-').map(Number);
      for (let x = a!; x <= (b ?? a!); x++) lost.add(x);
    }
    assert.ok(lost.size > 0, p.detail);
    for (const x of lost) assert.ok(clusters.includes(x), `lost cluster ${x} is not the driver's`);
  }
});

test('the screenshot OCRs to the manifest stop code and path', async () => {
  const m = sample.manifest;
  assert.equal(m.expected.stopCode, '0xC0000102');
  assert.equal(m.expected.file, m.driver.windowsPath);
  assert.equal(m.driver.windowsPath, m.driver.path.replace(/\//g, '\\'));
  const png = readFileSync(sample.screenshot);
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  const s = await readScreenshot(png);
  assert.equal(s.stopCode === null ? null : formatStopCode(s.stopCode), m.expected.stopCode);
  assert.equal(s.path, m.expected.file);
  assert.equal(s.kind, m.screenshot.kind);
});

test('extractSample refuses a sample that does not match its manifest, and leaves no file behind', async () => {
  const copy = join(tmp.dir, 'bad-sample');
  const m = sample.manifest;
  run('mkdir', ['-p', copy]);
  for (const f of [m.disk.file, m.screenshot.file, m.trustRoot.file])
    copyFileSync(join(DEMO_DIR, f), join(copy, f));
  const json = JSON.parse(readFileSync(join(DEMO_DIR, 'manifest.json'), 'utf8')) as Doc;
  const out = join(tmp.dir, 'bad-out');
  const expectBad = async (mutate: (j: Doc) => void): Promise<void> => {
    const j = structuredClone(json);
    mutate(j);
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(j));
    await assert.rejects(extractSample(out, { sampleDir: copy }), (e: unknown) => {
      assert.ok(e instanceof WinrescueError && e.code === 'demo.badSample', String(e));
      return true;
    });
    assert.throws(() => statSync(join(out, 'demo-disk.vhd')));
  };
  await expectBad((j) => (j.disk.sha256 = '0'.repeat(64)));
  await expectBad((j) => (j.disk.size = m.disk.size - 1));
  await expectBad((j) => (j.disk.compression = 'gzip'));
  await expectBad((j) => (j.screenshot.sha256 = 'f'.repeat(64)));
  await expectBad((j) => (j.disk.file = '../disk.vhd.br'));
  await expectBad((j) => (j.manifestVersion = 2));
  // A truncated compressed file: caught by its size, or (size believed) by the decompressor.
  const full = readFileSync(join(DEMO_DIR, m.disk.file));
  const half = full.subarray(0, full.length >> 1);
  writeFileSync(join(copy, m.disk.file), half);
  await expectBad(() => {});
  await expectBad((j) => (j.disk.compressedSize = half.length));
  // Same size, bytes garbled in the middle: brotli's decoder or the sha256 says no.
  const garbled = Buffer.from(full);
  for (let at = full.length >> 1, i = 0; i < 64; i++) garbled[at + i] = garbled[at + i]! ^ 0x5a;
  writeFileSync(join(copy, m.disk.file), garbled);
  await expectBad(() => {});
});

test('parseSampleManifest: any mangled field gives demo.badSample or a valid manifest, never another error', () => {
  const json = JSON.parse(readFileSync(join(DEMO_DIR, 'manifest.json'), 'utf8')) as unknown;
  const paths: string[][] = [];
  const walk = (v: unknown, at: string[]): void => {
    if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, [...at, k]);
    if (at.length > 0) paths.push(at);
  };
  walk(json, []);
  fc.assert(
    fc.property(
      fc.constantFrom(...paths),
      fc.oneof(
        fc.constant(undefined),
        fc.constant(null),
        fc.integer(),
        fc.string(),
        fc.constant({}),
        fc.constant([]),
      ),
      (path, value) => {
        const j = structuredClone(json) as Record<string, unknown>;
        let o = j;
        for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
        o[path.at(-1)!] = value;
        try {
          parseSampleManifest(j);
        } catch (e) {
          assert.ok(e instanceof WinrescueError && e.code === 'demo.badSample', String(e));
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('scripts/make-demo.ts --check: the committed assets agree with each other and with the factory', () => {
  const r = runStatus('node', [
    '--import',
    'tsx',
    join(REPO_ROOT, 'scripts', 'make-demo.ts'),
    '--check',
    '--json',
    '--no-ocr',
  ]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const doc = JSON.parse(r.stdout) as { ok: boolean; items: { check: string; ok: boolean }[] };
  assert.equal(doc.ok, true);
  assert.ok(doc.items.length >= 12);
});

test('compiled to dist/ and run by plain node (as installed), extractSample still finds demo/', () => {
  const pkg = join(tmp.dir, 'pkg');
  run('mkdir', ['-p', pkg]);
  symlinkSync(DEMO_DIR, join(pkg, 'demo'));
  writeFileSync(join(pkg, 'package.json'), '{"type":"module"}');
  run(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), [
    ...['--outDir', join(pkg, 'dist'), '--rootDir', join(REPO_ROOT, 'src')],
    ...['--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext'],
    ...[
      '--strict',
      '--skipLibCheck',
      '--types',
      'node',
      '--typeRoots',
      join(REPO_ROOT, 'node_modules', '@types'),
    ],
    join(REPO_ROOT, 'src', 'demo', 'index.ts'),
  ]);
  const script =
    "import { extractSample } from './dist/demo/index.js';" +
    'const s = await extractSample(process.argv[2]); console.log(JSON.stringify({ disk: s.disk, sha256: s.manifest.disk.sha256 }));';
  writeFileSync(join(pkg, 'run.mjs'), script);
  const r = runStatus('node', [join(pkg, 'run.mjs'), join(pkg, 'out')]);
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { disk: string; sha256: string };
  assert.equal(got.disk, join(pkg, 'out', 'demo-disk.vhd'));
  assert.equal(got.sha256, sample.manifest.disk.sha256);
  assert.equal(statSync(got.disk).size, sample.manifest.disk.size);
  rmSync(pkg, { recursive: true, force: true });
});

test('extractSample also takes a gzip sample (compressed here by Debian gzip)', async () => {
  const m = sample.manifest;
  const dir = join(tmp.dir, 'gzip-sample');
  run('mkdir', ['-p', dir]);
  for (const f of [m.screenshot.file, m.trustRoot.file]) copyFileSync(join(DEMO_DIR, f), join(dir, f));
  const gz = run('gzip', ['-1', '-c', sample.disk]);
  writeFileSync(join(dir, 'disk.vhd.gz'), gz);
  const json = JSON.parse(readFileSync(join(DEMO_DIR, 'manifest.json'), 'utf8')) as Doc;
  json.disk = {
    ...json.disk,
    file: 'disk.vhd.gz',
    compression: 'gzip',
    compressedSize: gz.length,
    compressedSha256: sha256(gz),
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(json));
  const got = await extractSample(join(tmp.dir, 'gzip-out'), { sampleDir: dir, diskName: 'x.vhd' });
  assert.equal(await sha256File(got.disk), m.disk.sha256);
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(tmp.dir, 'gzip-out'), { recursive: true, force: true });
});
