// The vocabulary of the Raft core, in the shape of etcd-io/raft's raftpb.
//
// Everything here is plain data: the core never does I/O, so these values are
// what crosses the boundary between the core and its driver (the etcd-lite
// server loop, or the simulator). Terms, indexes and member ids are JS numbers:
// member ids are generated below 2^53 so they fit exactly and still read as
// etcd's uint64 ids on the wire.

export type NodeId = number;

/** No node: used for "no vote" and "no known leader". */
export const NO_NODE: NodeId = 0;

export type EntryType = 'normal' | 'confChange';

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** Opaque to the core. For 'confChange' entries: encodeConfChange(ConfChange). */
  data: Uint8Array;
}

export type ConfChangeType = 'addNode' | 'addLearner' | 'removeNode';

/**
 * A single-server membership change. Promoting a learner is 'addNode' for a
 * node that is currently a learner, as in etcd.
 */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque to the core (etcd-lite carries the member's peer URLs here). */
  context: Uint8Array;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

/** What must be durable before a vote or an append is acknowledged. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  /** The application's state machine image; opaque to the core. */
  data: Uint8Array;
}

export type MessageType =
  | 'MsgHup' // local: start an election
  | 'MsgBeat' // local: leader sends heartbeats
  | 'MsgProp' // proposal (local, or forwarded by a follower)
  | 'MsgApp'
  | 'MsgAppResp'
  | 'MsgVote'
  | 'MsgVoteResp'
  | 'MsgPreVote'
  | 'MsgPreVoteResp'
  | 'MsgSnap'
  | 'MsgHeartbeat'
  | 'MsgHeartbeatResp'
  | 'MsgUnreachable' // local: the transport could not reach `from`
  | 'MsgSnapStatus' // local: outcome of sending a snapshot (reject = failed)
  | 'MsgCheckQuorum' // local: leader checks that a quorum was recently active
  | 'MsgTransferLeader'
  | 'MsgTimeoutNow'
  | 'MsgReadIndex'
  | 'MsgReadIndexResp';

export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /** Term of the entry at `index` (MsgApp), or of the candidate's last entry (votes). */
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  /** On a rejected MsgAppResp: the follower's hint for fast backtracking. */
  rejectHint: number;
  /** MsgReadIndex request context; MsgVote of a leadership transfer carries 'transfer'. */
  context: Uint8Array;
}

/** Fills the defaults of a message so callers name only what matters. */
export function message(fields: Partial<Message> & Pick<Message, 'type'>): Message {
  return {
    from: NO_NODE,
    to: NO_NODE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
    ...fields,
  };
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

export type StateRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface SoftState {
  leader: NodeId;
  role: StateRole;
}

/** A linearizable read: safe to serve once the applied index reaches `index`. */
export interface ReadState {
  index: number;
  requestContext: Uint8Array;
}

/**
 * What the driver must do next, in this order: persist `hardState`, `entries`
 * and `snapshot` (fsync when `mustSync`), then send `messages`, then apply
 * `snapshot` and `committedEntries` to the state machine, then call
 * `advance()`.
 */
export interface Ready {
  /** Set when it changed since the previous Ready; not persisted. */
  softState?: SoftState;
  /** Set when it changed since the previous Ready. */
  hardState?: HardState;
  readStates: ReadState[];
  /** New log entries to append to stable storage (may overwrite a suffix). */
  entries: Entry[];
  /** A snapshot received from the leader, to persist and then apply. */
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  /** False when only commit index or nothing durable changed: fsync may be skipped. */
  mustSync: boolean;
}

/**
 * Stable storage as the core sees it (etcd-io/raft's Storage). The core only
 * asks questions; the driver writes to the storage after persisting a Ready.
 * Methods throw CompactedError / UnavailableError as documented.
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [low, high), at least one if any exist, at most `maxSizeBytes`
   * of data in total. Throws CompactedError if low <= the snapshot index,
   * UnavailableError if high > lastIndex() + 1.
   */
  entries(low: number, high: number, maxSizeBytes: number): Entry[];
  /** Term of entry i; valid for firstIndex()-1 <= i <= lastIndex(). Throws CompactedError / UnavailableError otherwise. */
  term(index: number): number;
  lastIndex(): number;
  /** Index of the first entry still in the log (snapshot index + 1). */
  firstIndex(): number;
  /** The most recent snapshot. Throws SnapshotTemporarilyUnavailableError when it is being built. */
  snapshot(): Snapshot;
}

/** The core's configuration. Every field is read once, at construction. */
export interface RaftConfig {
  id: NodeId;
  /** Ticks a follower waits for a leader before campaigning; randomized to [electionTicks, 2*electionTicks). */
  electionTicks: number;
  /** Ticks between leader heartbeats; must be smaller than electionTicks. */
  heartbeatTicks: number;
  storage: Storage;
  /** The last index the application has applied (on restart); committed entries above it are handed out again. */
  applied: number;
  /** Upper bound on the data bytes of one MsgApp (at least one entry is always sent). */
  maxSizePerMessageBytes: number;
  /** Upper bound on unacknowledged MsgApp messages to one follower. */
  maxInflightMessages: number;
  /** Upper bound on unacknowledged MsgApp data bytes to one follower (0 = unlimited). */
  maxInflightBytes: number;
  /** Upper bound on the data bytes of proposals not yet committed; further proposals are dropped (0 = unlimited). */
  maxUncommittedEntriesBytes: number;
  /** A leader that has not heard from a quorum within an election timeout steps down. */
  checkQuorum: boolean;
  /** Campaign only after a pre-vote round shows a quorum would grant the vote. */
  preVote: boolean;
  /** Seeded random source in [0, 1), injected so one seed replays one run. */
  random: () => number;
  /** Upper bound on the data bytes of committed entries in one Ready (at least one entry); defaults to maxSizePerMessageBytes. */
  maxCommittedSizePerReadyBytes?: number;
  /** Upper bound on read-index requests waiting at the leader (for their heartbeat round or its first commit); defaults to 1024. */
  maxPendingReadIndexRequests?: number;
}

/** Storage has compacted the requested index away. */
export class CompactedError extends Error {
  constructor(readonly index: number) {
    super(`raft: requested index ${index} is unavailable due to compaction`);
    this.name = 'CompactedError';
  }
}

/** Storage does not have the requested index yet. */
export class UnavailableError extends Error {
  constructor(readonly index: number) {
    super(`raft: requested entry at index ${index} is unavailable`);
    this.name = 'UnavailableError';
  }
}

export class SnapshotTemporarilyUnavailableError extends Error {
  constructor() {
    super('raft: snapshot is temporarily unavailable');
    this.name = 'SnapshotTemporarilyUnavailableError';
  }
}

/**
 * A proposal was not accepted (no leader known, leadership transfer in
 * progress, or the uncommitted-bytes bound reached). The caller may retry.
 */
export class ProposalDroppedError extends Error {
  constructor(reason: string) {
    super(`raft proposal dropped: ${reason}`);
    this.name = 'ProposalDroppedError';
  }
}
