import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { RewritingConnection } from './authority-rewrite';
import { acceptClientConnection } from './client-connection';

describe('acceptClientConnection in front of a Node HTTP/2 server (as the gRPC connection injector is)', () => {
  let backend: http2.Http2Server;
  let front: net.Server;
  let frontPort: number;
  const seenAuthorities: string[] = [];
  const injected: Duplex[] = [];
  const errors: Error[] = [];

  beforeAll(async () => {
    backend = http2.createServer();
    backend.on('stream', (stream, headers) => {
      seenAuthorities.push(String(headers[':authority']));
      stream.respond({ ':status': 200 });
      stream.end(String(headers[':path']));
    });
    front = net.createServer((socket) =>
      acceptClientConnection(socket, {
        inject: (connection) => {
          injected.push(connection);
          backend.emit('connection', connection);
        },
        onError: (error) => errors.push(error),
      }),
    );
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    frontPort = (front.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => front.close(resolve));
    backend.close();
  });
  beforeEach(() => {
    seenAuthorities.length = 0;
    injected.length = 0;
    errors.length = 0;
  });

  async function request(session: http2.ClientHttp2Session, path: string, authority: string): Promise<string> {
    const stream = session.request({ ':path': path, ':authority': authority, 'x-request': path });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    await new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
      stream.end();
    });
    return body;
  }

  const cases = [
    {
      title: 'a well-formed authority goes to the server on the socket itself',
      authority: () => `127.0.0.1:${frontPort}`,
      expected: () => `127.0.0.1:${frontPort}`,
      pingFirst: false,
      wrapped: false,
    },
    {
      title: 'an authority with a scheme goes through the rewriting wrapper',
      authority: () => `http://127.0.0.1:${frontPort}`,
      expected: () => `127.0.0.1:${frontPort}`,
      pingFirst: false,
      wrapped: true,
    },
    {
      title: 'a PING before the first request is answered, then the socket is handed over',
      authority: () => `127.0.0.1:${frontPort}`,
      expected: () => `127.0.0.1:${frontPort}`,
      pingFirst: true,
      wrapped: false,
    },
  ];
  it.each(cases)('$title', async ({ authority, expected, pingFirst, wrapped }) => {
    const session = http2.connect(`http://127.0.0.1:${frontPort}`);
    session.on('error', () => undefined);
    try {
      if (pingFirst) {
        // Node cancels a ping asked for before the socket connected.
        await new Promise<void>((resolve) => session.once('connect', () => resolve()));
        await new Promise<void>((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve())));
        expect(injected).toHaveLength(0);
      }
      const bodies: string[] = [];
      // Several requests on one connection: later header blocks refer to the client's HPACK table.
      for (const path of ['/one', '/two', '/three']) bodies.push(await request(session, path, authority()));
      expect(bodies).toEqual(['/one', '/two', '/three']);
      expect(seenAuthorities).toEqual([expected(), expected(), expected()]);
      // The server's SETTINGS (after the empty one sent before the hand-over) reached the client.
      expect(session.remoteSettings.maxConcurrentStreams).toBeDefined();
      // A later PING goes to the server behind and comes back.
      await new Promise<void>((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve())));
      expect(injected).toHaveLength(1);
      expect(injected[0] instanceof RewritingConnection).toBe(wrapped);
      expect(injected[0] instanceof net.Socket).toBe(!wrapped);
      expect(errors).toEqual([]);
    } finally {
      session.close();
    }
  });

  it('closes a connection that does not start with the HTTP/2 preface, and reports it', async () => {
    const socket = net.connect(frontPort, '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    // 'close' comes after 'end', which needs what the server sent (its SETTINGS) read.
    socket.resume();
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed;
    expect(errors.map((error) => error.name)).toEqual(['Http2FramingError']);
    expect(injected).toHaveLength(0);
  });
});
