// Against the real Docker daemon: skipped (with the reason printed) when no
// daemon answers or the images `npm run images` builds are missing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { ContainerNotFoundError } from '../errors';
import { CONTAINER_NAME_LABEL, NODE_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from '../labels';
import type { ContainerConfig, ContainerRuntime, RuntimeEvent } from '../runtime';
import { DEFAULT_PAUSE_IMAGE, DockerRuntime } from './docker-runtime';

const BASE_IMAGE = 'node:20-bookworm-slim';
const docker = new Docker({ socketPath: process.env.DOCKER_SOCKET ?? '/var/run/docker.sock' });

async function unavailableReason(): Promise<string | undefined> {
  try {
    await docker.ping();
  } catch {
    return 'no Docker daemon at /var/run/docker.sock';
  }
  for (const image of [BASE_IMAGE, DEFAULT_PAUSE_IMAGE]) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      return `image ${image} is missing (npm run images)`;
    }
  }
  return undefined;
}

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let collected = '';
  for await (const chunk of stream) collected += (chunk as Buffer).toString();
  return collected;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

let skipReason: string | undefined = 'not checked yet';
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const networkName = `kube-lite-runtime-test-${suffix}`;
const volumeDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lite-docker-'));
let runtime: DockerRuntime;
let stranger: ContainerRuntime;

beforeAll(async () => {
  skipReason = await unavailableReason();
  if (skipReason) {
    console.warn(`skipping the Docker runtime integration tests: ${skipReason}`);
    return;
  }
  await docker.createNetwork({ Name: networkName, Labels: { 'kube-lite.io/test': 'docker-runtime' } });
  runtime = await DockerRuntime.connect({ nodeName: 'node-a', podNetwork: networkName, eventsReconnectMs: 100 });
  stranger = await DockerRuntime.connect({ nodeName: 'node-b', podNetwork: networkName });
}, 30_000);

afterAll(async () => {
  if (!skipReason) {
    for (const sandbox of await runtime.listPodSandboxes()) await runtime.removePodSandbox(sandbox.id);
    await runtime.close();
    await stranger.close();
    await docker.getNetwork(networkName).remove().catch(() => undefined);
  }
  fs.rmSync(volumeDirectory, { recursive: true, force: true });
}, 30_000);

function podLabels(uid: string): Record<string, string> {
  return { [POD_UID_LABEL]: uid, [POD_NAME_LABEL]: `pod-${uid}`, [POD_NAMESPACE_LABEL]: 'default', [NODE_NAME_LABEL]: 'node-a' };
}

function containerConfig(uid: string, name: string, overrides: Partial<ContainerConfig> = {}): ContainerConfig {
  return { name, attempt: 0, image: BASE_IMAGE, command: [], args: [], env: [], mounts: [], labels: { ...podLabels(uid), [CONTAINER_NAME_LABEL]: name }, logPath: `${name}/0.log`, ...overrides };
}

test('a pod: sandbox IP, shared volume, logs, exec, stats, events, stop and removal', async () => {
  if (skipReason) return;
  const events: RuntimeEvent[] = [];
  const unsubscribe = runtime.subscribe((event) => events.push(event));
  fs.writeFileSync(path.join(volumeDirectory, 'greeting'), 'from the volume');
  const sandboxId = await runtime.runPodSandbox({ name: 'pod-u1', namespace: 'default', uid: 'u1', attempt: 0, hostname: 'pod-u1', labels: podLabels('u1'), logDirectory: '/tmp/logs' });
  const [sandbox] = await runtime.listPodSandboxes({ id: sandboxId });
  expect(sandbox).toMatchObject({ state: 'ready', uid: 'u1', name: 'pod-u1' });
  expect(sandbox?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

  const id = await runtime.createContainer(
    sandboxId,
    containerConfig('u1', 'app', {
      command: ['sh', '-c'],
      args: ['echo "hello $GREETING"; cat /data/greeting; echo; sleep 0.5; echo oops >&2; exec sleep 60'],
      env: [{ name: 'GREETING', value: 'world' }],
      mounts: [{ containerPath: '/data', hostPath: volumeDirectory, volumeName: 'data', readOnly: true }],
    }),
  );
  expect((await runtime.containerStatus(id)).state).toBe('created');
  await runtime.startContainer(id);
  await eventually('the container start event', async () => (events.some((event) => event.type === 'ContainerStarted' && event.containerId === id) ? true : undefined));
  const logs = await eventually('three log lines', async () => {
    const output = await text(await runtime.containerLogs(id, {}));
    return output.split('\n').length >= 4 ? output : undefined;
  });
  expect(logs).toBe('hello world\nfrom the volume\noops\n');
  expect(await text(await runtime.containerLogs(id, { tailLines: 1 }))).toBe('oops\n');
  expect(await text(await runtime.containerLogs(id, { timestamps: true, tailLines: 1 }))).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z oops\n$/);
  expect(await text(await runtime.containerLogs(id, { limitBytes: 5 }))).toBe('hello');

  // The pod's containers share the sandbox's network namespace and hostname.
  const session = await runtime.exec(id, { command: ['sh', '-c', 'hostname; read line; echo "got $line"; exit 4'], stdin: true, tty: false });
  session.stdin?.end('ping\n');
  const [execOutput, exit] = await Promise.all([text(session.stdout), session.exited]);
  expect(execOutput).toBe('pod-u1\ngot ping\n');
  expect(exit.exitCode).toBe(4);

  const stats = await runtime.containerStats(id);
  expect(stats.memoryWorkingSetBytes).toBeGreaterThan(0);
  expect(stats.cpuUsageCoreNanoSeconds).toBeGreaterThan(0);

  // Another node sharing the daemon sees none of it.
  expect(await stranger.listPodSandboxes()).toEqual([]);
  expect(await stranger.listContainers()).toEqual([]);
  await expect(stranger.containerStatus(id)).rejects.toBeInstanceOf(ContainerNotFoundError);

  await runtime.stopContainer(id, 1);
  const stopped = await runtime.containerStatus(id);
  expect(stopped).toMatchObject({ state: 'exited', reason: 'Error' });
  expect([137, 143]).toContain(stopped.exitCode);
  await eventually('the exit event', async () => (events.some((event) => event.type === 'ContainerExited' && event.containerId === id) ? true : undefined));
  unsubscribe();

  await runtime.stopPodSandbox(sandboxId);
  expect((await runtime.listPodSandboxes({ id: sandboxId }))[0]?.state).toBe('notready');
  await runtime.removePodSandbox(sandboxId);
  expect(await runtime.listPodSandboxes({ id: sandboxId })).toEqual([]);
  expect(await runtime.listContainers({ sandboxId })).toEqual([]);
  await runtime.removePodSandbox(sandboxId);
}, 60_000);

test('with a service route, a new sandbox routes the range via the node, and its containers cannot change routes', async () => {
  if (skipReason) return;
  const network = await docker.getNetwork(networkName).inspect();
  const gateway = (network as { IPAM?: { Config?: { Gateway?: string }[] } }).IPAM?.Config?.[0]?.Gateway;
  expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  const routed = await DockerRuntime.connect({ nodeName: 'node-routed', podNetwork: networkName, serviceRoute: { cidr: '10.250.0.0/16', via: gateway as string } });
  const labels = { ...podLabels('u-route'), [NODE_NAME_LABEL]: 'node-routed' };
  const sandboxId = await routed.runPodSandbox({ name: 'pod-u-route', namespace: 'default', uid: 'u-route', attempt: 0, hostname: 'pod-u-route', labels, logDirectory: '/tmp/logs' });
  try {
    const id = await routed.createContainer(sandboxId, { ...containerConfig('u-route', 'app', { command: ['sleep', '60'] }), labels: { ...labels, [CONTAINER_NAME_LABEL]: 'app' } });
    await routed.startContainer(id);
    const run = async (script: string) => {
      const session = await routed.exec(id, { command: ['sh', '-c', script], stdin: false, tty: false });
      const [output, , exit] = await Promise.all([text(session.stdout), text(session.stderr), session.exited]);
      return { output, exitCode: exit.exitCode };
    };
    expect((await run('ip route')).output).toContain(`10.250.0.0/16 via ${gateway}`);
    // The capability was the runtime's exec's: the pod's own root has none.
    expect((await run(`ip route add 10.251.0.0/16 via ${gateway}`)).exitCode).not.toBe(0);
  } finally {
    await routed.removePodSandbox(sandboxId);
    await routed.close();
  }
}, 60_000);

test.each([
  { name: 'a missing executable is a start error', overrides: { command: ['/no/such/program'] }, expected: { state: 'exited', reason: 'StartError' } },
  { name: 'a zero exit is Completed', overrides: { command: ['true'] }, expected: { state: 'exited', reason: 'Completed', exitCode: 0 } },
  { name: 'a non-zero exit is Error', overrides: { command: ['sh', '-c', 'exit 3'] }, expected: { state: 'exited', reason: 'Error', exitCode: 3 } },
])('$name', async ({ overrides, expected }) => {
  if (skipReason) return;
  const uid = `u-${expected.reason}`;
  const sandboxId = await runtime.runPodSandbox({ name: `pod-${uid}`, namespace: 'default', uid, attempt: 0, hostname: 'p', labels: podLabels(uid), logDirectory: '/tmp/logs' });
  const id = await runtime.createContainer(sandboxId, containerConfig(uid, 'job', overrides));
  await runtime.startContainer(id);
  const status = await eventually('the container to end', async () => {
    const current = await runtime.containerStatus(id);
    return current.state === 'exited' ? current : undefined;
  });
  expect(status).toMatchObject(expected);
  expect((await runtime.listContainers({ sandboxId, state: 'exited' })).map((container) => container.id)).toEqual([id]);
  await runtime.removePodSandbox(sandboxId);
}, 30_000);

test('imagePullPolicy Never with an absent image is ErrImageNeverPull, before anything is created', async () => {
  if (skipReason) return;
  const sandboxId = await runtime.runPodSandbox({ name: 'pod-never', namespace: 'default', uid: 'u-never', attempt: 0, hostname: 'p', labels: podLabels('u-never'), logDirectory: '/tmp/logs' });
  const config = containerConfig('u-never', 'app', { image: `kube-lite-absent-${suffix}:1`, imagePullPolicy: 'Never' });
  await expect(runtime.createContainer(sandboxId, config)).rejects.toMatchObject({ reason: 'ErrImageNeverPull' });
  expect(await runtime.listContainers({ sandboxId })).toEqual([]);
  await runtime.removePodSandbox(sandboxId);
}, 30_000);
