// An etcd-lite member: the write-ahead log and the backend in the data dir,
// the MVCC store, watches, leases and membership on top of the backend, the
// raft loop tying them to the other members through the peer transport, and
// etcd's v3 gRPC API for clients.
//
// Writes are proposed through Raft and answered when this member applies
// them; linearizable reads wait for a read index; everything else (watches,
// serializable reads, status) is served from this member's state.

import type * as grpc from '@grpc/grpc-js';
import { RocksDbBackend } from '../backend';
import type { EtcdLiteConfig } from '../config';
import type * as pb from '../etcdpb/types';
import { Lessor } from '../lease';
import { Logger, Metrics } from '../observability';
import { MvccStore, WatchableStore } from '../mvcc';
import { NO_NODE, ProposalDroppedError, type ConfChange, type ConfChangeType, type NodeId, type SoftState } from '../raft';
import { Applier } from './apply';
import { encodeRaftRequest, encodeRaftRequestFromWire, LocalProposals, wireBytesOf, type InternalRequest, type ResponseByType } from './apply-request';
import { checkRequestSize, defaultRequestLimits, type RequestLimits } from './apply-validate';
import { ClusterOperations } from './cluster-ops';
import { BadLeaderTransfereeError, NoLeaderError, NotLeaderError, StoppedError, TimeoutError } from './errors';
import type { CancelSignal } from './grpc-common';
import { startClientServer, type ClientServer } from './grpc-server';
import { LeaseKeeper } from './leases';
import { encodeConfChangeContext, encodeMemberEntry } from './member-entries';
import { MemberPeerClient, registerMemberPeerService, type ClusterInfo } from './member-peer';
import { Membership, type MemberInfo } from './members';
import { bindPeerServer } from './grpc-listen';
import { MemberRemovedError, RequestCancelledError } from './lifecycle-errors';
import { RaftNode } from './raft-node';
import { DurableRaftStorage } from './raft-storage';
import { ReadBarrier } from './read-barrier';
import { BackendSnapshotImages } from './snapshot-images';
import { EtcdStateMachine, type ProposalOutcome } from './state-machine';
import { openParts, type OpenOptions, type Parts } from './etcd-server-open';
import { PeerTransport } from './transport';
import { formatId } from './transport-service';
import { RequestIdGenerator, WaiterRegistry } from './waiters';

export { ETCD_API_VERSION } from './version';

export interface EtcdServerOptions extends OpenOptions {
  /** How often the leader looks for expired leases; etcd's 500 ms by default. */
  leaseCheckIntervalMs?: number;
  /** Interval of progress notifications to watches that asked for them; etcd's 10 minutes by default. */
  progressNotifyIntervalMs?: number;
  /** How long a write or linearizable read may wait; etcd's 5 s plus two election timeouts by default. */
  requestTimeoutMs?: number;
  /** Entries kept behind a snapshot for slow followers; etcd keeps 5000. */
  snapshotCatchUpEntries?: number;
  /** Seeded randomness for the Raft core (election timeouts). */
  random?: () => number;
}


export class EtcdServer {
  readonly memberId: number;
  readonly clusterId: number;
  readonly name: string;
  readonly config: EtcdLiteConfig;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  readonly store: MvccStore;
  readonly watchable: WatchableStore;
  readonly lessor: Lessor;
  readonly membership: Membership;
  readonly raftNode: RaftNode;
  readonly leases: LeaseKeeper;
  readonly cluster: ClusterOperations;
  readonly requestTimeoutMs: number;
  readonly limits: RequestLimits;
  /** Settles when the member stopped: resolves after stop(), rejects after a fatal error or its removal. */
  readonly done: Promise<void>;

  private readonly storage: DurableRaftStorage;
  private readonly backend: RocksDbBackend;
  private readonly peers: MemberPeerClient;
  private readonly transport: PeerTransport;
  /** Backend images for MsgSnap: read for followers that need one, received from the leader. */
  private readonly snapshotImages: BackendSnapshotImages;
  private readonly knownMembers: Map<number, MemberInfo>;
  private readonly waiters = new WaiterRegistry<ProposalOutcome>();
  private readonly localProposals = new LocalProposals();
  private readonly requestIds: RequestIdGenerator;
  private readonly readBarrier: ReadBarrier;
  private readonly leaderListeners = new Set<() => void>();
  private readonly unreachableLoggedAtMs = new Map<NodeId, number>();
  /** The peer URLs the transport was given per member. */
  private readonly peerUrlsInUse = new Map<NodeId, string>();
  private readonly options: EtcdServerOptions;
  private readonly peerMaxMessageBytes: number;
  private peerServer: grpc.Server | undefined;
  private clientServer: ClientServer | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private metricsTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private settleDone!: { resolve: () => void; reject: (error: unknown) => void };

  private constructor(options: EtcdServerOptions, parts: Parts) {
    this.options = options;
    const { config, logger, identity } = parts;
    this.config = config;
    this.name = config.name;
    this.logger = logger;
    this.metrics = parts.metrics;
    this.memberId = identity.memberId;
    this.clusterId = identity.clusterId;
    this.storage = parts.storage;
    this.backend = parts.backend;
    this.store = parts.store;
    this.lessor = parts.lessor;
    this.membership = parts.membership;
    this.knownMembers = parts.knownMembers;
    this.peers = parts.peers;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000 + 2 * config.electionTimeoutMs;
    this.limits = { ...defaultRequestLimits, maxRequestBytes: config.maxRequestBytes };
    this.requestIds = new RequestIdGenerator(this.memberId);
    this.done = new Promise<void>((resolve, reject) => (this.settleDone = { resolve, reject }));
    // A caller that never awaits `done` must not see an unhandled rejection.
    this.done.catch(() => undefined);
    this.watchable = new WatchableStore(this.store);
    // Raft messages batch entries up to 1 MiB, but one entry may be a whole request.
    this.peerMaxMessageBytes = Math.max(64 * 1024 * 1024, 4 * config.maxRequestBytes);

    this.snapshotImages = new BackendSnapshotImages({ backend: this.backend, logger: logger.child({ component: 'snapshot' }) });
    const applier = new Applier({ store: this.store, lessor: this.lessor, clusterId: this.clusterId, memberId: this.memberId, limits: this.limits });
    const stateMachine = new EtcdStateMachine({
      backend: this.backend,
      store: this.store,
      lessor: this.lessor,
      applier,
      membership: this.membership,
      clusterId: this.clusterId,
      initialMember: (id) => this.knownMembers.get(id),
      waiters: this.waiters,
      localProposals: this.localProposals,
      receivedImage: (metadata) => this.snapshotImages.take(metadata),
      onMembershipChanged: (change) => this.membershipChanged(change),
      logger: logger.child({ component: 'apply' }),
    });
    this.transport = new PeerTransport({
      memberId: this.memberId,
      clusterId: this.clusterId,
      onMessage: (message) => this.raftNode.step(message),
      onUnreachable: (peerId) => this.peerUnreachable(peerId),
      onSnapshotStatus: (peerId, failed) => this.raftNode.reportSnapshot(peerId, failed),
      snapshotImages: this.snapshotImages,
      logger,
      ...(parts.metrics === undefined ? {} : { metrics: parts.metrics }),
      maxMessageBytes: this.peerMaxMessageBytes,
    });
    const bootstrapPeers =
      config.initialClusterState === 'new' && this.storage.lastIndex() === 0 ? config.initialCluster.map((member) => member.id) : [];
    this.raftNode = new RaftNode({
      id: this.memberId,
      storage: this.storage,
      stateMachine,
      sender: this.transport,
      tickIntervalMs: config.heartbeatIntervalMs,
      electionTicks: config.electionTicks,
      bootstrapPeers,
      snapshotEntries: config.snapshotCount,
      snapshotCatchUpEntries: options.snapshotCatchUpEntries ?? 5000,
      random: options.random ?? Math.random,
      onSoftState: (state) => this.softStateChanged(state),
      onSnapshot: (index) => logger.info('saved snapshot', { index, revision: this.store.revision }),
      onFatal: (error) => this.fatal(error),
    });
    this.readBarrier = new ReadBarrier({
      raftNode: this.raftNode,
      requestTimeoutMs: this.requestTimeoutMs,
      roundTimeoutMs: Math.max(500, 2 * config.electionTimeoutMs),
      leaderChangeOr: (ms) => this.leaderChangeOr(ms),
    });
    this.leases = new LeaseKeeper({
      lessor: this.lessor,
      raftNode: this.raftNode,
      membership: this.membership,
      peers: this.peers,
      proposeRevoke: async (id) => {
        await this.propose({ type: 'leaseRevoke', request: { ID: id } });
      },
      leaderChangeOr: (ms) => this.leaderChangeOr(ms),
      checkIntervalMs: options.leaseCheckIntervalMs ?? 500,
      promoteExtensionMs: config.electionTimeoutMs,
      requestTimeoutMs: this.requestTimeoutMs,
      logger: logger.child({ component: 'lease' }),
    });
    this.cluster = new ClusterOperations({
      membership: this.membership,
      raftNode: this.raftNode,
      peers: this.peers,
      clusterToken: config.initialClusterToken,
      proposeConfChange: (type, member) => this.proposeConfChange(type, member),
      proposePeerUrls: (member) => this.proposeMemberEntry('peerUrls', member),
      requestTimeoutMs: this.requestTimeoutMs,
    });
  }

  /** Opens the data dir, joins or bootstraps the cluster and serves clients; resolves once serving. */
  static async start(options: EtcdServerOptions): Promise<EtcdServer> {
    const parts = await openParts(options);
    const server = new EtcdServer(options, parts);
    try {
      await server.serve();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** The client URLs actually served (a port 0 in --listen-client-urls replaced by the bound port). */
  get clientUrls(): string[] {
    return [...(this.clientServer?.urls ?? [])];
  }

  get leaderId(): NodeId {
    return this.raftNode.leaderId;
  }

  get isLearner(): boolean {
    return this.membership.get(this.memberId)?.isLearner ?? false;
  }

  /** Stops serving clients, then the raft loop and the peers, then flushes and closes the data dir. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  // ---- what the gRPC services use ----

  header(revision: number = this.store.revision): pb.ResponseHeader {
    return { cluster_id: this.clusterId, member_id: this.memberId, revision, raft_term: this.raftNode.term };
  }

  /** Proposes a client request through Raft and resolves with its response once applied here. */
  async propose<R extends InternalRequest>(body: R, signal?: CancelSignal): Promise<ResponseByType[R['type']]> {
    const id = this.requestIds.next();
    const wireBytes = wireBytesOf(body.request);
    const data = wireBytes === undefined ? encodeRaftRequest({ id, body }) : encodeRaftRequestFromWire(id, body.type, wireBytes);
    checkRequestSize(data.length, this.limits);
    if (wireBytes !== undefined) this.localProposals.remember(data, { id, body });
    const outcome = await this.proposeAndWait(id, () => this.raftNode.propose(data), signal);
    if (outcome.status === 'failed') throw outcome.error;
    return outcome.response as ResponseByType[R['type']];
  }

  /** Resolves when a read served from this member's state is linearizable. */
  linearizableBarrier(): Promise<void> {
    return this.readBarrier.wait();
  }

  /** Resolves on the next leader change, or after `ms`. */
  leaderChangeOr(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.leaderListeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.leaderListeners.add(done);
    });
  }

  /** Hands leadership to `targetId` (a voter); resolves once it leads. */
  async moveLeader(targetId: number): Promise<void> {
    if (!this.raftNode.isLeader) throw new NotLeaderError();
    const target = this.membership.get(targetId);
    const { confState } = this.raftNode.rawNode.status();
    if (target === undefined || !confState.voters.includes(targetId)) throw new BadLeaderTransfereeError();
    if (targetId === this.memberId) return;
    this.raftNode.transferLeadership(targetId);
    const deadline = Date.now() + this.requestTimeoutMs;
    while (this.raftNode.leaderId !== targetId) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new TimeoutError();
      await this.leaderChangeOr(Math.min(remainingMs, 100));
    }
  }

  /** A whole copy of the backend (for the Snapshot RPC). */
  async backendSnapshot(): Promise<Uint8Array> {
    await this.store.flush();
    return this.backend.exportSnapshot();
  }

  backendSizeBytes(): Promise<number> {
    return this.backend.sizeBytes();
  }

  // ---- internals ----

  private async serve(): Promise<void> {
    const { config, logger } = this;
    this.peerServer = await bindPeerServer(config.listenPeerUrls, (server) => {
      this.transport.register(server);
      registerMemberPeerService(
        server,
        {
          clusterInfo: (): ClusterInfo => ({ clusterId: this.clusterId, members: this.membership.list() }),
          leaseRenew: (id) => (this.raftNode.isLeader ? this.leases.renewHere(id) : Promise.reject(new NotLeaderError())),
          leaseTimeToLive: async (id, keys) => {
            if (!this.raftNode.isLeader) throw new NotLeaderError();
            return this.leases.timeToLiveHere(id, keys);
          },
          memberPromote: (id) => this.cluster.promoteHere(id),
        },
        logger,
      );
    }, this.peerMaxMessageBytes);
    this.membershipChanged();
    // Before the log has told this member who its peers are (a new cluster, a member joining one).
    for (const member of this.knownMembers.values()) {
      if (member.id !== this.memberId && !this.transport.hasPeer(member.id) && member.peerUrls.length > 0) {
        this.transport.addPeer(member.id, member.peerUrls);
        this.peerUrlsInUse.set(member.id, member.peerUrls.join(','));
      }
    }
    this.raftNode.start();
    this.leases.start();
    this.clientServer = await startClientServer(this, config.listenClientUrls);
    const progressIntervalMs = this.options.progressNotifyIntervalMs ?? 10 * 60 * 1000;
    this.progressTimer = setInterval(() => this.watchable.notifyProgress(), progressIntervalMs);
    this.progressTimer.unref();
    if (this.metrics !== undefined) {
      this.metricsTimer = setInterval(() => void this.updateMetrics(), 5000);
      this.metricsTimer.unref();
    }
    logger.info('started', {
      name: config.name,
      memberId: formatId(this.memberId),
      clusterId: formatId(this.clusterId),
      dataDir: config.dataDir,
      clientUrls: this.clientUrls,
      peerUrls: config.listenPeerUrls,
      revision: this.store.revision,
      consistentIndex: this.store.consistentIndex,
    });
    void this.publish();
  }

  /** Tells the cluster this member's name and client URLs, through Raft, until it is applied. */
  private async publish(): Promise<void> {
    const self = this.membership.get(this.memberId);
    const member: MemberInfo = {
      id: this.memberId,
      name: this.config.name,
      peerUrls: self?.peerUrls ?? [],
      clientUrls: this.config.advertiseClientUrls,
      isLearner: self?.isLearner ?? false,
    };
    while (this.stopping === undefined) {
      try {
        await this.proposeMemberEntry('attributes', member);
        this.logger.info('published member attributes to the cluster', { name: member.name, clientUrls: member.clientUrls });
        return;
      } catch (error) {
        if (this.stopping !== undefined) return;
        this.logger.debug('publishing member attributes failed; retrying', { error });
        await this.leaderChangeOr(this.config.electionTimeoutMs);
      }
    }
  }

  private async proposeMemberEntry(kind: 'attributes' | 'peerUrls', member: MemberInfo): Promise<void> {
    const requestId = this.requestIds.next();
    const data = encodeMemberEntry({ kind, requestId, member });
    await this.proposeAndWait(requestId, () => this.raftNode.propose(data));
  }

  private async proposeConfChange(type: ConfChangeType, member: MemberInfo): Promise<void> {
    const requestId = this.requestIds.next();
    const change: ConfChange = { type, nodeId: member.id, context: encodeConfChangeContext({ requestId, member }) };
    await this.proposeAndWait(requestId, () => this.raftNode.proposeConfChange(change));
  }

  /**
   * Registers a waiter for `id`, submits the proposal (retrying while Raft
   * drops it: no leader yet, a transfer or a membership change in progress)
   * and waits until this member applied it, at most requestTimeoutMs. A
   * request whose client went away (`signal`) is not proposed any more, as
   * in etcd: a write the client saw fail must not happen later.
   */
  private async proposeAndWait(id: number, submit: () => void, signal?: CancelSignal): Promise<ProposalOutcome> {
    if (this.stopping !== undefined) throw new StoppedError();
    const deadline = Date.now() + this.requestTimeoutMs;
    const outcome = this.waiters.register(id);
    const timer = setTimeout(() => this.waiters.reject(id, this.timeoutError()), this.requestTimeoutMs);
    this.metrics?.proposalsPending.set(this.waiters.size);
    try {
      for (;;) {
        if (signal?.aborted === true) throw new RequestCancelledError();
        try {
          submit();
          break;
        } catch (error) {
          if (!(error instanceof ProposalDroppedError)) throw error;
          const remainingMs = deadline - Date.now();
          if (remainingMs <= 0) throw this.timeoutError();
          await this.leaderChangeOr(Math.min(50, remainingMs));
          if (this.stopping !== undefined) throw new StoppedError();
        }
      }
      return await outcome;
    } catch (error) {
      this.waiters.reject(id, error as Error);
      this.metrics?.proposalsFailedTotal.inc();
      // The waiter's promise carries the same error; it must not go unhandled.
      outcome.catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
      this.metrics?.proposalsPending.set(this.waiters.size);
    }
  }

  private timeoutError(): Error {
    return this.raftNode.leaderId === NO_NODE ? new NoLeaderError() : new TimeoutError();
  }

  private softStateChanged(state: SoftState): void {
    this.logger.info('raft state changed', { role: state.role, leader: formatId(state.leader), term: this.raftNode.rawNode.status().hardState.term });
    this.metrics?.hasLeader.set(state.leader === NO_NODE ? 0 : 1);
    if (state.leader !== NO_NODE) this.metrics?.leaderChangesSeenTotal.inc();
    this.leases.leadershipChanged(state.role === 'leader');
    for (const listener of [...this.leaderListeners]) listener();
  }

  /** The transport follows membership: a connection per other member, none to removed ones. */
  private membershipChanged(change?: ConfChange): void {
    for (const member of this.membership.list()) {
      if (member.id === this.memberId || member.peerUrls.length === 0) continue;
      const urls = member.peerUrls.join(',');
      if (this.peerUrlsInUse.get(member.id) === urls) continue;
      // updatePeer reconnects, so it is called only when the URLs really changed.
      if (this.transport.hasPeer(member.id)) this.transport.updatePeer(member.id, member.peerUrls);
      else this.transport.addPeer(member.id, member.peerUrls);
      this.peerUrlsInUse.set(member.id, urls);
    }
    if (change === undefined) return;
    const memberId = formatId(change.nodeId);
    if (change.type === 'removeNode') {
      if (change.nodeId !== this.memberId) {
        this.transport.removePeer(change.nodeId);
        this.peerUrlsInUse.delete(change.nodeId);
      }
      this.logger.info('member removed', { memberId });
      if (change.nodeId === this.memberId) this.fatal(new MemberRemovedError(memberId));
    } else {
      this.logger.info(change.type === 'addLearner' ? 'learner member added' : 'member added or promoted', {
        memberId,
        peerUrls: this.membership.get(change.nodeId)?.peerUrls ?? [],
      });
    }
  }

  private peerUnreachable(peerId: NodeId): void {
    this.raftNode.reportUnreachable(peerId);
    const now = Date.now();
    const lastMs = this.unreachableLoggedAtMs.get(peerId) ?? 0;
    if (now - lastMs < 30_000) return;
    this.unreachableLoggedAtMs.set(peerId, now);
    this.logger.warn('peer unreachable', { remotePeerId: formatId(peerId), peerUrls: this.membership.get(peerId)?.peerUrls ?? [] });
  }

  private async updateMetrics(): Promise<void> {
    const metrics = this.metrics;
    if (metrics === undefined || this.stopping !== undefined) return;
    const status = this.raftNode.rawNode.status();
    metrics.proposalsCommittedTotal.set(status.hardState.commit);
    metrics.proposalsAppliedTotal.set(this.raftNode.applied);
    metrics.mvccDbTotalSizeInBytes.set(await this.backend.sizeBytes().catch(() => 0));
  }

  private fatal(error: unknown): void {
    if (error instanceof MemberRemovedError) this.logger.error('this member was removed from the cluster; stopping', {});
    else this.logger.error('fatal error; stopping the member', { error });
    void this.stop().then(
      () => this.settleDone.reject(error),
      () => this.settleDone.reject(error),
    );
  }

  /**
   * A leader that stops cleanly hands leadership to its most up-to-date
   * voter first, as etcd does, so the cluster does not wait an election
   * timeout to notice. Bounded by an election timeout; skipped when alone.
   */
  private async handOverLeadership(): Promise<void> {
    if (!this.raftNode.isLeader || this.raftNode.isStopped) return;
    const status = this.raftNode.rawNode.status();
    let target = NO_NODE;
    let targetMatch = -1;
    for (const voter of status.confState.voters) {
      const match = status.progress.get(voter)?.match ?? -1;
      if (voter !== this.memberId && match > targetMatch) {
        target = voter;
        targetMatch = match;
      }
    }
    if (target === NO_NODE) return;
    this.logger.info('handing leadership over before stopping', { transferee: formatId(target) });
    this.raftNode.transferLeadership(target);
    const deadline = Date.now() + this.config.electionTimeoutMs;
    while (this.raftNode.isLeader && Date.now() < deadline) await this.leaderChangeOr(deadline - Date.now());
  }

  private async shutdown(): Promise<void> {
    const logger = this.logger;
    logger.info('stopping', { name: this.name });
    await this.clientServer?.close(1000);
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    if (this.metricsTimer !== undefined) clearInterval(this.metricsTimer);
    this.leases.stop();
    await this.handOverLeadership();
    this.waiters.rejectAll(new StoppedError());
    for (const listener of [...this.leaderListeners]) listener();
    await this.raftNode.stop();
    await this.transport.stop();
    await this.snapshotImages.close();
    this.peers.close();
    if (this.peerServer !== undefined) this.peerServer.forceShutdown();
    this.watchable.close();
    this.lessor.close();
    let failure: unknown;
    await this.store.flush().catch((error: unknown) => (failure = error));
    await this.backend.close().catch((error: unknown) => (failure ??= error));
    await this.storage.close().catch((error: unknown) => (failure ??= error));
    if (failure !== undefined) {
      logger.error('failed to close the data dir cleanly', { error: failure });
      this.settleDone.reject(failure);
      throw failure;
    }
    logger.info('stopped', { name: this.name });
    this.settleDone.resolve();
  }
}
