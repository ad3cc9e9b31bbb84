// Named pipes made ahead of time. Node cannot make a FIFO itself, and a child
// process per container (`mkfifo`) costs the kubelet's only thread a fork on
// every container create: under load that was a third of the runtime's CPU
// time. The pool makes FIFOs in batches, one `mkfifo` child per batch, in a
// directory beside the containers' directories (same file system), and hands
// them out by rename, which is one cheap system call.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** FIFOs made per mkfifo child by default. */
const DEFAULT_BATCH_SIZE = 32;
/** Refills tried per take before giving up: each one makes a whole batch, so more means mkfifo keeps failing. */
const MAX_REFILLS_PER_TAKE = 3;

/** mkfifo failed, or the pool could not hand out FIFOs. */
export class FifoCreationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FifoCreationError';
  }
}

export class FifoPool {
  private readonly available: string[] = [];
  private refilling: Promise<void> | undefined;
  private prepared = false;
  private madeCount = 0;
  private readonly prefix = randomBytes(4).toString('hex');

  constructor(
    /** Where pooled FIFOs wait: a directory of this pool's own (the owner removes what earlier processes left). */
    private readonly directory: string,
    /** FIFOs made per mkfifo child. */
    private readonly batchSize = DEFAULT_BATCH_SIZE,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`FifoPool batch size must be a whole number >= 1, got ${batchSize}`);
  }

  /** Moves one pooled FIFO to each destination (same file system as the pool), making more first when short. */
  async take(destinations: string[]): Promise<void> {
    for (let refills = 0; this.available.length < destinations.length; refills++) {
      if (refills >= MAX_REFILLS_PER_TAKE) throw new FifoCreationError(`could not make ${destinations.length} FIFOs in ${this.directory}`);
      await this.refill();
    }
    const taken = this.available.splice(0, destinations.length);
    await Promise.all(taken.map((source, index) => fs.promises.rename(source, destinations[index] as string)));
    // Refill in the background before the pool runs dry, so the next creates do not wait for mkfifo.
    if (this.available.length < this.batchSize / 2) void this.refill().catch(() => undefined);
  }

  /** FIFOs waiting in the pool (for tests). */
  get size(): number {
    return this.available.length;
  }

  private refill(): Promise<void> {
    this.refilling ??= this.makeBatch().finally(() => (this.refilling = undefined));
    return this.refilling;
  }

  private async makeBatch(): Promise<void> {
    if (!this.prepared) {
      try {
        await fs.promises.mkdir(this.directory, { recursive: true });
      } catch (error) {
        throw new FifoCreationError(`cannot make the FIFO pool directory ${this.directory}: ${(error as Error).message}`, { cause: error });
      }
      this.prepared = true;
    }
    const batch: string[] = [];
    for (let index = 0; index < this.batchSize; index++) batch.push(path.join(this.directory, `${this.prefix}-${this.madeCount++}.fifo`));
    // Node has no mkfifo; the coreutils tool is on every Linux host this runtime targets.
    await new Promise<void>((resolve, reject) => {
      execFile('mkfifo', ['-m', '600', ...batch], (error) => (error ? reject(new FifoCreationError(`mkfifo in ${this.directory} failed: ${error.message}`, { cause: error })) : resolve()));
    });
    this.available.push(...batch);
  }
}
