// The leader's view of one peer: how much of the log it holds and how the
// leader sends to it ('probe': one message at a time until the match point is
// found; 'replicate': pipelined within the in-flight window; 'snapshot': wait
// for a snapshot to be installed).
import { invariant } from './errors';
import { Inflights } from './inflights';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  state: ProgressState = 'probe';
  /** Highest index known to be replicated on the peer. */
  match: number;
  /** Next index to send. */
  next: number;
  /**
   * Sending is paused: in 'probe' a message was sent and no reply or heartbeat
   * response came yet; in 'replicate' the in-flight window filled up. A
   * heartbeat response lifts it for one message, so a window whose
   * acknowledgements were all lost recovers through an empty MsgApp.
   */
  paused = false;
  /** In 'snapshot': index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last CheckQuorum round (and set for new peers so they are given a chance). */
  recentActive = true;
  readonly inflights: Inflights;

  constructor(
    match: number,
    next: number,
    public isLearner: boolean,
    maxInflightMessages: number,
    maxInflightBytes: number,
  ) {
    this.match = match;
    this.next = next;
    this.inflights = new Inflights(maxInflightMessages, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.paused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      // The snapshot may have landed: resume after it rather than from match.
      const pendingSnapshot = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pendingSnapshot + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records a MsgApp sent with `entryCount` entries ending before the new next. */
  sentEntries(entryCount: number, sizeBytes: number): void {
    switch (this.state) {
      case 'replicate':
        if (entryCount > 0) {
          this.next += entryCount;
          this.inflights.add(this.next - 1, sizeBytes);
        }
        this.paused = this.inflights.full();
        break;
      case 'probe':
        // Probing sends one message per heartbeat interval until the peer answers.
        this.paused = true;
        break;
      case 'snapshot':
        invariant(false, 'progress: sending entries in snapshot state');
    }
  }

  /** An acknowledgement up to `index`; returns whether match moved forward. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.paused = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the MsgApp at `rejected`, with the follower's hint that its
   * log may match up to `matchHint`. Returns false for a stale rejection.
   */
  maybeDecreaseTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      // A rejection of something already matched is a reordered old message.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe only the one outstanding message (at next - 1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.paused = false;
    return true;
  }

  /** Whether sending more entries must wait. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
      case 'replicate':
        return this.paused;
      case 'snapshot':
        return true;
    }
  }
}
