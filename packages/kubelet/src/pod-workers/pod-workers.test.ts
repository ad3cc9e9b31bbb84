import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Container, ContainerStatus as ApiContainerStatus, Pod, PodSpec, PodStatus } from '@kube-lite/api';
import { ManualClock } from '../clock';
import { FakeRuntime } from '../runtime/fake/fake-runtime';
import { ImageNotKnownError } from '../runtime/errors';
import { InMemoryObjectSource, InMemoryPodSource, RecordingStatusSink } from '../sources';
import { PodWorkers } from './pod-workers';

jest.setTimeout(20_000);

interface Harness {
  clock: ManualClock;
  runtime: FakeRuntime;
  source: InMemoryPodSource;
  sink: RecordingStatusSink;
  objects: InMemoryObjectSource;
  workers: PodWorkers;
  root: string;
  /** Container start times relative to the harness start, by container name. */
  starts: Map<string, number[]>;
}

const harnesses: Harness[] = [];

async function newHarness(reuse?: { runtime: FakeRuntime; clock: ManualClock; source: InMemoryPodSource; root: string }): Promise<Harness> {
  const clock = reuse?.clock ?? new ManualClock();
  const runtime = reuse?.runtime ?? new FakeRuntime({ clock });
  const source = reuse?.source ?? new InMemoryPodSource();
  const sink = new RecordingStatusSink();
  const objects = new InMemoryObjectSource();
  const root = reuse?.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-workers-'));
  const workers = new PodWorkers({ nodeName: 'node-1', hostIP: '192.168.1.10', rootDirectory: root, runtime, podSource: source, statusSink: sink, secrets: objects, configMaps: objects, clock, relistPeriodMs: 5000, log: () => undefined });
  const startMs = clock.nowMs();
  const starts = new Map<string, number[]>();
  runtime.subscribe((event) => {
    if (event.type !== 'ContainerStarted') return;
    const name = event.labels['io.kubernetes.container.name'] ?? '';
    starts.set(name, [...(starts.get(name) ?? []), (clock.nowMs() - startMs) / 1000]);
  });
  await workers.start();
  const harness = { clock, runtime, source, sink, objects, workers, root, starts };
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

function makePod(name: string, spec: Partial<PodSpec> & { containers: Container[] }, extra: Partial<Pod['metadata']> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}`, ...extra }, spec: { nodeName: 'node-1', restartPolicy: 'Always', terminationGracePeriodSeconds: 30, ...spec } };
}

async function settle(harness: Harness, ms = 0): Promise<void> {
  await harness.clock.advanceBy(ms);
  await harness.workers.waitForIdle();
  await harness.clock.settle();
}

function containerStatus(status: PodStatus | undefined, name: string): ApiContainerStatus | undefined {
  return [...(status?.containerStatuses ?? []), ...(status?.initContainerStatuses ?? [])].find((entry) => entry.name === name);
}

function condition(status: PodStatus | undefined, type: string) {
  return status?.conditions?.find((entry) => entry.type === type);
}

describe('restart back-off', () => {
  it('restarts a crashing container at once, then after 10 s, 20 s, 40 s ... capped at 5 min', async () => {
    const harness = await newHarness();
    harness.runtime.scriptContainer('app', { exitCodeOnStart: 1 });
    harness.source.setPod(makePod('crash', { containers: [{ name: 'app', image: 'busybox', command: ['false'] }] }));
    await settle(harness);
    for (let step = 0; step < 100; step++) await settle(harness, 10_000); // 1000 s in 10 s steps
    expect(harness.starts.get('app')).toEqual([0, 0, 10, 30, 70, 150, 310, 610, 910]);
  });

  it('reports CrashLoopBackOff with the last termination while waiting, and a Running phase', async () => {
    const harness = await newHarness();
    harness.runtime.scriptContainer('app', { exitCodeOnStart: 2 });
    harness.source.setPod(makePod('crash', { containers: [{ name: 'app', image: 'busybox', command: ['false'] }] }));
    await settle(harness);
    const status = harness.sink.latest('uid-crash');
    expect(status?.phase).toBe('Running');
    expect(containerStatus(status, 'app')).toMatchObject({
      restartCount: 1,
      ready: false,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=crash_default(uid-crash)' } },
      lastState: { terminated: { exitCode: 2, reason: 'Error' } },
    });
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
  });

  it('starts over at 10 s after a container ran for more than 10 minutes', async () => {
    const harness = await newHarness();
    harness.runtime.scriptContainer('app', (attempt) => (attempt === 3 ? {} : { exitCodeOnStart: 1 }));
    harness.source.setPod(makePod('flaky', { containers: [{ name: 'app', image: 'busybox', command: ['x'] }] }));
    await settle(harness);
    for (let step = 0; step < 4; step++) await settle(harness, 10_000);
    expect(harness.starts.get('app')).toEqual([0, 0, 10, 30]);
    await settle(harness, 11 * 60_000); // attempt 3 runs for 11 minutes
    const [running] = await harness.runtime.listContainers({ state: 'running' });
    harness.runtime.exitContainer(running?.id ?? '', 1);
    await settle(harness);
    const restartedAt = harness.starts.get('app')?.[4];
    expect(restartedAt).toBe(40 + 11 * 60); // immediately: the delay was reset
  });
});

describe('restart policies', () => {
  const cases: { policy: 'Always' | 'OnFailure' | 'Never'; exitCode: number; phase: string; restarts: boolean }[] = [
    { policy: 'Never', exitCode: 0, phase: 'Succeeded', restarts: false },
    { policy: 'Never', exitCode: 3, phase: 'Failed', restarts: false },
    { policy: 'OnFailure', exitCode: 0, phase: 'Succeeded', restarts: false },
    { policy: 'OnFailure', exitCode: 3, phase: 'Running', restarts: true },
    { policy: 'Always', exitCode: 0, phase: 'Running', restarts: true },
  ];
  it.each(cases)('restartPolicy $policy, exit $exitCode: phase $phase, restarts $restarts', async ({ policy, exitCode, phase, restarts }) => {
    const harness = await newHarness();
    harness.runtime.scriptContainer('job', { exitCodeOnStart: exitCode });
    harness.source.setPod(makePod('job', { restartPolicy: policy, containers: [{ name: 'job', image: 'busybox', command: ['x'] }] }));
    await settle(harness);
    await settle(harness, 60_000);
    const status = harness.sink.latest('uid-job');
    expect(status?.phase).toBe(phase);
    expect((harness.starts.get('job')?.length ?? 0) > 1).toBe(restarts);
    if (!restarts) {
      expect(containerStatus(status, 'job')?.state?.terminated).toMatchObject({ exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' });
      expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    }
  });
});

describe('init containers', () => {
  it('runs init containers one by one, each to a zero exit, before the app containers', async () => {
    const harness = await newHarness();
    harness.source.setPod(makePod('init', { initContainers: [{ name: 'first', image: 'busybox', command: ['a'] }, { name: 'second', image: 'busybox', command: ['b'] }], containers: [{ name: 'app', image: 'busybox', command: ['c'] }] }));
    await settle(harness);
    // Nothing exits on its own: the first init container runs, the rest waits.
    expect(harness.runtime.calls.filter((call) => call.startsWith('startContainer'))).toEqual(['startContainer default/init/first#0']);
    let status = harness.sink.latest('uid-init');
    expect(status?.phase).toBe('Pending');
    expect(containerStatus(status, 'app')?.state?.waiting?.reason).toBe('PodInitializing');
    expect(condition(status, 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [first second]' });

    const first = (await harness.runtime.listContainers({ labels: { 'io.kubernetes.container.name': 'first' } }))[0];
    harness.runtime.exitContainer(first?.id ?? '', 0);
    await settle(harness);
    const second = (await harness.runtime.listContainers({ labels: { 'io.kubernetes.container.name': 'second' } }))[0];
    harness.runtime.exitContainer(second?.id ?? '', 0);
    await settle(harness);
    expect(harness.runtime.calls.filter((call) => call.startsWith('startContainer'))).toEqual(['startContainer default/init/first#0', 'startContainer default/init/second#0', 'startContainer default/init/app#0']);
    status = harness.sink.latest('uid-init');
    expect(status?.phase).toBe('Running');
    expect(condition(status, 'Initialized')?.status).toBe('True');
    expect(containerStatus(status, 'first')).toMatchObject({ ready: true, state: { terminated: { exitCode: 0, reason: 'Completed' } } });
  });

  it('fails the pod when an init container fails under restartPolicy Never, and retries it with back-off otherwise', async () => {
    const never = await newHarness();
    never.runtime.scriptContainer('setup', { exitCodeOnStart: 1 });
    never.source.setPod(makePod('init-never', { restartPolicy: 'Never', initContainers: [{ name: 'setup', image: 'busybox', command: ['x'] }], containers: [{ name: 'app', image: 'busybox', command: ['y'] }] }));
    await settle(never, 30_000);
    expect(never.sink.latest('uid-init-never')?.phase).toBe('Failed');
    expect(never.starts.get('app')).toBeUndefined();

    const always = await newHarness();
    always.runtime.scriptContainer('setup', { exitCodeOnStart: 1 });
    always.source.setPod(makePod('init-always', { initContainers: [{ name: 'setup', image: 'busybox', command: ['x'] }], containers: [{ name: 'app', image: 'busybox', command: ['y'] }] }));
    await settle(always);
    const status = always.sink.latest('uid-init-always');
    expect(status?.phase).toBe('Pending');
    expect(containerStatus(status, 'setup')?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(always.starts.get('app')).toBeUndefined();
  });
});

describe('probes', () => {
  it('flips Ready with the readiness probe, after successThreshold and failureThreshold results', async () => {
    const harness = await newHarness();
    let healthy = false;
    harness.runtime.execHandler = () => ({ exitCode: healthy ? 0 : 1 });
    harness.source.setPod(makePod('web', { containers: [{ name: 'web', image: 'busybox', command: ['x'], readinessProbe: { exec: { command: ['check'] }, periodSeconds: 5, successThreshold: 2, failureThreshold: 3 } }] }));
    await settle(harness);
    expect(condition(harness.sink.latest('uid-web'), 'Ready')?.status).toBe('False');
    healthy = true;
    await settle(harness, 5_000);
    expect(condition(harness.sink.latest('uid-web'), 'Ready')?.status).toBe('False'); // one success of two
    await settle(harness, 5_000);
    expect(condition(harness.sink.latest('uid-web'), 'Ready')?.status).toBe('True');
    expect(containerStatus(harness.sink.latest('uid-web'), 'web')?.ready).toBe(true);
    healthy = false;
    await settle(harness, 10_000);
    expect(condition(harness.sink.latest('uid-web'), 'Ready')?.status).toBe('True'); // two failures of three
    await settle(harness, 5_000);
    expect(condition(harness.sink.latest('uid-web'), 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
  });

  it('restarts a container whose liveness probe fails failureThreshold times, counting a restart', async () => {
    const harness = await newHarness();
    let alive = true;
    harness.runtime.execHandler = (_container, command) => ({ exitCode: command[0] === 'alive' && !alive ? 1 : 0 });
    harness.source.setPod(makePod('live', { containers: [{ name: 'app', image: 'busybox', command: ['x'], livenessProbe: { exec: { command: ['alive'] }, initialDelaySeconds: 5, periodSeconds: 10, failureThreshold: 3 } }] }));
    await settle(harness);
    await settle(harness, 30_000);
    expect(harness.starts.get('app')).toEqual([0]);
    alive = false;
    for (let step = 0; step < 4; step++) await settle(harness, 10_000);
    const status = harness.sink.latest('uid-live');
    expect(harness.starts.get('app')?.length).toBe(2);
    expect(containerStatus(status, 'app')).toMatchObject({ restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 143, message: 'Container app failed liveness probe, will be restarted' } } });
    expect(harness.runtime.calls).toContain('signal default/live/app#0 SIGTERM');
  });

  it('runs neither liveness nor readiness before the startup probe succeeded', async () => {
    const harness = await newHarness();
    const probed: string[] = [];
    let started = false;
    harness.runtime.execHandler = (_container, command) => {
      probed.push(command[0] ?? '');
      return { exitCode: command[0] === 'startup' && !started ? 1 : 0 };
    };
    harness.source.setPod(makePod('slow', { containers: [{ name: 'app', image: 'busybox', command: ['x'], startupProbe: { exec: { command: ['startup'] }, periodSeconds: 10, failureThreshold: 30 }, livenessProbe: { exec: { command: ['liveness'] }, periodSeconds: 10 }, readinessProbe: { exec: { command: ['readiness'] }, periodSeconds: 10 } }] }));
    await settle(harness);
    await settle(harness, 30_000);
    expect(probed.every((name) => name === 'startup')).toBe(true);
    expect(containerStatus(harness.sink.latest('uid-slow'), 'app')).toMatchObject({ started: false, ready: false });
    started = true;
    await settle(harness, 10_000);
    await settle(harness, 10_000);
    expect(probed).toContain('liveness');
    expect(containerStatus(harness.sink.latest('uid-slow'), 'app')).toMatchObject({ started: true, ready: true });
  });
});

describe('termination', () => {
  it('runs preStop, then SIGTERM, then SIGKILL once the grace period is over, then reports the pod terminated', async () => {
    const harness = await newHarness();
    harness.runtime.scriptContainer('app', { ignoresSigterm: true });
    harness.runtime.execHandler = async (container, command) => {
      harness.runtime.calls.push(`exec ${harness.runtime.describe(container.id)} ${command.join(' ')}`);
      await harness.clock.sleep(5_000); // the hook takes 5 s of the grace period
      return { exitCode: 0 };
    };
    const pod = makePod('bye', { terminationGracePeriodSeconds: 30, containers: [{ name: 'app', image: 'busybox', command: ['x'], lifecycle: { preStop: { exec: { command: ['drain'] } } } }] });
    harness.source.setPod(pod);
    await settle(harness);
    harness.runtime.calls.length = 0;
    harness.source.setPod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2024-01-01T00:00:00Z', deletionGracePeriodSeconds: 20 } });
    // The worker is busy for the whole grace period: move the clock without waiting for it.
    await harness.clock.advanceBy(5_000);
    expect(harness.workers.podState('uid-bye')).toBe('terminating');
    await harness.clock.advanceBy(14_000);
    expect(harness.runtime.calls).toEqual(['exec default/bye/app#0 drain', 'stopContainer default/bye/app#0 timeout=15s', 'signal default/bye/app#0 SIGTERM']);
    expect(harness.sink.terminated).toEqual([]);
    await settle(harness, 1_000);
    expect(harness.runtime.calls.slice(3)).toEqual(['signal default/bye/app#0 SIGKILL', 'exited default/bye/app#0 code=137', 'stopPodSandbox default/bye']);
    expect(harness.sink.terminated).toEqual(['uid-bye']);
    const status = harness.sink.latest('uid-bye');
    expect(status?.phase).toBe('Failed');
    expect(containerStatus(status, 'app')?.state?.terminated?.exitCode).toBe(137);
    // The wiring deletes the pod object: the kubelet removes what is left.
    harness.source.deletePod('uid-bye');
    await settle(harness);
    expect(harness.runtime.calls).toContain('removePodSandbox default/bye');
    expect(harness.workers.podState('uid-bye')).toBeUndefined();
  });
});

describe('status', () => {
  it('writes a status only when it changed, keeping lastTransitionTime of unchanged conditions', async () => {
    const harness = await newHarness();
    let ready = false;
    harness.runtime.execHandler = () => ({ exitCode: ready ? 0 : 1 });
    harness.source.setPod(makePod('steady', { containers: [{ name: 'app', image: 'busybox', command: ['x'], readinessProbe: { exec: { command: ['ok'] }, periodSeconds: 10 } }] }));
    await settle(harness);
    const afterStart = harness.sink.writesFor('uid-steady').length;
    expect(afterStart).toBeGreaterThan(0);
    for (let step = 0; step < 6; step++) await settle(harness, 10_000); // relists and probe runs, nothing changes
    expect(harness.sink.writesFor('uid-steady').length).toBe(afterStart);
    const scheduledAt = condition(harness.sink.latest('uid-steady'), 'Initialized')?.lastTransitionTime;
    ready = true;
    await settle(harness, 10_000);
    const writes = harness.sink.writesFor('uid-steady');
    expect(writes.length).toBe(afterStart + 1);
    const latest = writes[writes.length - 1];
    expect(condition(latest, 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: '2024-01-01T00:01:10Z' });
    expect(condition(latest, 'Initialized')?.lastTransitionTime).toBe(scheduledAt);
    expect(latest).toMatchObject({ podIP: '10.0.0.1', hostIP: '192.168.1.10', qosClass: 'BestEffort', startTime: '2024-01-01T00:00:00Z' });
    expect(containerStatus(latest, 'app')?.containerID).toMatch(/^fake:\/\//);
  });

  it('reports image and config errors as waiting reasons', async () => {
    const harness = await newHarness();
    harness.runtime.scriptContainer('odd', { createError: new ImageNotKnownError('foo:1', ['ml-serving:1.0']) });
    harness.source.setPod(makePod('errors', { containers: [{ name: 'odd', image: 'foo:1' }, { name: 'needs-secret', image: 'busybox', command: ['x'], env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'missing', key: 'token' } } }] }] }));
    await settle(harness);
    const status = harness.sink.latest('uid-errors');
    expect(status?.phase).toBe('Pending');
    expect(containerStatus(status, 'odd')?.state?.waiting).toMatchObject({ reason: 'ImageNotKnown', message: expect.stringContaining('image "foo:1" is not one the process runtime can run') });
    expect(containerStatus(status, 'needs-secret')?.state?.waiting).toEqual({ reason: 'CreateContainerConfigError', message: 'secret "missing" not found' });
  });
});

describe('relist', () => {
  it('adopts the containers of wanted pods after a kubelet restart and removes those of unwanted ones', async () => {
    const first = await newHarness();
    first.source.setPod(makePod('keep', { containers: [{ name: 'app', image: 'busybox', command: ['x'] }] }));
    first.source.setPod(makePod('drop', { containers: [{ name: 'app', image: 'busybox', command: ['x'] }] }));
    await settle(first);
    await first.workers.stop(); // the kubelet goes away; containers keep running
    harnesses.splice(harnesses.indexOf(first), 1);

    first.source.deletePod('uid-drop'); // deleted while no kubelet watched
    first.runtime.calls.length = 0;
    const second = await newHarness({ runtime: first.runtime, clock: first.clock, source: first.source, root: first.root });
    await settle(second);
    expect(first.runtime.calls.filter((call) => call.includes('/keep/'))).toEqual([]);
    expect(first.runtime.calls).toEqual(expect.arrayContaining(['stopContainer default/drop/app#0 timeout=30s', 'removePodSandbox default/drop']));
    expect((await first.runtime.listPodSandboxes()).map((sandbox) => sandbox.name)).toEqual(['keep']);
    expect(second.sink.latest('uid-keep')?.phase).toBe('Running');
  });
});
