// One boot file judged the way the boot path would judge it, in the loader's order: reach it through NTFS
// (else 0xC0000102), load it as an image (else 0xC000007B), check its checksum (else 0xC0000221), its machine
// (else 0xC0000359), and its Authenticode signature (else 0xC0000428). REFERENCE.md §1.5 names the codes;
// the PE and Authenticode rules are in docs/formats/pe.md.
import { createHash } from 'node:crypto';
import { isWinrescueError } from '../../errors.js';
import { Hive } from '../../registry/hive.js';
import type { Catalog } from '../../pe/catalog.js';
import { checkPe, parsePe, verifyAuthenticode, versionInfo, type PeFinding } from '../../pe/index.js';
import type { BootFile } from '../../windows/boot-files.js';
import type { Reach, StructureFault } from './reach.js';

/** Where boot files are read from: the Windows volume (NTFS), the System Reserved volume or the ESP (FAT). */
export interface FileSource {
  readonly label: string;
  reach(path: string): Promise<Reach>;
}

export type FileVerdict =
  | 'ok'
  | 'missing'
  | 'unsupported' // stored in a way we cannot read (WOF-compressed): no verdict
  | 'corrupt-structure'
  | 'corrupt-file'
  | 'signature';

export interface SignatureEvidence {
  readonly signed: boolean;
  readonly source: 'embedded' | 'catalog' | null;
  readonly trusted: boolean;
  readonly digestMatches: boolean;
  readonly signer: string | null;
  readonly root: string | null;
  readonly reasons: readonly string[];
}

export interface FileEvidence extends BootFile {
  readonly verdict: FileVerdict;
  /** The stop code this damage makes the boot fail with, as the loader reports it; null when fine. */
  readonly stopCode: number | null;
  readonly record: number | null;
  /** Every name of the record: a System32 driver and its WinSxS twin share it. */
  readonly names: readonly string[];
  readonly size: number | null;
  readonly sha256: string | null;
  readonly version: string | null;
  /** IMAGE_FILE_MACHINE of a valid image (0x8664 x64, 0x14c x86). */
  readonly machine?: number;
  readonly structure?: StructureFault;
  readonly pe?: readonly PeFinding[];
  readonly signature?: SignatureEvidence;
  /** One sentence a person can act on. */
  readonly evidence: string;
}

export interface TrustContext {
  /** --trust-root certificates (PEM or DER). */
  readonly roots: readonly Uint8Array[];
  /** The catalogs of System32\CatRoot, loaded on first need (most boot files carry an embedded signature). */
  readonly catalogs: () => Promise<readonly Catalog[]>;
}

const STATUS_FILE_CORRUPT_ERROR = 0xc0000102;
const STATUS_INVALID_IMAGE_FORMAT = 0xc000007b;
const STATUS_IMAGE_CHECKSUM_MISMATCH = 0xc0000221;
const STATUS_INVALID_IMAGE_HASH = 0xc0000428;
const STATUS_INVALID_IMAGE_WIN_32 = 0xc0000359;
const STATUS_NO_SUCH_FILE = 0xc000000f;
const STATUS_REGISTRY_CORRUPT = 0xc000014c;

/** Files the loader reads as images; the hive and the NLS tables are data. */
function isImage(f: BootFile): boolean {
  return f.role !== 'nls' && f.role !== 'system-hive' && /\.(sys|dll|exe|efi)$/i.test(f.path);
}

function allZero(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

function describeSignature(s: SignatureEvidence): string {
  if (!s.signed) return 'it carries no Authenticode signature and no catalog on the disk lists it';
  if (!s.digestMatches)
    return `its content no longer matches the digest its ${s.source} signature vouches for`;
  if (!s.trusted)
    return `its ${s.source} signature by ${s.signer ?? 'an unknown signer'} does not chain to a trusted root${s.root ? ` (ends at ${s.root}; name it with --trust-root if you trust it)` : ''}: ${s.reasons[0] ?? ''}`;
  return `signed (${s.source}) by ${s.signer ?? '?'}`;
}

async function signatureOf(bytes: Uint8Array, trust: TrustContext): Promise<SignatureEvidence> {
  const verify = (catalogs: readonly Catalog[]) =>
    verifyAuthenticode(bytes, { roots: trust.roots, catalogs: [...catalogs] });
  let v = verify([]);
  // The embedded signature decides when it is trusted; otherwise a catalog may still vouch for the digest.
  if (!v.trusted) {
    const catalogs = await trust.catalogs();
    if (catalogs.length > 0) v = verify(catalogs);
  }
  return {
    signed: v.signed,
    source: v.source,
    trusted: v.trusted,
    digestMatches: v.digestMatches,
    signer: v.signerSubject,
    root: v.rootSubject,
    reasons: v.reasons,
  };
}

function machineName(m: number): string {
  return m === 0x8664 ? 'x64' : m === 0x14c ? 'x86' : m === 0xaa64 ? 'ARM64' : `0x${m.toString(16)}`;
}

export async function examineFile(
  source: FileSource,
  file: BootFile,
  trust: TrustContext,
): Promise<FileEvidence> {
  const reach = await source.reach(file.path);
  const none = { record: null, names: [], size: null, sha256: null, version: null } as const;
  if (reach.status === 'missing') {
    return {
      ...file,
      ...none,
      verdict: 'missing',
      stopCode: file.optional ? null : STATUS_NO_SUCH_FILE,
      evidence: `not on the volume (${reach.detail})`,
    };
  }
  if (reach.status === 'unsupported') {
    return {
      ...file,
      ...none,
      record: reach.record,
      verdict: 'unsupported',
      stopCode: null,
      evidence: `cannot be judged: ${reach.detail}`,
    };
  }
  if (reach.status === 'structure') {
    const f = reach.fault;
    return {
      ...file,
      ...none,
      record: f.record,
      names: reach.names,
      verdict: 'corrupt-structure',
      stopCode: STATUS_FILE_CORRUPT_ERROR,
      structure: f,
      evidence: `NTFS cannot read it: ${f.kind} in MFT record ${f.record ?? '?'} (${f.detail})`,
    };
  }
  const bytes = reach.bytes;
  const base = {
    ...file,
    record: reach.record,
    names: reach.names,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  if (!isImage(file)) return { ...base, ...dataVerdict(file, bytes) };
  const pe = checkPe(bytes);
  let version: string | null = null;
  try {
    version = pe.length === 0 ? (versionInfo(bytes)?.fileVersion ?? null) : null;
  } catch (e) {
    if (!isWinrescueError(e)) throw e;
  }
  const content = pe.filter((p) => p.problem !== 'checksumMismatch');
  if (content.length > 0) {
    return {
      ...base,
      version,
      verdict: 'corrupt-file',
      stopCode: STATUS_INVALID_IMAGE_FORMAT,
      pe,
      evidence: `readable, but not a valid image: ${content.map((p) => p.detail).join('; ')}`,
    };
  }
  if (pe.length > 0) {
    return {
      ...base,
      version,
      verdict: 'corrupt-file',
      stopCode: STATUS_IMAGE_CHECKSUM_MISMATCH,
      pe,
      evidence: `readable, but its content changed: ${pe.map((p) => p.detail).join('; ')}`,
    };
  }
  const machine = parsePe(bytes).machine;
  // The boot manager and the UEFI loader check firmware-side; winload checks everything it loads.
  const signature = await signatureOf(bytes, trust);
  if (!signature.trusted) {
    return {
      ...base,
      version,
      machine,
      verdict: 'signature',
      stopCode: STATUS_INVALID_IMAGE_HASH,
      pe,
      signature,
      evidence: `intact image, but ${describeSignature(signature)}`,
    };
  }
  return {
    ...base,
    version,
    machine,
    verdict: 'ok',
    stopCode: null,
    pe,
    signature,
    evidence: `reachable, valid image${version ? ` ${version}` : ''}, ${describeSignature(signature)}`,
  };
}

/** The hive must open; an NLS table must not be empty or wiped. */
function dataVerdict(
  file: BootFile,
  bytes: Uint8Array,
): { verdict: FileVerdict; stopCode: number | null; version: null; evidence: string } {
  if (file.role === 'system-hive') {
    try {
      new Hive(bytes);
      return { verdict: 'ok', stopCode: null, version: null, evidence: 'reachable, regf base block valid' };
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      return {
        verdict: 'corrupt-file',
        stopCode: STATUS_REGISTRY_CORRUPT,
        version: null,
        evidence: `readable, but not a valid hive: ${e.message}`,
      };
    }
  }
  if (bytes.length === 0 || allZero(bytes)) {
    return {
      verdict: 'corrupt-file',
      stopCode: STATUS_FILE_CORRUPT_ERROR,
      version: null,
      evidence: bytes.length === 0 ? 'empty' : `all ${bytes.length} bytes are zero`,
    };
  }
  return { verdict: 'ok', stopCode: null, version: null, evidence: 'reachable' };
}

/**
 * A 32-bit image on a 64-bit boot path (or the reverse) stops the boot with 0xC0000359. The reference is the
 * kernel's own machine when it is a valid image, else the hive's PROCESSOR_ARCHITECTURE: a hive and a kernel
 * that disagree leave the kernel to decide what the loader will accept.
 */
export function checkMachines<T extends FileEvidence>(files: readonly T[], hiveMachine: number | null): T[] {
  const kernel = files.find((f) => f.role === 'kernel' && /ntoskrnl\.exe$/i.test(f.path));
  const reference = kernel?.machine ?? hiveMachine;
  if (reference === null || reference === undefined) return [...files];
  return files.map((f) =>
    f.verdict === 'ok' && f.machine !== undefined && f.machine !== reference
      ? {
          ...f,
          verdict: 'corrupt-file' as const,
          stopCode: STATUS_INVALID_IMAGE_WIN_32,
          evidence: `built for ${machineName(f.machine)}, the ${kernel?.machine !== undefined ? 'kernel' : 'install'} is ${machineName(reference)}`,
        }
      : f,
  );
}
