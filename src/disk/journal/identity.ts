// A disk's identity as the undo journal records it (docs/formats/undo-journal.md, "Disk identity"): the size of the
// container FILE and SHA-256 of its first and last MiB. The file, not the virtual disk, is what undo restores.
import { createHash } from 'node:crypto';
import { IDENTITY_WINDOW, type DiskIdentity } from './format.js';

export interface Readable {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export async function computeIdentity(file: Readable): Promise<DiskIdentity> {
  const window = Math.min(IDENTITY_WINDOW, file.size);
  const head = window === 0 ? new Uint8Array(0) : await file.read(0, window);
  const tail = window === 0 ? new Uint8Array(0) : await file.read(file.size - window, window);
  return { size: file.size, window: IDENTITY_WINDOW, head: sha256(head), tail: sha256(tail) };
}

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

/** For messages: "8388608 bytes, head 1a2b3c4d…". */
export function describeIdentity(id: DiskIdentity): string {
  const short = (b: Uint8Array) => Buffer.from(b.subarray(0, 4)).toString('hex');
  return `${id.size} bytes, first MiB ${short(id.head)}…, last MiB ${short(id.tail)}…`;
}
