// Issue 2 acceptance: every fixture disk, in every container format, read whole through our layer has the
// sha256 of the independent readers (qemu-img, libvhdi); `inspect --json` partitions equal `sfdisk --json`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildDisk, type BuiltDisk } from '../fixtures/factory.js';
import { STUB_HIVES } from '../fixtures-factory/oracles.js';
import { openDisk } from '../../src/disk/open-disk.js';
import { sharedSkip } from '../helpers/testdata.js';
import { run, sha256File, tempDir, SYSTEM_PYTHON } from '../helpers/tools.js';
import { createHash } from 'node:crypto';
import { winrescue } from '../cli/helpers.js';

const CHUNK = 4 * 1024 * 1024;

async function oursSha(path: string): Promise<{ sha: string; format: string; size: number }> {
  const disk = await openDisk(path, { readOnly: true });
  try {
    const h = createHash('sha256');
    for (let off = 0; off < disk.device.size; off += CHUNK) {
      h.update(await disk.device.read(off, Math.min(CHUNK, disk.device.size - off)));
    }
    return { sha: h.digest('hex'), format: disk.format, size: disk.device.size };
  } finally {
    await disk.device.close();
  }
}

async function qemuSha(path: string, format: 'raw' | 'vpc' | 'vhdx', dir: string): Promise<string> {
  const out = join(dir, 'qemu.raw');
  // qemu takes a fixed VHD for raw unless told vpc, and sizes VHDs from CHS unless told current_size.
  const src =
    format === 'vpc'
      ? ['--image-opts', `driver=vpc,force_size_calc=current_size,file.filename=${path}`]
      : ['-f', format, path];
  run('qemu-img', ['convert', ...src, '-O', 'raw', out]);
  const sha = await sha256File(out);
  run('rm', ['-f', out]);
  return sha;
}

const LIBVHDI_SHA = `
import pyvhdi, sys, hashlib
f = pyvhdi.file(); f.open(sys.argv[1])
h = hashlib.sha256(); size = f.media_size; off = 0
while off < size:
    n = min(1 << 20, size - off); h.update(f.read_buffer_at_offset(n, off)); off += n
print(h.hexdigest())
`;
const libvhdiSha = (path: string) => run(SYSTEM_PYTHON, ['-c', LIBVHDI_SHA, path]).toString().trim();

async function checkDisk(built: BuiltDisk): Promise<void> {
  const { dir, cleanup } = tempDir();
  try {
    const rawSha = await sha256File(built.raw);
    const raw = await oursSha(built.raw);
    assert.equal(raw.format, 'raw');
    assert.equal(raw.sha, rawSha);
    const cases: [string | undefined, string, 'vpc' | 'vhdx'][] = [
      [built.vhd, 'vhd-fixed', 'vpc'],
      [built.vhdDynamic, 'vhd-dynamic', 'vpc'],
      [built.vhdx, 'vhdx', 'vhdx'],
    ];
    for (const [path, format, qfmt] of cases) {
      assert.ok(path, `fixture lacks ${format}`);
      const ours = await oursSha(path);
      assert.equal(ours.format, format);
      assert.equal(ours.sha, await qemuSha(path, qfmt, dir), `${format}: ours vs qemu-img`);
      assert.equal(ours.sha, libvhdiSha(path), `${format}: ours vs libvhdi`);
      assert.equal(ours.sha, rawSha, `${format}: same virtual disk as disk.raw`);
    }
    // inspect --json against sfdisk --json on the raw image, for every container.
    const sf = JSON.parse(run('sfdisk', ['--json', built.raw]).toString()) as {
      partitiontable: {
        label: string;
        sectorsize?: number;
        partitions: { start: number; size: number; type: string }[];
      };
    };
    const unit = sf.partitiontable.sectorsize ?? 512;
    const expected = sf.partitiontable.partitions.map((p) => ({
      start: p.start * unit,
      size: p.size * unit,
      type: sf.partitiontable.label === 'gpt' ? p.type.toLowerCase() : '0x' + p.type.padStart(2, '0'),
    }));
    for (const path of [built.raw, built.vhd!, built.vhdDynamic!, built.vhdx!]) {
      const r = winrescue(['inspect', '--json', path]);
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as {
        partitionScheme: string;
        generation: number;
        partitions: { start: number; size: number; type: string; filesystem: string }[];
        windows: { partition: number }[];
      };
      assert.equal(doc.partitionScheme, sf.partitiontable.label === 'dos' ? 'mbr' : 'gpt');
      assert.deepEqual(
        doc.partitions.map((p) => ({ start: p.start, size: p.size, type: p.type })),
        expected,
        `${path}: partitions`,
      );
      assert.equal(doc.generation, built.manifest.gen);
      assert.deepEqual(
        doc.windows.map((w) => w.partition),
        [built.manifest.windows.partition],
      );
    }
  } finally {
    cleanup();
  }
}

test(
  'Gen1 real fixture: raw, fixed VHD, dynamic VHD and VHDX read like qemu-img and libvhdi; inspect like sfdisk',
  { skip: sharedSkip(), timeout: 300_000 },
  async () => {
    await checkDisk(await buildDisk({ gen: 1, flavour: 'real', formats: ['vhd', 'vhd-dynamic', 'vhdx'] }));
  },
);

test(
  'Gen2 synthetic fixture: raw, fixed VHD, dynamic VHD and VHDX read like qemu-img and libvhdi; inspect like sfdisk',
  { timeout: 300_000 },
  async () => {
    await checkDisk(
      await buildDisk({
        gen: 2,
        flavour: 'synthetic',
        hives: STUB_HIVES,
        formats: ['vhd', 'vhd-dynamic', 'vhdx'],
      }),
    );
  },
);
