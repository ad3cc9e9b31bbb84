import type * as grpc from '@grpc/grpc-js';
import { encodeMessage, loadEtcdPackageDefinition, type EtcdMessageName } from '../etcdpb/load';
import type * as pb from '../etcdpb/types';
import {
  decodeRaftRequest,
  encodeRaftRequest,
  encodeRaftRequestFromWire,
  LocalProposals,
  wireBytesOf,
  type InternalRequest,
  type RaftRequest,
} from './apply-request';
import { keepingWireBytes } from './grpc-codec';

const b = (text: string): Buffer => Buffer.from(text);

/** The KV service as the client server registers it: its deserializers remember the wire bytes. */
const kvDefinition = keepingWireBytes(loadEtcdPackageDefinition()['etcdserverpb.KV'] as grpc.ServiceDefinition, ['Put', 'DeleteRange', 'Txn']);

const methodByType = { put: 'Put', deleteRange: 'DeleteRange', txn: 'Txn' } as const;
const messageByType = {
  put: 'etcdserverpb.PutRequest',
  deleteRange: 'etcdserverpb.DeleteRangeRequest',
  txn: 'etcdserverpb.TxnRequest',
} as const satisfies Record<keyof typeof methodByType, EtcdMessageName>;

type WireCase = { title: string; type: keyof typeof methodByType; request: pb.PutRequest | pb.DeleteRangeRequest | pb.TxnRequest; id: number };

const wireCases: WireCase[] = [
  { title: 'a put with a lease, small id', type: 'put', request: { key: b('k'), value: b('v'), lease: 7, prev_kv: true }, id: 1 },
  { title: 'an empty put, id above 2^32', type: 'put', request: {}, id: 2 ** 40 + 12345 },
  { title: 'a delete of a range', type: 'deleteRange', request: { key: b('a'), range_end: b('z'), prev_kv: true }, id: 300 },
  {
    title: 'a compare-and-swap txn, id near 2^53',
    type: 'txn',
    request: {
      compare: [{ key: b('/registry/pods/x'), target: 'MOD', result: 'EQUAL', mod_revision: 12 }],
      success: [{ request_put: { key: b('/registry/pods/x'), value: Buffer.alloc(3000, 1) } }],
      failure: [{ request_range: { key: b('/registry/pods/x') } }],
    },
    id: Number.MAX_SAFE_INTEGER - 1,
  },
];

/** What the gRPC server hands the KV handler for `request`, as a client would have encoded it. */
function fromWire({ type, request }: WireCase): { wireBytes: Buffer; decoded: InternalRequest['request'] } {
  const wireBytes = Buffer.from(encodeMessage(messageByType[type], request as never));
  const decoded = kvDefinition[methodByType[type]]!.requestDeserialize(wireBytes) as InternalRequest['request'];
  return { wireBytes, decoded };
}

describe('Raft entries framed around the wire bytes', () => {
  it.each(wireCases)('$title: the deserializer remembers the bytes it decoded', (wireCase) => {
    const { wireBytes, decoded } = fromWire(wireCase);
    expect(wireBytesOf(decoded)).toBe(wireBytes);
  });

  it.each(wireCases)('$title: every member decodes the request the proposer holds', (wireCase) => {
    const { wireBytes, decoded } = fromWire(wireCase);
    const data = encodeRaftRequestFromWire(wireCase.id, wireCase.type, wireBytes);
    expect(decodeRaftRequest(data)).toEqual({ id: wireCase.id, body: { type: wireCase.type, request: decoded } });
  });

  // Not byte for byte: encodeRaftRequest also writes the defaults the decoder filled in.
  it.each(wireCases)('$title: the entry decodes as the one encodeRaftRequest writes, and is no larger', (wireCase) => {
    const { wireBytes, decoded } = fromWire(wireCase);
    const body = { type: wireCase.type, request: decoded } as InternalRequest;
    const framed = encodeRaftRequestFromWire(wireCase.id, wireCase.type, wireBytes);
    const encoded = encodeRaftRequest({ id: wireCase.id, body });
    expect(decodeRaftRequest(framed)).toEqual(decodeRaftRequest(encoded));
    expect(framed.length).toBeLessThanOrEqual(encoded.length);
  });

  it('knows no wire bytes for a request built in memory', () => {
    expect(wireBytesOf({ key: b('k') })).toBeUndefined();
  });
});

describe('LocalProposals', () => {
  const request: RaftRequest = { id: 9, body: { type: 'put', request: { key: b('k') } } };
  const cases: Array<{ title: string; lookup: (data: Uint8Array) => Uint8Array; expected: RaftRequest | undefined }> = [
    { title: 'the same bytes object', lookup: (data) => data, expected: request },
    { title: 'an equal copy (from a peer or the disk)', lookup: (data) => Buffer.from(data), expected: undefined },
  ];
  it.each(cases)('take($title)', ({ lookup, expected }) => {
    const proposals = new LocalProposals();
    const data = encodeRaftRequest(request);
    proposals.remember(data, request);
    expect(proposals.take(lookup(data))).toBe(expected);
  });

  it('forgets a request once taken', () => {
    const proposals = new LocalProposals();
    const data = encodeRaftRequest(request);
    proposals.remember(data, request);
    expect(proposals.take(data)).toBe(request);
    expect(proposals.take(data)).toBeUndefined();
  });
});
