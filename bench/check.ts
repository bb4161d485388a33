// `check` of the 200,000-file volume against `ntfsresize -i -f` (cluster accounting over every record) and
// `fls -r -p` (every directory index walked) on the same image in the same run. Our check runs compiled in a
// child process (bench/check-run.ts) so its time and peak memory are its own.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { BenchResult } from './run.js';
import { buildForBench } from './build.js';

const FILES = 200000;

function timed(cmd: string, args: string[]): { seconds: number; status: number | null } {
  const t = performance.now();
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30 });
  return { seconds: (performance.now() - t) / 1000, status: r.status };
}

export async function checkBench(): Promise<BenchResult[]> {
  const BUILD = buildForBench();
  const r = spawnSync(process.execPath, [join(BUILD, 'bench', 'check-run.js'), String(FILES)], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`check-run failed: ${r.stderr}`);
  const doc = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
    image: string;
    ms: number;
    peakRssMiB: number;
    clean: boolean;
    problems: number;
    stats: { recordsInUse: number; indexEntries: number };
  };
  const resize = timed('ntfsresize', ['-i', '-f', '-P', doc.image]);
  const fls = timed('fls', ['-r', '-p', doc.image]);
  const extra = `${doc.stats.recordsInUse} records, ${doc.stats.indexEntries} index entries, ${doc.clean ? 'clean' : `${doc.problems} problems`}, peak RSS ${doc.peakRssMiB} MiB`;
  return [
    {
      name: 'check of a 200,000-file NTFS volume',
      ours: doc.ms / 1000,
      theirs: resize.seconds,
      tool: 'ntfsresize -i -f',
      extra,
    },
    {
      name: 'check of a 200,000-file NTFS volume',
      ours: doc.ms / 1000,
      theirs: fls.seconds,
      tool: 'fls -r -p',
    },
  ];
}
