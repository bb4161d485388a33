// `winrescue cat DISK PATH [--stream NAME]`: a file's raw bytes on stdout, read and written in chunks.
import type { Command } from 'commander';
import { runCommand } from '../output.js';
import { partitionOption } from './stat.js';

interface CatCliOptions {
  stream?: string;
  partition?: number;
}

export function registerCat(program: Command): void {
  program
    .command('cat')
    .description("write a file's bytes (or one of its named streams) to stdout")
    .argument('<disk>', 'disk image (raw, VHD, VHDX), block device or bare NTFS volume image')
    .argument('<path>', 'file on the volume, "/" or "\\" separated, case-insensitive')
    .option('--stream <name>', 'named $DATA stream (alternate data stream) instead of the contents')
    .option('--partition <n>', 'volume to read (1-based, as inspect lists them)', partitionOption)
    .action(async (disk: string, path: string, opts: CatCliOptions) =>
      runCommand({}, async () => {
        const { cat } = await import('../../api/cat.js');
        await cat(disk, path, writeStdout, {
          ...(opts.partition !== undefined ? { partition: opts.partition } : {}),
          ...(opts.stream !== undefined ? { stream: opts.stream } : {}),
        });
      }),
    );
}

let stdoutClosed = false;
let guarded = false;

/**
 * Writes to stdout and resolves once the chunk is handed to the OS (so a slow reader paces us); resolves
 * false once the reader has gone away (EPIPE: `| head`), a normal end for a pipe, not worth a message.
 */
export function writeStdout(chunk: Uint8Array | string): Promise<boolean> {
  if (!guarded) {
    guarded = true;
    // Without a listener the stream's EPIPE 'error' event would crash the process with a stack trace.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      stdoutClosed = true;
      if (e.code !== 'EPIPE') process.exitCode = 1;
    });
  }
  if (stdoutClosed) return Promise.resolve(false);
  return new Promise((resolve) => {
    process.stdout.write(chunk, (err) => {
      if (err) stdoutClosed = true;
      resolve(!err);
    });
  });
}
