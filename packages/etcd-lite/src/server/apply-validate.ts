// The checks etcd's gRPC layer makes before proposing a request (and that
// the applier repeats, so an entry that slipped through changes nothing):
// keys present, put options consistent, txn size limits, and no key written
// twice in one txn branch.

import { int64ToNumber } from '../etcdpb/int64';
import type * as pb from '../etcdpb/types';
import { keyRange, rangeContains, toLatin1, type KeyRange } from '../mvcc';
import type { InternalRequest } from './apply-request';
import { DuplicateKeyError, EmptyKeyError, LeaseProvidedError, RequestTooLargeError, TooManyOpsError, ValueProvidedError } from './errors';

export interface RequestLimits {
  /** Most compares, and most ops per branch, in one txn (etcd --max-txn-ops, default 128). */
  maxTxnOps: number;
  /** Largest encoded request accepted (etcd --max-request-bytes, default 1.5 MiB). */
  maxRequestBytes: number;
}

export const defaultRequestLimits: RequestLimits = { maxTxnOps: 128, maxRequestBytes: 1.5 * 1024 * 1024 };

/** Throws the EtcdServerError etcd would return for a malformed request. */
export function validateRequest(request: InternalRequest, limits: RequestLimits = defaultRequestLimits): void {
  switch (request.type) {
    case 'range':
      return checkKey(request.request.key);
    case 'put':
      return checkPut(request.request);
    case 'deleteRange':
      return checkKey(request.request.key);
    case 'txn':
      checkTxn(request.request, limits);
      checkTxnKeys(request.request.success ?? []);
      checkTxnKeys(request.request.failure ?? []);
      return;
    case 'compaction':
    case 'leaseGrant':
    case 'leaseRevoke':
      return;
  }
}

/** For the proposer: refuses an encoded request above the size limit. */
export function checkRequestSize(encodedBytes: number, limits: RequestLimits = defaultRequestLimits): void {
  if (encodedBytes > limits.maxRequestBytes) throw new RequestTooLargeError();
}

function checkKey(key: Buffer | undefined): void {
  if (key === undefined || key.length === 0) throw new EmptyKeyError();
}

function checkPut(put: pb.PutRequest): void {
  checkKey(put.key);
  if (put.ignore_value === true && put.value !== undefined && put.value.length !== 0) throw new ValueProvidedError();
  if (put.ignore_lease === true && int64ToNumber(put.lease, 'lease') !== 0) throw new LeaseProvidedError();
}

function checkTxn(txn: pb.TxnRequest, limits: RequestLimits): void {
  const compares = txn.compare ?? [];
  const success = txn.success ?? [];
  const failure = txn.failure ?? [];
  if (compares.length > limits.maxTxnOps || success.length > limits.maxTxnOps || failure.length > limits.maxTxnOps) {
    throw new TooManyOpsError();
  }
  for (const compare of compares) checkKey(compare.key);
  for (const op of [...success, ...failure]) {
    const request = requestOf(op);
    switch (request?.type) {
      case 'range':
      case 'deleteRange':
        checkKey(request.request.key);
        break;
      case 'put':
        checkPut(request.request);
        break;
      case 'txn':
        checkTxn(request.request, limits);
        break;
      case undefined:
        break;
    }
  }
}

interface BranchKeys {
  puts: Set<string>;
  deletes: KeyRange[];
}

/**
 * A branch may not put a key twice nor put a key it also deletes. The two
 * branches of a nested txn are alternatives, so they are checked apart and
 * then both held against the enclosing branch.
 */
function checkTxnKeys(ops: pb.RequestOp[]): BranchKeys {
  const keys: BranchKeys = { puts: new Set(), deletes: [] };
  for (const op of ops) {
    const request = requestOf(op);
    if (request === undefined) continue;
    if (request.type === 'put') {
      const key = toLatin1(request.request.key ?? Buffer.alloc(0));
      if (keys.puts.has(key)) throw new DuplicateKeyError();
      keys.puts.add(key);
    } else if (request.type === 'deleteRange') {
      keys.deletes.push(keyRange(request.request.key, request.request.range_end));
    } else if (request.type === 'txn') {
      const nestedPuts = new Set<string>();
      for (const branch of [checkTxnKeys(request.request.success ?? []), checkTxnKeys(request.request.failure ?? [])]) {
        for (const key of branch.puts) {
          if (keys.puts.has(key)) throw new DuplicateKeyError();
          nestedPuts.add(key);
        }
        keys.deletes.push(...branch.deletes);
      }
      for (const key of nestedPuts) keys.puts.add(key);
    }
  }
  for (const key of keys.puts) {
    if (keys.deletes.some((range) => rangeContains(range, key))) throw new DuplicateKeyError();
  }
  return keys;
}

export type TxnOpRequest =
  | { type: 'range'; request: pb.RangeRequest }
  | { type: 'put'; request: pb.PutRequest }
  | { type: 'deleteRange'; request: pb.DeleteRangeRequest }
  | { type: 'txn'; request: pb.TxnRequest };

/**
 * Which member of the RequestOp oneof is set (decoded ops name it; built ones
 * may not). Undefined for an empty op, which etcd accepts and answers with an
 * empty ResponseOp.
 */
export function requestOf(op: pb.RequestOp): TxnOpRequest | undefined {
  if ('request_range' in op && op.request_range != null) return { type: 'range', request: op.request_range };
  if ('request_put' in op && op.request_put != null) return { type: 'put', request: op.request_put };
  if ('request_delete_range' in op && op.request_delete_range != null) return { type: 'deleteRange', request: op.request_delete_range };
  if ('request_txn' in op && op.request_txn != null) return { type: 'txn', request: op.request_txn };
  return undefined;
}
