// TEST-ONLY: a stand-in kubelet speaking just enough of the kubelet API for
// the proxy tests: GET /containerLogs/... answers a fixed text, and an
// upgrade to /exec/... (WebSocket, v5.channel.k8s.io) writes "hi" on stdout,
// reports Success on the status channel and closes. Like the real kubelet
// it serves HTTPS and answers 401 to callers without a client certificate of
// the cluster CA; plain HTTP when no TLS material is given.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';

export interface FakeKubeletTls {
  /** Serving certificate and key (PEM). */
  certificatePem: string;
  privateKeyPem: string;
  /** CA whose client certificates are accepted (PEM). */
  clientCaPem: string;
}

export interface FakeKubelet {
  port: number;
  /** Request paths (with query) in arrival order, of authenticated requests only. */
  paths: string[];
  /** Requests refused with 401 for lack of a client certificate of the CA. */
  rejected: number;
  stop(): Promise<void>;
}

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** One unmasked binary frame (server to client frames are never masked). */
function binaryFrame(payload: Buffer): Buffer {
  if (payload.length >= 126) throw new Error('the fake kubelet only sends short frames');
  return Buffer.concat([Buffer.from([0x82, payload.length]), payload]);
}

export async function startFakeKubelet(logText: string, tls?: FakeKubeletTls): Promise<FakeKubelet> {
  const paths: string[] = [];
  let rejected = 0;
  const authenticated = (request: IncomingMessage): boolean => {
    if (tls === undefined) return true;
    if (request.socket instanceof TLSSocket && request.socket.authorized) return true;
    rejected += 1;
    return false;
  };
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    if (!authenticated(request)) {
      response.writeHead(401, { 'Content-Type': 'text/plain' }).end('Unauthorized');
      return;
    }
    paths.push(request.url ?? '');
    if (request.url?.startsWith('/containerLogs/')) {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.end(logText);
      return;
    }
    response.writeHead(404).end();
  };
  const server: Server =
    tls === undefined
      ? createServer(handler)
      : createHttpsServer({ cert: tls.certificatePem, key: tls.privateKeyPem, ca: tls.clientCaPem, requestCert: true, rejectUnauthorized: false }, handler);
  server.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
    if (!authenticated(request)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    paths.push(request.url ?? '');
    const key = String(request.headers['sec-websocket-key'] ?? '');
    const accept = createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
    socket.write(
      ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`, 'Sec-WebSocket-Protocol: v5.channel.k8s.io', '', ''].join('\r\n'),
    );
    socket.write(binaryFrame(Buffer.concat([Buffer.from([1]), Buffer.from('hi\n')])));
    socket.write(binaryFrame(Buffer.concat([Buffer.from([3]), Buffer.from('{"metadata":{},"status":"Success"}')])));
    socket.end(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    paths,
    get rejected() {
      return rejected;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
