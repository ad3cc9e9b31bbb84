// A Backend on RocksDB (the `rocksdb` npm binding, prebuilt). Buckets share
// one keyspace: a stored key is the bucket name, a 0x00 byte, then the key, so
// a bucket is one contiguous, ordered key range.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  BackendClosedError,
  BatchAlreadyCommittedError,
  checkBucketName,
  type Backend,
  type BackendEntry,
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

  private constructor(
    private readonly db: RocksDb,
    readonly directory: string,
  ) {}

  static async open(options: RocksDbBackendOptions): Promise<RocksDbBackend> {
    await fs.mkdir(options.directory, { recursive: true });
    const db = rocksdb(options.directory);
    await call((callback) => db.open({ createIfMissing: true, errorIfExists: false }, callback));
    return new RocksDbBackend(db, options.directory);
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
    for (const name of await fs.readdir(this.directory)) {
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeQueue.catch(() => undefined);
    await call((callback) => this.db.close(callback));
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
    const iterator = this.db.iterator({
      gte: Buffer.alloc(0),
      lt: Buffer.from([0xff]),
      limit: -1,
      reverse: false,
      keyAsBuffer: true,
      valueAsBuffer: true,
    });
    try {
      for (;;) {
        const next = await new Promise<{ key: Buffer; value: Buffer } | undefined>((resolve, reject) => {
          iterator.next((error, key, value) =>
            error ? reject(error) : resolve(key === undefined || value === undefined ? undefined : { key, value }),
          );
        });
        if (next === undefined) return;
        const separator = next.key.indexOf(0);
        if (separator <= 0) continue;
        yield { bucket: next.key.toString('ascii', 0, separator), key: next.key.subarray(separator + 1), value: next.value };
      }
    } finally {
      await call((callback) => iterator.end(callback));
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new BackendClosedError();
  }
}
