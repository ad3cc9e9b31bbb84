import * as net from 'net';
import * as grpc from '@grpc/grpc-js';
import { message, type Message, type NodeId } from '../raft/types';
import { Logger } from '../observability/logger';
import { Metrics } from '../observability/metrics';
import { PeerTransport, type PeerTransportOptions } from './transport';
import { SnapshotImageError } from './snapshot-images';
import { raftPeerService, type SnapshotImageSink, type SnapshotImageStream, type SnapshotImages } from './transport-service';

const CLUSTER_ID = 0x1234;

/** SnapshotImages over buffers: read() streams `outgoing` in pieces; what arrives lands in `incoming` by snapshot index. */
class BufferImages implements SnapshotImages {
  outgoing = Buffer.alloc(0);
  pieceBytes = 300 * 1024;
  readonly incoming = new Map<number, Buffer>();
  /** A receive() whose image passes this many bytes throws from write(), as a damaged image does. */
  refuseAfterBytes = Number.POSITIVE_INFINITY;
  closedReads = 0;
  abortedReceives = 0;

  read(): SnapshotImageStream {
    let offset = 0;
    return {
      next: async () => {
        if (offset >= this.outgoing.length) return undefined;
        const piece = this.outgoing.subarray(offset, offset + this.pieceBytes);
        offset += piece.length;
        return piece;
      },
      close: async () => {
        this.closedReads += 1;
      },
    };
  }

  receive(m: Message): SnapshotImageSink {
    const index = m.snapshot!.metadata.index;
    const pieces: Buffer[] = [];
    let bytes = 0;
    return {
      write: async (piece) => {
        bytes += piece.length;
        if (bytes > this.refuseAfterBytes) throw new SnapshotImageError(index, 'is damaged');
        pieces.push(Buffer.from(piece));
      },
      finish: async () => {
        this.incoming.set(index, Buffer.concat(pieces));
      },
      abort: async () => {
        this.abortedReceives += 1;
      },
    };
  }
}

interface Member {
  id: NodeId;
  transport: PeerTransport;
  received: Message[];
  unreachable: NodeId[];
  snapshotStatus: Array<{ peerId: NodeId; failed: boolean }>;
  logLines: Array<Record<string, unknown>>;
  metrics: Metrics;
  images: BufferImages;
}

const started: Member[] = [];

function member(id: NodeId, overrides: Partial<PeerTransportOptions> = {}): Member {
  const logLines: Array<Record<string, unknown>> = [];
  const m: Member = {
    id,
    received: [],
    unreachable: [],
    snapshotStatus: [],
    logLines,
    metrics: new Metrics({ collectDefaultMetrics: false }),
    images: new BufferImages(),
    transport: undefined as unknown as PeerTransport,
  };
  m.transport = new PeerTransport({
    memberId: id,
    clusterId: CLUSTER_ID,
    onMessage: (msg) => m.received.push(msg),
    onUnreachable: (peerId) => m.unreachable.push(peerId),
    onSnapshotStatus: (peerId, failed) => m.snapshotStatus.push({ peerId, failed }),
    snapshotImages: m.images,
    logger: new Logger({ level: 'debug', write: (line) => logLines.push(JSON.parse(line)) }),
    metrics: m.metrics,
    initialBackoffMs: 20,
    maxBackoffMs: 200,
    ...overrides,
  });
  started.push(m);
  return m;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function app(from: NodeId, to: NodeId, index: number, data = ''): Message {
  return message({
    type: 'MsgApp',
    from,
    to,
    term: 3,
    index,
    logTerm: 2,
    commit: index - 1,
    entries: [{ index: index + 1, term: 3, type: 'normal', data: Buffer.from(data || `entry-${index}`) }],
  });
}

async function failures(m: Member, to: NodeId): Promise<number> {
  const metric = await m.metrics.peerSentFailuresTotal.get();
  return metric.values.find((v) => v.labels['To'] === to.toString(16))?.value ?? 0;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.transport.stop()));
});

describe('PeerTransport', () => {
  test('delivers messages to a peer in order, with every field intact', async () => {
    const a = member(1);
    const b = member(2);
    const port = await b.transport.listen('http://127.0.0.1:0');
    a.transport.addPeer(2, [`http://127.0.0.1:${port}`]);
    const sent: Message[] = [];
    for (let i = 1; i <= 2000; i++) sent.push(app(1, 2, i));
    sent.push(
      message({ type: 'MsgVote', from: 1, to: 2, term: 9, logTerm: 8, index: 77, context: Buffer.from('transfer') }),
      message({ type: 'MsgAppResp', from: 1, to: 2, term: 9, index: 5, reject: true, rejectHint: 4 }),
    );
    // Several calls, as the server loop makes one per Ready.
    for (let i = 0; i < sent.length; i += 100) a.transport.send(sent.slice(i, i + 100));
    await waitFor('all messages', () => b.received.length >= sent.length);
    expect(b.received.length).toBe(sent.length);
    expect(b.received.map((m) => m.index)).toEqual(sent.map((m) => m.index));
    const normalize = (m: Message): unknown => ({
      ...m,
      context: Buffer.from(m.context).toString(),
      entries: m.entries.map((e) => ({ ...e, data: Buffer.from(e.data).toString() })),
    });
    expect(b.received.slice(-3).map(normalize)).toEqual(sent.slice(-3).map(normalize));
  });

  test('bounds the queue of an unreachable peer and delivers what it kept once the peer is up', async () => {
    const port = await freePort();
    const a = member(1, { maxQueuedMessages: 100 });
    a.transport.addPeer(2, [`http://127.0.0.1:${port}`]);
    const sent: Message[] = [];
    for (let i = 1; i <= 150; i++) sent.push(app(1, 2, i));
    a.transport.send(sent);
    expect(a.unreachable.filter((id) => id === 2).length).toBeGreaterThanOrEqual(50);
    expect(await failures(a, 2)).toBeGreaterThanOrEqual(50);

    const b = member(2);
    await b.transport.listen(`http://127.0.0.1:${port}`);
    await waitFor('the kept messages', () => b.received.length >= 100);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(b.received.map((m) => m.index)).toEqual(sent.slice(0, 100).map((m) => m.index));
  });

  test('drops forwarded proposals when the peer cannot be reached, keeps the other messages', async () => {
    const port = await freePort();
    const a = member(1);
    a.transport.addPeer(2, [`http://127.0.0.1:${port}`]);
    const proposal = (index: number): Message =>
      message({ type: 'MsgProp', from: 1, to: 2, entries: [{ index: 0, term: 0, type: 'normal', data: Buffer.from(`put ${index}`) }] });
    // Queued while the first attempt is under way, dropped when it fails.
    a.transport.send([proposal(1), app(1, 2, 1)]);
    await waitFor('unreachable report', () => a.unreachable.includes(2));
    // Dropped at once when the last attempt failed, or when the attempt under way fails.
    const reportsBefore = a.unreachable.length;
    a.transport.send([proposal(2), app(1, 2, 2)]);
    await waitFor('another failed attempt', () => a.unreachable.length > reportsBefore);

    const b = member(2);
    await b.transport.listen(`http://127.0.0.1:${port}`);
    await waitFor('the appends', () => b.received.length >= 2);
    // Once connected, proposals go through again.
    await waitFor('a proposal after the reconnection', () => {
      a.transport.send([proposal(3)]);
      return b.received.some((m) => m.type === 'MsgProp');
    });
    const proposals = b.received.filter((m) => m.type === 'MsgProp').map((m) => Buffer.from(m.entries[0]!.data).toString());
    expect(new Set(proposals)).toEqual(new Set(['put 3']));
    expect(b.received.filter((m) => m.type === 'MsgApp').map((m) => m.index)).toEqual([1, 2]);
  });

  test('reconnects after the peer goes down and comes back on the same URL', async () => {
    const a = member(1);
    const b = member(2);
    const port = await b.transport.listen('http://127.0.0.1:0');
    const url = `http://127.0.0.1:${port}`;
    a.transport.addPeer(2, [url]);
    a.transport.send([app(1, 2, 1)]);
    await waitFor('first message', () => b.received.length === 1);

    await b.transport.stop();
    await waitFor('unreachable report', () => a.unreachable.includes(2));

    const revived = member(2);
    await revived.transport.listen(url);
    // Raft resends until acknowledged; do the same, bounded.
    let index = 100;
    await waitFor('messages after the restart', () => {
      a.transport.send([app(1, 2, index++)]);
      return revived.received.length > 0;
    });
    const indexes = revived.received.map((m) => m.index);
    expect(indexes).toEqual([...indexes].sort((x, y) => x - y));
  });

  test('tries the next URL of a member when the first is down', async () => {
    const deadPort = await freePort();
    const a = member(1);
    const b = member(2);
    const port = await b.transport.listen('http://127.0.0.1:0');
    a.transport.addPeer(2, [`http://127.0.0.1:${deadPort}`, `http://127.0.0.1:${port}`]);
    let index = 1;
    await waitFor('delivery through the second URL', () => {
      a.transport.send([app(1, 2, index++)]);
      return b.received.length > 0;
    });
  });

  test('streams a snapshot image larger than one gRPC message in chunks, then delivers the MsgSnap', async () => {
    const twoMiB = 2 * 1024 * 1024;
    const a = member(1, { maxMessageBytes: twoMiB });
    // The receiver accepts no gRPC message above 2 MiB: only chunking gets a 5 MiB image through.
    const b = member(2, { maxMessageBytes: twoMiB });
    const port = await b.transport.listen('http://127.0.0.1:0');
    a.transport.addPeer(2, [`http://127.0.0.1:${port}`]);
    const data = Buffer.alloc(5 * 1024 * 1024 + 123);
    for (let i = 0; i < data.length; i += 4096) data[i] = (i / 4096) & 0xff;
    a.images.outgoing = data;
    // Pieces larger than a chunk are split too.
    a.images.pieceBytes = 3 * 1024 * 1024;
    const metadata = { index: 500, term: 4, confState: { voters: [1, 2, 3], learners: [] } };
    a.transport.send([message({ type: 'MsgSnap', from: 1, to: 2, term: 4, snapshot: { metadata, data: new Uint8Array(0) } })]);
    await waitFor('snapshot status', () => a.snapshotStatus.length > 0);
    expect(a.snapshotStatus).toEqual([{ peerId: 2, failed: false }]);
    expect(b.received).toHaveLength(1);
    const got = b.received[0]!;
    expect([got.type, got.snapshot?.metadata, got.snapshot?.data.length]).toEqual(['MsgSnap', metadata, 0]);
    expect(b.images.incoming.get(500)?.equals(data)).toBe(true);
    expect(a.images.closedReads).toBeGreaterThanOrEqual(1);
  });

  test('reports a failed snapshot upload to an unreachable peer and releases the image', async () => {
    const a = member(1);
    a.transport.addPeer(2, [`http://127.0.0.1:${await freePort()}`]);
    a.images.outgoing = Buffer.from('image');
    const snapshot = { metadata: { index: 5, term: 1, confState: { voters: [1, 2], learners: [] } }, data: new Uint8Array(0) };
    a.transport.send([message({ type: 'MsgSnap', from: 1, to: 2, term: 1, snapshot })]);
    await waitFor('snapshot status', () => a.snapshotStatus.length > 0);
    expect(a.snapshotStatus).toEqual([{ peerId: 2, failed: true }]);
    expect(a.images.closedReads).toBeGreaterThanOrEqual(1);
  });

  test.each([
    { name: 'whose image it cannot use', receiver: {}, refuseAfterBytes: 1024 * 1024 },
    { name: 'over its size limit', receiver: { maxSnapshotBytes: 1024 * 1024 }, refuseAfterBytes: Number.POSITIVE_INFINITY },
  ])('a receiver refuses a snapshot $name: the upload fails, the partial image is dropped, nothing is delivered', async ({ receiver, refuseAfterBytes }) => {
    const a = member(1);
    const b = member(2, receiver);
    b.images.refuseAfterBytes = refuseAfterBytes;
    const port = await b.transport.listen('http://127.0.0.1:0');
    a.transport.addPeer(2, [`http://127.0.0.1:${port}`]);
    a.images.outgoing = Buffer.alloc(3 * 1024 * 1024, 1);
    const snapshot = { metadata: { index: 9, term: 2, confState: { voters: [1, 2], learners: [] } }, data: new Uint8Array(0) };
    a.transport.send([message({ type: 'MsgSnap', from: 1, to: 2, term: 2, snapshot })]);
    await waitFor('snapshot status', () => a.snapshotStatus.length > 0);
    expect(a.snapshotStatus).toEqual([{ peerId: 2, failed: true }]);
    await waitFor('the partial image to be dropped', () => b.images.abortedReceives === 1);
    expect(b.received).toEqual([]);
    expect(b.images.incoming.size).toBe(0);
  });

  test.each([
    { name: 'another cluster id', sender: { clusterId: 0x9999 }, peerIdAtReceiver: 2, expected: /cluster ID mismatch/ },
    { name: 'another member id', sender: {}, peerIdAtReceiver: 7, expected: /addressed to another member/ },
  ])('refuses a stream from $name with a clear log line', async ({ sender, peerIdAtReceiver, expected }) => {
    const a = member(1, sender);
    const b = member(2);
    const port = await b.transport.listen('http://127.0.0.1:0');
    // Sending to member 7 at member 2's URL: a stale or miswired --initial-cluster.
    a.transport.addPeer(peerIdAtReceiver, [`http://127.0.0.1:${port}`]);
    a.transport.send([app(1, peerIdAtReceiver, 1)]);
    await waitFor('refusal log line', () => b.logLines.some((l) => expected.test(String(l['msg']))));
    await waitFor('sender sees the peer unreachable', () => a.unreachable.includes(peerIdAtReceiver));
    expect(b.received).toEqual([]);
    expect(a.logLines.some((l) => l['level'] === 'error' && l['msg'] === 'peer refused our messages')).toBe(true);
  });

  test('drops messages to unknown peers without throwing', async () => {
    const a = member(1);
    expect(() => a.transport.send([app(1, 42, 1)])).not.toThrow();
    expect(await failures(a, 42)).toBe(1);
  });

  test.each(['127.0.0.1:2380', 'ftp://127.0.0.1:2380', 'http://127.0.0.1', 'not a url'])(
    'rejects the malformed peer URL %s',
    (url) => {
      const a = member(1);
      expect(() => a.transport.addPeer(2, [url])).toThrow(/peer URL/);
    },
  );
});

describe('PeerTransport batching', () => {
  it('sends the messages queued in one turn to a peer as one batch', async () => {
    const batches: number[] = [];
    const server = new grpc.Server();
    server.addService(raftPeerService().definition, {
      Send: (call: grpc.ServerReadableStream<{ messages: unknown[] }, object>) => {
        call.sendMetadata(new grpc.Metadata());
        call.on('data', (batch: { messages: unknown[] }) => batches.push(batch.messages.length));
      },
      SendSnapshot: () => undefined,
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    try {
      const sender = member(1);
      sender.transport.addPeer(2, [`http://127.0.0.1:${port}`]);
      sender.transport.send([app(1, 2, 1)]);
      await waitFor('the stream to carry a first batch', () => batches.length === 1);
      sender.transport.send([app(1, 2, 2), app(1, 2, 3)]);
      sender.transport.send([app(1, 2, 4), app(1, 2, 5), app(1, 2, 6)]);
      await waitFor('the next messages', () => batches.reduce((sum, size) => sum + size, 0) === 6);
      expect(batches).toEqual([1, 5]);
    } finally {
      server.forceShutdown();
    }
  });
});
