// Authenticode verification: the image digest against the signed one (embedded signature or catalog member), the
// PKCS#7 signature over the signed attributes, and the signer chain up to a trusted root. Formats in
// signed-data.ts, catalog.ts; trust in chain.ts. Verdicts, not exceptions: unparsable signatures become reasons.
import { createHash } from 'node:crypto';
import type * as pkijs from 'pkijs';
import { isWinrescueError } from '../errors.js';
import { authenticodeDigest, type DigestAlgorithm } from './authenticode-digest.js';
import { readCertificateTable, WIN_CERT_TYPE_PKCS_SIGNED_DATA } from './certificate-table.js';
import { findMember, parseCatalog, type Catalog } from './catalog.js';
import {
  buildChain,
  findSignerCertificate,
  nameToString,
  parseCertificates,
  signerSignatureValid,
} from './chain.js';
import { MICROSOFT_ROOTS } from './microsoft-roots.js';
import {
  OID_SPC_INDIRECT_DATA,
  badSignature,
  berParse,
  parseIndirectData,
  parseSignedData,
  type IndirectDigest,
  type ParsedSignedData,
} from './signed-data.js';

export interface EmbeddedSignature {
  readonly signedData: ParsedSignedData;
  /** The digest and algorithm inside SpcIndirectDataContent. */
  readonly indirect: IndirectDigest;
  readonly certificates: readonly pkijs.Certificate[];
}

/** The first PKCS#7 Authenticode signature in the certificate table, or null when the image has none. */
export function readEmbeddedSignature(bytes: Uint8Array): EmbeddedSignature | null {
  const entry = readCertificateTable(bytes).find((c) => c.type === WIN_CERT_TYPE_PKCS_SIGNED_DATA);
  if (!entry) return null;
  const signedData = parseSignedData(entry.data);
  if (signedData.contentType !== OID_SPC_INDIRECT_DATA) {
    throw badSignature(`content type ${signedData.contentType} is not SpcIndirectDataContent`);
  }
  const indirect = parseIndirectData(berParse(signedData.content, 'SpcIndirectDataContent'));
  return { signedData, indirect, certificates: signedData.certificates };
}

export interface VerifyOptions {
  /** Extra trust anchors (PEM or DER bytes), e.g. from --trust-root. */
  readonly roots?: readonly Uint8Array[];
  /** Trust Microsoft's embedded roots; default true. */
  readonly microsoftRoots?: boolean;
  /**
   * Catalogs (.cat bytes, or parsed once with `parseCatalog` when many files are checked) to look the image digest
   * up in when it has no valid embedded signature.
   */
  readonly catalogs?: readonly (Uint8Array | Catalog)[];
  /** Time the validity periods are reported against (notes only, never fatal); default now. */
  readonly at?: Date;
}

export interface AuthenticodeVerdict {
  /** An embedded signature or a catalog member was found for this image. */
  readonly signed: boolean;
  readonly source: 'embedded' | 'catalog' | null;
  readonly algorithm: DigestAlgorithm | null;
  /** Hex of our digest and of the signed one. */
  readonly computedDigest: string | null;
  readonly signedDigest: string | null;
  readonly digestMatches: boolean;
  /** messageDigest attribute matches the content, and the signer's signature over the attributes verifies. */
  readonly signatureValid: boolean;
  readonly chainValid: boolean;
  readonly signerSubject: string | null;
  readonly rootSubject: string | null;
  readonly chain: readonly string[];
  /** All of the above: what code integrity would accept. */
  readonly trusted: boolean;
  readonly reasons: readonly string[];
  /** Not fatal: certificates outside their validity at the time of checking (kernel CI does not enforce it). */
  readonly notes: readonly string[];
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

let microsoftAnchors: pkijs.Certificate[] | null = null;

function trustAnchors(o: VerifyOptions): pkijs.Certificate[] {
  const out: pkijs.Certificate[] = [];
  if (o.microsoftRoots !== false) {
    microsoftAnchors ??= MICROSOFT_ROOTS.flatMap((r) => parseCertificates(new TextEncoder().encode(r.pem)));
    out.push(...microsoftAnchors);
  }
  for (const r of o.roots ?? []) out.push(...parseCertificates(r));
  return out;
}

interface SignerCheck {
  signatureValid: boolean;
  chainValid: boolean;
  signer: string | null;
  root: string | null;
  chain: string[];
  reasons: string[];
  notes: string[];
}

/** The PKCS#7 layer shared by embedded signatures and catalogs. */
function checkSigner(sd: ParsedSignedData, anchors: pkijs.Certificate[], at: Date): SignerCheck {
  const reasons: string[] = [];
  const notes: string[] = [];
  const cert = findSignerCertificate(sd.signer, sd.certificates);
  if (!cert) {
    return {
      signatureValid: false,
      chainValid: false,
      signer: null,
      root: null,
      chain: [],
      reasons: ['signer certificate not embedded'],
      notes,
    };
  }
  let signatureValid = false;
  const alg = sd.signerDigestAlgorithm;
  if (!sd.signedAttributes || !sd.messageDigest || !alg) {
    reasons.push('signer has no signed attributes, messageDigest or known digest algorithm');
  } else {
    const contentHash = new Uint8Array(createHash(alg).update(sd.digestedContent).digest());
    const attrsOk = Buffer.from(contentHash).equals(Buffer.from(sd.messageDigest));
    if (!attrsOk) reasons.push('messageDigest attribute does not match the signed content');
    const sigOk = signerSignatureValid(
      sd.signedAttributes,
      sd.signer.signature.valueBlock.valueHexView,
      alg,
      cert,
    );
    if (!sigOk) reasons.push('signature over the signed attributes does not verify with the signer key');
    signatureValid = attrsOk && sigOk;
  }
  const chain = buildChain(cert, sd.certificates, anchors, at);
  reasons.push(...chain.reasons);
  if (chain.outsideValidity.length)
    notes.push(`outside validity period at ${at.toISOString()}: ${chain.outsideValidity.join('; ')}`);
  return {
    signatureValid,
    chainValid: chain.valid,
    signer: nameToString(cert.subject),
    root: chain.root,
    chain: [...chain.path],
    reasons,
    notes,
  };
}

function unsigned(reasons: string[], computed: string | null): AuthenticodeVerdict {
  return {
    signed: false,
    source: null,
    algorithm: null,
    computedDigest: computed,
    signedDigest: null,
    digestMatches: false,
    signatureValid: false,
    chainValid: false,
    signerSubject: null,
    rootSubject: null,
    chain: [],
    trusted: false,
    reasons,
    notes: [],
  };
}

/** Verdict on an image's Authenticode signature. Throws only for non-PE input (`pe.badImage`). */
export function verifyAuthenticode(bytes: Uint8Array, options: VerifyOptions = {}): AuthenticodeVerdict {
  const anchors = trustAnchors(options);
  let embedded: EmbeddedSignature | null = null;
  const reasons: string[] = [];
  try {
    embedded = readEmbeddedSignature(bytes);
  } catch (e) {
    if (!isWinrescueError(e) || e.code === 'pe.badImage') throw e;
    reasons.push(`embedded signature unreadable: ${e.message}`);
  }
  let embeddedVerdict: AuthenticodeVerdict | null = null;
  if (embedded) {
    const alg = embedded.indirect.algorithm;
    const computed = alg ? authenticodeDigest(bytes, alg) : null;
    const digestMatches =
      computed !== null && Buffer.from(computed).equals(Buffer.from(embedded.indirect.digest));
    const s = checkSigner(embedded.signedData, anchors, options.at ?? new Date());
    const r = [...s.reasons];
    if (!alg) r.unshift(`unknown digest algorithm ${embedded.indirect.algorithmOid}`);
    else if (!digestMatches)
      r.unshift('image digest does not match the signed digest (the file changed after signing)');
    embeddedVerdict = {
      signed: true,
      source: 'embedded',
      algorithm: alg,
      computedDigest: computed ? hexOf(computed) : null,
      signedDigest: hexOf(embedded.indirect.digest),
      digestMatches,
      signatureValid: s.signatureValid,
      chainValid: s.chainValid,
      signerSubject: s.signer,
      rootSubject: s.root,
      chain: s.chain,
      trusted: digestMatches && s.signatureValid && s.chainValid,
      reasons: r,
      notes: s.notes,
    };
    if (embeddedVerdict.trusted) return embeddedVerdict;
  }
  // Catalog members hash the same image bytes: compute each algorithm once for all catalogs.
  const digests = options.catalogs?.length
    ? (['sha256', 'sha1'] as const).map((a) => [a, authenticodeDigest(bytes, a)] as const)
    : [];
  for (const catBytes of options.catalogs ?? []) {
    let v: AuthenticodeVerdict | null;
    try {
      v = catalogVerdict(digests, catBytes, anchors, options.at ?? new Date());
    } catch (e) {
      if (!isWinrescueError(e) || e.code === 'pe.badImage') throw e;
      reasons.push(`catalog unreadable: ${e.message}`);
      continue;
    }
    if (v?.trusted) return v;
    if (v && !embeddedVerdict) embeddedVerdict = v;
  }
  if (embeddedVerdict) return { ...embeddedVerdict, reasons: [...embeddedVerdict.reasons, ...reasons] };
  return unsigned(
    ['no embedded signature and no catalog lists its digest', ...reasons],
    hexOf(authenticodeDigest(bytes, 'sha256')),
  );
}

function catalogVerdict(
  digests: readonly (readonly [DigestAlgorithm, Uint8Array])[],
  catBytes: Uint8Array | Catalog,
  anchors: pkijs.Certificate[],
  at: Date,
): AuthenticodeVerdict | null {
  const cat = catBytes instanceof Uint8Array ? parseCatalog(catBytes) : catBytes;
  for (const [alg, d] of digests) {
    const m = findMember(cat, d);
    if (!m) continue;
    const s = checkSigner(cat.signedData, anchors, at);
    return {
      signed: true,
      source: 'catalog',
      algorithm: alg,
      computedDigest: hexOf(d),
      signedDigest: hexOf(m.digest.digest),
      digestMatches: true,
      signatureValid: s.signatureValid,
      chainValid: s.chainValid,
      signerSubject: s.signer,
      rootSubject: s.root,
      chain: s.chain,
      trusted: s.signatureValid && s.chainValid,
      reasons: s.reasons,
      notes: s.notes,
    };
  }
  return null;
}
