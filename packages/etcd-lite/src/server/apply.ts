// The state machine of an etcd-lite member: applies each committed Raft
// entry's request to the MVCC store and the lessor, deterministically, and
// returns the response for the member that proposed it. Entries at or below
// the store's consistent index were applied before a restart and are
// skipped. A request that fails (validation, compacted revision, unknown
// lease...) changes no key; only the consistent index moves.

import { int64ToNumber } from '../etcdpb/int64';
import type * as pb from '../etcdpb/types';
import type { Lessor } from '../lease';
import { compareHolds, rangeQuery, type CompareQuery, type MvccStore, type RangeQuery, type ReadView, type WriteTxn } from '../mvcc';
import type { InternalRequest, InternalRequestType, ResponseByType } from './apply-request';
import { defaultRequestLimits, requestOf, validateRequest, type RequestLimits } from './apply-validate';
import { KeyNotFoundError, LeaseNotFoundServerError, toEtcdServerError, type EtcdServerError } from './errors';

export interface ApplierOptions {
  store: MvccStore;
  lessor: Lessor;
  /** Reported in every response header. */
  clusterId: number;
  /** This member's id, reported in every response header. */
  memberId: number;
  /** Txn and request size limits; etcd's defaults when omitted. */
  limits?: RequestLimits;
}

export type ApplyResult<T extends InternalRequestType = InternalRequestType> =
  | { status: 'applied'; response: ResponseByType[T] }
  | { status: 'failed'; error: EtcdServerError }
  /** Already applied before a restart (raft index at or below the consistent index). */
  | { status: 'skipped' };

const emptyBuffer = Buffer.alloc(0);

export class Applier {
  private readonly store: MvccStore;
  private readonly lessor: Lessor;
  private readonly limits: RequestLimits;

  constructor(private readonly options: ApplierOptions) {
    this.store = options.store;
    this.lessor = options.lessor;
    this.limits = options.limits ?? defaultRequestLimits;
  }

  /** The Raft index of the last entry whose effects are in the store. */
  get appliedIndex(): number {
    return this.store.consistentIndex;
  }

  apply<R extends InternalRequest>(request: R, raftIndex: number, raftTerm: number): ApplyResult<R['type']> {
    if (raftIndex <= this.store.consistentIndex) return { status: 'skipped' };
    try {
      validateRequest(request, this.limits);
      return { status: 'applied', response: this.execute(request, raftIndex, raftTerm) as ResponseByType[R['type']] };
    } catch (error) {
      const serverError = toEtcdServerError(error);
      if (serverError === undefined) throw error;
      // Whatever failed was undone; record the entry so a restart does not replay it.
      if (raftIndex > this.store.consistentIndex) this.store.recordConsistentIndex(raftIndex);
      return { status: 'failed', error: serverError };
    }
  }

  /** Records an entry that carries no request (empty or membership entries). */
  applyNoop(raftIndex: number): void {
    if (raftIndex > this.store.consistentIndex) this.store.recordConsistentIndex(raftIndex);
  }

  private execute(request: InternalRequest, raftIndex: number, raftTerm: number): ResponseByType[InternalRequestType] {
    const header = (revision: number): pb.ResponseHeader => ({
      cluster_id: this.options.clusterId,
      member_id: this.options.memberId,
      revision,
      raft_term: raftTerm,
    });
    switch (request.type) {
      case 'range': {
        const response = this.range(this.store, request.request, header);
        this.store.recordConsistentIndex(raftIndex);
        return response;
      }
      case 'put':
        return this.inWriteTxn(raftIndex, (txn) => this.put(txn, request.request, header));
      case 'deleteRange':
        return this.inWriteTxn(raftIndex, (txn) => this.deleteRange(txn, request.request, header));
      case 'txn':
        return this.inWriteTxn(raftIndex, (txn) => this.txn(txn, request.request, header), (response, revision) => {
          response.header = header(revision);
        });
      case 'compaction': {
        this.store.compact(int64ToNumber(request.request.revision, 'revision'), raftIndex);
        return { header: header(this.store.revision) };
      }
      case 'leaseGrant': {
        const lease = this.lessor.grant(int64ToNumber(request.request.ID, 'ID'), int64ToNumber(request.request.TTL, 'TTL'), raftIndex);
        return { header: header(this.store.revision), ID: lease.id, TTL: lease.ttlSeconds, error: '' };
      }
      case 'leaseRevoke':
        return { header: header(this.lessor.revoke(int64ToNumber(request.request.ID, 'ID'), raftIndex)) };
    }
  }

  /** Runs `body` in one write transaction; any error undoes it. */
  private inWriteTxn<T extends { header: pb.ResponseHeader }>(
    raftIndex: number,
    body: (txn: WriteTxn) => T,
    finish?: (response: T, revision: number) => void,
  ): T {
    const txn = this.store.write(raftIndex);
    let response: T;
    try {
      response = body(txn);
    } catch (error) {
      txn.abort();
      throw error;
    }
    const { revision } = txn.end();
    finish?.(response, revision);
    return response;
  }

  private range(view: ReadView, request: pb.RangeRequest, header: (revision: number) => pb.ResponseHeader): pb.RangeResponse {
    const result = rangeQuery(view, toRangeQuery(request));
    return { header: header(result.revision), kvs: result.kvs, more: result.more, count: result.count };
  }

  private put(txn: WriteTxn, request: pb.PutRequest, header: (revision: number) => pb.ResponseHeader): pb.PutResponse {
    const key = request.key ?? emptyBuffer;
    let lease = int64ToNumber(request.lease, 'lease');
    let value = request.value ?? emptyBuffer;
    if (request.ignore_value === true || request.ignore_lease === true) {
      const existing = txn.range(key).kvs[0];
      if (existing === undefined) throw new KeyNotFoundError();
      if (request.ignore_value === true) value = existing.value;
      if (request.ignore_lease === true) lease = existing.lease;
    }
    if (lease !== 0 && !this.lessor.has(lease)) throw new LeaseNotFoundServerError();
    const { previous } = txn.put(key, value, lease);
    return { header: header(txn.revision), prev_kv: request.prev_kv === true ? (previous ?? null) : null };
  }

  private deleteRange(txn: WriteTxn, request: pb.DeleteRangeRequest, header: (revision: number) => pb.ResponseHeader): pb.DeleteRangeResponse {
    const deleted = txn.deleteRange(request.key ?? emptyBuffer, request.range_end);
    return { header: header(txn.revision), deleted: deleted.length, prev_kvs: request.prev_kv === true ? deleted : [] };
  }

  /** Compares see the transaction's earlier writes, as nested txns do in etcd. */
  private txn(txn: WriteTxn, request: pb.TxnRequest, header: (revision: number) => pb.ResponseHeader): pb.TxnResponse {
    const succeeded = (request.compare ?? []).every((compare) => compareHolds(txn, toCompareQuery(compare)));
    const responses = ((succeeded ? request.success : request.failure) ?? []).map((op): pb.ResponseOp => {
      const operation = requestOf(op);
      switch (operation?.type) {
        case 'range':
          return { response_range: this.range(txn, operation.request, header) };
        case 'put':
          return { response_put: this.put(txn, operation.request, header) };
        case 'deleteRange':
          return { response_delete_range: this.deleteRange(txn, operation.request, header) };
        case 'txn':
          return { response_txn: this.txn(txn, operation.request, header) };
        case undefined:
          return {};
      }
    });
    return { header: header(txn.revision), succeeded, responses };
  }
}

export function toRangeQuery(request: pb.RangeRequest): RangeQuery {
  return {
    key: request.key ?? emptyBuffer,
    rangeEnd: request.range_end,
    revision: int64ToNumber(request.revision, 'revision'),
    limit: int64ToNumber(request.limit, 'limit'),
    sortOrder: request.sort_order ?? 'NONE',
    sortTarget: request.sort_target ?? 'KEY',
    keysOnly: request.keys_only === true,
    countOnly: request.count_only === true,
    minModRevision: int64ToNumber(request.min_mod_revision, 'min_mod_revision'),
    maxModRevision: int64ToNumber(request.max_mod_revision, 'max_mod_revision'),
    minCreateRevision: int64ToNumber(request.min_create_revision, 'min_create_revision'),
    maxCreateRevision: int64ToNumber(request.max_create_revision, 'max_create_revision'),
  };
}

export function toCompareQuery(compare: pb.Compare): CompareQuery {
  const target = compare.target ?? 'VERSION';
  const operandByTarget = {
    VALUE: () => compare.value ?? emptyBuffer,
    VERSION: () => int64ToNumber(compare.version, 'version'),
    CREATE: () => int64ToNumber(compare.create_revision, 'create_revision'),
    MOD: () => int64ToNumber(compare.mod_revision, 'mod_revision'),
    LEASE: () => int64ToNumber(compare.lease, 'lease'),
  } as const;
  return {
    key: compare.key ?? emptyBuffer,
    rangeEnd: compare.range_end,
    target,
    result: compare.result ?? 'EQUAL',
    operand: operandByTarget[target](),
  };
}
