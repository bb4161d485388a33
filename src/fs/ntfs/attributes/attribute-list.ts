// $ATTRIBUTE_LIST (0x20): flatcap linux-ntfs ntfs/attributes/attribute_list.html; libfsntfs asciidoc
// §"The attribute list attribute"; ntfs-3g layout.h ATTR_LIST_ENTRY.
import { WinrescueError } from '../../../errors.js';
import { i64, u16, u32, u8, utf16le } from '../../../util/bytes.js';
import { parseFileReference, type FileReference } from '../mft-record.js';

const ENTRY_HEADER = 26;

export interface AttributeListEntry {
  readonly type: number;
  readonly name: string;
  readonly startVcn: number;
  /** The record (base or extension) that holds this attribute extent. */
  readonly reference: FileReference;
  readonly id: number;
}

export function parseAttributeList(v: Uint8Array, record?: number): AttributeListEntry[] {
  const out: AttributeListEntry[] = [];
  let off = 0;
  while (off + ENTRY_HEADER <= v.length) {
    const type = u32(v, off);
    const length = u16(v, off + 4);
    // Windows pads the value; a zero type or length ends the list.
    if (type === 0 || length === 0) break;
    const nameLength = u8(v, off + 6);
    const nameOffset = u8(v, off + 7);
    if (length < ENTRY_HEADER || off + length > v.length || nameOffset + nameLength * 2 > length) {
      throw new WinrescueError(
        'ntfs.badAttribute',
        `$ATTRIBUTE_LIST entry at +${off}: length ${length} is impossible`,
        {
          structure: 'ntfs.attributeList',
          record,
          expected: `${ENTRY_HEADER}..${v.length - off}`,
          actual: length,
        },
      );
    }
    const vcn = i64(v, off + 8);
    out.push({
      type,
      name: nameLength ? utf16le(v, off + nameOffset, nameLength * 2) : '',
      startVcn: vcn < 0n || vcn > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(vcn),
      reference: parseFileReference(v, off + 16),
      id: u16(v, off + 24),
    });
    off += length;
  }
  return out;
}
