// The parts of leases that are not replicated: deadlines. Only the leader's
// lessor (the primary) tracks them. It becomes primary when this member wins
// an election and stops when it loses leadership; keep-alives and TTL
// questions that reach a follower are forwarded to the leader; and the leader
// looks for expired leases periodically and proposes their revocation
// through Raft, so an expiry is applied on every member and survives a
// leader change (the next leader restarts every TTL, as etcd does).

import { LeaseNotFoundError, type Lessor } from '../lease';
import type { Logger } from '../observability';
import { NO_NODE } from '../raft';
import { NoLeaderError, NotLeaderError, TimeoutError } from './errors';
import { PeerAnsweredError, PeerRequestError, type LeaseTimeToLiveAnswer, type MemberPeerClient } from './member-peer';
import type { Membership } from './members';
import type { RaftNode } from './raft-node';
import { formatId } from './transport-service';

export interface LeaseKeeperOptions {
  lessor: Lessor;
  raftNode: RaftNode;
  membership: Membership;
  peers: MemberPeerClient;
  /** Proposes the revocation of an expired lease (through Raft). */
  proposeRevoke: (id: number) => Promise<void>;
  /** Resolves on the next leader change or after `ms`. */
  leaderChangeOr: (ms: number) => Promise<void>;
  /** How often the leader looks for expired leases; etcd checks every 500 ms. */
  checkIntervalMs: number;
  /** A new leader gives every lease this much extra time, so clients can find it first (etcd: an election timeout). */
  promoteExtensionMs: number;
  requestTimeoutMs: number;
  logger: Logger;
  nowMs?: () => number;
}

const notLeaderMessage = new NotLeaderError().message;

export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.now = options.nowMs ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => this.revokeExpired(), this.options.checkIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Called on every change of this member's Raft role. */
  leadershipChanged(isLeader: boolean): void {
    const { lessor } = this.options;
    if (isLeader && !lessor.isPrimary) lessor.promote(this.now(), this.options.promoteExtensionMs);
    else if (!isLeader && lessor.isPrimary) lessor.demote();
  }

  /** A keep-alive: the lease's TTL in seconds, or 0 when there is no such lease (etcd answers so). */
  async renew(id: number): Promise<number> {
    return this.onLeader(
      () => this.renewHere(id),
      (url, timeoutMs) => this.options.peers.leaseRenew(url, id, timeoutMs),
    );
  }

  async timeToLive(id: number, keys: boolean): Promise<LeaseTimeToLiveAnswer> {
    return this.onLeader(
      async () => this.timeToLiveHere(id, keys),
      (url, timeoutMs) => this.options.peers.leaseTimeToLive(url, id, keys, timeoutMs),
    );
  }

  /** Answers a keep-alive on the leader (also for a follower that forwarded it). */
  async renewHere(id: number): Promise<number> {
    const { lessor, raftNode } = this.options;
    try {
      return lessor.renew(id, this.now());
    } catch (error) {
      if (!(error instanceof LeaseNotFoundError)) throw error;
    }
    // The grant may be committed but not applied here yet: catch up once, then decide.
    const committed = raftNode.rawNode.status().hardState.commit;
    if (raftNode.applied >= committed) return 0;
    await raftNode.waitApplied(committed);
    try {
      return lessor.renew(id, this.now());
    } catch (error) {
      if (error instanceof LeaseNotFoundError) return 0;
      throw error;
    }
  }

  timeToLiveHere(id: number, keys: boolean): LeaseTimeToLiveAnswer {
    const lease = this.options.lessor.timeToLive(id, this.now());
    if (lease === undefined) return { found: false, remainingSeconds: -1, grantedTtlSeconds: 0, keys: [] };
    return {
      found: true,
      remainingSeconds: lease.remainingSeconds,
      grantedTtlSeconds: lease.grantedTtlSeconds,
      keys: keys ? lease.keys.map((key) => key.toString('base64')) : [],
    };
  }

  private revokeExpired(): void {
    const { lessor, raftNode, logger } = this.options;
    if (!raftNode.isLeader || !lessor.isPrimary) return;
    for (const id of lessor.expiredLeases(this.now())) {
      logger.info('lease expired; revoking it', { leaseId: formatId(id) });
      this.options.proposeRevoke(id).catch((error: unknown) => {
        // The lessor offers the lease again after its retry interval.
        logger.warn('failed to revoke an expired lease', { leaseId: formatId(id), error });
      });
    }
  }

  /**
   * Runs `here` when this member leads, else `forward` to the leader's peer
   * URLs; waits for a leader (bounded) when none is known.
   */
  private async onLeader<T>(here: () => Promise<T>, forward: (url: string, timeoutMs: number) => Promise<T>): Promise<T> {
    const { raftNode, membership, requestTimeoutMs } = this.options;
    const deadline = this.now() + requestTimeoutMs;
    let lastError: unknown;
    for (;;) {
      if (raftNode.isLeader) return here();
      const leaderId = raftNode.leaderId;
      const urls = leaderId === NO_NODE ? [] : (membership.get(leaderId)?.peerUrls ?? []);
      for (const url of urls) {
        try {
          return await forward(url, Math.max(1, deadline - this.now()));
        } catch (error) {
          lastError = error;
          // The leader may have just stepped down, or be unreachable: ask again once the dust settles.
          const retriable = error instanceof PeerRequestError || (error instanceof PeerAnsweredError && error.message === notLeaderMessage);
          if (!retriable) throw error;
        }
      }
      const remainingMs = deadline - this.now();
      if (remainingMs <= 0) {
        if (raftNode.leaderId === NO_NODE) throw new NoLeaderError();
        throw new TimeoutError({ cause: lastError });
      }
      await this.options.leaderChangeOr(Math.min(100, remainingMs));
    }
  }
}
