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

/** InternalRaftRequest's field numbers (proto/etcd/raft_internal.proto) for framing a request's wire bytes. */
const idFieldTag = (1 << 3) | 0;
const fieldNumberByType = {
  range: 3,
  put: 4,
  deleteRange: 5,
  txn: 6,
  compaction: 7,
  leaseGrant: 8,
  leaseRevoke: 9,
} as const satisfies Record<InternalRequestType, number>;

/** Bytes of `value` as a protobuf varint; exact up to 2^53 (request ids stay below it). */
function varintLength(value: number): number {
  let length = 1;
  for (let rest = value; rest >= 128; rest = Math.floor(rest / 128)) length++;
  return length;
}

function writeVarint(target: Buffer, offset: number, value: number): number {
  let rest = value;
  let at = offset;
  while (rest >= 128) {
    target[at++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  target[at++] = rest;
  return at;
}

/**
 * The same entry encodeRaftRequest would write, built around the request's
 * bytes as the client sent them: an InternalRaftRequest is the id plus the
 * request as a length-delimited field, so the message need not be converted
 * and encoded again. `wireBytes` must be the encoding the caller's request
 * object was decoded from (see rememberWireBytes); every member decodes the
 * entry to that same object.
 */
export function encodeRaftRequestFromWire(id: number, type: InternalRequestType, wireBytes: Uint8Array): Buffer {
  const fieldTag = (fieldNumberByType[type] << 3) | 2;
  const size = 1 + varintLength(id) + varintLength(fieldTag) + varintLength(wireBytes.length) + wireBytes.length;
  const data = Buffer.allocUnsafe(size);
  let at = 0;
  data[at++] = idFieldTag;
  at = writeVarint(data, at, id);
  at = writeVarint(data, at, fieldTag);
  at = writeVarint(data, at, wireBytes.length);
  data.set(wireBytes, at);
  return data;
}

const wireBytesByRequest = new WeakMap<object, Uint8Array>();

/** Records the bytes a request message was decoded from (the gRPC deserializer does, for KV writes). */
export function rememberWireBytes(request: object, wireBytes: Uint8Array): void {
  wireBytesByRequest.set(request, wireBytes);
}

/** The bytes `request` was decoded from, when it came from the wire unchanged. */
export function wireBytesOf(request: object): Uint8Array | undefined {
  return wireBytesByRequest.get(request);
}

/**
 * The requests this member proposed, by the exact entry bytes it handed to
 * Raft, so applying its own entry skips decoding them again. Only requests
 * whose entry wraps their wire bytes are kept: those decode to an equal
 * object on every member. Other entries (from peers, replayed after a
 * restart, or copied on the way) are decoded as usual.
 */
export class LocalProposals {
  private readonly requestsByData = new WeakMap<Uint8Array, RaftRequest>();

  remember(data: Uint8Array, request: RaftRequest): void {
    this.requestsByData.set(data, request);
  }

  /** The request proposed as exactly `data` (same object), forgotten once taken. */
  take(data: Uint8Array): RaftRequest | undefined {
    const request = this.requestsByData.get(data);
    if (request !== undefined) this.requestsByData.delete(data);
    return request;
  }
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
