// The storage a member's state machine writes through to: named buckets of
// ordered byte keys, atomic batched writes, and whole-contents images: read
// at one point in time while writes go on (what a leader streams to a
// follower that fell behind the Raft log), and built beside the live contents
// then swapped in (what that follower installs). The MVCC store, the lessor and
// the member list each own buckets; a single batch can span buckets, which is
// how data and the applied Raft index stay consistent after a crash.

/** One key of one bucket, as a whole-contents image lists it. */
export interface SnapshotEntry {
  bucket: string;
  key: Buffer;
  value: Buffer;
}

export interface BackendEntry {
  key: Buffer;
  value: Buffer;
}

export interface RangeOptions {
  /** Inclusive lower bound; omitted means the first key of the bucket. */
  gte?: Uint8Array;
  /** Exclusive upper bound; omitted means past the last key of the bucket. */
  lt?: Uint8Array;
  /** At most this many entries; omitted or 0 means all. */
  limit?: number;
  /** Descending key order instead of ascending. */
  reverse?: boolean;
}

export interface CommitOptions {
  /** Wait for the write to reach stable storage (fsync) before resolving. */
  sync?: boolean;
}

export interface WriteBatch {
  put(bucket: string, key: Uint8Array, value: Uint8Array): this;
  delete(bucket: string, key: Uint8Array): this;
  /** Number of operations queued so far. */
  readonly length: number;
  /**
   * Applies every queued operation atomically, in order; a batch commits once.
   * Batches take effect in the order commit() was called, even when their
   * promises are not awaited one by one.
   */
  commit(options?: CommitOptions): Promise<void>;
}

/** Everything in a backend as of the moment it was opened; later writes do not show. */
export interface BackendImageReader {
  /**
   * The next entries in (bucket, key) byte order, about `maxBytes` of keys
   * and values (at least one entry unless the image is exhausted); an empty
   * array at the end.
   */
  next(maxBytes: number): Promise<SnapshotEntry[]>;
  /** Releases the pinned view; required when abandoning the read early, harmless twice. */
  close(): Promise<void>;
}

/** Contents being built beside a backend's live ones, to replace them with install(). */
export interface BackendReplacement {
  /** Adds entries; a key written twice keeps the last value. */
  write(entries: readonly SnapshotEntry[]): Promise<void>;
  /** Makes what was written durable; only a finished replacement can be installed. */
  finish(): Promise<void>;
  /** Throws the contents away (and frees their disk space); harmless twice or after install. */
  discard(): Promise<void>;
}

export interface Backend {
  get(bucket: string, key: Uint8Array): Promise<Buffer | undefined>;
  /** Entries of one bucket in byte order of their keys. */
  range(bucket: string, options?: RangeOptions): AsyncIterable<BackendEntry>;
  batch(): WriteBatch;
  /** Bytes the backend occupies (on disk for RocksDB, keys plus values in memory). */
  sizeBytes(): Promise<number>;
  /** The whole contents, every bucket, as one self-checking blob. */
  exportSnapshot(): Promise<Uint8Array>;
  /** Replaces the whole contents with a blob from exportSnapshot, atomically. */
  restoreSnapshot(snapshot: Uint8Array): Promise<void>;
  /** A consistent view of every bucket, pinned at the moment of this (synchronous) call. */
  openImage(): BackendImageReader;
  /** Starts building replacement contents beside the live ones. */
  beginReplacement(): Promise<BackendReplacement>;
  /**
   * Replaces the whole contents with a finished replacement from this
   * backend, atomically and durably: a crash leaves the old contents or the
   * new, never a mix. Open image readers end.
   */
  install(replacement: BackendReplacement): Promise<void>;
  close(): Promise<void>;
}

/** install() was given a replacement that is not finished, was discarded, or belongs to another backend (a bug in the caller). */
export class InvalidReplacementError extends Error {
  constructor(reason: string) {
    super(`backend replacement cannot be installed: ${reason}`);
    this.name = 'InvalidReplacementError';
  }
}

export class BackendClosedError extends Error {
  constructor() {
    super('backend is closed');
    this.name = 'BackendClosedError';
  }
}

export class InvalidBucketNameError extends Error {
  constructor(readonly bucket: string) {
    super(`invalid bucket name ${JSON.stringify(bucket)}: use 1-64 characters of a-z, 0-9, "_" or "-", starting with a letter`);
    this.name = 'InvalidBucketNameError';
  }
}

export class BatchAlreadyCommittedError extends Error {
  constructor() {
    super('write batch was already committed');
    this.name = 'BatchAlreadyCommittedError';
  }
}

const bucketNamePattern = /^[a-z][a-z0-9_-]{0,63}$/;

/** Bucket names become key prefixes in RocksDB, so they must not contain the 0x00 separator. */
export function checkBucketName(bucket: string): void {
  if (!bucketNamePattern.test(bucket)) throw new InvalidBucketNameError(bucket);
}
