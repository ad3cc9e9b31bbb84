import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Message } from '../raft/types';
import { decodeMessageBatch, encodeMessageBatch } from './peer-message-codec';
import { messageFromWire, messageToWire, RAFTPB_PROTO_PATH, RaftDecodeError, type WireMessage } from './raft-storage-codec';

/** The generic protobufjs path, as proto-loader builds it for the service (the codec must agree with it both ways). */
const generic = (() => {
  const definition = protoLoader.loadSync(RAFTPB_PROTO_PATH, { keepCase: false, longs: Number, enums: String, defaults: true, arrays: true });
  const send = (definition['etcdlite.raftpb.RaftPeer'] as grpc.ServiceDefinition)['Send']!;
  return {
    encode: (messages: Message[]): Buffer => send.requestSerialize({ messages: messages.map(messageToWire) }),
    decode: (bytes: Buffer): Message[] => (send.requestDeserialize(bytes) as { messages: WireMessage[] }).messages.map(messageFromWire),
  };
})();

function message(fields: Partial<Message>): Message {
  return {
    type: 'MsgApp',
    to: 2,
    from: 1,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: Buffer.alloc(0),
    ...fields,
  };
}

const data = (text: string): Buffer => Buffer.from(text);

const cases: Array<{ name: string; messages: Message[] }> = [
  { name: 'no messages', messages: [] },
  { name: 'every field at its default (MsgHup, ids 0)', messages: [message({ type: 'MsgHup', to: 0, from: 0 })] },
  {
    name: 'an append with normal, empty and conf-change entries',
    messages: [
      message({
        term: 3,
        logTerm: 2,
        index: 41,
        commit: 40,
        entries: [
          { term: 3, index: 42, type: 'normal', data: data('put k v') },
          { term: 3, index: 43, type: 'normal', data: Buffer.alloc(0) },
          { term: 3, index: 44, type: 'confChange', data: data('change') },
        ],
      }),
    ],
  },
  {
    name: 'a rejection with a hint, and numbers past 2^32',
    messages: [message({ type: 'MsgAppResp', to: 2 ** 40 + 7, from: 2 ** 52 - 1, term: 2 ** 33, index: 300, reject: true, rejectHint: 129 })],
  },
  {
    name: 'several messages, one with a context and one with a snapshot',
    messages: [
      message({ type: 'MsgHeartbeat', term: 9, commit: 17, context: data('read-1') }),
      message({
        type: 'MsgSnap',
        term: 9,
        snapshot: { metadata: { index: 100, term: 8, confState: { voters: [1, 2, 3], learners: [4] } }, data: data('snapshot bytes') },
      }),
      message({ type: 'MsgPreVoteResp', term: 10 }),
    ],
  },
  { name: 'a large entry (multi-byte lengths)', messages: [message({ entries: [{ term: 1, index: 1, type: 'normal', data: Buffer.alloc(70000, 7) }] })] },
];

describe('peer message codec', () => {
  it.each(cases)('$name: what it encodes, the generic path decodes to the same messages', ({ messages }) => {
    expect(generic.decode(encodeMessageBatch({ messages }))).toEqual(messages);
  });

  it.each(cases)('$name: what the generic path encodes, it decodes to the same messages', ({ messages }) => {
    expect(decodeMessageBatch(generic.encode(messages)).messages).toEqual(messages);
  });

  it.each([
    { name: 'a truncated batch', bytes: () => encodeMessageBatch({ messages: [message({ term: 5, entries: [{ term: 5, index: 1, type: 'normal', data: data('xyz') }] })] }).subarray(0, 10) },
    { name: 'an unknown message type', bytes: () => Buffer.from([0x0a, 0x02, 0x08, 0x63]) },
    { name: 'an unterminated varint', bytes: () => Buffer.from([0x0a, 0x02, 0x10, 0xff]) },
  ])('refuses $name', ({ bytes }) => {
    expect(() => decodeMessageBatch(bytes())).toThrow(RaftDecodeError);
  });

  it('skips fields it does not know', () => {
    // Message { to: 2, field 15 (varint) = 1, field 14 (bytes) = "ab" }
    const bytes = Buffer.from([0x0a, 0x08, 0x10, 0x02, 0x78, 0x01, 0x72, 0x02, 0x61, 0x62]);
    expect(decodeMessageBatch(bytes).messages).toEqual([message({ type: 'MsgHup', to: 2, from: 0 })]);
  });
});
