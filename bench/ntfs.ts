// Full recursive listing of the 200,000-file volume against `fls -r -p`. The listing runs compiled (as the
// installed tool does, no tsx transform) in a child process, so its time and peak memory are its own;
// bench/ntfs-walk.ts does the work and prints one JSON document.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { BenchResult } from './run.js';
import { buildForBench } from './build.js';

export async function ntfsBench(): Promise<BenchResult[]> {
  const BUILD = buildForBench();
  const r = spawnSync(process.execPath, [join(BUILD, 'bench', 'ntfs-walk.js'), '200000'], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_BATCHES: '1' },
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`ntfs-walk failed: ${r.stderr}`);
  const doc = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
    ourMs: number;
    flsMs: number;
    ourEntries: number;
    peakRssMiB: number;
  };
  return [
    {
      name: 'ls -r of a 200,000-file NTFS volume',
      ours: doc.ourMs / 1000,
      theirs: doc.flsMs / 1000,
      tool: 'fls -r -p',
      extra: `${doc.ourEntries} entries, ${Math.round(doc.ourEntries / (doc.ourMs / 1000))} entries/s, peak RSS ${doc.peakRssMiB} MiB (goal ≤ 0.5×, < 150 MiB)`,
    },
  ];
}
