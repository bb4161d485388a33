// `winrescue bcd DISK|HIVE` as a user runs it. Oracles: the fixture manifest (partition offsets, disk signature or
// GUIDs), and hivexregedit on the store extracted with independent tools (sleuthkit icat for NTFS, mtools mcopy for
// the FAT ESP) for the list of objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { winrescue, assertOneLineError } from './helpers.js';
import { buildDisk, copyDisk, type BuiltDisk } from '../fixtures/index.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { tempDir } from '../helpers/tools.js';
import { hivexExport } from '../registry/reg-parse.js';
import type { BcdReport } from '../../src/api/bcd.js';

const SECTOR = 512;

/** The store copied out of the disk by sleuthkit (NTFS) or mtools (FAT), not by us. */
function extractBcd(built: BuiltDisk, dir: string): string {
  const m = built.manifest;
  const boot = m.layout.partitions.find((p) => p.index === m.bcd.partition)!;
  const out = join(dir, 'BCD');
  if (m.boot.filesystem === 'fat32') {
    execFileSync('mcopy', ['-n', '-i', `${built.raw}@@${boot.start}`, `::${m.bcd.path}`, out]);
  } else {
    const off = String(boot.start / SECTOR);
    const inode = execFileSync('ifind', ['-o', off, '-n', m.bcd.path, built.raw], {
      encoding: 'utf8',
    }).trim();
    execFileSync('sh', ['-c', `icat -o ${off} "$1" "$2" > "$3"`, 'sh', built.raw, inode, out]);
  }
  return out;
}

function hivexObjects(file: string): string[] {
  return [...hivexExport(file).matchAll(/^\[\\Objects\\(\{[^}\\]+\})\]$/gm)].map((m) => m[1]!).sort();
}

function json(args: string[]): BcdReport {
  const r = winrescue([...args, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as BcdReport;
}

for (const gen of [1, 2] as const) {
  test(`bcd DISK on the gen${gen} synthetic fixture: objects as hivex lists them, osdevice names the Windows partition`, async () => {
    const built = await buildDisk({ gen, flavour: 'synthetic' });
    const m = built.manifest;
    const t = tempDir();
    try {
      const r = json(['bcd', built.raw]);
      assert.deepEqual(r.objects.map((o) => o.id).sort(), hivexObjects(extractBcd(built, t.dir)));
      assert.equal(r.objects[0]!.alias, '{bootmgr}');
      const loader = r.objects.find((o) => o.id === r.default)!;
      assert.equal(loader.typeName, 'Windows Boot Loader');
      assert.equal(loader.isDefault, true);
      const osdevice = loader.elements.find((e) => e.name === 'osdevice')!;
      const win = m.layout.partitions.find((p) => p.index === m.windows.partition)!;
      if (gen === 1) {
        assert.deepEqual(osdevice.value, {
          kind: 'partition',
          style: 'mbr',
          diskSignature: parseInt(m.layout.diskId, 16),
          offset: m.windows.start,
          parent: null,
        });
      } else {
        assert.deepEqual(osdevice.value, {
          kind: 'partition',
          style: 'gpt',
          diskGuid: `{${m.layout.diskId.toLowerCase()}}`,
          partitionGuid: `{${win.uuid!.toLowerCase()}}`,
          parent: null,
        });
      }
      assert.equal(osdevice.partition, m.windows.partition);
      assert.equal(r.location?.bcd?.partition, m.bcd.partition);

      const text = winrescue(['bcd', built.raw]);
      assert.equal(text.status, 0);
      const lines = text.stdout.split('\n');
      assert.equal(lines[0], 'Windows Boot Manager');
      assert.ok(lines.includes('identifier              {bootmgr}'));
      assert.ok(lines.includes('identifier              {default}'));
      assert.ok(lines.includes('default                 {default}'));
      assert.ok(
        lines.some((l) => l.startsWith('osdevice') && l.endsWith(`(partition ${m.windows.partition})`)),
      );
    } finally {
      t.cleanup();
    }
  });
}

test(
  'bcd DISK on the gen1 and gen2 real fixtures lists the testdata store',
  { skip: sharedSkip() },
  async () => {
    for (const [gen, file, count] of [
      [1, 'hives/BCD-bios.xz', 11],
      [2, 'hives/BCD-uefi-win10.xz', 17],
    ] as const) {
      const built = await buildDisk({ gen, flavour: 'real' });
      const r = json(['bcd', built.raw]);
      assert.equal(r.objects.length, count);
      assert.deepEqual(r.objects.map((o) => o.id).sort(), hivexObjects(testdataFile(file)));
    }
  },
);

test('bcd HIVE prints the store file; DISK:PATH works too', { skip: sharedSkip() }, async () => {
  const r = winrescue(['bcd', testdataFile('hives/BCD-efi-small.xz')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^device {18}locate=custom:12000002$/m);
  assert.match(r.stdout, /^identifier {14}\{fwbootmgr\}$/m);
  const built = await buildDisk({ gen: 1, flavour: 'synthetic' });
  const viaPath = json(['bcd', `${built.raw}:/Boot/BCD`, '--partition', '1']);
  const viaDisk = json(['bcd', built.raw]);
  assert.deepEqual(viaPath.objects, viaDisk.objects);
});

test(
  'bad input: a SYSTEM hive is not a BCD store (bcd.badStore); a missing file is one clear line',
  { skip: sharedSkip() },
  () => {
    const line = assertOneLineError(winrescue(['bcd', testdataFile('hives/SYSTEM.xz')]));
    assert.match(line, /not a BCD store/);
    const j = winrescue(['bcd', testdataFile('hives/SYSTEM.xz'), '--json']);
    assert.equal(j.status, 2);
    assert.equal((JSON.parse(j.stdout) as { error: { code: string } }).error.code, 'bcd.badStore');
    assertOneLineError(winrescue(['bcd', '/nonexistent/disk.vhd']));
  },
);

test('bcd DISK on Gen2 with a dirty store on the ESP and no logs: read, flagged dirty, not replayed', async () => {
  const built = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const t = tempDir();
  try {
    const disk = copyDisk(built, t.dir).path;
    const esp = built.manifest.layout.partitions.find((p) => p.index === built.manifest.bcd.partition)!;
    const img = `${disk}@@${esp.start}`;
    const bcd = join(t.dir, 'BCD');
    execFileSync('mcopy', ['-n', '-i', img, `::${built.manifest.bcd.path}`, bcd]);
    // Primary sequence one ahead of the secondary, checksum kept valid: what a crash between the two writes leaves.
    const b = readFileSync(bcd);
    b.writeUInt32LE(b.readUInt32LE(4) + 1, 4);
    let x = 0;
    for (let i = 0; i < 508; i += 4) x ^= b.readUInt32LE(i);
    b.writeUInt32LE(x >>> 0, 508);
    writeFileSync(bcd, b);
    execFileSync('mcopy', ['-o', '-i', img, bcd, `::${built.manifest.bcd.path}`]);
    const r = json(['bcd', disk]);
    assert.equal(r.dirty, true);
    assert.equal(r.replayed, false);
    assert.ok(r.warnings.some((w) => /dirty and no transaction log/.test(w)));
    assert.equal(r.objects.length, json(['bcd', built.raw]).objects.length);
  } finally {
    t.cleanup();
  }
});
