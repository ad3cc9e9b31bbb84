// What the pod worker hands the runtime before containers run: volumes
// (claims, memory emptyDirs, refreshed config maps), the pod's DNS, and the
// container fields the runtime enforces (limits, imagePullPolicy).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Container, Pod, PodSpec, PodStatus } from '@kube-lite/api';
import { ManualClock } from '../clock';
import { FakeRuntime } from '../runtime/fake/fake-runtime';
import { InMemoryObjectSource, InMemoryPodSource, RecordingStatusSink } from '../sources';
import type { PodEvent } from './context';
import { PodWorkers, type PodWorkersOptions } from './pod-workers';

jest.setTimeout(20_000);

interface Harness {
  clock: ManualClock;
  runtime: FakeRuntime;
  source: InMemoryPodSource;
  sink: RecordingStatusSink;
  objects: InMemoryObjectSource;
  workers: PodWorkers;
  root: string;
  events: PodEvent[];
}

const harnesses: Harness[] = [];

async function newHarness(options: Partial<PodWorkersOptions> = {}, runtimeSettings: { managesVolumeStorage?: boolean; appliesPodDns?: boolean } = {}): Promise<Harness> {
  const clock = new ManualClock();
  const runtime = new FakeRuntime({ clock });
  Object.assign(runtime, runtimeSettings);
  const source = new InMemoryPodSource();
  const sink = new RecordingStatusSink();
  const objects = new InMemoryObjectSource();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-setup-'));
  const events: PodEvent[] = [];
  const workers = new PodWorkers({
    nodeName: 'node-1',
    hostIP: '192.168.1.10',
    rootDirectory: root,
    runtime,
    podSource: source,
    statusSink: sink,
    secrets: objects,
    configMaps: objects,
    persistentVolumes: objects,
    clock,
    relistPeriodMs: 5000,
    memoryDirectory: path.join(root, 'shm'),
    log: () => undefined,
    recordEvent: (_pod, event) => events.push(event),
    ...options,
  });
  await workers.start();
  const harness = { clock, runtime, source, sink, objects, workers, root, events };
  harnesses.push(harness);
  return harness;
}

afterEach(async () => {
  for (const harness of harnesses.splice(0)) {
    await harness.workers.stop();
    await Promise.race([harness.workers.waitForIdle(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    fs.rmSync(harness.root, { recursive: true, force: true });
  }
});

function makePod(name: string, spec: Partial<PodSpec> & { containers: Container[] }, namespace = 'default'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, uid: `uid-${name}` }, spec: { nodeName: 'node-1', restartPolicy: 'Always', terminationGracePeriodSeconds: 30, ...spec } };
}

async function settle(harness: Harness, ms = 0): Promise<void> {
  await harness.clock.advanceBy(ms);
  await harness.workers.waitForIdle();
  await harness.clock.settle();
}

function waitingOf(status: PodStatus | undefined, name: string) {
  return status?.containerStatuses?.find((entry) => entry.name === name)?.state?.waiting;
}

async function onlyContainer(harness: Harness) {
  const [container] = await harness.runtime.listContainers();
  if (!container) throw new Error('no container was created');
  return harness.runtime.containerConfig(container.id);
}

describe('persistentVolumeClaim volumes', () => {
  const pod = () =>
    makePod('db', {
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
      containers: [{ name: 'db', image: 'busybox', command: ['x'], volumeMounts: [{ name: 'data', mountPath: '/var/lib/db' }, { name: 'data', mountPath: '/ro', readOnly: true, subPath: 'sub' }] }],
    });

  it('waits in ContainerCreating with FailedMount until the claim is bound, then mounts the volume', async () => {
    const harness = await newHarness();
    harness.source.setPod(pod());
    await settle(harness);
    const status = harness.sink.latest('uid-db');
    expect(status?.phase).toBe('Pending');
    expect(waitingOf(status, 'db')).toEqual({ reason: 'ContainerCreating', message: 'MountVolume.SetUp failed for volume "data": waiting for persistentvolumeclaim "data" to be bound: it does not exist' });
    expect(harness.events).toContainEqual({ type: 'Warning', reason: 'FailedMount', message: 'MountVolume.SetUp failed for volume "data": waiting for persistentvolumeclaim "data" to be bound: it does not exist' });
    expect(await harness.runtime.listContainers()).toEqual([]);

    harness.objects.persistentVolumeClaims.set('default/data', { metadata: { name: 'data', namespace: 'default', uid: 'c1' }, spec: {}, status: { phase: 'Pending' } });
    await settle(harness, 5000);
    expect(waitingOf(harness.sink.latest('uid-db'), 'db')?.message).toContain('its phase is Pending');

    const directory = path.join(harness.root, 'pv-1');
    harness.objects.persistentVolumeClaims.set('default/data', { metadata: { name: 'data', namespace: 'default', uid: 'c1' }, spec: { volumeName: 'pv-1' }, status: { phase: 'Bound' } });
    harness.objects.persistentVolumes.set('pv-1', { metadata: { name: 'pv-1' }, spec: { local: { path: directory }, claimRef: { namespace: 'default', name: 'data', uid: 'c1' } } });
    await settle(harness, 5000);
    const config = await onlyContainer(harness);
    expect(config.mounts).toEqual([
      { containerPath: '/var/lib/db', hostPath: directory, volumeName: 'data', readOnly: false, storage: { kind: 'persistentVolume', persistentVolumeName: 'pv-1' } },
      { containerPath: '/ro', hostPath: path.join(directory, 'sub'), volumeName: 'data', readOnly: true, storage: { kind: 'persistentVolume', persistentVolumeName: 'pv-1', subPath: 'sub' } },
    ]);
    expect(fs.statSync(path.join(directory, 'sub')).isDirectory()).toBe(true);

    // Deleting the pod leaves the data.
    fs.writeFileSync(path.join(directory, 'row'), '1');
    harness.source.deletePod('uid-db');
    await settle(harness, 5000);
    expect(harness.workers.podState('uid-db')).toBeUndefined();
    expect(fs.readFileSync(path.join(directory, 'row'), 'utf8')).toBe('1');
  });

  it('readOnly on the claim makes every mount of it read-only; storage the runtime keeps gets no directory', async () => {
    const harness = await newHarness({}, { managesVolumeStorage: true });
    const directory = path.join(harness.root, 'pv-2');
    harness.objects.persistentVolumeClaims.set('default/data', { metadata: { name: 'data', namespace: 'default' }, spec: { volumeName: 'pv-2' }, status: { phase: 'Bound' } });
    harness.objects.persistentVolumes.set('pv-2', { metadata: { name: 'pv-2' }, spec: { hostPath: { path: directory } } });
    harness.source.setPod(makePod('reader', { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data', readOnly: true } }], containers: [{ name: 'app', image: 'busybox', command: ['x'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }] }));
    await settle(harness);
    expect((await onlyContainer(harness)).mounts).toEqual([{ containerPath: '/data', hostPath: directory, volumeName: 'data', readOnly: true, storage: { kind: 'persistentVolume', persistentVolumeName: 'pv-2' } }]);
    expect(fs.existsSync(directory)).toBe(false);
  });
});

describe('emptyDir', () => {
  it('gives the sandbox the memory volumes and the containers memory mounts; API data volumes are read-only', async () => {
    const harness = await newHarness();
    harness.objects.configMaps.set('default/settings', { data: { mode: 'fast' } });
    harness.source.setPod(
      makePod('cache', {
        volumes: [
          { name: 'fast', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
          { name: 'disk', emptyDir: {} },
          { name: 'settings', configMap: { name: 'settings' } },
        ],
        containers: [{ name: 'app', image: 'busybox', command: ['x'], volumeMounts: [{ name: 'fast', mountPath: '/fast' }, { name: 'disk', mountPath: '/disk' }, { name: 'settings', mountPath: '/etc/settings' }] }],
      }),
    );
    await settle(harness);
    const [sandbox] = await harness.runtime.listPodSandboxes();
    expect(harness.runtime.sandboxConfig(sandbox?.id ?? '')?.memoryVolumes).toEqual([{ name: 'fast', sizeLimitBytes: 16 * 1024 * 1024 }]);
    const volumes = path.join(harness.root, 'pods', 'uid-cache', 'volumes');
    expect((await onlyContainer(harness)).mounts).toEqual([
      { containerPath: '/fast', hostPath: path.join(harness.root, 'shm', 'uid-cache', 'fast'), volumeName: 'fast', readOnly: false, storage: { kind: 'memory' } },
      { containerPath: '/disk', hostPath: path.join(volumes, 'disk'), volumeName: 'disk', readOnly: false, storage: { kind: 'directory' } },
      { containerPath: '/etc/settings', hostPath: path.join(volumes, 'settings'), volumeName: 'settings', readOnly: true, storage: { kind: 'directory' } },
    ]);
    harness.source.deletePod('uid-cache');
    await settle(harness, 5000);
    expect(fs.existsSync(path.join(harness.root, 'shm', 'uid-cache'))).toBe(false);
    expect(fs.existsSync(path.join(harness.root, 'pods', 'uid-cache'))).toBe(false);
  });
});

describe('config map updates', () => {
  it('reach the mounted file by the next sync, without restarting the container', async () => {
    const harness = await newHarness();
    harness.objects.configMaps.set('default/settings', { data: { 'app.conf': 'version=1' } });
    harness.source.setPod(makePod('reader', { volumes: [{ name: 'settings', configMap: { name: 'settings' } }], containers: [{ name: 'app', image: 'busybox', command: ['x'], volumeMounts: [{ name: 'settings', mountPath: '/etc/app' }] }] }));
    await settle(harness);
    const file = path.join(harness.root, 'pods', 'uid-reader', 'volumes', 'settings', 'app.conf');
    expect(fs.readFileSync(file, 'utf8')).toBe('version=1');
    harness.objects.configMaps.set('default/settings', { data: { 'app.conf': 'version=2' } });
    await settle(harness, 5000); // one relist period
    expect(fs.readFileSync(file, 'utf8')).toBe('version=2');
    expect(harness.runtime.calls.filter((call) => call.startsWith('startContainer'))).toHaveLength(1);
  });
});

describe('container config', () => {
  it('carries limits and imagePullPolicy to the runtime', async () => {
    const harness = await newHarness();
    harness.source.setPod(makePod('limited', { containers: [{ name: 'app', image: 'ml-serving:1.0', imagePullPolicy: 'Never', command: ['x'], resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } } }] }));
    await settle(harness);
    const config = await onlyContainer(harness);
    expect(config.resources).toEqual({ cpuMillis: 500, memoryBytes: 128 * 1024 * 1024 });
    expect(config.imagePullPolicy).toBe('Never');
  });

  it('leaves them out when the pod gives none', async () => {
    const harness = await newHarness();
    harness.source.setPod(makePod('plain', { containers: [{ name: 'app', image: 'busybox', command: ['x'] }] }));
    await settle(harness);
    const config = await onlyContainer(harness);
    expect(config.resources).toBeUndefined();
    expect(config.imagePullPolicy).toBeUndefined();
  });
});

describe('pod DNS', () => {
  const cases: { name: string; settings: Partial<PodWorkersOptions>; spec: Partial<PodSpec>; dns: unknown; warning?: string }[] = [
    {
      name: 'ClusterFirst: cluster servers, the namespace search list, ndots:5',
      settings: { clusterDnsServers: ['10.96.0.10'] },
      spec: {},
      dns: { servers: ['10.96.0.10'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] },
    },
    {
      name: 'ClusterFirst in another domain, with dnsConfig appended and an option overridden',
      settings: { clusterDnsServers: ['10.96.0.10'], clusterDomain: 'example.internal' },
      spec: { dnsConfig: { nameservers: ['1.1.1.1'], searches: ['corp.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } },
      dns: { servers: ['10.96.0.10', '1.1.1.1'], searches: ['shop.svc.example.internal', 'svc.example.internal', 'example.internal', 'corp.example'], options: ['ndots:2', 'edns0'] },
    },
    { name: 'Default: the node\'s resolver', settings: { clusterDnsServers: ['10.96.0.10'] }, spec: { dnsPolicy: 'Default' }, dns: undefined },
    { name: 'ClusterFirst with hostNetwork: the node\'s resolver', settings: { clusterDnsServers: ['10.96.0.10'] }, spec: { hostNetwork: true }, dns: undefined },
    {
      name: 'None: dnsConfig alone, at most 3 nameservers',
      settings: { clusterDnsServers: ['10.96.0.10'] },
      spec: { dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '8.8.8.8', '9.9.9.9', '1.0.0.1'], searches: ['a.example'] } },
      dns: { servers: ['1.1.1.1', '8.8.8.8', '9.9.9.9'], searches: ['a.example'], options: [] },
      warning: 'DNSConfigForming',
    },
    { name: 'ClusterFirst without --cluster-dns falls back to Default', settings: {}, spec: {}, dns: undefined, warning: 'MissingClusterDNS' },
  ];
  it.each(cases)('$name', async ({ settings, spec, dns, warning }) => {
    const harness = await newHarness(settings, { appliesPodDns: true });
    harness.source.setPod(makePod('web', { ...spec, containers: [{ name: 'app', image: 'busybox', command: ['x'] }] }, 'shop'));
    await settle(harness);
    const [sandbox] = await harness.runtime.listPodSandboxes();
    expect(harness.runtime.sandboxConfig(sandbox?.id ?? '')?.dns).toEqual(dns);
    expect(harness.events.filter((event) => event.type === 'Warning').map((event) => event.reason)).toEqual(warning ? [warning] : []);
  });

  const hostsCases: { name: string; spec: Partial<PodSpec>; hosts: unknown }[] = [
    { name: 'a plain pod: its hostname only', spec: {}, hosts: { hostAliases: [] } },
    {
      name: 'hostname and subdomain: the fully qualified name, and hostAliases',
      spec: { hostname: 'db-0', subdomain: 'db', hostAliases: [{ ip: '10.1.2.3', hostnames: ['a.example', 'b.example'] }] },
      hosts: { fullyQualifiedName: 'db-0.db.shop.svc.cluster.local', hostAliases: [{ ip: '10.1.2.3', hostnames: ['a.example', 'b.example'] }] },
    },
    { name: 'hostNetwork: the node\'s hosts file', spec: { hostNetwork: true }, hosts: undefined },
  ];
  it.each(hostsCases)('hosts file: $name', async ({ spec, hosts }) => {
    const harness = await newHarness({ clusterDnsServers: ['10.96.0.10'] }, { appliesPodDns: true });
    harness.source.setPod(makePod('web', { ...spec, containers: [{ name: 'app', image: 'busybox', command: ['x'] }] }, 'shop'));
    await settle(harness);
    const [sandbox] = await harness.runtime.listPodSandboxes();
    expect(harness.runtime.sandboxConfig(sandbox?.id ?? '')?.hosts).toEqual(hosts);
  });

  it('records what the runtime could not apply as a Warning event once, not on every sync', async () => {
    const harness = await newHarness({ clusterDnsServers: ['127.0.1.1'] }, { appliesPodDns: true });
    harness.runtime.sandboxWarnings = [{ reason: 'DNSConfigForming', message: 'the process runtime could not give this pod its own /etc/resolv.conf (not root)' }];
    harness.source.setPod(makePod('web', { containers: [{ name: 'app', image: 'busybox', command: ['x'] }] }));
    await settle(harness);
    for (let i = 0; i < 3; i++) await settle(harness, 5000); // relists
    const warnings = harness.events.filter((event) => event.type === 'Warning');
    expect(warnings.map((event) => [event.reason, event.message])).toEqual([['DNSConfigForming', 'the process runtime could not give this pod its own /etc/resolv.conf (not root)']]);
    expect(harness.runtime.calls.filter((call) => call.startsWith('runPodSandbox'))).toHaveLength(1);
  });

  it('is not computed for a runtime that cannot apply it (no warning either)', async () => {
    const harness = await newHarness({}, { appliesPodDns: false });
    harness.source.setPod(makePod('web', { containers: [{ name: 'app', image: 'busybox', command: ['x'] }] }));
    await settle(harness);
    const [sandbox] = await harness.runtime.listPodSandboxes();
    expect(harness.runtime.sandboxConfig(sandbox?.id ?? '')?.dns).toBeUndefined();
    expect(harness.events.filter((event) => event.reason === 'MissingClusterDNS')).toEqual([]);
  });
});
