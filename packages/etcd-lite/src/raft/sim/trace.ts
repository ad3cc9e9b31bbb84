import { createHash, type Hash } from 'node:crypto';

/**
 * The record of one simulated run: every event as a line, folded into a
 * sha256 so two runs of one seed can be compared by a single hash. Lines are
 * also handed to `sink` (the CLI's --verbose) when one is given.
 */
export class Trace {
  private readonly hash: Hash = createHash('sha256');
  private lineCount = 0;
  private digest: string | undefined;

  constructor(private readonly sink?: (line: string) => void) {}

  record(nowMs: number, line: string): void {
    if (this.digest !== undefined) throw new Error('trace: record after the hash was taken');
    const stamped = `${nowMs} ${line}`;
    this.hash.update(stamped);
    this.hash.update('\n');
    this.lineCount++;
    this.sink?.(stamped);
  }

  get lines(): number {
    return this.lineCount;
  }

  /** The hash of every line so far; the trace is closed afterwards. */
  finish(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }
}
