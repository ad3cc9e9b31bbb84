// A Backend on RocksDB (the `rocksdb` npm binding, prebuilt). Buckets share
// one keyspace: a stored key is the bucket name, a 0x00 byte, then the key, so
// a bucket is one contiguous, ordered key range.
//
// Images: a reader is a RocksDB iterator, which pins a RocksDB snapshot when
// it is created, so it reads one point in time however long it takes. A
// replacement is a second database in a sibling directory (<dir>.incoming-N);
// install() closes the live one and swaps directories by renames:
//
//   <dir>.incoming-N -> <dir>.installing   (the decision)
//   <dir> -> <dir>.old,  <dir>.installing -> <dir>,  remove <dir>.old
//
// open() finishes a swap a crash interrupted (a <dir>.installing exists) and
// removes replacements that were never installed.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  BackendClosedError,
  BatchAlreadyCommittedError,
  checkBucketName,
  InvalidReplacementError,
  type Backend,
  type BackendEntry,
  type BackendImageReader,
  type BackendReplacement,
  type CommitOptions,
  type RangeOptions,
  type WriteBatch,
} from './backend';
import { decodeSnapshot, encodeSnapshot, type SnapshotEntry } from './snapshot-format';

// The binding ships no type declarations; this is the part of its
// abstract-leveldown API used here.
type Callback<T = void> = (error: Error | null | undefined, result?: T) => void;
interface RocksDbIterator {
  next(callback: (error: Error | null | undefined, key?: Buffer, value?: Buffer) => void): void;
  end(callback: Callback): void;
}
type RocksDbOperation = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };
interface RocksDb {
  open(options: { createIfMissing: boolean; errorIfExists: boolean }, callback: Callback): void;
  close(callback: Callback): void;
  get(key: Buffer, options: { asBuffer: true; fillCache: boolean }, callback: Callback<Buffer>): void;
  batch(operations: RocksDbOperation[], options: { sync: boolean }, callback: Callback): void;
  iterator(options: {
    gte: Buffer;
    lt: Buffer;
    limit: number;
    reverse: boolean;
    keyAsBuffer: true;
    valueAsBuffer: true;
    /** Bytes the binding reads ahead per native call (16 KiB by default). */
    highWaterMark?: number;
  }): RocksDbIterator;
}
const rocksdb = require('rocksdb') as (location: string) => RocksDb;

function call<T = void>(operation: (callback: Callback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    operation((error, result) => (error ? reject(error) : resolve(result as T)));
  });
}

/** Every stored key starts with one of these; a handful of buckets exist, so each prefix is built once. */
const bucketPrefixes = new Map<string, Buffer>();

function bucketPrefix(bucket: string): Buffer {
  let prefix = bucketPrefixes.get(bucket);
  if (prefix === undefined) {
    checkBucketName(bucket);
    prefix = Buffer.from(`${bucket}\u0000`, 'ascii');
    bucketPrefixes.set(bucket, prefix);
  }
  return prefix;
}

function storedKey(bucket: string, key: Uint8Array): Buffer {
  return Buffer.concat([bucketPrefix(bucket), key]);
}

/** Past every stored key: bucket names start with a letter. */
const keyspaceEnd = Buffer.from([0xff]);
/**
 * Deleting it is the smallest write that can carry sync: RocksDB then fsyncs
 * its log, and with it everything written before. No bucket key starts with 0x00.
 */
const syncMarkerKey = Buffer.from([0]);
/** Read-ahead of an image reader: large, since it reads the whole database. */
const imageReadAheadBytes = 1024 * 1024;

function openDatabase(directory: string, errorIfExists: boolean): Promise<RocksDb> {
  const db = rocksdb(directory);
  return call((callback) => db.open({ createIfMissing: true, errorIfExists }, callback)).then(() => db);
}

/** One stored key as bucket, key and value; undefined for a key outside every bucket. */
function splitStoredKey(key: Buffer, value: Buffer): SnapshotEntry | undefined {
  const separator = key.indexOf(0);
  if (separator <= 0) return undefined;
  return { bucket: key.toString('ascii', 0, separator), key: key.subarray(separator + 1), value };
}

function nextPair(iterator: RocksDbIterator): Promise<{ key: Buffer; value: Buffer } | undefined> {
  return new Promise((resolve, reject) => {
    iterator.next((error, key, value) =>
      error ? reject(error) : resolve(key === undefined || value === undefined ? undefined : { key, value }),
    );
  });
}

/** Makes renames and removals in `directory` durable (POSIX needs the directory itself fsynced). */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await fs.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

interface ReplacementState {
  directory: string;
  /** Open until finish() or discard(). */
  db: RocksDb | undefined;
  finished: boolean;
  discarded: boolean;
}

/** Where a backend in `directory` keeps its swap directories: siblings, so a rename never crosses file systems. */
function swapPaths(directory: string): { parent: string; installing: string; old: string; incomingPrefix: string } {
  const parent = path.dirname(directory);
  const base = path.basename(directory);
  return {
    parent,
    installing: path.join(parent, `${base}.installing`),
    old: path.join(parent, `${base}.old`),
    incomingPrefix: `${base}.incoming-`,
  };
}

/**
 * Finishes a swap a crash interrupted, and with `dropIncoming` removes
 * replacements never installed (only when no replacement can be in use); see
 * the top of the file.
 */
async function recoverSwap(directory: string, dropIncoming: boolean): Promise<void> {
  const { parent, installing, old, incomingPrefix } = swapPaths(directory);
  await fs.mkdir(parent, { recursive: true });
  if (await exists(installing)) {
    if (await exists(directory)) {
      await fs.rm(old, { recursive: true, force: true });
      await fs.rename(directory, old);
    }
    await fs.rename(installing, directory);
    await syncDirectory(parent);
  }
  await fs.rm(old, { recursive: true, force: true });
  if (!dropIncoming) return;
  for (const name of await fs.readdir(parent)) {
    if (name.startsWith(incomingPrefix)) await fs.rm(path.join(parent, name), { recursive: true, force: true });
  }
}

interface WriteGroup {
  operations: RocksDbOperation[];
  sync: boolean;
  done: Promise<void>;
}

export interface RocksDbBackendOptions {
  /** Directory holding the database files; created if missing. */
  directory: string;
}

export class RocksDbBackend implements Backend {
  private closed = false;
  // Batches reach RocksDB one at a time, in commit() order, so a later batch
  // can never be overtaken by an earlier one on the binding's thread pool.
  private writeQueue: Promise<void> = Promise.resolve();
  /** Batches committed but not yet handed to RocksDB; see write(). */
  private pendingGroup: WriteGroup | undefined;

  private readonly replacements = new Map<BackendReplacement, ReplacementState>();
  private replacementCount = 0;

  private constructor(
    /** Replaced by install(); read it at each use. */
    private db: RocksDb,
    readonly directory: string,
  ) {}

  static async open(options: RocksDbBackendOptions): Promise<RocksDbBackend> {
    await recoverSwap(options.directory, true);
    await fs.mkdir(options.directory, { recursive: true });
    return new RocksDbBackend(await openDatabase(options.directory, false), options.directory);
  }

  async get(bucket: string, key: Uint8Array): Promise<Buffer | undefined> {
    this.checkOpen();
    const storageKey = storedKey(bucket, key);
    try {
      return await call<Buffer>((callback) => this.db.get(storageKey, { asBuffer: true, fillCache: true }, callback));
    } catch (error) {
      // Checked by message, not instanceof: the binding's errors may come from another realm (e.g. under jest).
      const message = (error as { message?: unknown } | null)?.message;
      if (typeof message === 'string' && message.startsWith('NotFound')) return undefined;
      throw error;
    }
  }

  async *range(bucket: string, options: RangeOptions = {}): AsyncIterable<BackendEntry> {
    this.checkOpen();
    const prefix = bucketPrefix(bucket);
    const iterator = this.db.iterator({
      gte: Buffer.concat([prefix, options.gte ?? Buffer.alloc(0)]),
      lt: options.lt === undefined ? Buffer.from(`${bucket}\u0001`, 'ascii') : Buffer.concat([prefix, options.lt]),
      limit: options.limit !== undefined && options.limit > 0 ? options.limit : -1,
      reverse: options.reverse === true,
      keyAsBuffer: true,
      valueAsBuffer: true,
    });
    try {
      for (;;) {
        const entry = await new Promise<BackendEntry | undefined>((resolve, reject) => {
          iterator.next((error, key, value) => {
            if (error) reject(error);
            else resolve(key === undefined || value === undefined ? undefined : { key: key.subarray(prefix.length), value });
          });
        });
        if (entry === undefined) return;
        yield entry;
      }
    } finally {
      await call((callback) => iterator.end(callback));
    }
  }

  batch(): WriteBatch {
    this.checkOpen();
    const operations: RocksDbOperation[] = [];
    let committed = false;
    const batch: WriteBatch = {
      put(bucket, key, value) {
        operations.push({ type: 'put', key: storedKey(bucket, key), value: Buffer.from(value) });
        return this;
      },
      delete(bucket, key) {
        operations.push({ type: 'del', key: storedKey(bucket, key) });
        return this;
      },
      get length() {
        return operations.length;
      },
      commit: (options: CommitOptions = {}) => {
        if (committed) return Promise.reject(new BatchAlreadyCommittedError());
        committed = true;
        return this.write(operations, options.sync === true);
      },
    };
    return batch;
  }

  async sizeBytes(): Promise<number> {
    this.checkOpen();
    let total = 0;
    const names = await fs.readdir(this.directory).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      // Mid-install the directory is briefly renamed away; the swap is on the write queue.
      await this.writeQueue;
      return fs.readdir(this.directory);
    });
    for (const name of names) {
      const stat = await fs.stat(path.join(this.directory, name)).catch(() => undefined);
      if (stat?.isFile() === true) total += stat.size;
    }
    return total;
  }

  async exportSnapshot(): Promise<Uint8Array> {
    this.checkOpen();
    // Everything stored is a bucket entry, so one pass over the keyspace covers all buckets.
    const entries: SnapshotEntry[] = [];
    for await (const { bucket, key, value } of this.allEntries()) entries.push({ bucket, key, value });
    return encodeSnapshot(entries);
  }

  async restoreSnapshot(snapshot: Uint8Array): Promise<void> {
    this.checkOpen();
    const entries = decodeSnapshot(snapshot);
    // Deleting the old contents and writing the new in one batch keeps the
    // replacement atomic: a crash leaves either the old or the new database.
    const operations: RocksDbOperation[] = [];
    for await (const { bucket, key } of this.allEntries()) operations.push({ type: 'del', key: storedKey(bucket, key) });
    for (const entry of entries) operations.push({ type: 'put', key: storedKey(entry.bucket, entry.key), value: entry.value });
    await this.write(operations, true);
  }

  openImage(): BackendImageReader {
    this.checkOpen();
    // The iterator pins its RocksDB snapshot here, synchronously.
    const iterator = this.db.iterator({
      gte: Buffer.alloc(0),
      lt: keyspaceEnd,
      limit: -1,
      reverse: false,
      keyAsBuffer: true,
      valueAsBuffer: true,
      highWaterMark: imageReadAheadBytes,
    });
    let ended = false;
    const end = async (): Promise<void> => {
      if (ended) return;
      ended = true;
      // Closing (or swapping) the database ends its iterators first; ending again then fails harmlessly.
      await call((callback) => iterator.end(callback)).catch(() => undefined);
    };
    return {
      next: async (maxBytes) => {
        const entries: SnapshotEntry[] = [];
        let bytes = 0;
        while (!ended && (entries.length === 0 || bytes < maxBytes)) {
          const pair = await nextPair(iterator);
          if (pair === undefined) {
            await end();
            break;
          }
          const entry = splitStoredKey(pair.key, pair.value);
          if (entry === undefined) continue;
          bytes += entry.key.length + entry.value.length;
          entries.push(entry);
        }
        return entries;
      },
      close: end,
    };
  }

  async beginReplacement(): Promise<BackendReplacement> {
    this.checkOpen();
    const { parent, incomingPrefix } = swapPaths(this.directory);
    const directory = path.join(parent, `${incomingPrefix}${++this.replacementCount}`);
    await fs.rm(directory, { recursive: true, force: true });
    const state: ReplacementState = { directory, db: await openDatabase(directory, true), finished: false, discarded: false };
    const closeDb = async (): Promise<void> => {
      const db = state.db;
      state.db = undefined;
      if (db !== undefined) await call((callback) => db.close(callback));
    };
    const replacement: BackendReplacement = {
      write: async (entries) => {
        const db = state.db;
        if (db === undefined || state.finished) throw new InvalidReplacementError('written after finish() or discard()');
        const operations: RocksDbOperation[] = entries.map((entry) => ({ type: 'put', key: storedKey(entry.bucket, entry.key), value: entry.value }));
        if (operations.length > 0) await call((callback) => db.batch(operations, { sync: false }, callback));
      },
      finish: async () => {
        const db = state.db;
        if (db === undefined) throw new InvalidReplacementError(state.discarded ? 'finished after discard()' : 'finished twice');
        await call((callback) => db.batch([{ type: 'del', key: syncMarkerKey }], { sync: true }, callback));
        await closeDb();
        state.finished = true;
      },
      discard: async () => {
        if (state.discarded) return;
        state.discarded = true;
        this.replacements.delete(replacement);
        await closeDb();
        await fs.rm(state.directory, { recursive: true, force: true });
      },
    };
    this.replacements.set(replacement, state);
    return replacement;
  }

  async install(replacement: BackendReplacement): Promise<void> {
    this.checkOpen();
    const state = this.replacements.get(replacement);
    if (state === undefined) throw new InvalidReplacementError('it belongs to another backend, or was discarded or installed');
    if (!state.finished) throw new InvalidReplacementError('it is not finished');
    this.replacements.delete(replacement);
    // Writes committed from now on form a group that runs after the swap, in the new database.
    this.pendingGroup = undefined;
    const swapped = this.writeQueue.then(() => this.swapIn(state.directory));
    this.writeQueue = swapped.catch(() => undefined);
    await swapped;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeQueue.catch(() => undefined);
    for (const replacement of [...this.replacements.keys()]) await replacement.discard().catch(() => undefined);
    await call((callback) => this.db.close(callback));
  }

  private async swapIn(incoming: string): Promise<void> {
    this.checkOpen();
    const { parent, installing, old } = swapPaths(this.directory);
    await call((callback) => this.db.close(callback));
    try {
      await fs.rm(old, { recursive: true, force: true });
      await fs.rename(incoming, installing);
      await fs.rename(this.directory, old);
      await fs.rename(installing, this.directory);
      await syncDirectory(parent);
      await fs.rm(old, { recursive: true, force: true });
    } finally {
      // Whatever happened above, reopen what is at the backend's path (open()'s recovery has the same rules).
      try {
        await recoverSwap(this.directory, false);
        this.db = await openDatabase(this.directory, false);
      } catch (error) {
        // Without a database the backend is unusable; the member must stop.
        this.closed = true;
        throw error;
      }
    }
  }

  /**
   * Batches committed while an earlier one is still being written wait in
   * one group and reach RocksDB as one atomic batch: still in commit order,
   * each batch still all-or-nothing, but one native call for the group (the
   * MVCC store commits one batch per transaction, many per Raft Ready).
   */
  private write(operations: RocksDbOperation[], sync: boolean): Promise<void> {
    let group = this.pendingGroup;
    if (group === undefined) {
      const created: WriteGroup = { operations: [], sync: false, done: Promise.resolve() };
      group = created;
      this.pendingGroup = created;
      created.done = this.writeQueue.then(() => {
        // From here on, later commits form the next group.
        if (this.pendingGroup === created) this.pendingGroup = undefined;
        this.checkOpen();
        return created.operations.length === 0
          ? undefined
          : call((callback) => this.db.batch(created.operations, { sync: created.sync }, callback));
      });
      this.writeQueue = created.done.catch(() => undefined);
    }
    for (const operation of operations) group.operations.push(operation);
    group.sync ||= sync;
    return group.done;
  }

  private async *allEntries(): AsyncIterable<SnapshotEntry> {
    const reader = this.openImage();
    try {
      for (;;) {
        const entries = await reader.next(imageReadAheadBytes);
        if (entries.length === 0) return;
        yield* entries;
      }
    } finally {
      await reader.close();
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new BackendClosedError();
  }
}
