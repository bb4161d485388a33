// Runs the real `winrescue` command (bin/winrescue.js) as a user would, capturing exit code and both streams.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/testdata.js';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function winrescue(args: string[], options: { input?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'winrescue.js'), ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 1 << 28,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The contract for bad input: exit 2, exactly one line on stderr, no stack trace, nothing on stdout. */
export function assertOneLineError(r: CliResult): string {
  if (r.status !== 2) throw new Error(`expected exit 2, got ${r.status}; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got ${lines.length}: ${r.stderr}`);
  if (/\bat .*\.(ts|js):\d+/.test(r.stderr)) throw new Error(`stack trace leaked: ${r.stderr}`);
  if (r.stdout !== '') throw new Error(`unexpected stdout: ${r.stdout}`);
  return lines[0]!;
}
