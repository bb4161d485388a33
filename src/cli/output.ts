// How every command reports: one JSON document on stdout with --json, human text otherwise; typed errors
// become one clear line on stderr (or {"error": ...} with --json) and exit code 2 (bad input) or 1 (refused).
import { WinrescueError, isWinrescueError } from '../errors.js';

export interface CommonOptions {
  json?: boolean;
}

export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_INPUT = 2;

// Last line of defence for SAS URLs (docs/azure.md): whatever a command prints has a URL query's `sig=` value
// blanked, so a signature that slipped into a message, a path or a plan never reaches a terminal or a log. Only
// `sig` after `?` or `&`: registry data or file names that merely contain "key=" are left as they are.
const SAS_SIGNATURE = /([?&]sig=)[^&\s"'<>]+/gi;
const redactText = (text: string): string => text.replace(SAS_SIGNATURE, '$1[redacted]');

export function printJson(doc: unknown): void {
  process.stdout.write(
    redactText(JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)) + '\n',
  );
}

export function printLines(lines: string[]): void {
  if (lines.length > 0) process.stdout.write(redactText(lines.join('\n')) + '\n');
}

/** Progress and warnings go to stderr, never into a --json document. */
export function warn(message: string): void {
  process.stderr.write(`warning: ${redactText(message)}\n`);
}

/** Runs a command body, mapping its outcome to the exit code; never lets a stack trace reach the user. */
export async function runCommand(options: CommonOptions, body: () => Promise<number | void>): Promise<void> {
  let code: number;
  try {
    code = (await body()) ?? EXIT_OK;
  } catch (e) {
    code = reportError(e, options.json === true);
  }
  process.exitCode = code;
}

export function reportError(e: unknown, json: boolean): number {
  const err = isWinrescueError(e)
    ? e
    : new WinrescueError('internal', `internal error: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  if (json) printJson({ error: err.toJSON() });
  else process.stderr.write(`winrescue: ${redactText(err.message)}\n`);
  if (!isWinrescueError(e) && process.env.WINRESCUE_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
  return err.code === 'internal' ? EXIT_INPUT : err.exitCode;
}
