// examineFile and conclude on the Microsoft binaries of ../shared/testdata/pe, served through an in-memory
// FileSource: the verdicts on intact, unsigned, byte-changed (checksum repaired or not) and wrong-machine images.
// The tampering is judged by osslsigncode first, so a no-op edit fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { examineFile, checkMachines, type FileSource } from '../../src/diagnose/evidence/examine.js';
import { conclude, type ExaminedFile } from '../../src/diagnose/conclude.js';
import type { BootFile } from '../../src/windows/boot-files.js';
import { parsePe } from '../../src/pe/index.js';
import { buildPe, ensureSigningKeys, FIXTURES_DIR, setPeChecksum, signPe } from '../fixtures/index.js';
import { osslVerifyBytes } from '../pe/oracle.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { tempDir } from '../helpers/tools.js';

const read = (name: string): Uint8Array => new Uint8Array(readFileSync(testdataFile(`pe/${name}`)));

function source(files: Record<string, Uint8Array>): FileSource {
  return {
    label: 'memory',
    reach: async (p) => {
      const bytes = files[p];
      return bytes
        ? { status: 'ok', record: 100, sequence: 1, names: [p.replaceAll('\\', '/')], bytes }
        : { status: 'missing', detail: `no ${p}` };
    },
  };
}

const driver = (path: string): BootFile => ({ path, role: 'boot-driver', reason: 'test', optional: false });
const trust = { roots: [], catalogs: async () => [] };

test(
  'Microsoft drivers: intact ones pass on the embedded Microsoft roots alone; amdi2c.sys (unsigned) is a signature risk',
  { skip: sharedSkip() },
  async () => {
    for (const name of ['acpi.sys', 'amdxata.sys', 'WdBoot.sys']) {
      const p = `\\Windows\\System32\\drivers\\${name}`;
      const e = await examineFile(source({ [p]: read(name) }), driver(p), trust);
      assert.equal(e.verdict, 'ok', `${name}: ${e.evidence}`);
      assert.equal(e.signature?.trusted, true);
      assert.match(e.signature?.root ?? '', /Microsoft/);
      assert.match(e.version ?? '', /^\d+\.\d+\.\d+\.\d+/);
    }
    const p = '\\Windows\\System32\\drivers\\amdi2c.sys';
    const e = await examineFile(source({ [p]: read('amdi2c.sys') }), driver(p), trust);
    assert.equal(e.verdict, 'signature');
    assert.equal(e.stopCode, 0xc0000428);
    assert.equal(e.signature?.signed, false);
  },
);

test(
  'a signed driver with one byte changed: checksum mismatch (0xC0000221); with the checksum repaired, a digest mismatch (0xC0000428)',
  { skip: sharedSkip() },
  async () => {
    const { dir, cleanup } = tempDir();
    try {
      const original = read('acpi.sys');
      const text = parsePe(original).sections.find((s) => s.name === '.text')!;
      const changed = original.slice();
      const at = text.pointerToRawData + 100;
      changed[at] = changed[at]! ^ 0x55;
      const o1 = osslVerifyBytes(changed, dir, 'changed.sys');
      assert.notEqual(o1.storedChecksum, o1.checksum, 'osslsigncode sees the checksum mismatch');
      const p = '\\Windows\\System32\\drivers\\acpi.sys';
      const e1 = await examineFile(source({ [p]: changed }), driver(p), trust);
      assert.equal(e1.verdict, 'corrupt-file');
      assert.equal(e1.stopCode, 0xc0000221);

      const forged = changed.slice();
      setPeChecksum(forged);
      const o2 = osslVerifyBytes(forged, dir, 'forged.sys');
      assert.equal(o2.storedChecksum, o2.checksum, 'checksum repaired');
      assert.match(o2.output, /MISMATCH/, 'osslsigncode rejects the digest');
      const e2 = await examineFile(source({ [p]: forged }), driver(p), trust);
      assert.equal(e2.verdict, 'signature', e2.evidence);
      assert.equal(e2.stopCode, 0xc0000428);
      assert.equal(e2.signature?.digestMatches, false);
    } finally {
      cleanup();
    }
  },
);

test('an x86 image on an x64 kernel is 0xC0000359; the kernel, not the hive, is the reference', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const keys = ensureSigningKeys(FIXTURES_DIR);
    const kernelBytes = signPe(
      buildPe({ name: 'ntoskrnl.exe', kind: 'kernel-dll', version: '10.0.17763.1' }),
      keys,
      dir,
    );
    const x86 = buildPe({ name: 'old.sys', kind: 'driver', version: '10.0.17763.1' });
    const machineAt = parsePe(x86).peOffset + 4;
    x86[machineAt] = 0x4c;
    x86[machineAt + 1] = 0x01;
    setPeChecksum(x86);
    const driverBytes = signPe(x86, keys, dir);
    assert.equal(parsePe(driverBytes).machine, 0x14c);
    assert.match(
      osslVerifyBytes(driverBytes, dir, 'old.sys', keys.caPem).output,
      /Signature verification: ok/,
    );
    const kernel = '\\Windows\\System32\\ntoskrnl.exe';
    const path = '\\Windows\\System32\\drivers\\old.sys';
    const src = source({ [kernel]: kernelBytes, [path]: driverBytes });
    const t = { roots: [new Uint8Array(readFileSync(keys.caPem))], catalogs: async () => [] };
    const files = [
      {
        ...(await examineFile(src, { path: kernel, role: 'kernel', reason: 't', optional: false }, t)),
        volume: 'windows' as const,
      },
      { ...(await examineFile(src, driver(path), t)), volume: 'windows' as const },
    ];
    assert.deepEqual(
      files.map((f) => f.verdict),
      ['ok', 'ok'],
      files.map((f) => f.evidence).join('; '),
    );
    // A hive claiming x86 is outvoted by the kernel's own machine.
    const checked = checkMachines(files, 0x14c);
    assert.equal(checked[0]!.verdict, 'ok');
    assert.equal(checked[1]!.verdict, 'corrupt-file');
    assert.equal(checked[1]!.stopCode, 0xc0000359);
    assert.match(checked[1]!.evidence, /x86, the kernel is x64/);
  } finally {
    cleanup();
  }
});

test('conclude: structure beats content; a screen naming an intact file gives healthy with next steps; symptom only is unconfirmed', () => {
  const base = {
    role: 'boot-driver' as const,
    reason: 't',
    optional: false,
    names: [],
    size: 1,
    sha256: 'x',
    version: null,
    volume: 'windows' as const,
  };
  const ok: ExaminedFile = {
    ...base,
    path: '\\Windows\\System32\\drivers\\a.sys',
    verdict: 'ok',
    stopCode: null,
    record: 40,
    evidence: 'fine',
  };
  const content: ExaminedFile = {
    ...base,
    path: '\\Windows\\System32\\drivers\\b.sys',
    verdict: 'corrupt-file',
    stopCode: 0xc000007b,
    record: 41,
    evidence: 'zeros',
  };
  const structure: ExaminedFile = {
    ...base,
    path: '\\Windows\\System32\\drivers\\c.sys',
    verdict: 'corrupt-structure',
    stopCode: 0xc0000102,
    record: 42,
    evidence: 'torn',
  };
  const screen = {
    kind: 'boot-manager' as const,
    stopCode: 0xc0000102,
    stopCodeText: '0xc0000102',
    path: '\\Windows\\System32\\drivers\\a.sys',
    info: null,
    rawText: '',
    confidence: 1,
  };
  const both = conclude(null, [ok, content, structure]);
  assert.equal(both.cause, 'corrupt-structure');
  assert.equal(both.findings[0]!.path, structure.path);
  assert.equal(both.file, structure.path);
  assert.equal(both.stopCode, '0xC0000102');

  const intact = conclude(screen, [ok]);
  assert.equal(intact.cause, 'healthy');
  assert.equal(intact.file, ok.path);
  assert.equal(intact.stopCode, '0xC0000102');
  assert.deepEqual(intact.plan, []);
  assert.match(intact.nextSteps.join(' '), /intact on this disk/);

  const onlyScreen = conclude(screen, null);
  assert.equal(onlyScreen.cause, 'corrupt-structure');
  assert.match(onlyScreen.summary, /not confirmed/);
  assert.equal(onlyScreen.file, screen.path);
});
