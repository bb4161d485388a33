// The real `winrescue` command, spawned asynchronously: the fault proxy and the ARM test double live in the test
// process, so a synchronous spawn would leave them unable to answer.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/testdata.js';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function winrescueAsync(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'winrescue.js'), ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}

/** Every place a secret could leak to, for a grep. */
export function allText(results: CliResult[]): string {
  return results.map((r) => r.stdout + '\n' + r.stderr).join('\n');
}
