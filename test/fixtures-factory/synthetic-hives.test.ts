// The synthetic flavour's SYSTEM and BCD, made by our hive writer, read back out of the built disk by other tools:
// sleuthkit (fls/icat) or mtools (mcopy) extract the files, hivexregedit reads them, and each fact is checked
// against the fixture's own manifest (partitions, drivers on disk) rather than against our reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDisk, type BuiltDisk } from '../fixtures/factory.js';
import { runStatus, tempDir } from '../helpers/tools.js';
import { flsTree, icat } from './oracles.js';
import { hivexExport, parseReg, tupleKey } from '../registry/reg-parse.js';

function extractNtfsFile(image: string, offset: number, path: string, out: string): void {
  const entry = flsTree(image, offset).get(path);
  assert.ok(entry, `fls finds ${path}`);
  writeFileSync(out, icat(image, offset, entry.inode));
}

function hexLE64(n: number): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b.toString('hex');
}

/** A REG_SZ's hex as hivex prints it (UTF-16LE with the terminator). */
const szHex = (s: string): string => Buffer.from(`${s}\0`, 'utf16le').toString('hex');

function checkSystem(d: BuiltDisk, file: string): void {
  const reg = parseReg(hivexExport(file));
  const has = (path: string, name: string, type: number, hex: string): void =>
    assert.ok(reg.values.includes(tupleKey(path, name, type, hex)), `${path} ${name}`);
  has('\\Select', 'Current', 4, '01000000');
  has('\\ControlSet001\\Control\\CrashControl', 'CrashDumpEnabled', 4, '07000000');
  has('\\ControlSet001\\Control\\Session Manager\\Environment', 'PROCESSOR_ARCHITECTURE', 1, szHex('AMD64'));
  // Every boot-start service's ImagePath names a driver file that is really on the Windows volume.
  const files = flsTree(d.raw, d.manifest.windows.start);
  const services = [...reg.keys].filter((k) => /^\\ControlSet001\\Services\\[^\\]+$/.test(k));
  assert.ok(services.length >= 10, `services: ${services.length}`);
  for (const svc of services) {
    const image = reg.values.find((v) => v.startsWith(`${svc}\u0000ImagePath\u0000`));
    assert.ok(image, `${svc} has an ImagePath`);
    const path = Buffer.from(image.split('\u0000')[3]!, 'hex').toString('utf16le').replace(/\0+$/, '');
    const onDisk = `/Windows/${path.replace(/\\/g, '/')}`.toLowerCase();
    assert.ok(
      [...files.keys()].some((f) => f.toLowerCase() === onDisk),
      `${svc}: ${onDisk} exists`,
    );
  }
}

function checkBcd(d: BuiltDisk, file: string): void {
  const reg = parseReg(hivexExport(file));
  const bootmgr = '\\Objects\\{9dea862c-5cdd-4e70-acc1-f32b344d4795}';
  const def = reg.values.find((v) => v.startsWith(`${bootmgr}\\Elements\\23000003\u0000Element\u0000`));
  assert.ok(def, '{bootmgr} has a default object');
  const loaderId = Buffer.from(def.split('\u0000')[3]!, 'hex').toString('utf16le').replace(/\0+$/, '');
  assert.match(loaderId, /^\{[0-9a-f-]{36}\}$/);
  assert.ok(
    reg.keys.has(`\\Objects\\${loaderId}\\Elements\\21000001`),
    'the default loader exists with an osdevice',
  );
  const osdevice = reg.values.find((v) =>
    v.startsWith(`\\Objects\\${loaderId}\\Elements\\21000001\u0000Element\u00003\u0000`),
  );
  assert.ok(osdevice, 'osdevice is REG_BINARY');
  const dev = Buffer.from(osdevice.split('\u0000')[3]!, 'hex');
  assert.equal(dev.length, 88);
  const win = d.manifest.layout.partitions.find((p) => p.role === 'windows')!;
  if (d.manifest.gen === 1) {
    // MBR: partition start in bytes and the disk signature sfdisk wrote.
    assert.equal(dev.subarray(0x20, 0x28).toString('hex'), hexLE64(win.start));
    assert.equal(dev.readUInt32LE(0x38), parseInt(d.manifest.layout.diskId, 16));
  } else {
    const guid = dev.subarray(0x20, 0x30);
    const text = [
      guid.subarray(0, 4).reverse().toString('hex'),
      guid.subarray(4, 6).reverse().toString('hex'),
      guid.subarray(6, 8).reverse().toString('hex'),
      guid.subarray(8, 10).toString('hex'),
      guid.subarray(10, 16).toString('hex'),
    ].join('-');
    assert.equal(text.toUpperCase(), win.uuid!.toUpperCase());
  }
  // Booleans are one byte and integers eight, as bcdedit stores them (REFERENCE.md §2.4).
  const timeout = reg.values.find((v) =>
    v.startsWith(`${bootmgr}\\Elements\\25000004\u0000Element\u00003\u0000`),
  );
  assert.equal(timeout?.split('\u0000')[3], hexLE64(30));
  const bootems = reg.values.find((v) =>
    v.includes('{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}\\Elements\\16000020\u0000'),
  );
  assert.equal(bootems?.split('\u0000')[3], '00');
}

for (const gen of [1, 2] as const) {
  test(`synthetic gen${gen}: SYSTEM and BCD from our writer, extracted by sleuthkit/mtools, read by hivex`, async () => {
    const t = tempDir('synth-hives-');
    try {
      const d = await buildDisk({ gen, flavour: 'synthetic' });
      assert.equal(d.manifest.hiveSource, 'provider:synthetic-v1');
      const system = join(t.dir, 'SYSTEM');
      extractNtfsFile(d.raw, d.manifest.windows.start, '/Windows/System32/config/SYSTEM', system);
      checkSystem(d, system);
      const bcd = join(t.dir, 'BCD');
      const boot = d.manifest.layout.partitions.find((p) => p.index === d.manifest.bcd.partition)!;
      if (gen === 1) {
        extractNtfsFile(d.raw, boot.start, d.manifest.bcd.path, bcd);
      } else {
        const r = runStatus('env', [
          'MTOOLS_SKIP_CHECK=1',
          'mcopy',
          '-n',
          '-i',
          `${d.raw}@@${boot.start}`,
          `::${d.manifest.bcd.path}`,
          bcd,
        ]);
        assert.equal(r.status, 0, r.stderr);
      }
      checkBcd(d, bcd);
    } finally {
      t.cleanup();
    }
  });
}
