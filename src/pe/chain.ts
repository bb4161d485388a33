// Signature checks and chain building for Authenticode signers, after RFC 5652 §5.4–5.6 (signed attributes, signature
// over their DER SET OF) and RFC 5280 §6.1 reduced to what code integrity relies on: each certificate issued (by name
// and by signature) by the next, ending at a trust anchor. Cryptography through node:crypto (OpenSSL).
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { badSignature } from './signed-data.js';

/** Deepest chain we follow: Microsoft's are 3 long; anything deeper than this is a loop or garbage. */
const MAX_CHAIN = 8;

const SIGNATURE_HASH: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'md5',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

const NAME_KEYS: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.25': 'DC',
};

/** "/C=US/O=Microsoft Corporation/CN=..." like openssl's -nameopt compat (as osslsigncode prints). */
export function nameToString(n: pkijs.RelativeDistinguishedNames): string {
  return n.typesAndValues
    .map((t) => `/${NAME_KEYS[t.type] ?? t.type}=${String(t.value.valueBlock.value)}`)
    .join('');
}

function der(c: pkijs.Certificate): Uint8Array {
  return new Uint8Array(c.toSchema().toBER(false));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function publicKeyOf(c: pkijs.Certificate): KeyObject {
  return createPublicKey({
    key: Buffer.from(c.subjectPublicKeyInfo.toSchema().toBER(false)),
    format: 'der',
    type: 'spki',
  });
}

/** Whether `issuer`'s key made `cert`'s signature (name match checked separately). */
export function issuedBy(cert: pkijs.Certificate, issuer: pkijs.Certificate): boolean {
  if (!cert.issuer.isEqual(issuer.subject)) return false;
  const hash = SIGNATURE_HASH[cert.signatureAlgorithm.algorithmId];
  if (!hash) return false;
  try {
    return cryptoVerify(hash, cert.tbsView, publicKeyOf(issuer), cert.signatureValue.valueBlock.valueHexView);
  } catch {
    return false;
  }
}

/** Signature of a SignerInfo over its signed attributes, with the signer certificate's key. */
export function signerSignatureValid(
  signedAttributes: Uint8Array,
  signature: Uint8Array,
  hash: string,
  cert: pkijs.Certificate,
): boolean {
  try {
    return cryptoVerify(hash, signedAttributes, publicKeyOf(cert), signature);
  } catch {
    return false;
  }
}

/** The certificate a SignerInfo names by issuer and serial number. */
export function findSignerCertificate(
  signer: pkijs.SignerInfo,
  certs: readonly pkijs.Certificate[],
): pkijs.Certificate | null {
  const sid = signer.sid as unknown;
  if (!(sid instanceof pkijs.IssuerAndSerialNumber)) return null;
  return certs.find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber)) ?? null;
}

export interface ChainResult {
  readonly valid: boolean;
  /** Subjects from the signer up to the root. */
  readonly path: readonly string[];
  readonly root: string | null;
  readonly reasons: readonly string[];
  /** Certificates in the path whose validity period does not include `at` (reported, not fatal). */
  readonly outsideValidity: readonly string[];
}

/**
 * The chain from `leaf` through `intermediates` to one of `roots`. A root counts when it is the certificate
 * itself (same DER) or issued the last certificate (name + signature).
 */
export function buildChain(
  leaf: pkijs.Certificate,
  intermediates: readonly pkijs.Certificate[],
  roots: readonly pkijs.Certificate[],
  at: Date | null,
): ChainResult {
  const path: string[] = [];
  const outside: string[] = [];
  const rootDer = roots.map(der);
  let cur = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const subject = nameToString(cur.subject);
    path.push(subject);
    if (at && (at < cur.notBefore.value || at > cur.notAfter.value)) outside.push(subject);
    const curDer = der(cur);
    if (rootDer.some((r) => sameBytes(r, curDer))) {
      return { valid: true, path, root: subject, reasons: [], outsideValidity: outside };
    }
    const root = roots.find((r) => issuedBy(cur, r));
    if (root) {
      const rs = nameToString(root.subject);
      path.push(rs);
      return { valid: true, path, root: rs, reasons: [], outsideValidity: outside };
    }
    const next = intermediates.find((c) => c !== cur && issuedBy(cur, c));
    if (!next || next.issuer.isEqual(next.subject)) {
      const why = next
        ? `chain ends at ${nameToString(next.subject)}, which is not a trusted root`
        : `no certificate issued ${subject} (issuer ${nameToString(cur.issuer)} is not among the embedded certificates or trusted roots)`;
      return { valid: false, path, root: null, reasons: [why], outsideValidity: outside };
    }
    cur = next;
  }
  return {
    valid: false,
    path,
    root: null,
    reasons: ['certificate chain too deep'],
    outsideValidity: outside,
  };
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** Certificates from PEM text (one or more blocks) or a single DER certificate. */
export function parseCertificates(bytes: Uint8Array): pkijs.Certificate[] {
  const text = new TextDecoder('latin1').decode(bytes);
  const blocks = [...text.matchAll(PEM_BLOCK)].map((m) => new Uint8Array(Buffer.from(m[1]!, 'base64')));
  const ders = blocks.length ? blocks : [bytes];
  return ders.map((d) => {
    const asn = asn1js.fromBER(d.slice().buffer);
    if (asn.offset === -1) throw badSignature('certificate is neither PEM nor DER');
    try {
      return new pkijs.Certificate({ schema: asn.result });
    } catch (e) {
      throw badSignature(`not an X.509 certificate: ${(e as Error).message}`, e);
    }
  });
}
