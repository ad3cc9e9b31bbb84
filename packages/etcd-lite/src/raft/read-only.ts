// Linearizable reads without a log entry (§6.4 of the Raft thesis): the
// leader records its commit index when a read arrives, confirms it is still
// the leader by a heartbeat round carrying the request context, and then
// answers every read queued up to that context.
import { bytesKey } from './entries';
import { invariant } from './errors';
import { voteResult } from './quorum';
import type { Message, NodeId } from './types';

export interface ReadIndexStatus {
  /** The original MsgReadIndex (local, or forwarded by a follower). */
  request: Message;
  /** The leader's commit index when the request arrived. */
  index: number;
  readonly acknowledgedBy: Set<NodeId>;
}

export class ReadOnlyQueue {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private readonly order: string[] = [];

  constructor(
    /** Most reads waiting for their heartbeat round at once. */
    readonly maxPending: number,
  ) {}

  get size(): number {
    return this.order.length;
  }

  isFull(): boolean {
    return this.order.length >= this.maxPending;
  }

  /** Queues a read at `index`; a duplicate context is ignored (it is answered with the first). */
  add(index: number, request: Message): void {
    const key = bytesKey(request.context);
    if (this.pending.has(key)) return;
    invariant(!this.isFull(), 'read-only queue: add beyond its bound');
    this.pending.set(key, { request, index, acknowledgedBy: new Set() });
    this.order.push(key);
  }

  /** Records that `from` answered the heartbeat carrying `context`; returns whether voters now confirm it. */
  acknowledge(from: NodeId, context: Uint8Array, voters: readonly NodeId[]): boolean {
    const status = this.pending.get(bytesKey(context));
    if (status === undefined) return false;
    status.acknowledgedBy.add(from);
    const votes = new Map<NodeId, boolean>();
    for (const id of status.acknowledgedBy) votes.set(id, true);
    return voteResult(voters, votes) === 'won';
  }

  /**
   * Removes and returns every read queued up to and including `context`: a
   * quorum confirming a later heartbeat also confirms the earlier ones.
   */
  release(context: Uint8Array): ReadIndexStatus[] {
    const key = bytesKey(context);
    const position = this.order.indexOf(key);
    if (position < 0) return [];
    const released: ReadIndexStatus[] = [];
    for (const releasedKey of this.order.splice(0, position + 1)) {
      const status = this.pending.get(releasedKey);
      invariant(status !== undefined, 'read-only queue: order and pending disagree');
      this.pending.delete(releasedKey);
      released.push(status);
    }
    return released;
  }

  /** Context of the newest pending read, carried by the next heartbeats. */
  lastPendingContext(): Uint8Array | undefined {
    const key = this.order[this.order.length - 1];
    return key === undefined ? undefined : this.pending.get(key)?.request.context;
  }
}
