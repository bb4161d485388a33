// The multi-file write both NTFS crash tests run: new files of several sizes (resident and not), a folder, a
// replaced file, a rename and an unlink, each step announced so a crash can be aimed at any of them.
import type { NtfsWriter } from '../../../src/fs/ntfs/write/index.js';
import { seeded } from './volumes.js';

export const CRASH_STEPS = 8;

export async function crashScenario(
  w: NtfsWriter,
  seed: number,
  announce: (i: number) => void,
): Promise<void> {
  const sizes = [300, 5000, 70_000, 400_000];
  let i = 0;
  // Each step is flushed, so the journal writes the disk between steps and a crash can land mid-change.
  const step = async (): Promise<void> => {
    await w.flush();
    announce(i++);
  };
  await w.mkdir('/crash');
  await step();
  for (const [n, size] of sizes.entries()) {
    await w.writeFile(`/crash/file${n}.bin`, seeded(size, seed + n));
    await step();
  }
  await w.writeFile('/crash/file1.bin', seeded(150_000, seed + 10));
  await step();
  await w.rename('/crash/file2.bin', '/crash/renamed.bin');
  await step();
  await w.unlink('/crash/file0.bin');
  await step();
}
