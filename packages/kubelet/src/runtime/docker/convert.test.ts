import type Docker from 'dockerode';
import { CONTAINER_NAME_LABEL, NODE_NAME_LABEL, POD_UID_LABEL } from '../labels';
import type { ContainerConfig, Mount, PodSandbox, PodSandboxConfig } from '../runtime';
import {
  CLUSTER_NETWORK_LABEL,
  DOCKER_TYPE_LABEL,
  SANDBOX_ID_LABEL,
  containerCreateOptions,
  containerStatusFromInspect,
  defaultPullPolicy,
  dockerMount,
  memoryVolumeCreateOptions,
  parseDockerTime,
  persistentVolumeCreateOptions,
  sandboxCreateOptions,
  sandboxFromSummary,
  splitLabels,
  usageFromStats,
  type CreateContext,
} from './convert';

const context: CreateContext = {
  nodeName: 'worker-1',
  podNetwork: 'kube-lite_default',
  pauseImage: 'kube-lite/pause:1.0',
  hostPathOf: (kubeletPath) => kubeletPath.replace('/var/lib/kubelet', '/var/lib/docker/volumes/w1/_data'),
  logMaxSizeBytes: 1024,
};

const sandbox: PodSandbox = {
  id: 'sandbox1',
  name: 'web-0',
  namespace: 'shop',
  uid: 'uid-1',
  attempt: 0,
  state: 'ready',
  createdAtMs: 0,
  ip: '172.18.0.5',
  labels: {},
  annotations: {},
  logDirectory: '/var/lib/kubelet/logs/shop_web-0_uid-1',
};

function config(overrides: Partial<ContainerConfig> = {}): ContainerConfig {
  return { name: 'app', attempt: 2, image: 'ml-serving:1.0', command: [], args: [], env: [{ name: 'A', value: '1' }], mounts: [], labels: { [POD_UID_LABEL]: 'uid-1' }, logPath: 'app/2.log', ...overrides };
}

describe('defaultPullPolicy (upstream: Always for latest or no tag)', () => {
  test.each([
    ['busybox', 'Always'],
    ['busybox:latest', 'Always'],
    ['busybox:1.36', 'IfNotPresent'],
    ['registry:5000/team/app', 'Always'],
    ['registry:5000/team/app:2.0', 'IfNotPresent'],
    ['app@sha256:abcd', 'IfNotPresent'],
  ])('%s -> %s', (image, policy) => {
    expect(defaultPullPolicy(image)).toBe(policy);
  });
});

describe('containerCreateOptions: Kubernetes command/args over ENTRYPOINT/CMD', () => {
  test.each([
    { name: 'neither: image defaults', command: [], args: [], entrypoint: undefined, cmd: undefined },
    { name: 'args only replace CMD', command: [], args: ['--port', '81'], entrypoint: undefined, cmd: ['--port', '81'] },
    { name: 'command replaces ENTRYPOINT and drops CMD', command: ['sh', '-c'], args: [], entrypoint: ['sh', '-c'], cmd: [] },
    { name: 'command and args', command: ['sh', '-c'], args: ['echo hi'], entrypoint: ['sh', '-c'], cmd: ['echo hi'] },
  ])('$name', ({ command, args, entrypoint, cmd }) => {
    const options = containerCreateOptions(sandbox, config({ command, args }), context);
    expect(options.Entrypoint).toEqual(entrypoint);
    expect(options.Cmd).toEqual(cmd);
  });

  test('joins the sandbox namespaces, maps mounts to the daemon paths and stamps ownership labels', () => {
    const options = containerCreateOptions(
      sandbox,
      config({ mounts: [{ containerPath: '/etc/config', hostPath: '/var/lib/kubelet/pods/uid-1/volumes/config', volumeName: 'config', readOnly: true }] }),
      context,
    );
    expect(options.name).toBe('k8s_app_web-0_shop_uid-1_2');
    expect(options.HostConfig?.NetworkMode).toBe('container:sandbox1');
    expect(options.HostConfig?.IpcMode).toBe('container:sandbox1');
    expect(options.HostConfig?.Mounts).toEqual([{ Type: 'bind', Source: '/var/lib/docker/volumes/w1/_data/pods/uid-1/volumes/config', Target: '/etc/config', ReadOnly: true }]);
    expect(options.Env).toEqual(['A=1']);
    expect(options.Labels).toMatchObject({
      [NODE_NAME_LABEL]: 'worker-1',
      [CLUSTER_NETWORK_LABEL]: 'kube-lite_default',
      [DOCKER_TYPE_LABEL]: 'container',
      [SANDBOX_ID_LABEL]: 'sandbox1',
      [CONTAINER_NAME_LABEL]: 'app',
    });
    expect(options.HostConfig?.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '1024', 'max-file': '2' } });
  });

  test.each([
    { resources: undefined, nanoCpus: undefined, memory: undefined },
    { resources: { cpuMillis: 500 }, nanoCpus: 500_000_000, memory: undefined },
    { resources: { cpuMillis: 2000, memoryBytes: 128 * 1024 * 1024 }, nanoCpus: 2_000_000_000, memory: 134_217_728 },
    { resources: { cpuMillis: 0, memoryBytes: 0 }, nanoCpus: undefined, memory: undefined },
  ])('limits $resources -> NanoCpus $nanoCpus, Memory $memory', ({ resources, nanoCpus, memory }) => {
    const options = containerCreateOptions(sandbox, config(resources ? { resources } : {}), context);
    expect(options.HostConfig?.NanoCpus).toBe(nanoCpus);
    expect(options.HostConfig?.Memory).toBe(memory);
  });
});

describe('sandboxCreateOptions', () => {
  const sandboxConfig: PodSandboxConfig = { name: 'web-0', namespace: 'shop', uid: 'uid-1', attempt: 1, hostname: 'web-0', labels: { team: 'a' }, annotations: { note: 'x' }, logDirectory: '/logs' };

  test('pause image on the pod network, shareable IPC, the pod\'s DNS, annotations as prefixed labels', () => {
    const options = sandboxCreateOptions({ ...sandboxConfig, dns: { servers: ['10.96.0.10'], searches: ['shop.svc.cluster.local'], options: ['ndots:5'] } }, context);
    expect(options).toMatchObject({ name: 'k8s_POD_web-0_shop_uid-1_1', Image: 'kube-lite/pause:1.0', Hostname: 'web-0' });
    expect(options.HostConfig).toMatchObject({ NetworkMode: 'kube-lite_default', IpcMode: 'shareable', Init: true, Dns: ['10.96.0.10'], DnsSearch: ['shop.svc.cluster.local'], DnsOptions: ['ndots:5'] });
    expect(options.Labels).toMatchObject({ team: 'a', 'annotation.note': 'x', [DOCKER_TYPE_LABEL]: 'podsandbox', [NODE_NAME_LABEL]: 'worker-1' });
  });

  test('without dns the daemon\'s default resolver, without memory volumes no mounts', () => {
    const options = sandboxCreateOptions(sandboxConfig, context);
    expect(options.HostConfig?.Dns).toBeUndefined();
    expect(options.HostConfig?.DnsSearch).toBeUndefined();
    expect(options.HostConfig?.Mounts).toBeUndefined();
  });

  test('the sandbox holds the pod\'s memory volumes, so they outlive container restarts', () => {
    const options = sandboxCreateOptions({ ...sandboxConfig, memoryVolumes: [{ name: 'cache', sizeLimitBytes: 1 << 20 }] }, context);
    expect(options.HostConfig?.Mounts).toEqual([{ Type: 'volume', Source: 'kube-lite-mem-uid-1-cache', Target: '/.kube-lite/memory/cache', VolumeOptions: { NoCopy: true } }]);
  });

  test.each([
    ['with a service route, NET_ADMIN for the runtime\'s route exec', { cidr: '10.96.0.0/12', via: '172.18.0.5' }, ['NET_ADMIN']],
    ['without one, no added capability', undefined, undefined],
  ])('%s', (_name, serviceRoute, capabilities) => {
    const options = sandboxCreateOptions(sandboxConfig, { ...context, ...(serviceRoute ? { serviceRoute } : {}) });
    expect(options.HostConfig?.CapAdd).toEqual(capabilities);
    expect(options.User).toBeUndefined();
  });

  test('a host name longer than 63 bytes is cut', () => {
    expect(sandboxCreateOptions({ ...sandboxConfig, hostname: 'a'.repeat(70) }, context).Hostname).toBe('a'.repeat(63));
  });
});

test('splitLabels returns annotations apart and hides internal keys', () => {
  expect(splitLabels({ team: 'a', 'annotation.note': 'x', [DOCKER_TYPE_LABEL]: 'container', [CLUSTER_NETWORK_LABEL]: 'n' })).toEqual({ labels: { team: 'a' }, annotations: { note: 'x' } });
});

describe('sandboxFromSummary', () => {
  const summary = (state: string, networks: Record<string, { IPAddress: string }>): Docker.ContainerInfo =>
    ({ Id: 'sb', State: state, Created: 1700000000, Labels: { [POD_UID_LABEL]: 'u', 'io.kubernetes.pod.name': 'p', 'io.kubernetes.pod.namespace': 'ns', 'kube-lite.io/attempt': '3', 'kube-lite.io/log-directory': '/l' }, NetworkSettings: { Networks: networks } }) as unknown as Docker.ContainerInfo;

  test.each<{ state: string; networks: Record<string, { IPAddress: string }>; expected: { state: string; ip: string } }>([
    { state: 'running', networks: { kube_default: { IPAddress: '172.18.0.9' } }, expected: { state: 'ready', ip: '172.18.0.9' } },
    { state: 'exited', networks: {}, expected: { state: 'notready', ip: '' } },
    { state: 'running', networks: { other: { IPAddress: '10.0.0.2' } }, expected: { state: 'ready', ip: '10.0.0.2' } },
  ])('$state on $networks', ({ state, networks, expected }) => {
    const sandboxRead = sandboxFromSummary(summary(state, networks), 'kube_default');
    expect(sandboxRead).toMatchObject({ ...expected, id: 'sb', name: 'p', namespace: 'ns', uid: 'u', attempt: 3, createdAtMs: 1700000000000, logDirectory: '/l' });
  });
});

describe('containerStatusFromInspect', () => {
  const inspect = (state: Partial<Docker.ContainerInspectInfo['State']>): Docker.ContainerInspectInfo =>
    ({
      Id: 'c1',
      Name: '/k8s_app',
      Created: '2024-01-02T03:04:05.123456789Z',
      Image: 'sha256:abc',
      LogPath: '/docker/c1.log',
      Config: { Image: 'ml-serving:1.0', Labels: { [CONTAINER_NAME_LABEL]: 'app', [SANDBOX_ID_LABEL]: 'sb', 'kube-lite.io/attempt': '4', 'kube-lite.io/image': 'ml-serving:1.0' } },
      State: { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 1, ExitCode: 0, Error: '', StartedAt: '2024-01-02T03:04:06Z', FinishedAt: '0001-01-01T00:00:00Z', ...state },
    }) as unknown as Docker.ContainerInspectInfo;

  test.each([
    { name: 'running', state: {}, expected: { state: 'running', exitCode: undefined, reason: undefined } },
    { name: 'created, never started', state: { Status: 'created', StartedAt: '0001-01-01T00:00:00Z' }, expected: { state: 'created', exitCode: undefined, reason: undefined } },
    { name: 'completed', state: { Status: 'exited', ExitCode: 0, FinishedAt: '2024-01-02T03:05:00Z' }, expected: { state: 'exited', exitCode: 0, reason: 'Completed' } },
    { name: 'failed', state: { Status: 'exited', ExitCode: 3, FinishedAt: '2024-01-02T03:05:00Z' }, expected: { state: 'exited', exitCode: 3, reason: 'Error' } },
    { name: 'OOM-killed', state: { Status: 'exited', ExitCode: 137, OOMKilled: true, FinishedAt: '2024-01-02T03:05:00Z' }, expected: { state: 'exited', exitCode: 137, reason: 'OOMKilled' } },
    {
      name: 'start failed',
      state: { Status: 'created', ExitCode: 127, Error: 'exec: "nope": executable file not found in $PATH', StartedAt: '0001-01-01T00:00:00Z' },
      expected: { state: 'exited', exitCode: 127, reason: 'StartError', message: 'exec: "nope": executable file not found in $PATH' },
    },
  ])('$name', ({ state, expected }) => {
    const status = containerStatusFromInspect(inspect(state));
    expect(status).toMatchObject({ id: 'c1', sandboxId: 'sb', name: 'app', attempt: 4, image: 'ml-serving:1.0', imageRef: 'docker://sha256:abc', createdAtMs: Date.parse('2024-01-02T03:04:05.123Z') });
    expect({ state: status.state, exitCode: status.exitCode, reason: status.reason, ...(expected.message ? { message: status.message } : {}) }).toEqual(expected);
    if (status.state === 'exited') expect(status.finishedAtMs).toBeGreaterThan(0);
  });
});

test.each([
  ['0001-01-01T00:00:00Z', undefined],
  ['', undefined],
  ['garbage', undefined],
  ['2024-01-02T03:04:05.5Z', Date.parse('2024-01-02T03:04:05.500Z')],
])('parseDockerTime(%j)', (text, expected) => {
  expect(parseDockerTime(text)).toBe(expected);
});

test.each([
  { name: 'cgroup v1', detail: { total_inactive_file: 100 }, usage: 1000, expected: 900 },
  { name: 'cgroup v2', detail: { inactive_file: 300 }, usage: 1000, expected: 700 },
  { name: 'no detail', detail: {}, usage: 1000, expected: 1000 },
])('usageFromStats working set ($name)', ({ detail, usage, expected }) => {
  const stats = { cpu_stats: { cpu_usage: { total_usage: 42 } }, memory_stats: { usage, stats: detail } } as unknown as Docker.ContainerStats;
  expect(usageFromStats(stats)).toEqual({ cpuNanoSeconds: 42, workingSetBytes: expected });
});

describe('volumes', () => {
  test.each<{ name: string; mount: Mount; expected: unknown }>([
    {
      name: 'a host directory is a bind mount of the daemon path',
      mount: { containerPath: '/cache', hostPath: '/var/lib/kubelet/pods/uid-1/volumes/cache', volumeName: 'cache', readOnly: false },
      expected: { Type: 'bind', Source: '/var/lib/docker/volumes/w1/_data/pods/uid-1/volumes/cache', Target: '/cache', ReadOnly: false },
    },
    {
      name: 'a persistent volume is its named volume, never seeded from the image',
      mount: { containerPath: '/data', hostPath: '/mnt/pv-1', volumeName: 'data', readOnly: true, storage: { kind: 'persistentVolume', persistentVolumeName: 'pv-1' } },
      expected: { Type: 'volume', Source: 'kube-lite-pv-pv-1', Target: '/data', ReadOnly: true, VolumeOptions: { NoCopy: true } },
    },
    {
      name: 'a persistent volume with a subPath',
      mount: { containerPath: '/data', hostPath: '/mnt/pv-1/db', volumeName: 'data', readOnly: false, storage: { kind: 'persistentVolume', persistentVolumeName: 'pv-1', subPath: 'db' } },
      expected: { Type: 'volume', Source: 'kube-lite-pv-pv-1', Target: '/data', ReadOnly: false, VolumeOptions: { NoCopy: true, Subpath: 'db' } },
    },
    {
      name: 'a memory emptyDir is the pod\'s tmpfs volume',
      mount: { containerPath: '/tmp/cache', hostPath: '/dev/shm/kube-lite/uid-1/scratch', volumeName: 'scratch', readOnly: false, storage: { kind: 'memory' } },
      expected: { Type: 'volume', Source: 'kube-lite-mem-uid-1-scratch', Target: '/tmp/cache', ReadOnly: false, VolumeOptions: { NoCopy: true } },
    },
  ])('$name', ({ mount, expected }) => {
    expect(dockerMount(mount, sandbox, context)).toEqual(expected);
  });

  test.each([
    { sizeLimitBytes: 64 * 1024 * 1024, options: { type: 'tmpfs', device: 'tmpfs', o: 'size=67108864' } },
    { sizeLimitBytes: undefined, options: { type: 'tmpfs', device: 'tmpfs' } },
  ])('a memory volume of $sizeLimitBytes bytes is a tmpfs of that size', ({ sizeLimitBytes, options }) => {
    const created = memoryVolumeCreateOptions('uid-1', { name: 'scratch', ...(sizeLimitBytes === undefined ? {} : { sizeLimitBytes }) }, context);
    expect(created).toMatchObject({ Name: 'kube-lite-mem-uid-1-scratch', Driver: 'local', DriverOpts: options, Labels: { [POD_UID_LABEL]: 'uid-1', [NODE_NAME_LABEL]: 'worker-1' } });
  });

  test('a persistent volume\'s named volume is labelled with the PV it holds', () => {
    expect(persistentVolumeCreateOptions('pv-1', context)).toEqual({ Name: 'kube-lite-pv-pv-1', Driver: 'local', Labels: { 'kube-lite.io/volume-kind': 'persistent', 'kube-lite.io/persistent-volume': 'pv-1', [CLUSTER_NETWORK_LABEL]: context.podNetwork } });
  });
});
