// Security catalogs (.cat in System32\CatRoot): a PKCS#7 SignedData whose content (type 1.3.6.1.4.1.311.10.1) is a
// CertificateTrustList — SEQUENCE { subjectUsage, listIdentifier?, sequenceNumber?, thisUpdate, subjectAlgorithm,
// subjects SEQUENCE OF TrustedSubject { subjectIdentifier OCTET STRING, attributes SET OF Attribute } ... } — as
// described by Microsoft's "Windows Authenticode PE Signature Format" appendix on catalogs and the CTL ASN.1 in
// wincrypt (szOID_CTL). A member's SPC_INDIRECT_DATA attribute carries the Authenticode digest of the file.
import * as asn1js from 'asn1js';
import { timingSafeEqual } from 'node:crypto';
import {
  OID_CTL,
  OID_SPC_INDIRECT_DATA,
  badSignature,
  berParse,
  parseIndirectData,
  parseSignedData,
  type IndirectDigest,
  type ParsedSignedData,
} from './signed-data.js';

export interface CatalogMember {
  /** The member's subjectIdentifier (for hashed members: the digest as hex text). */
  readonly tag: Uint8Array;
  readonly digest: IndirectDigest;
}

export interface Catalog {
  readonly signedData: ParsedSignedData;
  readonly members: readonly CatalogMember[];
}

function seqItems(n: asn1js.AsnType | undefined): asn1js.AsnType[] {
  if (n instanceof asn1js.Sequence || n instanceof asn1js.Set) return n.valueBlock.value;
  return [];
}

/** Parses a catalog file; throws `pe.badSignature` when it is not a CTL in SignedData. */
export function parseCatalog(bytes: Uint8Array): Catalog {
  const signedData = parseSignedData(bytes);
  if (signedData.contentType !== OID_CTL) {
    throw badSignature(`catalog content type ${signedData.contentType} is not a certificate trust list`);
  }
  const ctl = seqItems(berParse(signedData.content, 'certificate trust list'));
  // subjects is the only SEQUENCE OF SEQUENCE whose items pair an OCTET STRING with a SET.
  const members: CatalogMember[] = [];
  for (const field of ctl) {
    for (const subject of seqItems(field)) {
      const [id, attrs] = seqItems(subject);
      if (!(id instanceof asn1js.OctetString) || !(attrs instanceof asn1js.Set)) continue;
      for (const attr of seqItems(attrs)) {
        const [type, values] = seqItems(attr);
        if (
          !(type instanceof asn1js.ObjectIdentifier) ||
          type.valueBlock.toString() !== OID_SPC_INDIRECT_DATA
        ) {
          continue;
        }
        const value = seqItems(values)[0];
        if (value) {
          members.push({ tag: new Uint8Array(id.valueBlock.valueHexView), digest: parseIndirectData(value) });
        }
      }
    }
  }
  return { signedData, members };
}

/** The member whose digest equals `digest`, if any. */
export function findMember(catalog: Catalog, digest: Uint8Array): CatalogMember | null {
  return (
    catalog.members.find(
      (m) => m.digest.digest.length === digest.length && timingSafeEqual(m.digest.digest, digest),
    ) ?? null
  );
}
