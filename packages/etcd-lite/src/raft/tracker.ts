// The membership of the cluster as the core tracks it (voters, learners), the
// leader's Progress for each member, and the votes of the current election.
import { invariant } from './errors';
import { Progress } from './progress';
import { majorityCommittedIndex, voteResult, type VoteResult } from './quorum';
import type { ConfState, NodeId } from './types';

export class ProgressTracker {
  voters = new Set<NodeId>();
  learners = new Set<NodeId>();
  /** One Progress per member (voters and learners). */
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();

  constructor(
    private readonly maxInflightMessages: number,
    private readonly maxInflightBytes: number,
  ) {}

  confState(): ConfState {
    return { voters: this.sortedVoters(), learners: [...this.learners].sort((a, b) => a - b) };
  }

  sortedVoters(): NodeId[] {
    return [...this.voters].sort((a, b) => a - b);
  }

  /** Members in id order, so every replica visits peers (and emits messages) in the same order. */
  sortedMembers(): NodeId[] {
    return [...this.progress.keys()].sort((a, b) => a - b);
  }

  isSingleton(): boolean {
    return this.voters.size === 1;
  }

  newProgress(match: number, next: number, isLearner: boolean): Progress {
    return new Progress(match, next, isLearner, this.maxInflightMessages, this.maxInflightBytes);
  }

  /** Replaces the membership; members that stay keep their Progress, new ones start probing at `nextIndex`. */
  setMembership(confState: ConfState, nextIndex: number): void {
    const voters = new Set(confState.voters);
    const learners = new Set(confState.learners);
    for (const id of learners) invariant(!voters.has(id), () => `node ${id} is both voter and learner`);
    for (const id of [...this.progress.keys()]) {
      if (!voters.has(id) && !learners.has(id)) this.progress.delete(id);
    }
    for (const id of [...voters, ...learners]) {
      const existing = this.progress.get(id);
      if (existing === undefined) {
        this.progress.set(id, this.newProgress(0, Math.max(nextIndex, 1), learners.has(id)));
      } else {
        existing.isLearner = learners.has(id);
      }
    }
    this.voters = voters;
    this.learners = learners;
  }

  /** The highest index replicated on a quorum of voters. */
  committed(): number {
    return majorityCommittedIndex(this.sortedVoters(), (id) => this.progress.get(id)?.match ?? 0);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const vote = this.votes.get(id);
      if (vote === true) granted++;
      else if (vote === false) rejected++;
    }
    return { granted, rejected, result: voteResult(this.sortedVoters(), this.votes) };
  }

  /** Whether a quorum of voters was heard from recently (the leader itself always counts). */
  quorumActive(selfId: NodeId): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const id of this.voters) {
      votes.set(id, id === selfId || this.progress.get(id)?.recentActive === true);
    }
    return voteResult(this.sortedVoters(), votes) === 'won';
  }
}
