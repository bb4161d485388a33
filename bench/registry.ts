// Full .reg export of the 12 MB Windows 7 SYSTEM hive: our compiled CLI against hivexml and hivexregedit on the
// same file, each a whole process writing to /dev/null, interleaved and best of N (the machines are noisy).
import { spawnSync } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult } from './run.js';
import { buildForBench } from './build.js';
import { testdataFile } from '../test/helpers/testdata.js';

const ROUNDS = 3;

function timed(cmd: string, args: string[]): number {
  const out = openSync('/dev/null', 'w');
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', out, 'pipe'] });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr?.toString()}`);
    return s;
  } finally {
    closeSync(out);
  }
}

export async function registryBench(): Promise<BenchResult[]> {
  const build = buildForBench();
  const hive = testdataFile('hives/SYSTEM.xz');
  const ours = [process.execPath, [join(build, 'src', 'cli', 'main.js'), 'reg', 'export', hive]] as const;
  const best = { ours: Infinity, hivexml: Infinity, hivexregedit: Infinity };
  for (let i = 0; i < ROUNDS; i++) {
    best.ours = Math.min(best.ours, timed(ours[0], [...ours[1]]));
    best.hivexml = Math.min(best.hivexml, timed('hivexml', [hive]));
    best.hivexregedit = Math.min(best.hivexregedit, timed('hivexregedit', ['--export', hive, '\\']));
  }
  const extra = `SYSTEM hive 11.8 MB, best of ${ROUNDS}, process start included (goal ≤ 1× hivexml)`;
  return [
    { name: 'reg export of the SYSTEM hive', ours: best.ours, theirs: best.hivexml, tool: 'hivexml', extra },
    {
      name: 'reg export of the SYSTEM hive',
      ours: best.ours,
      theirs: best.hivexregedit,
      tool: 'hivexregedit --export',
    },
  ];
}
