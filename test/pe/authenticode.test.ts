// Authenticode digest, embedded signature and chain, judged by osslsigncode and by Microsoft-signed drivers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  authenticodeDigest,
  certificateTableRange,
  checkPe,
  readEmbeddedSignature,
  verifyAuthenticode,
  MICROSOFT_ROOTS,
} from '../../src/pe/index.js';
import { isWinrescueError } from '../../src/errors.js';
import { buildPe, type PeKind } from '../fixtures/pe-builder.js';
import { FIXTURES_DIR } from '../fixtures/cache.js';
import { ensureSigningKeys, signPe } from '../fixtures/signing.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { tempDir, run } from '../helpers/tools.js';
import { osslVerify, osslVerifyBytes } from './oracle.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const SIGNED = ['acpi.sys', 'amdxata.sys', 'WdBoot.sys', 'kernel32.dll'];
const UNSIGNED = ['amdi2c.sys', 'shimeng.dll'];
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(testdataFile(`pe/${name}`)));

test(
  "Microsoft PEs: our digest and the embedded one equal osslsigncode's; chain ends at a Microsoft root",
  { skip: sharedSkip() },
  () => {
    for (const name of SIGNED) {
      const bytes = read(name);
      const o = osslVerify(testdataFile(`pe/${name}`));
      assert.equal(o.algorithm, 'SHA256', name);
      assert.ok(o.calculatedDigest && o.signedDigest, `${name}: osslsigncode printed digests`);
      assert.equal(hex(authenticodeDigest(bytes, 'sha256')), o.calculatedDigest, name);
      const sig = readEmbeddedSignature(bytes);
      assert.ok(sig, name);
      assert.equal(sig.indirect.algorithm, 'sha256');
      assert.equal(hex(sig.indirect.digest), o.signedDigest, name);
      const v = verifyAuthenticode(bytes);
      assert.equal(v.digestMatches, true, name);
      assert.equal(v.signatureValid, true, `${name}: ${v.reasons.join('; ')}`);
      assert.equal(v.chainValid, true, `${name}: ${v.reasons.join('; ')}`);
      assert.equal(v.trusted, true, name);
      assert.match(v.rootSubject ?? '', /CN=Microsoft Root Certificate Authority 2010$/, name);
      // Validity periods are reported, never fatal: expired by now, but not at the countersigned timestamp
      // osslsigncode reads from the signature.
      assert.ok(v.notes.length > 0, `${name}: its signing certificate has expired by now`);
      const stamped = new Date(/Timestamp time: (.+ GMT)/.exec(o.output)![1]!);
      assert.deepEqual(
        verifyAuthenticode(bytes, { at: stamped }).notes,
        [],
        `${name} at ${stamped.toISOString()}`,
      );
      // osslsigncode names the same signer.
      assert.ok(o.output.includes(`Subject: ${v.signerSubject}`), `${name}: signer ${v.signerSubject}`);
      // Without Microsoft's roots nothing anchors the chain.
      const bare = verifyAuthenticode(bytes, { microsoftRoots: false });
      assert.equal(bare.digestMatches, true);
      assert.equal(bare.chainValid, false, name);
      assert.equal(bare.trusted, false, name);
    }
  },
);

test(
  "unsigned Microsoft PEs are flagged; their digest equals osslsigncode's once signed",
  { skip: sharedSkip() },
  () => {
    const keys = ensureSigningKeys(FIXTURES_DIR);
    const t = tempDir('winrescue-pe-');
    try {
      for (const name of UNSIGNED) {
        const bytes = read(name);
        assert.equal(
          osslVerify(testdataFile(`pe/${name}`)).noSignature,
          true,
          `${name}: osslsigncode agrees it is unsigned`,
        );
        assert.equal(readEmbeddedSignature(bytes), null);
        const v = verifyAuthenticode(bytes);
        assert.equal(v.signed, false, name);
        assert.equal(v.trusted, false, name);
        assert.ok(v.reasons.length > 0);
        // Signing appends the table after the hashed bytes: the digest of the unsigned file is what gets signed.
        const signed = signPe(bytes, keys, t.dir);
        const o = osslVerifyBytes(signed, t.dir, name, keys.caPem);
        assert.equal(hex(authenticodeDigest(bytes, 'sha256')), o.signedDigest, name);
        assert.equal(hex(authenticodeDigest(signed, 'sha256')), o.calculatedDigest, name);
      }
    } finally {
      t.cleanup();
    }
  },
);

test(
  'one byte changed in a signed Microsoft driver: digest mismatch, as osslsigncode says',
  { skip: sharedSkip() },
  () => {
    const t = tempDir('winrescue-pe-');
    try {
      const bytes = read('amdxata.sys').slice();
      bytes[0x600] = bytes[0x600]! ^ 0x5a;
      const o = osslVerifyBytes(bytes, t.dir, 'amdxata.sys');
      assert.match(o.output, /MISMATCH/);
      assert.equal(hex(authenticodeDigest(bytes, 'sha256')), o.calculatedDigest);
      const v = verifyAuthenticode(bytes);
      assert.equal(v.signed, true);
      assert.equal(v.digestMatches, false);
      assert.equal(v.trusted, false);
      assert.match(v.reasons[0] ?? '', /does not match/);
    } finally {
      t.cleanup();
    }
  },
);

const KINDS: readonly PeKind[] = ['driver', 'kernel-dll', 'boot-app'];

test("synthetic signed drivers: digests equal osslsigncode's; trusted only with the test root", () => {
  const keys = ensureSigningKeys(FIXTURES_DIR);
  const ca = new Uint8Array(readFileSync(keys.caPem));
  const t = tempDir('winrescue-pe-');
  try {
    KINDS.forEach((kind, i) => {
      const image = buildPe({
        name: `syn${i}.sys`,
        kind,
        version: `10.0.${19041 + i}.1`,
        textSize: 3000 + i * 777,
      });
      const signed = signPe(image, keys, t.dir);
      const o = osslVerifyBytes(signed, t.dir, `syn${i}.sys`, keys.caPem);
      assert.equal(o.status, 0, o.output);
      assert.equal(hex(authenticodeDigest(signed, 'sha256')), o.calculatedDigest);
      assert.equal(hex(readEmbeddedSignature(signed)!.indirect.digest), o.signedDigest);
      assert.equal(hex(authenticodeDigest(signed, 'sha1')).length, 40);

      const untrusted = verifyAuthenticode(signed);
      assert.equal(untrusted.digestMatches, true);
      assert.equal(untrusted.signatureValid, true, untrusted.reasons.join('; '));
      assert.equal(untrusted.chainValid, false);
      assert.equal(untrusted.trusted, false);
      const trusted = verifyAuthenticode(signed, { roots: [ca] });
      assert.equal(trusted.trusted, true, trusted.reasons.join('; '));
      assert.equal(trusted.rootSubject, '/CN=winrescue test CA');
      assert.equal(trusted.signerSubject, '/CN=winrescue test code signing');
      // DER form of the root is accepted too.
      const der = new Uint8Array(run('openssl', ['x509', '-in', keys.caPem, '-outform', 'DER']));
      assert.equal(verifyAuthenticode(signed, { roots: [der] }).trusted, true);

      const changed = signed.slice();
      changed[0x400 + i] = changed[0x400 + i]! ^ 1;
      const oc = osslVerifyBytes(changed, t.dir, `syn${i}-changed.sys`, keys.caPem);
      assert.notEqual(oc.status, 0);
      assert.equal(hex(authenticodeDigest(changed, 'sha256')), oc.calculatedDigest);
      const vc = verifyAuthenticode(changed, { roots: [ca] });
      assert.equal(vc.digestMatches, false);
      assert.equal(vc.trusted, false);
    });
  } finally {
    t.cleanup();
  }
});

test('a forged signer signature (attributes altered) is caught', () => {
  const keys = ensureSigningKeys(FIXTURES_DIR);
  const ca = new Uint8Array(readFileSync(keys.caPem));
  const t = tempDir('winrescue-pe-');
  try {
    const signed = signPe(buildPe({ name: 'forge.sys', kind: 'driver', version: '1.2.3.4' }), keys, t.dir);
    // The signature value is the last large OCTET STRING of the SignerInfo: flip a byte near the table end
    // (no timestamp, so the RSA signature sits at the very end, before padding).
    const sig = readEmbeddedSignature(signed)!;
    const sigBytes = new Uint8Array(sig.signedData.signer.signature.valueBlock.valueHexView);
    const at = Buffer.from(signed).lastIndexOf(Buffer.from(sigBytes.subarray(0, 16)));
    assert.ok(at > 0);
    const forged = signed.slice();
    forged[at + 100] = forged[at + 100]! ^ 0xff;
    const o = osslVerifyBytes(forged, t.dir, 'forge.sys', keys.caPem);
    assert.notEqual(o.status, 0, 'osslsigncode rejects it too');
    const v = verifyAuthenticode(forged, { roots: [ca] });
    assert.equal(v.digestMatches, true);
    assert.equal(v.signatureValid, false);
    assert.equal(v.trusted, false);
  } finally {
    t.cleanup();
  }
});

test(
  'openssl agrees: the embedded certificates of the Microsoft PEs chain to our embedded roots',
  { skip: sharedSkip() },
  () => {
    const t = tempDir('winrescue-pe-');
    try {
      const roots = join(t.dir, 'roots.pem');
      writeFileSync(roots, MICROSOFT_ROOTS.map((r) => r.pem).join(''));
      for (const name of SIGNED) {
        const sig = join(t.dir, `${name}.p7.pem`);
        run('osslsigncode', ['extract-signature', '-pem', '-in', testdataFile(`pe/${name}`), '-out', sig]);
        const bundle = run('openssl', ['pkcs7', '-in', sig, '-print_certs']).toString();
        const certs = [
          ...bundle.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g),
        ].map((m) => m[0]);
        assert.ok(certs.length >= 2, name);
        const untrusted = join(t.dir, 'untrusted.pem');
        writeFileSync(untrusted, certs.join(''));
        certs.forEach((c, i) => {
          const one = join(t.dir, `c${i}.pem`);
          writeFileSync(one, c);
          // Validity is not checked (the signing certificates expired long ago), as in verifyAuthenticode.
          const out = run('openssl', [
            'verify',
            '-no_check_time',
            '-CAfile',
            roots,
            '-untrusted',
            untrusted,
            one,
          ]);
          assert.match(out.toString(), /: OK/, `${name} #${i}`);
        });
        assert.equal(readEmbeddedSignature(read(name))!.certificates.length, certs.length, name);
      }
    } finally {
      t.cleanup();
    }
  },
);

test('malformed certificate tables and signatures: pe.badSignature, reported as a reason by verifyAuthenticode', () => {
  const keys = ensureSigningKeys(FIXTURES_DIR);
  const t = tempDir('winrescue-pe-');
  try {
    const signed = signPe(buildPe({ name: 'm.sys', kind: 'driver', version: '1.0.0.0' }), keys, t.dir);
    const table = certificateTableRange(signed)!;
    const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
    const badLength = signed.slice();
    dv(badLength).setUint32(table.offset, table.size + 64, true); // WIN_CERTIFICATE longer than the table
    const badDer = signed.slice();
    badDer.fill(0xff, table.offset + 8, table.offset + 40); // PKCS#7 header garbled
    for (const b of [badLength, badDer]) {
      assert.throws(
        () => readEmbeddedSignature(b),
        (e) => isWinrescueError(e) && e.code === 'pe.badSignature',
      );
      const v = verifyAuthenticode(b);
      assert.equal(v.trusted, false);
      assert.ok(
        v.reasons.some((r) => r.includes('embedded signature unreadable')),
        v.reasons.join('; '),
      );
    }
    // Directory entry pointing past the end of the file: the image itself is bad.
    const outside = signed.slice(0, table.offset + 16);
    assert.throws(
      () => authenticodeDigest(outside, 'sha256'),
      (e) => isWinrescueError(e) && e.code === 'pe.badImage',
    );
    assert.ok(checkPe(outside).some((f) => f.problem === 'certificateTableOutside'));
  } finally {
    t.cleanup();
  }
});

test('embedded Microsoft roots: SHA-1 fingerprints as published, computed by openssl', () => {
  for (const r of MICROSOFT_ROOTS) {
    const out = run('openssl', ['x509', '-noout', '-fingerprint', '-sha1', '-subject'], {
      input: r.pem,
    }).toString();
    assert.ok(out.replace(/:/g, '').includes(`Fingerprint=${r.sha1}`), `${r.name}: ${out}`);
    assert.ok(out.includes(`CN = ${r.name}`), out);
  }
  // Independent of the table above: the values published in Windows root stores.
  assert.deepEqual(
    MICROSOFT_ROOTS.map((r) => r.sha1),
    [
      '3B1EFD3A66EA28B16697394703A72CA340A05BD5',
      '8F43288AD272F3103B6FB1428485EA3014C0BCFE',
      'CDD4EEAE6000AC7F40C3802C171E30148030C072',
    ],
  );
});
