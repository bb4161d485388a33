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
    // Windows pads the value with zeros: a zero type ends the list. A real entry (non-zero type) of length 0
    // is damage — stopping there would silently drop every attribute the rest of the list names.
    if (type === 0) break;
    if (length === 0) {
      throw new WinrescueError(
        'ntfs.badAttribute',
        `$ATTRIBUTE_LIST entry at +${off} (type 0x${type.toString(16)}) has length 0`,
        {
          structure: 'ntfs.attributeList',
          record,
          expected: `${ENTRY_HEADER}..${v.length - off}`,
          actual: 0,
        },
      );
    }
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
