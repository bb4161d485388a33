// The undo journal as sessions (docs/formats/undo-journal.md, "Record order"): the grammar the records must follow,
// checked after scanRecords. Pure.
import { WinrescueError, hex } from '../../errors.js';
import { type JournalHeader, type JournalRecord, parseHeader, scanRecords } from './format.js';

type Rec<T extends JournalRecord['type']> = Extract<JournalRecord, { type: T }>;
export type DataRecord = Rec<'write' | 'rewrite' | 'cut' | 'grow' | 'shrink'>;

export interface Session {
  readonly start: Rec<'sessionStart'>;
  readonly records: readonly DataRecord[];
  /** Null when the writer never closed the session (killed, power lost). */
  readonly end: Rec<'sessionEnd'> | null;
}

export interface ParsedJournal {
  readonly header: JournalHeader;
  readonly sessions: readonly Session[];
  readonly undoBegun: Rec<'undoBegun'> | null;
  readonly undoDone: Rec<'undoDone'> | null;
  readonly validLength: number;
  readonly tornBytes: number;
  /** Sequence number the next record takes. */
  readonly nextSeq: number;
}

function outOfOrder(r: JournalRecord, why: string): WinrescueError {
  return new WinrescueError(
    'journal.badFormat',
    `undo journal at ${hex(r.at)}: ${r.type} record ${r.seq} ${why}`,
    {
      offset: r.at,
      structure: 'journal',
      record: r.seq,
    },
  );
}

export function parseJournal(bytes: Uint8Array): ParsedJournal {
  const header = parseHeader(bytes);
  const scan = scanRecords(bytes);
  const sessions: { start: Rec<'sessionStart'>; records: DataRecord[]; end: Rec<'sessionEnd'> | null }[] = [];
  let undoBegun: Rec<'undoBegun'> | null = null;
  let undoDone: Rec<'undoDone'> | null = null;
  for (const r of scan.records) {
    const open = sessions.at(-1);
    if (undoDone) throw outOfOrder(r, 'follows the end of an undo');
    if (undoBegun && r.type !== 'undoDone') throw outOfOrder(r, 'follows the start of an undo');
    switch (r.type) {
      case 'sessionStart':
        if (open && !open.end) throw outOfOrder(r, 'starts a session while the previous one is open');
        sessions.push({ start: r, records: [], end: null });
        break;
      case 'sessionEnd':
        if (!open || open.end) throw outOfOrder(r, 'ends no open session');
        open.end = r;
        break;
      case 'undoBegun':
        if (!open) throw outOfOrder(r, 'comes before any session');
        undoBegun = r;
        break;
      case 'undoDone':
        if (!undoBegun) throw outOfOrder(r, 'ends an undo that never began');
        undoDone = r;
        break;
      default:
        if (!open || open.end) throw outOfOrder(r, 'lies outside any session');
        open.records.push(r);
    }
  }
  return {
    header,
    sessions,
    undoBegun,
    undoDone,
    validLength: scan.validLength,
    tornBytes: scan.tornBytes,
    nextSeq: scan.records.length + 1,
  };
}
