// etcd's MVCC key-value store. Every write transaction gets one main
// revision; each change in it a sub revision. The whole index and every
// record not yet compacted live in memory (reads are synchronous and never
// touch the backend); each transaction is written through to the backend in
// one batch together with the Raft index it came from, so after a restart
// the store reloads itself and the server knows which entries to replay.
// The transactions committed in one synchronous run (the entries of one Raft
// Ready) share that batch: it is handed to the backend at the end of the run
// (a microtask), with the consistent index and revision written once.
//
// Deterministic: the same sequence of write transactions yields the same
// revisions and contents on every member.

import { crc32 } from 'node:zlib';
import type { Backend, WriteBatch } from '../backend';
import type { Event, KeyValue } from '../etcdpb/types';
import { CompactedError, FutureRevisionError, StoreFailedError } from './errors';
import { KeyIndex, type StoreRecord } from './key-index';
import { keyRange, rangeContains, rangeIsEmpty, toLatin1, type KeyRange } from './key-range';
import { decodeKeyValue, encodeKeyValue } from './record-codec';
import { bytesToRevision, revisionToBytes } from './revision';

export const keyBucket = 'key';
export const metaBucket = 'meta';
const consistentIndexKey = Buffer.from('consistent_index');

/** The consistent index an entry of a backend image records, or undefined when it is another entry. */
export function consistentIndexOfEntry(bucket: string, key: Buffer, value: Buffer): number | undefined {
  return bucket === metaBucket && key.equals(consistentIndexKey) && value.length === 8 ? readU64(value) : undefined;
}
const currentRevisionKey = Buffer.from('current_revision');
const compactRevisionKey = Buffer.from('finished_compact_rev');

export interface MvccStoreOptions {
  /**
   * fsync every write batch. Off by default: the Raft log is the durable
   * record and anything lost here is replayed from it after the consistent index.
   */
  syncWrites?: boolean;
  /**
   * The revision a store that never had a write reports. etcd's is 1, so its
   * first write makes revision 2 (what clients see); the default 0 makes the
   * first write revision 1.
   */
  emptyRevision?: number;
}

export interface RangeOptions {
  /** Read as of this main revision; 0 or less reads the newest. */
  revision?: number;
  /** At most this many key-values; 0 or less means all. `count` is unaffected. */
  limit?: number;
  /** Only count; `kvs` stays empty. */
  countOnly?: boolean;
}

export interface RangeResult {
  /** In ascending key order. Shared with the store: treat as read-only. */
  kvs: KeyValue[];
  /** Keys in the range at the read revision, ignoring `limit`. */
  count: number;
  /** The store's current revision (not the read revision), as etcd reports it. */
  revision: number;
}

/** What reads see: the committed store, or a write transaction including its own changes. */
export interface ReadView {
  readonly revision: number;
  range(key: Uint8Array, rangeEnd: Uint8Array | null | undefined, options?: RangeOptions): RangeResult;
}

/** The events of one committed write transaction. prev_kv is always filled when the key existed. */
export type CommitListener = (revision: number, events: readonly Event[]) => void;

const emptyBuffer = Buffer.alloc(0);
const u64 = (value: number): Buffer => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
};
const readU64 = (bytes: Buffer | undefined): number => (bytes === undefined ? 0 : Number(bytes.readBigUInt64BE(0)));

interface State {
  keys: Map<string, KeyIndex>;
  /** Keys with a KeyIndex, in byte order; see unsortedKeys. */
  sortedKeys: string[];
  /**
   * Keys created since sortedKeys was last brought up to date. Inserting each
   * new key into the sorted array would cost O(keys) per write; they are
   * merged in one pass when a range needs the order.
   */
  unsortedKeys: string[];
  /** Every record not compacted away, in revision order. */
  history: StoreRecord[];
  currentRevision: number;
  compactRevision: number;
  consistentIndex: number;
}

export class MvccStore implements ReadView {
  private state: State;
  private activeTxn: WriteTxn | undefined;
  private failure: StoreFailedError | undefined;
  private lastCommit: Promise<void> = Promise.resolve();
  /** Writes of the transactions committed since the last hand-over to the backend; see commit(). */
  private openBatch: WriteBatch | undefined;
  private readonly commitListeners = new Set<CommitListener>();
  private readonly compactListeners = new Set<(compactRevision: number) => void>();
  private readonly reloadListeners = new Set<() => void>();

  private constructor(
    readonly backend: Backend,
    private readonly options: MvccStoreOptions,
    state: State,
  ) {
    this.state = state;
  }

  /** Opens the store over a backend, reloading whatever it holds. */
  static async open(backend: Backend, options: MvccStoreOptions = {}): Promise<MvccStore> {
    return new MvccStore(backend, options, await loadState(backend, options.emptyRevision ?? 0));
  }

  /** Rebuilds memory from the backend, e.g. after backend.restoreSnapshot(). Listeners are told. */
  async reload(): Promise<void> {
    if (this.activeTxn !== undefined) throw new Error('mvcc: reload during a write transaction');
    await this.flush();
    this.state = await loadState(this.backend, this.options.emptyRevision ?? 0);
    for (const listener of this.reloadListeners) listener();
  }

  get revision(): number {
    return this.state.currentRevision;
  }

  /** Reads below this revision fail with CompactedError. */
  get compactRevision(): number {
    return this.state.compactRevision;
  }

  /** The Raft index of the last applied entry whose effects are in this store. */
  get consistentIndex(): number {
    return this.state.consistentIndex;
  }

  /** Number of key-value records (all revisions) held. */
  get recordCount(): number {
    return this.state.history.length;
  }

  range(key: Uint8Array, rangeEnd?: Uint8Array | null, options: RangeOptions = {}): RangeResult {
    return this.rangeAt(keyRange(key, rangeEnd), options, this.state.currentRevision);
  }

  /** The key-value visible at a revision, or undefined (deleted, absent or compacted). */
  keyValueAt(key: string, revision: number): KeyValue | undefined {
    if (revision < this.state.compactRevision || revision > this.state.currentRevision) return undefined;
    return this.state.keys.get(key)?.at(revision)?.kv;
  }

  /**
   * Events of revisions [fromRevision, toRevision] on keys accepted by
   * `match`, in revision order; prev_kv filled when asked for and not compacted.
   */
  historyEvents(fromRevision: number, toRevision: number, match: (key: string) => boolean, withPrevKv: boolean): Event[] {
    const history = this.state.history;
    const events: Event[] = [];
    for (let index = firstRecordAtOrAfter(history, fromRevision); index < history.length; index++) {
      const record = history[index]!;
      if (record.main > toRevision) break;
      if (!match(record.key)) continue;
      const event: Event = { type: record.tombstone ? 'DELETE' : 'PUT', kv: record.kv };
      if (withPrevKv) {
        const previous = this.keyValueAt(record.key, record.main - 1);
        if (previous !== undefined) event.prev_kv = previous;
      }
      events.push(event);
    }
    return events;
  }

  /**
   * A CRC-32 over every record up to `revision` (0: the current one), for
   * the HashKV RPC: members that applied the same entries and compacted at
   * the same revision report the same hash. Throws CompactedError and
   * FutureRevisionError like a read.
   */
  hashKv(revision = 0): { hash: number; revision: number; compactRevision: number } {
    const state = this.state;
    if (revision > state.currentRevision) throw new FutureRevisionError(revision, state.currentRevision);
    const upTo = revision <= 0 ? state.currentRevision : revision;
    if (upTo < state.compactRevision) throw new CompactedError(upTo, state.compactRevision);
    let hash = 0;
    for (const record of state.history) {
      if (record.main > upTo) break;
      hash = crc32(revisionToBytes(record, record.tombstone), hash);
      hash = crc32(encodeKeyValue(record.kv), hash);
    }
    return { hash, revision: state.currentRevision, compactRevision: state.compactRevision };
  }

  /**
   * Starts the write transaction for Raft entry `consistentIndex`. One at a
   * time; it must end with end() or abort() before anything else writes.
   */
  write(consistentIndex: number): WriteTxn {
    this.checkWritable(consistentIndex);
    this.activeTxn = new WriteTxn(this, this.state.currentRevision, consistentIndex);
    return this.activeTxn;
  }

  /** Records that Raft entry `consistentIndex` was applied without changing any key. */
  recordConsistentIndex(consistentIndex: number): void {
    this.write(consistentIndex).end();
  }

  /**
   * Drops every record superseded at or before `revision`, keeping the value
   * each key had then; reads below it fail afterwards. Does not change the
   * revision.
   */
  compact(revision: number, consistentIndex: number): void {
    this.checkWritable(consistentIndex);
    const state = this.state;
    if (revision <= state.compactRevision) throw new CompactedError(revision, state.compactRevision);
    if (revision > state.currentRevision) throw new FutureRevisionError(revision, state.currentRevision);
    const batch = this.batchForCommit();
    const emptied = new Set<string>();
    for (const [key, index] of state.keys) {
      for (const record of index.compact(revision)) {
        record.removed = true;
        batch.delete(keyBucket, revisionToBytes(record, record.tombstone));
      }
      if (index.isEmpty()) emptied.add(key);
    }
    if (emptied.size > 0) {
      for (const key of emptied) state.keys.delete(key);
      state.sortedKeys = this.orderedKeys().filter((key) => !emptied.has(key));
    }
    state.history = state.history.filter((record) => !record.removed);
    state.compactRevision = revision;
    state.consistentIndex = consistentIndex;
    batch.put(metaBucket, compactRevisionKey, u64(revision));
    this.commit(batch);
    for (const listener of this.compactListeners) listener(revision);
  }

  /** Resolves once every write so far is in the backend (synced); rejects if one failed. */
  async flush(): Promise<void> {
    this.handOverBatch();
    await this.lastCommit;
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Resolves once every write so far is in the backend and on stable storage
   * (fsynced), with the consistent index it reached: from then on the Raft
   * log up to that index is no longer needed to rebuild this store.
   */
  async sync(): Promise<number> {
    if (this.failure !== undefined) throw this.failure;
    // An empty batch still carries the consistent index and revision, and the sync.
    this.openBatch ??= this.backend.batch();
    const consistentIndex = this.state.consistentIndex;
    this.handOverBatch(true);
    await this.lastCommit;
    if (this.failure !== undefined) throw this.failure;
    return consistentIndex;
  }

  onCommit(listener: CommitListener): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  onCompact(listener: (compactRevision: number) => void): () => void {
    this.compactListeners.add(listener);
    return () => this.compactListeners.delete(listener);
  }

  onReload(listener: () => void): () => void {
    this.reloadListeners.add(listener);
    return () => this.reloadListeners.delete(listener);
  }

  // ---- used by WriteTxn ----

  /** @internal */
  rangeAt(range: KeyRange, options: RangeOptions, currentRevision: number): RangeResult {
    const requested = options.revision ?? 0;
    if (requested > currentRevision) throw new FutureRevisionError(requested, currentRevision);
    const revision = requested <= 0 ? currentRevision : requested;
    if (revision < this.state.compactRevision) throw new CompactedError(revision, this.state.compactRevision);
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : Infinity;
    const kvs: KeyValue[] = [];
    let count = 0;
    this.forEachKey(range, (index) => {
      const record = index.at(revision);
      if (record === undefined) return;
      count++;
      if (options.countOnly !== true && kvs.length < limit) kvs.push(record.kv);
    });
    return { kvs, count, revision: currentRevision };
  }

  /** @internal */
  forEachKey(range: KeyRange, visit: (index: KeyIndex) => void): void {
    const { keys } = this.state;
    if (range.kind === 'single') {
      const index = keys.get(range.start);
      if (index !== undefined) visit(index);
      return;
    }
    if (rangeIsEmpty(range)) return;
    const sortedKeys = this.orderedKeys();
    for (let position = lowerBound(sortedKeys, range.start); position < sortedKeys.length; position++) {
      const key = sortedKeys[position]!;
      if (!rangeContains(range, key)) break;
      visit(keys.get(key)!);
    }
  }

  /** @internal */
  indexFor(key: string): KeyIndex {
    let index = this.state.keys.get(key);
    if (index === undefined) {
      index = new KeyIndex(key);
      this.state.keys.set(key, index);
      this.state.unsortedKeys.push(key);
    }
    return index;
  }

  /** Every key with a KeyIndex, in byte order (merging the keys created since the last call). */
  private orderedKeys(): string[] {
    const state = this.state;
    if (state.unsortedKeys.length === 0) return state.sortedKeys;
    const added = state.unsortedKeys.sort(compareKeys);
    const old = state.sortedKeys;
    const merged: string[] = new Array<string>(old.length + added.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < old.length && j < added.length) merged[k++] = old[i]! < added[j]! ? old[i++]! : added[j++]!;
    while (i < old.length) merged[k++] = old[i++]!;
    while (j < added.length) merged[k++] = added[j++]!;
    state.sortedKeys = merged;
    state.unsortedKeys = [];
    return merged;
  }

  /** @internal */
  dropIndexIfEmpty(key: string): void {
    const index = this.state.keys.get(key);
    if (index === undefined || !index.isEmpty()) return;
    this.state.keys.delete(key);
    // Usually a key an aborted transaction just created: the last one not yet sorted.
    const unsorted = this.state.unsortedKeys.lastIndexOf(key);
    if (unsorted >= 0) {
      this.state.unsortedKeys.splice(unsorted, 1);
      return;
    }
    const position = lowerBound(this.state.sortedKeys, key);
    if (this.state.sortedKeys[position] === key) this.state.sortedKeys.splice(position, 1);
  }

  /** @internal */
  appendHistory(record: StoreRecord): void {
    this.state.history.push(record);
  }

  /** @internal */
  popHistory(record: StoreRecord): void {
    if (this.state.history.pop() !== record) throw new Error('mvcc: history undo out of order');
  }

  /** @internal The batch a committing transaction writes into (shared until the end of this synchronous run). */
  batchForCommit(): WriteBatch {
    if (this.openBatch === undefined) {
      this.openBatch = this.backend.batch();
      queueMicrotask(() => this.handOverBatch());
    }
    return this.openBatch;
  }

  /** @internal */
  finishTxn(txn: WriteTxn, batch: WriteBatch | undefined, events: Event[]): void {
    if (this.activeTxn !== txn) throw new Error('mvcc: ending a write transaction that is not active');
    this.activeTxn = undefined;
    if (batch === undefined) return;
    const state = this.state;
    const changed = events.length > 0;
    if (changed) state.currentRevision = txn.beginRevision + 1;
    state.consistentIndex = txn.consistentIndex;
    this.commit(batch);
    if (changed) for (const listener of this.commitListeners) listener(state.currentRevision, events);
  }

  /**
   * Records that `batch` (the open batch) holds a finished change. Nothing
   * reaches the backend before the hand-over, and a crash before it loses
   * only writes the Raft log replays (everything after the consistent
   * index on disk), so sharing one batch among many entries is safe.
   */
  private commit(batch: WriteBatch): void {
    if (batch !== this.openBatch) throw new Error('mvcc: committing a batch that is not the open one');
    if (this.options.syncWrites === true) this.handOverBatch();
  }

  /** Hands the open batch, with the consistent index and revision it reaches, to the backend. */
  private handOverBatch(sync = this.options.syncWrites === true): void {
    const batch = this.openBatch;
    if (batch === undefined) return;
    this.openBatch = undefined;
    batch.put(metaBucket, consistentIndexKey, u64(this.state.consistentIndex));
    batch.put(metaBucket, currentRevisionKey, u64(this.state.currentRevision));
    // Backends apply batches in commit() order, so only the last needs awaiting.
    this.lastCommit = batch.commit({ sync }).catch((error: unknown) => {
      this.failure ??= new StoreFailedError(error);
    });
  }

  private checkWritable(consistentIndex: number): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.activeTxn !== undefined) throw new Error('mvcc: a write transaction is already open');
    if (!(consistentIndex > this.state.consistentIndex)) {
      throw new Error(`mvcc: raft index ${consistentIndex} is not after the consistent index ${this.state.consistentIndex}`);
    }
  }
}

interface Change {
  record: StoreRecord;
  previous: KeyValue | undefined;
}

type ExtraOperation = { type: 'put'; bucket: string; key: Buffer; value: Buffer } | { type: 'delete'; bucket: string; key: Buffer };

/**
 * One write transaction: its reads see its own changes; all changes share
 * main revision beginRevision + 1 and are committed in one backend batch.
 */
export class WriteTxn implements ReadView {
  private readonly changes: Change[] = [];
  private readonly extra: ExtraOperation[] = [];
  private finished = false;

  /** @internal */
  constructor(
    private readonly store: MvccStore,
    readonly beginRevision: number,
    readonly consistentIndex: number,
  ) {}

  /** The revision reads in this transaction see: beginRevision, or beginRevision + 1 once it changed something. */
  get revision(): number {
    return this.changes.length > 0 ? this.beginRevision + 1 : this.beginRevision;
  }

  get changeCount(): number {
    return this.changes.length;
  }

  range(key: Uint8Array, rangeEnd?: Uint8Array | null, options: RangeOptions = {}): RangeResult {
    this.checkOpen();
    return this.store.rangeAt(keyRange(key, rangeEnd), options, this.revision);
  }

  /** Writes a key; returns the new key-value and the one it replaced, if the key existed. */
  put(key: Uint8Array, value: Uint8Array, lease: number): { kv: KeyValue; previous: KeyValue | undefined } {
    this.checkOpen();
    if (key.length === 0) throw new Error('mvcc: put of an empty key');
    const main = this.beginRevision + 1;
    const latin1Key = toLatin1(key);
    const index = this.store.indexFor(latin1Key);
    const previous = index.latest()?.kv;
    const kv: KeyValue = {
      key: Buffer.from(key),
      create_revision: previous?.create_revision ?? main,
      mod_revision: main,
      version: (previous?.version ?? 0) + 1,
      value: Buffer.from(value),
      lease,
    };
    this.record(index, { main, sub: this.changes.length, key: latin1Key, kv, tombstone: false, removed: false }, previous);
    return { kv, previous };
  }

  /** Deletes every live key in the range; returns what they held, in key order. */
  deleteRange(key: Uint8Array, rangeEnd?: Uint8Array | null): KeyValue[] {
    this.checkOpen();
    const live: KeyIndex[] = [];
    this.store.forEachKey(keyRange(key, rangeEnd), (index) => {
      if (index.latest() !== undefined) live.push(index);
    });
    const main = this.beginRevision + 1;
    return live.map((index) => {
      const previous = index.latest()!.kv;
      const kv: KeyValue = {
        key: previous.key,
        create_revision: 0,
        mod_revision: main,
        version: 0,
        value: emptyBuffer,
        lease: 0,
      };
      this.record(index, { main, sub: this.changes.length, key: index.key, kv, tombstone: true, removed: false }, previous);
      return previous;
    });
  }

  /** Adds a write to another bucket (leases, members) to this transaction's batch. */
  putBackend(bucket: string, key: Uint8Array, value: Uint8Array): void {
    this.checkOpen();
    this.extra.push({ type: 'put', bucket, key: Buffer.from(key), value: Buffer.from(value) });
  }

  deleteBackend(bucket: string, key: Uint8Array): void {
    this.checkOpen();
    this.extra.push({ type: 'delete', bucket, key: Buffer.from(key) });
  }

  /** Commits: one backend batch with the changes, the extra writes and the consistent index. */
  end(): { revision: number; events: Event[] } {
    this.checkOpen();
    this.finished = true;
    const batch = this.store.batchForCommit();
    const events: Event[] = [];
    for (const { record, previous } of this.changes) {
      batch.put(keyBucket, revisionToBytes(record, record.tombstone), encodeKeyValue(record.kv));
      const event: Event = { type: record.tombstone ? 'DELETE' : 'PUT', kv: record.kv };
      if (previous !== undefined) event.prev_kv = previous;
      events.push(event);
    }
    for (const operation of this.extra) {
      if (operation.type === 'put') batch.put(operation.bucket, operation.key, operation.value);
      else batch.delete(operation.bucket, operation.key);
    }
    this.store.finishTxn(this, batch, events);
    return { revision: this.revision, events };
  }

  /** Reverts every change; nothing reaches the backend and the consistent index stays. */
  abort(): void {
    this.checkOpen();
    this.finished = true;
    for (let position = this.changes.length - 1; position >= 0; position--) {
      const { record } = this.changes[position]!;
      this.store.popHistory(record);
      this.store.indexFor(record.key).undo(record);
      this.store.dropIndexIfEmpty(record.key);
    }
    this.changes.length = 0;
    this.store.finishTxn(this, undefined, []);
  }

  private record(index: KeyIndex, record: StoreRecord, previous: KeyValue | undefined): void {
    if (record.tombstone) index.tombstone(record);
    else index.put(record);
    this.store.appendHistory(record);
    this.changes.push({ record, previous });
  }

  private checkOpen(): void {
    if (this.finished) throw new Error('mvcc: write transaction already ended');
  }
}

async function loadState(backend: Backend, emptyRevision: number): Promise<State> {
  const state: State = {
    keys: new Map(),
    sortedKeys: [],
    unsortedKeys: [],
    history: [],
    currentRevision: readU64(await backend.get(metaBucket, currentRevisionKey)),
    compactRevision: readU64(await backend.get(metaBucket, compactRevisionKey)),
    consistentIndex: readU64(await backend.get(metaBucket, consistentIndexKey)),
  };
  // The key bucket iterates in revision order, so replaying it rebuilds every key's generations.
  for await (const entry of backend.range(keyBucket)) {
    const { revision, tombstone } = bytesToRevision(entry.key);
    const kv = decodeKeyValue(entry.value);
    const key = toLatin1(kv.key);
    let index = state.keys.get(key);
    if (index === undefined) {
      index = new KeyIndex(key);
      state.keys.set(key, index);
      state.sortedKeys.push(key);
    }
    const record: StoreRecord = { main: revision.main, sub: revision.sub, key, kv, tombstone, removed: false };
    if (tombstone) index.tombstone(record);
    else index.put(record);
    state.history.push(record);
    if (revision.main > state.currentRevision) state.currentRevision = revision.main;
  }
  state.sortedKeys.sort(compareKeys);
  if (state.compactRevision > state.currentRevision) state.currentRevision = state.compactRevision;
  if (state.currentRevision < emptyRevision) state.currentRevision = emptyRevision;
  return state;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First position whose key is >= `key`. */
function lowerBound(sorted: string[], key: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sorted[middle]! < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

function firstRecordAtOrAfter(history: StoreRecord[], main: number): number {
  let low = 0;
  let high = history.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (history[middle]!.main < main) low = middle + 1;
    else high = middle;
  }
  return low;
}
