// The metrics source against stand-in kubelets on 127.0.0.1: two scrape
// cycles give usage; unready nodes are not asked; a failing kubelet is logged
// and left out while the others are stored.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatMicroTime, type Node } from '@kube-lite/api';
import { MetricsSource } from './source';

const T0 = Date.parse('2024-05-01T10:00:00Z');

interface StandIn {
  port: number;
  requests: string[];
  /** The body the next request gets, or a status code to answer instead. */
  answer: unknown;
  close(): Promise<void>;
}

async function standInKubelet(): Promise<StandIn> {
  const standIn: Partial<StandIn> = { requests: [], answer: 500 };
  const server: Server = createServer((request, response) => {
    standIn.requests?.push(request.url ?? '');
    if (typeof standIn.answer === 'number') {
      response.writeHead(standIn.answer, { 'content-type': 'text/plain' }).end('kubelet trouble');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(standIn.answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.port = (server.address() as AddressInfo).port;
  standIn.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return standIn as StandIn;
}

function summaryBody(nodeName: string, offsetMs: number, nodeCpuSeconds: number, podCpuSeconds: number): unknown {
  const time = formatMicroTime(T0 + offsetMs);
  return {
    node: { nodeName, startTime: formatMicroTime(T0 - 3_600_000), cpu: { time, usageNanoCores: 0, usageCoreNanoSeconds: nodeCpuSeconds * 1e9 }, memory: { time, workingSetBytes: 512 * 1024 * 1024 } },
    pods: [
      {
        podRef: { name: `web-${nodeName}`, namespace: 'default', uid: `uid-${nodeName}` },
        startTime: formatMicroTime(T0 - 600_000),
        containers: [
          {
            name: 'app',
            startTime: formatMicroTime(T0 - 600_000),
            cpu: { time, usageNanoCores: 0, usageCoreNanoSeconds: podCpuSeconds * 1e9 },
            memory: { time, workingSetBytes: 20 * 1024 * 1024 },
          },
        ],
      },
    ],
  };
}

function node(name: string, port: number, ready: boolean): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: {
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: port } },
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

describe('MetricsSource', () => {
  const standIns: StandIn[] = [];
  afterAll(async () => {
    await Promise.all(standIns.map((standIn) => standIn.close()));
  });

  test('scrapes Ready nodes twice and rates the counters; unready nodes are skipped, failures logged', async () => {
    const [one, two, unready] = [await standInKubelet(), await standInKubelet(), await standInKubelet()];
    standIns.push(one, two, unready);
    const errors: Array<Record<string, unknown>> = [];
    const nodes = [node('node-1', one.port, true), node('node-2', two.port, true), node('node-3', unready.port, false)];
    const source = new MetricsSource({
      resolutionMs: 15_000,
      kubelet: { scheme: 'http', defaultPort: 10250 },
      listNodes: async () => nodes,
      onError: (_message, fields) => errors.push(fields),
    });
    one.answer = summaryBody('node-1', 0, 1000, 10);
    two.answer = summaryBody('node-2', 0, 2000, 20);
    await source.scrapeOnce();
    expect(source.nodeUsage('node-1')).toBeUndefined();
    one.answer = summaryBody('node-1', 15_000, 1015, 11.5);
    two.answer = 500;
    await source.scrapeOnce();
    expect(source.nodeUsage('node-1')).toEqual({ timestampMs: T0 + 15_000, windowMs: 15_000, cpuNanoCores: 1_000_000_000, memoryWorkingSetBytes: 512 * 1024 * 1024 });
    expect(source.podUsage('default', 'web-node-1')?.containers).toEqual([
      { name: 'app', usage: { timestampMs: T0 + 15_000, windowMs: 15_000, cpuNanoCores: 100_000_000, memoryWorkingSetBytes: 20 * 1024 * 1024 } },
    ]);
    expect(source.nodeUsage('node-2')).toBeUndefined();
    expect(one.requests).toEqual(['/stats/summary?only_cpu_and_memory=true', '/stats/summary?only_cpu_and_memory=true']);
    expect(unready.requests).toEqual([]);
    expect(errors).toEqual([{ node: 'node-2', error: expect.stringContaining('answered 500 to /stats/summary: kubelet trouble') }]);
  });

  test('a kubelet answering for another node is refused', async () => {
    const impostor = await standInKubelet();
    standIns.push(impostor);
    impostor.answer = summaryBody('someone-else', 0, 1, 1);
    const errors: string[] = [];
    const source = new MetricsSource({
      resolutionMs: 15_000,
      kubelet: { scheme: 'http', defaultPort: 10250 },
      listNodes: async () => [node('node-1', impostor.port, true)],
      onError: (_message, fields) => errors.push(String(fields['error'])),
    });
    await source.scrapeOnce();
    expect(errors).toEqual([expect.stringContaining('reports node "someone-else"')]);
  });

  test('an unreachable kubelet fails within the scrape timeout', async () => {
    const gone = await standInKubelet();
    const port = gone.port;
    await gone.close();
    const errors: string[] = [];
    const source = new MetricsSource({
      resolutionMs: 1000,
      scrapeTimeoutMs: 500,
      kubelet: { scheme: 'http', defaultPort: 10250 },
      listNodes: async () => [node('node-1', port, true)],
      onError: (_message, fields) => errors.push(String(fields['error'])),
    });
    await source.scrapeOnce();
    expect(errors).toEqual([expect.stringContaining(`unable to reach the kubelet of node "node-1" at 127.0.0.1:${port}`)]);
  });

  test('start() scrapes at once and stop() ends the loop', async () => {
    let listed = 0;
    const source = new MetricsSource({ resolutionMs: 60_000, kubelet: { scheme: 'http', defaultPort: 10250 }, listNodes: async () => (listed++, []) });
    source.start();
    await source.stop();
    expect(listed).toBe(1);
  });
});
