import type * as grpc from '@grpc/grpc-js';
import { loadEtcdPackageDefinition } from '../etcdpb/load';
import type * as pb from '../etcdpb/types';
import { encodingPlainResponses, kvServiceDefinition, watchServiceDefinition } from './grpc-codec';

const b = (text: string): Buffer => Buffer.from(text);
const loaded = (name: string): grpc.ServiceDefinition => loadEtcdPackageDefinition()[`etcdserverpb.${name}`] as grpc.ServiceDefinition;

const header: pb.ResponseHeader = { cluster_id: 2 ** 52 + 3, member_id: 17, revision: 123456789012, raft_term: 4 };
const keyValue: pb.KeyValue = { key: b('/registry/pods/default/x'), create_revision: 5, mod_revision: 2 ** 40, version: 3, value: Buffer.alloc(700, 7), lease: 2 ** 50 + 1 };

/** Responses shaped as the applier and the KV service build them. */
const responses: Array<{ method: string; title: string; response: object }> = [
  { method: 'Range', title: 'kvs, more and count', response: { header, kvs: [keyValue, { ...keyValue, key: b('/y'), lease: 0 }], more: true, count: 2 } },
  { method: 'Range', title: 'nothing found', response: { header, kvs: [], more: false, count: 0 } },
  { method: 'Put', title: 'a previous value', response: { header, prev_kv: keyValue } },
  { method: 'Put', title: 'no previous value', response: { header, prev_kv: null } },
  { method: 'DeleteRange', title: 'deleted keys', response: { header, deleted: 2, prev_kvs: [keyValue, keyValue] } },
  {
    method: 'Txn',
    title: 'every kind of op response',
    response: {
      header,
      succeeded: false,
      responses: [
        { response_range: { header, kvs: [keyValue], more: false, count: 1 } },
        { response_put: { header, prev_kv: null } },
        { response_delete_range: { header, deleted: 0, prev_kvs: [] } },
        { response_txn: { header, succeeded: true, responses: [{}] } },
      ],
    },
  },
  { method: 'Txn', title: 'decimal strings for 64-bit integers', response: { header: { ...header, revision: '9007199254740993' }, succeeded: true, responses: [] } },
];

describe('KV responses encoded without fromObject', () => {
  const kv = loaded('KV');
  const fast = kvServiceDefinition(kv);
  it.each(responses)('$method, $title: the same bytes as proto-loader writes', ({ method, response }) => {
    expect(fast[method]!.responseSerialize).not.toBe(kv[method]!.responseSerialize);
    expect(Buffer.from(fast[method]!.responseSerialize(response))).toEqual(Buffer.from(kv[method]!.responseSerialize(response)));
  });

  it('keeps the default serializer for a response type that contains an enum', () => {
    const watch = loaded('Watch');
    const copy = encodingPlainResponses(watch, { Watch: 'etcdserverpb.WatchResponse' });
    expect(copy['Watch']!.responseSerialize).toBe(watch['Watch']!.responseSerialize);
  });
});

/** Watch responses shaped as the watch session writes them. */
const watchResponses: Array<{ title: string; response: object }> = [
  { title: 'a created watch', response: { header, watch_id: 3, created: true, events: [] } },
  { title: 'a failed create', response: { header, watch_id: -1, created: true, canceled: true, cancel_reason: 'no', events: [] } },
  {
    title: 'puts and a delete, with a previous value',
    response: {
      header,
      watch_id: 0,
      events: [
        { type: 'PUT', kv: keyValue },
        { type: 'DELETE', kv: { key: b('/x'), mod_revision: 9 }, prev_kv: keyValue },
        { type: 'PUT', kv: keyValue, prev_kv: null },
      ],
      compact_revision: 0,
      canceled: false,
    },
  },
  { title: 'a compacted watch', response: { header, watch_id: 7, events: [], compact_revision: 55, canceled: true } },
  { title: 'an event type given as its number', response: { header, watch_id: 1, events: [{ type: 1, kv: keyValue }] } },
];

describe('Watch responses encoded without fromObject', () => {
  const watch = loaded('Watch');
  const fast = watchServiceDefinition(watch);
  it.each(watchResponses)('$title: the same bytes as proto-loader writes', ({ response }) => {
    expect(Buffer.from(fast['Watch']!.responseSerialize(response))).toEqual(Buffer.from(watch['Watch']!.responseSerialize(response)));
  });

  it('leaves the response it was given unchanged', () => {
    const events = [{ type: 'DELETE', kv: keyValue }];
    fast['Watch']!.responseSerialize({ header, watch_id: 0, events });
    expect(events).toEqual([{ type: 'DELETE', kv: keyValue }]);
  });
});
