// The benchmarks run our code compiled (as the installed tool does, no tsx transform), in child processes, so
// their time and peak memory are their own; this compiles the project once per bench run.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const BUILD = join(process.cwd(), 'node_modules', '.cache', 'winrescue', 'bench-build');

let built = false;

export function buildForBench(): string {
  if (!built) {
    execFileSync(
      'npx',
      [
        'tsc',
        '-p',
        'tsconfig.json',
        '--outDir',
        BUILD,
        '--noEmit',
        'false',
        '--sourceMap',
        'false',
        '--declaration',
        'false',
      ],
      { stdio: 'inherit' },
    );
    built = true;
  }
  return BUILD;
}
