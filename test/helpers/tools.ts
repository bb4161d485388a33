// Independent oracles: run the Debian tools the tests compare against.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** stdout of a command; throws with stderr on a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  options: { input?: Uint8Array | string; maxBuffer?: number } = {},
): Buffer {
  return execFileSync(cmd, args, {
    input: options.input,
    maxBuffer: options.maxBuffer ?? 1 << 30,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Exit status, stdout and stderr, never throwing. */
export function runStatus(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function haveTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** Debian's python3 (pyvhdi lives there, not in a pyenv interpreter that may be first on PATH). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = 'winrescue-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
