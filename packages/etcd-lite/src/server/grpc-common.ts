// What every client-facing gRPC service shares: turning a thrown error into
// etcd's status (code and exact message), and etcd's "require leader" check.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../observability';
import { NO_NODE } from '../raft';
import { NoLeaderError, toEtcdServerError } from './errors';

/** What the services need from the member beyond their own operations. */
export interface ServiceContext {
  readonly logger: Logger;
  readonly leaderId: number;
}

/** Whether the caller of a request gave up (cancelled, or its deadline passed). */
export interface CancelSignal {
  readonly aborted: boolean;
}

/** Read lazily: no timer per request. */
export function cancelSignal(call: grpc.ServerUnaryCall<unknown, unknown>): CancelSignal {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  return {
    get aborted() {
      return call.cancelled || Date.now() >= deadlineMs;
    },
  };
}

/** Metadata etcd clients set (clientv3.WithRequireLeader, etcdctl watch) to fail fast without a leader. */
const requireLeaderMetadataKey = 'hasleader';

export function toStatus(error: unknown, logger: Logger, method: string): Partial<grpc.StatusObject> {
  const etcdError = toEtcdServerError(error);
  if (etcdError !== undefined) return { code: etcdError.code, details: etcdError.details };
  logger.error('request failed unexpectedly', { method, error });
  return { code: grpc.status.UNKNOWN, details: error instanceof Error ? error.message : String(error) };
}

/** Throws NoLeaderError when the client asked for a leader and this member knows none. */
export function checkRequireLeader(context: ServiceContext, metadata: grpc.Metadata): void {
  if (context.leaderId !== NO_NODE) return;
  const values = metadata.get(requireLeaderMetadataKey);
  if (values.some((value) => String(value) === 'true')) throw new NoLeaderError();
}

/**
 * A unary handler running `run`; its result or its error (as etcd's status)
 * goes back to the client. `signal` aborts when the client cancels or its
 * deadline passes.
 */
export function unary<Request, Response>(
  context: ServiceContext,
  method: string,
  run: (request: Request, signal: CancelSignal) => Response | Promise<Response>,
): grpc.handleUnaryCall<Request, Response> {
  return (call, callback) => {
    let result: Response | Promise<Response>;
    try {
      checkRequireLeader(context, call.metadata);
      result = run(call.request, cancelSignal(call));
    } catch (error) {
      callback(toStatus(error, context.logger, method));
      return;
    }
    Promise.resolve(result).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toStatus(error, context.logger, method)),
    );
  };
}
