import { MemoryBackend } from '../backend';
import { Lessor, leaseIdForIndex } from '../lease';
import { MvccStore } from '../mvcc';
import { Applier, type ApplyResult } from './apply';
import { decodeRaftRequest, encodeRaftRequest, MalformedRaftRequestError, type InternalRequest } from './apply-request';
import { checkRequestSize } from './apply-validate';
import {
  CompactedRevisionError,
  DuplicateKeyError,
  EmptyKeyError,
  FutureRevisionRequestedError,
  GrpcStatus,
  KeyNotFoundError,
  LeaseExistsServerError,
  LeaseNotFoundServerError,
  LeaseProvidedError,
  RequestTooLargeError,
  TooManyOpsError,
  ValueOutOfRangeError,
  ValueProvidedError,
  type EtcdServerError,
} from './errors';

const b = (text: string): Buffer => Buffer.from(text);

interface Member {
  backend: MemoryBackend;
  store: MvccStore;
  lessor: Lessor;
  applier: Applier;
  index: number;
  /** Applies through the Raft envelope, as the server will: int64 fields arrive as strings. */
  apply(request: InternalRequest): ApplyResult;
}

async function member(backend = new MemoryBackend()): Promise<Member> {
  const store = await MvccStore.open(backend);
  const lessor = await Lessor.open(store, { nowMs: () => 0 });
  const applier = new Applier({ store, lessor, clusterId: 11, memberId: 22, limits: { maxTxnOps: 3, maxRequestBytes: 1024 } });
  const m: Member = {
    backend,
    store,
    lessor,
    applier,
    index: store.consistentIndex,
    apply(request) {
      const decoded = decodeRaftRequest(encodeRaftRequest({ id: 1, body: request }));
      return applier.apply(decoded.body, ++m.index, 3);
    },
  };
  return m;
}

function applied<T>(result: ApplyResult): T {
  if (result.status !== 'applied') throw new Error(`expected applied, got ${result.status}: ${result.status === 'failed' ? result.error.message : ''}`);
  return result.response as T;
}

const put = (key: string, value: string, extra: Record<string, unknown> = {}): InternalRequest => ({ type: 'put', request: { key: b(key), value: b(value), ...extra } });
const kvSummary = (store: MvccStore): string[] =>
  store.range(Buffer.from([0]), Buffer.from([0])).kvs.map((kv) => `${kv.key}=${kv.value} m${kv.mod_revision} l${kv.lease}`);

describe('Applier: successful requests', () => {
  it('puts, reads and deletes with etcd response shapes', async () => {
    const m = await member();
    expect(applied(m.apply(put('a', '1')))).toEqual({ header: { cluster_id: 11, member_id: 22, revision: 1, raft_term: 3 }, prev_kv: null });
    const second = applied<{ prev_kv: { value: Buffer } }>(m.apply(put('a', '2', { prev_kv: true })));
    expect(second.prev_kv.value.toString()).toBe('1');
    m.apply(put('b', '3'));
    const range = applied<{ kvs: Array<{ key: Buffer }>; count: number; more: boolean; header: { revision: number } }>(
      m.apply({ type: 'range', request: { key: b('a'), range_end: b('c'), limit: 1, sort_order: 'DESCEND' } }),
    );
    expect(range.kvs.map((kv) => kv.key.toString())).toEqual(['b']);
    expect([range.count, range.more, range.header.revision]).toEqual([2, true, 3]);
    const deleted = applied<{ deleted: number; prev_kvs: Array<{ key: Buffer }>; header: { revision: number } }>(
      m.apply({ type: 'deleteRange', request: { key: b('a'), range_end: b('c'), prev_kv: true } }),
    );
    expect([deleted.deleted, deleted.prev_kvs.map((kv) => kv.key.toString()), deleted.header.revision]).toEqual([2, ['a', 'b'], 4]);
  });

  it('keeps value or lease with ignore_value / ignore_lease', async () => {
    const m = await member();
    const lease = applied<{ ID: number }>(m.apply({ type: 'leaseGrant', request: { TTL: 60 } })).ID;
    m.apply(put('k', 'v1', { lease }));
    m.apply(put('k', '', { ignore_value: true }));
    expect(kvSummary(m.store)).toEqual([`k=v1 m2 l0`]);
    m.apply(put('k', 'v2', { lease }));
    m.apply(put('k', 'v3', { ignore_lease: true }));
    expect(kvSummary(m.store)).toEqual([`k=v3 m4 l${lease}`]);
  });

  const txnCases: Array<{ title: string; compareValue: string; succeeded: boolean; expected: string[] }> = [
    { title: 'success branch', compareValue: 'old', succeeded: true, expected: ['guard=old m1 l0', 'x=1 m2 l0', 'y=2 m2 l0'] },
    { title: 'failure branch', compareValue: 'other', succeeded: false, expected: ['guard=old m1 l0', 'z=3 m2 l0'] },
  ];
  it.each(txnCases)('runs a txn $title as one revision', async ({ compareValue, succeeded, expected }) => {
    const m = await member();
    m.apply(put('guard', 'old'));
    const response = applied<{ succeeded: boolean; header: { revision: number }; responses: unknown[] }>(
      m.apply({
        type: 'txn',
        request: {
          compare: [{ key: b('guard'), target: 'VALUE', result: 'EQUAL', value: b(compareValue) }],
          success: [{ request_put: { key: b('x'), value: b('1') } }, { request_put: { key: b('y'), value: b('2') } }, { request_range: { key: b('x') } }],
          failure: [{ request_put: { key: b('z'), value: b('3') } }],
        },
      }),
    );
    expect(response.succeeded).toBe(succeeded);
    expect(response.header.revision).toBe(2);
    expect(kvSummary(m.store)).toEqual(expected);
    if (succeeded) {
      // The range inside the txn sees the txn's own put.
      expect(response.responses[2]).toMatchObject({ response_range: { count: 1, kvs: [{ key: b('x'), mod_revision: 2 }] } });
    }
  });

  it('evaluates nested txns against the writes before them', async () => {
    const m = await member();
    const response = applied<{ responses: Array<{ response_txn?: { succeeded: boolean } }> }>(
      m.apply({
        type: 'txn',
        request: {
          success: [
            { request_put: { key: b('a'), value: b('1') } },
            {
              request_txn: {
                compare: [{ key: b('a'), target: 'VERSION', result: 'EQUAL', version: 1 }],
                success: [{ request_put: { key: b('seen'), value: b('yes') } }],
                failure: [{ request_put: { key: b('seen'), value: b('no') } }],
              },
            },
          ],
        },
      }),
    );
    expect(response.responses[1]!.response_txn!.succeeded).toBe(true);
    expect(kvSummary(m.store)).toEqual(['a=1 m1 l0', 'seen=yes m1 l0']);
  });

  it('grants leases (id from the raft index when 0) and revokes them with their keys', async () => {
    const m = await member();
    const grant = applied<{ ID: number; TTL: number; header: { revision: number } }>(m.apply({ type: 'leaseGrant', request: { TTL: 1 } }));
    expect(grant).toMatchObject({ ID: leaseIdForIndex(1), TTL: 2, header: { revision: 0 } });
    m.apply(put('k', 'v', { lease: grant.ID }));
    m.apply(put('other', 'v'));
    const revoke = applied<{ header: { revision: number } }>(m.apply({ type: 'leaseRevoke', request: { ID: grant.ID } }));
    expect(revoke.header.revision).toBe(3);
    expect(kvSummary(m.store)).toEqual(['other=v m2 l0']);
  });

  it('compacts', async () => {
    const m = await member();
    m.apply(put('k', '1'));
    m.apply(put('k', '2'));
    expect(applied(m.apply({ type: 'compaction', request: { revision: 2 } }))).toEqual({ header: { cluster_id: 11, member_id: 22, revision: 2, raft_term: 3 } });
    expect(m.store.compactRevision).toBe(2);
  });
});

describe('Applier: failures change nothing', () => {
  const unknownLease = 0x777;
  const cases: Array<{ title: string; request: InternalRequest; error: new (...args: never[]) => EtcdServerError; code: number; message: string }> = [
    { title: 'put without key', request: put('', 'v'), error: EmptyKeyError, code: GrpcStatus.INVALID_ARGUMENT, message: 'etcdserver: key is not provided' },
    { title: 'ignore_value with a value', request: put('k', 'v', { ignore_value: true }), error: ValueProvidedError, code: GrpcStatus.INVALID_ARGUMENT, message: 'etcdserver: value is provided' },
    { title: 'ignore_lease with a lease', request: put('k', '', { ignore_lease: true, lease: 5 }), error: LeaseProvidedError, code: GrpcStatus.INVALID_ARGUMENT, message: 'etcdserver: lease is provided' },
    { title: 'ignore_value on a missing key', request: put('missing', '', { ignore_value: true }), error: KeyNotFoundError, code: GrpcStatus.INVALID_ARGUMENT, message: 'etcdserver: key not found' },
    { title: 'put with an unknown lease', request: put('k', 'v', { lease: unknownLease }), error: LeaseNotFoundServerError, code: GrpcStatus.NOT_FOUND, message: 'etcdserver: requested lease not found' },
    { title: 'range at a compacted revision', request: { type: 'range', request: { key: b('k'), revision: 1 } }, error: CompactedRevisionError, code: GrpcStatus.OUT_OF_RANGE, message: 'etcdserver: mvcc: required revision has been compacted' },
    { title: 'range at a future revision', request: { type: 'range', request: { key: b('k'), revision: 99 } }, error: FutureRevisionRequestedError, code: GrpcStatus.OUT_OF_RANGE, message: 'etcdserver: mvcc: required revision is a future revision' },
    { title: 'delete without key', request: { type: 'deleteRange', request: { key: b('') } }, error: EmptyKeyError, code: GrpcStatus.INVALID_ARGUMENT, message: 'etcdserver: key is not provided' },
    {
      title: 'txn with too many ops',
      request: { type: 'txn', request: { success: ['a', 'b', 'c', 'd'].map((key) => ({ request_put: { key: b(key) } })) } },
      error: TooManyOpsError,
      code: GrpcStatus.INVALID_ARGUMENT,
      message: 'etcdserver: too many operations in txn request',
    },
    {
      title: 'txn putting a key twice',
      request: { type: 'txn', request: { success: [{ request_put: { key: b('a') } }, { request_put: { key: b('a') } }] } },
      error: DuplicateKeyError,
      code: GrpcStatus.INVALID_ARGUMENT,
      message: 'etcdserver: duplicate key given in txn request',
    },
    {
      title: 'txn putting a key it deletes',
      request: { type: 'txn', request: { success: [{ request_delete_range: { key: b('a'), range_end: b('c') } }, { request_put: { key: b('b') } }] } },
      error: DuplicateKeyError,
      code: GrpcStatus.INVALID_ARGUMENT,
      message: 'etcdserver: duplicate key given in txn request',
    },
    {
      title: 'nested txn putting a key the outer txn puts',
      request: { type: 'txn', request: { success: [{ request_put: { key: b('a') } }, { request_txn: { failure: [{ request_put: { key: b('a') } }] } }] } },
      error: DuplicateKeyError,
      code: GrpcStatus.INVALID_ARGUMENT,
      message: 'etcdserver: duplicate key given in txn request',
    },
    {
      title: 'txn whose last op names an unknown lease (earlier ops undone)',
      request: { type: 'txn', request: { success: [{ request_put: { key: b('new') } }, { request_delete_range: { key: b('k') } }, { request_put: { key: b('x'), lease: unknownLease } }] } },
      error: LeaseNotFoundServerError,
      code: GrpcStatus.NOT_FOUND,
      message: 'etcdserver: requested lease not found',
    },
    { title: 'compaction at a compacted revision', request: { type: 'compaction', request: { revision: 1 } }, error: CompactedRevisionError, code: GrpcStatus.OUT_OF_RANGE, message: 'etcdserver: mvcc: required revision has been compacted' },
    { title: 'compaction in the future', request: { type: 'compaction', request: { revision: 50 } }, error: FutureRevisionRequestedError, code: GrpcStatus.OUT_OF_RANGE, message: 'etcdserver: mvcc: required revision is a future revision' },
    { title: 'lease grant with an id in use', request: { type: 'leaseGrant', request: { ID: 0x42, TTL: 5 } }, error: LeaseExistsServerError, code: GrpcStatus.FAILED_PRECONDITION, message: 'etcdserver: lease already exists' },
    { title: 'revoke of an unknown lease', request: { type: 'leaseRevoke', request: { ID: unknownLease } }, error: LeaseNotFoundServerError, code: GrpcStatus.NOT_FOUND, message: 'etcdserver: requested lease not found' },
    { title: 'lease id beyond 2^53', request: { type: 'leaseRevoke', request: { ID: '9007199254740993' } }, error: ValueOutOfRangeError, code: GrpcStatus.INVALID_ARGUMENT, message: 'etcdserver: ID 9007199254740993 is outside the range etcd-lite supports (-(2^53-1) .. 2^53-1)' },
  ];
  it.each(cases)('$title', async ({ request, error, code, message }) => {
    const m = await member();
    m.apply({ type: 'leaseGrant', request: { ID: 0x42, TTL: 5 } });
    m.apply(put('k', '1', { lease: 0x42 }));
    m.apply(put('k', '2'));
    m.apply(put('k', '3'));
    m.apply({ type: 'compaction', request: { revision: 2 } });
    const before = { kvs: kvSummary(m.store), revision: m.store.revision, compact: m.store.compactRevision, leases: m.lessor.leaseIds() };
    const result = m.apply(request);
    expect(result.status).toBe('failed');
    if (result.status !== 'failed') return;
    expect(result.error).toBeInstanceOf(error);
    expect([result.error.code, result.error.details]).toEqual([code, message]);
    expect({ kvs: kvSummary(m.store), revision: m.store.revision, compact: m.store.compactRevision, leases: m.lessor.leaseIds() }).toEqual(before);
    expect(m.store.consistentIndex).toBe(m.index);
    // A leftover of the failed request would surface at the next revision.
    m.apply(put('after', 'x'));
    expect(kvSummary(m.store)).toEqual([...before.kvs, `after=x m${before.revision + 1} l0`].sort());
    expect(m.store.historyEvents(before.revision + 1, before.revision + 1, () => true, false)).toHaveLength(1);
  });

  it('refuses oversized requests before proposing', () => {
    expect(() => checkRequestSize(1025, { maxTxnOps: 128, maxRequestBytes: 1024 })).toThrow(RequestTooLargeError);
    expect(() => checkRequestSize(1024, { maxTxnOps: 128, maxRequestBytes: 1024 })).not.toThrow();
  });
});

describe('Applier: replay and determinism', () => {
  const script: InternalRequest[] = [
    { type: 'leaseGrant', request: { TTL: 30 } },
    put('a', '1'),
    { type: 'txn', request: { compare: [{ key: b('a'), target: 'CREATE', result: 'GREATER', create_revision: 0 }], success: [{ request_put: { key: b('b'), value: b('2') } }] } },
    put('bad', '', { lease: 12345 }),
    { type: 'deleteRange', request: { key: b('a') } },
    { type: 'compaction', request: { revision: 2 } },
    put('c', '3'),
  ];

  it('skips entries already applied, also after a restart', async () => {
    const backend = new MemoryBackend();
    const first = await member(backend);
    const statuses = script.map((request) => first.apply(request).status);
    expect(statuses).toEqual(['applied', 'applied', 'applied', 'failed', 'applied', 'applied', 'applied']);
    expect(first.applier.apply(put('late', 'x'), 3, 3)).toEqual({ status: 'skipped' });
    await first.store.flush();
    first.lessor.close();

    const restarted = await member(backend);
    expect(restarted.applier.appliedIndex).toBe(script.length);
    const replay = script.map((request, position) => restarted.applier.apply(request, position + 1, 3).status);
    expect(replay.every((status) => status === 'skipped')).toBe(true);
    expect(kvSummary(restarted.store)).toEqual(kvSummary(first.store));
    expect(restarted.store.revision).toBe(first.store.revision);
    restarted.applier.applyNoop(script.length + 1);
    expect(restarted.applier.appliedIndex).toBe(script.length + 1);
  });

  it('gives every member byte-identical state for the same entries', async () => {
    const members = await Promise.all([member(), member()]);
    for (const m of members) for (const request of script) m.apply(request);
    const [first, second] = await Promise.all(members.map((m) => m.backend.exportSnapshot()));
    expect(Buffer.from(first!).equals(Buffer.from(second!))).toBe(true);
  });
});

describe('Raft request envelope', () => {
  const requests: InternalRequest[] = [
    { type: 'range', request: { key: b('k'), range_end: b('l'), count_only: true } },
    put('k', 'v', { lease: 7, prev_kv: true }),
    { type: 'deleteRange', request: { key: b('k'), prev_kv: true } },
    { type: 'txn', request: { compare: [{ key: b('k'), target: 'LEASE', result: 'NOT_EQUAL', lease: 1 }], success: [{ request_put: { key: b('k') } }] } },
    { type: 'compaction', request: { revision: 9, physical: true } },
    { type: 'leaseGrant', request: { ID: 5, TTL: 10 } },
    { type: 'leaseRevoke', request: { ID: 5 } },
  ];
  it.each(requests)('round-trips a $type request', (request) => {
    const decoded = decodeRaftRequest(encodeRaftRequest({ id: 123456789, body: request }));
    expect(decoded.id).toBe(123456789);
    expect(decoded.body.type).toBe(request.type);
    // Numbers come back as decimal strings and unset fields as defaults.
    const normalise = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (_key, field) => (typeof field === 'number' ? String(field) : field)));
    expect(normalise(decoded.body.request)).toMatchObject(normalise(request.request) as object);
  });

  const malformed: Array<{ title: string; data: Uint8Array }> = [
    { title: 'garbage', data: Buffer.from([0xff, 0xff, 0xff]) },
    { title: 'no request', data: Buffer.from([0x08, 0x01]) },
  ];
  it.each(malformed)('rejects $title', ({ data }) => {
    expect(() => decodeRaftRequest(data)).toThrow(MalformedRaftRequestError);
  });
});
