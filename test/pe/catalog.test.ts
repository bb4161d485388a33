// Catalogs: CertificateTrustLists encoded by `openssl asn1parse -genconf` (an independent DER encoder), signed by
// `openssl cms`; membership and signature judged by `osslsigncode verify -catalog`. No Windows-made catalog is in
// the test data: the Windows layout ([0] EXPLICIT CTL instead of a CMS OCTET STRING) is only covered through the
// Authenticode signatures, which embed their content the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  authenticodeDigest,
  certificateTableRange,
  parseCatalog,
  verifyAuthenticode,
} from '../../src/pe/index.js';
import fc from 'fast-check';
import { isWinrescueError } from '../../src/errors.js';
import { buildPe } from '../fixtures/pe-builder.js';
import { FIXTURES_DIR } from '../fixtures/cache.js';
import { ensureSigningKeys, signPe, type SigningKeys } from '../fixtures/signing.js';
import { run, runStatus, tempDir } from '../helpers/tools.js';
import { osslVerifyBytes } from './oracle.js';

const OID_SHA1 = '1.3.14.3.2.26';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';

/** genconf text for a CTL whose members carry SpcIndirectDataContent digests (hex), as makecat writes them. */
function ctlConf(members: { digest: string; oid: string }[]): string {
  const lines = [
    'asn1=SEQUENCE:ctl',
    '[ctl]',
    'usage=SEQUENCE:usage',
    'listid=FORMAT:HEX,OCTETSTRING:0102030405060708',
    'thisUpdate=UTCTIME:261124000000Z',
    'alg=SEQUENCE:sha1alg',
    'subjects=SEQUENCE:subjects',
    '[usage]',
    'u=OID:1.3.6.1.4.1.311.12.1.1', // szOID_CATALOG_LIST
    '[sha1alg]',
    `a=OID:${OID_SHA1}`,
    'n=NULL',
    '[subjects]',
    ...members.map((_, i) => `s${i}=SEQUENCE:subj${i}`),
  ];
  members.forEach((m, i) => {
    const tag = Buffer.from(m.digest.toUpperCase(), 'utf16le').toString('hex');
    lines.push(
      `[subj${i}]`,
      `id=FORMAT:HEX,OCTETSTRING:${tag}`,
      `attrs=SET:attrs${i}`,
      `[attrs${i}]`,
      `a=SEQUENCE:ind${i}`,
      `[ind${i}]`,
      't=OID:1.3.6.1.4.1.311.2.1.4',
      `v=SET:indset${i}`,
      `[indset${i}]`,
      `v=SEQUENCE:spc${i}`,
      `[spc${i}]`,
      `data=SEQUENCE:spcdata`,
      `digest=SEQUENCE:dig${i}`,
      `[dig${i}]`,
      `alg=SEQUENCE:alg${i}`,
      `d=FORMAT:HEX,OCTETSTRING:${m.digest}`,
      `[alg${i}]`,
      `a=OID:${m.oid}`,
      'n=NULL',
    );
  });
  // SpcPeImageData { flags BIT STRING, file [0] SpcLink = [2] SpcString = [0] BMPString }, as makecat writes it;
  // osslsigncode reads page hashes from it and refuses a member without it.
  lines.push(
    '[spcdata]',
    't=OID:1.3.6.1.4.1.311.2.1.15',
    'v=SEQUENCE:peimage',
    '[peimage]',
    'flags=FORMAT:HEX,BITSTRING:00',
    'file=IMPLICIT:0,SEQUENCE:link0',
    '[link0]',
    'l=IMPLICIT:2,SEQUENCE:link2',
    '[link2]',
    's=IMPLICIT:0,BMPSTRING:<<<Obsolete>>>',
  );
  return lines.join('\n') + '\n';
}

function makeCatalog(dir: string, keys: SigningKeys, members: { digest: string; oid: string }[]): string {
  writeFileSync(join(dir, 'ctl.cnf'), ctlConf(members));
  run('openssl', ['asn1parse', '-genconf', join(dir, 'ctl.cnf'), '-out', join(dir, 'ctl.der'), '-noout']);
  const out = join(dir, 'test.cat');
  run('openssl', [
    'cms',
    '-sign',
    '-binary',
    '-nodetach',
    '-econtent_type',
    '1.3.6.1.4.1.311.10.1',
    '-md',
    'sha256',
    '-signer',
    keys.certPem,
    '-inkey',
    keys.keyPem,
    '-in',
    join(dir, 'ctl.der'),
    '-outform',
    'DER',
    '-out',
    out,
  ]);
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

test('catalog-signed driver: member found as osslsigncode finds it; trusted only with the test root', () => {
  const keys = ensureSigningKeys(FIXTURES_DIR);
  const ca = new Uint8Array(readFileSync(keys.caPem));
  const t = tempDir('winrescue-pe-cat-');
  try {
    const driver = buildPe({ name: 'catdrv.sys', kind: 'driver', version: '10.0.1.2', textSize: 5000 });
    const other = buildPe({ name: 'other.sys', kind: 'driver', version: '1.0.0.9' });
    // The digest that goes in the catalog is the oracle's: what osslsigncode signs for this file.
    const oracleDigest = osslVerifyBytes(
      signPe(driver, keys, t.dir),
      t.dir,
      'signed.sys',
      keys.caPem,
    ).signedDigest!;
    assert.equal(hex(authenticodeDigest(driver, 'sha256')), oracleDigest);
    const catPath = makeCatalog(t.dir, keys, [
      { digest: hex(authenticodeDigest(other, 'sha1')), oid: OID_SHA1 },
      { digest: oracleDigest, oid: OID_SHA256 },
    ]);
    const cat = new Uint8Array(readFileSync(catPath));
    const parsed = parseCatalog(cat);
    assert.deepEqual(
      parsed.members.map((m) => [m.digest.algorithm, hex(m.digest.digest)]),
      [
        ['sha1', hex(authenticodeDigest(other, 'sha1'))],
        ['sha256', oracleDigest],
      ],
    );
    assert.equal(Buffer.from(parsed.members[1]!.tag).toString('utf16le'), oracleDigest);

    const drvPath = join(t.dir, 'catdrv.sys');
    writeFileSync(drvPath, driver);
    const o = runStatus('osslsigncode', [
      'verify',
      '-CAfile',
      keys.caPem,
      '-catalog',
      catPath,
      '-in',
      drvPath,
    ]);
    assert.equal(o.status, 0, o.stdout + o.stderr);

    const v = verifyAuthenticode(driver, { catalogs: [cat], roots: [ca] });
    assert.equal(v.source, 'catalog');
    assert.equal(v.trusted, true, v.reasons.join('; '));
    assert.equal(v.rootSubject, '/CN=winrescue test CA');
    const noRoot = verifyAuthenticode(driver, { catalogs: [cat] });
    assert.equal(noRoot.source, 'catalog');
    assert.equal(noRoot.signatureValid, true);
    assert.equal(noRoot.trusted, false);
    // The sha1 member matches too.
    assert.equal(verifyAuthenticode(other, { catalogs: [cat], roots: [ca] }).trusted, true);

    // A changed driver is no member, for osslsigncode and for us.
    const changed = driver.slice();
    changed[0x300] = changed[0x300]! ^ 1;
    writeFileSync(drvPath, changed);
    const oc = runStatus('osslsigncode', [
      'verify',
      '-CAfile',
      keys.caPem,
      '-catalog',
      catPath,
      '-in',
      drvPath,
    ]);
    assert.notEqual(oc.status, 0);
    const vc = verifyAuthenticode(changed, { catalogs: [cat], roots: [ca] });
    assert.equal(vc.signed, false);
    assert.equal(vc.trusted, false);

    // A catalog whose listed digest was altered after signing: signature no longer holds.
    const tampered = cat.slice();
    const at = Buffer.from(cat).indexOf(Buffer.from(oracleDigest, 'hex'));
    tampered[at] = tampered[at]! ^ 0xff;
    const changedDigest = hex(tampered.subarray(at, at + 32));
    assert.notEqual(changedDigest, oracleDigest);
    const vt = verifyAuthenticode(driver, { catalogs: [tampered], roots: [ca] });
    assert.equal(vt.trusted, false);
    assert.equal(vt.signed, false); // its digest is no longer listed
    // Altered elsewhere (the list identifier): still listed, but the catalog's signature no longer holds.
    const relisted = cat.slice();
    const lid = Buffer.from(cat).indexOf(Buffer.from('0102030405060708', 'hex'));
    assert.ok(lid > 0);
    relisted[lid] = 0x7f;
    const vr = verifyAuthenticode(driver, { catalogs: [relisted], roots: [ca] });
    assert.equal(vr.source, 'catalog');
    assert.equal(vr.signatureValid, false);
    assert.equal(vr.trusted, false);
    const catPath2 = join(t.dir, 'relisted.cat');
    writeFileSync(catPath2, relisted);
    writeFileSync(drvPath, driver);
    const or = runStatus('osslsigncode', [
      'verify',
      '-CAfile',
      keys.caPem,
      '-catalog',
      catPath2,
      '-in',
      drvPath,
    ]);
    assert.notEqual(or.status, 0, 'osslsigncode rejects the altered catalog too');
    const forged = parseCatalog(tampered);
    assert.equal(hex(forged.members[1]!.digest.digest), changedDigest);
  } finally {
    t.cleanup();
  }
});

test('garbage catalogs are reported as pe.badSignature, and verification carries on', () => {
  const driver = buildPe({ name: 'g.sys', kind: 'driver', version: '1.0.0.0' });
  for (const bad of [
    new Uint8Array(0),
    new Uint8Array([0x30, 0x03, 1, 2, 3]),
    new TextEncoder().encode('no'),
  ]) {
    assert.throws(
      () => parseCatalog(bad),
      (e) => isWinrescueError(e) && e.code === 'pe.badSignature',
    );
    const v = verifyAuthenticode(driver, { catalogs: [bad] });
    assert.equal(v.trusted, false);
    assert.ok(
      v.reasons.some((r) => r.includes('catalog unreadable')),
      v.reasons.join('; '),
    );
  }
});

test('fuzz: 300 mutations of an embedded signature give verdicts or WinrescueError, never another exception', () => {
  const keys = ensureSigningKeys(FIXTURES_DIR);
  const ca = new Uint8Array(readFileSync(keys.caPem));
  const t = tempDir('winrescue-pe-fuzz-');
  try {
    const signed = signPe(buildPe({ name: 'fz.sys', kind: 'driver', version: '3.1.4.1' }), keys, t.dir);
    const table = certificateTableRange(signed)!;
    let rejected = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(table.size - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (edits) => {
          const b = signed.slice();
          for (const [pos, v] of edits) b[table.offset + pos] = v;
          try {
            const v = verifyAuthenticode(b, { roots: [ca] });
            if (!v.trusted) rejected++;
            // Some bytes are not covered by any signature (unsigned attributes, padding, a certificate's own
            // unused fields): a trusted verdict must still rest on a matching digest.
            if (v.trusted) assert.equal(v.digestMatches, true);
          } catch (e) {
            assert.ok(isWinrescueError(e), `non-typed error: ${String(e)}`);
            rejected++;
          }
        },
      ),
      { numRuns: 300 },
    );
    assert.ok(rejected > 150, `most mutations are rejected (${rejected}/300)`);
  } finally {
    t.cleanup();
  }
});
