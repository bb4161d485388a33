// Synthetic PE files judged by independent readers: objdump and llvm-readobj (headers, resource tree),
// osslsigncode (checksum recomputation, Authenticode), `file`, and Microsoft's own drivers for the checksum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  buildPe,
  findFileVersion,
  peChecksum,
  readPeChecksum,
  textSectionRange,
  type PeKind,
} from '../fixtures/pe-builder.js';
import { ensureSigningKeys, signPe, verifySignature } from '../fixtures/signing.js';
import { FIXTURES_DIR } from '../fixtures/cache.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { run, runStatus, tempDir } from '../helpers/tools.js';

const MICROSOFT = ['acpi.sys', 'amdxata.sys', 'WdBoot.sys', 'amdi2c.sys', 'kernel32.dll', 'shimeng.dll'];

/** osslsigncode prints "PE checksum : X" when the stored value is right, Current/Calculated lines when not. */
function osslChecksum(path: string): { ok: boolean; stored: number; calculated: number } {
  const r = runStatus('osslsigncode', ['verify', '-in', path]);
  const out = r.stdout + r.stderr;
  const good = /^PE checksum\s*:\s*([0-9A-F]+)/m.exec(out);
  if (good) return { ok: true, stored: parseInt(good[1]!, 16), calculated: parseInt(good[1]!, 16) };
  const cur = /Current PE checksum\s*:\s*([0-9A-F]+)/.exec(out);
  const calc = /Calculated PE checksum\s*:\s*([0-9A-F]+)/.exec(out);
  assert.ok(cur && calc, `osslsigncode printed no checksum: ${out}`);
  return { ok: false, stored: parseInt(cur[1]!, 16), calculated: parseInt(calc[1]!, 16) };
}

test(
  'PE checksum: our algorithm gives the value Microsoft stored in its own binaries',
  { skip: sharedSkip() },
  () => {
    for (const name of MICROSOFT) {
      const b = new Uint8Array(readFileSync(testdataFile(`pe/${name}`)));
      assert.equal(peChecksum(b), readPeChecksum(b), name);
      assert.equal(
        osslChecksum(testdataFile(`pe/${name}`)).ok,
        true,
        `${name}: osslsigncode agrees it is valid`,
      );
    }
  },
);

test(
  'findFileVersion reads the same version as the FileVersion string of Microsoft drivers',
  { skip: sharedSkip() },
  () => {
    for (const name of ['acpi.sys', 'amdxata.sys', 'WdBoot.sys', 'amdi2c.sys']) {
      const path = testdataFile(`pe/${name}`);
      const v = findFileVersion(new Uint8Array(readFileSync(path)));
      assert.ok(v, name);
      // `strings -el` lists UTF-16LE strings: the value follows the "FileVersion" key.
      const strings = run('strings', ['-el', path]).toString().split('\n');
      const at = strings.indexOf('FileVersion');
      assert.ok(at >= 0, `${name}: no FileVersion string`);
      const parts = v.split('.').map(Number);
      const shown = strings[at + 1]!.split(/[ (]/)[0]!
        .split(/[.,]/)
        .map((x) => Number(x.trim()));
      assert.deepEqual(shown.slice(0, 4), parts, `${name}: ${strings[at + 1]} vs ${v}`);
    }
  },
);

test('a synthetic driver is a PE32+ native x64 image with the headers objdump and file expect', () => {
  const t = tempDir();
  try {
    const pe = buildPe({ name: 'demo.sys', kind: 'driver', version: '10.0.17763.5830', textSize: 5000 });
    const path = join(t.dir, 'demo.sys');
    writeFileSync(path, pe);
    assert.match(run('file', ['-b', path]).toString(), /PE32\+ executable \(native\) x86-64/);
    const od = run('objdump', ['-p', path]).toString();
    const field = (k: string): string => new RegExp(`^${k}\\s+(\\S+)`, 'm').exec(od)?.[1] ?? '';
    assert.equal(field('Magic'), '020b');
    assert.equal(field('SectionAlignment'), '00001000');
    assert.equal(field('FileAlignment'), '00000200');
    assert.equal(parseInt(field('Subsystem'), 16), 1);
    assert.equal(parseInt(field('CheckSum'), 16), readPeChecksum(pe));
    // SizeOfImage covers the last section rounded up to the section alignment: .text 5000 -> 0x2000, .rsrc 0x1000.
    assert.equal(parseInt(field('SizeOfImage'), 16), 0x1000 + 0x2000 + 0x1000);
    assert.match(od, /Characteristics 0x22\b/);
    const dll = join(t.dir, 'hal.dll');
    writeFileSync(
      dll,
      buildPe({ name: 'hal.dll', kind: 'kernel-dll', version: '10.0.17763.1', textSize: 300 }),
    );
    assert.match(run('objdump', ['-p', dll]).toString(), /Characteristics 0x2022[\s\S]*DLL/);
    const efi = join(t.dir, 'boot.efi');
    writeFileSync(efi, buildPe({ name: 'bootmgfw.efi', kind: 'efi-app', version: '10.0.17763.1' }));
    assert.match(run('file', ['-b', efi]).toString(), /EFI application/);
  } finally {
    t.cleanup();
  }
});

test('the version resource is found by llvm-readobj and carries the requested FileVersion', () => {
  const t = tempDir();
  try {
    const path = join(t.dir, 'x.sys');
    writeFileSync(path, buildPe({ name: 'x.sys', kind: 'driver', version: '10.0.17763.5830' }));
    const out = run('llvm-readobj', ['--coff-resources', path]).toString();
    assert.match(out, /Type: VERSIONINFO \(ID 16\)/);
    assert.match(out, /Language: \(ID 1033\)/);
    // The hex dump of the data: VS_FIXEDFILEINFO's signature then the version words (MS, LS) at +8.
    const hex = [...out.matchAll(/^\s+[0-9A-F]{4}: ((?:[0-9A-F]{8} ?){1,4})/gm)]
      .map((m) => m[1]!.replace(/ /g, ''))
      .join('');
    const bytes = Buffer.from(hex, 'hex');
    const sig = bytes.indexOf(Buffer.from([0xbd, 0x04, 0xef, 0xfe]));
    assert.ok(sig > 0, 'VS_FIXEDFILEINFO signature in the resource data');
    assert.equal(bytes.readUInt32LE(sig + 8), (10 << 16) | 0);
    assert.equal(bytes.readUInt32LE(sig + 12), (17763 << 16) | 5830);
    const strings = run('strings', ['-el', path]).toString();
    assert.match(strings, /FileVersion\n10\.0\.17763\.5830 \(WinBuild/);
    assert.match(strings, /OriginalFilename\nx\.sys/);
  } finally {
    t.cleanup();
  }
});

test('property: osslsigncode recomputes the checksum we wrote, and sees any flipped byte', () => {
  const t = tempDir();
  const kinds: PeKind[] = ['driver', 'kernel-dll', 'exe', 'boot-app', 'efi-app', 'user-dll', 'user-exe'];
  try {
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.tuple(fc.nat(0xffff), fc.nat(0xffff), fc.nat(0xffff), fc.nat(0xffff)),
        fc.integer({ min: 1, max: 40_000 }),
        fc.nat(),
        (kind, v, textSize, flipAt) => {
          const pe = buildPe({ name: 'p.bin', kind, version: v.join('.'), textSize });
          const path = join(t.dir, 'p.bin');
          writeFileSync(path, pe);
          const good = osslChecksum(path);
          assert.equal(good.ok, true);
          assert.equal(good.stored, readPeChecksum(pe));
          // Flip one byte of .text: the stored checksum must no longer match osslsigncode's.
          const text = textSectionRange(pe);
          const at = text.offset + (flipAt % text.length);
          pe[at] = pe[at]! ^ 0x01;
          writeFileSync(path, pe);
          const bad = osslChecksum(path);
          assert.equal(bad.ok, false);
          assert.equal(bad.calculated, peChecksum(pe));
        },
      ),
      { numRuns: 12 },
    );
  } finally {
    t.cleanup();
  }
});

test('signing: osslsigncode verify -CAfile accepts the signed image, and its checksum is still right', () => {
  const t = tempDir();
  try {
    const keys = ensureSigningKeys(FIXTURES_DIR);
    const signed = signPe(buildPe({ name: 's.sys', kind: 'driver', version: '10.0.17763.1' }), keys, t.dir);
    const path = join(t.dir, 's.sys');
    writeFileSync(path, signed);
    const v = verifySignature(path, keys);
    assert.equal(v.ok, true, v.output);
    assert.equal(peChecksum(signed), readPeChecksum(signed));
    // Tampering after signing breaks the Authenticode digest.
    const text = textSectionRange(signed);
    signed[text.offset + 10] = signed[text.offset + 10]! ^ 0xff;
    writeFileSync(path, signed);
    const bad = verifySignature(path, keys);
    assert.equal(bad.ok, false);
    assert.match(bad.output, /MISMATCH/);
  } finally {
    t.cleanup();
  }
});
