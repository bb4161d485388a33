// Reading what is left of a damaged FILE record: fixups restored without the torn-write check, then every
// attribute that still parses, in order, until the first one that does not. flatcap linux-ntfs
// concepts/file_record.html, concepts/fixup.html. For evidence (the names a torn record carried) and for
// quarantine (the clusters it claimed); never for reading a file's content as if it were intact.
import { isWinrescueError } from '../../errors.js';
import { ATTR, ATTR_END, parseAttribute } from './attribute.js';
import { parseFileName, type FileName } from './attributes/file-name.js';
import { le16, le32 } from './le.js';
import type { DataRun } from './runlist.js';

const USA_OFFSET_FIELD = 4;
const USA_COUNT_FIELD = 6;
const FIRST_ATTRIBUTE_FIELD = 20;
const BYTES_IN_USE_FIELD = 24;
const STRIDE = 512;
/** A record of 4 KiB holds far fewer; more means we are walking garbage. */
const MAX_ATTRIBUTES = 512;

export interface SalvagedRecord {
  /** Runs of every non-resident attribute whose runlist decodes. */
  readonly runs: readonly DataRun[];
  /** $FILE_NAME values that parse: the names (and parents) the record had. */
  readonly names: readonly FileName[];
}

const NOTHING: SalvagedRecord = { runs: [], names: [] };

export function salvageRecord(raw: Uint8Array, n: number, totalClusters: number): SalvagedRecord {
  const b = raw.slice();
  if (b[0] !== 0x46 || b[1] !== 0x49 || b[2] !== 0x4c || b[3] !== 0x45) return NOTHING;
  const usa = le16(b, USA_OFFSET_FIELD);
  const count = le16(b, USA_COUNT_FIELD);
  if (count !== b.length / STRIDE + 1 || usa + count * 2 > STRIDE) return NOTHING;
  for (let i = 1; i < count; i++) {
    b[i * STRIDE - 2] = b[usa + i * 2]!;
    b[i * STRIDE - 1] = b[usa + i * 2 + 1]!;
  }
  const used = Math.min(le32(b, BYTES_IN_USE_FIELD), b.length);
  const runs: DataRun[] = [];
  const names: FileName[] = [];
  let off = le16(b, FIRST_ATTRIBUTE_FIELD);
  for (let k = 0; k < MAX_ATTRIBUTES && off + 8 <= used && le32(b, off) !== ATTR_END; k++) {
    try {
      const a = parseAttribute(b, off, used, { base: 0, record: n, totalClusters });
      if (a.nonResident && !a.nonResident.runlistError) runs.push(...a.nonResident.runs);
      if (a.type === ATTR.FILE_NAME && a.resident && a.value) names.push(parseFileName(a.value, n));
      off += a.length;
    } catch (e) {
      if (isWinrescueError(e)) break;
      throw e;
    }
  }
  return { runs, names };
}
