// PE integrity and Authenticode: pure functions, bytes in, verdicts out.
export { parsePe, rvaToOffset, type PeHeaders, type SectionHeader, type DataDirectory } from './headers.js';
export { peChecksum } from './checksum.js';
export { checkPe, type PeFinding, type PeProblem } from './check.js';
export { authenticodeDigest, certificateTableRange, type DigestAlgorithm } from './authenticode-digest.js';
export { readCertificateTable, type WinCertificate } from './certificate-table.js';
export { parseSignedData, type ParsedSignedData, type IndirectDigest } from './signed-data.js';
export { parseCertificates, nameToString } from './chain.js';
export { MICROSOFT_ROOTS, type EmbeddedRoot } from './microsoft-roots.js';
export { parseCatalog, findMember, type Catalog, type CatalogMember } from './catalog.js';
export {
  readEmbeddedSignature,
  verifyAuthenticode,
  type EmbeddedSignature,
  type VerifyOptions,
  type AuthenticodeVerdict,
} from './verify.js';
export { versionInfo, type VersionInfo } from './version.js';
