// Membership requests of the Cluster service: checks etcd makes before a
// change, then the change itself as a Raft conf change (add, remove,
// promote) or a membership entry (peer URL update), answered once this member
// applied it.

import { ConfigError, computeMemberId, parseUrlList } from '../config';
import type { ConfChangeType } from '../raft';
import {
  LearnerNotReadyError,
  MemberBadUrlsError,
  MemberExistsError,
  MemberNotFoundError,
  MemberNotLearnerError,
  NoLeaderError,
  NotLeaderError,
  PeerUrlExistsError,
  TooManyLearnersError,
} from './errors';
import type { MemberPeerClient } from './member-peer';
import { PeerRequestError } from './member-peer';
import type { MemberInfo, Membership } from './members';
import type { RaftNode } from './raft-node';

/** etcd lets a learner be promoted once its log matches 90% of the leader's. */
const learnerReadyFraction = 0.9;
/** etcd allows one learner at a time. */
const maxLearners = 1;

export interface ClusterOperationsOptions {
  membership: Membership;
  raftNode: RaftNode;
  peers: MemberPeerClient;
  /** Seeds new member ids, with the time, as etcd does. */
  clusterToken: string;
  /** Proposes a conf change whose context announces `member`; resolves once applied here. */
  proposeConfChange: (type: ConfChangeType, member: MemberInfo) => Promise<void>;
  /** Proposes a peer URL update; resolves once applied here. */
  proposePeerUrls: (member: MemberInfo) => Promise<void>;
  requestTimeoutMs: number;
  nowMs?: () => number;
}

export class ClusterOperations {
  private readonly now: () => number;

  constructor(private readonly options: ClusterOperationsOptions) {
    this.now = options.nowMs ?? Date.now;
  }

  list(): MemberInfo[] {
    return this.options.membership.list();
  }

  async add(peerUrls: string[], isLearner: boolean): Promise<MemberInfo> {
    const { membership } = this.options;
    const urls = normalizePeerUrls(peerUrls);
    if (membership.findByPeerUrls(urls) !== undefined) throw new PeerUrlExistsError();
    if (isLearner && membership.list().filter((member) => member.isLearner).length >= maxLearners) throw new TooManyLearnersError();
    let id = 0;
    for (let attempt = 0; id === 0 || membership.get(id) !== undefined || membership.isRemoved(id); attempt++) {
      if (attempt > 10) throw new MemberExistsError();
      id = computeMemberId(urls, `${this.options.clusterToken}${this.now()}${attempt}`);
    }
    const member: MemberInfo = { id, name: '', peerUrls: urls, clientUrls: [], isLearner };
    await this.options.proposeConfChange(isLearner ? 'addLearner' : 'addNode', member);
    return membership.get(id) ?? member;
  }

  async remove(id: number): Promise<void> {
    const member = this.options.membership.get(id);
    if (member === undefined) throw new MemberNotFoundError();
    await this.options.proposeConfChange('removeNode', member);
  }

  async update(id: number, peerUrls: string[]): Promise<void> {
    const { membership } = this.options;
    const member = membership.get(id);
    if (member === undefined) throw new MemberNotFoundError();
    const urls = normalizePeerUrls(peerUrls);
    const owner = membership.findByPeerUrls(urls);
    if (owner !== undefined && owner.id !== id) throw new PeerUrlExistsError();
    await this.options.proposePeerUrls({ ...member, peerUrls: urls });
  }

  /** Promotes a learner; only the leader can tell whether it caught up, so followers ask it. */
  async promote(id: number): Promise<void> {
    const { raftNode, membership, peers, requestTimeoutMs } = this.options;
    if (raftNode.isLeader) return this.promoteHere(id);
    const leaderUrls = membership.get(raftNode.leaderId)?.peerUrls ?? [];
    if (raftNode.leaderId === 0 || leaderUrls.length === 0) throw new NoLeaderError();
    let lastError: unknown;
    for (const url of leaderUrls) {
      try {
        await peers.memberPromote(url, id, requestTimeoutMs);
        return;
      } catch (error) {
        if (!(error instanceof PeerRequestError)) throw error;
        lastError = error;
      }
    }
    throw new NoLeaderError({ cause: lastError });
  }

  /** The leader's part of promote (also what a follower's forwarded request runs). */
  async promoteHere(id: number): Promise<void> {
    const { raftNode, membership } = this.options;
    if (!raftNode.isLeader) throw new NotLeaderError();
    const member = membership.get(id);
    if (member === undefined) throw new MemberNotFoundError();
    if (!member.isLearner) throw new MemberNotLearnerError();
    const progress = raftNode.rawNode.status().progress;
    const leaderMatch = progress.get(raftNode.rawNode.status().id)?.match ?? 0;
    const learnerMatch = progress.get(id)?.match ?? 0;
    if (learnerMatch < leaderMatch * learnerReadyFraction) throw new LearnerNotReadyError();
    await this.options.proposeConfChange('addNode', { ...member, isLearner: false });
  }
}

/** Peer URLs as the config normalizes them; etcd's "invalid URLs" error otherwise. */
function normalizePeerUrls(peerUrls: readonly string[]): string[] {
  if (peerUrls.length === 0) throw new MemberBadUrlsError();
  try {
    return peerUrls.map((url) => {
      const [normalized] = parseUrlList('peer-urls', url);
      if (normalized === undefined) throw new MemberBadUrlsError();
      return normalized;
    });
  } catch (error) {
    if (error instanceof ConfigError) throw new MemberBadUrlsError({ cause: error });
    throw error;
  }
}
