// Integration on loopback: a KubeProxy fed by FakeApiClient informers, tiny
// HTTP backends on their own 127.0.2.x addresses, requests through a NodePort,
// a Service address and the ingress controller.
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { EndpointAddress, Endpoints, KubeObject } from '@kube-lite/api';
import { FakeApiClient, RESOURCES } from '@kube-lite/client';
import { loopbackServiceAddress } from './core/addresses';
import { buildServiceTable } from './core/service-table';
import { KubeProxy } from './kube-proxy';
import { endpointsOf, ingressOf, serviceOf } from './test-fixtures';
import { UserspaceProxier } from './userspace/userspace-proxier';

// Random per run so parallel runs on one machine do not collide.
const salt = 1 + Math.floor(Math.random() * 200);
const nodeIP = `127.0.1.${salt}`;
const nodePort = 30000 + Math.floor(Math.random() * 2700);
const clusterIP = `10.99.${salt}.10`;
const udpClusterIP = `10.99.${salt}.11`;

interface Backend {
  ip: string;
  server: http.Server;
  port: number;
}

async function startBackend(ip: string): Promise<Backend> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ backend: request.socket.localAddress, path: request.url, body: Buffer.concat(chunks).toString(), forwardedFor: request.headers['x-forwarded-for'] ?? null, forwardedHost: request.headers['x-forwarded-host'] ?? null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, ip, () => resolve()));
  return { ip, server, port: (server.address() as net.AddressInfo).port };
}

/** A free port on `ip` nobody listens on (for an endpoint that refuses connections). */
async function deadPort(ip: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, ip, () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Reply {
  status: number;
  body: string;
}

function request(host: string, port: number, path: string, options: { method?: string; body?: string; hostHeader?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method: options.method ?? 'GET', agent: false, headers: options.hostHeader ? { host: options.hostHeader } : {} }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
    req.end(options.body);
  });
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function backendsOf(replies: Reply[]): string[] {
  return replies.map((reply) => (JSON.parse(reply.body) as { backend: string }).backend).sort();
}

describe('KubeProxy (userspace) on loopback', () => {
  let backends: Backend[];
  let udpEcho: dgram.Socket;
  let client: FakeApiClient;
  let proxy: KubeProxy;
  let refusedPort: number;

  const webEndpoints = (list: Backend[], extra: EndpointAddress[] = []): Endpoints =>
    endpointsOf('web', [
      { addresses: list.map((backend) => ({ ip: backend.ip, nodeName: 'node-a' })), ports: [{ name: 'http', port: list[0]?.port ?? 1 }] },
      ...(extra.length > 0 ? [{ addresses: extra, ports: [{ name: 'http', port: refusedPort }] }] : []),
    ]);

  async function setEndpoints(object: Endpoints): Promise<void> {
    const current = await client.get<Endpoints>(RESOURCES.endpoints, 'default', 'web');
    await client.update(RESOURCES.endpoints, 'default', { ...object, metadata: { ...object.metadata, resourceVersion: current.metadata?.resourceVersion } });
  }

  beforeAll(async () => {
    // Every backend listens on the same port number, as pods of one Deployment would.
    const first = await startBackend('127.0.2.1');
    backends = [first];
    for (const ip of ['127.0.2.2', '127.0.2.3']) {
      const server = http.createServer(first.server.listeners('request')[0] as http.RequestListener);
      await new Promise<void>((resolve) => server.listen(first.port, ip, () => resolve()));
      backends.push({ ip, server, port: first.port });
    }
    refusedPort = await deadPort('127.0.2.9');
    udpEcho = dgram.createSocket('udp4');
    udpEcho.on('message', (message, remote) => udpEcho.send(Buffer.concat([Buffer.from('echo:'), message]), remote.port, remote.address));
    await new Promise<void>((resolve) => udpEcho.bind(0, '127.0.2.4', () => resolve()));
    const objects: KubeObject[] = [
      serviceOf('web', { type: 'NodePort', clusterIP, ports: [{ name: 'http', port: 8080, targetPort: 'http', nodePort }] }),
      webEndpoints(backends),
      serviceOf('echo', { clusterIP: udpClusterIP, ports: [{ name: 'udp', port: 9053, protocol: 'UDP' }] }),
      endpointsOf('echo', [{ addresses: [{ ip: '127.0.2.4' }], ports: [{ name: 'udp', port: udpEcho.address().port, protocol: 'UDP' }] }]),
      ingressOf('web', { rules: [{ host: 'shop.example', http: { paths: [{ path: '/app', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } }] } }] }, { annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/' } }),
      ingressOf('ghost', { rules: [{ host: 'ghost.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'ghost', port: { number: 80 } } } }] } }] }),
    ];
    client = new FakeApiClient({ objects });
    proxy = new KubeProxy({
      client,
      nodeName: 'node-a',
      mode: 'userspace',
      nodePortAddresses: [nodeIP],
      ingress: { host: '127.0.0.1', port: 0 },
      dns: { host: '127.0.0.1', port: 0 },
      observabilityAddresses: [{ host: '127.0.0.1', port: 0 }],
      userspace: { dialTimeoutsMs: [200], udpIdleTimeoutMs: 1000 },
    });
    await proxy.start();
  });

  afterAll(async () => {
    await proxy.stop();
    client.close();
    for (const backend of backends) await new Promise<void>((resolve) => backend.server.close(() => resolve()));
    udpEcho.close();
  });

  const viaNodePort = (path = '/') => request(nodeIP, nodePort, path);
  const viaServiceAddress = (path = '/') => request(loopbackServiceAddress(clusterIP) ?? '', 8080, path);
  const viaIngress = (path: string, options: { method?: string; body?: string; hostHeader?: string } = {}) => request('127.0.0.1', proxy.ingress?.port() ?? 0, path, { hostHeader: 'shop.example', ...options });

  test.each([
    ['NodePort', () => viaNodePort()],
    ['Service address', () => viaServiceAddress()],
    ['Ingress', () => viaIngress('/app/')],
  ])('requests through the %s reach every backend in turn', async (_, send) => {
    const replies = [];
    for (let index = 0; index < 6; index++) replies.push(await send());
    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    expect(backendsOf(replies)).toEqual(['127.0.2.1', '127.0.2.1', '127.0.2.2', '127.0.2.2', '127.0.2.3', '127.0.2.3']);
  });

  test('the ingress rewrites the path, adds X-Forwarded headers and streams a request body', async () => {
    const reply = await viaIngress('/app/items?page=2', { method: 'POST', body: 'x'.repeat(200_000) });
    const parsed = JSON.parse(reply.body) as { path: string; body: string; forwardedFor: string; forwardedHost: string };
    expect([reply.status, parsed.path, parsed.body.length, parsed.forwardedFor, parsed.forwardedHost]).toEqual([200, '/items?page=2', 200_000, '127.0.0.1', 'shop.example']);
  });

  test('the ingress answers 404 for no rule and 503 for a Service that does not exist', async () => {
    const none = await viaIngress('/nothing-here');
    expect([none.status, none.body]).toEqual([404, '404 not found: no Ingress rule matches host "shop.example" and path "/nothing-here"\n']);
    const ghost = await viaIngress('/', { hostHeader: 'ghost.example' });
    expect([ghost.status, ghost.body]).toEqual([503, '503 service unavailable: service default/ghost not found\n']);
  });

  test('UDP through the Service address, one session per client', async () => {
    const socket = dgram.createSocket('udp4');
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no udp reply')), 3000);
        socket.on('message', (message) => {
          clearTimeout(timer);
          resolve(message.toString());
        });
        socket.send('ping', 9053, loopbackServiceAddress(udpClusterIP));
      });
      expect(reply).toBe('echo:ping');
    } finally {
      socket.close();
    }
  });

  test('an endpoint that refuses connections is skipped: the client never sees it', async () => {
    await setEndpoints(webEndpoints(backends, [{ ip: '127.0.2.9' }]));
    await eventually(() => proxy.forwardingTable.get('default/web:http')?.clusterEndpoints.length === 4, 'four endpoints');
    const replies: Reply[] = [];
    for (let index = 0; index < 8; index++) replies.push(await viaNodePort(), await viaIngress('/app'));
    expect(replies.map((reply) => reply.status)).toEqual(Array(16).fill(200));
    expect(new Set(backendsOf(replies))).toEqual(new Set(['127.0.2.1', '127.0.2.2', '127.0.2.3']));
  });

  test('removing an endpoint stops new connections to it at once', async () => {
    await setEndpoints(webEndpoints(backends.slice(0, 2)));
    await eventually(() => proxy.forwardingTable.get('default/web:http')?.clusterEndpoints.length === 2, 'two endpoints');
    const replies: Reply[] = [];
    for (let index = 0; index < 6; index++) replies.push(await viaNodePort(), await viaServiceAddress(), await viaIngress('/app'));
    expect(new Set(backendsOf(replies))).toEqual(new Set(['127.0.2.1', '127.0.2.2']));
  });

  test('no ready endpoints: the ingress answers 503 and the NodePort closes the connection', async () => {
    await setEndpoints(endpointsOf('web', [{ notReadyAddresses: backends.map((backend) => ({ ip: backend.ip })), ports: [{ name: 'http', port: backends[0]?.port ?? 1 }] }]));
    await eventually(() => proxy.forwardingTable.get('default/web:http')?.clusterEndpoints.length === 0, 'no endpoints');
    const reply = await viaIngress('/app');
    expect([reply.status, reply.body]).toEqual([503, '503 service unavailable: no ready endpoints for service default/web\n']);
    await expect(viaNodePort()).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  test('only refusing endpoints: the ingress answers 502 after trying another', async () => {
    await setEndpoints(endpointsOf('web', [{ addresses: [{ ip: '127.0.2.9' }, { ip: '127.0.2.10' }], ports: [{ name: 'http', port: refusedPort }] }]));
    await eventually(() => proxy.forwardingTable.get('default/web:http')?.clusterEndpoints.length === 2, 'two dead endpoints');
    const reply = await viaIngress('/app');
    expect(reply.status).toBe(502);
    expect(reply.body).toMatch(/^502 bad gateway: could not connect to service default\/web \(tried 127\.0\.2\.(9|10):\d+, 127\.0\.2\.(9|10):\d+\)\n$/);
  });

  test('refusing endpoints do not count as attempts: the ingress tries every endpoint before giving up', async () => {
    const dead = ['127.0.2.11', '127.0.2.12', '127.0.2.13', '127.0.2.14', '127.0.2.15'].map((ip) => ({ ip }));
    const live = backends[0];
    await setEndpoints(endpointsOf('web', [
      { addresses: dead, ports: [{ name: 'http', port: refusedPort }] },
      { addresses: [{ ip: live?.ip ?? '' }], ports: [{ name: 'http', port: live?.port ?? 1 }] },
    ]));
    await eventually(() => proxy.forwardingTable.get('default/web:http')?.clusterEndpoints.length === 6, 'five dead endpoints and a live one');
    for (let index = 0; index < 6; index++) {
      const reply = await viaIngress('/app');
      expect(reply.status).toBe(200);
    }
  });

  test('a deleted Service closes its listeners', async () => {
    await client.delete(RESOURCES.services, 'default', 'echo');
    await eventually(() => !proxy.forwardingTable.has('default/echo:udp'), 'echo removed');
    expect((proxy.proxier as UserspaceProxier).openListeners()).toEqual([`TCP/${loopbackServiceAddress(clusterIP)}:8080`, `TCP/${nodeIP}:${nodePort}`].sort());
  });

  test('/healthz and /metrics', async () => {
    const port = proxy['observability'][0]?.boundPort() ?? 0;
    expect(await request('127.0.0.1', port, '/healthz')).toEqual({ status: 200, body: 'ok' });
    const metrics = await request('127.0.0.1', port, '/metrics');
    expect(metrics.body).toContain('kubeproxy_sync_proxy_rules_last_timestamp_seconds');
    expect(metrics.body).toMatch(/kubeproxy_ingress_requests_total\{status="200"\} \d+/);
  });
});

describe('UserspaceProxier address contention (nodes sharing one host)', () => {
  test('a second proxy stands by while the first holds the Service address, then takes over', async () => {
    const backend = await startBackend('127.0.2.5');
    const address = `10.98.${salt}.20`;
    const table = buildServiceTable([serviceOf('shared', { clusterIP: address, ports: [{ port: 8081 }] })], [endpointsOf('shared', [{ addresses: [{ ip: backend.ip }], ports: [{ port: backend.port }] }])]);
    const first = new UserspaceProxier({ bindRetryMs: 50 });
    const second = new UserspaceProxier({ bindRetryMs: 50 });
    try {
      await first.sync(table);
      await second.sync(table);
      const id = `TCP/${loopbackServiceAddress(address)}:8081`;
      expect([first.openListeners(), second.openListeners(), second.pendingListeners()]).toEqual([[id], [], [id]]);
      await first.stop();
      await eventually(() => second.openListeners().includes(id), 'takeover');
      const reply = await request(loopbackServiceAddress(address) ?? '', 8081, '/');
      expect(JSON.parse(reply.body)).toMatchObject({ backend: '127.0.2.5' });
    } finally {
      await first.stop();
      await second.stop();
      await new Promise<void>((resolve) => backend.server.close(() => resolve()));
    }
  });

  test('the connection bound closes what is over it', async () => {
    const backend = await startBackend('127.0.2.6');
    const address = `10.98.${salt}.21`;
    const proxier = new UserspaceProxier({ maxConnections: 1 });
    try {
      await proxier.sync(buildServiceTable([serviceOf('bounded', { clusterIP: address, ports: [{ port: 8082 }] })], [endpointsOf('bounded', [{ addresses: [{ ip: backend.ip }], ports: [{ port: backend.port }] }])]));
      const held = net.connect({ host: loopbackServiceAddress(address), port: 8082 });
      await new Promise((resolve) => held.once('connect', resolve));
      await eventually(() => proxier['context'].connections.active === 1, 'first connection accepted');
      await expect(request(loopbackServiceAddress(address) ?? '', 8082, '/')).rejects.toThrow(/socket hang up|ECONNRESET/);
      held.destroy();
      await eventually(() => proxier['context'].connections.active === 0, 'first connection closed');
      expect((await request(loopbackServiceAddress(address) ?? '', 8082, '/')).status).toBe(200);
    } finally {
      await proxier.stop();
      await new Promise<void>((resolve) => backend.server.close(() => resolve()));
    }
  });
});
