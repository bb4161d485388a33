// A new, empty hive file: base block, one hbin, the root nk and its sk, the rest one free cell. Spec: msuhanov regf
// spec, "Base block", "Hive bin", "Key node" (root flags), "Key security"; Windows' own empty hive (yarp EmptyHive)
// has the same shape. Keys and values are then added with HiveEditor.
import { WinrescueError } from '../../errors.js';
import { setU16, setU32, setU64 } from '../../util/bytes.js';
import { BASE_BLOCK_SIZE, baseBlockChecksum } from '../base-block.js';
import { BINS_START, NO_CELL } from '../cells/cell.js';
import { KEY_COMP_NAME, KEY_HIVE_ENTRY } from '../cells/key-node.js';
import { HBIN_ALIGN, HBIN_HEADER_SIZE } from '../hive-bin.js';
import { encodeName } from './names.js';
import { NK, NK_FIXED, SK } from './records.js';

/** The root cannot be deleted (KEY_NO_DELETE); with HIVE_ENTRY and COMP_NAME that is Windows' 0x2c. */
const KEY_NO_DELETE = 0x0008;
/** Minor versions Windows writes: 3 (BCD stores, NT 4 compatible), 5 (XP and later system hives), 6 (Windows 10). */
const MINORS = [3, 4, 5, 6] as const;
export type HiveMinor = (typeof MINORS)[number];
/** The base block holds the last 31 UTF-16 characters of the hive's path (64 bytes with the NUL). */
const FILE_NAME_CHARS = 31;
const FILE_NAME_OFFSET = 48;

export interface CreateHiveOptions {
  readonly minor: HiveMinor;
  /** Root key name; Windows uses names like "ROOT", "NewStoreRoot" or a GUID. */
  readonly rootName?: string;
  /** Path recorded in the base block, e.g. `\SystemRoot\System32\Config\SYSTEM` (only its tail is kept). */
  readonly fileName?: string;
  /** Self-relative security descriptor for the root (and, by inheritance of the writer, every new key). */
  readonly securityDescriptor?: Uint8Array;
  /** FILETIME for the base block, the bin and the root key. */
  readonly now?: bigint;
}

// SIDs as bytes: revision 1, sub-authority count, authority (6 bytes big-endian), sub-authorities (LE u32).
function sid(authority: number, ...subs: number[]): Uint8Array {
  const b = new Uint8Array(8 + 4 * subs.length);
  b[0] = 1;
  b[1] = subs.length;
  b[7] = authority;
  subs.forEach((s, i) => setU32(b, 8 + 4 * i, s));
  return b;
}

const SID_SYSTEM = sid(5, 18);
const SID_ADMINISTRATORS = sid(5, 32, 544);
const SID_USERS = sid(5, 32, 545);
/** KEY_ALL_ACCESS and KEY_READ (winnt.h). */
const KEY_ALL_ACCESS = 0xf003f;
const KEY_READ = 0x20019;
/** ACE flags: inherited by subkeys (CONTAINER_INHERIT_ACE). */
const CONTAINER_INHERIT = 0x02;

/**
 * Owner Administrators, group SYSTEM, DACL: SYSTEM and Administrators full control, Users read, all inheritable —
 * the usual shape of a system hive's root. Layout: MS-DTYP 2.4.6 SECURITY_DESCRIPTOR (self-relative), 2.4.5 ACL,
 * 2.4.4.2 ACCESS_ALLOWED_ACE.
 */
export function defaultSecurityDescriptor(): Uint8Array {
  const aces = [
    [KEY_ALL_ACCESS, SID_SYSTEM],
    [KEY_ALL_ACCESS, SID_ADMINISTRATORS],
    [KEY_READ, SID_USERS],
  ] as const;
  const aceBytes = aces.map(([mask, s]) => {
    const ace = new Uint8Array(8 + s.length);
    ace[0] = 0; // ACCESS_ALLOWED_ACE_TYPE
    ace[1] = CONTAINER_INHERIT;
    setU16(ace, 2, ace.length);
    setU32(ace, 4, mask);
    ace.set(s, 8);
    return ace;
  });
  const aclSize = 8 + aceBytes.reduce((n, a) => n + a.length, 0);
  const header = 20;
  const dacl = header;
  const owner = dacl + aclSize;
  const group = owner + SID_ADMINISTRATORS.length;
  const out = new Uint8Array(group + SID_SYSTEM.length);
  out[0] = 1; // revision
  setU16(out, 2, 0x8004); // SE_SELF_RELATIVE | SE_DACL_PRESENT
  setU32(out, 4, owner);
  setU32(out, 8, group);
  setU32(out, 12, 0); // no SACL
  setU32(out, 16, dacl);
  out[dacl] = 2; // ACL_REVISION
  setU16(out, dacl + 2, aclSize);
  setU16(out, dacl + 4, aceBytes.length);
  let at = dacl + 8;
  for (const a of aceBytes) {
    out.set(a, at);
    at += a.length;
  }
  out.set(SID_ADMINISTRATORS, owner);
  out.set(SID_SYSTEM, group);
  return out;
}

const align8 = (n: number): number => (n + 7) & ~7;

export function createHive(options: CreateHiveOptions): Uint8Array {
  if (!MINORS.includes(options.minor)) {
    throw new WinrescueError(
      'regf.unsupported',
      `hive minor version ${String(options.minor)} is not one Windows writes`,
      {
        expected: MINORS.join(', '),
        actual: options.minor,
      },
    );
  }
  const now = options.now ?? BigInt(Date.now()) * 10000n + 116444736000000000n;
  const name = encodeName(options.rootName ?? 'ROOT');
  const sd = options.securityDescriptor ?? defaultSecurityDescriptor();
  const nkSize = align8(4 + NK_FIXED + name.bytes.length);
  const skSize = align8(4 + 20 + sd.length);
  if (HBIN_HEADER_SIZE + nkSize + skSize + 8 > HBIN_ALIGN) {
    throw new WinrescueError(
      'regf.tooLarge',
      'root key name and security descriptor do not fit the first bin',
      {
        actual: nkSize + skSize,
      },
    );
  }
  const out = new Uint8Array(BASE_BLOCK_SIZE + HBIN_ALIGN);
  const nkRel = HBIN_HEADER_SIZE;
  const skRel = nkRel + nkSize;
  const freeRel = skRel + skSize;

  // Base block: clean (both sequences 1), version 1.minor, primary file, direct memory load format.
  out.set([0x72, 0x65, 0x67, 0x66], 0); // 'regf'
  setU32(out, 4, 1);
  setU32(out, 8, 1);
  setU64(out, 12, now);
  setU32(out, 20, 1);
  setU32(out, 24, options.minor);
  setU32(out, 28, 0);
  setU32(out, 32, 1);
  setU32(out, 36, nkRel);
  setU32(out, 40, HBIN_ALIGN);
  setU32(out, 44, 1);
  const fileName = (options.fileName ?? '').slice(-FILE_NAME_CHARS);
  for (let i = 0; i < fileName.length; i++) setU16(out, FILE_NAME_OFFSET + 2 * i, fileName.charCodeAt(i));
  setU32(out, 508, baseBlockChecksum(out));

  const bin = BINS_START;
  out.set([0x68, 0x62, 0x69, 0x6e], bin); // 'hbin'
  setU32(out, bin + 4, 0);
  setU32(out, bin + 8, HBIN_ALIGN);
  setU64(out, bin + 20, now);

  const nk = bin + nkRel;
  setU32(out, nk, -nkSize >>> 0);
  const p = nk + 4;
  out[p] = 0x6e; // 'n'
  out[p + 1] = 0x6b; // 'k'
  setU16(out, p + NK.flags, KEY_HIVE_ENTRY | KEY_NO_DELETE | (name.compressed ? KEY_COMP_NAME : 0));
  setU64(out, p + NK.lastWritten, now);
  setU32(out, p + NK.parent, NO_CELL);
  setU32(out, p + NK.subkeyList, NO_CELL);
  setU32(out, p + 32, NO_CELL); // volatile subkey list
  setU32(out, p + NK.valueList, NO_CELL);
  setU32(out, p + NK.security, skRel);
  setU32(out, p + NK.classOffset, NO_CELL);
  setU16(out, p + 72, name.bytes.length);
  out.set(name.bytes, p + NK_FIXED);

  // The one sk, its own flink and blink (a list of one), used by the root.
  const sk = bin + skRel;
  setU32(out, sk, -skSize >>> 0);
  out[sk + 4] = 0x73; // 's'
  out[sk + 5] = 0x6b; // 'k'
  setU32(out, sk + 4 + SK.flink, skRel);
  setU32(out, sk + 4 + SK.blink, skRel);
  setU32(out, sk + 4 + SK.refCount, 1);
  setU32(out, sk + 4 + 16, sd.length);
  out.set(sd, sk + 4 + 20);

  setU32(out, bin + freeRel, HBIN_ALIGN - freeRel);
  return out;
}
