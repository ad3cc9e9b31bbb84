// A Backend held in process memory: for simulation and unit tests, where a
// "restart" reuses the same instance and a crash that loses data is modelled
// by restoring an older snapshot. Commits apply synchronously (the returned
// promise is already settled), which keeps simulated runs deterministic.

import {
  BackendClosedError,
  BatchAlreadyCommittedError,
  checkBucketName,
  InvalidReplacementError,
  type Backend,
  type BackendEntry,
  type BackendImageReader,
  type BackendReplacement,
  type RangeOptions,
  type WriteBatch,
} from './backend';
import { decodeSnapshot, encodeSnapshot, type SnapshotEntry } from './snapshot-format';

type Buckets = Map<string, Map<string, BackendEntry>>;

type Operation =
  | { type: 'put'; bucket: string; key: Buffer; value: Buffer }
  | { type: 'delete'; bucket: string; key: Buffer };

// latin1 maps each byte to one UTF-16 unit, so string order equals byte order.
const toMapKey = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');

export class MemoryBackend implements Backend {
  private buckets: Buckets = new Map();
  private closed = false;
  private readonly replacements = new WeakMap<BackendReplacement, { buckets: Buckets; finished: boolean; discarded: boolean }>();

  async get(bucket: string, key: Uint8Array): Promise<Buffer | undefined> {
    this.checkOpen();
    checkBucketName(bucket);
    const entry = this.buckets.get(bucket)?.get(toMapKey(key));
    return entry === undefined ? undefined : Buffer.from(entry.value);
  }

  async *range(bucket: string, options: RangeOptions = {}): AsyncIterable<BackendEntry> {
    this.checkOpen();
    checkBucketName(bucket);
    const entries = this.sortedEntries(bucket, options);
    for (const entry of entries) yield { key: Buffer.from(entry.key), value: Buffer.from(entry.value) };
  }

  batch(): WriteBatch {
    this.checkOpen();
    const operations: Operation[] = [];
    let committed = false;
    const batch: WriteBatch = {
      put(bucket, key, value) {
        checkBucketName(bucket);
        operations.push({ type: 'put', bucket, key: Buffer.from(key), value: Buffer.from(value) });
        return this;
      },
      delete(bucket, key) {
        checkBucketName(bucket);
        operations.push({ type: 'delete', bucket, key: Buffer.from(key) });
        return this;
      },
      get length() {
        return operations.length;
      },
      commit: async () => {
        if (committed) throw new BatchAlreadyCommittedError();
        committed = true;
        this.checkOpen();
        applyOperations(this.buckets, operations);
      },
    };
    return batch;
  }

  async sizeBytes(): Promise<number> {
    this.checkOpen();
    let total = 0;
    for (const [bucket, entries] of this.buckets) {
      for (const entry of entries.values()) total += bucket.length + 1 + entry.key.length + entry.value.length;
    }
    return total;
  }

  async exportSnapshot(): Promise<Uint8Array> {
    this.checkOpen();
    return encodeSnapshot(this.allEntries());
  }

  async restoreSnapshot(snapshot: Uint8Array): Promise<void> {
    this.checkOpen();
    const entries = decodeSnapshot(snapshot);
    this.buckets = new Map();
    applyOperations(this.buckets, entries.map((entry) => ({ type: 'put', ...entry })));
  }

  openImage(): BackendImageReader {
    this.checkOpen();
    // Stored entries are never changed in place, so a list of them is a snapshot.
    const entries = this.allEntries();
    let position = 0;
    return {
      next: async (maxBytes) => {
        const chunk: SnapshotEntry[] = [];
        let bytes = 0;
        while (position < entries.length && (chunk.length === 0 || bytes < maxBytes)) {
          const entry = entries[position++]!;
          bytes += entry.key.length + entry.value.length;
          chunk.push(entry);
        }
        return chunk;
      },
      close: async () => {
        position = entries.length;
      },
    };
  }

  async beginReplacement(): Promise<BackendReplacement> {
    this.checkOpen();
    const state = { buckets: new Map() as Buckets, finished: false, discarded: false };
    const replacement: BackendReplacement = {
      write: async (entries) => {
        if (state.finished || state.discarded) throw new InvalidReplacementError('written after finish() or discard()');
        for (const entry of entries) checkBucketName(entry.bucket);
        applyOperations(state.buckets, entries.map((entry) => ({ type: 'put', ...entry })));
      },
      finish: async () => {
        if (state.discarded) throw new InvalidReplacementError('finished after discard()');
        state.finished = true;
      },
      discard: async () => {
        state.discarded = true;
        state.buckets = new Map();
      },
    };
    this.replacements.set(replacement, state);
    return replacement;
  }

  async install(replacement: BackendReplacement): Promise<void> {
    this.checkOpen();
    const state = this.replacements.get(replacement);
    if (state === undefined) throw new InvalidReplacementError('it belongs to another backend');
    if (!state.finished || state.discarded) throw new InvalidReplacementError('it is not finished, or was discarded');
    this.replacements.delete(replacement);
    this.buckets = state.buckets;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new BackendClosedError();
  }

  private allEntries(): SnapshotEntry[] {
    const entries: SnapshotEntry[] = [];
    for (const bucket of [...this.buckets.keys()].sort()) {
      for (const entry of this.sortedEntries(bucket, {})) entries.push({ bucket, key: entry.key, value: entry.value });
    }
    return entries;
  }

  private sortedEntries(bucket: string, options: RangeOptions): BackendEntry[] {
    const entries = this.buckets.get(bucket);
    if (entries === undefined) return [];
    const lower = options.gte === undefined ? undefined : toMapKey(options.gte);
    const upper = options.lt === undefined ? undefined : toMapKey(options.lt);
    const selected: Array<[string, BackendEntry]> = [];
    for (const item of entries) {
      if (lower !== undefined && item[0] < lower) continue;
      if (upper !== undefined && item[0] >= upper) continue;
      selected.push(item);
    }
    selected.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (options.reverse === true) selected.reverse();
    const limited = options.limit !== undefined && options.limit > 0 ? selected.slice(0, options.limit) : selected;
    return limited.map((item) => item[1]);
  }
}

function applyOperations(buckets: Buckets, operations: readonly Operation[]): void {
  for (const operation of operations) {
    let entries = buckets.get(operation.bucket);
    if (operation.type === 'put') {
      if (entries === undefined) {
        entries = new Map();
        buckets.set(operation.bucket, entries);
      }
      entries.set(toMapKey(operation.key), { key: operation.key, value: operation.value });
    } else {
      entries?.delete(toMapKey(operation.key));
    }
  }
}
