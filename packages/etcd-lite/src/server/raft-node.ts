// The raft loop: the only async driver of the pure Raft core.
//
// Everything that touches the core (ticks, peer messages, proposals, read
// requests) only changes its state and then asks for a drain. The drain takes
// one Ready at a time and does what it says: persist (one fsync for
// everything the Ready carries, which is our group commit: proposals that
// arrive while an fsync is running are batched into the next Ready), send,
// apply, advance. Two overlaps, both etcd's: a leader sends before its
// write, and committed entries are applied during the write.

import {
  type ConfChange,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  NO_NODE,
  type Ready,
  type Snapshot,
  type SoftState,
  RawNode,
  decodeConfChange,
} from '../raft';
import { StoppedError, TimeoutError } from './errors';
import type { DurableRaftStorage, PreparedSnapshot } from './raft-storage';

/** What the loop applies committed entries to (the etcd state machine). */
export interface StateMachine {
  /** Apply a committed normal entry; must be deterministic. May finish synchronously (the common case). */
  applyEntry(entry: Entry): Promise<void> | void;
  /** Apply a committed membership change after the core accepted it. */
  applyConfChange(entry: Entry, change: ConfChange, confState: ConfState): Promise<void> | void;
  /**
   * Replace the whole state, durably, with the image received from the
   * leader for this snapshot; called before the log records the snapshot.
   */
  restoreSnapshot(snapshot: Snapshot): Promise<void>;
  /**
   * Make every entry applied so far durable in the state machine's own
   * storage: the log up to there may then be dropped. A snapshot is then
   * only its metadata; the state to send a follower comes from elsewhere
   * (the transport's SnapshotImages).
   */
  persistApplied(): Promise<void>;
}

/** Where outgoing raft messages go (the peer transport). */
export interface MessageSender {
  send(messages: Message[]): void;
}

export interface RaftNodeOptions {
  id: NodeId;
  storage: DurableRaftStorage;
  stateMachine: StateMachine;
  sender: MessageSender;
  /** Wall-clock length of one raft tick; etcd's --heartbeat-interval. */
  tickIntervalMs: number;
  /** etcd's --election-timeout divided by the tick. */
  electionTicks: number;
  /** Voters to start with when the storage is empty and the member is part of a new cluster. */
  bootstrapPeers: NodeId[];
  /** Take a snapshot and compact the log after this many applied entries; etcd's --snapshot-count. */
  snapshotEntries: number;
  /** Entries kept in the log behind a snapshot so slow followers catch up without one (etcd keeps 5000). */
  snapshotCatchUpEntries: number;
  random: () => number;
  onSoftState?: (state: SoftState) => void;
  /** Told after each snapshot this member takes (for logging). */
  onSnapshot?: (index: number) => void;
  onFatal: (error: unknown) => void;
}

/** A snapshot being taken beside the loop; `prepared` is set once the state is durable and the metadata file written. */
interface SnapshotCapture {
  prepared: PreparedSnapshot | undefined;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface ReadWaiter {
  resolve: (index: number) => void;
  reject: (error: Error) => void;
}

export class RaftNode {
  readonly rawNode: RawNode;
  private appliedIndex: number;
  private snapshotIndex: number;
  private leader: NodeId = NO_NODE;
  private role: SoftState['role'] = 'follower';
  private draining = false;
  private drainRequested = false;
  private stopped = false;
  private ticker: NodeJS.Timeout | undefined;
  private drainDone: Promise<void> = Promise.resolve();
  /** A snapshot being taken beside the loop; see maybeSnapshot(). */
  private snapshotCapture: SnapshotCapture | undefined;
  private captureDone: Promise<void> = Promise.resolve();
  /** Term and vote as last persisted: a leader may send before persisting only when they did not change. */
  private durableTerm: number;
  private durableVote: NodeId;
  private nextReadId = 1;
  private readonly readWaiters = new Map<string, ReadWaiter>();
  private readonly appliedWaiters: Array<{ index: number; resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(private readonly options: RaftNodeOptions) {
    this.rawNode = new RawNode({
      id: options.id,
      electionTicks: options.electionTicks,
      heartbeatTicks: 1,
      storage: options.storage,
      // Committed entries after the last snapshot are handed out again on a
      // restart: membership changes must reach the core again, and the state
      // machine skips what its consistent index says it already has.
      applied: options.storage.snapshot().metadata.index,
      maxSizePerMessageBytes: 1024 * 1024,
      maxInflightMessages: 256,
      maxInflightBytes: 32 * 1024 * 1024,
      maxUncommittedEntriesBytes: 64 * 1024 * 1024,
      checkQuorum: true,
      preVote: true,
      random: options.random,
    });
    if (options.storage.lastIndex() === 0 && options.bootstrapPeers.length > 0) {
      this.rawNode.bootstrap(options.bootstrapPeers);
    }
    this.snapshotIndex = options.storage.snapshot().metadata.index;
    this.appliedIndex = this.snapshotIndex;
    const { hardState } = options.storage.initialState();
    this.durableTerm = hardState.term;
    this.durableVote = hardState.vote;
  }

  start(): void {
    this.ticker = setInterval(() => {
      this.rawNode.tick();
      this.requestDrain();
    }, this.options.tickIntervalMs);
    this.requestDrain();
  }

  /** Stops ticking and applying; resolves once the Ready being handled (if any) is finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    for (const waiter of this.readWaiters.values()) waiter.reject(new StoppedError());
    this.readWaiters.clear();
    for (const waiter of this.appliedWaiters.splice(0)) waiter.reject(new StoppedError());
    await this.drainDone;
    // The capture reads the backend, which the caller closes next.
    await this.captureDone;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  get leaderId(): NodeId {
    return this.leader;
  }

  /** The current term as last persisted. */
  get term(): number {
    return this.durableTerm;
  }

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  get applied(): number {
    return this.appliedIndex;
  }

  step(message: Message): void {
    if (this.stopped) return;
    this.rawNode.step(message);
    this.requestDrain();
  }

  /** Throws ProposalDroppedError when no leader is known; the caller retries. */
  propose(data: Uint8Array): void {
    if (this.stopped) throw new StoppedError();
    this.rawNode.propose(data);
    this.requestDrain();
  }

  proposeConfChange(change: ConfChange): void {
    if (this.stopped) throw new StoppedError();
    this.rawNode.proposeConfChange(change);
    this.requestDrain();
  }

  transferLeadership(transferee: NodeId): void {
    this.rawNode.transferLeadership(transferee);
    this.requestDrain();
  }

  reportUnreachable(id: NodeId): void {
    this.rawNode.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, failed: boolean): void {
    this.rawNode.reportSnapshot(id, failed);
    this.requestDrain();
  }

  /**
   * Linearizable read barrier: resolves with an index such that a read served
   * once the state machine reached it reflects every write acknowledged before
   * this call. Rejects after `timeoutMs` (no leader, or no quorum).
   */
  readIndex(timeoutMs: number): Promise<number> {
    if (this.stopped) return Promise.reject(new StoppedError());
    const context = `r${this.options.id}-${this.nextReadId++}`;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readWaiters.delete(context);
        reject(new TimeoutError());
      }, timeoutMs);
      this.readWaiters.set(context, {
        resolve: (index) => {
          clearTimeout(timer);
          resolve(index);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      try {
        this.rawNode.readIndex(new TextEncoder().encode(context));
      } catch (error) {
        this.readWaiters.get(context)?.reject(error as Error);
        this.readWaiters.delete(context);
        return;
      }
      this.requestDrain();
    });
  }

  /** Resolves once entries up to `index` are applied; rejects with StoppedError if the loop stops first. */
  waitApplied(index: number): Promise<void> {
    if (this.appliedIndex >= index) return Promise.resolve();
    if (this.stopped) return Promise.reject(new StoppedError());
    return new Promise((resolve, reject) => this.appliedWaiters.push({ index, resolve, reject }));
  }

  private requestDrain(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.drainRequested = true;
      return;
    }
    this.draining = true;
    this.drainDone = new Promise((resolve) => setImmediate(() => void this.drain().finally(resolve)));
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.drainRequested = false;
        await this.saveCapturedSnapshot();
        while (!this.stopped && this.rawNode.hasReady()) {
          await this.handleReady(this.rawNode.ready());
          this.rawNode.advance();
          // One turn of the event loop lets the messages and proposals that
          // arrived meanwhile reach the core, so the next Ready carries them
          // all: fewer, larger Readies (fsyncs, peer batches) under load.
          await yieldToEventLoop();
          await this.saveCapturedSnapshot();
        }
      } while (this.drainRequested && !this.stopped);
    } catch (error) {
      // A failed fsync or apply leaves the member in an unknown state: stop
      // rather than acknowledge anything further.
      this.stopped = true;
      this.options.onFatal(error);
    } finally {
      this.draining = false;
    }
  }

  private async handleReady(ready: Ready): Promise<void> {
    if (ready.softState) {
      this.leader = ready.softState.leader;
      this.role = ready.softState.role;
      this.options.onSoftState?.(ready.softState);
    }
    // A leader may replicate its new entries while it writes them (Raft
    // thesis 10.2.1): the commit index only moves in a later Ready, once
    // followers acknowledged, and by then this write is done. Not when its
    // term or vote changed in this Ready: those must be durable first.
    const sendFirst =
      this.role === 'leader' &&
      (ready.hardState === undefined || (ready.hardState.term === this.durableTerm && ready.hardState.vote === this.durableVote));
    if (sendFirst && ready.messages.length > 0) this.options.sender.send(ready.messages);
    if (ready.snapshot !== undefined) {
      // The leader's state goes in before the log records the snapshot: a
      // crash in between leaves a backend ahead of the log (its consistent
      // index makes the entries it has skipped when they come again), never
      // a log that skips entries the state machine does not have.
      await this.options.stateMachine.restoreSnapshot(ready.snapshot);
    }
    const persisted = this.options.storage.persist(ready);
    // Committed entries are durable on a quorum already, so they may be
    // applied (and their callers answered) while this Ready is written, as
    // etcd does; should this member crash first, the consistent index in the
    // backend makes it skip them when they come again. Membership changes,
    // and the entries after a snapshot, wait for the write, also as in etcd.
    // Entries this very Ready appends are not durable here yet: a single
    // voter commits its own entries at once, so they must wait for the write.
    const firstNewIndex = ready.entries[0]?.index ?? Number.POSITIVE_INFINITY;
    const applyWhileWriting =
      ready.snapshot === undefined &&
      ready.committedEntries.every((entry) => entry.type !== 'confChange' && entry.index < firstNewIndex);
    if (applyWhileWriting) {
      try {
        await this.applyCommitted(ready.committedEntries);
      } catch (error) {
        await persisted.catch(() => undefined);
        throw error;
      }
      this.wakeAppliedWaiters();
    }
    await persisted;
    if (ready.hardState !== undefined) {
      this.durableTerm = ready.hardState.term;
      this.durableVote = ready.hardState.vote;
    }
    if (!sendFirst && ready.messages.length > 0) this.options.sender.send(ready.messages);
    if (ready.snapshot) {
      this.appliedIndex = ready.snapshot.metadata.index;
      this.snapshotIndex = this.appliedIndex;
    }
    if (!applyWhileWriting) await this.applyCommitted(ready.committedEntries);
    for (const readState of ready.readStates) {
      const context = new TextDecoder().decode(readState.requestContext);
      const waiter = this.readWaiters.get(context);
      if (!waiter) continue;
      this.readWaiters.delete(context);
      waiter.resolve(readState.index);
    }
    this.wakeAppliedWaiters();
    this.maybeSnapshot();
  }

  private async applyCommitted(entries: Entry[]): Promise<void> {
    for (const entry of entries) {
      if (entry.type === 'confChange') {
        const change = decodeConfChange(entry.data);
        const confState = this.rawNode.applyConfChange(change);
        await this.options.stateMachine.applyConfChange(entry, change, confState);
      } else if (entry.data.length > 0) {
        const pending = this.options.stateMachine.applyEntry(entry);
        if (pending !== undefined) await pending;
      }
      this.appliedIndex = entry.index;
    }
  }

  private wakeAppliedWaiters(): void {
    for (let i = this.appliedWaiters.length - 1; i >= 0; i--) {
      const waiter = this.appliedWaiters[i]!;
      if (waiter.index <= this.appliedIndex) {
        this.appliedWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  /**
   * Takes a snapshot once enough entries were applied since the last one.
   * A snapshot is metadata only: the state machine's storage is the state,
   * so taking one means making it durable up to the applied index (a sync
   * beside the loop, which keeps applying meanwhile), then recording
   * (index, term, conf state). Only then may the log before it be dropped.
   * Storing it waits for a gap between Readies, since storage writes must
   * not overlap.
   */
  private maybeSnapshot(): void {
    if (this.snapshotCapture !== undefined || this.appliedIndex - this.snapshotIndex < this.options.snapshotEntries) return;
    const index = this.appliedIndex;
    const confState = this.rawNode.status().confState;
    const capture: SnapshotCapture = { prepared: undefined };
    this.snapshotCapture = capture;
    this.captureDone = this.options.stateMachine
      .persistApplied()
      .then(() => this.options.storage.prepareSnapshot(index, confState, new Uint8Array(0)))
      .then(
      (prepared) => {
        capture.prepared = prepared;
        this.requestDrain();
      },
      (error: unknown) => {
        if (this.stopped) return;
        // A snapshot from the leader replaced the log meanwhile: this one is moot.
        if (this.options.storage.snapshot().metadata.index >= index) {
          if (this.snapshotCapture === capture) this.snapshotCapture = undefined;
          return;
        }
        this.stopped = true;
        this.options.onFatal(error);
      },
    );
  }

  /** Records a finished capture (between Readies) and compacts the log behind it. */
  private async saveCapturedSnapshot(): Promise<void> {
    const prepared = this.snapshotCapture?.prepared;
    if (prepared === undefined) return;
    this.snapshotCapture = undefined;
    const { storage } = this.options;
    // A snapshot from the leader may have overtaken it.
    if (!(await storage.commitSnapshot(prepared))) return;
    const index = prepared.snapshot.metadata.index;
    this.snapshotIndex = Math.max(this.snapshotIndex, index);
    this.options.onSnapshot?.(index);
    const compactIndex = index - this.options.snapshotCatchUpEntries;
    if (compactIndex > storage.firstIndex()) await storage.compact(compactIndex);
  }
}
