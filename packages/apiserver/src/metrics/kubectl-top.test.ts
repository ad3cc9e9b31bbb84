// The real kubectl against the composed API server: `kubectl top node` and
// `kubectl top pod` read metrics.k8s.io, which the API server fills by
// scraping a stand-in kubelet's /stats/summary every second.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatMicroTime } from '@kube-lite/api';
import { startCluster, type Cluster } from '../compat/fixture';

jest.setTimeout(90_000);

let cluster: Cluster;
let kubelet: Server;
let port = 0;
/** The container started once, an hour before the test: a start time that moved would read as a restart. */
const CONTAINER_START_MS = Date.now() - 3_600_000;

function summary(): unknown {
  // Counters that advance with the wall clock: the node at 1.5 cores, the pod at 250 millicores.
  const nowMs = Date.now();
  const time = formatMicroTime(nowMs);
  const seconds = nowMs / 1000;
  return {
    node: { nodeName: 'metrics-node', cpu: { time, usageNanoCores: 0, usageCoreNanoSeconds: Math.round(seconds * 1.5e9) }, memory: { time, workingSetBytes: 512 * 1024 * 1024 } },
    pods: [
      {
        podRef: { name: 'busy', namespace: 'default', uid: 'uid-busy' },
        containers: [
          { name: 'app', startTime: formatMicroTime(CONTAINER_START_MS), cpu: { time, usageNanoCores: 0, usageCoreNanoSeconds: Math.round(seconds * 0.25e9) }, memory: { time, workingSetBytes: 20 * 1024 * 1024 } },
        ],
      },
    ],
  };
}

beforeAll(async () => {
  kubelet = createServer((request, response) => {
    if (request.url?.startsWith('/stats/summary')) response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(summary()));
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => kubelet.listen(0, '127.0.0.1', resolve));
  port = (kubelet.address() as AddressInfo).port;
  cluster = await startCluster({ config: { kubeletProxy: { scheme: 'http' }, metricResolutionSeconds: 1 } });
});

afterAll(async () => {
  await cluster?.stop();
  await new Promise<void>((resolve) => kubelet.close(() => resolve()));
});

async function eventually(run: () => Promise<{ code: number; stdout: string; stderr: string }>, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = { code: -1, stdout: '', stderr: '' };
  while (Date.now() < deadline) {
    last = await run();
    if (last.code === 0) return last.stdout;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`kubectl kept failing: ${last.stderr}`);
}

test('kubectl top node and top pod show the scraped usage', async () => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'metrics-node' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } }, conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu: '2', memory: '4Gi' }, capacity: { cpu: '2', memory: '4Gi' } } };
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'busy', labels: { app: 'busy' } }, spec: { nodeName: 'metrics-node', containers: [{ name: 'app', image: 'busybox' }] } };
  for (const object of [node, pod]) expect((await cluster.kubectl(['create', '-f', '-'], { input: JSON.stringify(object) })).code).toBe(0);
  const nodes = await eventually(() => cluster.kubectl(['top', 'node', '--no-headers']));
  expect(nodes).toMatch(/^metrics-node\s+(149\dm|150\dm)\s+\d+%\s+512Mi\s+/);
  const pods = await eventually(() => cluster.kubectl(['top', 'pod', '-l', 'app=busy', '--no-headers']));
  expect(pods).toMatch(/^busy\s+(24\dm|25\dm)\s+20Mi\s*$/);
  const missing = await cluster.kubectl(['top', 'pod', 'busy', '-n', 'kube-system']);
  expect(missing.code).not.toBe(0);
});
