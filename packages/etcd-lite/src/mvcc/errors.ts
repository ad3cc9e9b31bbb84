// Expected errors of the MVCC store. Their messages are etcd's, because the
// server adds only its "etcdserver: " prefix before clients see them.

export class CompactedError extends Error {
  constructor(
    readonly requestedRevision: number,
    readonly compactRevision: number,
  ) {
    super('mvcc: required revision has been compacted');
    this.name = 'CompactedError';
  }
}

export class FutureRevisionError extends Error {
  constructor(
    readonly requestedRevision: number,
    readonly currentRevision: number,
  ) {
    super('mvcc: required revision is a future revision');
    this.name = 'FutureRevisionError';
  }
}

/** A write batch failed to commit to the backend; the store refuses further writes. */
export class StoreFailedError extends Error {
  constructor(cause: unknown) {
    super('mvcc: backend write failed; the store must be reopened', { cause });
    this.name = 'StoreFailedError';
  }
}

export class WatchIdInUseError extends Error {
  constructor(readonly watchId: number) {
    super('mvcc: duplicate watch ID provided on the WatchStream');
    this.name = 'WatchIdInUseError';
  }
}

export class EmptyWatchRangeError extends Error {
  constructor() {
    super('mvcc: watcher range is empty');
    this.name = 'EmptyWatchRangeError';
  }
}
