// A synchronous in-test cluster for the Raft core's unit tests: RawNodes over
// MemoryStorage, a driver loop that follows the Ready contract exactly, and a
// message queue with drop filters. The full simulator lives in ./sim; this is
// only what the unit tests need, and it checks the persistence contract on
// every Ready it handles.
import { decodeConfChange } from './conf-change';
import { MemoryStorage } from './memory-storage';
import { RawNode } from './raw-node';
import type { ConfState, Message, NodeId, RaftConfig, ReadState, Ready } from './types';

/** A small seeded generator (mulberry32): enough for election timeouts in tests. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type ConfigOverrides = Partial<Omit<RaftConfig, 'id' | 'storage' | 'applied'>>;

export function testConfig(id: NodeId, storage: MemoryStorage, overrides: ConfigOverrides = {}): RaftConfig {
  return {
    id,
    electionTicks: 10,
    heartbeatTicks: 1,
    storage,
    applied: 0,
    maxSizePerMessageBytes: 1024 * 1024,
    maxInflightMessages: 256,
    maxInflightBytes: 0,
    maxUncommittedEntriesBytes: 0,
    checkQuorum: false,
    preVote: false,
    random: seededRandom(id),
    ...overrides,
  };
}

export interface TestMember {
  id: NodeId;
  node: RawNode;
  storage: MemoryStorage;
  /** Data of applied normal entries, as text (the test state machine). */
  appliedData: string[];
  appliedIndex: number;
  confState: ConfState;
  readStates: ReadState[];
  readies: Ready[];
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export class TestNetwork {
  readonly members = new Map<NodeId, TestMember>();
  /** Messages sent and not yet delivered. */
  queue: Message[] = [];
  /** Every message delivered (after filters), in order. */
  delivered: Message[] = [];
  /** Return true to drop a message. */
  dropFilters: Array<(m: Message) => boolean> = [];
  private readonly isolated = new Set<NodeId>();

  constructor(private readonly overrides: ConfigOverrides = {}) {}

  /** A cluster whose members bootstrap with `ids` as voters, then elect `leader` if given. */
  static bootstrapped(ids: NodeId[], overrides: ConfigOverrides = {}, leader?: NodeId): TestNetwork {
    const network = new TestNetwork(overrides);
    for (const id of ids) network.add(id).node.bootstrap(ids);
    network.stabilize();
    if (leader !== undefined) network.elect(leader);
    return network;
  }

  /** Adds a member over `storage` (empty by default) without bootstrapping it. */
  add(id: NodeId, storage = new MemoryStorage(), overrides: ConfigOverrides = {}, applied = 0): TestMember {
    const node = new RawNode({ ...testConfig(id, storage, { ...this.overrides, ...overrides }), applied });
    const snapshot = storage.snapshot();
    const member: TestMember = {
      id,
      node,
      storage,
      appliedData: snapshot.data.byteLength > 0 ? (JSON.parse(decoder.decode(snapshot.data)) as string[]) : [],
      appliedIndex: Math.max(applied, snapshot.metadata.index),
      confState: snapshot.metadata.confState,
      readStates: [],
      readies: [],
    };
    this.members.set(id, member);
    return member;
  }

  member(id: NodeId): TestMember {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`no member ${id}`);
    return member;
  }

  node(id: NodeId): RawNode {
    return this.member(id).node;
  }

  /** Simulates a crash and restart: a new RawNode over the same storage (unpersisted state is lost). */
  restart(id: NodeId, overrides: ConfigOverrides = {}): TestMember {
    const old = this.member(id);
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
    const member = this.add(id, old.storage, overrides, old.appliedIndex);
    member.appliedData = old.appliedData;
    member.confState = old.confState;
    return member;
  }

  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  heal(): void {
    this.isolated.clear();
    this.dropFilters = [];
  }

  /** Runs one driver iteration for `id`: persist, send, apply, advance. Returns whether there was a Ready. */
  processReady(id: NodeId): boolean {
    const member = this.member(id);
    if (!member.node.hasReady()) return false;
    const ready = member.node.ready();
    member.readies.push(ready);
    // 1. Persist.
    if (ready.snapshot !== undefined) member.storage.applySnapshot(ready.snapshot);
    member.storage.append(ready.entries);
    if (ready.hardState !== undefined) member.storage.setHardState(ready.hardState);
    // 2. Send, checking that every acknowledgement is backed by what is now durable.
    for (const m of ready.messages) {
      this.checkPersistenceContract(member, m);
      this.queue.push(m);
    }
    // 3. Apply.
    if (ready.snapshot !== undefined) {
      member.appliedData = JSON.parse(decoder.decode(ready.snapshot.data)) as string[];
      member.appliedIndex = ready.snapshot.metadata.index;
      member.confState = ready.snapshot.metadata.confState;
    }
    for (const entry of ready.committedEntries) {
      if (entry.index !== member.appliedIndex + 1) {
        throw new Error(`node ${id} applies ${entry.index} after ${member.appliedIndex}`);
      }
      if (entry.type === 'confChange') {
        member.confState = member.node.applyConfChange(decodeConfChange(entry.data));
      } else if (entry.data.byteLength > 0) {
        member.appliedData.push(decoder.decode(entry.data));
      }
      member.appliedIndex = entry.index;
    }
    member.readStates.push(...ready.readStates);
    member.node.advance();
    return true;
  }

  private checkPersistenceContract(member: TestMember, m: Message): void {
    const persisted = member.storage.initialState().hardState;
    if (m.type === 'MsgVoteResp' && !m.reject) {
      if (persisted.term !== m.term || persisted.vote !== m.to) {
        throw new Error(
          `node ${member.id} grants a vote to ${m.to} at term ${m.term} but persisted ${JSON.stringify(persisted)}`,
        );
      }
    }
    if (m.type === 'MsgAppResp' && !m.reject && m.index > member.storage.lastIndex()) {
      throw new Error(`node ${member.id} acknowledges index ${m.index} beyond its stable log ${member.storage.lastIndex()}`);
    }
  }

  /** Delivers one queued message; returns false when the queue is empty. */
  deliverOne(): boolean {
    const m = this.queue.shift();
    if (m === undefined) return false;
    if (this.isolated.has(m.from) || this.isolated.has(m.to)) return true;
    if (this.dropFilters.some((drop) => drop(m))) return true;
    const target = this.members.get(m.to);
    if (target === undefined) return true;
    this.delivered.push(m);
    target.node.step(m);
    return true;
  }

  /** Processes Readies and delivers messages until nothing moves (bounded). */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const id of [...this.members.keys()].sort((a, b) => a - b)) {
        while (this.processReady(id)) moved = true;
      }
      while (this.deliverOne()) moved = true;
      if (!moved) return;
    }
    throw new Error(`network did not stabilize within ${maxRounds} rounds`);
  }

  /** Ticks every (or the given) member `count` times, stabilizing after each tick. */
  tick(count: number, ids: NodeId[] = [...this.members.keys()]): void {
    for (let i = 0; i < count; i++) {
      for (const id of ids) this.node(id).tick();
      this.stabilize();
    }
  }

  elect(id: NodeId): void {
    this.node(id).campaign();
    this.stabilize();
    const role = this.node(id).status().softState.role;
    if (role !== 'leader') throw new Error(`node ${id} did not win the election (role ${role})`);
  }

  leaderIds(): NodeId[] {
    return [...this.members.values()]
      .filter((member) => member.node.status().softState.role === 'leader')
      .map((member) => member.id);
  }

  propose(id: NodeId, text: string): void {
    this.node(id).propose(bytes(text));
    this.stabilize();
  }

  /** The stored log of a member as [index, term] pairs from its first index. */
  logTerms(id: NodeId): number[] {
    const storage = this.member(id).storage;
    const terms: number[] = [];
    for (let index = storage.firstIndex(); index <= storage.lastIndex(); index++) terms.push(storage.term(index));
    return terms;
  }
}

/** Storage holding a shared snapshot at index 1 (term 1, voters `voters`) followed by entries of `terms` from index 2. */
export function storageWithLog(voters: NodeId[], terms: number[], hardState?: { term: number; vote?: NodeId; commit?: number }): MemoryStorage {
  const storage = new MemoryStorage();
  storage.applySnapshot({
    metadata: { index: 1, term: 1, confState: { voters, learners: [] } },
    data: bytes('[]'),
  });
  storage.append(terms.map((term, offset) => ({ term, index: offset + 2, type: 'normal' as const, data: bytes(`t${term}`) })));
  if (hardState !== undefined) {
    storage.setHardState({ term: hardState.term, vote: hardState.vote ?? 0, commit: hardState.commit ?? 1 });
  }
  return storage;
}
