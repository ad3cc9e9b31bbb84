import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Event, Lease, Node, Pod, PodSpec } from '@kube-lite/api';
import { conflictError, FakeApiClient, RESOURCES, type RecordedWrite } from '@kube-lite/client';
import { ManualClock } from './clock';
import { Kubelet, type KubeletOptions, type MachineInfo } from './kubelet';
import { FakeRuntime } from './runtime/fake/fake-runtime';

jest.setTimeout(20_000);

const machine: MachineInfo = {
  cpuMillis: 4000,
  memoryBytes: 8 * 1024 ** 3,
  machineID: 'machine-1',
  systemUUID: 'uuid-1',
  bootID: 'boot-1',
  kernelVersion: '6.1.0-test',
  osImage: 'Test Linux 1',
  operatingSystem: 'linux',
  architecture: 'amd64',
};

interface Harness {
  clock: ManualClock;
  client: FakeApiClient;
  runtime: FakeRuntime;
  kubelet: Kubelet;
  root: string;
}

const harnesses: Harness[] = [];

async function newHarness(overrides: Partial<KubeletOptions> = {}, reuse?: Pick<Harness, 'clock' | 'client' | 'runtime' | 'root'>): Promise<Harness> {
  const clock = reuse?.clock ?? new ManualClock();
  const client = reuse?.client ?? new FakeApiClient({ nowMs: () => clock.nowMs() });
  const runtime = reuse?.runtime ?? new FakeRuntime({ clock });
  const root = reuse?.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-wiring-'));
  const kubelet = new Kubelet({
    client,
    nodeName: 'node-1',
    nodeIP: '192.168.1.10',
    runtime,
    rootDirectory: root,
    port: 0,
    address: '127.0.0.1',
    clock,
    machine,
    nodeStatusUpdateFrequencyMs: 10_000,
    workers: { relistPeriodMs: 5000 },
    ...overrides,
  });
  await kubelet.start();
  await kubelet.whenWorkersStarted();
  const harness = { clock, client, runtime, kubelet, root };
  harnesses.push(harness);
  await settle(harness);
  return harness;
}

afterEach(async () => {
  for (const harness of harnesses.splice(0)) {
    await harness.kubelet.stop();
    harness.client.close();
    fs.rmSync(harness.root, { recursive: true, force: true });
  }
});

/** Moves time on and lets every worker, informer and API write finish. */
async function settle(harness: Harness, ms = 0): Promise<void> {
  await harness.clock.advanceBy(ms);
  for (let round = 0; round < 3; round++) {
    await harness.kubelet.workers.waitForIdle();
    await harness.clock.settle();
  }
}

/** Settles until `check` passes (bounded): watch events and writes arrive a few turns later. */
async function eventually(harness: Harness, check: () => void, stepMs = 0): Promise<void> {
  let failure: unknown;
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      check();
      return;
    } catch (error) {
      failure = error;
    }
    await settle(harness, stepMs);
  }
  throw failure;
}

function node(harness: Harness): Node | undefined {
  return harness.client.peek<Node>(RESOURCES.nodes, undefined, 'node-1');
}

function lease(harness: Harness): Lease | undefined {
  return harness.client.peek<Lease>(RESOURCES.leases, 'kube-node-lease', 'node-1');
}

function storedPod(harness: Harness, name: string): Pod | undefined {
  return harness.client.peek<Pod>(RESOURCES.pods, 'default', name);
}

function makePod(name: string, spec: Partial<PodSpec> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { nodeName: 'node-1', restartPolicy: 'Always', terminationGracePeriodSeconds: 30, containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }], ...spec },
  };
}

function podWrites(harness: Harness, name: string): RecordedWrite[] {
  return harness.client.writes.filter((write) => write.resource === 'pods' && write.name === name);
}

describe('node registration', () => {
  it('registers the Node with labels, capacity, addresses, nodeInfo, the kubelet port and Ready', async () => {
    const harness = await newHarness();
    const registered = node(harness);
    expect(harness.kubelet.registered).toBe(true);
    expect(registered?.metadata?.labels).toEqual({ 'kubernetes.io/hostname': 'node-1', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' });
    expect(registered?.status).toMatchObject({
      capacity: { cpu: '4', memory: '8388608Ki', pods: '110' },
      allocatable: { cpu: '4', memory: '8388608Ki', pods: '110' },
      addresses: [
        { type: 'InternalIP', address: '192.168.1.10' },
        { type: 'Hostname', address: 'node-1' },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: harness.kubelet.port } },
      nodeInfo: { kubeletVersion: 'v1.32.0-kube-lite', containerRuntimeVersion: 'fake://1', osImage: 'Test Linux 1', kernelVersion: '6.1.0-test', architecture: 'amd64', operatingSystem: 'linux', machineID: 'machine-1', bootID: 'boot-1' },
    });
    expect(harness.kubelet.port).toBeGreaterThan(0);
    const conditions = Object.fromEntries((registered?.status?.conditions ?? []).map((condition) => [condition.type, condition]));
    expect(conditions['Ready']).toMatchObject({ status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' });
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) expect(conditions[type]?.status).toBe('False');
  });

  const capacityCases: { name: string; overrides: Partial<KubeletOptions>; expected: Record<string, string>; labels?: Record<string, string> }[] = [
    { name: 'flag overrides', overrides: { capacity: { cpuMillis: 1500, memoryBytes: 2 * 1024 ** 3, pods: 20 } }, expected: { cpu: '1500m', memory: '2097152Ki', pods: '20' } },
    { name: 'the machine', overrides: {}, expected: { cpu: '4', memory: '8388608Ki', pods: '110' } },
    { name: 'hostname override', overrides: { hostname: 'Worker-A.local' }, expected: { cpu: '4' }, labels: { 'kubernetes.io/hostname': 'worker-a.local' } },
  ];
  it.each(capacityCases)('reports capacity from $name', async ({ overrides, expected, labels }) => {
    const harness = await newHarness(overrides);
    expect(node(harness)?.status?.capacity).toMatchObject(expected);
    if (labels) expect(node(harness)?.metadata?.labels).toMatchObject(labels);
  });

  it('takes over an existing Node of its name and adds its labels', async () => {
    const clock = new ManualClock();
    const client = new FakeApiClient({ nowMs: () => clock.nowMs(), objects: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', uid: 'old-uid', labels: { team: 'a' } } } as Node] });
    const harness = await newHarness({}, { clock, client, runtime: new FakeRuntime({ clock }), root: fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-wiring-')) });
    expect(node(harness)?.metadata).toMatchObject({ uid: 'old-uid', labels: { team: 'a', 'kubernetes.io/hostname': 'node-1' } });
    expect(node(harness)?.status?.conditions?.find((condition) => condition.type === 'Ready')?.status).toBe('True');
  });

  it('registers again when its Node is deleted, and points the Lease at the new Node', async () => {
    const harness = await newHarness();
    const firstUid = node(harness)?.metadata?.uid;
    await harness.client.nodes().delete('node-1');
    expect(node(harness)).toBeUndefined();
    // Noticed at the next heartbeat.
    await settle(harness, 10_000);
    const secondUid = node(harness)?.metadata?.uid;
    expect(secondUid).toEqual(expect.any(String));
    expect(secondUid).not.toBe(firstUid);
    expect(node(harness)?.status?.conditions?.find((condition) => condition.type === 'Ready')?.status).toBe('True');
    expect(lease(harness)?.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: secondUid }]);
  });

  it('does not create a Node with registerNode false, but heartbeats once someone else does', async () => {
    const harness = await newHarness({ registerNode: false });
    expect(node(harness)).toBeUndefined();
    harness.client.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', uid: 'made-by-admin' } } as Node);
    await settle(harness, 10_000);
    expect(node(harness)?.status?.conditions?.find((condition) => condition.type === 'Ready')?.status).toBe('True');
    expect(harness.client.writes.filter((write) => write.resource === 'nodes' && write.verb === 'create')).toEqual([]);
  });
});

describe('heartbeat', () => {
  it('creates the Lease owned by the Node and renews it every nodeStatusUpdateFrequency', async () => {
    const harness = await newHarness();
    const created = lease(harness);
    expect(created?.spec).toMatchObject({ holderIdentity: 'node-1', leaseDurationSeconds: 40 });
    expect(created?.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: node(harness)?.metadata?.uid }]);
    const renewTimes = [created?.spec?.renewTime];
    for (let step = 0; step < 3; step++) {
      await settle(harness, 10_000);
      renewTimes.push(lease(harness)?.spec?.renewTime);
    }
    expect(new Set(renewTimes).size).toBe(4);
    const startMs = Date.parse(renewTimes[0] ?? '');
    expect(renewTimes.map((time) => (Date.parse(time ?? '') - startMs) / 1000)).toEqual([0, 10, 20, 30]);
  });

  it('posts Node status only on change or after nodeStatusReportFrequency', async () => {
    const harness = await newHarness({ nodeStatusReportFrequencyMs: 60_000 });
    const statusWrites = () => harness.client.writes.filter((write) => write.resource === 'nodes' && write.subresource === 'status').length;
    const initial = statusWrites();
    for (let step = 0; step < 3; step++) await settle(harness, 10_000);
    expect(statusWrites()).toBe(initial);
    // The runtime stops answering: Ready turns False at the next heartbeat.
    const listSandboxes = jest.spyOn(harness.runtime, 'listPodSandboxes').mockRejectedValue(new Error('runtime socket closed'));
    await settle(harness, 10_000);
    expect(statusWrites()).toBe(initial + 1);
    expect(node(harness)?.status?.conditions?.find((condition) => condition.type === 'Ready')).toMatchObject({ status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down: runtime socket closed' });
    listSandboxes.mockRestore();
    await settle(harness, 10_000);
    expect(statusWrites()).toBe(initial + 2);
    const ready = node(harness)?.status?.conditions?.find((condition) => condition.type === 'Ready');
    expect(ready?.status).toBe('True');
    expect(ready?.lastTransitionTime).toBe(ready?.lastHeartbeatTime);
    // Nothing changes for a minute: one post when the report frequency has passed.
    for (let step = 0; step < 6; step++) await settle(harness, 10_000);
    expect(statusWrites()).toBe(initial + 3);
  });

  it('keeps heartbeating after the API server was unreachable', async () => {
    const harness = await newHarness();
    let failing = true;
    const remove = harness.client.addReactor((action) => {
      if (failing && action.resource === 'leases') throw Object.assign(conflictError('coordination.k8s.io', 'leases', 'node-1', 'x'), { code: 503, reason: 'ServiceUnavailable' });
    });
    const before = lease(harness)?.spec?.renewTime;
    await settle(harness, 10_000);
    expect(lease(harness)?.spec?.renewTime).toBe(before);
    failing = false;
    await settle(harness, 10_000);
    expect(lease(harness)?.spec?.renewTime).not.toBe(before);
    remove();
  });
});

describe('pods', () => {
  it('starts the containers of a pod bound to this node and reports it Running, then Ready once its readiness probe passes', async () => {
    const harness = await newHarness();
    let ready = false;
    harness.runtime.execHandler = () => ({ exitCode: ready ? 0 : 1 });
    const pod = makePod('web', { containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'], readinessProbe: { exec: { command: ['true'] }, periodSeconds: 5 } }] });
    await harness.client.pods('default').create(pod);
    await eventually(harness, () => expect(storedPod(harness, 'web')?.status?.phase).toBe('Running'));
    const status = storedPod(harness, 'web')?.status;
    expect(status).toMatchObject({ hostIP: '192.168.1.10', podIP: expect.stringMatching(/^10\.0\.0\.\d+$/) });
    expect(status?.conditions?.find((condition) => condition.type === 'Ready')?.status).toBe('False');
    expect(harness.runtime.calls).toContain('startContainer default/web/app#0');
    ready = true;
    await eventually(harness, () => expect(storedPod(harness, 'web')?.status?.conditions?.find((condition) => condition.type === 'Ready')?.status).toBe('True'), 5000);
    expect(storedPod(harness, 'web')?.status?.containerStatuses?.[0]).toMatchObject({ name: 'app', ready: true, state: { running: expect.anything() } });
  });

  it('ignores pods bound to another node', async () => {
    const harness = await newHarness();
    await harness.client.pods('default').create({ ...makePod('elsewhere'), spec: { ...makePod('elsewhere').spec!, nodeName: 'node-2' } });
    await harness.client.pods('default').create(makePod('here'));
    await eventually(harness, () => expect(storedPod(harness, 'here')?.status?.phase).toBe('Running'));
    await settle(harness, 10_000);
    expect(harness.runtime.calls.filter((call) => call.includes('elsewhere'))).toEqual([]);
    expect(podWrites(harness, 'elsewhere').filter((write) => write.verb !== 'create')).toEqual([]);
    expect(storedPod(harness, 'elsewhere')?.status?.phase).toBeUndefined();
  });

  it('terminates a pod deleted gracefully, then deletes it with grace 0 and a uid precondition', async () => {
    const harness = await newHarness();
    const created = await harness.client.pods('default').create(makePod('doomed'));
    const uid = created.metadata?.uid ?? '';
    await eventually(harness, () => expect(storedPod(harness, 'doomed')?.status?.phase).toBe('Running'));
    // The API server's graceful delete: the pod stays, marked, until the kubelet has stopped it.
    const marked = storedPod(harness, 'doomed') as Pod;
    harness.client.seed({ ...marked, metadata: { ...marked.metadata, deletionTimestamp: new Date(harness.clock.nowMs()).toISOString(), deletionGracePeriodSeconds: 7 } });
    await eventually(harness, () => expect(storedPod(harness, 'doomed')).toBeUndefined());
    expect(harness.runtime.calls).toContain('stopContainer default/doomed/app#0 timeout=7s');
    const deletes = podWrites(harness, 'doomed').filter((write) => write.verb === 'delete');
    expect(deletes).toEqual([expect.objectContaining({ object: { gracePeriodSeconds: 0, preconditions: { uid } } })]);
    const statusWrites = podWrites(harness, 'doomed').filter((write) => write.subresource === 'status');
    expect((statusWrites[statusWrites.length - 1]?.object as Pod).status?.containerStatuses?.[0]?.state?.terminated).toBeDefined();
    await eventually(harness, () => expect(harness.runtime.calls).toContain('removePodSandbox default/doomed'));
  });

  it('stops the containers of a pod removed from the API outright', async () => {
    const harness = await newHarness();
    await harness.client.pods('default').create(makePod('gone'));
    await eventually(harness, () => expect(storedPod(harness, 'gone')?.status?.phase).toBe('Running'));
    await harness.client.pods('default').delete('gone', { gracePeriodSeconds: 0 });
    await eventually(harness, () => expect(harness.runtime.calls).toContain('removePodSandbox default/gone'));
    expect(harness.runtime.calls.some((call) => call.startsWith('stopContainer default/gone/app#0'))).toBe(true);
  });

  it('retries a status write that conflicts, from a fresh read', async () => {
    const harness = await newHarness();
    let conflicts = 1;
    harness.client.addReactor((action) => {
      if (action.resource === 'pods' && action.subresource === 'status' && conflicts > 0) {
        conflicts -= 1;
        throw conflictError('', 'pods', action.name ?? '', 'the object has been modified');
      }
    });
    await harness.client.pods('default').create(makePod('raced'));
    await eventually(harness, () => expect(storedPod(harness, 'raced')?.status?.phase).toBe('Running'));
    expect(harness.client.actions.some((action) => action.verb === 'get' && action.resource === 'pods' && action.name === 'raced')).toBe(true);
  });

  it('records Pulled, Created and Started events on the container', async () => {
    const harness = await newHarness();
    await harness.client.pods('default').create(makePod('noisy'));
    await eventually(harness, () => {
      const events = harness.client.peekAll<Event>(RESOURCES.events).filter((event) => event.involvedObject?.name === 'noisy');
      expect(events.map((event) => event.reason).sort()).toEqual(['Created', 'Pulled', 'Started']);
    });
    const started = harness.client.peekAll<Event>(RESOURCES.events).find((event) => event.reason === 'Started');
    expect(started).toMatchObject({ type: 'Normal', message: 'Started container: app', involvedObject: { kind: 'Pod', namespace: 'default', name: 'noisy', fieldPath: 'spec.containers{app}' }, source: { component: 'kubelet', host: 'node-1' } });
  });

  const warningCases: { name: string; pod: Pod; setUp: (harness: Harness) => void; expected: { type: string; reason: string; message: RegExp }[] }[] = [
    {
      name: 'BackOff for a crashing container',
      pod: makePod('crasher'),
      setUp: (harness) => harness.runtime.scriptContainer('app', { exitCodeOnStart: 1 }),
      expected: [{ type: 'Warning', reason: 'BackOff', message: /^Back-off restarting failed container app in pod crasher_default\(/ }],
    },
    {
      name: 'Unhealthy and Killing for a failing liveness probe',
      pod: makePod('sick', { containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'], livenessProbe: { exec: { command: ['check'] }, periodSeconds: 1, failureThreshold: 1 } }] }),
      setUp: (harness) => {
        harness.runtime.execHandler = () => ({ exitCode: 1, stdout: 'not well' });
      },
      expected: [
        { type: 'Warning', reason: 'Unhealthy', message: /^Liveness probe failed/ },
        { type: 'Normal', reason: 'Killing', message: /failed liveness probe, will be restarted/ },
      ],
    },
  ];
  it.each(warningCases)('records $name', async ({ pod, setUp, expected }) => {
    const harness = await newHarness();
    setUp(harness);
    await harness.client.pods('default').create(pod);
    await eventually(
      harness,
      () => {
        const events = harness.client.peekAll<Event>(RESOURCES.events).filter((event) => event.involvedObject?.name === pod.metadata?.name);
        for (const want of expected) expect(events).toContainEqual(expect.objectContaining({ type: want.type, reason: want.reason, message: expect.stringMatching(want.message) }));
      },
      1000,
    );
  });

  it('adopts running containers after a restart instead of restarting them', async () => {
    const first = await newHarness();
    await first.client.pods('default').create(makePod('kept'));
    await eventually(first, () => expect(storedPod(first, 'kept')?.status?.phase).toBe('Running'));
    await first.kubelet.stop();
    harnesses.splice(harnesses.indexOf(first), 1);
    const startsBefore = first.runtime.calls.filter((call) => call.startsWith('startContainer')).length;
    const second = await newHarness({}, first);
    await settle(second, 10_000);
    expect(second.runtime.calls.filter((call) => call.startsWith('startContainer')).length).toBe(startsBefore);
    expect(second.runtime.calls.filter((call) => call.startsWith('stopContainer'))).toEqual([]);
    expect(storedPod(second, 'kept')?.status?.phase).toBe('Running');
  });
});
