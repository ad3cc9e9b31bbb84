import { SpdyConnection, type SpdyConnectionOptions, type SpdyStream } from './connection';
import { FLAG_FIN, GoAwayStatus, StreamStatus } from './frames';
import { SpdyTestClient } from './test-support';

interface Harness {
  client: SpdyTestClient;
  connection: SpdyConnection;
  streams: SpdyStream[];
  transport: { paused: boolean; pauses: number; resumes: number; closed: boolean };
  closeError: () => Error | undefined;
}

/** A connection and a test client joined back to back in memory. */
function connect(options: Partial<SpdyConnectionOptions> = {}, onStream: (stream: SpdyStream) => void = (stream) => void stream.reply()): Harness {
  const streams: SpdyStream[] = [];
  const transport = { paused: false, pauses: 0, resumes: 0, closed: false };
  let closeError: Error | undefined;
  let client!: SpdyTestClient;
  const connection = new SpdyConnection(
    {
      write: (bytes, done) => {
        setImmediate(() => {
          client.receive(bytes);
          done();
        });
      },
      pause: () => {
        transport.paused = true;
        transport.pauses++;
      },
      resume: () => {
        transport.paused = false;
        transport.resumes++;
      },
      close: () => {
        transport.closed = true;
      },
    },
    (stream) => {
      stream.on('error', () => undefined);
      streams.push(stream);
      onStream(stream);
    },
    options,
    (error) => (closeError = error),
  );
  client = new SpdyTestClient((bytes) => connection.receive(bytes));
  return { client, connection, streams, transport, closeError: () => closeError };
}

const harnesses: Harness[] = [];
function harness(...args: Parameters<typeof connect>): Harness {
  const created = connect(...args);
  harnesses.push(created);
  return created;
}

afterEach(() => {
  for (const { client, connection } of harnesses.splice(0)) {
    connection.transportClosed();
    client.close();
  }
});

describe('SpdyConnection', () => {
  it('hands peer streams over with their headers, replies, and carries data both ways with FIN', async () => {
    const { client, streams } = harness({}, (stream) => {
      void stream.reply([['x-answer', 'yes']]);
      stream.on('data', (chunk: Buffer) => stream.write(Buffer.from(chunk.toString().toUpperCase())));
      stream.on('end', () => stream.end());
    });
    const id = client.openStream([['streamtype', 'data'], ['port', '80']]);
    client.sendData(id, Buffer.from('hello'));
    client.sendData(id, Buffer.from(' world'), true);
    await client.waitFor('the echo and FIN', () => client.finished(id));
    expect(streams[0]?.header('port')).toBe('80');
    expect(client.frames.find((frame) => frame.type === 'synReplyHeaders')).toEqual({ type: 'synReplyHeaders', streamId: id, flags: 0, headers: [['x-answer', 'yes']] });
    expect(client.data(id).toString()).toBe('HELLO WORLD');
  });

  it('answers the peer\'s pings', async () => {
    const { client } = harness();
    client.sendFrame({ type: 'ping', id: 7 });
    await client.waitFor('the ping echo', () => client.frames.some((frame) => frame.type === 'ping' && frame.id === 7));
  });

  const refusals: Array<[string, (client: SpdyTestClient) => void, number, number]> = [
    ['an even (server-side) stream id', (client) => client.openStream([], 0, 2), 2, StreamStatus.protocolError],
    ['data for a stream never opened', (client) => client.sendData(9, Buffer.from('x')), 9, StreamStatus.invalidStream],
  ];

  it.each(refusals)('resets %s', async (_name, act, streamId, status) => {
    const { client } = harness();
    act(client);
    await client.waitFor('RST_STREAM', () => client.frames.some((frame) => frame.type === 'rstStream' && frame.streamId === streamId && frame.status === status));
  });

  it('refuses streams beyond the concurrency limit', async () => {
    const { client } = harness({ maxConcurrentStreams: 1 });
    const first = client.openStream([['n', '1']]);
    const second = client.openStream([['n', '2']]);
    await client.waitFor('the refusal', () => client.frames.some((frame) => frame.type === 'rstStream' && frame.streamId === second && frame.status === StreamStatus.refusedStream));
    expect(client.replied(first)).toBe(true);
  });

  const garbage: Array<[string, Buffer, string]> = [
    ['a SPDY/2 frame', Buffer.from('80020006000000040000000a', 'hex'), 'SpdyProtocolError'],
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'SpdyFrameTooLargeError'],
  ];

  it.each(garbage)('ends the connection with GOAWAY on %s', async (_name, bytes, errorName) => {
    const { client, connection, transport, closeError } = harness();
    connection.receive(bytes);
    await client.waitFor('GOAWAY', () => client.frames.some((frame) => frame.type === 'goAway' && frame.status === GoAwayStatus.protocolError));
    expect(closeError()?.name).toBe(errorName);
    await new Promise((resolve) => setImmediate(resolve));
    expect(transport.closed).toBe(true);
  });

  it('acknowledges data the reader took with stream and connection WINDOW_UPDATEs', async () => {
    const { client, streams } = harness({ initialWindowBytes: 1024 });
    const id = client.openStream([]);
    for (let index = 0; index < 8; index++) client.sendData(id, Buffer.alloc(256, index));
    await client.waitFor('window updates', () => client.frames.filter((frame) => frame.type === 'windowUpdate').length >= 2);
    streams[0]?.resume();
    const updates = client.frames.filter((frame) => frame.type === 'windowUpdate');
    expect(updates.some((frame) => frame.streamId === id)).toBe(true);
    expect(updates.some((frame) => frame.streamId === 0)).toBe(true);
  });

  it('pauses the transport while a stream buffer is full and resumes once it is read', async () => {
    const { client, streams, transport } = harness({ initialWindowBytes: 1024 });
    const id = client.openStream([]);
    client.sendData(id, Buffer.alloc(4096, 1));
    client.sendFrame({ type: 'ping', id: 1 });
    await client.waitFor('the ping after the data', () => client.frames.some((frame) => frame.type === 'ping'));
    expect(transport.paused).toBe(true);
    // Nothing acknowledged yet: a window-honouring peer would stop here.
    expect(client.frames.some((frame) => frame.type === 'windowUpdate' && frame.streamId === id)).toBe(false);
    const stream = streams[0]!;
    const received: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => received.push(chunk));
    await client.waitFor('the acknowledgement', () => client.frames.some((frame) => frame.type === 'windowUpdate' && frame.streamId === id));
    expect(transport.paused).toBe(false);
    expect(Buffer.concat(received).length).toBe(4096);
  });

  it('when honouring the peer windows, sends no more than the window until a WINDOW_UPDATE', async () => {
    let server!: SpdyStream;
    const { client } = harness({ honorPeerWindows: true }, (stream) => {
      server = stream;
      void stream.reply();
    });
    const id = client.openStream([]);
    await client.waitFor('the reply', () => client.replied(id));
    const written = new Promise<void>((resolve) => server.end(Buffer.alloc(100 * 1024, 7), () => resolve()));
    await client.waitFor('the first window', () => client.data(id).length === 64 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.data(id).length).toBe(64 * 1024);
    client.sendFrame({ type: 'windowUpdate', streamId: id, deltaWindowBytes: 64 * 1024 });
    client.sendFrame({ type: 'windowUpdate', streamId: 0, deltaWindowBytes: 64 * 1024 });
    await written;
    await client.waitFor('the rest and FIN', () => client.finished(id));
    expect(client.data(id).length).toBe(100 * 1024);
  });

  it('without honouring windows (kubectl never updates them), sends everything', async () => {
    let server!: SpdyStream;
    const { client } = harness({}, (stream) => {
      server = stream;
      void stream.reply();
    });
    const id = client.openStream([]);
    await client.waitFor('the reply', () => client.replied(id));
    server.end(Buffer.alloc(200 * 1024, 1));
    await client.waitFor('all data and FIN', () => client.finished(id));
    expect(client.data(id).length).toBe(200 * 1024);
    expect(client.frames.filter((frame) => frame.type === 'data').every((frame) => frame.type === 'data' && frame.data.length <= 32 * 1024)).toBe(true);
  });

  it('destroys a stream the peer resets, and resets one the caller abandons', async () => {
    const { client, streams } = harness();
    const first = client.openStream([]);
    const second = client.openStream([]);
    await client.waitFor('both replies', () => client.replied(first) && client.replied(second));
    const closed = new Promise((resolve) => streams[0]!.on('close', resolve));
    client.sendFrame({ type: 'rstStream', streamId: first, status: StreamStatus.cancel });
    await closed;
    expect(streams[0]?.destroyed).toBe(true);
    streams[1]!.destroy();
    await client.waitFor('our reset', () => client.frames.some((frame) => frame.type === 'rstStream' && frame.streamId === second && frame.status === StreamStatus.cancel));
  });

  it('ends every stream when the transport closes', async () => {
    const { client, connection, streams } = harness();
    const id = client.openStream([], FLAG_FIN);
    await client.waitFor('the reply', () => client.replied(id));
    connection.transportClosed();
    expect(streams[0]?.destroyed).toBe(true);
    expect(connection.openStreams).toBe(0);
  });
});
