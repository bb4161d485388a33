// Shared helpers of the attribute value parsers: FILETIME conversion and the typed error for short values.
import { WinrescueError } from '../../../errors.js';
import { u64 } from '../../../util/bytes.js';

/** 100 ns ticks between 1601-01-01 and 1970-01-01. */
const FILETIME_UNIX_EPOCH = 116444736000000000n;

/** A FILETIME as an ISO string with 100 ns precision kept in `ticks` (bigint). */
export interface NtfsTime {
  readonly ticks: bigint;
  /** ISO 8601 UTC, millisecond precision; null when the value is outside what Date can show. */
  readonly iso: string | null;
}

export function filetime(b: Uint8Array, at: number): NtfsTime {
  const ticks = u64(b, at);
  const ms = Number((ticks - FILETIME_UNIX_EPOCH) / 10000n);
  const d = new Date(ms);
  return { ticks, iso: Number.isFinite(d.getTime()) ? d.toISOString() : null };
}

export function tooShort(structure: string, minimum: number, actual: number, record?: number): never {
  throw new WinrescueError(
    'ntfs.badAttribute',
    `${structure} value of ${actual} bytes is shorter than ${minimum}`,
    {
      structure,
      record,
      expected: `>= ${minimum}`,
      actual,
    },
  );
}
