// Durable Raft storage: the core's synchronous Storage, answered from memory,
// backed by a RocksDB write-ahead log in <data-dir>/member/wal and snapshot
// files in <data-dir>/member/snap.
//
// One Ready is one RocksDB write batch: hard state, new entries and the log
// bounds go to disk together with a single fsync, so the server loop's batching
// of proposals into one Ready is our group commit. The batch is atomic, so a
// crash leaves the log as it was before or after a Ready, never in between.
//
// Validity of entries on disk is defined by the LogBounds record written in the
// same batch, not by which keys exist: truncating a conflicting suffix,
// installing a snapshot and compacting only move the bounds atomically, and the
// now-unreachable keys are deleted afterwards (and again on open, should a
// crash interrupt that).

import { promises as fs } from 'fs';
import * as path from 'path';
import {
  CompactedError,
  UnavailableError,
  type ConfState,
  type Entry,
  type HardState,
  type Ready,
  type Snapshot,
  type Storage,
} from '../raft/types';
import {
  decodeEntry,
  decodeHardState,
  decodeLogBounds,
  decodeSnapshotMetadata,
  encodeEntry,
  encodeHardState,
  encodeLogBounds,
  encodeSnapshotMetadata,
  type LogBounds,
} from './raft-storage-codec';
import { WalDatabase, type BatchOperation } from './raft-storage-db';
import {
  readSnapshotFile,
  removeOtherSnapshotFiles,
  renameSnapshotTempFile,
  snapshotFileName,
  writeSnapshotFile,
  writeSnapshotTempFile,
} from './raft-storage-snap';

const HARD_STATE_KEY = Buffer.from('h');
const SNAPSHOT_METADATA_KEY = Buffer.from('s');
const LOG_BOUNDS_KEY = Buffer.from('b');
const ENTRY_PREFIX = 'e';
/** Sorts after every entry key ('e' + 8 bytes). */
const ENTRY_KEYS_END = Buffer.from('f');

function entryKey(index: number): Buffer {
  const key = Buffer.alloc(9);
  key.write(ENTRY_PREFIX, 0, 'latin1');
  key.writeBigUInt64BE(BigInt(index), 1);
  return key;
}

function entryIndexOfKey(key: Buffer): number {
  return Number(key.readBigUInt64BE(1));
}

/** Observes how long each fsync'ed batch took (etcd_disk_wal_fsync_duration_seconds). */
export interface FsyncObserver {
  observe(seconds: number): void;
}

export interface DurableRaftStorageOptions {
  /** Receives the duration of every synced write batch; optional so tests can omit metrics. */
  walFsyncDurationSeconds?: FsyncObserver;
}

/** A snapshot file written by prepareSnapshot, waiting for commitSnapshot. */
export interface PreparedSnapshot {
  snapshot: Snapshot;
  tempPath: string;
}

/** The caller broke the storage's contract (a bug in the server loop, never a user error). */
export class RaftStorageContractError extends Error {
  constructor(message: string) {
    super(`raft storage: ${message}`);
    this.name = 'RaftStorageContractError';
  }
}

/** What is on disk contradicts itself (a lost or corrupted write); the member must not start. */
export class RaftStorageCorruptError extends Error {
  constructor(directory: string, reason: string) {
    super(`raft storage in ${directory} is corrupt: ${reason}`);
    this.name = 'RaftStorageCorruptError';
  }
}

const EMPTY_SNAPSHOT: Snapshot = {
  metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
  data: new Uint8Array(0),
};

export class DurableRaftStorage implements Storage {
  private hardState: HardState;
  private latestSnapshot: Snapshot;
  /** Index and term of the entry just before entries[0]. */
  private dummyIndex: number;
  private dummyTerm: number;
  private log: Entry[];
  private writing = false;
  private closed = false;
  /** Deletion of the keys compactions made unreachable, run beside later writes; see compact(). */
  private compactedKeysCleared: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: WalDatabase,
    private readonly snapDirectory: string,
    private readonly options: DurableRaftStorageOptions,
    state: { hardState: HardState; snapshot: Snapshot; bounds: LogBounds; entries: Entry[] },
  ) {
    this.hardState = state.hardState;
    this.latestSnapshot = state.snapshot;
    this.dummyIndex = state.bounds.dummyIndex;
    this.dummyTerm = state.bounds.dummyTerm;
    this.log = state.entries;
  }

  /**
   * Opens (creating if needed) the storage of the member whose data directory
   * is `dataDirectory`, and loads hard state, latest snapshot and the entries
   * after it into memory.
   */
  static async open(dataDirectory: string, options: DurableRaftStorageOptions = {}): Promise<DurableRaftStorage> {
    const walDirectory = path.join(dataDirectory, 'member', 'wal');
    const snapDirectory = path.join(dataDirectory, 'member', 'snap');
    await fs.mkdir(walDirectory, { recursive: true });
    await fs.mkdir(snapDirectory, { recursive: true });
    const db = await WalDatabase.open(walDirectory);
    try {
      const state = await loadState(db, dataDirectory, snapDirectory);
      return new DurableRaftStorage(db, snapDirectory, options, state);
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compactedKeysCleared;
    await this.db.close();
  }

  // ---- Storage (synchronous, from memory) ----

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.latestSnapshot.metadata.confState) };
  }

  entries(low: number, high: number, maxSizeBytes: number): Entry[] {
    if (low <= this.dummyIndex) throw new CompactedError(low);
    if (high > this.lastIndex() + 1) throw new UnavailableError(high - 1);
    if (low > high) throw new RaftStorageContractError(`entries(${low}, ${high}): low is above high`);
    const selected: Entry[] = [];
    let sizeBytes = 0;
    for (let index = low; index < high; index++) {
      const entry = this.log[index - this.dummyIndex - 1]!;
      sizeBytes += entry.data.length;
      if (selected.length > 0 && sizeBytes > maxSizeBytes) break;
      selected.push(entry);
    }
    return selected;
  }

  term(index: number): number {
    if (index < this.dummyIndex) throw new CompactedError(index);
    if (index > this.lastIndex()) throw new UnavailableError(index);
    if (index === this.dummyIndex) return this.dummyTerm;
    return this.log[index - this.dummyIndex - 1]!.term;
  }

  lastIndex(): number {
    return this.dummyIndex + this.log.length;
  }

  firstIndex(): number {
    return this.dummyIndex + 1;
  }

  snapshot(): Snapshot {
    return this.latestSnapshot;
  }

  // ---- writes (asynchronous, durable before they resolve) ----

  /**
   * Makes the durable part of `ready` (snapshot, hard state, entries) durable
   * and visible to the reads above. Call once per Ready, before sending its
   * messages; calls must not overlap.
   */
  async persist(ready: Ready): Promise<void> {
    const hasSnapshot = ready.snapshot !== undefined && ready.snapshot.metadata.index > 0;
    if (!hasSnapshot && ready.hardState === undefined && ready.entries.length === 0) return;
    await this.exclusively(async () => {
      let dummyIndex = this.dummyIndex;
      let dummyTerm = this.dummyTerm;
      // The log is changed in place only after the write: until then, reads must see the old one.
      let keptEntries = this.log.length;
      const operations: BatchOperation[] = [];
      const snapshot = hasSnapshot ? ready.snapshot : undefined;
      if (snapshot !== undefined) {
        if (snapshot.metadata.index <= this.latestSnapshot.metadata.index) {
          throw new RaftStorageContractError(
            `snapshot at index ${snapshot.metadata.index} is not newer than the stored one at ${this.latestSnapshot.metadata.index}`,
          );
        }
        // The file must be durable before the batch that points at it.
        await writeSnapshotFile(this.snapDirectory, snapshot);
        operations.push({ type: 'put', key: SNAPSHOT_METADATA_KEY, value: encodeSnapshotMetadata(snapshot.metadata) });
        // As in etcd's MemoryStorage, a snapshot from the leader replaces the whole log.
        dummyIndex = snapshot.metadata.index;
        dummyTerm = snapshot.metadata.term;
        keptEntries = 0;
      }
      if (ready.hardState !== undefined) {
        operations.push({ type: 'put', key: HARD_STATE_KEY, value: encodeHardState(ready.hardState) });
      }
      const fresh = freshEntries(keptEntries, dummyIndex, ready.entries);
      if (fresh.length > 0) keptEntries = fresh[0]!.index - dummyIndex - 1;
      for (const entry of fresh) operations.push({ type: 'put', key: entryKey(entry.index), value: encodeEntry(entry) });
      const lastIndex = dummyIndex + keptEntries + fresh.length;
      operations.push({ type: 'put', key: LOG_BOUNDS_KEY, value: encodeLogBounds({ dummyIndex, dummyTerm, lastIndex }) });

      await this.writeBatch(operations, ready.mustSync || snapshot !== undefined);

      const previousDummyIndex = this.dummyIndex;
      const previousLastIndex = this.lastIndex();
      if (snapshot !== undefined) this.latestSnapshot = snapshot;
      if (ready.hardState !== undefined) this.hardState = { ...ready.hardState };
      this.dummyIndex = dummyIndex;
      this.dummyTerm = dummyTerm;
      // Appending in place keeps a Ready's cost proportional to its entries, not to the log.
      if (snapshot !== undefined) this.log = [];
      if (this.log.length > keptEntries) this.log.length = keptEntries;
      for (const entry of fresh) this.log.push(entry);

      if (lastIndex < previousLastIndex) await this.db.clear({ gt: entryKey(lastIndex), lt: ENTRY_KEYS_END });
      if (dummyIndex > previousDummyIndex) await this.db.clear({ gte: entryKey(0), lte: entryKey(dummyIndex) });
      if (snapshot !== undefined) {
        await removeOtherSnapshotFiles(this.snapDirectory, snapshotFileName(snapshot.metadata.term, snapshot.metadata.index));
      }
    });
  }

  /**
   * Records the application's snapshot of everything up to `index` (which
   * must be in the log and newer than the current snapshot). Does not compact
   * the log: call compact() when followers no longer need the older entries.
   */
  async createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    return this.exclusively(async () => {
      if (index <= this.latestSnapshot.metadata.index) {
        throw new RaftStorageContractError(
          `createSnapshot(${index}): not newer than the snapshot at ${this.latestSnapshot.metadata.index}`,
        );
      }
      if (index > this.lastIndex()) {
        throw new RaftStorageContractError(`createSnapshot(${index}): above the last index ${this.lastIndex()}`);
      }
      const snapshot: Snapshot = { metadata: { index, term: this.term(index), confState: cloneConfState(confState) }, data };
      await writeSnapshotFile(this.snapDirectory, snapshot);
      await this.writeBatch([{ type: 'put', key: SNAPSHOT_METADATA_KEY, value: encodeSnapshotMetadata(snapshot.metadata) }], true);
      this.latestSnapshot = snapshot;
      await removeOtherSnapshotFiles(this.snapDirectory, snapshotFileName(snapshot.metadata.term, index));
      return snapshot;
    });
  }

  /**
   * The slow half of createSnapshot, which may run while persist() calls go
   * on: writes the snapshot file under a temporary name. commitSnapshot()
   * then records it (or drops it, if a newer snapshot arrived meanwhile).
   */
  async prepareSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<PreparedSnapshot> {
    if (this.closed) throw new RaftStorageContractError('write after close');
    if (index <= this.latestSnapshot.metadata.index || index > this.lastIndex()) {
      throw new RaftStorageContractError(
        `prepareSnapshot(${index}): outside (${this.latestSnapshot.metadata.index}, ${this.lastIndex()}]`,
      );
    }
    const snapshot: Snapshot = { metadata: { index, term: this.term(index), confState: cloneConfState(confState) }, data };
    return { snapshot, tempPath: await writeSnapshotTempFile(this.snapDirectory, snapshot) };
  }

  /** Records a prepared snapshot; false (and nothing recorded) when a newer one won meanwhile. */
  async commitSnapshot(prepared: PreparedSnapshot): Promise<boolean> {
    return this.exclusively(async () => {
      const { snapshot, tempPath } = prepared;
      if (snapshot.metadata.index <= this.latestSnapshot.metadata.index) {
        await fs.rm(tempPath, { force: true });
        return false;
      }
      try {
        await renameSnapshotTempFile(tempPath);
      } catch (error) {
        // Installing a snapshot from the leader clears temporary files.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
      await this.writeBatch([{ type: 'put', key: SNAPSHOT_METADATA_KEY, value: encodeSnapshotMetadata(snapshot.metadata) }], true);
      this.latestSnapshot = snapshot;
      await removeOtherSnapshotFiles(this.snapDirectory, snapshotFileName(snapshot.metadata.term, snapshot.metadata.index));
      return true;
    });
  }

  /**
   * Drops entries up to and including `index` from memory and disk. `index`
   * may not pass the latest snapshot: entries not covered by a snapshot are
   * the only copy of that state on this member.
   */
  async compact(index: number): Promise<void> {
    await this.exclusively(async () => {
      if (index <= this.dummyIndex) throw new CompactedError(index);
      if (index > this.latestSnapshot.metadata.index) {
        throw new RaftStorageContractError(
          `compact(${index}): beyond the latest snapshot at ${this.latestSnapshot.metadata.index}`,
        );
      }
      const term = this.term(index);
      const lastIndex = this.lastIndex();
      const bounds = { dummyIndex: index, dummyTerm: term, lastIndex };
      await this.writeBatch([{ type: 'put', key: LOG_BOUNDS_KEY, value: encodeLogBounds(bounds) }], true);
      this.log = this.log.slice(index - this.dummyIndex);
      this.dummyIndex = index;
      this.dummyTerm = term;
      // The keys are unreachable from here on (the bounds say so), and every
      // key written later is above them: deleting them, a scan over up to
      // --snapshot-count keys, need not hold up the next Ready. Should it
      // fail or a crash interrupt it, open() deletes them.
      this.compactedKeysCleared = this.compactedKeysCleared.then(() =>
        this.db.clear({ gte: entryKey(0), lte: entryKey(index) }).catch(() => undefined),
      );
    });
  }

  private async writeBatch(operations: BatchOperation[], sync: boolean): Promise<void> {
    const started = process.hrtime.bigint();
    await this.db.batch(operations, sync);
    if (sync) this.options.walFsyncDurationSeconds?.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Writes must not interleave: each reads the in-memory state it replaces. */
  private async exclusively<T>(write: () => Promise<T>): Promise<T> {
    if (this.closed) throw new RaftStorageContractError('write after close');
    if (this.writing) throw new RaftStorageContractError('overlapping writes; await each persist/createSnapshot/compact');
    this.writing = true;
    try {
      return await write();
    } finally {
      this.writing = false;
    }
  }
}

/**
 * The entries of `entries` to write after a log of `logLength` entries
 * following `dummyIndex`: those at or below `dummyIndex` are already covered
 * by a snapshot and skipped, as etcd's MemoryStorage does. They must be
 * contiguous and may replace a suffix of the log, but not leave a gap.
 */
function freshEntries(logLength: number, dummyIndex: number, entries: Entry[]): Entry[] {
  const fresh = entries[0] !== undefined && entries[0].index > dummyIndex ? entries : entries.filter((entry) => entry.index > dummyIndex);
  const first = fresh[0];
  if (first === undefined) return fresh;
  fresh.forEach((entry, offset) => {
    if (entry.index !== first.index + offset) {
      throw new RaftStorageContractError(`entries are not contiguous at index ${entry.index}`);
    }
  });
  const lastIndex = dummyIndex + logLength;
  if (first.index > lastIndex + 1) {
    throw new RaftStorageContractError(`entry ${first.index} leaves a gap after the last index ${lastIndex}`);
  }
  return fresh;
}

function cloneConfState(confState: ConfState): ConfState {
  return { voters: [...confState.voters], learners: [...confState.learners] };
}

async function loadState(
  db: WalDatabase,
  dataDirectory: string,
  snapDirectory: string,
): Promise<{ hardState: HardState; snapshot: Snapshot; bounds: LogBounds; entries: Entry[] }> {
  const hardStateBytes = await db.get(HARD_STATE_KEY);
  const hardState = hardStateBytes ? decodeHardState(hardStateBytes) : { term: 0, vote: 0, commit: 0 };

  const metadataBytes = await db.get(SNAPSHOT_METADATA_KEY);
  let snapshot = EMPTY_SNAPSHOT;
  let snapshotName: string | undefined;
  if (metadataBytes) {
    const metadata = decodeSnapshotMetadata(metadataBytes);
    snapshotName = snapshotFileName(metadata.term, metadata.index);
    snapshot = await readSnapshotFile(path.join(snapDirectory, snapshotName));
    if (snapshot.metadata.index !== metadata.index || snapshot.metadata.term !== metadata.term) {
      throw new RaftStorageCorruptError(dataDirectory, `snapshot file ${snapshotName} holds a different snapshot`);
    }
  }
  await removeOtherSnapshotFiles(snapDirectory, snapshotName);

  const boundsBytes = await db.get(LOG_BOUNDS_KEY);
  const bounds: LogBounds = boundsBytes
    ? decodeLogBounds(boundsBytes)
    : { dummyIndex: snapshot.metadata.index, dummyTerm: snapshot.metadata.term, lastIndex: snapshot.metadata.index };
  if (bounds.dummyIndex > bounds.lastIndex) {
    throw new RaftStorageCorruptError(dataDirectory, `log starts after ${bounds.dummyIndex} but ends at ${bounds.lastIndex}`);
  }

  const entries: Entry[] = [];
  await db.scan({ gt: entryKey(bounds.dummyIndex), lte: entryKey(bounds.lastIndex) }, (key, value) => {
    const expected = bounds.dummyIndex + entries.length + 1;
    const entry = decodeEntry(value);
    if (entryIndexOfKey(key) !== expected || entry.index !== expected) {
      throw new RaftStorageCorruptError(dataDirectory, `entry ${expected} is missing from the log`);
    }
    entries.push(entry);
  });
  if (entries.length !== bounds.lastIndex - bounds.dummyIndex) {
    throw new RaftStorageCorruptError(
      dataDirectory,
      `log should hold entries ${bounds.dummyIndex + 1}..${bounds.lastIndex} but ends at ${bounds.dummyIndex + entries.length}`,
    );
  }
  // Leftovers of a truncation or compaction interrupted by a crash.
  await db.clear({ gte: entryKey(0), lte: entryKey(bounds.dummyIndex) });
  await db.clear({ gt: entryKey(bounds.lastIndex), lt: ENTRY_KEYS_END });
  return { hardState, snapshot, bounds, entries };
}
