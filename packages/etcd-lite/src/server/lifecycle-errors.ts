// Why a member cannot start or has to stop, and the one request error
// etcd-lite adds to etcd's own (errors.ts).

import { EtcdServerError, GrpcStatus } from './errors';

/** A member started with --initial-cluster-state existing could not join its cluster. */
export class JoinClusterError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(`cannot join the existing cluster: ${message}`, options);
    this.name = 'JoinClusterError';
  }
}

/** This member was removed from its cluster (etcdctl member remove); it must not rejoin with the same identity. */
export class MemberRemovedError extends Error {
  constructor(memberId: string) {
    super(`member ${memberId} has been permanently removed from the cluster; start a new member with a fresh data dir and "etcdctl member add"`);
    this.name = 'MemberRemovedError';
  }
}

/** A listen URL cannot be served (bad syntax, unsupported scheme, port in use). */
export class ListenUrlError extends Error {
  constructor(url: string, reason: string, options?: ErrorOptions) {
    super(`cannot listen on ${url}: ${reason}`, options);
    this.name = 'ListenUrlError';
  }
}

/** The client cancelled its request (or its deadline passed) before it was proposed; nothing was written. */
export class RequestCancelledError extends EtcdServerError {
  readonly code = GrpcStatus.CANCELLED;
  constructor(options?: ErrorOptions) {
    super('context canceled', options);
  }
}
