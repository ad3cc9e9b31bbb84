// Failures of the storage layer. Every failure a caller can meet carries a
// code the REST layer maps to an HTTP status (NotFound 404, AlreadyExists 409,
// Conflict 409, Expired 410, InvalidResourceVersion 400, Timeout 504,
// Unavailable 503, InternalError 500), the etcd key it concerns and the
// underlying etcd client error as `cause`.

export type StorageErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  /** A stale resourceVersion or a failed uid/resourceVersion precondition. */
  | 'Conflict'
  /** The requested resourceVersion was compacted or left the watch cache window. */
  | 'Expired'
  | 'InvalidResourceVersion'
  | 'Timeout'
  /** etcd did not answer: no connection to any of the configured endpoints. */
  | 'Unavailable'
  | 'InternalError';

export interface StorageErrorDetails {
  /** The etcd key (or key prefix) the operation was about. */
  key: string;
  cause?: unknown;
  /** For Expired and too-large Timeout errors: the resourceVersion the caller asked for. */
  requestedResourceVersion?: number;
  /**
   * For Expired: the oldest revision still available (upstream prints it as
   * "too old resource version: requested (oldest)"); for too-large Timeout:
   * the current revision.
   */
  availableResourceVersion?: number;
}

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly key: string;
  readonly requestedResourceVersion: number | undefined;
  readonly availableResourceVersion: number | undefined;

  constructor(code: StorageErrorCode, message: string, details: StorageErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'StorageError';
    this.code = code;
    this.key = details.key;
    this.requestedResourceVersion = details.requestedResourceVersion;
    this.availableResourceVersion = details.availableResourceVersion;
  }
}

export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  return error instanceof StorageError && (code === undefined || error.code === code);
}

export function notFoundError(key: string): StorageError {
  return new StorageError('NotFound', `key not found: ${key}`, { key });
}

export function alreadyExistsError(key: string): StorageError {
  return new StorageError('AlreadyExists', `key already exists: ${key}`, { key });
}

export function conflictError(key: string, reason: string): StorageError {
  return new StorageError('Conflict', `conflict on ${key}: ${reason}`, { key });
}

/** The message matches upstream's so clients that parse it keep working. */
export function expiredError(key: string, requested: number, oldestAvailable: number, cause?: unknown): StorageError {
  return new StorageError('Expired', `too old resource version: ${requested} (${oldestAvailable})`, {
    key,
    cause,
    requestedResourceVersion: requested,
    availableResourceVersion: oldestAvailable,
  });
}

export function tooLargeResourceVersionError(key: string, requested: number, current: number): StorageError {
  return new StorageError('Timeout', `Too large resource version: ${requested}, current: ${current}`, {
    key,
    requestedResourceVersion: requested,
    availableResourceVersion: current,
  });
}

export function invalidResourceVersionError(key: string, reason: string): StorageError {
  return new StorageError('InvalidResourceVersion', reason, { key });
}

export function internalError(key: string, reason: string, cause?: unknown): StorageError {
  return new StorageError('InternalError', `${reason} (key ${key})`, { key, cause });
}

/** A key the caller built is malformed: a bug in the registry, never a user error. */
export class InvalidStorageKeyError extends Error {
  constructor(key: string, reason: string) {
    super(`invalid storage key "${key}": ${reason}`);
    this.name = 'InvalidStorageKeyError';
  }
}

/**
 * Turns an etcd3 client error into a StorageError. The client's error classes
 * are matched by name so this file needs no runtime import of the client.
 */
export function fromEtcdError(error: unknown, key: string, endpoints: readonly string[], requestedRevision?: number): StorageError {
  if (error instanceof StorageError) return error;
  const name = error instanceof Error ? error.constructor.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes('required revision has been compacted')) {
    // The caller asked for a revision etcd has compacted away; the oldest
    // revision left is not in the reply, so report what was asked for.
    return new StorageError('Expired', `too old resource version: ${requestedRevision ?? 0}`, {
      key,
      cause: error,
      requestedResourceVersion: requestedRevision,
    });
  }
  if (message.includes('required revision is a future revision')) {
    return new StorageError('Timeout', `Too large resource version: ${requestedRevision ?? 0}`, {
      key,
      cause: error,
      requestedResourceVersion: requestedRevision,
    });
  }
  if (name === 'GRPCDeadlineExceededError' || message.includes('DEADLINE_EXCEEDED') || message.includes('request timed out')) {
    return new StorageError('Timeout', `etcd request timed out (key ${key}): ${message}`, { key, cause: error });
  }
  if (
    name === 'GRPCUnavailableError' ||
    name === 'BrokenCircuitError' ||
    name === 'ClientClosedError' ||
    message.includes('UNAVAILABLE') ||
    message.includes('No connection established')
  ) {
    return new StorageError('Unavailable', `etcd unreachable at ${endpoints.join(', ')} (key ${key}): ${message}`, {
      key,
      cause: error,
    });
  }
  return internalError(key, `etcd request failed: ${message}`, error);
}
