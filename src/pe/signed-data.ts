// Authenticode's PKCS#7 SignedData (RFC 5652 §5) and SpcIndirectDataContent, after Microsoft's "Windows Authenticode
// Portable Executable Signature Format" §"Authenticode-Specific Structures": the encapsulated content
// (type 1.3.6.1.4.1.311.2.1.4) carries the image digest; the signed attributes' messageDigest hashes that content's
// value (without its outer SEQUENCE header). Parsed with asn1js + pkijs.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { WinrescueError } from '../errors.js';
import type { DigestAlgorithm } from './authenticode-digest.js';

export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
export const OID_SPC_INDIRECT_DATA = '1.3.6.1.4.1.311.2.1.4';
export const OID_CTL = '1.3.6.1.4.1.311.10.1';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';

const DIGEST_OIDS: Readonly<Record<string, DigestAlgorithm>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '1.2.840.113549.2.5': 'md5',
};

export interface ParsedSignedData {
  readonly contentType: string;
  /** DER of the encapsulated content (the SpcIndirectDataContent or CTL SEQUENCE). */
  readonly content: Uint8Array;
  /**
   * What messageDigest covers: PKCS#7 v1.5 §9.3 hashes the content's contents octets — the value of the SEQUENCE
   * Authenticode and catalogs embed, or the bytes inside a CMS-style OCTET STRING.
   */
  readonly digestedContent: Uint8Array;
  readonly certificates: readonly pkijs.Certificate[];
  readonly signer: pkijs.SignerInfo;
  /** The signed attributes re-tagged as the SET OF the signature covers (RFC 5652 §5.4). */
  readonly signedAttributes: Uint8Array | null;
  /** The messageDigest signed attribute. */
  readonly messageDigest: Uint8Array | null;
  readonly signerDigestAlgorithm: DigestAlgorithm | null;
}

export function badSignature(message: string, cause?: unknown): WinrescueError {
  return new WinrescueError('pe.badSignature', message, { structure: 'pe.signedData', cause });
}

export function digestAlgorithmOf(oid: string): DigestAlgorithm | null {
  return DIGEST_OIDS[oid] ?? null;
}

function toBuffer(b: Uint8Array): ArrayBuffer {
  return b.slice().buffer;
}

export function berParse(b: Uint8Array, what: string): asn1js.AsnType {
  const r = asn1js.fromBER(toBuffer(b));
  if (r.offset === -1) throw badSignature(`${what}: not DER (${r.result.error})`);
  return r.result;
}

/** PKCS#7 ContentInfo holding SignedData → its parts; throws `pe.badSignature` on anything else. */
export function parseSignedData(der: Uint8Array): ParsedSignedData {
  let sd: pkijs.SignedData;
  try {
    const ci = new pkijs.ContentInfo({ schema: berParse(der, 'PKCS#7 ContentInfo') });
    if (ci.contentType !== OID_SIGNED_DATA)
      throw badSignature(`content type ${ci.contentType} is not SignedData`);
    sd = new pkijs.SignedData({ schema: ci.content });
  } catch (e) {
    if (e instanceof WinrescueError) throw e;
    throw badSignature(`PKCS#7 SignedData does not parse: ${(e as Error).message}`, e);
  }
  const eContent = sd.encapContentInfo.eContent as asn1js.AsnType | undefined;
  if (!eContent) throw badSignature('SignedData has no encapsulated content');
  // A CMS-style OCTET STRING wraps the DER; Authenticode and catalogs place the SEQUENCE itself.
  const wrapped = eContent instanceof asn1js.OctetString;
  const content = wrapped
    ? new Uint8Array(eContent.valueBlock.valueHexView)
    : new Uint8Array(eContent.toBER(false));
  const digestedContent = wrapped ? content : derValue(content);
  const signer = sd.signerInfos[0];
  if (!signer) throw badSignature('SignedData has no SignerInfo');
  const certificates = (sd.certificates ?? []).filter(
    (c): c is pkijs.Certificate => c instanceof pkijs.Certificate,
  );
  let signedAttributes: Uint8Array | null = null;
  let messageDigest: Uint8Array | null = null;
  if (signer.signedAttrs) {
    signedAttributes = new Uint8Array(signer.signedAttrs.encodedValue.slice(0));
    signedAttributes[0] = 0x31; // [0] IMPLICIT in SignerInfo, SET OF when signed
    for (const a of signer.signedAttrs.attributes) {
      const v = a.values[0];
      if (a.type === OID_MESSAGE_DIGEST && v instanceof asn1js.OctetString) {
        messageDigest = new Uint8Array(v.valueBlock.valueHexView);
      }
    }
  }
  return {
    contentType: sd.encapContentInfo.eContentType,
    content,
    digestedContent,
    certificates,
    signer,
    signedAttributes,
    messageDigest,
    signerDigestAlgorithm: digestAlgorithmOf(signer.digestAlgorithm.algorithmId),
  };
}

/** The value bytes of a DER TLV (what Authenticode's messageDigest covers for SpcIndirectDataContent). */
export function derValue(tlv: Uint8Array): Uint8Array {
  if (tlv.length < 2) throw badSignature('DER element too short');
  const first = tlv[1]!;
  if (first < 0x80) return tlv.subarray(2, 2 + first);
  const n = first & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (tlv[2 + i] ?? 0);
  return tlv.subarray(2 + n, 2 + n + len);
}

export interface IndirectDigest {
  readonly algorithm: DigestAlgorithm | null;
  readonly algorithmOid: string;
  readonly digest: Uint8Array;
}

/** SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue, messageDigest DigestInfo }. */
export function parseIndirectData(node: asn1js.AsnType): IndirectDigest {
  const seq = node instanceof asn1js.Sequence ? node.valueBlock.value : null;
  const digestInfo = seq?.[1];
  if (!(digestInfo instanceof asn1js.Sequence))
    throw badSignature('SpcIndirectDataContent has no DigestInfo');
  const [alg, digest] = digestInfo.valueBlock.value;
  const oid = alg instanceof asn1js.Sequence ? alg.valueBlock.value[0] : undefined;
  if (!(oid instanceof asn1js.ObjectIdentifier) || !(digest instanceof asn1js.OctetString)) {
    throw badSignature('DigestInfo is not { AlgorithmIdentifier, OCTET STRING }');
  }
  const algorithmOid = oid.valueBlock.toString();
  return {
    algorithm: digestAlgorithmOf(algorithmOid),
    algorithmOid,
    digest: new Uint8Array(digest.valueBlock.valueHexView),
  };
}
