// `npm run bench`: our figures as ratios against independent tools on the same input, in one run.
// Usage: npm run bench [-- section ...]   (sections: disk, ntfs, registry, check, diagnose)
import { diskBench } from './disk.js';
import { ntfsBench } from './ntfs.js';
import { registryBench } from './registry.js';
import { checkBench } from './check.js';
import { diagnoseBench } from './diagnose.js';

export interface BenchResult {
  name: string;
  ours: number; // seconds
  theirs: number; // seconds
  tool: string;
  extra?: string;
}

const SECTIONS: Record<string, () => Promise<BenchResult[]>> = {
  disk: diskBench,
  ntfs: ntfsBench,
  registry: registryBench,
  check: checkBench,
  diagnose: diagnoseBench,
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = wanted.length > 0 ? wanted : Object.keys(SECTIONS);
  const rows: BenchResult[] = [];
  for (const name of names) {
    const section = SECTIONS[name];
    if (!section)
      throw new Error(`unknown bench section ${name}; known: ${Object.keys(SECTIONS).join(', ')}`);
    process.stderr.write(`bench: ${name}...\n`);
    rows.push(...(await section()));
  }
  console.log('\nbenchmark                                   ours (s)   tool (s)   ratio  tool');
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(42)}  ${r.ours.toFixed(3).padStart(8)}  ${r.theirs.toFixed(3).padStart(9)}  ${(r.ours / r.theirs).toFixed(2).padStart(6)}× ${r.tool}${r.extra ? `  ${r.extra}` : ''}`,
    );
  }
}

await main();
