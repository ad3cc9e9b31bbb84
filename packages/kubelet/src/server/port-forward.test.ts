// The kubelet's /portForward endpoint end to end: a client speaking kubectl's
// frames over a WebSocket (and over a plain SPDY upgrade) reaches a TCP echo
// server listening on the pod's IP.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Pod } from '@kube-lite/api';
import { ManualClock } from '../clock';
import { POD_UID_LABEL } from '../runtime/labels';
import { FakeRuntime } from '../runtime/fake/fake-runtime';
import { KubeletServer } from './server';
import { PORT_FORWARD_WEBSOCKET_PROTOCOL } from './port-forward';
import { StreamStatus } from './spdy/frames';
import { openWebSocketTunnel, SpdyTestClient, type WebSocketTunnel } from './spdy/test-support';

jest.setTimeout(20_000);

const POD_IP = '127.0.9.1';
const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'uid-web' }, spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'app' }] } };

interface Echo {
  server: net.Server;
  port: number;
  /** Connections currently open. */
  open: Set<net.Socket>;
}

/** Echoes every byte and ends its side when the client ends its own. */
async function startEcho(): Promise<Echo> {
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, POD_IP, resolve));
  return { server, port: (server.address() as AddressInfo).port, open };
}

/** A port on the pod IP nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, POD_IP, resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('kubelet port-forward', () => {
  let runtime: FakeRuntime;
  let server: KubeletServer;
  let port: number;
  let sandboxId: string;
  let echo: Echo;
  const tunnels: WebSocketTunnel[] = [];
  const clients: SpdyTestClient[] = [];

  beforeAll(async () => {
    runtime = new FakeRuntime({ clock: new ManualClock(), firstPodIP: POD_IP });
    sandboxId = await runtime.runPodSandbox({ name: 'web', namespace: 'default', uid: 'uid-web', attempt: 0, hostname: 'web', labels: { [POD_UID_LABEL]: 'uid-web' }, logDirectory: '/tmp' });
    server = new KubeletServer({ nodeName: 'node-1', runtime, port: 0, host: '127.0.0.1', locator: { pods: () => [pod], findContainer: async () => undefined }, portForward: { streamCreationTimeoutMs: 500 } });
    port = await server.listen();
    echo = await startEcho();
  });

  afterEach(() => {
    for (const tunnel of tunnels.splice(0)) tunnel.socket.destroy();
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await server.close();
    await new Promise((resolve) => echo.server.close(resolve));
  });

  async function connectWebSocket(path = '/portForward/default/web'): Promise<SpdyTestClient> {
    const tunnel = await openWebSocketTunnel(port, path, PORT_FORWARD_WEBSOCKET_PROTOCOL);
    tunnels.push(tunnel);
    expect(tunnel.protocol).toBe(PORT_FORWARD_WEBSOCKET_PROTOCOL);
    const client = new SpdyTestClient((bytes) => tunnel.send(bytes));
    clients.push(client);
    tunnel.onMessage((bytes) => client.receive(bytes));
    return client;
  }

  it('forwards one connection to the pod and finishes both streams when the pod side ends', async () => {
    const client = await connectWebSocket();
    const { errorStream, dataStream } = client.openPortForward(echo.port, 0);
    client.sendData(dataStream, Buffer.from('GET / HTTP/1.0\r\n\r\n'));
    client.sendData(dataStream, Buffer.from('more'), true);
    await client.waitFor('data and error FIN', () => client.finished(dataStream) && client.finished(errorStream));
    expect(client.replied(errorStream) && client.replied(dataStream)).toBe(true);
    expect(client.data(dataStream).toString()).toBe('GET / HTTP/1.0\r\n\r\nmore');
    expect(client.data(errorStream).length).toBe(0);
  });

  it('carries many concurrent connections on one tunnel without mixing them up', async () => {
    const client = await connectWebSocket();
    const requests = Array.from({ length: 25 }, (_, index) => ({ index, ...client.openPortForward(echo.port, index) }));
    for (const request of requests) client.sendData(request.dataStream, Buffer.from(`request ${request.index} `.repeat(100)), true);
    await client.waitFor('every stream finished', () => requests.every((request) => client.finished(request.dataStream) && client.finished(request.errorStream)), 10_000);
    for (const request of requests) expect(client.data(request.dataStream).toString()).toBe(`request ${request.index} `.repeat(100));
  });

  it('moves a megabyte each way intact, acknowledging what the pod took', async () => {
    const client = await connectWebSocket();
    const { dataStream } = client.openPortForward(echo.port, 0);
    const payload = Buffer.alloc(1024 * 1024);
    for (let index = 0; index < payload.length; index++) payload[index] = (index * 31) & 0xff;
    for (let offset = 0; offset < payload.length; offset += 32 * 1024) client.sendData(dataStream, payload.subarray(offset, offset + 32 * 1024), offset + 32 * 1024 >= payload.length);
    await client.waitFor('the echo', () => client.finished(dataStream), 15_000);
    expect(client.data(dataStream).equals(payload)).toBe(true);
    expect(client.frames.filter((frame) => frame.type === 'windowUpdate' && frame.streamId === dataStream).length).toBeGreaterThan(0);
  });

  it('reports a refused connection on the error stream in upstream\'s words', async () => {
    const client = await connectWebSocket();
    const refused = await closedPort();
    const { errorStream, dataStream } = client.openPortForward(refused, 0);
    await client.waitFor('the error', () => client.finished(errorStream) && client.finished(dataStream));
    expect(client.data(errorStream).toString()).toMatch(new RegExp(`^error forwarding port ${refused} to pod ${sandboxId}, uid : failed to connect to ${POD_IP.replace(/\./g, '\\.')}:${refused}: .*ECONNREFUSED`));
  });

  const badPorts: Array<[string, string]> = [
    ['not a number', 'http'],
    ['zero', '0'],
    ['above 65535', '70000'],
  ];

  it.each(badPorts)('reports a port header that is %s', async (_name, portHeader) => {
    const client = await connectWebSocket();
    const { errorStream } = client.openPortForward(portHeader, 0);
    await client.waitFor('the error', () => client.finished(errorStream));
    expect(client.data(errorStream).toString()).toContain('invalid port header');
  });

  it('gives up on a request whose second stream never comes', async () => {
    const client = await connectWebSocket();
    const errorStream = client.openStream([['streamtype', 'error'], ['port', String(echo.port)], ['requestid', '5']]);
    await client.waitFor('the timeout', () => client.finished(errorStream), 5000);
    expect(client.data(errorStream).toString()).toContain('timed out waiting for the data stream of request 5');
  });

  it('refuses unknown stream types and a second stream of one kind', async () => {
    const client = await connectWebSocket();
    const unknown = client.openStream([['streamtype', 'stdin'], ['port', '80'], ['requestid', '1']]);
    const first = client.openStream([['streamtype', 'data'], ['port', String(echo.port)], ['requestid', '2']]);
    const duplicate = client.openStream([['streamtype', 'data'], ['port', String(echo.port)], ['requestid', '2']]);
    await client.waitFor('two resets', () => [unknown, duplicate].every((id) => client.frames.some((frame) => frame.type === 'rstStream' && frame.streamId === id && frame.status === StreamStatus.protocolError)));
    expect(client.frames.some((frame) => frame.type === 'rstStream' && frame.streamId === first)).toBe(false);
  });

  it('drops the pod connection when the client resets the data stream', async () => {
    const client = await connectWebSocket();
    const { dataStream } = client.openPortForward(echo.port, 0);
    client.sendData(dataStream, Buffer.from('ping'));
    await client.waitFor('the echo', () => client.data(dataStream).toString() === 'ping');
    expect(echo.open.size).toBe(1);
    client.sendFrame({ type: 'rstStream', streamId: dataStream, status: StreamStatus.cancel });
    const deadline = Date.now() + 5000;
    while (echo.open.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(echo.open.size).toBe(0);
  });

  it('drops pod connections when the tunnel closes', async () => {
    const client = await connectWebSocket();
    const { dataStream } = client.openPortForward(echo.port, 0);
    client.sendData(dataStream, Buffer.from('ping'));
    await client.waitFor('the echo', () => client.data(dataStream).toString() === 'ping');
    tunnels[0]?.close();
    const deadline = Date.now() + 5000;
    while (echo.open.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(echo.open.size).toBe(0);
  });

  it('also speaks SPDY/3.1 straight on an upgraded connection (kubectl\'s fallback)', async () => {
    const socket = net.connect(port, '127.0.0.1');
    const client = new SpdyTestClient((bytes) => socket.write(bytes));
    clients.push(client);
    let answered = false;
    let buffered = Buffer.alloc(0);
    socket.on('data', (bytes: Buffer) => {
      if (answered) return client.receive(bytes);
      buffered = Buffer.concat([buffered, bytes]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      answered = true;
      expect(buffered.subarray(0, end).toString()).toMatch(/^HTTP\/1\.1 101 [\s\S]*x-stream-protocol-version: portforward\.k8s\.io/i);
      if (buffered.length > end + 4) client.receive(buffered.subarray(end + 4));
    });
    socket.write('POST /portForward/default/web HTTP/1.1\r\nHost: kubelet\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n');
    const { errorStream, dataStream } = client.openPortForward(echo.port, 0);
    client.sendData(dataStream, Buffer.from('over spdy'), true);
    await client.waitFor('the echo', () => client.finished(dataStream) && client.finished(errorStream));
    expect(client.data(dataStream).toString()).toBe('over spdy');
    socket.destroy();
  });

  const rejected: Array<[string, string, Record<string, string>, number]> = [
    ['an unknown pod', '/portForward/default/nope', { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', 'sec-websocket-protocol': PORT_FORWARD_WEBSOCKET_PROTOCOL }, 404],
    ['a pod UID that does not match', '/portForward/default/web/other-uid', { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', 'sec-websocket-protocol': PORT_FORWARD_WEBSOCKET_PROTOCOL }, 404],
    ['a WebSocket without the port-forward protocol', '/portForward/default/web', { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', 'sec-websocket-protocol': 'v5.channel.k8s.io' }, 400],
  ];

  it.each(rejected)('refuses %s', async (_name, path, headers, status) => {
    const answer = await new Promise<number>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, path, headers });
      request.on('response', (response) => resolve(response.statusCode ?? 0));
      request.on('upgrade', () => resolve(101));
      request.on('error', reject);
      request.end();
    });
    expect(answer).toBe(status);
  });

  it('answers a plain GET with 400 naming the upgrade it needs', async () => {
    const status = await new Promise<number>((resolve, reject) => http.get({ host: '127.0.0.1', port, path: '/portForward/default/web' }, (response) => resolve(response.statusCode ?? 0)).on('error', reject));
    expect(status).toBe(400);
  });
});
