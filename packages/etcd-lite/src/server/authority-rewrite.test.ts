import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as hpack from 'hpack.js';
import { encodeHeaderBlock, fixAuthority, RequestHeaderRewriter, RewritingConnection } from './authority-rewrite';

describe('fixAuthority', () => {
  it.each([
    ['http://127.0.0.1:2379', '127.0.0.1:2379'],
    ['https://etcd.example:2379/', 'etcd.example:2379'],
    ['127.0.0.1:2379', '127.0.0.1:2379'],
    ['[::1]:2379', '[::1]:2379'],
  ])('%s -> %s', (value, expected) => expect(fixAuthority(value)).toBe(expected));
});

describe('encodeHeaderBlock', () => {
  it('decodes to the same headers with a fresh HPACK decoder, long values included', () => {
    const headers = [
      { name: ':path', value: '/etcdserverpb.Maintenance/Status' },
      { name: 'x-long', value: 'v'.repeat(300) },
      { name: 'authorization', value: 'secret', neverIndex: true },
    ];
    const decoder = hpack.decompressor.create({ table: { maxSize: 4096 } });
    decoder.write(encodeHeaderBlock(headers));
    decoder.execute();
    const decoded: Array<{ name: string; value: string; neverIndex?: boolean }> = [];
    for (let header = decoder.read(); header !== null; header = decoder.read()) decoded.push(header);
    expect(decoded).toEqual([
      { name: ':path', value: '/etcdserverpb.Maintenance/Status', neverIndex: false },
      { name: 'x-long', value: 'v'.repeat(300), neverIndex: false },
      { name: 'authorization', value: 'secret', neverIndex: true },
    ]);
  });
});

describe('RequestHeaderRewriter dropFirstSettingsAck', () => {
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const settingsAck = Buffer.from([0, 0, 0, 0x4, 0x1, 0, 0, 0, 0]);
  const windowUpdate = Buffer.from([0, 0, 4, 0x8, 0, 0, 0, 0, 0, 0, 0, 0x10, 0]);
  it.each([
    { drop: true, expected: Buffer.concat([preface, windowUpdate, settingsAck]) },
    { drop: false, expected: Buffer.concat([preface, settingsAck, windowUpdate, settingsAck]) },
  ])('drop=$drop forwards the right frames, byte by byte', ({ drop, expected }) => {
    const rewriter = new RequestHeaderRewriter({ dropFirstSettingsAck: drop });
    const input = Buffer.concat([preface, settingsAck, windowUpdate, settingsAck]);
    // One byte at a time: frames split across reads must come out whole.
    const out = [...input].flatMap((byte) => rewriter.push(Buffer.from([byte])));
    expect(Buffer.concat(out)).toEqual(expected);
  });
});

describe('RewritingConnection injected into a Node HTTP/2 server (as gRPC connection injectors do)', () => {
  let backend: http2.Http2Server;
  let front: net.Server;
  let frontPort: number;
  const seen: string[] = [];

  beforeAll(async () => {
    backend = http2.createServer();
    backend.on('stream', (stream, headers) => {
      seen.push(String(headers[':authority']));
      stream.respond({ ':status': 200 });
      stream.end(String(headers[':path']));
    });
    front = net.createServer((socket) => backend.emit('connection', new RewritingConnection(socket, () => undefined)));
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    frontPort = (front.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => front.close(resolve));
    backend.close();
  });

  const cases = [
    { title: 'an authority with a scheme (what Go clients dialing passthrough:///http://... send)', authority: () => `http://127.0.0.1:${frontPort}`, expected: () => `127.0.0.1:${frontPort}` },
    { title: 'a well-formed authority, passed through', authority: () => `127.0.0.1:${frontPort}`, expected: () => `127.0.0.1:${frontPort}` },
  ];
  it.each(cases)('delivers requests with $title', async ({ authority, expected }) => {
    seen.length = 0;
    const session = http2.connect(`http://127.0.0.1:${frontPort}`);
    try {
      const bodies: string[] = [];
      // Several requests on one connection: later header blocks refer to the client's HPACK table.
      for (const path of ['/one', '/two', '/three']) {
        const request = session.request({ ':path': path, ':authority': authority(), 'x-request': path });
        let body = '';
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => (body += chunk));
        await new Promise<void>((resolve, reject) => {
          request.on('end', resolve);
          request.on('error', reject);
          request.end();
        });
        bodies.push(body);
      }
      expect(bodies).toEqual(['/one', '/two', '/three']);
      expect(seen).toEqual([expected(), expected(), expected()]);
    } finally {
      session.close();
    }
  });
});
