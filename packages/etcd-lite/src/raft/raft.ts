// The Raft state machine (in the shape of etcd-io/raft's raft.go): step() and
// tick() only change state and queue outgoing messages in `messages`; the
// RawNode turns that state into Ready values. Synchronous and deterministic:
// randomness comes only from config.random, time only from tick().
import { applyConfChangeTo, decodeConfChange } from './conf-change';
import { bytesEqual, entriesSizeBytes, isEmptyHardState } from './entries';
import { ConfChangeError, invariant, RaftConfigError, ReadIndexDroppedError } from './errors';
import { RaftLog } from './log';
import type { Progress } from './progress';
import { ReadOnlyQueue } from './read-only';
import { ProgressTracker } from './tracker';
import {
  CompactedError,
  EMPTY_BYTES,
  message,
  NO_NODE,
  ProposalDroppedError,
  SnapshotTemporarilyUnavailableError,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type MessageType,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type Snapshot,
  type SoftState,
  type StateRole,
} from './types';

/** MsgVote/MsgPreVote context of a leadership transfer: lets the vote through a follower's leader lease. */
export const CAMPAIGN_TRANSFER_CONTEXT: Uint8Array = new Uint8Array([116, 114, 97, 110, 115, 102, 101, 114]); // "transfer"

const DEFAULT_MAX_PENDING_READ_INDEX_REQUESTS = 1024;

type CampaignKind = 'preElection' | 'election' | 'transfer';

type OutgoingMessage = Partial<Message> & Pick<Message, 'type' | 'to'>;

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NO_NODE;
  lead: NodeId = NO_NODE;
  role: StateRole = 'follower';
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  /** Messages to send, drained by each Ready. */
  messages: Message[] = [];
  /** Answered read-index requests, drained by each Ready. */
  readStates: ReadState[] = [];
  leadTransferee: NodeId = NO_NODE;
  /**
   * Index of the newest conf change the leader has appended; a new one is
   * refused until the log is applied past it (one change at a time).
   */
  pendingConfIndex = 0;
  /** Data bytes appended by this leader and not yet applied. */
  uncommittedSizeBytes = 0;
  private readOnly: ReadOnlyQueue;
  /** Reads that arrived before this leader committed an entry of its term. */
  private pendingReadIndexMessages: Message[] = [];
  /** Ticks since the last election timeout (follower: since hearing from the leader). */
  electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTicks = 0;

  private readonly electionTicks: number;
  private readonly heartbeatTicks: number;
  private readonly checkQuorum: boolean;
  private readonly preVote: boolean;
  private readonly maxSizePerMessageBytes: number;
  private readonly maxUncommittedEntriesBytes: number;
  private readonly maxPendingReadIndexRequests: number;
  private readonly random: () => number;

  constructor(config: RaftConfig) {
    validateConfig(config);
    this.id = config.id;
    this.electionTicks = config.electionTicks;
    this.heartbeatTicks = config.heartbeatTicks;
    this.checkQuorum = config.checkQuorum;
    this.preVote = config.preVote;
    this.maxSizePerMessageBytes = config.maxSizePerMessageBytes;
    this.maxUncommittedEntriesBytes = config.maxUncommittedEntriesBytes;
    this.maxPendingReadIndexRequests = config.maxPendingReadIndexRequests ?? DEFAULT_MAX_PENDING_READ_INDEX_REQUESTS;
    this.random = config.random;
    this.readOnly = new ReadOnlyQueue(this.maxPendingReadIndexRequests);
    this.log = new RaftLog(config.storage, config.maxCommittedSizePerReadyBytes ?? config.maxSizePerMessageBytes);
    this.tracker = new ProgressTracker(config.maxInflightMessages, config.maxInflightBytes);

    const { hardState, confState } = config.storage.initialState();
    this.switchToConfig(confState);
    if (!isEmptyHardState(hardState)) this.loadHardState(hardState);
    if (config.applied > 0) {
      if (config.applied < this.log.applied || config.applied > this.log.committed) {
        throw new RaftConfigError(
          'applied',
          `is ${config.applied}, outside [snapshot index ${this.log.applied}, commit index ${this.log.committed}]`,
        );
      }
      this.log.appliedTo(config.applied);
    }
    this.becomeFollower(this.term, NO_NODE);
  }

  softState(): SoftState {
    return { leader: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /** Whether this node may campaign: a voter of the current config with no snapshot waiting to be applied. */
  promotable(): boolean {
    const progress = this.tracker.progress.get(this.id);
    return progress !== undefined && !progress.isLearner && !this.log.hasPendingSnapshot();
  }

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /**
   * Feeds one message to the state machine. Throws ProposalDroppedError /
   * ReadIndexDroppedError only for requests made on this node (from === id);
   * a peer's forwarded request is dropped silently, as the network may drop it too.
   */
  step(m: Message): void {
    if (m.term === 0) {
      // Local message, or a forwarded proposal / read (they carry no term).
    } else if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        const forced = bytesEqual(m.context, CAMPAIGN_TRANSFER_CONTEXT);
        // Leader lease: a node that heard from a leader within the election
        // timeout ignores (pre)candidates, so a rejoining partitioned node
        // cannot depose a healthy leader.
        const inLease =
          (this.checkQuorum || this.preVote) && this.lead !== NO_NODE && this.electionElapsed < this.electionTicks;
        if (inLease && !forced) return;
      }
      if (m.type === 'MsgPreVote') {
        // A pre-vote never changes our term.
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // A granted pre-vote carries the term we would campaign at; the term changes only if the election starts.
      } else if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NO_NODE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
        // Tell a stale leader about the newer term so it steps down; otherwise,
        // with CheckQuorum or PreVote, a node cut off at a higher term could never rejoin.
        this.send({ type: 'MsgAppResp', to: m.from });
      } else if (m.type === 'MsgPreVote') {
        this.send({ type: 'MsgPreVoteResp', to: m.from, term: this.term, reject: true });
      }
      return;
    }

    switch (m.type) {
      case 'MsgHup':
        this.hup(this.preVote ? 'preElection' : 'election');
        return;
      case 'MsgVote':
      case 'MsgPreVote':
        this.handleVoteRequest(m);
        return;
      default:
        break;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  // ---- Roles -------------------------------------------------------------

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  private becomeCandidate(): void {
    invariant(this.role !== 'leader', 'a leader cannot become a candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomePreCandidate(): void {
    invariant(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    // Neither the term nor the vote changes: a failed pre-election leaves no trace.
    this.tracker.resetVotes();
    this.lead = NO_NODE;
    this.role = 'preCandidate';
  }

  private becomeLeader(): void {
    invariant(this.role !== 'follower', 'a follower cannot become leader without an election');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const self = this.tracker.progress.get(this.id);
    invariant(self !== undefined, 'a leader must be a member of its configuration');
    self.becomeReplicate();
    self.recentActive = true;
    // Any conf change in the uncommitted tail may still apply: count it as pending.
    this.pendingConfIndex = this.log.lastIndex();
    // An entry of the new term commits everything before it (figure 8) and
    // unlocks read-index requests.
    const appended = this.appendEntries([{ term: 0, index: 0, type: 'normal', data: EMPTY_BYTES }]);
    invariant(appended, 'the empty entry of a new leader must be accepted');
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NO_NODE;
    }
    this.lead = NO_NODE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = NO_NODE;
    this.tracker.resetVotes();
    const lastIndex = this.log.lastIndex();
    for (const [id, old] of this.tracker.progress) {
      const progress = this.tracker.newProgress(id === this.id ? lastIndex : 0, lastIndex + 1, old.isLearner);
      progress.recentActive = false;
      this.tracker.progress.set(id, progress);
    }
    this.pendingConfIndex = 0;
    this.uncommittedSizeBytes = 0;
    this.readOnly = new ReadOnlyQueue(this.maxPendingReadIndexRequests);
    this.pendingReadIndexMessages = [];
  }

  private resetRandomizedElectionTimeout(): void {
    const sample = this.random();
    invariant(sample >= 0 && sample < 1, () => `config.random returned ${sample}, outside [0, 1)`);
    this.randomizedElectionTicks = this.electionTicks + Math.floor(sample * this.electionTicks);
  }

  private loadHardState(hardState: HardState): void {
    invariant(
      hardState.commit >= this.log.committed && hardState.commit <= this.log.lastIndex(),
      () =>
        `stored commit ${hardState.commit} outside [${this.log.committed}, ${this.log.lastIndex()}]: storage lost entries`,
    );
    this.log.committed = hardState.commit;
    this.term = hardState.term;
    this.vote = hardState.vote;
  }

  // ---- Time --------------------------------------------------------------

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTicks) {
      this.electionElapsed = 0;
      this.step(message({ type: 'MsgHup', from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(message({ type: 'MsgCheckQuorum', from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.role === 'leader' && this.leadTransferee !== NO_NODE) this.leadTransferee = NO_NODE;
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: 'MsgBeat', from: this.id }));
    }
  }

  // ---- Elections ---------------------------------------------------------

  private hup(kind: CampaignKind): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    // A committed but unapplied conf change may remove us or change the quorum: wait for it.
    if (this.hasUnappliedConfChanges()) return;
    this.campaign(kind);
  }

  private hasUnappliedConfChanges(): boolean {
    let low = Math.max(this.log.applied + 1, this.log.firstIndex());
    const high = this.log.committed + 1;
    while (low < high) {
      const page = this.log.slice(low, high, this.maxSizePerMessageBytes);
      if (page.some((entry) => entry.type === 'confChange')) return true;
      low += page.length;
    }
    return false;
  }

  private campaign(kind: CampaignKind): void {
    let voteType: MessageType;
    let voteTerm: number;
    if (kind === 'preElection') {
      this.becomePreCandidate();
      voteType = 'MsgPreVote';
      // The term we would campaign at; our own term stays until the pre-election is won.
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = 'MsgVote';
      voteTerm = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // A single voter wins at once.
      if (kind === 'preElection') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.tracker.sortedVoters()) {
      if (id === this.id) continue;
      this.send({
        type: voteType,
        to: id,
        term: voteTerm,
        index: lastIndex,
        logTerm: lastTerm,
        context: kind === 'transfer' ? CAMPAIGN_TRANSFER_CONTEXT : EMPTY_BYTES,
      });
    }
  }

  private poll(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    this.tracker.recordVote(from, granted);
    return this.tracker.tallyVotes().result;
  }

  private handleVoteRequest(m: Message): void {
    const responseType: MessageType = m.type === 'MsgVote' ? 'MsgVoteResp' : 'MsgPreVoteResp';
    const canVote =
      this.vote === m.from ||
      (this.vote === NO_NODE && this.lead === NO_NODE) ||
      (m.type === 'MsgPreVote' && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // The response carries the requested term: a granted pre-vote must not look stale to the pre-candidate.
      this.send({ type: responseType, to: m.from, term: m.term });
      if (m.type === 'MsgVote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: responseType, to: m.from, term: this.term, reject: true });
    }
  }

  // ---- Leader ------------------------------------------------------------

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'MsgBeat':
        this.broadcastHeartbeat();
        return;
      case 'MsgCheckQuorum':
        if (!this.tracker.quorumActive(this.id)) {
          this.becomeFollower(this.term, NO_NODE);
          return;
        }
        for (const [id, progress] of this.tracker.progress) {
          if (id !== this.id) progress.recentActive = false;
        }
        return;
      case 'MsgProp':
        this.handleProposal(m);
        return;
      case 'MsgReadIndex':
        this.handleLeaderReadIndex(m);
        return;
      default:
        break;
    }
    const progress = this.tracker.progress.get(m.from);
    if (progress === undefined) return;
    switch (m.type) {
      case 'MsgAppResp':
        this.handleAppendResponse(m, progress);
        return;
      case 'MsgHeartbeatResp':
        this.handleHeartbeatResponse(m, progress);
        return;
      case 'MsgSnapStatus':
        if (progress.state !== 'snapshot') return;
        // A failed snapshot is retried from scratch; a delivered one resumes after its index.
        if (m.reject) progress.pendingSnapshot = 0;
        progress.becomeProbe();
        // Wait for the follower's answer (or the next heartbeat) before probing.
        progress.paused = true;
        return;
      case 'MsgUnreachable':
        // Pipelining into a dead link only fills the window: fall back to probing.
        if (progress.state === 'replicate') progress.becomeProbe();
        return;
      case 'MsgTransferLeader':
        this.handleTransferLeader(m.from, progress);
        return;
      default:
        return;
    }
  }

  private handleProposal(m: Message): void {
    const local = m.from === this.id;
    invariant(m.entries.length > 0, 'a proposal without entries');
    if (!this.tracker.progress.has(this.id)) {
      return this.dropProposal(local, 'this leader has been removed from the cluster');
    }
    if (this.leadTransferee !== NO_NODE) {
      return this.dropProposal(local, `leadership transfer to ${this.leadTransferee} in progress`);
    }
    let confChangeOffset = -1;
    for (const [offset, entry] of m.entries.entries()) {
      if (entry.type !== 'confChange') continue;
      const refusal = this.refuseConfChange(entry, confChangeOffset >= 0);
      if (refusal !== undefined) return this.dropProposal(local, refusal);
      confChangeOffset = offset;
    }
    const firstIndex = this.log.lastIndex() + 1;
    if (!this.appendEntries(m.entries)) {
      return this.dropProposal(
        local,
        `uncommitted entries exceed maxUncommittedEntriesBytes (${this.maxUncommittedEntriesBytes})`,
      );
    }
    if (confChangeOffset >= 0) this.pendingConfIndex = firstIndex + confChangeOffset;
    this.broadcastAppend();
  }

  /** Why the leader refuses a conf change proposal now, or undefined to accept it. */
  private refuseConfChange(entry: Entry, anotherInSameProposal: boolean): string | undefined {
    if (anotherInSameProposal || this.pendingConfIndex > this.log.applied) {
      return 'a membership change is already pending; propose the next one after it is applied';
    }
    let change: ConfChange;
    try {
      change = decodeConfChange(entry.data);
      applyConfChangeTo(this.tracker.confState(), change);
    } catch (error) {
      if (error instanceof ConfChangeError) return error.message;
      throw error;
    }
    return undefined;
  }

  private dropProposal(local: boolean, reason: string): void {
    if (local) throw new ProposalDroppedError(reason);
  }

  /** Stamps and appends entries as this leader's; false when the uncommitted bound refuses them. */
  private appendEntries(entries: Entry[]): boolean {
    const lastIndex = this.log.lastIndex();
    const stamped = entries.map((entry, offset) => ({ ...entry, term: this.term, index: lastIndex + 1 + offset }));
    const sizeBytes = entriesSizeBytes(stamped);
    // One entry over the bound is accepted when nothing is uncommitted, so a large proposal can still pass.
    if (
      this.maxUncommittedEntriesBytes > 0 &&
      this.uncommittedSizeBytes > 0 &&
      sizeBytes > 0 &&
      this.uncommittedSizeBytes + sizeBytes > this.maxUncommittedEntriesBytes
    ) {
      return false;
    }
    this.uncommittedSizeBytes += sizeBytes;
    const newLastIndex = this.log.append(stamped);
    const self = this.tracker.progress.get(this.id);
    invariant(self !== undefined, 'the leader appends only while a member');
    // The driver persists these entries before sending anything of this Ready, so the leader may count itself.
    self.maybeUpdate(newLastIndex);
    if (this.maybeCommit()) this.onCommitAdvanced(false);
    return true;
  }

  /** Applied entries no longer count against the uncommitted bound. */
  reduceUncommittedSize(sizeBytes: number): void {
    this.uncommittedSizeBytes = Math.max(0, this.uncommittedSizeBytes - sizeBytes);
  }

  private maybeCommit(): boolean {
    return this.log.maybeCommit(this.tracker.committed(), this.term);
  }

  private onCommitAdvanced(broadcast: boolean): void {
    this.releasePendingReadIndexMessages();
    if (broadcast) this.broadcastAppend();
  }

  private handleAppendResponse(m: Message, progress: Progress): void {
    progress.recentActive = true;
    if (m.reject) {
      // The follower's hint is the last index where its log may match ours;
      // with its term, skip our entries of every term above it at once.
      let nextProbeIndex = m.rejectHint;
      if (m.logTerm > 0) nextProbeIndex = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (progress.maybeDecreaseTo(m.index, nextProbeIndex)) {
        if (progress.state === 'replicate') progress.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    if (!progress.maybeUpdate(m.index) && !(progress.match === m.index && progress.state === 'probe')) return;
    if (progress.state === 'probe') {
      progress.becomeReplicate();
    } else if (progress.state === 'snapshot' && progress.match + 1 >= this.log.firstIndex()) {
      // The follower caught up past our compaction point: entries can flow again.
      progress.becomeProbe();
      progress.becomeReplicate();
    } else if (progress.state === 'replicate') {
      progress.inflights.freeLessOrEqual(m.index);
    }
    if (this.maybeCommit()) this.onCommitAdvanced(true);
    // Fill the in-flight window; each send either advances next or pauses the progress.
    for (let sent = 0; this.maybeSendAppend(m.from, false); sent++) {
      invariant(sent <= progress.inflights.maxMessages, 'append loop did not stop at the in-flight window');
    }
    if (m.from === this.leadTransferee && progress.match === this.log.lastIndex()) {
      this.send({ type: 'MsgTimeoutNow', to: m.from });
    }
  }

  private handleHeartbeatResponse(m: Message, progress: Progress): void {
    progress.recentActive = true;
    progress.paused = false;
    if (progress.match < this.log.lastIndex() || progress.state === 'probe') this.sendAppend(m.from);
    if (m.context.byteLength === 0) return;
    if (!this.readOnly.acknowledge(m.from, m.context, this.tracker.sortedVoters())) return;
    for (const status of this.readOnly.release(m.context)) {
      this.respondToReadIndex(status.request, status.index);
    }
  }

  private handleTransferLeader(transferee: NodeId, progress: Progress): void {
    if (progress.isLearner) return;
    if (this.leadTransferee !== NO_NODE) {
      if (this.leadTransferee === transferee) return;
      this.leadTransferee = NO_NODE;
    }
    if (transferee === this.id) return;
    // The transfer must finish within one election timeout (counted from now).
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (progress.match === this.log.lastIndex()) this.send({ type: 'MsgTimeoutNow', to: transferee });
    else this.sendAppend(transferee);
  }

  private handleLeaderReadIndex(m: Message): void {
    const local = m.from === this.id;
    if (this.tracker.isSingleton() && this.tracker.voters.has(this.id)) {
      this.respondToReadIndex(m, this.log.committed);
      return;
    }
    // Until an entry of our term commits, our commit index may lag the previous leader's.
    if (this.log.termOrZero(this.log.committed) !== this.term) {
      if (this.pendingReadIndexMessages.length >= this.maxPendingReadIndexRequests) {
        return this.dropReadIndex(local, 'too many reads wait for the new leader to commit');
      }
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.startReadIndexRound(m, local);
  }

  private startReadIndexRound(m: Message, local: boolean): void {
    if (this.readOnly.isFull()) {
      return this.dropReadIndex(local, `${this.readOnly.size} reads already wait for a heartbeat round`);
    }
    this.readOnly.add(this.log.committed, m);
    this.readOnly.acknowledge(this.id, m.context, this.tracker.sortedVoters());
    this.broadcastHeartbeat(m.context);
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    if (this.log.termOrZero(this.log.committed) !== this.term) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    // Their callers have returned already: a request over the bound is dropped silently.
    for (const m of pending) this.startReadIndexRound(m, false);
  }

  private respondToReadIndex(request: Message, index: number): void {
    if (request.from === this.id) {
      this.readStates.push({ index, requestContext: request.context });
    } else {
      this.send({ type: 'MsgReadIndexResp', to: request.from, index, context: request.context });
    }
  }

  private dropReadIndex(local: boolean, reason: string): void {
    if (local) throw new ReadIndexDroppedError(reason);
  }

  private broadcastHeartbeat(context?: Uint8Array): void {
    const heartbeatContext = context ?? this.readOnly.lastPendingContext() ?? EMPTY_BYTES;
    for (const id of this.tracker.sortedMembers()) {
      if (id === this.id) continue;
      const progress = this.tracker.progress.get(id)!;
      // Never tell a follower to commit beyond what it is known to hold.
      const commit = Math.min(progress.match, this.log.committed);
      this.send({ type: 'MsgHeartbeat', to: id, commit, context: heartbeatContext });
    }
  }

  private broadcastAppend(): void {
    for (const id of this.tracker.sortedMembers()) {
      if (id !== this.id) this.sendAppend(id);
    }
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends the next MsgApp (or a snapshot when the entries are compacted) to
   * `to`, unless its progress is paused. Returns whether a message was sent.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const progress = this.tracker.progress.get(to);
    invariant(progress !== undefined, () => `no progress for ${to}`);
    if (progress.isPaused()) return false;
    const previousIndex = progress.next - 1;
    let previousTerm: number;
    let entries: Entry[];
    try {
      previousTerm = this.log.term(previousIndex);
      // With a full window only an empty MsgApp goes out (after a heartbeat response): its answer frees the window.
      entries =
        progress.state === 'replicate' && progress.inflights.full()
          ? []
          : this.log.entriesFrom(progress.next, this.maxSizePerMessageBytes);
    } catch (error) {
      if (error instanceof CompactedError) return this.sendSnapshot(to, progress);
      throw error;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({
      type: 'MsgApp',
      to,
      index: previousIndex,
      logTerm: previousTerm,
      entries,
      commit: this.log.committed,
    });
    progress.sentEntries(entries.length, entriesSizeBytes(entries));
    return true;
  }

  private sendSnapshot(to: NodeId, progress: Progress): boolean {
    // A peer that has not answered lately may be down: do not ship a whole image into the void.
    if (!progress.recentActive) return false;
    let snapshot: Snapshot;
    try {
      snapshot = this.log.snapshot();
    } catch (error) {
      if (error instanceof SnapshotTemporarilyUnavailableError) return false;
      throw error;
    }
    invariant(
      snapshot.metadata.index > 0 && snapshot.metadata.index >= this.log.firstIndex() - 1,
      () =>
        `entries before ${this.log.firstIndex()} are compacted but the snapshot stops at ${snapshot.metadata.index}`,
    );
    progress.becomeSnapshot(snapshot.metadata.index);
    this.send({ type: 'MsgSnap', to, snapshot });
    return true;
  }

  // ---- Candidate and follower ------------------------------------------

  private stepCandidate(m: Message): void {
    const responseType: MessageType = this.role === 'preCandidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
    switch (m.type) {
      case 'MsgProp':
        return this.dropProposal(m.from === this.id, `no leader at term ${this.term} (election in progress)`);
      case 'MsgReadIndex':
        return this.dropReadIndex(m.from === this.id, `no leader at term ${this.term} (election in progress)`);
      case 'MsgApp':
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case responseType: {
        const result = this.poll(m.from, !m.reject);
        if (result === 'won') {
          if (this.role === 'preCandidate') {
            this.campaign('election');
          } else {
            this.becomeLeader();
            this.broadcastAppend();
          }
        } else if (result === 'lost') {
          this.becomeFollower(this.term, NO_NODE);
        }
        return;
      }
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'MsgProp':
        if (this.lead === NO_NODE) {
          return this.dropProposal(m.from === this.id, `no leader at term ${this.term}`);
        }
        this.send({ type: 'MsgProp', to: this.lead, entries: m.entries });
        return;
      case 'MsgApp':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'MsgTransferLeader':
        // The leader reads the transferee from `from`: only a request to make this node leader can be forwarded.
        if (this.lead !== NO_NODE && m.from === this.id) this.send({ type: 'MsgTransferLeader', to: this.lead });
        return;
      case 'MsgTimeoutNow':
        this.hup('transfer');
        return;
      case 'MsgReadIndex':
        if (m.from !== this.id) return; // the leader answers the sender: only our own reads are forwarded
        if (this.lead === NO_NODE) return this.dropReadIndex(true, `no leader at term ${this.term}`);
        this.send({ type: 'MsgReadIndex', to: this.lead, context: m.context });
        return;
      case 'MsgReadIndexResp':
        this.readStates.push({ index: m.index, requestContext: m.context });
        return;
      default:
        return;
    }
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      // Everything up to our commit index matches the leader's log already.
      this.send({ type: 'MsgAppResp', to: m.from, index: this.log.committed });
      return;
    }
    const lastNewIndex = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNewIndex !== undefined) {
      this.send({ type: 'MsgAppResp', to: m.from, index: lastNewIndex });
      return;
    }
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send({
      type: 'MsgAppResp',
      to: m.from,
      index: m.index,
      reject: true,
      rejectHint: hint.index,
      logTerm: hint.term,
    });
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    this.send({ type: 'MsgHeartbeatResp', to: m.from, context: m.context });
  }

  private handleSnapshot(m: Message): void {
    if (m.snapshot === undefined) return;
    const index = this.restore(m.snapshot) ? this.log.lastIndex() : this.log.committed;
    this.send({ type: 'MsgAppResp', to: m.from, index });
  }

  /** Installs a leader's snapshot; false when it brings nothing new. */
  private restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata;
    if (index <= this.log.committed) return false;
    invariant(this.role === 'follower', 'only a follower installs a snapshot');
    if (!confState.voters.includes(this.id) && !confState.learners.includes(this.id)) {
      // A snapshot of a configuration without us: we are being removed, keep what we have.
      return false;
    }
    if (this.log.matchTerm(index, term)) {
      // We already hold the snapshot's last entry: fast-forward the commit index instead.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    this.tracker.progress.clear();
    this.switchToConfig(confState);
    return true;
  }

  // ---- Membership --------------------------------------------------------

  applyConfChange(change: ConfChange): ConfState {
    return this.switchToConfig(applyConfChangeTo(this.tracker.confState(), change));
  }

  private switchToConfig(confState: ConfState): ConfState {
    this.tracker.setMembership(confState, this.log.lastIndex());
    const result = this.tracker.confState();
    const self = this.tracker.progress.get(this.id);
    if (this.role !== 'leader') return result;
    if (self === undefined || self.isLearner) {
      // Removed or demoted: the rest of the cluster elects a leader among its voters.
      this.becomeFollower(this.term, NO_NODE);
      return result;
    }
    // The quorum changed: the commit index may move, and new members need the log.
    if (this.maybeCommit()) {
      this.onCommitAdvanced(true);
    } else {
      for (const id of this.tracker.sortedMembers()) {
        if (id !== this.id) this.maybeSendAppend(id, false);
      }
    }
    if (this.leadTransferee !== NO_NODE && !this.tracker.voters.has(this.leadTransferee)) {
      this.leadTransferee = NO_NODE;
    }
    return result;
  }

  // ---- Messages ----------------------------------------------------------

  private send(fields: OutgoingMessage): void {
    const m = message({ ...fields, from: this.id });
    if (m.type === 'MsgVote' || m.type === 'MsgVoteResp' || m.type === 'MsgPreVote' || m.type === 'MsgPreVoteResp') {
      // Vote terms differ from ours (a pre-vote asks for term + 1): the caller sets them.
      invariant(m.term !== 0, () => `${m.type} sent without a term`);
    } else {
      invariant(m.term === 0, () => `${m.type} must take the sender's term`);
      // Proposals and reads are not bound to a term: a new leader still serves them.
      if (m.type !== 'MsgProp' && m.type !== 'MsgReadIndex') m.term = this.term;
    }
    this.messages.push(m);
  }
}

function validateConfig(config: RaftConfig): void {
  const positiveInteger = (field: keyof RaftConfig, value: number): void => {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RaftConfigError(field, `must be a positive integer, got ${value}`);
  };
  const nonNegativeInteger = (field: keyof RaftConfig, value: number): void => {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RaftConfigError(field, `must be a non-negative integer, got ${value}`);
    }
  };
  positiveInteger('id', config.id);
  positiveInteger('heartbeatTicks', config.heartbeatTicks);
  positiveInteger('electionTicks', config.electionTicks);
  if (config.electionTicks <= config.heartbeatTicks) {
    throw new RaftConfigError('electionTicks', `(${config.electionTicks}) must exceed heartbeatTicks (${config.heartbeatTicks})`);
  }
  positiveInteger('maxInflightMessages', config.maxInflightMessages);
  nonNegativeInteger('maxSizePerMessageBytes', config.maxSizePerMessageBytes);
  nonNegativeInteger('maxInflightBytes', config.maxInflightBytes);
  if (config.maxInflightBytes > 0 && config.maxInflightBytes < config.maxSizePerMessageBytes) {
    throw new RaftConfigError(
      'maxInflightBytes',
      `(${config.maxInflightBytes}) must be 0 or at least maxSizePerMessageBytes (${config.maxSizePerMessageBytes})`,
    );
  }
  nonNegativeInteger('maxUncommittedEntriesBytes', config.maxUncommittedEntriesBytes);
  nonNegativeInteger('applied', config.applied);
  if (config.maxCommittedSizePerReadyBytes !== undefined) {
    nonNegativeInteger('maxCommittedSizePerReadyBytes', config.maxCommittedSizePerReadyBytes);
  }
  if (config.maxPendingReadIndexRequests !== undefined) {
    positiveInteger('maxPendingReadIndexRequests', config.maxPendingReadIndexRequests);
  }
  if (typeof config.random !== 'function') throw new RaftConfigError('random', 'must be a function returning [0, 1)');
}
