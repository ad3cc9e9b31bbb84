import { decodeMessage, encodeMessage, loadEtcdPackageDefinition } from './load';
import { Int64RangeError, int64ToNumber } from './int64';
import type { InternalRaftRequest, TxnRequest } from './types';

describe('etcd proto loading', () => {
  it('exposes the services etcd clients call, with their methods', () => {
    const definition = loadEtcdPackageDefinition();
    const methods = (service: string): string[] => Object.keys(definition[`etcdserverpb.${service}`] ?? {}).sort();
    expect(methods('KV')).toEqual(['Compact', 'DeleteRange', 'Put', 'Range', 'Txn']);
    expect(methods('Watch')).toEqual(['Watch']);
    expect(methods('Lease')).toEqual(['LeaseGrant', 'LeaseKeepAlive', 'LeaseLeases', 'LeaseRevoke', 'LeaseTimeToLive']);
    expect(methods('Cluster')).toEqual(['MemberAdd', 'MemberList', 'MemberPromote', 'MemberRemove', 'MemberUpdate']);
    expect(methods('Maintenance')).toEqual(['Alarm', 'Defragment', 'Hash', 'HashKV', 'MoveLeader', 'Snapshot', 'Status']);
  });

  it('round-trips a nested txn through the Raft envelope with the documented shapes', () => {
    const txn: TxnRequest = {
      compare: [{ key: Buffer.from('a'), target: 'MOD', result: 'GREATER', mod_revision: 5, range_end: Buffer.from('b') }],
      success: [
        { request_put: { key: Buffer.from('a'), value: Buffer.from('v'), lease: '9007199254740991', prev_kv: true } },
        { request_txn: { success: [{ request_delete_range: { key: Buffer.from('x'), range_end: Buffer.from([0]) } }] } },
      ],
      failure: [{ request_range: { key: Buffer.from('a'), sort_order: 'DESCEND', sort_target: 'MOD', limit: 3 } }],
    };
    const decoded = decodeMessage('etcdserverpb.InternalRaftRequest', encodeMessage('etcdserverpb.InternalRaftRequest', { ID: 42, txn }));
    const expected: InternalRaftRequest = {
      ID: '42',
      txn: {
        compare: [
          {
            result: 'GREATER',
            target: 'MOD',
            key: Buffer.from('a'),
            mod_revision: '5',
            target_union: 'mod_revision',
            range_end: Buffer.from('b'),
          },
        ],
        success: [
          {
            request: 'request_put',
            request_put: {
              key: Buffer.from('a'),
              value: Buffer.from('v'),
              lease: '9007199254740991',
              prev_kv: true,
              ignore_value: false,
              ignore_lease: false,
            },
          },
          {
            request: 'request_txn',
            request_txn: {
              compare: [],
              success: [
                {
                  request: 'request_delete_range',
                  request_delete_range: { key: Buffer.from('x'), range_end: Buffer.from([0]), prev_kv: false },
                },
              ],
              failure: [],
            },
          },
        ],
        failure: [
          {
            request: 'request_range',
            request_range: {
              key: Buffer.from('a'),
              range_end: Buffer.alloc(0),
              limit: '3',
              revision: '0',
              sort_order: 'DESCEND',
              sort_target: 'MOD',
              serializable: false,
              keys_only: false,
              count_only: false,
              min_mod_revision: '0',
              max_mod_revision: '0',
              min_create_revision: '0',
              max_create_revision: '0',
            },
          },
        ],
      },
    };
    expect(decoded).toMatchObject(expected);
    expect(decoded.put).toBeNull();
  });

  const wireCases: Array<{ title: string; name: 'etcdserverpb.PutRequest' | 'etcdserverpb.RangeRequest'; message: object; hex: string }> = [
    // Field numbers checked byte by byte: tag = (field << 3) | wire type.
    { title: 'PutRequest key=1 value=2 lease=3 prev_kv=4', name: 'etcdserverpb.PutRequest', message: { key: Buffer.from('k'), value: Buffer.from('v'), lease: 5, prev_kv: true }, hex: '0a016b1201761805' + '2001' },
    { title: 'RangeRequest range_end=2 limit=3 sort_order=5 keys_only=8 max_create_revision=13', name: 'etcdserverpb.RangeRequest', message: { range_end: Buffer.from([0]), limit: 2, sort_order: 'ASCEND', keys_only: true, max_create_revision: 7 }, hex: '12010018022801400168' + '07' },
  ];
  it.each(wireCases)('encodes $title with etcd field numbers', ({ name, message, hex }) => {
    expect(Buffer.from(encodeMessage(name, message as never)).toString('hex')).toBe(hex);
  });

  const int64Cases: Array<{ value: string | number | undefined; expected: number | 'error' }> = [
    { value: undefined, expected: 0 },
    { value: '', expected: 0 },
    { value: '-12', expected: -12 },
    { value: 9007199254740991, expected: 9007199254740991 },
    { value: '9007199254740993', expected: 'error' },
  ];
  it.each(int64Cases)('int64ToNumber($value)', ({ value, expected }) => {
    if (expected === 'error') expect(() => int64ToNumber(value, 'lease')).toThrow(Int64RangeError);
    else expect(int64ToNumber(value, 'lease')).toBe(expected);
  });
});
