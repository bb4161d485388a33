// `diagnose` of a Gen2 synthetic fixture disk: its time against sleuthkit reading the same boot files (ifind -n +
// icat per file, the independent way to fetch them), and the fraction of the disk it read (goal: < 1%).
import { spawnSync } from 'node:child_process';
import type { BenchResult } from './run.js';
import { buildDisk, ensureSigningKeys, FIXTURES_DIR } from '../test/fixtures/index.js';
import { diagnose } from '../src/api/diagnose.js';

export async function diagnoseBench(): Promise<BenchResult[]> {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const keys = ensureSigningKeys(FIXTURES_DIR);
  await diagnose(disk.raw, { trustRoots: [keys.caPem] }); // warm the page cache for both sides
  const t0 = performance.now();
  const r = await diagnose(disk.raw, { trustRoots: [keys.caPem] });
  const ours = (performance.now() - t0) / 1000;
  const sector = String(disk.manifest.windows.start / 512);
  const t1 = performance.now();
  for (const f of r.files.filter((x) => x.volume === 'windows' && x.verdict === 'ok')) {
    const inode = spawnSync('ifind', ['-o', sector, '-n', f.path.replaceAll('\\', '/'), disk.raw], {
      encoding: 'utf8',
    }).stdout.trim();
    spawnSync('icat', ['-o', sector, disk.raw, inode], { maxBuffer: 1 << 30 });
  }
  const theirs = (performance.now() - t1) / 1000;
  const pct = ((100 * r.bytesRead) / r.diskSize!).toFixed(2);
  return [
    {
      name: `diagnose of a Gen2 disk (${r.files.length} boot files)`,
      ours,
      theirs,
      tool: 'ifind -n + icat of the same files',
      extra: `read ${r.bytesRead} of ${r.diskSize} bytes (${pct}%) in ${r.reads} reads, cause ${r.cause}`,
    },
  ];
}
