// osslsigncode as the independent oracle: its digests, checksum and verdict parsed from `verify` output.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStatus } from '../helpers/tools.js';

export interface OsslVerify {
  readonly status: number;
  readonly output: string;
  readonly algorithm: string | null;
  /** "Current message digest": the one inside the signature. */
  readonly signedDigest: string | null;
  /** "Calculated message digest": osslsigncode's own Authenticode digest of the file. */
  readonly calculatedDigest: string | null;
  /** "Calculated PE checksum" (printed only when it differs from the stored one), else the stored "PE checksum". */
  readonly checksum: number | null;
  readonly storedChecksum: number | null;
  readonly noSignature: boolean;
}

export function osslVerify(path: string, caFile?: string): OsslVerify {
  const args = ['verify', ...(caFile ? ['-CAfile', caFile] : []), '-in', path];
  const r = runStatus('osslsigncode', args);
  const output = r.stdout + r.stderr;
  const m = (re: RegExp): string | null => re.exec(output)?.[1] ?? null;
  const stored = m(/(?:Current )?PE checksum\s*:\s*([0-9A-F]{8})/);
  const calculated = m(/Calculated PE checksum\s*:\s*([0-9A-F]{8})/);
  return {
    status: r.status,
    output,
    algorithm: m(/Message digest algorithm\s+:\s*(\S+)/),
    signedDigest: m(/Current message digest\s*:\s*([0-9A-F]+)/),
    calculatedDigest: m(/Calculated message digest\s*:\s*([0-9A-F]+)/),
    checksum: calculated ? parseInt(calculated, 16) : stored ? parseInt(stored, 16) : null,
    storedChecksum: stored ? parseInt(stored, 16) : null,
    noSignature: /No signature found/.test(output),
  };
}

export function osslVerifyBytes(bytes: Uint8Array, dir: string, name: string, caFile?: string): OsslVerify {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return osslVerify(p, caFile);
}
