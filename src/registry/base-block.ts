// Base block (regf header). Spec: msuhanov regf spec, "Base block"; libregf REGF "File header".
import { WinrescueError, hex } from '../errors.js';
import { u32, u64, checkRange, utf16le } from '../util/bytes.js';

export const BASE_BLOCK_SIZE = 4096;
/** The checksum covers the first 127 dwords (bytes 0..507) and is stored at 508. */
const CHECKSUM_DWORDS = 127;
const CHECKSUM_OFFSET = 508;
const SIGNATURE = 'regf';

export interface BaseBlock {
  readonly primarySequence: number;
  readonly secondarySequence: number;
  readonly lastWritten: bigint;
  readonly major: number;
  readonly minor: number;
  /** 0 primary file, 1 old-style log, 6 new-style log. */
  readonly fileType: number;
  readonly format: number;
  readonly rootCell: number;
  readonly hiveBinsDataSize: number;
  readonly clusteringFactor: number;
  readonly fileName: string;
  readonly storedChecksum: number;
  readonly computedChecksum: number;
  readonly checksumValid: boolean;
  /** Sequence numbers differ or the checksum is wrong: the logs hold newer data. */
  readonly isDirty: boolean;
}

/** XOR of the first 127 dwords; 0 and 0xFFFFFFFF are reserved, so they map to 1 and 0xFFFFFFFE. */
export function baseBlockChecksum(b: Uint8Array): number {
  checkRange(b.length, 0, CHECKSUM_OFFSET, { structure: 'regf.baseBlock', code: 'regf.badBaseBlock' });
  let x = 0;
  for (let i = 0; i < CHECKSUM_DWORDS; i++) x ^= u32(b, i * 4);
  x >>>= 0;
  if (x === 0xffffffff) return 0xfffffffe;
  if (x === 0) return 1;
  return x;
}

export function parseBaseBlock(b: Uint8Array): BaseBlock {
  checkRange(b.length, 0, BASE_BLOCK_SIZE, { structure: 'regf.baseBlock', code: 'regf.badBaseBlock' });
  const sig = String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!);
  if (sig !== SIGNATURE) {
    throw new WinrescueError(
      'regf.badBaseBlock',
      `hive base block at 0x0: signature 'regf' expected, found ${JSON.stringify(sig)}`,
      {
        offset: 0,
        structure: 'regf.baseBlock',
        expected: SIGNATURE,
        actual: sig,
      },
    );
  }
  const major = u32(b, 20);
  if (major !== 1) {
    throw new WinrescueError(
      'regf.unsupported',
      `hive base block at 0x14: major version ${major}, expected 1`,
      {
        offset: 20,
        structure: 'regf.baseBlock',
        expected: 1,
        actual: major,
      },
    );
  }
  const primarySequence = u32(b, 4);
  const secondarySequence = u32(b, 8);
  const storedChecksum = u32(b, CHECKSUM_OFFSET);
  const computedChecksum = baseBlockChecksum(b);
  const checksumValid = storedChecksum === computedChecksum;
  const rootCell = u32(b, 36);
  const hiveBinsDataSize = u32(b, 40);
  if (hiveBinsDataSize % BASE_BLOCK_SIZE !== 0) {
    throw new WinrescueError(
      'regf.badBaseBlock',
      `hive base block at 0x28: hive bins data size ${hex(hiveBinsDataSize)} is not a multiple of 4096`,
      {
        offset: 40,
        structure: 'regf.baseBlock',
        actual: hiveBinsDataSize,
      },
    );
  }
  return {
    primarySequence,
    secondarySequence,
    lastWritten: u64(b, 12),
    major,
    minor: u32(b, 24),
    fileType: u32(b, 28),
    format: u32(b, 32),
    rootCell,
    hiveBinsDataSize,
    clusteringFactor: u32(b, 44),
    fileName: utf16le(b, 48, 64).replace(/\0.*$/s, ''),
    storedChecksum,
    computedChecksum,
    checksumValid,
    isDirty: primarySequence !== secondarySequence || !checksumValid,
  };
}
