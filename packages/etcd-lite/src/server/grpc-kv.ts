// The KV service. Writes (Put, DeleteRange, Txn, Compact) are checked as
// etcd's gRPC layer checks them, then proposed through Raft; Range is served
// from this member's store, after a read index unless it is serializable.

import type * as grpc from '@grpc/grpc-js';
import type * as pb from '../etcdpb/types';
import { rangeQuery } from '../mvcc';
import { toRangeQuery } from './apply';
import type { InternalRequest } from './apply-request';
import { validateRequest } from './apply-validate';
import { NotSupportedForLearnerError } from './errors';
import type { EtcdServer } from './etcd-server';
import { unary, type CancelSignal } from './grpc-common';

export function kvService(server: EtcdServer): grpc.UntypedServiceImplementation {
  const write = <R extends InternalRequest>(request: R, signal: CancelSignal) => {
    if (server.isLearner) throw new NotSupportedForLearnerError();
    validateRequest(request, server.limits);
    return server.propose(request, signal);
  };
  return {
    Range: unary(server, 'Range', (request: pb.RangeRequest) => range(server, request)),
    Put: unary(server, 'Put', (request: pb.PutRequest, signal) => write({ type: 'put', request }, signal)),
    DeleteRange: unary(server, 'DeleteRange', (request: pb.DeleteRangeRequest, signal) => write({ type: 'deleteRange', request }, signal)),
    Txn: unary(server, 'Txn', (request: pb.TxnRequest, signal) => write({ type: 'txn', request }, signal)),
    Compact: unary(server, 'Compact', (request: pb.CompactionRequest, signal) => write({ type: 'compaction', request }, signal)),
  };
}

async function range(server: EtcdServer, request: pb.RangeRequest): Promise<pb.RangeResponse> {
  validateRequest({ type: 'range', request }, server.limits);
  if (request.serializable !== true) {
    if (server.isLearner) throw new NotSupportedForLearnerError();
    await server.linearizableBarrier();
  }
  const result = rangeQuery(server.store, toRangeQuery(request));
  return { header: server.header(result.revision), kvs: result.kvs, more: result.more, count: result.count };
}
