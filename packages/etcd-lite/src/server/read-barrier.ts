// Linearizable reads, batched as etcd's linearizableReadLoop batches them:
// every read that arrives while a read-index round is in flight waits for
// the next round, so one heartbeat round to a quorum serves any number of
// concurrent reads. A round ends when the leader confirmed the read index;
// the reads of that round are then released once this member applied up to it.

import { ReadIndexDroppedError } from '../raft';
import { NoLeaderError, TimeoutError } from './errors';
import type { RaftNode } from './raft-node';

export interface ReadBarrierOptions {
  raftNode: RaftNode;
  /** Overall time a read may wait for a read index, across retries. */
  requestTimeoutMs: number;
  /** Time one round may take before it is retried (the leader may have died with it). */
  roundTimeoutMs: number;
  /** Resolves on the next leader change or after `ms`, whichever comes first. */
  leaderChangeOr: (ms: number) => Promise<void>;
}

interface Reader {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class ReadBarrier {
  private waiting: Reader[] = [];
  private roundInFlight = false;

  constructor(private readonly options: ReadBarrierOptions) {}

  /** Resolves when a read served now reflects every write acknowledged before the call. */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.maybeStartRound();
    });
  }

  private maybeStartRound(): void {
    if (this.roundInFlight || this.waiting.length === 0) return;
    const readers = this.waiting;
    this.waiting = [];
    this.roundInFlight = true;
    void this.round(readers);
  }

  private async round(readers: Reader[]): Promise<void> {
    let index: number;
    try {
      index = await this.readIndex();
    } catch (error) {
      for (const reader of readers) reader.reject(error as Error);
      return;
    } finally {
      // The next round may start while this one waits to apply.
      this.roundInFlight = false;
      this.maybeStartRound();
    }
    try {
      await this.options.raftNode.waitApplied(index);
      for (const reader of readers) reader.resolve();
    } catch (error) {
      for (const reader of readers) reader.reject(error as Error);
    }
  }

  private async readIndex(): Promise<number> {
    const { raftNode, requestTimeoutMs, roundTimeoutMs } = this.options;
    const deadline = Date.now() + requestTimeoutMs;
    for (;;) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw raftNode.leaderId === 0 ? new NoLeaderError() : new TimeoutError();
      try {
        return await raftNode.readIndex(Math.min(roundTimeoutMs, remainingMs));
      } catch (error) {
        if (error instanceof ReadIndexDroppedError) {
          await this.options.leaderChangeOr(Math.min(50, remainingMs));
        } else if (!(error instanceof TimeoutError)) {
          throw error;
        }
      }
    }
  }
}
