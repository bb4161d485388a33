// How crash tests start the child process they kill: a bundle when esbuild (tsx's own compiler) is there, so each
// trial starts in ~50 ms instead of ~1 s through tsx; otherwise through tsx.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './testdata.js';

/** node arguments that run the TypeScript file `entry` (bundled into `workDir` when possible). */
export async function childCommand(entry: string, workDir: string): Promise<string[]> {
  try {
    const esbuild = (await import('esbuild' as string)) as {
      build(o: Record<string, unknown>): Promise<unknown>;
    };
    const out = join(workDir, 'child.mjs');
    await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: out,
      logLevel: 'silent',
    });
    return [out];
  } catch {
    return ['--import', 'tsx', entry];
  }
}

/**
 * Runs `node command args` from the repository root; once the child has printed more than `killAfter` lines that
 * are bare numbers (its progress announcements), waits `delayMs` and SIGKILLs it. Resolves true when it was killed,
 * false when it finished first; a child that fails on its own rejects with its stderr.
 */
export function killAfterAnnouncement(
  command: string[],
  args: string[],
  killAfter: number,
  delayMs: number,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...command, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!sent && out.split('\n').filter((l) => /^\d+$/.test(l)).length > killAfter) {
        sent = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(true);
      else if (code === 0) resolve(false);
      else reject(new Error(`child failed (${code}): ${err}`));
    });
  });
}
