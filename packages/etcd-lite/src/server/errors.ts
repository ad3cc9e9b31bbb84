// The errors etcd's v3 API returns, with etcd 3.4's exact gRPC status codes
// and messages (clients such as etcdctl and the etcd3 npm package match on
// the message text). One class per failure; each carries `code` and
// `details` ready for a grpc-js ServiceError.

import { Int64RangeError } from '../etcdpb/int64';
import { LeaseExistsError, LeaseNotFoundError, LeaseTtlTooLargeError, NotPrimaryError } from '../lease/errors';
import { CompactedError, FutureRevisionError } from '../mvcc/errors';

/** gRPC status codes (the numeric values every gRPC implementation shares). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

export abstract class EtcdServerError extends Error {
  abstract readonly code: GrpcStatusCode;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }

  /** The gRPC status text, identical to etcd's. */
  get details(): string {
    return this.message;
  }
}

// ---- requests ----
export class EmptyKeyError extends EtcdServerError {
  readonly code = GrpcStatus.INVALID_ARGUMENT;
  constructor(options?: ErrorOptions) { super('etcdserver: key is not provided', options); }
}
export class KeyNotFoundError extends EtcdServerError {
  readonly code = GrpcStatus.INVALID_ARGUMENT;
  constructor(options?: ErrorOptions) { super('etcdserver: key not found', options); }
}
export class ValueProvidedError extends EtcdServerError {
  readonly code = GrpcStatus.INVALID_ARGUMENT;
  constructor(options?: ErrorOptions) { super('etcdserver: value is provided', options); }
}
export class LeaseProvidedError extends EtcdServerError {
  readonly code = GrpcStatus.INVALID_ARGUMENT;
  constructor(options?: ErrorOptions) { super('etcdserver: lease is provided', options); }
}
export class TooManyOpsError extends EtcdServerError {
  readonly code = GrpcStatus.INVALID_ARGUMENT;
  constructor(options?: ErrorOptions) { super('etcdserver: too many operations in txn request', options); }
}
export class DuplicateKeyError extends EtcdServerError {
  readonly code = GrpcStatus.INVALID_ARGUMENT;
  constructor(options?: ErrorOptions) { super('etcdserver: duplicate key given in txn request', options); }
}
export class RequestTooLargeError extends EtcdServerError {
  readonly code = GrpcStatus.INVALID_ARGUMENT;
  constructor(options?: ErrorOptions) { super('etcdserver: request is too large', options); }
}
export class TooManyRequestsError extends EtcdServerError {
  readonly code = GrpcStatus.RESOURCE_EXHAUSTED;
  constructor(options?: ErrorOptions) { super('etcdserver: too many requests', options); }
}
/** etcd-lite only: an int64 field beyond 2^53 (etcd-lite computes with JS numbers). */
export class ValueOutOfRangeError extends EtcdServerError {
  readonly code = GrpcStatus.INVALID_ARGUMENT;
  constructor(detail: string, options?: ErrorOptions) { super(`etcdserver: ${detail}`, options); }
}

// ---- mvcc ----
export class CompactedRevisionError extends EtcdServerError {
  readonly code = GrpcStatus.OUT_OF_RANGE;
  constructor(options?: ErrorOptions) { super('etcdserver: mvcc: required revision has been compacted', options); }
}
export class FutureRevisionRequestedError extends EtcdServerError {
  readonly code = GrpcStatus.OUT_OF_RANGE;
  constructor(options?: ErrorOptions) { super('etcdserver: mvcc: required revision is a future revision', options); }
}
export class NoSpaceError extends EtcdServerError {
  readonly code = GrpcStatus.RESOURCE_EXHAUSTED;
  constructor(options?: ErrorOptions) { super('etcdserver: mvcc: database space exceeded', options); }
}

// ---- leases ----
export class LeaseNotFoundServerError extends EtcdServerError {
  readonly code = GrpcStatus.NOT_FOUND;
  constructor(options?: ErrorOptions) { super('etcdserver: requested lease not found', options); }
}
export class LeaseExistsServerError extends EtcdServerError {
  readonly code = GrpcStatus.FAILED_PRECONDITION;
  constructor(options?: ErrorOptions) { super('etcdserver: lease already exists', options); }
}
export class LeaseTtlTooLargeServerError extends EtcdServerError {
  readonly code = GrpcStatus.OUT_OF_RANGE;
  constructor(options?: ErrorOptions) { super('etcdserver: too large lease TTL', options); }
}

// ---- cluster membership ----
export class MemberExistsError extends EtcdServerError {
  readonly code = GrpcStatus.FAILED_PRECONDITION;
  constructor(options?: ErrorOptions) { super('etcdserver: member ID already exist', options); }
}
export class PeerUrlExistsError extends EtcdServerError {
  readonly code = GrpcStatus.FAILED_PRECONDITION;
  constructor(options?: ErrorOptions) { super('etcdserver: Peer URLs already exists', options); }
}
export class MemberNotEnoughStartedError extends EtcdServerError {
  readonly code = GrpcStatus.FAILED_PRECONDITION;
  constructor(options?: ErrorOptions) { super('etcdserver: re-configuration failed due to not enough started members', options); }
}
export class MemberBadUrlsError extends EtcdServerError {
  readonly code = GrpcStatus.INVALID_ARGUMENT;
  constructor(options?: ErrorOptions) { super('etcdserver: given member URLs are invalid', options); }
}
export class MemberNotFoundError extends EtcdServerError {
  readonly code = GrpcStatus.NOT_FOUND;
  constructor(options?: ErrorOptions) { super('etcdserver: member not found', options); }
}
export class MemberNotLearnerError extends EtcdServerError {
  readonly code = GrpcStatus.FAILED_PRECONDITION;
  constructor(options?: ErrorOptions) { super('etcdserver: can only promote a learner member', options); }
}
export class LearnerNotReadyError extends EtcdServerError {
  readonly code = GrpcStatus.FAILED_PRECONDITION;
  constructor(options?: ErrorOptions) { super('etcdserver: can only promote a learner member which is in sync with leader', options); }
}
export class TooManyLearnersError extends EtcdServerError {
  readonly code = GrpcStatus.FAILED_PRECONDITION;
  constructor(options?: ErrorOptions) { super('etcdserver: too many learner members in cluster', options); }
}

// ---- server state ----
export class NoLeaderError extends EtcdServerError {
  readonly code = GrpcStatus.UNAVAILABLE;
  constructor(options?: ErrorOptions) { super('etcdserver: no leader', options); }
}
export class NotLeaderError extends EtcdServerError {
  readonly code = GrpcStatus.FAILED_PRECONDITION;
  constructor(options?: ErrorOptions) { super('etcdserver: not leader', options); }
}
export class LeaderChangedError extends EtcdServerError {
  readonly code = GrpcStatus.UNAVAILABLE;
  constructor(options?: ErrorOptions) { super('etcdserver: leader changed', options); }
}
export class NotCapableError extends EtcdServerError {
  readonly code = GrpcStatus.UNAVAILABLE;
  constructor(options?: ErrorOptions) { super('etcdserver: not capable', options); }
}
export class StoppedError extends EtcdServerError {
  readonly code = GrpcStatus.UNAVAILABLE;
  constructor(options?: ErrorOptions) { super('etcdserver: server stopped', options); }
}
export class TimeoutError extends EtcdServerError {
  readonly code = GrpcStatus.UNAVAILABLE;
  constructor(options?: ErrorOptions) { super('etcdserver: request timed out', options); }
}
export class TimeoutDueToLeaderFailError extends EtcdServerError {
  readonly code = GrpcStatus.UNAVAILABLE;
  constructor(options?: ErrorOptions) { super('etcdserver: request timed out, possibly due to previous leader failure', options); }
}
export class TimeoutDueToConnectionLostError extends EtcdServerError {
  readonly code = GrpcStatus.UNAVAILABLE;
  constructor(options?: ErrorOptions) { super('etcdserver: request timed out, possibly due to connection lost', options); }
}
export class UnhealthyError extends EtcdServerError {
  readonly code = GrpcStatus.UNAVAILABLE;
  constructor(options?: ErrorOptions) { super('etcdserver: unhealthy cluster', options); }
}
export class CorruptError extends EtcdServerError {
  readonly code = GrpcStatus.DATA_LOSS;
  constructor(options?: ErrorOptions) { super('etcdserver: corrupt cluster', options); }
}
export class NotSupportedForLearnerError extends EtcdServerError {
  readonly code = GrpcStatus.UNAVAILABLE;
  constructor(options?: ErrorOptions) { super('etcdserver: rpc not supported for learner', options); }
}
export class BadLeaderTransfereeError extends EtcdServerError {
  readonly code = GrpcStatus.FAILED_PRECONDITION;
  constructor(options?: ErrorOptions) { super('etcdserver: bad leader transferee', options); }
}

/**
 * The client-facing error for an expected error of the MVCC store or the
 * lessor (kept as `cause`); undefined for anything else, which is a bug.
 */
export function toEtcdServerError(error: unknown): EtcdServerError | undefined {
  if (error instanceof EtcdServerError) return error;
  const options = { cause: error };
  if (error instanceof CompactedError) return new CompactedRevisionError(options);
  if (error instanceof FutureRevisionError) return new FutureRevisionRequestedError(options);
  if (error instanceof LeaseNotFoundError) return new LeaseNotFoundServerError(options);
  if (error instanceof LeaseExistsError) return new LeaseExistsServerError(options);
  if (error instanceof LeaseTtlTooLargeError) return new LeaseTtlTooLargeServerError(options);
  if (error instanceof NotPrimaryError) return new NotLeaderError(options);
  if (error instanceof Int64RangeError) return new ValueOutOfRangeError(error.message, options);
  return undefined;
}
