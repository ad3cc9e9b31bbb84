// kube-lite as real containers, end to end: the compose cluster of deploy/,
// the lecture's Deployment as Docker containers, a worker and an etcd-lite
// leader dying, and a restart of everything. Steps run in order on one
// cluster; each bounds its own waits and records how long it took.
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { ComposeCluster, ETCD_MEMBERS, REPOSITORY, WORKERS, waitFor } from './cluster';

process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

interface Pod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string; containerStatuses?: { ready: boolean; restartCount: number; containerID?: string }[] };
}
interface Node {
  metadata: { name: string };
  status: { conditions?: { type: string; status: string; lastHeartbeatTime?: string }[] };
}

const cluster = new ComposeCluster();
const timings: [string, number][] = [];
let failedSetup: Error | undefined;

async function timed<T>(label: string, action: () => Promise<T>): Promise<T> {
  const startedMs = Date.now();
  const result = await action();
  timings.push([label, Date.now() - startedMs]);
  return result;
}

async function pods(): Promise<Pod[]> {
  return (await cluster.kubectlJson<{ items: Pod[] }>(['get', 'pods', '-l', 'app=ml-model-serving'])).items;
}

/** Running, ready, not being deleted, and (when given) not on `avoidNode`. */
async function runningReplicas(avoidNode?: string): Promise<Pod[]> {
  return (await pods()).filter((pod) => pod.status.phase === 'Running' && !pod.metadata.deletionTimestamp && pod.spec.nodeName !== avoidNode && (pod.status.containerStatuses ?? []).every((container) => container.ready));
}

/** Replicas whose reported container is a running Docker container right now (not a status left from before). */
async function replicasRunningInDocker(): Promise<Pod[]> {
  const confirmed: Pod[] = [];
  for (const pod of await runningReplicas()) {
    const containerId = pod.status.containerStatuses?.[0]?.containerID?.replace('docker://', '');
    const [container] = containerId ? await cluster.podContainers({ 'io.kubernetes.pod.uid': pod.metadata.uid }).then((all) => all.filter((candidate) => candidate.Id === containerId)) : [];
    if (container?.State === 'running') confirmed.push(pod);
  }
  return confirmed;
}

/** Ready with a heartbeat at or after `sinceMs`: the kubelet of now, not a condition left from before. */
async function nodeHeartbeatSince(name: string, sinceMs: number): Promise<boolean> {
  const node = await cluster.kubectlJson<Node>(['get', 'node', name]);
  const ready = node.status.conditions?.find((condition) => condition.type === 'Ready');
  return ready?.status === 'True' && Date.parse(ready.lastHeartbeatTime ?? '') >= sinceMs - 1000;
}

async function nodeReady(name: string): Promise<string> {
  const node = await cluster.kubectlJson<Node>(['get', 'node', name]);
  return node.status.conditions?.find((condition) => condition.type === 'Ready')?.status ?? 'Unknown';
}

interface Deployment {
  metadata: { generation?: number };
  spec: { replicas?: number };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
}

/** What `kubectl rollout status` waits for: every replica updated and available, and no old one left. */
function rolledOut(deployment: Deployment): boolean {
  const wanted = deployment.spec.replicas ?? 1;
  const status = deployment.status ?? {};
  return (status.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0) && status.updatedReplicas === wanted && status.replicas === wanted && status.availableReplicas === wanted;
}

interface Service {
  spec: { clusterIP?: string };
}

/** What one answer of ml-serving says about who served it. */
interface Prediction {
  pod: string;
  version: string;
  prediction?: { label: string };
}

const INGRESS_PATH = '/app/predict?text=good';
/** A request through the Ingress that takes longer than this counts as hung. */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Sends a GET through the Ingress every `intervalMs` (without waiting for the
 * previous one) until stop(); stop() waits for the requests in flight and
 * returns the tally.
 */
function startIngressProbe(intervalMs: number): { stop: () => Promise<{ sent: number; ok: number; timedOut: number; failures: string[] }> } {
  const inFlight = new Set<Promise<void>>();
  const tally = { sent: 0, ok: 0, timedOut: 0, failures: [] as string[] };
  const startedAtMs = Date.now();
  const timer = setInterval(() => {
    tally.sent += 1;
    const sentAtMs = Date.now();
    const request = cluster.ingressGet(INGRESS_PATH, PROBE_TIMEOUT_MS).then((result) => {
      if (result.statusCode === 200) tally.ok += 1;
      else {
        if (result.timedOut) tally.timedOut += 1;
        // Bounded: the first few failures are enough to see what went wrong.
        if (tally.failures.length < 20) tally.failures.push(`+${sentAtMs - startedAtMs} ms: ${result.statusCode} ${result.error ?? result.body.trim().slice(0, 200)}`);
      }
    });
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
  }, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return tally;
    },
  };
}

beforeAll(async () => {
  try {
    await cluster.checkImages();
    await timed('compose up (until every healthcheck passes)', () => cluster.up());
  } catch (error) {
    failedSetup = error as Error;
  }
}, 240_000);

afterAll(async () => {
  await cluster.down();
  const width = Math.max(...timings.map(([label]) => label.length));
  console.log(['e2e timings:', ...timings.map(([label, ms]) => `  ${label.padEnd(width)}  ${(ms / 1000).toFixed(1).padStart(6)} s`)].join('\n'));
}, 120_000);

beforeEach(() => {
  if (failedSetup) throw failedSetup;
});

test('all three nodes register and turn Ready', async () => {
  await timed('nodes Ready after compose up', () =>
    waitFor('3 Ready nodes', async () => {
      const statuses = await Promise.all(WORKERS.map((name) => nodeReady(name).catch(() => 'missing')));
      return statuses.every((status) => status === 'True');
    }, 60_000),
  );
});

test('the lecture Deployment runs 10 replicas across the workers as real containers', async () => {
  await cluster.kubectl(['apply', '-f', path.join(REPOSITORY, 'examples/lecture/deployment.yaml')]);
  const running = await timed('10 replicas Running', () => waitFor('10 running replicas', async () => {
    const ready = await replicasRunningInDocker();
    return ready.length === 10 ? ready : undefined;
  }, 120_000));
  const nodes = new Set(running.map((pod) => pod.spec.nodeName));
  expect(nodes.size).toBeGreaterThanOrEqual(2);
  for (const pod of running) {
    const containers = await cluster.podContainers({ 'io.kubernetes.pod.uid': pod.metadata.uid, 'io.kubernetes.docker.type': 'container' });
    expect(containers.map((container) => container.State)).toContain('running');
    expect(pod.status.containerStatuses?.[0]?.containerID).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
  }
  // A pod IP answers from another node's container: the pods share the cluster network.
  const target = running[0] as Pod;
  const otherNode = WORKERS.find((name) => name !== target.spec.nodeName) as string;
  const answer = await cluster.execIn(otherNode, ['node', '-e', `fetch('http://${target.status.podIP}/predict?text=good').then((r) => r.text()).then(console.log, (e) => { console.error(e.message); process.exit(1); })`]);
  expect(answer.exitCode).toBe(0);
  expect(JSON.parse(answer.output)).toMatchObject({ pod: target.metadata.name, version: '1.0', prediction: { label: 'positive' } });
});

test('the lecture Ingress on the published port reaches every replica', async () => {
  await cluster.kubectl(['apply', '-f', path.join(REPOSITORY, 'examples/lecture/service.yaml'), '-f', path.join(REPOSITORY, 'examples/lecture/ingress.yaml')]);
  const replicas = new Set((await runningReplicas()).map((pod) => pod.metadata.name));
  expect(replicas.size).toBe(10);
  const seen = new Set<string>();
  await timed('every replica answered through the Ingress', () =>
    waitFor(
      'an answer from each of the 10 replicas through the Ingress',
      async () => {
        const result = await cluster.ingressGet(INGRESS_PATH, PROBE_TIMEOUT_MS);
        if (result.statusCode !== 200) throw new Error(`ingress answered ${result.statusCode}: ${result.error ?? result.body.trim()}`);
        const answer = JSON.parse(result.body) as Prediction;
        expect(answer).toMatchObject({ version: '1.0', prediction: { label: 'positive' } });
        seen.add(answer.pod);
        return [...replicas].every((name) => seen.has(name));
      },
      60_000,
      20,
    ),
  );
  expect([...seen].sort()).toEqual([...replicas].sort());
});

test('a pod resolves the Service by its DNS name to the ClusterIP', async () => {
  const service = await cluster.kubectlJson<Service>(['get', 'service', 'ml-model-serving-service']);
  const clusterIP = service.spec.clusterIP;
  expect(clusterIP).toMatch(/^10\.(9[6-9]|1[01]\d)\.\d+\.\d+$/);
  const [pod] = await runningReplicas();
  const lookup = (name: string) => [
    'exec',
    (pod as Pod).metadata.name,
    '--',
    'node',
    '-e',
    `require('dns').lookup(${JSON.stringify(name)}, { family: 4 }, (error, address) => { if (error) { console.error(error.message); process.exit(1); } console.log(address); })`,
  ];
  for (const name of ['ml-model-serving-service.default.svc.cluster.local', 'ml-model-serving-service']) {
    const resolved = await waitFor(`${name} resolving in a pod`, async () => (await cluster.kubectl(lookup(name))).stdout.trim(), 20_000);
    expect({ name, address: resolved }).toEqual({ name, address: clusterIP });
  }
});

test('a pod reaches the Service by name at its ClusterIP, through its node', async () => {
  const replicas = new Set((await runningReplicas()).map((pod) => pod.metadata.name));
  const [pod] = await runningReplicas();
  // Ten requests on fresh connections: each is balanced on its own.
  const script = `
    const http = require('http');
    const get = () => new Promise((resolve, reject) => {
      const request = http.get({ host: 'ml-model-serving-service', port: 80, path: '/predict?text=good', agent: false, timeout: 5000 }, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => (response.statusCode === 200 ? resolve(JSON.parse(body).pod) : reject(new Error('HTTP ' + response.statusCode))));
      });
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', reject);
    });
    (async () => { const pods = []; for (let i = 0; i < 10; i++) pods.push(await get()); console.log(JSON.stringify(pods)); })().catch((error) => { console.error(error.message); process.exit(1); });`;
  const answered = await timed('a pod reached the Service ClusterIP', () =>
    waitFor('ten answers through the ClusterIP', async () => JSON.parse((await cluster.kubectl(['exec', (pod as Pod).metadata.name, '--', 'node', '-e', script])).stdout) as string[], 20_000),
  );
  expect(answered).toHaveLength(10);
  for (const name of answered) expect(replicas).toContain(name);
  expect(new Set(answered).size).toBeGreaterThan(1);
});

test('kubectl logs and exec reach a container', async () => {
  const [pod] = await runningReplicas();
  const name = (pod as Pod).metadata.name;
  const logs = await cluster.kubectl(['logs', name]);
  expect(logs.stdout).toContain(`listening on ${(pod as Pod).status.podIP}:80 as ${name}`);
  const stamped = await cluster.kubectl(['logs', name, '--timestamps', '--tail=1']);
  expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z ml-serving/);
  const exec = await cluster.kubectl(['exec', name, '--', 'sh', '-c', 'echo "$HOSTNAME:$MODEL_VERSION"; cat /etc/hostname']);
  expect(exec.stdout).toBe(`${name}:1.0\n${name}\n`);
  const failing = await cluster.kubectl(['exec', name, '--', 'sh', '-c', 'exit 7'], { allowFailure: true });
  expect(failing.exitCode).toBe(7);
});

test('a rolling update to ml-serving:2.0 keeps the Ingress answering, and every answer then says 2.0', async () => {
  const probe = startIngressProbe(200);
  let tally: Awaited<ReturnType<ReturnType<typeof startIngressProbe>['stop']>> | undefined;
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await cluster.kubectl(['set', 'image', 'deployment/ml-model-serving', 'ml-model-serving=ml-serving:2.0']);
    await timed('rollout to ml-serving:2.0', () => waitFor('the Deployment rolled out', async () => rolledOut(await cluster.kubectlJson<Deployment>(['get', 'deployment', 'ml-model-serving'])), 150_000));
  } finally {
    tally = await probe.stop();
    console.log(`ingress probe during the rolling update: ${tally.ok}/${tally.sent} HTTP 200, ${tally.timedOut} hung (> ${PROBE_TIMEOUT_MS} ms)${tally.failures.length > 0 ? `\n  ${tally.failures.join('\n  ')}` : ''}`);
  }
  expect(tally.sent).toBeGreaterThanOrEqual(20);
  expect(tally.timedOut).toBe(0);
  expect(tally.ok / tally.sent).toBeGreaterThanOrEqual(0.99);
  // Old pods leave the endpoints as they terminate: soon only 2.0 answers.
  await waitFor('only version 2.0 answering through the Ingress', async () => {
    for (let request = 0; request < 10; request++) {
      const result = await cluster.ingressGet(INGRESS_PATH, PROBE_TIMEOUT_MS);
      if (result.statusCode !== 200 || (JSON.parse(result.body) as Prediction).version !== '2.0') return false;
    }
    return true;
  }, 60_000);
  expect(await runningReplicas()).toHaveLength(10);
}, 240_000);

let killedWorker = '';

test('a worker dies: its node turns NotReady, within 30 s all replicas run on the others, and the Ingress keeps answering', async () => {
  const perNode = new Map<string, number>();
  for (const pod of await runningReplicas()) perNode.set(pod.spec.nodeName ?? '', (perNode.get(pod.spec.nodeName ?? '') ?? 0) + 1);
  killedWorker = [...perNode.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'worker-1';
  const probe = startIngressProbe(200);
  let tally: Awaited<ReturnType<ReturnType<typeof startIngressProbe>['stop']>> | undefined;
  try {
    // A baseline before the kill, so the probe covers the whole failure.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const killedAtMs = Date.now();
    await (await cluster.service(killedWorker)).kill();
    await timed(`${killedWorker} NotReady after kill`, () => waitFor(`${killedWorker} not Ready`, async () => (await nodeReady(killedWorker)) !== 'True', 60_000));
    const notReadyAtMs = Date.now();
    await timed('10 replicas Running elsewhere after NotReady', () => waitFor('10 replicas on the other nodes', async () => (await runningReplicas(killedWorker)).length === 10, 30_000));
    timings.push(['10 replicas Running elsewhere after kill', Date.now() - killedAtMs]);
    expect(Date.now() - notReadyAtMs).toBeLessThanOrEqual(30_000);
  } finally {
    tally = await probe.stop();
    console.log(`ingress probe during the worker kill: ${tally.ok}/${tally.sent} HTTP 200, ${tally.timedOut} hung (> ${PROBE_TIMEOUT_MS} ms)${tally.failures.length > 0 ? `\n  ${tally.failures.join('\n  ')}` : ''}`);
  }
  expect(tally.sent).toBeGreaterThanOrEqual(50);
  expect(tally.timedOut).toBe(0);
  expect(tally.ok / tally.sent).toBeGreaterThanOrEqual(0.99);
});

test('the worker comes back: Ready again and its stale containers are removed', async () => {
  await (await cluster.service(killedWorker)).start();
  await timed(`${killedWorker} Ready after start`, () => waitFor(`${killedWorker} Ready`, async () => (await nodeReady(killedWorker)) === 'True', 60_000));
  await timed('stale containers removed', () =>
    waitFor('no containers of deleted pods on the node', async () => {
      const wanted = new Set((await pods()).filter((pod) => pod.spec.nodeName === killedWorker).map((pod) => pod.metadata.uid));
      const leftovers = (await cluster.podContainers({ 'kube-lite.io/node-name': killedWorker })).filter((container) => !wanted.has(container.Labels['io.kubernetes.pod.uid'] ?? ''));
      return leftovers.length === 0;
    }, 60_000),
  );
  // The returning kubelet finishes the pods that were evicted while it was away.
  await timed('evicted pods finished', () => waitFor('no pod left terminating', async () => (await pods()).every((pod) => !pod.metadata.deletionTimestamp), 30_000));
  expect(await runningReplicas()).toHaveLength(10);
});

test('the etcd-lite leader dies: writes are accepted again within 5 s and nothing acknowledged is lost', async () => {
  const clients = await Promise.all(ETCD_MEMBERS.map(async (member) => ({ member, client: new Etcd3({ hosts: `http://127.0.0.1:${await cluster.publishedPort(member, 2379)}` }) })));
  try {
    const statuses = await Promise.all(clients.map(async ({ member, client }) => ({ member, status: await client.maintenance.status() })));
    const leader = statuses.find(({ status }) => status.header.member_id === status.leader)?.member;
    expect(leader).toBeDefined();

    const acknowledged: string[] = [];
    let sequence = 0;
    let killedAtMs = 0;
    let firstAckAfterKillMs = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const name = `e2e-write-${sequence++}`;
        const sentAtMs = Date.now();
        const result = await cluster.api('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { e2e: 'etcd-failover' } }, data: { sequence: String(sequence) } }, 1500).catch(() => undefined);
        if (result?.statusCode === 201) {
          acknowledged.push(name);
          if (killedAtMs > 0 && sentAtMs >= killedAtMs && firstAckAfterKillMs === 0) firstAckAfterKillMs = Date.now();
        } else await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await waitFor('a few writes before the kill', async () => acknowledged.length >= 5, 20_000, 100);
    await (await cluster.service(leader as string)).kill();
    // From here on the old leader is gone (SIGKILL delivered): a write acknowledged now went through a new one.
    killedAtMs = Date.now();
    await waitFor('writes accepted after the kill', async () => firstAckAfterKillMs > 0, 30_000, 100);
    const recoveryMs = firstAckAfterKillMs - killedAtMs;
    timings.push(['writes accepted again after the etcd leader died', recoveryMs]);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    writing = false;
    await writer;

    // A read may still meet the dead member (its name no longer resolves): retried, bounded.
    const stored = await waitFor('the list of written ConfigMaps', async () => (await cluster.kubectlJson<{ items: { metadata: { name: string } }[] }>(['get', 'configmaps', '-l', 'e2e=etcd-failover'])).items.map((item) => item.metadata.name), 20_000);
    const lost = acknowledged.filter((name) => !stored.includes(name));
    expect(lost).toEqual([]);
    expect(recoveryMs).toBeLessThanOrEqual(5000);

    await (await cluster.service(leader as string)).start();
    await waitFor(`${leader} healthy again`, async () => (await (await cluster.service(leader as string)).inspect()).State.Health?.Status === 'healthy', 60_000);
  } finally {
    for (const { client } of clients) client.close();
  }
});

test('the whole cluster restarts: objects are still there and the pods come back', async () => {
  const configMapsBefore = (await cluster.kubectlJson<{ items: unknown[] }>(['get', 'configmaps', '-l', 'e2e=etcd-failover'])).items.length;
  // Power off: every cluster container and every pod container.
  await timed('cluster stopped', async () => {
    const everything = [...(await cluster.projectContainers()), ...(await cluster.podContainers())].filter((container) => container.State === 'running');
    await Promise.all(everything.map((container) => cluster.docker.getContainer(container.Id).stop({ t: 5 }).catch(() => undefined)));
  });
  const restartedAtMs = Date.now();
  await timed('compose up after the restart', () => cluster.up());
  await timed('nodes Ready after the restart', () => waitFor('3 nodes Ready with fresh heartbeats', async () => (await Promise.all(WORKERS.map((name) => nodeHeartbeatSince(name, restartedAtMs)))).every(Boolean), 90_000));
  expect((await cluster.kubectlJson<{ items: unknown[] }>(['get', 'configmaps', '-l', 'e2e=etcd-failover'])).items).toHaveLength(configMapsBefore);
  await cluster.kubectl(['get', 'deployment/ml-model-serving', 'service/ml-model-serving-service']);
  await timed('10 replicas Running after the restart', () => waitFor('10 replicas running in Docker', async () => (await replicasRunningInDocker()).length === 10, 120_000));
  await timed('the Ingress answers after the restart', () => waitFor('HTTP 200 through the Ingress', async () => (await cluster.ingressGet(INGRESS_PATH, PROBE_TIMEOUT_MS)).statusCode === 200, 30_000));
});
