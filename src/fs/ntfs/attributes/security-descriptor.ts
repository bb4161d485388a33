// Self-relative security descriptors, as stored in $SECURITY_DESCRIPTOR (0x50) and in $Secure:$SDS:
// flatcap linux-ntfs ntfs/attributes/security_descriptor.html; [MS-DTYP] 2.4.6 SECURITY_DESCRIPTOR,
// 2.4.2 SID, 2.4.5 ACL, 2.4.4.1 ACE_HEADER; ntfs-3g layout.h SECURITY_DESCRIPTOR_RELATIVE.
import { WinrescueError } from '../../../errors.js';
import { u16, u32, u8 } from '../../../util/bytes.js';

const HEADER = 20;
const SE_DACL_PRESENT = 0x0004;
const SE_SACL_PRESENT = 0x0010;
const SE_SELF_RELATIVE = 0x8000;
const SID_HEADER = 8;
const ACL_HEADER = 8;
const ACE_HEADER = 4;

export interface Ace {
  readonly type: number;
  readonly flags: number;
  readonly mask: number;
  readonly sid: string | null;
}

export interface SecurityDescriptor {
  readonly revision: number;
  readonly control: number;
  readonly owner: string | null;
  readonly group: string | null;
  readonly dacl: readonly Ace[] | null;
  readonly saclPresent: boolean;
  readonly bytes: Uint8Array;
}

function bad(message: string, actual?: unknown): never {
  throw new WinrescueError('ntfs.badAttribute', `security descriptor: ${message}`, {
    structure: 'ntfs.securityDescriptor',
    actual,
  });
}

/** S-1-5-21-... string of the SID at `at`, or a typed error if it does not fit. */
export function sidToString(b: Uint8Array, at: number): string {
  if (at + SID_HEADER > b.length) bad(`SID at +${at} lies outside its ${b.length} bytes`, at);
  const count = u8(b, at + 1);
  if (at + SID_HEADER + count * 4 > b.length)
    bad(`SID at +${at} with ${count} sub-authorities overruns`, count);
  let authority = 0;
  for (let i = 0; i < 6; i++) authority = authority * 256 + u8(b, at + 2 + i);
  const parts = [`S-${u8(b, at)}`, String(authority)];
  for (let i = 0; i < count; i++) parts.push(String(u32(b, at + SID_HEADER + i * 4)));
  return parts.join('-');
}

function parseAcl(b: Uint8Array, at: number): Ace[] {
  if (at + ACL_HEADER > b.length) bad(`ACL at +${at} lies outside`, at);
  const size = u16(b, at + 2);
  const count = u16(b, at + 4);
  if (at + size > b.length) bad(`ACL of ${size} bytes at +${at} overruns`, size);
  const aces: Ace[] = [];
  let off = at + ACL_HEADER;
  for (let i = 0; i < count; i++) {
    if (off + ACE_HEADER > at + size) bad(`ACE ${i} lies outside its ACL`, off);
    const aceSize = u16(b, off + 2);
    if (aceSize < ACE_HEADER || off + aceSize > at + size)
      bad(`ACE ${i} size ${aceSize} is impossible`, aceSize);
    const type = u8(b, off);
    // Basic allow/deny/audit ACEs (types 0..3) hold a mask then a SID; others are reported without the SID.
    const simple = type <= 3 && aceSize >= ACE_HEADER + 4 + SID_HEADER;
    aces.push({
      type,
      flags: u8(b, off + 1),
      mask: aceSize >= ACE_HEADER + 4 ? u32(b, off + 4) : 0,
      sid: simple ? sidToString(b.subarray(0, off + aceSize), off + 8) : null,
    });
    off += aceSize;
  }
  return aces;
}

export function parseSecurityDescriptor(b: Uint8Array): SecurityDescriptor {
  if (b.length < HEADER) bad(`${b.length} bytes is shorter than the 20-byte header`, b.length);
  const control = u16(b, 2);
  if ((control & SE_SELF_RELATIVE) === 0) bad('not self-relative', control);
  const ownerAt = u32(b, 4);
  const groupAt = u32(b, 8);
  const daclAt = u32(b, 16);
  return {
    revision: u8(b, 0),
    control,
    owner: ownerAt ? sidToString(b, ownerAt) : null,
    group: groupAt ? sidToString(b, groupAt) : null,
    dacl: (control & SE_DACL_PRESENT) !== 0 && daclAt ? parseAcl(b, daclAt) : null,
    saclPresent: (control & SE_SACL_PRESENT) !== 0,
    bytes: b,
  };
}
