// One simulated etcd-lite member: a RawNode, its MemoryStorage as the durable
// disk, and the applied ValueList as its volatile state machine. This is the
// driver loop of the real server (persist -> send -> apply -> advance), with
// the places a machine can crash in between.

import type { SeededRandom } from '@kube-lite/testing';
import {
  decodeConfChange,
  MemoryStorage,
  RawNode,
  type ConfChange,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type Ready,
  type StateRole,
} from '../index';
import type { PersistedLog, StateMachineEvent } from './checkers';
import { decodeValue, encodeValue, ValueList } from './state-machine';

/**
 * Where, inside the handling of a Ready, an armed crash strikes. 'afterVote'
 * waits for a Ready that grants a vote and strikes once it is sent: with a
 * quick restart, that is where a vote not made durable would be cast twice.
 */
export type CrashPoint = 'afterPersist' | 'afterSend' | 'afterApply' | 'afterVote';

export interface NodeSettings {
  /** RaftConfig.electionTicks of every node. */
  electionTicks: number;
  /** RaftConfig.heartbeatTicks of every node. */
  heartbeatTicks: number;
  /** RaftConfig.checkQuorum of every node. */
  checkQuorum: boolean;
  /** RaftConfig.preVote of every node. */
  preVote: boolean;
  /** RaftConfig.maxSizePerMessageBytes: small, so catching up takes many messages. */
  maxSizePerMessageBytes: number;
  /** RaftConfig.maxInflightMessages. */
  maxInflightMessages: number;
  /** RaftConfig.maxUncommittedEntriesBytes. */
  maxUncommittedEntriesBytes: number;
  /** RaftConfig.maxCommittedSizePerReadyBytes: small, so committed entries reach the driver over several Readies. */
  maxCommittedSizePerReadyBytes: number;
  /** RaftConfig.maxPendingReadIndexRequests: small, so the leader's read queue overflows now and then. */
  maxPendingReadIndexRequests: number;
  /** A node snapshots its state machine once it has applied this many entries past its last snapshot. */
  snapshotEveryEntries: number;
  /** Entries kept in the log below a new snapshot, so slow followers can still catch up without one. */
  retainEntriesAfterSnapshot: number;
}

/** What a node needs from the cluster around it. */
export interface NodeHost {
  readonly nowMs: number;
  send(message: Message): void;
  event(event: StateMachineEvent): void;
  record(line: string): void;
  valueApplied(nodeId: NodeId, incarnation: number, value: string): void;
  confChangeApplied(nodeId: NodeId, change: ConfChange, confState: ConfState): void;
  snapshotInstalled(nodeId: NodeId, index: number): void;
}

export interface NodeStatus {
  role: StateRole;
  term: number;
  commit: number;
  leader: NodeId;
  confState: ConfState;
}

/** The simulator asked a crashed node to act: a bug in the simulator. */
export class NodeDownError extends Error {
  constructor(id: NodeId, action: string) {
    super(`simulated node ${id} is down and cannot ${action}`);
    this.name = 'NodeDownError';
  }
}

export class SimNode {
  /** The durable disk: survives crashes. */
  readonly storage = new MemoryStorage();
  private raw: RawNode | undefined;
  /** Bumped at each start, so an acknowledgement is tied to the process that took the proposal. */
  incarnation = 0;
  /** Removed from the cluster and shut down for good. */
  decommissioned = false;
  /** A crash waiting for the next Ready. */
  armedCrash: CrashPoint | undefined;
  nextTickAtMs = 0;
  private stateMachine = new ValueList();
  private appliedIndex = 0;
  private confState: ConfState = { voters: [], learners: [] };
  /** ReadIndex requests in flight: context -> highest commit index known cluster-wide when asked. */
  private readonly pendingReads = new Map<string, number>();
  private logVersion = 0;
  /**
   * Set when a membership change was applied since the last snapshot. The core,
   * like etcd's, refuses a snapshot whose configuration lacks the receiving
   * node, so a member added after the last snapshot could never catch up once
   * the log before it is compacted: the driver snapshots after every change.
   */
  private confChangedSinceSnapshot = false;
  private cachedLog: PersistedLog | undefined;

  constructor(
    readonly id: NodeId,
    private readonly settings: NodeSettings,
    private readonly random: SeededRandom,
    private readonly host: NodeHost,
  ) {}

  get up(): boolean {
    return this.raw !== undefined;
  }

  /** Starts a process over the disk; `bootstrapPeers` only for a founding member's first start. */
  start(bootstrapPeers?: NodeId[]): void {
    const snapshot = this.storage.snapshot();
    this.stateMachine = ValueList.fromImage(snapshot.data);
    this.appliedIndex = snapshot.metadata.index;
    this.confState = { voters: [...snapshot.metadata.confState.voters], learners: [...snapshot.metadata.confState.learners] };
    this.confChangedSinceSnapshot = false;
    this.incarnation++;
    this.raw = new RawNode({
      id: this.id,
      electionTicks: this.settings.electionTicks,
      heartbeatTicks: this.settings.heartbeatTicks,
      storage: this.storage,
      applied: this.appliedIndex,
      maxSizePerMessageBytes: this.settings.maxSizePerMessageBytes,
      maxInflightMessages: this.settings.maxInflightMessages,
      maxInflightBytes: 0,
      maxUncommittedEntriesBytes: this.settings.maxUncommittedEntriesBytes,
      maxCommittedSizePerReadyBytes: this.settings.maxCommittedSizePerReadyBytes,
      maxPendingReadIndexRequests: this.settings.maxPendingReadIndexRequests,
      checkQuorum: this.settings.checkQuorum,
      preVote: this.settings.preVote,
      random: () => this.random.float(),
    });
    if (bootstrapPeers !== undefined) this.raw.bootstrap(bootstrapPeers);
    this.host.event({ kind: 'restore', nodeId: this.id, index: this.appliedIndex, items: this.stateMachine.contents.slice() });
    this.host.record(`node ${this.id} start #${this.incarnation} applied=${this.appliedIndex} values=${this.stateMachine.contents.length}`);
  }

  /** Loses everything not on disk: the process, its state machine, its pending reads and unsent messages. */
  crash(reason: string): void {
    this.raw = undefined;
    this.armedCrash = undefined;
    this.pendingReads.clear();
    this.stateMachine = new ValueList();
    this.host.record(`node ${this.id} crash (${reason})`);
  }

  private node(action: string): RawNode {
    if (this.raw === undefined) throw new NodeDownError(this.id, action);
    return this.raw;
  }

  tick(): void {
    this.node('tick').tick();
  }

  step(message: Message): void {
    this.node('step').step(message);
  }

  /** Hands a client value to this node; throws the core's ProposalDroppedError when it is refused. */
  propose(value: string): void {
    this.node('propose').propose(encodeValue(value));
  }

  proposeConfChange(change: ConfChange): void {
    this.node('propose a conf change').proposeConfChange(change);
  }

  transferLeadership(transferee: NodeId): void {
    this.node('transfer leadership').transferLeadership(transferee);
  }

  reportUnreachable(peer: NodeId): void {
    this.node('report an unreachable peer').reportUnreachable(peer);
  }

  reportSnapshot(peer: NodeId, failed: boolean): void {
    this.node('report a snapshot').reportSnapshot(peer, failed);
  }

  /** Starts a ReadIndex; `minimumIndex` is what a linearizable answer must reach. */
  readIndex(context: string, minimumIndex: number): void {
    this.node('read').readIndex(encodeValue(context));
    this.pendingReads.set(context, minimumIndex);
  }

  status(): NodeStatus {
    const status = this.node('report status').status();
    return {
      role: status.softState.role,
      term: status.hardState.term,
      commit: status.hardState.commit,
      leader: status.softState.leader,
      confState: status.confState,
    };
  }

  hasReady(): boolean {
    return this.raw !== undefined && this.raw.hasReady();
  }

  /** Values in the state machine, in order; undefined while down. */
  values(): readonly string[] | undefined {
    return this.raw === undefined ? undefined : this.stateMachine.values();
  }

  /** The durable log as the checkers read it (rebuilt only after a write). */
  persistedLog(): PersistedLog {
    if (this.cachedLog?.version === this.logVersion) return this.cachedLog;
    const firstIndex = this.storage.firstIndex();
    const lastIndex = this.storage.lastIndex();
    const { hardState } = this.storage.initialState();
    this.cachedLog = {
      compactedIndex: firstIndex - 1,
      compactedTerm: this.storage.term(firstIndex - 1),
      entries: lastIndex >= firstIndex ? this.storage.entries(firstIndex, lastIndex + 1, Number.POSITIVE_INFINITY) : [],
      term: hardState.term,
      commit: hardState.commit,
      version: this.logVersion,
    };
    return this.cachedLog;
  }

  /** Handles one Ready in the driver's order. Returns false when an armed crash struck. */
  processReady(): boolean {
    const raw = this.node('handle a Ready');
    const ready = raw.ready();
    this.traceReady(ready);

    // 1. Persist. A copy goes to disk, as bytes would: the disk never shares
    // objects with the process that may die.
    if (ready.snapshot !== undefined) this.storage.applySnapshot(structuredClone(ready.snapshot));
    if (ready.entries.length > 0) this.storage.append(structuredClone(ready.entries));
    if (ready.hardState !== undefined) this.storage.setHardState({ ...ready.hardState });
    if (ready.snapshot !== undefined || ready.entries.length > 0 || ready.hardState !== undefined) this.logVersion++;
    if (this.armedCrash === 'afterPersist') return this.crashArmed();

    // 2. Send.
    for (const message of ready.messages) this.host.send(message);
    if (this.armedCrash === 'afterSend') return this.crashArmed();
    if (this.armedCrash === 'afterVote' && ready.messages.some((message) => message.type === 'MsgVoteResp' && !message.reject)) {
      return this.crashArmed();
    }

    // 3. Apply.
    if (ready.snapshot !== undefined) {
      const { metadata, data } = ready.snapshot;
      this.stateMachine = ValueList.fromImage(data);
      this.appliedIndex = metadata.index;
      this.confState = { voters: [...metadata.confState.voters], learners: [...metadata.confState.learners] };
      this.host.event({ kind: 'restore', nodeId: this.id, index: metadata.index, items: this.stateMachine.contents.slice() });
      this.host.snapshotInstalled(this.id, metadata.index);
    }
    for (const entry of ready.committedEntries) this.apply(raw, entry);
    for (const readState of ready.readStates) {
      const context = decodeValue(readState.requestContext);
      const minimumIndex = this.pendingReads.get(context);
      this.host.record(`node ${this.id} readState ${context} index=${readState.index} minimum=${minimumIndex ?? 'unknown'}`);
      if (minimumIndex === undefined) continue; // a duplicate answer, or one for a previous process
      this.pendingReads.delete(context);
      this.host.event({ kind: 'readIndex', nodeId: this.id, index: readState.index, minimumIndex });
    }
    if (this.armedCrash === 'afterApply') return this.crashArmed();

    // 4. Advance, then snapshot and compact when the log grew long enough.
    raw.advance();
    this.maybeSnapshot();
    return true;
  }

  private crashArmed(): false {
    this.crash(`armed, ${this.armedCrash ?? 'unknown point'}`);
    return false;
  }

  private apply(raw: RawNode, entry: Entry): void {
    this.appliedIndex = entry.index;
    if (entry.type === 'confChange') {
      const change = decodeConfChange(entry.data);
      this.confState = raw.applyConfChange(change);
      this.confChangedSinceSnapshot = true;
      this.host.event({ kind: 'apply', nodeId: this.id, entry });
      this.host.record(`node ${this.id} apply ${entry.index}/${entry.term} ${change.type} ${change.nodeId} -> voters=${this.confState.voters.join(',')} learners=${this.confState.learners.join(',')}`);
      this.host.confChangeApplied(this.id, change, this.confState);
      return;
    }
    if (entry.data.byteLength === 0) {
      this.host.event({ kind: 'apply', nodeId: this.id, entry });
      return;
    }
    const value = decodeValue(entry.data);
    this.stateMachine.add({ index: entry.index, term: entry.term, value });
    this.host.event({ kind: 'apply', nodeId: this.id, entry, value });
    this.host.valueApplied(this.id, this.incarnation, value);
  }

  private maybeSnapshot(): void {
    const snapshotIndex = this.storage.snapshot().metadata.index;
    const due = this.appliedIndex - snapshotIndex >= this.settings.snapshotEveryEntries;
    if (this.appliedIndex <= snapshotIndex || (!due && !this.confChangedSinceSnapshot)) return;
    this.storage.createSnapshot(this.appliedIndex, this.confState, this.stateMachine.toImage());
    this.confChangedSinceSnapshot = false;
    const compactIndex = this.appliedIndex - this.settings.retainEntriesAfterSnapshot;
    if (due && compactIndex >= this.storage.firstIndex()) this.storage.compact(compactIndex);
    this.logVersion++;
    this.host.record(`node ${this.id} snapshot at ${this.appliedIndex}, log from ${this.storage.firstIndex()}`);
  }

  private traceReady(ready: Ready): void {
    const parts: string[] = [];
    if (ready.softState !== undefined) parts.push(`role=${ready.softState.role} leader=${ready.softState.leader}`);
    if (ready.hardState !== undefined) {
      parts.push(`hard=${ready.hardState.term}/${ready.hardState.vote}/${ready.hardState.commit}`);
    }
    if (ready.entries.length > 0) {
      const first = ready.entries[0] as Entry;
      parts.push(`append=${first.index}..${first.index + ready.entries.length - 1}@${(ready.entries[ready.entries.length - 1] as Entry).term}`);
    }
    if (ready.snapshot !== undefined) parts.push(`snapshot=${ready.snapshot.metadata.index}/${ready.snapshot.metadata.term}`);
    if (ready.committedEntries.length > 0) {
      const first = ready.committedEntries[0] as Entry;
      parts.push(`apply=${first.index}..${first.index + ready.committedEntries.length - 1}`);
    }
    if (ready.messages.length > 0) parts.push(`send=${ready.messages.length}`);
    if (ready.readStates.length > 0) parts.push(`reads=${ready.readStates.length}`);
    this.host.record(`node ${this.id} ready ${parts.join(' ')}`);
  }
}
