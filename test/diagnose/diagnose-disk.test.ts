// diagnose on fixture disks: healthy disks raise no alarm; each fault injected into a boot-start driver —
// confirmed first by sleuthkit/ntfs-3g/osslsigncode through the injector — is named with the right cause,
// stop code, file and MFT record. The boot-start list is checked against hivexregedit's reading of SYSTEM, and
// every file's sha256 against the fixture manifest (computed from the source files, not by our reader).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDisk, copyDisk, inject, ensureSigningKeys, FIXTURES_DIR } from '../fixtures/index.js';
import type { BuiltDisk } from '../fixtures/index.js';
import type { Injection } from '../fixtures/inject.js';
import { icat } from '../fixtures-factory/oracles.js';
import { hivexExport } from '../registry/reg-parse.js';
import { run, tempDir } from '../helpers/tools.js';
import { sharedSkip } from '../helpers/testdata.js';
import { diagnose, type DiagnoseReport } from '../../src/api/diagnose.js';

const DRIVER = '/Windows/System32/drivers/disk.sys';
const DRIVER_WIN = '\\Windows\\System32\\drivers\\disk.sys';
const keys = ensureSigningKeys(FIXTURES_DIR);
const trust = { trustRoots: [keys.caPem] };

function treeSha(disk: BuiltDisk): Map<string, string> {
  return new Map(disk.manifest.windows.tree.files.map((f) => [f.path.toUpperCase(), f.sha256]));
}

const winPath = (p: string) => p.replaceAll('\\', '/').toUpperCase();

/** Start = 0 driver services as hivexregedit reads SYSTEM from the disk (extracted with sleuthkit). */
function hivexBootDrivers(disk: BuiltDisk, dir: string): string[] {
  const { image, offset } = disk.windowsVolume;
  const inode = run('ifind', ['-o', String(offset / 512), '-n', '/Windows/System32/config/SYSTEM', image])
    .toString()
    .trim();
  const file = join(dir, 'SYSTEM');
  writeFileSync(file, icat(image, offset, Number(inode)));
  const text = hivexExport(file, '\\ControlSet001\\Services');
  const out: string[] = [];
  for (const block of text.split(/\n(?=\[)/)) {
    const key = /^\[([^\]]+)\]/.exec(block)?.[1];
    if (!key || key.split('\\').length !== 4) continue;
    if (!/^"Start"=dword:00000000$/m.test(block)) continue;
    const image = /^"ImagePath"=hex\(2\):(.*)$/m.exec(block)?.[1];
    const name = key.split('\\').pop()!;
    const path = image
      ? Buffer.from(image.replace(/,/g, ''), 'hex').toString('utf16le').replace(/\0+$/, '')
      : `System32\\drivers\\${name}.sys`;
    out.push(('\\Windows\\' + path.replace(/^\\SystemRoot\\/i, '')).toUpperCase());
  }
  return out.sort();
}

function assertHealthy(r: DiagnoseReport, disk: BuiltDisk): void {
  assert.equal(r.cause, 'healthy', JSON.stringify(r.findings, null, 1));
  assert.deepEqual(r.findings, []);
  assert.equal(r.plan.length, 0);
  const sha = treeSha(disk);
  let compared = 0;
  for (const f of r.files.filter((x) => x.volume === 'windows' && x.sha256 !== null)) {
    assert.equal(f.sha256, sha.get(winPath(f.path)), `${f.path}: our bytes differ from the manifest`);
    compared++;
  }
  assert.ok(compared >= 25, `only ${compared} files compared`);
}

for (const gen of [1, 2] as const) {
  test(`healthy Gen${gen} synthetic disk: no alarm with its test root; every boot-start driver of SYSTEM examined; < 1% of the disk read`, async () => {
    const disk = await buildDisk({ gen, flavour: 'synthetic', formats: ['vhd', 'vhdx'] });
    const { dir, cleanup } = tempDir();
    try {
      const r = await diagnose(disk.raw, trust);
      assertHealthy(r, disk);
      // Every Start = 0 service hivex finds is examined (CLFS.SYS as a kernel library, listed once), and no more.
      const want = hivexBootDrivers(disk, dir);
      assert.ok(want.length >= 14, `${want.length} boot drivers`);
      const examined = new Set(r.files.map((f) => f.path.toUpperCase()));
      for (const p of want) assert.ok(examined.has(p), `${p} not examined`);
      for (const f of r.files.filter((x) => x.role === 'boot-driver'))
        assert.ok(want.includes(f.path.toUpperCase()), `${f.path} is not a boot-start service`);
      const loader = r.files.find((f) => f.role === 'boot-loader' && f.volume === 'windows')!;
      assert.match(loader.path, gen === 1 ? /winload\.exe$/i : /winload\.efi$/i);
      const sys = r.files.filter((f) => f.volume === 'system').map((f) => f.path);
      assert.deepEqual(
        sys,
        gen === 1
          ? ['\\bootmgr', '\\Boot\\BCD']
          : ['\\EFI\\Microsoft\\Boot\\bootmgfw.efi', '\\EFI\\Microsoft\\Boot\\BCD'],
      );
      const fraction = r.bytesRead / r.diskSize!;
      console.log(
        `Gen${gen}: ${r.files.length} files, read ${r.bytesRead} bytes in ${r.reads} reads of ${r.diskSize} (${(fraction * 100).toFixed(3)}%)`,
      );
      assert.ok(fraction < 0.01, `read ${(fraction * 100).toFixed(2)}% of the disk`);
      // The same verdicts through the fixed VHD and VHDX containers.
      for (const container of [disk.vhd!, disk.vhdx!]) {
        const c = await diagnose(container, trust);
        assert.equal(c.cause, 'healthy');
        assert.deepEqual(
          c.files.map((f) => [f.path, f.sha256]),
          r.files.map((f) => [f.path, f.sha256]),
        );
      }
    } finally {
      cleanup();
    }
  });
}

test('synthetic drivers pass only with --trust-root of their own test root', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const { dir, cleanup } = tempDir();
  try {
    const bare = await diagnose(disk.raw);
    assert.equal(bare.cause, 'corrupt-file');
    const flagged = bare.findings.filter((f) => f.problem === 'signature');
    assert.ok(flagged.length >= 20, `${flagged.length} flagged`);
    for (const f of flagged) {
      assert.equal(f.stopCode, '0xC0000428');
      assert.match(f.evidence, /does not chain to a trusted root/);
    }
    // Another self-signed root, made here with openssl, is not the one that signed them.
    const other = join(dir, 'other.pem');
    run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'k.pem'),
      '-out',
      other,
      '-subj',
      '/CN=someone else',
      '-days',
      '30',
    ]);
    const wrong = await diagnose(disk.raw, { trustRoots: [other] });
    assert.equal(wrong.findings.filter((f) => f.problem === 'signature').length, flagged.length);
    const right = await diagnose(disk.raw, { trustRoots: [other, keys.caPem] });
    assert.equal(right.cause, 'healthy');
  } finally {
    cleanup();
  }
});

interface FaultCase {
  name: string;
  inject: (v: { image: string; offset: number }, path: string) => Injection;
  cause: 'corrupt-structure' | 'corrupt-file';
  stopCode: string;
  kind?: string;
  /** The MFT record at fault: the file's (the injector's) or, for index faults, its directory's. */
  recordIsTarget: boolean;
}

const FAULTS: FaultCase[] = [
  {
    name: 'torn MFT record',
    inject: (v, p) => inject.tornRecord(v, p),
    cause: 'corrupt-structure',
    stopCode: '0xC0000102',
    kind: 'torn-record',
    recordIsTarget: true,
  },
  {
    name: 'garbled attribute header',
    inject: (v, p) => inject.garbleAttributeHeader(v, p),
    cause: 'corrupt-structure',
    stopCode: '0xC0000102',
    kind: 'bad-attribute',
    recordIsTarget: true,
  },
  {
    name: 'runlist outside the volume',
    inject: (v, p) => inject.runlistOutsideVolume(v, p),
    cause: 'corrupt-structure',
    stopCode: '0xC0000102',
    kind: 'bad-runlist',
    recordIsTarget: true,
  },
  {
    name: 'dangling index entry',
    inject: (v, p) => inject.danglingIndexEntry(v, p),
    cause: 'corrupt-structure',
    stopCode: '0xC0000102',
    kind: 'dangling-index-entry',
    recordIsTarget: false,
  },
  {
    name: 'zeroed data',
    inject: (v, p) => inject.zeroFileData(v, p),
    cause: 'corrupt-file',
    stopCode: '0xC000007B',
    recordIsTarget: true,
  },
  {
    name: 'truncated file',
    inject: (v, p) => inject.truncateFileData(v, p),
    cause: 'corrupt-file',
    stopCode: '0xC000007B',
    recordIsTarget: true,
  },
  {
    name: 'bad checksum',
    inject: (v, p) => inject.badPeChecksum(v, p),
    cause: 'corrupt-file',
    stopCode: '0xC0000221',
    recordIsTarget: true,
  },
];

test('faults injected into a boot-start driver: each confirmed independently, each diagnosed with the right cause, code, file and record', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const healthy = await diagnose(disk.raw, trust);
  const before = healthy.files.find((f) => f.path.toUpperCase() === DRIVER_WIN.toUpperCase())!;
  assert.equal(before.names.length, 2, 'the driver is hard-linked to its WinSxS twin');
  for (const c of FAULTS) {
    const { dir, cleanup } = tempDir();
    try {
      const mine = copyDisk(disk, dir);
      const fault = c.inject(mine, DRIVER);
      fault.confirm();
      const r = await diagnose(mine.path, trust);
      assert.equal(r.cause, c.cause, `${c.name}: ${r.summary}`);
      assert.equal(r.findings.length, 1, `${c.name}: ${JSON.stringify(r.findings)}`);
      const f = r.findings[0]!;
      assert.equal(f.path.toUpperCase(), DRIVER_WIN.toUpperCase(), c.name);
      assert.equal(f.stopCode, c.stopCode, `${c.name}: ${f.evidence}`);
      assert.equal(r.stopCode, c.stopCode);
      assert.equal(r.file?.toUpperCase(), DRIVER_WIN.toUpperCase());
      const directory = Number(
        run('ifind', ['-o', String(mine.offset / 512), '-n', '/Windows/System32/drivers', mine.image])
          .toString()
          .trim(),
      );
      assert.equal(
        f.record,
        c.recordIsTarget ? (fault.record ?? before.record) : directory,
        `${c.name}: record`,
      );
      const ev = r.files.find((x) => x.path === f.path)!;
      if (c.kind) assert.equal(ev.structure?.kind, c.kind, `${c.name}: ${f.evidence}`);
      if (c.kind === 'dangling-index-entry') {
        // Index damage is not the file playbook's to fix: the plan says so instead of quarantining a free record.
        assert.equal(r.plan[0]!.action, 'check-disk');
      } else if (c.cause === 'corrupt-structure') {
        assert.deepEqual(r.plan.map((p) => p.action).slice(0, 2), ['quarantine-record', 'restore-file']);
        // The hard-link names survive in the damaged record: repair needs the WinSxS twin's name too.
        assert.deepEqual([...f.names].sort(), [...before.names].sort(), `${c.name}: names`);
      } else {
        assert.deepEqual(r.plan.map((p) => p.action).slice(0, 2), ['rename-to-old', 'restore-file']);
      }
      assert.ok(r.plan.some((p) => p.action === 'enable-serial-console'));
    } finally {
      cleanup();
    }
  }
});

test('broken attribute list of a boot-start driver with many hard links: corrupt-structure', async () => {
  const links = Array.from({ length: 30 }, (_, i) => ({
    path: `/Windows/System32/drivers/links/pci hard link ${String(i).padStart(2, '0')} with a long name to fill records.sys`,
    hardLinkOf: '/Windows/System32/drivers/pci.sys',
  }));
  const disk = await buildDisk({ gen: 1, flavour: 'synthetic', extraFiles: links });
  const { dir, cleanup } = tempDir();
  try {
    const clean = await diagnose(disk.raw, trust);
    assert.equal(clean.cause, 'healthy');
    const mine = copyDisk(disk, dir);
    const fault = inject.corruptAttributeList(mine, '/Windows/System32/drivers/pci.sys');
    fault.confirm();
    const r = await diagnose(mine.path, trust);
    assert.equal(r.cause, 'corrupt-structure', r.summary);
    const f = r.findings.find((x) => /pci\.sys$/i.test(x.path))!;
    assert.ok(f, JSON.stringify(r.findings));
    assert.equal(f.stopCode, '0xC0000102');
    const ev = r.files.find((x) => x.path === f.path)!;
    assert.equal(ev.structure?.kind, 'bad-attribute-list', `${f.evidence} ${JSON.stringify(ev.structure)}`);
  } finally {
    cleanup();
  }
});

test(
  'real flavour: the Microsoft drivers on the disk pass on the Microsoft roots; nothing present is flagged',
  { skip: sharedSkip() },
  async () => {
    const disk = await buildDisk({ gen: 2, flavour: 'real' });
    const r = await diagnose(disk.raw, trust);
    // The Windows 7 SYSTEM hive of the real flavour names boot drivers the fixture tree does not carry: those are
    // reported missing, and nothing else may be.
    assert.deepEqual(
      r.findings.filter((f) => f.problem !== 'missing'),
      [],
      JSON.stringify(r.findings.filter((f) => f.problem !== 'missing')),
    );
    assert.equal(r.cause, 'unknown');
    const microsoft = disk.manifest.windows.tree.drivers.filter((d) => d.signedBy === 'microsoft');
    assert.ok(microsoft.length >= 3);
    for (const d of microsoft) {
      const f = r.files.find((x) => winPath(x.path) === d.path.toUpperCase());
      if (!f) continue; // amdi2c is demand-start, not on the boot path
      assert.equal(f.verdict, 'ok', `${d.path}: ${f.evidence}`);
      assert.match(f.signature?.root ?? '', /Microsoft/);
      assert.equal(f.sha256, d.sha256);
    }
    assert.ok(
      r.files.filter((x) => /Microsoft/.test(x.signature?.root ?? '')).length >= 2,
      'at least two Microsoft-signed boot drivers examined',
    );
  },
);
