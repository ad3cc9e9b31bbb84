// The driver's handle on the core: turns the state machine's changes into
// Ready values (persist, send, apply, then advance) and offers the requests a
// server makes (propose, read index, membership, transfer).
import { encodeConfChange } from './conf-change';
import { entriesSizeBytes, hardStatesEqual } from './entries';
import { RaftUsageError } from './errors';
import type { ProgressState } from './progress';
import { Raft } from './raft';
import {
  EMPTY_BYTES,
  message,
  type ConfChange,
  type ConfState,
  type HardState,
  type Message,
  type MessageType,
  type NodeId,
  type RaftConfig,
  type Ready,
  type SoftState,
} from './types';

export interface PeerProgress {
  match: number;
  next: number;
  state: ProgressState;
}

export interface RaftStatus {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  /** Last index of the log (stable or not). */
  lastIndex: number;
  confState: ConfState;
  /** Per member (itself included); empty unless this node is the leader. */
  progress: Map<NodeId, PeerProgress>;
  leadTransferee: NodeId;
}

/** Message types the core generates for itself; arriving from the network they are ignored. */
const LOCAL_MESSAGE_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  'MsgHup',
  'MsgBeat',
  'MsgUnreachable',
  'MsgSnapStatus',
  'MsgCheckQuorum',
]);

export class RawNode {
  private readonly raft: Raft;
  private previousSoftState: SoftState;
  private previousHardState: HardState;
  /** The Ready handed out and not yet acknowledged by advance(). */
  private outstandingReady: Ready | undefined = undefined;

  /** Restores the node from config.storage (hard state, conf state, log). */
  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.previousSoftState = this.raft.softState();
    this.previousHardState = this.raft.hardState();
  }

  /**
   * Starts a new cluster with `peers` as voters. Only on an empty storage: the
   * conf-change entries go in at term 1, committed, and appear in the first
   * Ready (the driver applies them like any committed conf change).
   */
  bootstrap(peers: NodeId[]): void {
    if (peers.length === 0) throw new RaftUsageError('bootstrap needs at least one peer');
    if (new Set(peers).size !== peers.length) throw new RaftUsageError(`bootstrap peers ${peers.join(',')} repeat an id`);
    const log = this.raft.log;
    if (log.lastIndex() !== 0 || log.storage.lastIndex() !== 0) {
      throw new RaftUsageError(`bootstrap on a non-empty log (last index ${log.lastIndex()})`);
    }
    this.raft.becomeFollower(1, 0);
    const changes: ConfChange[] = peers.map((nodeId) => ({ type: 'addNode', nodeId, context: EMPTY_BYTES }));
    log.append(
      changes.map((change, offset) => ({
        term: 1,
        index: offset + 1,
        type: 'confChange' as const,
        data: encodeConfChange(change),
      })),
    );
    log.commitTo(changes.length);
    for (const change of changes) this.raft.applyConfChange(change);
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (with a pre-vote round when config.preVote). */
  campaign(): void {
    this.raft.step(message({ type: 'MsgHup', from: this.raft.id }));
  }

  /** Proposes application data. Throws ProposalDroppedError when it cannot be accepted now. */
  propose(data: Uint8Array): void {
    this.raft.step(
      message({ type: 'MsgProp', from: this.raft.id, entries: [{ term: 0, index: 0, type: 'normal', data }] }),
    );
  }

  /**
   * Proposes a membership change. On the leader a change is refused with
   * ProposalDroppedError while another one is not yet applied, or when it
   * would leave no voters; a follower forwards it and the leader drops it silently.
   */
  proposeConfChange(change: ConfChange): void {
    const data = encodeConfChange(change);
    this.raft.step(
      message({ type: 'MsgProp', from: this.raft.id, entries: [{ term: 0, index: 0, type: 'confChange', data }] }),
    );
  }

  /** The driver calls this when it applies a committed confChange entry; returns the new configuration. */
  applyConfChange(change: ConfChange): ConfState {
    return this.raft.applyConfChange(change);
  }

  /** Feeds a message from a peer. Local-only types are ignored. */
  step(m: Message): void {
    if (LOCAL_MESSAGE_TYPES.has(m.type)) return;
    if (m.to !== this.raft.id) return;
    // A peer's message claiming to come from us would be treated as a local request.
    if (m.from === this.raft.id) return;
    this.raft.step(m);
  }

  /** Whether ready() has something; false while a Ready is outstanding (call advance() first). */
  hasReady(): boolean {
    if (this.outstandingReady !== undefined) return false;
    const raft = this.raft;
    const softState = raft.softState();
    return (
      softState.leader !== this.previousSoftState.leader ||
      softState.role !== this.previousSoftState.role ||
      !hardStatesEqual(raft.hardState(), this.previousHardState) ||
      raft.log.hasPendingSnapshot() ||
      raft.log.unstableEntries().length > 0 ||
      raft.log.hasNextCommittedEntries() ||
      raft.messages.length > 0 ||
      raft.readStates.length > 0
    );
  }

  /**
   * What to persist, send and apply now. The driver must persist (snapshot
   * first, then entries and hard state) before sending the messages: votes and
   * append acknowledgements in `messages` rely on that.
   */
  ready(): Ready {
    if (this.outstandingReady !== undefined) throw new RaftUsageError('ready() called again before advance()');
    const raft = this.raft;
    const softState = raft.softState();
    const hardState = raft.hardState();
    const snapshot = raft.log.unstable.snapshot;
    const entries = [...raft.log.unstableEntries()];
    const ready: Ready = {
      readStates: raft.readStates,
      entries,
      committedEntries: raft.log.nextCommittedEntries(),
      messages: raft.messages,
      mustSync:
        entries.length > 0 ||
        snapshot !== undefined ||
        hardState.term !== this.previousHardState.term ||
        hardState.vote !== this.previousHardState.vote,
    };
    if (softState.leader !== this.previousSoftState.leader || softState.role !== this.previousSoftState.role) {
      ready.softState = softState;
    }
    if (!hardStatesEqual(hardState, this.previousHardState)) ready.hardState = hardState;
    if (snapshot !== undefined) ready.snapshot = snapshot;
    raft.messages = [];
    raft.readStates = [];
    this.outstandingReady = ready;
    return ready;
  }

  /** Acknowledges the last Ready: it was persisted, sent and applied. */
  advance(): void {
    const ready = this.outstandingReady;
    if (ready === undefined) throw new RaftUsageError('advance() without an outstanding ready()');
    this.outstandingReady = undefined;
    const log = this.raft.log;
    if (ready.softState !== undefined) this.previousSoftState = ready.softState;
    if (ready.hardState !== undefined) this.previousHardState = ready.hardState;
    if (ready.snapshot !== undefined) {
      log.stableSnapshotTo(ready.snapshot.metadata.index);
      log.appliedTo(ready.snapshot.metadata.index);
    }
    const lastCommitted = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastCommitted !== undefined) {
      log.appliedTo(lastCommitted.index);
      this.raft.reduceUncommittedSize(entriesSizeBytes(ready.committedEntries));
    }
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined) log.stableTo(lastEntry.index, lastEntry.term);
  }

  /** Asks the leader to hand leadership to `transferee` (call on the leader, or on the transferee itself). */
  transferLeadership(transferee: NodeId): void {
    this.raft.step(message({ type: 'MsgTransferLeader', from: transferee }));
  }

  /**
   * Requests a linearizable read: a ReadState with the same (non-empty)
   * context appears in a later Ready. Throws ReadIndexDroppedError when no
   * leader is known or the pending-read bound is reached.
   */
  readIndex(requestContext: Uint8Array): void {
    if (requestContext.byteLength === 0) throw new RaftUsageError('readIndex needs a non-empty request context');
    this.raft.step(message({ type: 'MsgReadIndex', from: this.raft.id, context: requestContext }));
  }

  /** The transport failed to reach `id`: the leader stops pipelining to it. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(message({ type: 'MsgUnreachable', from: id }));
  }

  /** Outcome of sending a snapshot to `id`; either way its progress goes back to probing. */
  reportSnapshot(id: NodeId, failed: boolean): void {
    this.raft.step(message({ type: 'MsgSnapStatus', from: id, reject: failed }));
  }

  status(): RaftStatus {
    const raft = this.raft;
    const progress = new Map<NodeId, PeerProgress>();
    if (raft.role === 'leader') {
      for (const id of raft.tracker.sortedMembers()) {
        const peer = raft.tracker.progress.get(id)!;
        progress.set(id, { match: peer.match, next: peer.next, state: peer.state });
      }
    }
    return {
      id: raft.id,
      hardState: raft.hardState(),
      softState: raft.softState(),
      applied: raft.log.applied,
      lastIndex: raft.log.lastIndex(),
      confState: raft.tracker.confState(),
      progress,
      leadTransferee: raft.leadTransferee,
    };
  }
}

