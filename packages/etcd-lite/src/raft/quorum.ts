// Majority arithmetic over the voters of a single configuration. Learners are
// never passed in: they neither vote nor count for commit.
import type { NodeId } from './types';

export type VoteResult = 'won' | 'lost' | 'pending';

export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The highest index acknowledged by a majority of `voters`: the quorum-th
 * largest acknowledged index (a voter with no acknowledgement counts as 0).
 * 0 for an empty voter set, so nothing is committed without voters.
 */
export function majorityCommittedIndex(voters: readonly NodeId[], ackedIndex: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const indexes = voters.map(ackedIndex).sort((a, b) => b - a);
  return indexes[quorumSize(voters.length) - 1]!;
}

/** Whether `votes` (granted or refused per voter; absent = not yet answered) decide an election. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  // An empty configuration cannot lose; callers never campaign in one.
  if (voters.length === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const quorum = quorumSize(voters.length);
  if (granted >= quorum) return 'won';
  if (granted + missing >= quorum) return 'pending';
  return 'lost';
}
