// How the partition readers report damage: strict opening throws the first problem, lenient opening (the
// default) records it, works around it, and carries on, so one bad EBR never hides the Windows partition.
import { type ErrorCode, WinrescueError, type ErrorDetails } from '../errors.js';

export interface PartitionProblem {
  readonly code: ErrorCode;
  readonly message: string;
  /** Absolute device byte offset of the structure at fault, when there is one. */
  readonly offset?: number;
}

export class Findings {
  readonly problems: PartitionProblem[] = [];

  constructor(readonly strict: boolean) {}

  /** Throws in strict mode; otherwise remembers the problem for `warnings`. */
  report(code: ErrorCode, message: string, details: ErrorDetails = {}): void {
    if (this.strict) throw new WinrescueError(code, message, details);
    const offset = details.offset === undefined ? undefined : Number(details.offset);
    this.problems.push(offset === undefined ? { code, message } : { code, message, offset });
  }

  /** Something worth saying that is not damage (a blank disk): recorded, never thrown. */
  note(code: ErrorCode, message: string): void {
    this.problems.push({ code, message });
  }

  get warnings(): string[] {
    return this.problems.map((p) => p.message);
  }
}
