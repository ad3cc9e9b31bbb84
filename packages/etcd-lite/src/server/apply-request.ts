// The payload of a Raft entry carrying a client write: a tagged union of the
// requests etcd-lite replicates, plus the id the proposing member uses to
// hand the result back to the waiting caller. On the wire it is etcd's
// InternalRaftRequest (proto/etcd/raft_internal.proto), so entries stay
// compact and decode with the same field numbers as the client API.

import { decodeMessage, encodeMessage } from '../etcdpb/load';
import { int64ToNumber } from '../etcdpb/int64';
import type * as pb from '../etcdpb/types';

export type InternalRequest =
  | { type: 'range'; request: pb.RangeRequest }
  | { type: 'put'; request: pb.PutRequest }
  | { type: 'deleteRange'; request: pb.DeleteRangeRequest }
  | { type: 'txn'; request: pb.TxnRequest }
  | { type: 'compaction'; request: pb.CompactionRequest }
  | { type: 'leaseGrant'; request: pb.LeaseGrantRequest }
  | { type: 'leaseRevoke'; request: pb.LeaseRevokeRequest };

export type InternalRequestType = InternalRequest['type'];

/** The response message the applier produces for each request type. */
export interface ResponseByType {
  range: pb.RangeResponse;
  put: pb.PutResponse;
  deleteRange: pb.DeleteRangeResponse;
  txn: pb.TxnResponse;
  compaction: pb.CompactionResponse;
  leaseGrant: pb.LeaseGrantResponse;
  leaseRevoke: pb.LeaseRevokeResponse;
}

export interface RaftRequest {
  /** Chosen by the proposing member, unique among its in-flight proposals (below 2^53). */
  id: number;
  body: InternalRequest;
}

export class MalformedRaftRequestError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(`malformed raft request entry: ${reason}`, options);
    this.name = 'MalformedRaftRequestError';
  }
}

const fieldByType = {
  range: 'range',
  put: 'put',
  deleteRange: 'delete_range',
  txn: 'txn',
  compaction: 'compaction',
  leaseGrant: 'lease_grant',
  leaseRevoke: 'lease_revoke',
} as const satisfies Record<InternalRequestType, keyof pb.InternalRaftRequest>;

export function encodeRaftRequest(raftRequest: RaftRequest): Uint8Array {
  const message: pb.InternalRaftRequest = { ID: raftRequest.id, [fieldByType[raftRequest.body.type]]: raftRequest.body.request };
  return encodeMessage('etcdserverpb.InternalRaftRequest', message);
}

export function decodeRaftRequest(data: Uint8Array): RaftRequest {
  let message: pb.InternalRaftRequest;
  try {
    message = decodeMessage('etcdserverpb.InternalRaftRequest', data);
  } catch (error) {
    throw new MalformedRaftRequestError('not an InternalRaftRequest', { cause: error });
  }
  const present = (Object.keys(fieldByType) as InternalRequestType[]).filter((type) => message[fieldByType[type]] != null);
  if (present.length !== 1) throw new MalformedRaftRequestError(`expected one request, found ${present.length}`);
  const type = present[0]!;
  const id = int64ToNumber(message.ID, 'ID');
  return { id, body: { type, request: message[fieldByType[type]] } as InternalRequest };
}
