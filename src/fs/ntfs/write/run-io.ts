// Writing bytes of a non-resident attribute through its runlist: flatcap linux-ntfs ntfs/concepts/data_runs.html
// (VCN -> LCN mapping). The reader's half is data-stream.ts; this is the same mapping in the other direction.
import { WinrescueError } from '../../../errors.js';
import type { BlockDevice } from '../../../disk/block-device.js';
import { findRun, type DataRun } from '../runlist.js';

/** Writes `data` at byte `offset` of the attribute whose clusters `runs` map; every byte must be allocated. */
export async function writeThroughRuns(
  device: BlockDevice,
  clusterSize: number,
  runs: readonly DataRun[],
  offset: number,
  data: Uint8Array,
  label: string,
): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const pos = offset + done;
    const vcn = Math.floor(pos / clusterSize);
    const run = findRun(runs, vcn);
    if (!run || run.lcn === null) {
      throw new WinrescueError('internal', `${label}: no allocated run maps VCN ${vcn} for writing`, {
        structure: 'ntfs.runlist',
        actual: vcn,
      });
    }
    const runEnd = (run.vcn + run.length) * clusterSize;
    const n = Math.min(data.length - done, runEnd - pos);
    const at = run.lcn * clusterSize + (pos - run.vcn * clusterSize);
    await device.write(at, data.subarray(done, done + n));
    done += n;
  }
}

/** Byte offset on the device of byte `offset` of the attribute, or -1 when that cluster is not mapped. */
export function deviceOffset(runs: readonly DataRun[], clusterSize: number, offset: number): number {
  const run = findRun(runs, Math.floor(offset / clusterSize));
  if (!run || run.lcn === null) return -1;
  return run.lcn * clusterSize + (offset - run.vcn * clusterSize);
}
