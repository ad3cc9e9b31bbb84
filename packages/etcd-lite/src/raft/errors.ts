// Failure kinds of the Raft core beyond the storage and proposal errors that
// types.ts fixes. Bugs (a broken invariant) and caller mistakes (misuse of the
// API, a bad configuration) are kept apart from expected operating errors
// (a dropped read, an out-of-date snapshot) so the driver can tell which ones
// to retry.

/** A broken internal invariant: a bug in the core or in its driver. Never caught on purpose. */
export class RaftInvariantError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`raft invariant violated: ${message}`, options);
    this.name = 'RaftInvariantError';
  }
}

/** A RaftConfig field is outside its allowed range. */
export class RaftConfigError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`invalid raft config: ${field} ${reason}`);
    this.name = 'RaftConfigError';
  }
}

/** The driver called the RawNode API out of order (ready twice, advance without ready, bootstrap on a non-empty log). */
export class RaftUsageError extends Error {
  constructor(message: string) {
    super(`raft API misuse: ${message}`);
    this.name = 'RaftUsageError';
  }
}

/** A local read-index request was not accepted (no leader known, or the pending-read bound reached). The caller may retry. */
export class ReadIndexDroppedError extends Error {
  constructor(reason: string) {
    super(`raft read index dropped: ${reason}`);
    this.name = 'ReadIndexDroppedError';
  }
}

/** A membership change is malformed or would leave the cluster without voters. */
export class ConfChangeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`raft conf change: ${message}`, options);
    this.name = 'ConfChangeError';
  }
}

/** MemoryStorage was given a snapshot that is not newer than the one it holds. */
export class SnapshotOutOfDateError extends Error {
  constructor(
    readonly requestedIndex: number,
    readonly currentIndex: number,
  ) {
    super(`raft storage: snapshot at index ${requestedIndex} is not newer than the current snapshot at ${currentIndex}`);
    this.name = 'SnapshotOutOfDateError';
  }
}

/** Throws RaftInvariantError when `condition` is false: use for states that only a bug can produce. */
export function invariant(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new RaftInvariantError(typeof message === 'string' ? message : message());
  }
}
