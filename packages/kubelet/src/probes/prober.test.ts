import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../clock';
import { ManualClock } from '../clock';
import { FakeRuntime } from '../runtime/fake/fake-runtime';
import { runHandler, type ProbeTarget } from './prober';

describe('runHandler', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      if (request.url === '/slow') return; // never answers
      response.writeHead(request.url === '/healthz' && request.headers['x-check'] === 'yes' ? 200 : request.url === '/moved' ? 302 : 500);
      response.end('body');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const target = (): ProbeTarget => ({ podIP: '127.0.0.1', container: { name: 'c', ports: [{ name: 'http', containerPort: port }] }, containerId: 'none', runtime: new FakeRuntime({ clock: systemClock }), clock: systemClock });

  it.each([
    ['2xx with the header, by port name', { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X-Check', value: 'yes' }] }, true],
    ['3xx', { path: '/moved', port: 'http' }, true],
    ['5xx', { path: '/healthz', port: 'http' }, false],
    ['an unknown named port', { path: '/', port: 'nope' }, false],
  ])('httpGet: %s', async (_name, httpGet, success) => {
    const outcome = await runHandler({ httpGet: { ...httpGet, port: httpGet.port === 'http' ? 'http' : httpGet.port } }, target(), 1000);
    expect(outcome.success).toBe(success);
  });

  it('fails an httpGet that takes longer than its timeout', async () => {
    const outcome = await runHandler({ httpGet: { path: '/slow', port } }, target(), 200);
    expect(outcome).toEqual({ success: false, message: expect.stringContaining('timed out after 0.2s') });
  });

  it('connects with tcpSocket, and fails on a closed port', async () => {
    expect((await runHandler({ tcpSocket: { port } }, target(), 1000)).success).toBe(true);
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect((await runHandler({ tcpSocket: { port: closedPort } }, target(), 1000)).success).toBe(false);
  });

  it('runs exec in the container and reads its exit code', async () => {
    const clock = new ManualClock();
    const runtime = new FakeRuntime({ clock });
    const sandbox = await runtime.runPodSandbox({ name: 'p', namespace: 'default', uid: 'u', attempt: 0, hostname: 'p', labels: {}, logDirectory: '/tmp' });
    const id = await runtime.createContainer(sandbox, { name: 'c', attempt: 0, image: 'x', command: [], args: [], env: [], mounts: [], labels: {}, logPath: 'c/0.log' });
    await runtime.startContainer(id);
    runtime.execHandler = (_container, command) => ({ exitCode: command[0] === 'ok' ? 0 : 7, stdout: 'out' });
    const probeTarget = { podIP: '', container: { name: 'c' }, containerId: id, runtime, clock };
    expect(await runHandler({ exec: { command: ['ok'] } }, probeTarget, 1000)).toEqual({ success: true, message: 'out' });
    expect(await runHandler({ exec: { command: ['bad'] } }, probeTarget, 1000)).toEqual({ success: false, message: 'command ["bad"] exited with 7: out' });
  });
});
