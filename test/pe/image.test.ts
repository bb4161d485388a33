// PE headers, checksum and integrity findings: Microsoft-made PEs (stored checksums are right), osslsigncode's
// "Calculated PE checksum", pe-builder's checksum for synthetic images; damage → findings; fuzz → only typed errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  checkPe,
  parsePe,
  peChecksum,
  authenticodeDigest,
  verifyAuthenticode,
  versionInfo,
} from '../../src/pe/index.js';
import { isWinrescueError } from '../../src/errors.js';
import { buildPe, peChecksum as builderChecksum, textSectionRange } from '../fixtures/pe-builder.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { run, tempDir } from '../helpers/tools.js';
import { osslVerifyBytes } from './oracle.js';

const ALL = ['acpi.sys', 'amdxata.sys', 'WdBoot.sys', 'amdi2c.sys', 'kernel32.dll', 'shimeng.dll'];
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(testdataFile(`pe/${name}`)));
const MACHINE_AMD64 = 0x8664;

test(
  'Microsoft PEs: PE32+ x64, sections inside, checksum equals the stored one, no findings',
  { skip: sharedSkip() },
  () => {
    for (const name of ALL) {
      const b = read(name);
      const h = parsePe(b);
      assert.equal(h.machine, MACHINE_AMD64, name);
      assert.equal(h.isPe32Plus, true, name);
      assert.ok(h.sections.length > 0);
      for (const s of h.sections)
        assert.ok(s.pointerToRawData + s.sizeOfRawData <= b.length, `${name} ${s.name}`);
      assert.equal(peChecksum(b), h.checksum, name);
      assert.notEqual(h.checksum, 0);
      assert.deepEqual(checkPe(b), [], name);
      // objdump (binutils) reads the same headers independently.
      const od = run('objdump', ['-p', testdataFile(`pe/${name}`)]).toString();
      const field = (k: string): number =>
        parseInt(new RegExp(`^${k}\\s+([0-9a-f]+)`, 'm').exec(od)![1]!, 16);
      assert.equal(h.subsystem, field('Subsystem'), name);
      assert.equal(h.sizeOfImage, field('SizeOfImage'), name);
      assert.equal(h.checksum, field('CheckSum'), name);
      assert.equal(h.magic, field('Magic'), name);
      const oh = run('objdump', ['-h', testdataFile(`pe/${name}`)]).toString();
      const rows = [
        ...oh.matchAll(/^\s+\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)/gm),
      ];
      assert.deepEqual(
        rows.map((r) => [r[1], parseInt(r[4]!, 16)]),
        h.sections.map((s) => [s.name, s.pointerToRawData]),
        name,
      );
    }
  },
);

test(
  'checksum of damaged Microsoft drivers equals osslsigncode\'s "Calculated PE checksum"',
  { skip: sharedSkip() },
  () => {
    const t = tempDir('winrescue-pe-');
    try {
      for (const [i, name] of ['acpi.sys', 'amdi2c.sys', 'WdBoot.sys'].entries()) {
        const b = read(name).slice();
        const at = 0x1000 + i * 333;
        b[at] = b[at]! ^ 0xa5;
        const o = osslVerifyBytes(b, t.dir, name);
        assert.ok(o.checksum !== null && o.checksum !== o.storedChecksum, `${name}: ${o.output}`);
        assert.equal(peChecksum(b), o.checksum, name);
        assert.ok(
          checkPe(b).some((f) => f.problem === 'checksumMismatch'),
          name,
        );
      }
    } finally {
      t.cleanup();
    }
  },
);

test("synthetic images: checksum equals pe-builder's, sizes are property-tested", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 16, max: 40000 }),
      fc.constantFrom('driver', 'user-dll', 'efi-app'),
      (size, kind) => {
        const b = buildPe({ name: 'p.sys', kind: kind as 'driver', version: '1.0.0.1', textSize: size });
        assert.equal(peChecksum(b), builderChecksum(b));
        assert.equal(parsePe(b).checksum, peChecksum(b));
        assert.deepEqual(checkPe(b), []);
        // An odd-length tail (appended byte) is summed as a half word.
        const odd = new Uint8Array(b.length + 1);
        odd.set(b);
        odd[b.length] = 0x7f;
        assert.equal(peChecksum(odd), builderChecksum(odd));
      },
    ),
    { numRuns: 40 },
  );
});

test('damage gives findings: truncated, zero-filled, checksum, garbage, section table outside', () => {
  const b = buildPe({ name: 'd.sys', kind: 'driver', version: '2.0.0.0', textSize: 8192 });
  const kinds = (x: Uint8Array): string[] => checkPe(x).map((f) => f.problem);
  assert.ok(kinds(b.subarray(0, b.length - 600)).includes('sectionOutside'));
  const text = textSectionRange(b);
  const zeroed = b.slice();
  zeroed.fill(0, text.offset, text.offset + text.length);
  assert.ok(kinds(zeroed).includes('zeroFilled'));
  assert.ok(kinds(zeroed).includes('checksumMismatch'));
  assert.deepEqual(kinds(new Uint8Array(b.length)), ['zeroFilled']);
  const flipped = b.slice();
  flipped[text.offset + 10] = flipped[text.offset + 10]! ^ 1;
  assert.deepEqual(kinds(flipped), ['checksumMismatch']);
  assert.deepEqual(
    kinds(new TextEncoder().encode('hello, not a PE at all, just text........................')),
    ['notPe'],
  );
  assert.deepEqual(kinds(b.subarray(0, 0x100)), ['notPe']); // cut inside the section table
  const lfanew = b.slice();
  new DataView(lfanew.buffer).setUint32(0x3c, 0x7fff0, true);
  assert.deepEqual(kinds(lfanew), ['notPe']);
  const sizeImg = b.slice();
  const h = parsePe(b);
  new DataView(sizeImg.buffer).setUint32(h.optionalHeaderOffset + 56, 0x1000, true);
  assert.ok(kinds(sizeImg).includes('imageSizeShort'));
  assert.throws(
    () => parsePe(new Uint8Array(10)),
    (e) => isWinrescueError(e) && e.code === 'pe.badImage',
  );
});

test(
  'fuzz: 400 mutations of signed and unsigned PEs give findings or WinrescueError, never another exception',
  { skip: sharedSkip() },
  () => {
    const seeds = [
      read('amdxata.sys'),
      read('amdi2c.sys'),
      buildPe({ name: 'f.sys', kind: 'driver', version: '1.0.0.0' }),
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.boolean(),
        (which, edits, cut, headersOnly) => {
          const src = seeds[which]!;
          const b = src.slice();
          // Half the runs aim at the headers and the certificate table, where parsing decisions are made.
          const span = headersOnly ? Math.min(b.length, 0x400) : b.length;
          for (const [pos, v] of edits) b[pos % span] = v;
          const bytes = cut === undefined ? b : b.subarray(0, cut % (b.length + 1));
          assert.ok(Array.isArray(checkPe(bytes)));
          for (const f of [
            () => peChecksum(bytes),
            () => authenticodeDigest(bytes, 'sha256'),
            () => verifyAuthenticode(bytes),
            () => versionInfo(bytes),
          ]) {
            try {
              f();
            } catch (e) {
              assert.ok(isWinrescueError(e), `non-typed error: ${String(e)}`);
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  },
);

test('property: any cut past the headers is a truncation; any zeroed section is zero-filled', () => {
  const b = buildPe({ name: 'q.sys', kind: 'driver', version: '5.6.7.8', textSize: 20000 });
  const h = parsePe(b);
  fc.assert(
    fc.property(fc.integer({ min: h.sizeOfHeaders, max: b.length - 1 }), (cut) => {
      const kinds = checkPe(b.subarray(0, cut)).map((f) => f.problem);
      assert.ok(kinds.includes('sectionOutside'), `cut at ${cut}: ${kinds.join(',')}`);
    }),
    { numRuns: 60 },
  );
  for (const s of h.sections) {
    const z = b.slice();
    z.fill(0, s.pointerToRawData, s.pointerToRawData + s.sizeOfRawData);
    const kinds = checkPe(z).map((f) => f.problem);
    assert.ok(kinds.includes('zeroFilled'), `${s.name}: ${kinds.join(',')}`);
  }
});
